//! Vital signs as the app's screens send them (JSON), checked and scored: any input is refused
//! with a reason or scored, and a score is always 0–20 with a band that fits it.
#![no_main]

use doorstep_model::VitalSigns;
use doorstep_model::news2::{self, News2Assessment, ScoringContext, SpO2Scale};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(vitals) = serde_json::from_slice::<VitalSigns>(data) else { return };
    let age = data.first().map(|b| u32::from(*b));
    for spo2_scale in [SpO2Scale::Scale1, SpO2Scale::Scale2] {
        let ctx = ScoringContext { age_years: age, pregnant: data.len() % 7 == 0, spo2_scale };
        if let Ok(News2Assessment::Scored(score)) = news2::assess(&vitals, &ctx) {
            assert!(score.total <= 20, "NEWS2 cannot exceed 20: {score:?}");
            assert_eq!(score.total, score.parameters.iter().map(|p| p.score).sum::<u8>());
        }
    }
});
