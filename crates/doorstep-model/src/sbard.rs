//! SBARD (Situation, Background, Assessment, Recommendation, Decision): the handover language
//! care staff and clinicians share. Built from a visit's soft signs, NEWS2 and note so a carer
//! can read it out on the phone to the GP, 111 or 999.

use crate::news2::{self, EscalationLevel, News2Assessment, VitalSigns};
use crate::note::VisitNote;
use crate::person::Person;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sbard {
    pub situation: String,
    pub background: String,
    pub assessment: String,
    pub recommendation: String,
    /// Filled in after the call: who was spoken to and what was agreed.
    pub decision: String,
}

/// Who is calling, for the Situation line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller<'a> {
    /// The carer's name as the office recorded it ("Amira Khan"), else their staff reference.
    pub name: &'a str,
    pub organisation: &'a str,
    /// A number a clinician can ring back on (the office, or the manager on call).
    pub callback: Option<&'a str>,
}

impl Sbard {
    /// Builds the summary. `news2` is the assessment of `note.vitals` (if any) for this person.
    pub fn build(
        caller: &Caller<'_>,
        person: &Person,
        note: &VisitNote,
        news2: Option<&News2Assessment>,
        today: NaiveDate,
    ) -> Sbard {
        let name = person.name.display();
        let mut who = vec![name.clone()];
        // A receptionist or a 999 call handler finds the person by date of birth and address.
        if let Some(born) = person.date_of_birth {
            who.push(format!("born {}", born.format("%-d %B %Y")));
        }
        if let Some(age) = person.age_on(today) {
            who.push(format!("aged {age}"));
        }
        if let Some(nhs) = &person.nhs_number {
            who.push(format!("NHS number {}", nhs.formatted()));
        }
        let changes: Vec<String> = note.changes().map(|s| s.sign.label().to_lowercase()).collect();
        let mut reason = if changes.is_empty() {
            "I am worried about them".to_string()
        } else {
            format!("I have noticed: {}", join_words(&changes))
        };
        if let Some(News2Assessment::Scored(score)) = news2 {
            reason.push_str(&format!(
                ", and their NEWS2 score is {} ({} risk)",
                score.total,
                score.band.label().to_lowercase()
            ));
        }
        let address: Vec<&str> = person
            .address
            .lines
            .iter()
            .map(|l| l.trim())
            .chain(std::iter::once(person.address.postcode.trim()))
            .filter(|l| !l.is_empty())
            .collect();
        if !address.is_empty() {
            who.push(format!("at {}", address.join(", ")));
        }
        let mut situation = format!(
            "My name is {}, a carer from {}. I am with {}. {}.",
            caller.name,
            caller.organisation,
            who.join(", "),
            reason
        );
        if let Some(number) = caller.callback.map(str::trim).filter(|n| !n.is_empty()) {
            situation.push_str(&format!(" You can call us back on {number}."));
        }

        let mut background = Vec::new();
        let gp = person.gp_named();
        if !gp.is_empty() {
            background.push(format!("Their GP practice is {gp}."));
        }
        if person.spo2_scale == crate::news2::SpO2Scale::Scale2 {
            let who = person.scale2.as_ref().map(|s| format!(" ({})", s.describe())).unwrap_or_default();
            background.push(format!("A clinician set their oxygen target at 88 to 92% (NEWS2 Scale 2){who}."));
        }
        if let Some(plan) = &person.plan {
            background.push(format!("They have a {}: {}.", plan.kind.label(), trim_stop(&plan.summary)));
        }
        if !person.known_risks.is_empty() {
            background.push(format!("Known risks: {}.", join_words(&person.known_risks)));
        }
        if !person.communication_needs.trim().is_empty() {
            background.push(format!("Communication: {}.", trim_stop(&person.communication_needs)));
        }
        for obs in note.changes() {
            if let Some(usual) = person.usual_for(obs.sign) {
                background.push(format!("Usually ({}): {}.", obs.sign.label().to_lowercase(), trim_stop(usual)));
            }
        }
        if background.is_empty() {
            background.push("No other background recorded.".to_string());
        }

        let mut assessment = Vec::new();
        for obs in note.changes() {
            let detail =
                if obs.detail.trim().is_empty() { String::new() } else { format!(": {}", trim_stop(&obs.detail)) };
            assessment.push(format!(
                "{} ({}){}.",
                obs.sign.label(),
                obs.compared_to_usual.label().to_lowercase(),
                detail
            ));
        }
        if let Some(eating) = note.food_fluid.eating {
            assessment.push(format!("Eating: {}.", eating.label().to_lowercase()));
        }
        if let Some(drinking) = note.food_fluid.drinking {
            assessment.push(format!("Drinking: {}.", drinking.label().to_lowercase()));
        }
        let at = |time: Option<chrono::DateTime<chrono::Utc>>| {
            time.map(|t| format!(" at {}", crate::note::uk_clock(t))).unwrap_or_default()
        };
        for earlier in &note.earlier_vitals {
            let readings = describe_vitals(&earlier.vitals);
            if !readings.is_empty() {
                assessment.push(format!("Earlier readings{}: {readings}.", at(earlier.at)));
            }
        }
        if let Some(vitals) = &note.vitals {
            let readings = describe_vitals(vitals);
            if !readings.is_empty() {
                let label = if note.earlier_vitals.is_empty() { "Readings" } else { "Readings again" };
                assessment.push(format!("{label}{}: {readings}.", at(note.vitals_at)));
            }
        }
        match news2 {
            Some(News2Assessment::Scored(s)) => {
                assessment.push(format!("NEWS2 {} ({} risk).", s.total, s.band.label().to_lowercase()))
            }
            Some(News2Assessment::Incomplete { missing, partial_total, .. }) => assessment.push(format!(
                "NEWS2 incomplete: at least {partial_total}; not measured: {}.",
                join_words(&missing.iter().map(|p| p.label().to_lowercase()).collect::<Vec<_>>())
            )),
            Some(News2Assessment::NotApplicable { reason }) => assessment.push(reason.clone()),
            None => {}
        }
        if assessment.is_empty() {
            assessment.push("Nothing measured; see the visit note.".to_string());
        }

        // The recommendation follows the advice the carer was given (the community rule over
        // the readings and the soft signs), so what they ask for is what the screen told them.
        let called = person.name.called();
        let recommendation = match crate::escalation::advice(news2, &note.soft_signs).map(|a| a.level) {
            Some(EscalationLevel::Emergency999) => format!("I think {called} needs an emergency assessment now."),
            Some(EscalationLevel::UrgentCallNow) => {
                format!("I think {called} needs an urgent review by a clinician now.")
            }
            Some(EscalationLevel::TellSomeoneToday) => format!("I would like a clinician to review {called} today."),
            _ => "Please advise what should happen next, and when.".to_string(),
        };
        let decision = note.calls.iter().map(|call| call.summary()).collect::<Vec<_>>().join(" ");

        Sbard {
            situation,
            background: background.join(" "),
            assessment: assessment.join(" "),
            recommendation,
            decision,
        }
    }

    /// The summary as text to read out or paste.
    pub fn to_text(&self) -> String {
        let decision = if self.decision.trim().is_empty() {
            "(Write down who you spoke to, what was agreed, and when to call back.)"
        } else {
            self.decision.as_str()
        };
        format!(
            "Situation: {}\nBackground: {}\nAssessment: {}\nRecommendation: {}\nDecision: {}\n",
            self.situation, self.background, self.assessment, self.recommendation, decision
        )
    }
}

/// The readings in the order a clinician expects them.
pub fn describe_vitals(v: &VitalSigns) -> String {
    let mut parts = Vec::new();
    if let Some(rr) = v.respiration_rate {
        parts.push(format!("breathing rate {rr} per minute"));
    }
    if let Some(spo2) = v.spo2_percent {
        let on = match v.on_oxygen {
            Some(true) => " on oxygen",
            Some(false) => " on air",
            None => "",
        };
        parts.push(format!("oxygen saturation {spo2}%{on}"));
    }
    if let Some(bp) = v.systolic_bp {
        parts.push(format!("systolic blood pressure {bp}"));
    }
    if let Some(p) = v.pulse {
        parts.push(format!("pulse {p}"));
    }
    if let Some(c) = v.consciousness {
        parts.push(c.label().to_lowercase());
    }
    if let Some(t) = v.temperature_c {
        parts.push(format!("temperature {t:.1}°C"));
    }
    parts.join(", ")
}

fn join_words(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {}", rest.join(", "), last),
    }
}

fn trim_stop(s: &str) -> &str {
    s.trim().trim_end_matches('.')
}

/// Convenience: assess a note's vitals for a person on a day.
pub fn assess_note(
    person: &Person,
    note: &VisitNote,
    today: NaiveDate,
) -> Option<Result<News2Assessment, news2::VitalsError>> {
    note.vitals.as_ref().filter(|v| !v.is_empty()).map(|v| news2::assess(v, &person.scoring_context(today)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{NoteId, PersonId, VisitId};
    use crate::news2::Acvpu;
    use crate::note::{Comparison, SoftSign, SoftSignObservation};
    use crate::person::UsualForMe;
    use uuid::Uuid;

    #[test]
    fn sbard_reads_as_a_handover() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        let mut person = Person::new(PersonId(Uuid::nil()), "C1", "Margaret", "Jones");
        person.name.preferred = Some("Peggy".into());
        person.date_of_birth = NaiveDate::from_ymd_opt(1938, 5, 2);
        person.gp_practice = "Riverside Surgery".into();
        person.gp_ods = "Y01234".into();
        person.usual.push(UsualForMe::new(SoftSign::Confusion, "Chatty, knows the day and her carers"));
        let mut note = VisitNote::new(NoteId(Uuid::nil()), VisitId(Uuid::nil()), person.id);
        note.observe(SoftSignObservation {
            sign: SoftSign::Confusion,
            compared_to_usual: Comparison::New,
            detail: "Did not know me".into(),
        });
        note.vitals = Some(VitalSigns {
            respiration_rate: Some(24),
            spo2_percent: Some(93),
            on_oxygen: Some(false),
            systolic_bp: Some(105),
            pulse: Some(112),
            consciousness: Some(Acvpu::NewConfusion),
            temperature_c: Some(38.4),
        });
        let news2 = assess_note(&person, &note, today).unwrap().unwrap();
        let caller = Caller { name: "Sam Patel", organisation: "Sunrise Care", callback: Some("01632 960 100") };
        let sbard = Sbard::build(&caller, &person, &note, Some(&news2), today);
        assert!(sbard.situation.starts_with("My name is Sam Patel, a carer from Sunrise Care."), "{}", sbard.situation);
        assert!(sbard.situation.contains("Margaret (Peggy) Jones, born 2 May 1938, aged 88"), "{}", sbard.situation);
        assert!(sbard.situation.ends_with("You can call us back on 01632 960 100."), "{}", sbard.situation);
        assert!(sbard.situation.contains("new or worse confusion"));
        assert!(sbard.background.contains("Riverside Surgery (ODS code Y01234)"), "{}", sbard.background);
        assert!(sbard.background.contains("knows the day"));
        assert!(sbard.assessment.contains("pulse 112"));
        assert!(sbard.recommendation.contains("emergency"), "{}", sbard.recommendation);
        assert!(sbard.to_text().starts_with("Situation: "));
    }
}
