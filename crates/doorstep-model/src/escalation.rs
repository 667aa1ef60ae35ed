//! What a carer is told to do at a visit: the community escalation rule over the readings
//! ([`news2::community_escalation`]) and the rule for soft signs, which many carers (with no
//! kit) have as their only signal. The more urgent of the two is shown; the NEWS2 score is
//! never changed by either. Rationale: docs/safety.md ("The community escalation rule").

use crate::news2::{AdviceSource, Escalation, EscalationLevel, News2Assessment, missing_readings};
use crate::note::{SoftSign, SoftSignObservation};

/// Signs that, new or worse, may mean sepsis or a serious change on their own: phone now.
const PHONE_NOW_ALONE: [SoftSign; 4] =
    [SoftSign::Confusion, SoftSign::PaleOrMottled, SoftSign::Breathing, SoftSign::NoUrine];

/// What to do about the soft signs seen: nothing when none is new or worse than usual.
///
/// - new or worse confusion, pale/grey/mottled skin, breathing faster or short of breath, or no
///   urine all day, or very hot, cold or shivering together with any other change → phone now;
/// - any other new or worse sign → the "worried about them" card: phone their GP practice today
///   (the first number offered), tell the office before leaving, and phone now if they get worse.
///
/// A fall (or being unsteady) among the changes adds what to do after a fall, and the area's
/// falls response to the numbers offered.
pub fn for_soft_signs(signs: &[SoftSignObservation]) -> Option<Escalation> {
    let changes: Vec<SoftSign> = signs.iter().filter(|s| s.is_change()).map(|s| s.sign).collect();
    if changes.is_empty() {
        return None;
    }
    let serious: Vec<SoftSign> = changes
        .iter()
        .copied()
        .filter(|s| PHONE_NOW_ALONE.contains(s) || (*s == SoftSign::HotColdOrShivering && changes.len() > 1))
        .collect();
    let listed = |signs: &[SoftSign]| signs.iter().map(|s| s.label().to_lowercase()).collect::<Vec<_>>().join("; ");
    let after_a_fall = changes.contains(&SoftSign::UnsteadyOrFall);
    let fall = if after_a_fall {
        " After a fall: if they are hurt, or you are not sure, phone 999 and do not move them; if they \
         are not hurt but cannot get up, phone the falls response team if the area has one."
    } else {
        ""
    };
    Some(if serious.is_empty() {
        Escalation {
            level: EscalationLevel::TellSomeoneToday,
            headline: "You are worried about them: phone their GP practice today, then tell the office.".into(),
            action: format!(
                "You have seen a change ({}). Phone the GP practice today and tell them what you \
                 saw, and tell the office before you leave. If they get worse, phone the GP practice \
                 now, or 111; in an emergency, 999.{fall}",
                listed(&changes)
            ),
            who_to_phone: "Their GP practice today, then the office".into(),
            source: AdviceSource::SoftSigns,
            after_a_fall,
        }
    } else {
        Escalation {
            level: EscalationLevel::UrgentCallNow,
            headline: "These changes can be serious: phone now.".into(),
            action: format!(
                "{} can be a sign of a serious illness such as sepsis. Phone the GP practice now \
                 (111 if it is closed) and say what you saw. Stay with them. If they are very unwell, \
                 phone 999. Then tell the office. Do not wait for the app to sync.{fall}",
                capitalised(&listed(&serious))
            ),
            who_to_phone: "GP practice now (111 if it is closed)".into(),
            source: AdviceSource::SoftSigns,
            after_a_fall,
        }
    })
}

/// The advice to show for a visit: the more urgent of the readings' and the soft signs'. When
/// they are equally urgent the readings' is shown, except at "tell someone today", where the
/// soft signs' asks more (their GP practice today, and the office). None when neither says
/// anything.
///
/// When the soft signs' advice is shown over an incomplete set of readings, it keeps the
/// instruction to take the missing readings, naming them; and a fall among the changes is
/// marked on whichever advice is shown, so the falls response is offered.
pub fn advice(news2: Option<&News2Assessment>, signs: &[SoftSignObservation]) -> Option<Escalation> {
    let readings = news2.and_then(News2Assessment::escalation).cloned();
    let soft = for_soft_signs(signs);
    let fell = soft.as_ref().is_some_and(|s| s.after_a_fall);
    let mut shown = match (readings, soft) {
        (Some(r), Some(s)) if s.level > r.level => s,
        (Some(r), Some(s)) if s.level == r.level && r.level == EscalationLevel::TellSomeoneToday => s,
        (Some(r), _) => r,
        (None, Some(s)) => s,
        (None, None) => return None,
    };
    shown.after_a_fall |= fell;
    if shown.source == AdviceSource::SoftSigns
        && let Some(News2Assessment::Incomplete { missing, .. }) = news2
    {
        let missing = missing_readings(missing);
        let take = if shown.level >= EscalationLevel::UrgentCallNow {
            format!(
                " Phone first; then take the missing readings now if you can ({missing} missing) and say what they are."
            )
        } else {
            format!(" Take the missing readings now ({missing} missing) and tell the GP practice what they are.")
        };
        shown.action.push_str(&take);
    }
    Some(shown)
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::news2::tests::{adult, normal};
    use crate::news2::{Acvpu, Parameter, VitalSigns, assess};
    use crate::note::Comparison;

    fn level(vitals: &VitalSigns) -> EscalationLevel {
        assess(vitals, &adult()).expect("valid").escalation().expect("advice").level
    }

    fn sign(sign: SoftSign, compared_to_usual: Comparison) -> SoftSignObservation {
        SoftSignObservation { sign, compared_to_usual, detail: String::new() }
    }

    #[test]
    fn not_fully_awake_is_999_even_when_everything_else_is_normal() {
        for acvpu in [Acvpu::Voice, Acvpu::Pain, Acvpu::Unresponsive] {
            let vitals = VitalSigns { consciousness: Some(acvpu), ..normal() };
            let assessment = assess(&vitals, &adult()).expect("valid");
            let News2Assessment::Scored(score) = &assessment else { panic!("{assessment:?}") };
            assert_eq!(score.total, 3, "the score is unchanged");
            assert_eq!(score.escalation.level, EscalationLevel::Emergency999, "{acvpu:?}");
            assert!(score.escalation.headline.contains("999"));
            assert!(score.escalation.action.contains("address first"));
            assert!(score.escalation.action.contains("Use their landline"), "no signal is not the end");
        }
        // Unresponsive with only that reading taken: still 999.
        let alone = VitalSigns { consciousness: Some(Acvpu::Unresponsive), ..VitalSigns::default() };
        assert_eq!(level(&alone), EscalationLevel::Emergency999);
    }

    #[test]
    fn any_other_single_three_is_phone_now_and_names_the_reading() {
        for vitals in [
            VitalSigns { respiration_rate: Some(8), ..normal() },
            VitalSigns { systolic_bp: Some(90), ..normal() },
            VitalSigns { pulse: Some(38), ..normal() },
            VitalSigns { consciousness: Some(Acvpu::NewConfusion), ..normal() },
        ] {
            let e = assess(&vitals, &adult()).expect("valid").escalation().cloned().expect("advice");
            assert_eq!(e.level, EscalationLevel::UrgentCallNow, "{vitals:?}");
            assert!(e.headline.contains("phone now"), "{}", e.headline);
            assert!(e.action.contains("Phone the GP practice now"), "{}", e.action);
        }
        let e = assess(&VitalSigns { systolic_bp: Some(90), ..normal() }, &adult()).expect("valid");
        assert!(e.escalation().expect("advice").headline.starts_with("Systolic blood pressure"));
    }

    #[test]
    fn the_ladder_by_aggregate() {
        assert_eq!(level(&normal()), EscalationLevel::Routine);
        // 1–4 without a 3: tell the office before leaving.
        assert_eq!(level(&VitalSigns { pulse: Some(95), ..normal() }), EscalationLevel::TellSomeoneToday);
        assert_eq!(
            level(&VitalSigns { respiration_rate: Some(22), pulse: Some(115), ..normal() }),
            EscalationLevel::TellSomeoneToday
        );
        // 5–6: phone now for an urgent review.
        assert_eq!(
            level(&VitalSigns { pulse: Some(115), respiration_rate: Some(22), spo2_percent: Some(92), ..normal() }),
            EscalationLevel::UrgentCallNow
        );
        // 7+: 999.
        assert_eq!(
            level(&VitalSigns { pulse: Some(35), respiration_rate: Some(22), spo2_percent: Some(92), ..normal() }),
            EscalationLevel::Emergency999
        );
    }

    #[test]
    fn an_incomplete_set_never_says_carry_on() {
        // Temperature 39.5 (1) and pulse 125 (2): nothing else taken.
        let vitals = VitalSigns { temperature_c: Some(39.5), pulse: Some(125), ..VitalSigns::default() };
        let e = assess(&vitals, &adult()).expect("valid").escalation().cloned().expect("advice");
        assert_eq!(e.level, EscalationLevel::ReadingsMissing);
        assert!(!e.headline.to_lowercase().contains("carry on") && !e.action.to_lowercase().contains("carry on"));
        assert!(e.action.contains("Take the missing readings now"), "{}", e.action);
        assert!(e.action.contains(Parameter::RespirationRate.label()), "names what is missing: {}", e.action);
        assert!(e.action.contains("phone"));
        // An incomplete set already at 5 or more says what that says.
        let high = VitalSigns {
            temperature_c: Some(39.5),
            pulse: Some(135),
            respiration_rate: Some(26),
            ..VitalSigns::default()
        };
        assert_eq!(level(&high), EscalationLevel::Emergency999);
    }

    #[test]
    fn soft_signs_alone_give_a_card_and_serious_ones_say_phone_now() {
        assert_eq!(for_soft_signs(&[]), None);
        assert_eq!(
            for_soft_signs(&[sign(SoftSign::Confusion, Comparison::SameAsUsual)]),
            None,
            "usual is not a change"
        );
        let worried = for_soft_signs(&[sign(SoftSign::EatingDrinkingLess, Comparison::Worse)]).expect("a card");
        assert_eq!(worried.level, EscalationLevel::TellSomeoneToday);
        assert!(worried.action.contains("eating or drinking less"));
        for serious in [SoftSign::Confusion, SoftSign::PaleOrMottled, SoftSign::Breathing, SoftSign::NoUrine] {
            let e = for_soft_signs(&[sign(serious, Comparison::New)]).expect("a card");
            assert_eq!(e.level, EscalationLevel::UrgentCallNow, "{serious:?}");
            assert!(e.action.contains("sepsis"));
        }
        // Shivering on its own: worried; with another change: phone now.
        let shivering = sign(SoftSign::HotColdOrShivering, Comparison::New);
        assert_eq!(
            for_soft_signs(std::slice::from_ref(&shivering)).expect("card").level,
            EscalationLevel::TellSomeoneToday
        );
        let with_other = [shivering, sign(SoftSign::Sleepy, Comparison::New)];
        assert_eq!(for_soft_signs(&with_other).expect("card").level, EscalationLevel::UrgentCallNow);
    }

    #[test]
    fn a_possible_but_extreme_reading_is_scored_and_says_999_if_it_is_right() {
        let low_oxygen = VitalSigns { spo2_percent: Some(48), ..normal() };
        assert_eq!(low_oxygen.validate(), Ok(()), "an SpO2 of 48 can be real");
        assert_eq!(low_oxygen.extremes(), vec![(Parameter::SpO2, "48".to_string())]);
        let assessment = assess(&low_oxygen, &adult()).expect("scored");
        let News2Assessment::Scored(score) = &assessment else { panic!("{assessment:?}") };
        assert_eq!(score.total, 3, "scored like any SpO2 of 91 or less");
        assert_eq!(score.escalation.level, EscalationLevel::Emergency999);
        assert!(score.escalation.headline.contains("If this reading is right"));
        let slow = VitalSigns { pulse: Some(18), ..normal() };
        assert_eq!(level(&slow), EscalationLevel::Emergency999);
        assert!(VitalSigns { pulse: Some(400), ..normal() }.validate().is_err(), "a slip is still refused");
        assert!(normal().extremes().is_empty());
    }

    #[test]
    fn the_heading_says_what_the_words_say() {
        let worried = for_soft_signs(&[sign(SoftSign::NewPain, Comparison::New)]).expect("a card");
        assert_eq!(worried.heading(), "Phone their GP practice today");
        assert!(worried.headline.contains("phone their GP practice today"), "{}", worried.headline);
        assert_eq!(worried.source, AdviceSource::SoftSigns);
        let office = assess(&VitalSigns { pulse: Some(95), ..normal() }, &adult()).expect("valid");
        let office = office.escalation().expect("advice");
        assert_eq!(office.heading(), "Tell the office before you leave");
        assert!(office.headline.starts_with("Tell the office before you leave"));
        let phone_now = for_soft_signs(&[sign(SoftSign::Confusion, Comparison::New)]).expect("a card");
        assert_eq!(phone_now.heading(), "Phone now");
        let missing = assess(&VitalSigns { pulse: Some(95), ..VitalSigns::default() }, &adult()).expect("valid");
        assert_eq!(missing.escalation().expect("advice").heading(), "Take the missing readings now");
        let ambulance = VitalSigns { consciousness: Some(Acvpu::Pain), ..normal() };
        assert_eq!(
            assess(&ambulance, &adult()).expect("valid").escalation().expect("advice").heading(),
            "Emergency: phone 999"
        );
    }

    #[test]
    fn a_worried_sign_over_an_incomplete_set_keeps_take_the_missing_readings() {
        // Temperature 39.5 and pulse 125 only (readings missing), and eating less than usual.
        let partial = VitalSigns { temperature_c: Some(39.5), pulse: Some(125), ..VitalSigns::default() };
        let readings = assess(&partial, &adult()).expect("valid");
        let shown = advice(Some(&readings), &[sign(SoftSign::EatingDrinkingLess, Comparison::Worse)]).expect("advice");
        assert_eq!(shown.level, EscalationLevel::TellSomeoneToday);
        assert_eq!(shown.heading(), "Phone their GP practice today");
        assert!(shown.action.contains("Take the missing readings now ("), "{}", shown.action);
        assert!(shown.action.contains("Breathing rate") && shown.action.contains("missing)"), "{}", shown.action);
        // Serious signs over the same set: phone first, then the readings.
        let serious = advice(Some(&readings), &[sign(SoftSign::PaleOrMottled, Comparison::New)]).expect("advice");
        assert_eq!(serious.level, EscalationLevel::UrgentCallNow);
        assert!(serious.action.contains("Phone first; then take the missing readings"), "{}", serious.action);
        // A complete set adds nothing about missing readings.
        let complete = assess(&normal(), &adult()).expect("valid");
        let shown = advice(Some(&complete), &[sign(SoftSign::EatingDrinkingLess, Comparison::Worse)]).expect("advice");
        assert!(!shown.action.contains("missing"), "{}", shown.action);
    }

    #[test]
    fn a_worried_sign_with_a_score_of_1_to_4_asks_for_the_gp_and_the_office() {
        let readings = assess(&VitalSigns { pulse: Some(95), ..normal() }, &adult()).expect("valid");
        let shown = advice(Some(&readings), &[sign(SoftSign::NewPain, Comparison::New)]).expect("advice");
        assert_eq!(shown.level, EscalationLevel::TellSomeoneToday);
        assert_eq!(shown.source, AdviceSource::SoftSigns, "it asks more: their GP practice today and the office");
        assert!(shown.action.contains("tell the office before you leave"));
    }

    #[test]
    fn the_more_urgent_advice_is_shown() {
        let confused = [sign(SoftSign::Confusion, Comparison::New)];
        let low = assess(&normal(), &adult()).expect("valid");
        assert_eq!(advice(Some(&low), &confused).expect("advice").level, EscalationLevel::UrgentCallNow);
        let unresponsive =
            assess(&VitalSigns { consciousness: Some(Acvpu::Unresponsive), ..normal() }, &adult()).expect("valid");
        assert_eq!(advice(Some(&unresponsive), &confused).expect("advice").level, EscalationLevel::Emergency999);
        assert_eq!(advice(None, &confused).expect("advice").level, EscalationLevel::UrgentCallNow);
        assert_eq!(advice(None, &[]), None);
    }
}
