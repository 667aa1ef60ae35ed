//! NEWS2 (National Early Warning Score 2) from the vital signs a carer records at a visit.
//!
//! Scores and risk bands follow the Royal College of Physicians' 2017 chart exactly, so a
//! score the app shows is the score a paramedic or GP would work out from the same readings.
//! The escalation advice is Doorstep's plain-English community wording of the RCP clinical
//! response thresholds: it always tells the carer to *phone*, because a home may have no signal
//! and nobody should wait for the app to sync before getting help.
//!
//! Pure: no I/O, no clock. Impossible readings are refused (not scored) so a typing slip such
//! as a pulse of 400 never turns into advice.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Shown wherever a NEWS2 score appears: the chart is the RCP's, the community wording is ours.
pub const ATTRIBUTION: &str = "NEWS2 scores and risk bands: Royal College of Physicians, \
National Early Warning Score (NEWS) 2: Standardising the assessment of acute-illness severity \
in the NHS. Updated report of a working party. London: RCP, 2017. The advice on who to phone is \
Doorstep's community wording of the RCP clinical response thresholds, not RCP guidance.";

/// Vital signs as a carer records them; every field optional because carers may not have every
/// device.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "automerge", derive(autosurgeon::Reconcile, autosurgeon::Hydrate))]
pub struct VitalSigns {
    /// Breaths per minute.
    pub respiration_rate: Option<u16>,
    /// Oxygen saturation, percent.
    pub spo2_percent: Option<u16>,
    /// `None` = not recorded; `Some(false)` = room air; `Some(true)` = on supplemental oxygen.
    pub on_oxygen: Option<bool>,
    /// Systolic blood pressure, mmHg.
    pub systolic_bp: Option<u16>,
    /// Beats per minute.
    pub pulse: Option<u16>,
    pub consciousness: Option<Acvpu>,
    /// Degrees Celsius; scored at one decimal place, as the chart is written.
    pub temperature_c: Option<f64>,
}

/// Level of consciousness on the ACVPU scale (new confusion counts as much as unresponsiveness).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "automerge", derive(autosurgeon::Reconcile, autosurgeon::Hydrate))]
pub enum Acvpu {
    Alert,
    NewConfusion,
    Voice,
    Pain,
    Unresponsive,
}

impl Acvpu {
    /// Plain English, because carers are not taught the ACVPU letters.
    pub fn label(&self) -> &'static str {
        match self {
            Acvpu::Alert => "Alert",
            Acvpu::NewConfusion => "New confusion",
            Acvpu::Voice => "Responds to voice",
            Acvpu::Pain => "Responds to pain",
            Acvpu::Unresponsive => "Unresponsive",
        }
    }
}

/// Which SpO2 scoring scale applies to the person.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "automerge", derive(autosurgeon::Reconcile, autosurgeon::Hydrate))]
pub enum SpO2Scale {
    /// Everyone, unless a clinician has said otherwise.
    #[default]
    Scale1,
    /// Only where a clinician set an 88–92% target (hypercapnic respiratory failure, e.g. some
    /// COPD): using it otherwise would hide low oxygen.
    Scale2,
}

/// One of the seven NEWS2 parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Parameter {
    RespirationRate,
    SpO2,
    AirOrOxygen,
    SystolicBp,
    Pulse,
    Consciousness,
    Temperature,
}

impl Parameter {
    /// All seven, in chart order, so lists of scores and missing readings read top to bottom.
    pub const ALL: [Parameter; 7] = [
        Parameter::RespirationRate,
        Parameter::SpO2,
        Parameter::AirOrOxygen,
        Parameter::SystolicBp,
        Parameter::Pulse,
        Parameter::Consciousness,
        Parameter::Temperature,
    ];

    /// Plain English names for carers and error messages.
    pub fn label(&self) -> &'static str {
        match self {
            Parameter::RespirationRate => "Breathing rate",
            Parameter::SpO2 => "Oxygen saturation (SpO2)",
            Parameter::AirOrOxygen => "Air or oxygen",
            Parameter::SystolicBp => "Systolic blood pressure",
            Parameter::Pulse => "Pulse",
            Parameter::Consciousness => "Consciousness",
            Parameter::Temperature => "Temperature",
        }
    }
}

impl fmt::Display for Parameter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// Facts about the person that decide whether and how NEWS2 applies.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ScoringContext {
    /// `None` (age unknown) is still scored: most people receiving home care are adults.
    pub age_years: Option<u32>,
    pub pregnant: bool,
    pub spo2_scale: SpO2Scale,
}

/// The 0–3 score of one parameter, kept so the carer can see which reading drove the total.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ParameterScore {
    pub parameter: Parameter,
    pub score: u8,
}

/// NEWS2 clinical risk band; ordered so "at least" comparisons work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum RiskBand {
    /// Aggregate 0–4 with no single parameter scoring 3.
    Low,
    /// Aggregate 0–4 but one parameter scored 3.
    LowMedium,
    /// Aggregate 5–6.
    Medium,
    /// Aggregate 7 or more.
    High,
}

impl RiskBand {
    pub fn label(&self) -> &'static str {
        match self {
            RiskBand::Low => "Low",
            RiskBand::LowMedium => "Low–medium",
            RiskBand::Medium => "Medium",
            RiskBand::High => "High",
        }
    }
}

/// How urgently a carer must act (see [`community_escalation`]); ordered, least urgent first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum EscalationLevel {
    Routine,
    /// Some readings are missing and those taken do not call for more: take the rest now.
    ReadingsMissing,
    /// Tell the office before leaving (a score of 1–4, or a change in soft signs).
    TellSomeoneToday,
    UrgentCallNow,
    Emergency999,
}

impl EscalationLevel {
    pub const ALL: [EscalationLevel; 5] = [
        EscalationLevel::Routine,
        EscalationLevel::ReadingsMissing,
        EscalationLevel::TellSomeoneToday,
        EscalationLevel::UrgentCallNow,
        EscalationLevel::Emergency999,
    ];

    /// Stable code for SQL.
    pub fn code(self) -> &'static str {
        match self {
            EscalationLevel::Routine => "routine",
            EscalationLevel::ReadingsMissing => "readings_missing",
            EscalationLevel::TellSomeoneToday => "tell_office",
            EscalationLevel::UrgentCallNow => "phone_now",
            EscalationLevel::Emergency999 => "999",
        }
    }

    pub fn from_code(code: &str) -> Option<EscalationLevel> {
        EscalationLevel::ALL.into_iter().find(|l| l.code() == code)
    }

    /// The carer was told to phone now (or 999): the office needs to know a call was made.
    pub fn needs_a_call(self) -> bool {
        self >= EscalationLevel::UrgentCallNow
    }
}

/// What the carer should do, in words they can follow at the door.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Escalation {
    pub level: EscalationLevel,
    pub headline: String,
    pub action: String,
    pub who_to_phone: String,
    /// What the advice rests on: the readings, or the soft signs the carer saw. It decides the
    /// card's heading ([`Escalation::heading`]) and who is phoned first
    /// (`Directory::who_to_phone_for`).
    #[serde(default)]
    pub source: AdviceSource,
    /// A fall (or being unsteady) is among the changes seen: the area's falls response is
    /// offered where there is one.
    #[serde(default)]
    pub after_a_fall: bool,
}

/// What a piece of advice rests on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AdviceSource {
    /// The readings, through the community escalation rule over NEWS2.
    #[default]
    Readings,
    /// The soft signs the carer saw, new or worse than usual: a clinician first.
    SoftSigns,
}

impl Escalation {
    /// The advice as the readings give it: no soft sign, no fall.
    pub fn from_readings(level: EscalationLevel, headline: String, action: String, who_to_phone: String) -> Self {
        Escalation { level, headline, action, who_to_phone, source: AdviceSource::Readings, after_a_fall: false }
    }

    /// The card's heading, in the same words as the advice under it: "Emergency: phone 999",
    /// "Phone now", "Phone their GP practice today" (a worrying change in soft signs), "Tell the
    /// office before you leave" (a score of 1–4), "Take the missing readings now"; empty when
    /// routine.
    pub fn heading(&self) -> &'static str {
        match (self.level, self.source) {
            (EscalationLevel::Emergency999, _) => "Emergency: phone 999",
            (EscalationLevel::UrgentCallNow, _) => "Phone now",
            (EscalationLevel::TellSomeoneToday, AdviceSource::SoftSigns) => "Phone their GP practice today",
            (EscalationLevel::TellSomeoneToday, AdviceSource::Readings) => "Tell the office before you leave",
            (EscalationLevel::ReadingsMissing, _) => "Take the missing readings now",
            (EscalationLevel::Routine, _) => "",
        }
    }
}

/// A complete NEWS2 score: all seven parameters were recorded.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct News2Score {
    /// In [`Parameter::ALL`] order.
    pub parameters: Vec<ParameterScore>,
    pub total: u8,
    pub band: RiskBand,
    pub escalation: Escalation,
}

/// The result of assessing a set of vital signs.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum News2Assessment {
    /// NEWS2 is not validated for under-16s or in pregnancy: say so instead of scoring.
    NotApplicable {
        reason: String,
    },
    /// Some parameters are missing: `partial_total` is a LOWER BOUND, so `band_at_least` and
    /// `escalation` are still given (a partial 7 is already high).
    Incomplete {
        missing: Vec<Parameter>,
        scored: Vec<ParameterScore>,
        partial_total: u8,
        band_at_least: RiskBand,
        escalation: Escalation,
    },
    Scored(News2Score),
}

impl News2Assessment {
    /// The advice to show, if the assessment gives any.
    pub fn escalation(&self) -> Option<&Escalation> {
        match self {
            News2Assessment::NotApplicable { .. } => None,
            News2Assessment::Incomplete { escalation, .. } => Some(escalation),
            News2Assessment::Scored(score) => Some(&score.escalation),
        }
    }

    /// One line for a badge: "NEWS2 5: Medium", "NEWS2 at least 3 (2 readings missing)".
    pub fn summary(&self) -> String {
        match self {
            News2Assessment::NotApplicable { reason } => format!("NEWS2 not used: {reason}"),
            News2Assessment::Incomplete { missing, partial_total, band_at_least, .. } => format!(
                "NEWS2 at least {partial_total}: {} or higher ({} reading{} missing)",
                band_at_least.label(),
                missing.len(),
                if missing.len() == 1 { "" } else { "s" }
            ),
            News2Assessment::Scored(score) => format!("NEWS2 {}: {}", score.total, score.band.label()),
        }
    }
}

/// A reading that cannot be right; refused so a typing slip never becomes advice.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, thiserror::Error)]
pub enum VitalsError {
    #[error("{parameter} {value} is not possible: check the reading (expected {min} to {max}).")]
    OutOfRange { parameter: Parameter, value: String, min: String, max: String },
}

// Possible ranges: wide enough for any living person (an SpO2 of 48 or a pulse of 18 can be
// real), narrow enough to catch slips (pulse 400).
const RESPIRATION_RANGE: (u16, u16) = (1, 80);
const SPO2_RANGE: (u16, u16) = (20, 100);
const SYSTOLIC_RANGE: (u16, u16) = (40, 300);
const PULSE_RANGE: (u16, u16) = (10, 300);

// Possible but extreme: the carer is asked to check the reading before it is scored, and if it
// is right the advice is 999. Inside these bounds a reading is not extreme.
const RESPIRATION_USUAL: (u16, u16) = (6, 50);
const SPO2_USUAL: (u16, u16) = (70, 100);
const SYSTOLIC_USUAL: (u16, u16) = (60, 250);
const PULSE_USUAL: (u16, u16) = (30, 200);
/// Tenths of a degree: 32.0–42.0 °C.
const TEMPERATURE_TENTHS_USUAL: (i64, i64) = (320, 420);
/// Temperature limits in tenths of a degree (25.0–45.0 °C).
const TEMPERATURE_TENTHS_RANGE: (i64, i64) = (250, 450);

fn check_u16(parameter: Parameter, value: Option<u16>, (min, max): (u16, u16)) -> Result<(), VitalsError> {
    match value {
        Some(v) if !(min..=max).contains(&v) => {
            Err(VitalsError::OutOfRange { parameter, value: v.to_string(), min: min.to_string(), max: max.to_string() })
        }
        _ => Ok(()),
    }
}

impl VitalSigns {
    /// True when nothing was recorded, so callers can skip scoring an empty form.
    pub fn is_empty(&self) -> bool {
        self.respiration_rate.is_none()
            && self.spo2_percent.is_none()
            && self.on_oxygen.is_none()
            && self.systolic_bp.is_none()
            && self.pulse.is_none()
            && self.consciousness.is_none()
            && self.temperature_c.is_none()
    }

    /// Refuses physiologically impossible readings, naming the first bad field.
    pub fn validate(&self) -> Result<(), VitalsError> {
        check_u16(Parameter::RespirationRate, self.respiration_rate, RESPIRATION_RANGE)?;
        check_u16(Parameter::SpO2, self.spo2_percent, SPO2_RANGE)?;
        check_u16(Parameter::SystolicBp, self.systolic_bp, SYSTOLIC_RANGE)?;
        check_u16(Parameter::Pulse, self.pulse, PULSE_RANGE)?;
        if let Some(t) = self.temperature_c {
            let (min, max) = TEMPERATURE_TENTHS_RANGE;
            let in_range = temperature_tenths(t).is_some_and(|tenths| (min..=max).contains(&tenths));
            if !in_range {
                let value = if t.is_finite() { t.to_string() } else { "(not a number)".to_owned() };
                return Err(VitalsError::OutOfRange {
                    parameter: Parameter::Temperature,
                    value,
                    min: "25.0".to_owned(),
                    max: "45.0".to_owned(),
                });
            }
        }
        Ok(())
    }
}

impl VitalSigns {
    /// Readings that are possible but extreme (an SpO2 of 48, a pulse of 18): the carer checks
    /// them before they are scored, and if they are right the advice is 999. Each as the
    /// parameter and the reading as typed.
    pub fn extremes(&self) -> Vec<(Parameter, String)> {
        let outside = |value: Option<u16>, (low, high): (u16, u16)| value.filter(|v| *v < low || *v > high);
        let mut found = Vec::new();
        for (parameter, value, usual) in [
            (Parameter::RespirationRate, self.respiration_rate, RESPIRATION_USUAL),
            (Parameter::SpO2, self.spo2_percent, SPO2_USUAL),
            (Parameter::SystolicBp, self.systolic_bp, SYSTOLIC_USUAL),
            (Parameter::Pulse, self.pulse, PULSE_USUAL),
        ] {
            if let Some(v) = outside(value, usual) {
                found.push((parameter, v.to_string()));
            }
        }
        if let Some(t) = self.temperature_c
            && temperature_tenths(t)
                .is_some_and(|tenths| tenths < TEMPERATURE_TENTHS_USUAL.0 || tenths > TEMPERATURE_TENTHS_USUAL.1)
        {
            found.push((Parameter::Temperature, t.to_string()));
        }
        found
    }
}

/// Temperature in whole tenths of a degree, rounded half away from zero.
///
/// Integer tenths avoid float edge bugs at the chart's boundaries (35.0/35.1 and so on). The
/// value is first snapped to millionths so that a typed 38.05, stored as 38.0499999…, still
/// rounds up as the carer would expect. `None` for NaN or infinity.
pub fn temperature_tenths(celsius: f64) -> Option<i64> {
    if !celsius.is_finite() {
        return None;
    }
    // `as` saturates, so absurd magnitudes cannot wrap.
    let millionths = (celsius * 1_000_000.0).round() as i64;
    let half = if millionths < 0 { -50_000 } else { 50_000 };
    Some(millionths.saturating_add(half) / 100_000)
}

/// Respiration rate: ≤8 → 3; 9–11 → 1; 12–20 → 0; 21–24 → 2; ≥25 → 3.
pub fn score_respiration_rate(breaths_per_minute: u16) -> u8 {
    match breaths_per_minute {
        0..=8 => 3,
        9..=11 => 1,
        12..=20 => 0,
        21..=24 => 2,
        _ => 3,
    }
}

/// SpO2 on the given scale. `None` only on Scale 2 at 93% or more when air/oxygen is unknown,
/// because that score depends on whether the person is on oxygen.
pub fn score_spo2(percent: u16, scale: SpO2Scale, on_oxygen: Option<bool>) -> Option<u8> {
    match scale {
        SpO2Scale::Scale1 => Some(match percent {
            0..=91 => 3,
            92..=93 => 2,
            94..=95 => 1,
            _ => 0,
        }),
        SpO2Scale::Scale2 => match (percent, on_oxygen) {
            (0..=83, _) => Some(3),
            (84..=85, _) => Some(2),
            (86..=87, _) => Some(1),
            (88..=92, _) => Some(0),
            (_, None) => None,
            (_, Some(false)) => Some(0),
            (93..=94, Some(true)) => Some(1),
            (95..=96, Some(true)) => Some(2),
            (_, Some(true)) => Some(3),
        },
    }
}

/// Air or oxygen: supplemental oxygen → 2; room air → 0.
pub fn score_air_or_oxygen(on_oxygen: bool) -> u8 {
    if on_oxygen { 2 } else { 0 }
}

/// Systolic BP: ≤90 → 3; 91–100 → 2; 101–110 → 1; 111–219 → 0; ≥220 → 3.
pub fn score_systolic_bp(mmhg: u16) -> u8 {
    match mmhg {
        0..=90 => 3,
        91..=100 => 2,
        101..=110 => 1,
        111..=219 => 0,
        _ => 3,
    }
}

/// Pulse: ≤40 → 3; 41–50 → 1; 51–90 → 0; 91–110 → 1; 111–130 → 2; ≥131 → 3.
pub fn score_pulse(beats_per_minute: u16) -> u8 {
    match beats_per_minute {
        0..=40 => 3,
        41..=50 => 1,
        51..=90 => 0,
        91..=110 => 1,
        111..=130 => 2,
        _ => 3,
    }
}

/// Consciousness: Alert → 0; anything else (including new confusion) → 3.
pub fn score_consciousness(level: Acvpu) -> u8 {
    match level {
        Acvpu::Alert => 0,
        Acvpu::NewConfusion | Acvpu::Voice | Acvpu::Pain | Acvpu::Unresponsive => 3,
    }
}

/// Temperature at one decimal place: ≤35.0 → 3; 35.1–36.0 → 1; 36.1–38.0 → 0; 38.1–39.0 → 1;
/// ≥39.1 → 2. Validate first: NaN/infinity score 3 here so an unchecked bad reading errs towards
/// concern rather than reassurance.
pub fn score_temperature(celsius: f64) -> u8 {
    match temperature_tenths(celsius) {
        None => 3,
        Some(tenths) => match tenths {
            i64::MIN..=350 => 3,
            351..=360 => 1,
            361..=380 => 0,
            381..=390 => 1,
            _ => 2,
        },
    }
}

/// One parameter's score from a set of vitals, or `None` if it was not recorded (or, for SpO2
/// on Scale 2, cannot be decided without knowing air/oxygen). Does not validate.
pub fn score_parameter(parameter: Parameter, vitals: &VitalSigns, scale: SpO2Scale) -> Option<u8> {
    match parameter {
        Parameter::RespirationRate => vitals.respiration_rate.map(score_respiration_rate),
        Parameter::SpO2 => vitals.spo2_percent.and_then(|p| score_spo2(p, scale, vitals.on_oxygen)),
        Parameter::AirOrOxygen => vitals.on_oxygen.map(score_air_or_oxygen),
        Parameter::SystolicBp => vitals.systolic_bp.map(score_systolic_bp),
        Parameter::Pulse => vitals.pulse.map(score_pulse),
        Parameter::Consciousness => vitals.consciousness.map(score_consciousness),
        Parameter::Temperature => vitals.temperature_c.map(score_temperature),
    }
}

/// RCP risk band: ≥7 High; 5–6 Medium; otherwise a single 3 → Low–medium; otherwise Low.
pub fn band_for(total: u8, any_single_three: bool) -> RiskBand {
    match total {
        7.. => RiskBand::High,
        5..=6 => RiskBand::Medium,
        _ if any_single_three => RiskBand::LowMedium,
        _ => RiskBand::Low,
    }
}

/// For every 999 advice: a home without mobile signal still has a way to call.
const NO_SIGNAL: &str = "No signal on your mobile? Use their landline; 999 also works on any network that answers.";

/// The community escalation rule: what a carer in someone's home should do with a set of
/// readings. It reads the score and never changes it. In order, the first that applies:
///
/// 0. a possible but extreme reading, checked by the carer ([`VitalSigns::extremes`]) → 999;
/// 1. responds only to voice or pain, or not at all (V, P or U) → 999;
/// 2. aggregate 7 or more → 999;
/// 3. aggregate 5–6 → phone now for an urgent review;
/// 4. any other single parameter scoring 3 → phone now, naming it;
/// 5. readings missing (and nothing above) → take the missing readings now, never "carry on";
/// 6. aggregate 1–4 → tell the office before leaving, and repeat the readings if worried;
/// 7. aggregate 0 → routine.
///
/// Rationale and sources: docs/safety.md ("The community escalation rule").
pub fn community_escalation(
    vitals: &VitalSigns,
    scored: &[ParameterScore],
    total: u8,
    missing: &[Parameter],
) -> Escalation {
    let not_awake = matches!(vitals.consciousness, Some(Acvpu::Voice | Acvpu::Pain | Acvpu::Unresponsive));
    let three = scored.iter().find(|s| s.score == 3 && s.parameter != Parameter::Consciousness).or_else(|| {
        scored.iter().find(|s| s.score == 3) // new confusion
    });
    let no_sync = "Do not wait for the app to sync.";
    let extremes = vitals.extremes();
    let (level, headline, action, who) = if !extremes.is_empty() {
        let readings: Vec<String> = extremes.iter().map(|(p, v)| format!("{} {v}", p.label())).collect();
        (
            EscalationLevel::Emergency999,
            "If this reading is right, phone 999 now.".to_owned(),
            format!(
                "{} is extreme. If you have checked it and it is right, phone 999 now: give the \
                 address first and answer the call handler's questions. Stay with them. Then tell \
                 the office. {no_sync} {NO_SIGNAL}",
                readings.join(", ")
            ),
            "999".to_owned(),
        )
    } else if not_awake {
        (
            EscalationLevel::Emergency999,
            "They are not fully awake: phone 999 now.".to_owned(),
            format!(
                "They respond only to your voice or to pain, or not at all. Phone 999 now. Give the \
                 address first and answer the call handler's questions. Stay with them. Then tell \
                 the office. {no_sync} {NO_SIGNAL}"
            ),
            "999".to_owned(),
        )
    } else if total >= 7 {
        (
            EscalationLevel::Emergency999,
            "High score: phone 999 now.".to_owned(),
            format!(
                "Phone 999 now. Give the address first and answer the call handler's questions; \
                 read them the SBARD summary. Stay with them. Then tell the office. {no_sync} \
                 {NO_SIGNAL}"
            ),
            "999".to_owned(),
        )
    } else if total >= 5 {
        (
            EscalationLevel::UrgentCallNow,
            "Medium score: phone now for an urgent review.".to_owned(),
            format!(
                "Phone the GP practice now and ask for an urgent review (111 if the practice is \
                 closed). Stay with them and take the readings again. If they get worse, phone \
                 999. Then tell the office. {no_sync}"
            ),
            "GP practice now (111 if it is closed)".to_owned(),
        )
    } else if let Some(three) = three {
        let name = match three.parameter {
            Parameter::Consciousness => "New confusion",
            other => other.label(),
        };
        (
            EscalationLevel::UrgentCallNow,
            format!("{name} is a concern: phone now."),
            format!(
                "Phone the GP practice now (111 if the practice is closed) and tell them which reading \
                 is a concern: {name}. Stay with them and take the readings again. If they get \
                 worse, phone 999. Then tell the office. {no_sync}"
            ),
            "GP practice now (111 if it is closed)".to_owned(),
        )
    } else if !missing.is_empty() {
        (
            EscalationLevel::ReadingsMissing,
            "Take the missing readings now.".to_owned(),
            format!(
                "Take the missing readings now ({} missing). If you cannot and you are worried about \
                 them, phone the GP practice (111 if it is closed). Tell the office before you leave.",
                missing_readings(missing)
            ),
            "GP practice if you are worried (111 if it is closed)".to_owned(),
        )
    } else if total >= 1 {
        (
            EscalationLevel::TellSomeoneToday,
            "Tell the office before you leave.".to_owned(),
            "Tell the office about these readings before you leave. If you are worried, take the \
             readings again in a few minutes; if any is worse, phone the GP practice (111 if it is \
             closed)."
                .to_owned(),
            "The office, before you leave".to_owned(),
        )
    } else {
        (
            EscalationLevel::Routine,
            "Score 0: these readings show no concern.".to_owned(),
            "Carry on with the visit. If you are worried about them at any time, phone the GP \
             practice, or 111 if it is closed."
                .to_owned(),
            "No one, unless you are worried".to_owned(),
        )
    };
    Escalation::from_readings(level, headline, action, who)
}

/// The readings not taken, in chart order, as the advice names them: "Breathing rate,
/// Temperature".
pub fn missing_readings(missing: &[Parameter]) -> String {
    missing.iter().map(|p| p.label()).collect::<Vec<_>>().join(", ")
}

/// Validates the readings, checks NEWS2 applies to this person, then scores what was recorded.
pub fn assess(vitals: &VitalSigns, ctx: &ScoringContext) -> Result<News2Assessment, VitalsError> {
    vitals.validate()?;

    if ctx.age_years.is_some_and(|age| age < 16) {
        return Ok(News2Assessment::NotApplicable {
            reason: "NEWS2 is not used for people under 16. If you are worried, phone 111, or 999 \
                     in an emergency."
                .to_owned(),
        });
    }
    if ctx.pregnant {
        return Ok(News2Assessment::NotApplicable {
            reason: "NEWS2 is not used in pregnancy. If you are worried, phone their midwife or \
                     maternity unit, or 999 in an emergency."
                .to_owned(),
        });
    }

    let mut scored = Vec::with_capacity(Parameter::ALL.len());
    let mut missing = Vec::new();
    for parameter in Parameter::ALL {
        match score_parameter(parameter, vitals, ctx.spo2_scale) {
            Some(score) => scored.push(ParameterScore { parameter, score }),
            None => missing.push(parameter),
        }
    }
    let total: u8 = scored.iter().map(|s| s.score).sum();
    let any_three = scored.iter().any(|s| s.score == 3);
    let band = band_for(total, any_three);
    let escalation = community_escalation(vitals, &scored, total, &missing);

    Ok(if missing.is_empty() {
        News2Assessment::Scored(News2Score { parameters: scored, total, band, escalation })
    } else {
        News2Assessment::Incomplete { missing, scored, partial_total: total, band_at_least: band, escalation }
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// All-normal readings scoring 0 on every parameter.
    pub(crate) fn normal() -> VitalSigns {
        VitalSigns {
            respiration_rate: Some(16),
            spo2_percent: Some(97),
            on_oxygen: Some(false),
            systolic_bp: Some(120),
            pulse: Some(70),
            consciousness: Some(Acvpu::Alert),
            temperature_c: Some(37.0),
        }
    }

    pub(crate) fn adult() -> ScoringContext {
        ScoringContext { age_years: Some(80), pregnant: false, spo2_scale: SpO2Scale::Scale1 }
    }

    fn scored(vitals: &VitalSigns, ctx: &ScoringContext) -> News2Score {
        match assess(vitals, ctx).expect("valid vitals") {
            News2Assessment::Scored(s) => s,
            other => panic!("expected Scored, got {other:?}"),
        }
    }

    #[test]
    fn respiration_rate_boundaries() {
        for (rr, expected) in [(1, 3), (8, 3), (9, 1), (11, 1), (12, 0), (20, 0), (21, 2), (24, 2), (25, 3), (80, 3)] {
            assert_eq!(score_respiration_rate(rr), expected, "respiration rate {rr}");
        }
    }

    #[test]
    fn spo2_scale1_boundaries_ignore_oxygen() {
        for (spo2, expected) in [(50, 3), (91, 3), (92, 2), (93, 2), (94, 1), (95, 1), (96, 0), (100, 0)] {
            for on_oxygen in [None, Some(false), Some(true)] {
                assert_eq!(
                    score_spo2(spo2, SpO2Scale::Scale1, on_oxygen),
                    Some(expected),
                    "Scale 1 SpO2 {spo2} oxygen {on_oxygen:?}"
                );
            }
        }
    }

    #[test]
    fn spo2_scale2_boundaries() {
        let cases: [(u16, Option<bool>, Option<u8>); _] = [
            (50, None, Some(3)),
            (83, None, Some(3)),
            (84, None, Some(2)),
            (85, Some(true), Some(2)),
            (86, Some(false), Some(1)),
            (87, None, Some(1)),
            (88, None, Some(0)),
            (92, Some(true), Some(0)),
            (92, Some(false), Some(0)),
            (93, Some(false), Some(0)),
            (100, Some(false), Some(0)),
            (93, Some(true), Some(1)),
            (94, Some(true), Some(1)),
            (95, Some(true), Some(2)),
            (96, Some(true), Some(2)),
            (97, Some(true), Some(3)),
            (100, Some(true), Some(3)),
            (93, None, None),
            (100, None, None),
        ];
        for (spo2, on_oxygen, expected) in cases {
            assert_eq!(
                score_spo2(spo2, SpO2Scale::Scale2, on_oxygen),
                expected,
                "Scale 2 SpO2 {spo2} oxygen {on_oxygen:?}"
            );
        }
    }

    #[test]
    fn air_or_oxygen() {
        assert_eq!(score_air_or_oxygen(true), 2);
        assert_eq!(score_air_or_oxygen(false), 0);
    }

    #[test]
    fn systolic_bp_boundaries() {
        for (bp, expected) in
            [(40, 3), (90, 3), (91, 2), (100, 2), (101, 1), (110, 1), (111, 0), (219, 0), (220, 3), (300, 3)]
        {
            assert_eq!(score_systolic_bp(bp), expected, "systolic {bp}");
        }
    }

    #[test]
    fn pulse_boundaries() {
        for (pulse, expected) in [
            (20, 3),
            (40, 3),
            (41, 1),
            (50, 1),
            (51, 0),
            (90, 0),
            (91, 1),
            (110, 1),
            (111, 2),
            (130, 2),
            (131, 3),
            (250, 3),
        ] {
            assert_eq!(score_pulse(pulse), expected, "pulse {pulse}");
        }
    }

    #[test]
    fn consciousness_scores() {
        assert_eq!(score_consciousness(Acvpu::Alert), 0);
        for level in [Acvpu::NewConfusion, Acvpu::Voice, Acvpu::Pain, Acvpu::Unresponsive] {
            assert_eq!(score_consciousness(level), 3, "{level:?}");
        }
    }

    #[test]
    fn temperature_boundaries_in_tenths() {
        for (t, expected) in [
            (25.0, 3),
            (34.9, 3),
            (35.0, 3),
            (35.04, 3),
            (35.05, 1),
            (35.1, 1),
            (36.0, 1),
            (36.04, 1),
            (36.05, 0),
            (36.1, 0),
            (37.0, 0),
            (38.0, 0),
            (38.05, 1),
            (38.1, 1),
            (39.0, 1),
            (39.05, 2),
            (39.1, 2),
            (45.0, 2),
        ] {
            assert_eq!(score_temperature(t), expected, "temperature {t}");
        }
    }

    #[test]
    fn temperature_tenths_rounds_half_away_from_zero() {
        assert_eq!(temperature_tenths(35.0), Some(350));
        assert_eq!(temperature_tenths(35.05), Some(351));
        assert_eq!(temperature_tenths(35.149), Some(351));
        assert_eq!(temperature_tenths(-0.05), Some(-1));
        assert_eq!(temperature_tenths(f64::NAN), None);
        assert_eq!(temperature_tenths(f64::INFINITY), None);
    }

    #[test]
    fn all_normal_scores_zero_low_routine() {
        let s = scored(&normal(), &adult());
        assert_eq!(s.total, 0);
        assert_eq!(s.band, RiskBand::Low);
        assert_eq!(s.escalation.level, EscalationLevel::Routine);
        let order: Vec<Parameter> = s.parameters.iter().map(|p| p.parameter).collect();
        assert_eq!(order, Parameter::ALL.to_vec());
    }

    #[test]
    fn aggregate_is_the_sum() {
        let v = VitalSigns {
            respiration_rate: Some(22), // 2
            spo2_percent: Some(95),     // 1
            on_oxygen: Some(true),      // 2
            systolic_bp: Some(105),     // 1
            pulse: Some(115),           // 2
            consciousness: Some(Acvpu::Alert),
            temperature_c: Some(38.5), // 1
        };
        let s = scored(&v, &adult());
        assert_eq!(s.total, 9);
        assert_eq!(s.band, RiskBand::High);
        assert_eq!(s.escalation.level, EscalationLevel::Emergency999);
        assert_eq!(s.escalation.who_to_phone, "999");
    }

    #[test]
    fn band_for_table() {
        for (total, three, band) in [
            (0, false, RiskBand::Low),
            (4, false, RiskBand::Low),
            (3, true, RiskBand::LowMedium),
            (4, true, RiskBand::LowMedium),
            (5, false, RiskBand::Medium),
            (5, true, RiskBand::Medium),
            (6, true, RiskBand::Medium),
            (7, false, RiskBand::High),
            (7, true, RiskBand::High),
            (20, true, RiskBand::High),
        ] {
            assert_eq!(band_for(total, three), band, "total {total} three {three}");
        }
    }

    #[test]
    fn each_band_from_vitals() {
        // Low: total 4 without a 3.
        let low = VitalSigns { respiration_rate: Some(22), pulse: Some(115), ..normal() };
        let s = scored(&low, &adult());
        assert_eq!((s.total, s.band), (4, RiskBand::Low));

        // Low–medium: a single 3 with a total of 3.
        let lm = VitalSigns { consciousness: Some(Acvpu::NewConfusion), ..normal() };
        let s = scored(&lm, &adult());
        assert_eq!((s.total, s.band), (3, RiskBand::LowMedium));
        assert_eq!(s.escalation.level, EscalationLevel::UrgentCallNow, "a single 3 is phone now at home");

        // A total of 5 that includes a single 3 is Medium, not Low–medium.
        let m = VitalSigns { pulse: Some(35), respiration_rate: Some(22), ..normal() };
        let s = scored(&m, &adult());
        assert_eq!((s.total, s.band), (5, RiskBand::Medium));
        assert_eq!(s.escalation.level, EscalationLevel::UrgentCallNow);

        // Medium at 6.
        let m6 = VitalSigns { pulse: Some(115), respiration_rate: Some(22), spo2_percent: Some(92), ..normal() };
        let s = scored(&m6, &adult());
        assert_eq!((s.total, s.band), (6, RiskBand::Medium));

        // High at exactly 7.
        let h = VitalSigns { pulse: Some(35), respiration_rate: Some(22), spo2_percent: Some(92), ..normal() };
        let s = scored(&h, &adult());
        assert_eq!((s.total, s.band), (7, RiskBand::High));
        assert_eq!(s.escalation.level, EscalationLevel::Emergency999);
    }

    #[test]
    fn every_advice_to_phone_says_not_to_wait_for_sync() {
        for vitals in [
            VitalSigns { consciousness: Some(Acvpu::NewConfusion), ..normal() },
            VitalSigns { pulse: Some(115), respiration_rate: Some(22), spo2_percent: Some(92), ..normal() },
            VitalSigns { pulse: Some(35), respiration_rate: Some(22), spo2_percent: Some(92), ..normal() },
        ] {
            let e = scored(&vitals, &adult()).escalation;
            assert!(e.action.contains("Phone"), "{}", e.action);
            assert!(e.action.contains("Do not wait for the app to sync"), "{}", e.action);
        }
    }

    #[test]
    fn risk_band_order_and_labels() {
        assert!(RiskBand::Low < RiskBand::LowMedium);
        assert!(RiskBand::LowMedium < RiskBand::Medium);
        assert!(RiskBand::Medium < RiskBand::High);
        assert_eq!(RiskBand::LowMedium.label(), "Low–medium");
        assert_eq!(Parameter::RespirationRate.label(), "Breathing rate");
        assert_eq!(Acvpu::Voice.label(), "Responds to voice");
    }

    #[test]
    fn not_applicable_under_16_and_in_pregnancy() {
        let child = ScoringContext { age_years: Some(15), ..adult() };
        match assess(&normal(), &child) {
            Ok(News2Assessment::NotApplicable { reason }) => assert!(reason.contains("under 16")),
            other => panic!("{other:?}"),
        }
        let pregnant = ScoringContext { pregnant: true, ..adult() };
        match assess(&normal(), &pregnant) {
            Ok(News2Assessment::NotApplicable { reason }) => assert!(reason.contains("midwife")),
            other => panic!("{other:?}"),
        }
        let sixteen = ScoringContext { age_years: Some(16), ..adult() };
        assert_eq!(scored(&normal(), &sixteen).total, 0);
        let unknown_age = ScoringContext { age_years: None, ..adult() };
        assert_eq!(scored(&normal(), &unknown_age).total, 0);
    }

    #[test]
    fn incomplete_partial_total_is_a_lower_bound() {
        let v = VitalSigns {
            respiration_rate: Some(30),        // 3
            consciousness: Some(Acvpu::Voice), // 3
            pulse: Some(120),                  // 2
            ..VitalSigns::default()
        };
        match assess(&v, &adult()).expect("valid") {
            News2Assessment::Incomplete { missing, scored, partial_total, band_at_least, escalation } => {
                assert_eq!(partial_total, 8);
                assert_eq!(band_at_least, RiskBand::High);
                assert_eq!(escalation.level, EscalationLevel::Emergency999);
                assert_eq!(scored.len(), 3);
                assert_eq!(
                    missing,
                    vec![Parameter::SpO2, Parameter::AirOrOxygen, Parameter::SystolicBp, Parameter::Temperature,]
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn incomplete_single_three_is_at_least_low_medium() {
        let v = VitalSigns { pulse: Some(30), ..VitalSigns::default() };
        match assess(&v, &adult()).expect("valid") {
            News2Assessment::Incomplete { band_at_least, partial_total, .. } => {
                assert_eq!((partial_total, band_at_least), (3, RiskBand::LowMedium));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn scale2_unknown_oxygen_at_93_plus_leaves_spo2_missing() {
        let ctx = ScoringContext { spo2_scale: SpO2Scale::Scale2, ..adult() };
        let v = VitalSigns { on_oxygen: None, spo2_percent: Some(95), ..normal() };
        match assess(&v, &ctx).expect("valid") {
            News2Assessment::Incomplete { missing, .. } => {
                assert_eq!(missing, vec![Parameter::SpO2, Parameter::AirOrOxygen]);
            }
            other => panic!("{other:?}"),
        }
        // At 90% the SpO2 score is known (0) even without air/oxygen.
        let v = VitalSigns { on_oxygen: None, spo2_percent: Some(90), ..normal() };
        match assess(&v, &ctx).expect("valid") {
            News2Assessment::Incomplete { missing, .. } => {
                assert_eq!(missing, vec![Parameter::AirOrOxygen]);
            }
            other => panic!("{other:?}"),
        }
        // Scale 2 on oxygen at 97%: SpO2 3 + oxygen 2.
        let v = VitalSigns { on_oxygen: Some(true), spo2_percent: Some(97), ..normal() };
        let s = scored(&v, &ctx);
        assert_eq!((s.total, s.band), (5, RiskBand::Medium));
    }

    #[test]
    fn empty_vitals() {
        assert!(VitalSigns::default().is_empty());
        assert!(!normal().is_empty());
        match assess(&VitalSigns::default(), &adult()).expect("valid") {
            News2Assessment::Incomplete { missing, partial_total, band_at_least, .. } => {
                assert_eq!(missing, Parameter::ALL.to_vec());
                assert_eq!((partial_total, band_at_least), (0, RiskBand::Low));
            }
            other => panic!("{other:?}"),
        }
    }

    fn refused(v: VitalSigns) -> VitalsError {
        match assess(&v, &adult()) {
            Err(e) => e,
            Ok(a) => panic!("expected refusal, got {a:?}"),
        }
    }

    #[test]
    fn out_of_range_refusals_name_the_field() {
        let cases: [(VitalSigns, Parameter, &str); _] = [
            (VitalSigns { pulse: Some(0), ..normal() }, Parameter::Pulse, "Pulse 0 is not possible"),
            (
                VitalSigns { pulse: Some(400), ..normal() },
                Parameter::Pulse,
                "Pulse 400 is not possible: check the reading (expected 10 to 300).",
            ),
            (
                VitalSigns { temperature_c: Some(60.0), ..normal() },
                Parameter::Temperature,
                "Temperature 60 is not possible: check the reading (expected 25.0 to 45.0).",
            ),
            (
                VitalSigns { temperature_c: Some(f64::NAN), ..normal() },
                Parameter::Temperature,
                "Temperature (not a number) is not possible",
            ),
            (VitalSigns { temperature_c: Some(f64::NEG_INFINITY), ..normal() }, Parameter::Temperature, "Temperature"),
            (VitalSigns { temperature_c: Some(24.9), ..normal() }, Parameter::Temperature, "Temperature 24.9"),
            (
                VitalSigns { spo2_percent: Some(101), ..normal() },
                Parameter::SpO2,
                "Oxygen saturation (SpO2) 101 is not possible: check the reading \
                 (expected 20 to 100).",
            ),
            (VitalSigns { spo2_percent: Some(19), ..normal() }, Parameter::SpO2, "Oxygen saturation (SpO2) 19"),
            (
                VitalSigns { respiration_rate: Some(0), ..normal() },
                Parameter::RespirationRate,
                "Breathing rate 0 is not possible",
            ),
            (VitalSigns { respiration_rate: Some(81), ..normal() }, Parameter::RespirationRate, "Breathing rate 81"),
            (VitalSigns { systolic_bp: Some(39), ..normal() }, Parameter::SystolicBp, "Systolic blood pressure 39"),
            (VitalSigns { systolic_bp: Some(301), ..normal() }, Parameter::SystolicBp, "Systolic blood pressure 301"),
        ];
        for (v, parameter, message) in cases {
            let e = refused(v);
            let VitalsError::OutOfRange { parameter: p, .. } = &e;
            assert_eq!(*p, parameter);
            assert!(e.to_string().starts_with(message), "{e}");
        }
    }

    #[test]
    fn range_limits_are_accepted() {
        let low = VitalSigns {
            respiration_rate: Some(1),
            spo2_percent: Some(20),
            on_oxygen: Some(true),
            systolic_bp: Some(40),
            pulse: Some(10),
            consciousness: Some(Acvpu::Unresponsive),
            temperature_c: Some(25.0),
        };
        let high = VitalSigns {
            respiration_rate: Some(80),
            spo2_percent: Some(100),
            on_oxygen: Some(false),
            systolic_bp: Some(300),
            pulse: Some(300),
            consciousness: Some(Acvpu::Pain),
            temperature_c: Some(45.0),
        };
        assert_eq!(low.validate(), Ok(()));
        assert_eq!(high.validate(), Ok(()));
        assert_eq!(scored(&low, &adult()).total, 20);
    }

    #[test]
    fn validation_comes_before_applicability() {
        let child = ScoringContext { age_years: Some(10), ..adult() };
        assert!(assess(&VitalSigns { pulse: Some(400), ..normal() }, &child).is_err());
    }

    #[test]
    fn serde_round_trip() {
        let v = VitalSigns { temperature_c: Some(38.3), consciousness: Some(Acvpu::NewConfusion), ..normal() };
        let json = serde_json::to_string(&v).expect("serialise");
        assert_eq!(serde_json::from_str::<VitalSigns>(&json).expect("deserialise"), v);

        let ctx = ScoringContext { age_years: Some(90), pregnant: false, spo2_scale: SpO2Scale::Scale2 };
        let json = serde_json::to_string(&ctx).expect("serialise");
        assert_eq!(serde_json::from_str::<ScoringContext>(&json).expect("deserialise"), ctx);

        for assessment in [
            assess(&v, &adult()).expect("valid"),
            assess(&VitalSigns { pulse: Some(30), ..VitalSigns::default() }, &adult()).expect("valid"),
            assess(&v, &ScoringContext { pregnant: true, ..adult() }).expect("valid"),
        ] {
            let json = serde_json::to_string(&assessment).expect("serialise");
            let back: News2Assessment = serde_json::from_str(&json).expect("deserialise");
            assert_eq!(back, assessment);
        }

        let e = refused(VitalSigns { pulse: Some(400), ..normal() });
        let json = serde_json::to_string(&e).expect("serialise");
        assert_eq!(serde_json::from_str::<VitalsError>(&json).expect("deserialise"), e);
    }

    mod independence {
        use super::*;
        use crate::escalation;
        use crate::ids::PersonId;
        use crate::note::{Comparison, SoftSign, SoftSignObservation};
        use crate::person::{CarePlan, Person, PlanKind, UsualForMe};
        use proptest::prelude::*;

        fn reading<T: std::fmt::Debug + Clone + 'static>(
            values: impl Strategy<Value = T> + 'static,
        ) -> BoxedStrategy<Option<T>> {
            prop_oneof![1 => Just(None), 4 => values.prop_map(Some)].boxed()
        }

        prop_compose! {
            fn any_vitals()(
                respiration_rate in reading(4u16..50),
                spo2_percent in reading(70u16..=100),
                on_oxygen in reading(any::<bool>()),
                systolic_bp in reading(60u16..250),
                pulse in reading(30u16..180),
                consciousness in reading(prop::sample::select(vec![Acvpu::Alert, Acvpu::NewConfusion, Acvpu::Voice, Acvpu::Pain, Acvpu::Unresponsive])),
                temperature_c in reading((340i32..420).prop_map(|t| f64::from(t) / 10.0)),
            ) -> VitalSigns {
                VitalSigns { respiration_rate, spo2_percent, on_oxygen, systolic_bp, pulse, consciousness, temperature_c }
            }
        }

        prop_compose! {
            /// What the office may record about a person that is not part of scoring: their plan
            /// and what is usual for them.
            fn baselines()(
                plan in prop::option::of(prop::sample::select(PlanKind::ALL.to_vec())),
                usual in prop::sample::subsequence(SoftSign::ALL.to_vec(), 0..5),
            ) -> (Option<PlanKind>, Vec<SoftSign>) {
                (plan, usual)
            }
        }

        proptest! {
            /// The NEWS2 total and band never depend on the person's plan or their "usual for
            /// me"; nor does the advice the readings give (soft signs add their own, separately).
            #[test]
            fn the_score_is_independent_of_any_baseline_or_plan(vitals in any_vitals(), (plan, usual) in baselines()) {
                let today = chrono::NaiveDate::from_ymd_opt(2026, 12, 2).expect("date");
                let mut plain = Person::new(PersonId::from_uuid(uuid::Uuid::nil()), "P1", "Ada", "Jones");
                plain.date_of_birth = chrono::NaiveDate::from_ymd_opt(1940, 1, 1);
                let mut planned = plain.clone();
                planned.plan = plan.map(|kind| CarePlan {
                    kind,
                    summary: "For treatment at home".into(),
                    recorded_by: crate::StaffId::new("M001"),
                    recorded_at: chrono::DateTime::UNIX_EPOCH,
                });
                planned.usual = usual.iter().map(|&sign| UsualForMe::new(sign, "Always like this")).collect();
                let a = assess(&vitals, &plain.scoring_context(today));
                let b = assess(&vitals, &planned.scoring_context(today));
                prop_assert_eq!(&a, &b);
                if let Ok(a) = a {
                    // The same "usual" signs, ticked as usual, add no advice of their own.
                    let as_usual: Vec<SoftSignObservation> = usual
                        .iter()
                        .map(|&sign| SoftSignObservation { sign, compared_to_usual: Comparison::SameAsUsual, detail: String::new() })
                        .collect();
                    prop_assert_eq!(escalation::advice(Some(&a), &as_usual), escalation::advice(Some(&a), &[]));
                }
            }
        }
    }
}
