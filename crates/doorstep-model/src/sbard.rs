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
    /// The carer's name as the office recorded it ("Amira Khan"); empty when the office has not
    /// named them (then [`Sbard::for_visit`] says "a carer (staff reference C001)").
    pub name: &'a str,
    pub organisation: &'a str,
    /// A number a clinician can ring back on (the office, or the manager on call).
    pub callback: Option<&'a str>,
}

impl Sbard {
    /// Builds the summary for a person whose record is on the device. See [`Sbard::for_visit`].
    pub fn build(
        caller: &Caller<'_>,
        person: &Person,
        note: &VisitNote,
        news2: Option<&News2Assessment>,
        day: NaiveDate,
    ) -> Sbard {
        Sbard::for_visit(caller, "", Some(person), note, news2, day)
    }

    /// Builds the summary a carer reads out on the phone. `news2` is the assessment of
    /// `note.vitals` (if any); `day` is the visit's UK day (their age is worked out on it);
    /// `staff_reference` names the carer when `caller.name` is empty. `person` is `None` when
    /// their record has not reached this device: the summary says so, and that the readings
    /// were scored as an adult's on Scale 1.
    ///
    /// A receptionist or a 999 call handler finds the person by their address and date of birth
    /// first, so those come before the NHS number; for 999 advice the summary begins "Give the
    /// address first and answer their questions."
    pub fn for_visit(
        caller: &Caller<'_>,
        staff_reference: &str,
        person: Option<&Person>,
        note: &VisitNote,
        news2: Option<&News2Assessment>,
        day: NaiveDate,
    ) -> Sbard {
        let advice = crate::escalation::advice(news2, &note.soft_signs).map(|a| a.level);
        let address: Vec<&str> = person
            .map(|p| {
                p.address
                    .lines
                    .iter()
                    .map(|l| l.trim())
                    .chain(std::iter::once(p.address.postcode.trim()))
                    .filter(|l| !l.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        let address = address.join(", ");
        let emergency = advice == Some(EscalationLevel::Emergency999);

        let mut situation = Vec::new();
        if emergency {
            situation.push("Give the address first and answer their questions.".to_string());
            situation.push(if address.is_empty() {
                "Their address is not on this tablet: give the address where you are.".to_string()
            } else {
                format!("The address is {address}.")
            });
        }
        let organisation = caller.organisation.trim();
        situation.push(match (caller.name.trim(), staff_reference.trim()) {
            ("", "") => format!("I am a carer from {organisation}."),
            ("", reference) => format!("I am a carer from {organisation} (staff reference {reference})."),
            (name, _) => format!("My name is {name}, a carer from {organisation}."),
        });
        match person {
            Some(person) => {
                let mut who = vec![person.name.display()];
                if let Some(born) = person.date_of_birth {
                    who.push(format!("born {}", born.format("%-d %B %Y")));
                }
                if let Some(age) = person.age_on(day) {
                    who.push(format!("aged {age}"));
                }
                if !emergency && !address.is_empty() {
                    who.push(format!("at {address}"));
                }
                if let Some(nhs) = &person.nhs_number {
                    who.push(format!("NHS number {}", nhs.formatted()));
                }
                situation.push(format!("I am with {}.", who.join(", ")));
            }
            None => situation.push(
                "I am with someone whose record has not reached this tablet, so I cannot give their \
                 name or date of birth from it."
                    .to_string(),
            ),
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
        situation.push(format!("{reason}."));
        if let Some(number) = caller.callback.map(str::trim).filter(|n| !n.is_empty()) {
            situation.push(format!("You can call us back on {number}."));
        }
        let situation = situation.join(" ");

        let mut background = Vec::new();
        match person {
            Some(person) => {
                let gp = person.gp_named();
                if !gp.is_empty() {
                    background.push(format!("Their GP practice is {gp}."));
                }
                if person.spo2_scale == crate::news2::SpO2Scale::Scale2 {
                    let who = person.scale2.as_ref().map(|s| format!(" ({})", s.describe())).unwrap_or_default();
                    background.push(format!("A clinician set their oxygen target at 88 to 92% (NEWS2 Scale 2){who}."));
                }
                match &person.plan {
                    Some(plan) => {
                        background.push(format!("They have a {}: {}.", plan.kind.label(), trim_stop(&plan.summary)))
                    }
                    None => background.push(NO_PLAN.to_string()),
                }
                if !person.known_risks.is_empty() {
                    background.push(format!("Known risks: {}.", join_words(&person.known_risks)));
                }
                if !person.communication_needs.trim().is_empty() {
                    background.push(format!("Communication: {}.", trim_stop(&person.communication_needs)));
                }
                for obs in note.changes() {
                    if let Some(usual) = person.usual_for(obs.sign) {
                        background.push(format!(
                            "Usually ({}): {}.",
                            obs.sign.label().to_lowercase(),
                            trim_stop(usual)
                        ));
                    }
                }
            }
            None => {
                background.push(
                    "Their record has not reached this tablet: the readings were scored as an adult's \
                     on the usual oxygen scale (NEWS2 Scale 1)."
                        .to_string(),
                );
                background.push(PLAN_NOT_HERE.to_string());
            }
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
        let (called, needs, them) = match person {
            Some(p) => (p.name.called(), "needs", p.name.called()),
            None => ("they", "need", "them"),
        };
        let recommendation = match advice {
            Some(EscalationLevel::Emergency999) => format!("I think {called} {needs} an emergency assessment now."),
            Some(EscalationLevel::UrgentCallNow) => {
                format!("I think {called} {needs} an urgent review by a clinician now.")
            }
            Some(EscalationLevel::TellSomeoneToday) => format!("I would like a clinician to review {them} today."),
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

/// Said when the office has recorded no plan for when the person becomes unwell: a plan may
/// still be a paper form in the home.
const NO_PLAN: &str = "No ReSPECT or DNACPR plan is recorded here; I will check the home for a form.";

/// Said when the person's record has not reached the tablet: a plan may exist that it cannot show.
const PLAN_NOT_HERE: &str =
    "Their plan, if they have one, has not reached this tablet; I will check the home for a ReSPECT or DNACPR form.";

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

    fn peggy() -> Person {
        let mut person = Person::new(PersonId(Uuid::nil()), "C1", "Margaret", "Jones");
        person.name.preferred = Some("Peggy".into());
        person.date_of_birth = NaiveDate::from_ymd_opt(1938, 5, 2);
        person.gp_practice = "Riverside Surgery".into();
        person.gp_ods = "Y01234".into();
        person.address.lines = vec!["12 Mill Lane".into(), "Northbrook".into()];
        person.address.postcode = "NB1 2AB".into();
        person.nhs_number = Some(crate::NhsNumber::parse("943 476 5919").expect("a valid test number"));
        person.usual.push(UsualForMe::new(SoftSign::Confusion, "Chatty, knows the day and her carers"));
        person
    }

    fn at(time: &str) -> chrono::DateTime<chrono::Utc> {
        chrono::DateTime::parse_from_rfc3339(time).map(|t| t.to_utc()).unwrap_or_default()
    }

    fn sam() -> Caller<'static> {
        Caller { name: "Sam Patel", organisation: "Sunrise Care", callback: Some("01632 960 100") }
    }

    #[test]
    fn sbard_reads_as_a_handover() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        let person = peggy();
        let mut note = VisitNote::new(NoteId(Uuid::nil()), VisitId(Uuid::nil()), person.id);
        note.observe(SoftSignObservation {
            sign: SoftSign::NewPain,
            compared_to_usual: Comparison::New,
            detail: "Left hip".into(),
        });
        note.vitals = Some(VitalSigns {
            respiration_rate: Some(21),
            spo2_percent: Some(96),
            on_oxygen: Some(false),
            systolic_bp: Some(105),
            pulse: Some(112),
            consciousness: Some(Acvpu::Alert),
            temperature_c: Some(38.4),
        });
        note.vitals_at = Some(at("2026-11-23T09:05:00Z"));
        let news2 = assess_note(&person, &note, today).unwrap().unwrap();
        let sbard = Sbard::build(&sam(), &person, &note, Some(&news2), today);
        assert!(sbard.situation.starts_with("My name is Sam Patel, a carer from Sunrise Care."), "{}", sbard.situation);
        // The address and date of birth before the NHS number.
        let s = &sbard.situation;
        assert!(
            s.contains("Margaret (Peggy) Jones, born 2 May 1938, aged 88, at 12 Mill Lane, Northbrook, NB1 2AB, NHS number 943 476 5919"),
            "{s}"
        );
        assert!(s.ends_with("You can call us back on 01632 960 100."), "{s}");
        assert!(s.contains("new pain"));
        assert!(sbard.background.contains("Riverside Surgery (ODS code Y01234)"), "{}", sbard.background);
        assert!(
            sbard.background.contains("No ReSPECT or DNACPR plan is recorded here; I will check the home"),
            "{}",
            sbard.background
        );
        assert!(sbard.assessment.contains("Readings at 09:05: breathing rate 21"), "{}", sbard.assessment);
        assert!(sbard.assessment.contains("pulse 112"));
        assert!(sbard.recommendation.contains("urgent review"), "{}", sbard.recommendation);
        assert_eq!(sbard.decision, "", "nothing decided before a call");
        assert!(sbard.to_text().starts_with("Situation: "));

        // After the call, the Decision says who was phoned and what was agreed.
        note.calls.push(crate::note::CallRecord {
            to: crate::note::CallTarget::GpPractice,
            to_name: "Riverside Surgery".into(),
            at: at("2026-11-23T09:12:00Z"),
            spoke_to: "Dr Khan".into(),
            outcome: crate::note::CallOutcome::GpVisiting,
            detail: "by 14:00".into(),
            by: crate::StaffId::new("C001"),
        });
        let decided = Sbard::build(&sam(), &person, &note, Some(&news2), today);
        assert_eq!(
            decided.decision,
            "Phoned Riverside Surgery at 09:12, spoke to Dr Khan: a GP or nurse is coming (by 14:00)."
        );
    }

    #[test]
    fn for_999_the_address_comes_first_and_the_plan_and_scale_2_are_said() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        let mut person = peggy();
        person.spo2_scale = crate::news2::SpO2Scale::Scale2;
        person.scale2 = Some(crate::person::ClinicalSetting {
            set_by: "Dr A Shah, respiratory team".into(),
            set_on: NaiveDate::from_ymd_opt(2026, 3, 3),
            review_on: None,
            recorded_by: crate::StaffId::new("M001"),
            recorded_at: at("2026-03-04T10:00:00Z"),
        });
        person.plan = Some(crate::person::CarePlan {
            kind: crate::person::PlanKind::Respect,
            summary: "For treatment at home; would not want hospital.".into(),
            recorded_by: crate::StaffId::new("M001"),
            recorded_at: at("2026-03-04T10:00:00Z"),
        });
        let mut note = VisitNote::new(NoteId(Uuid::nil()), VisitId(Uuid::nil()), person.id);
        note.vitals = Some(VitalSigns { consciousness: Some(Acvpu::Voice), ..VitalSigns::default() });
        let news2 = assess_note(&person, &note, today).unwrap().unwrap();
        let sbard = Sbard::build(&sam(), &person, &note, Some(&news2), today);
        assert!(
            sbard.situation.starts_with(
                "Give the address first and answer their questions. The address is 12 Mill Lane, Northbrook, NB1 2AB. My name is Sam Patel"
            ),
            "{}",
            sbard.situation
        );
        assert_eq!(sbard.situation.matches("12 Mill Lane").count(), 1, "said once: {}", sbard.situation);
        assert!(
            sbard.background.contains("88 to 92% (NEWS2 Scale 2) (set by Dr A Shah, respiratory team on 3 March 2026)"),
            "{}",
            sbard.background
        );
        assert!(sbard.background.contains("They have a ReSPECT plan: For treatment at home"), "{}", sbard.background);
        assert!(!sbard.background.contains("No ReSPECT"));
        assert!(sbard.recommendation.contains("emergency"), "{}", sbard.recommendation);
    }

    #[test]
    fn without_the_persons_record_it_says_so_and_still_hands_over() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        let mut note = VisitNote::new(NoteId(Uuid::nil()), VisitId(Uuid::nil()), PersonId(Uuid::nil()));
        note.vitals = Some(VitalSigns { respiration_rate: Some(26), pulse: Some(135), ..VitalSigns::default() });
        let news2 = news2::assess(note.vitals.as_ref().unwrap(), &news2::ScoringContext::default()).unwrap();
        let unnamed = Caller { name: "", organisation: "Sunrise Care", callback: None };
        let sbard = Sbard::for_visit(&unnamed, "C001", None, &note, Some(&news2), today);
        assert!(
            sbard.situation.starts_with("I am a carer from Sunrise Care (staff reference C001)."),
            "{}",
            sbard.situation
        );
        assert!(!sbard.situation.contains("My name is C001"));
        assert!(sbard.situation.contains("record has not reached this tablet"), "{}", sbard.situation);
        assert!(
            sbard.background.contains("scored as an adult's on the usual oxygen scale (NEWS2 Scale 1)"),
            "{}",
            sbard.background
        );
        assert!(
            sbard.background.contains("has not reached this tablet; I will check the home"),
            "{}",
            sbard.background
        );
        assert!(!sbard.background.contains("No ReSPECT or DNACPR plan is recorded here"), "not said when unknown");
        assert!(sbard.recommendation.starts_with("I think they need"), "{}", sbard.recommendation);
        // 999 without the record: the address still comes first, from where the carer is.
        let mut unresponsive = note.clone();
        unresponsive.vitals = Some(VitalSigns { consciousness: Some(Acvpu::Unresponsive), ..VitalSigns::default() });
        let news2 = news2::assess(unresponsive.vitals.as_ref().unwrap(), &news2::ScoringContext::default()).unwrap();
        let sbard = Sbard::for_visit(&unnamed, "C001", None, &unresponsive, Some(&news2), today);
        assert!(
            sbard
                .situation
                .starts_with("Give the address first and answer their questions. Their address is not on this tablet"),
            "{}",
            sbard.situation
        );
    }
}
