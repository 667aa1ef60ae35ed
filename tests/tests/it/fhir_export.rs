//! Every kind of bundle the hub's FHIR exporter makes (`doorstep_hub::fhir::bundle`), through
//! both checks: the hub's own `validate_shape`, and the FHIR R4 validator no one here wrote
//! (`doorstep_tests::fhir_check`, fhir.resources). The items cover both item kinds; a person
//! identified by NHS number, one without, none; full, partial, impossible, unscored and no vitals;
//! every urgency, consciousness level, soft sign and answer; and empty optional text.

use chrono::{DateTime, NaiveDate, Utc};
use doorstep_hub::fhir::{bundle, validate_shape};
use doorstep_model::shared::{ProviderRef, SharedObservations, SharedPerson};
use doorstep_model::{
    Acvpu, Comparison, ConsentBasis, InsightId, NhsNumber, PartnerKind, PartnerOrg, PartnerResponse, ResponseOutcome,
    SharedItem, SharedItemId, SharedKind, SoftSign, SoftSignObservation, SpO2Scale, StaffId, Urgency, VitalSigns,
};
use doorstep_tests::fhir_check;
use serde_json::{Value, json};
use uuid::Uuid;

fn at(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_700_000_000 + secs, 0).unwrap()
}

const ACVPU: [Acvpu; 5] = [Acvpu::Alert, Acvpu::NewConfusion, Acvpu::Voice, Acvpu::Pain, Acvpu::Unresponsive];
const URGENCY: [Urgency; 3] = [Urgency::Routine, Urgency::Soon, Urgency::Urgent];
const COMPARISON: [Comparison; 3] = [Comparison::SameAsUsual, Comparison::Worse, Comparison::New];

/// The vitals variants, by name: NEWS2-scored (with each consciousness level in turn), one
/// reading, an impossible reading (not exported), on oxygen under Scale 2, none at all.
fn vitals(variant: &str, n: usize) -> Option<VitalSigns> {
    let full = VitalSigns {
        respiration_rate: Some(22),
        spo2_percent: Some(95),
        on_oxygen: Some(false),
        systolic_bp: Some(105),
        pulse: Some(95),
        consciousness: Some(ACVPU[n % ACVPU.len()]),
        temperature_c: Some(37.04),
    };
    match variant {
        "scored" => Some(full),
        "one reading" => Some(VitalSigns { pulse: Some(72), ..VitalSigns::default() }),
        "impossible" => Some(VitalSigns { pulse: Some(400), ..full }),
        "on oxygen" => Some(VitalSigns { on_oxygen: Some(true), spo2_percent: Some(90), ..full }),
        _ => None,
    }
}

fn person(nhs: Option<&str>) -> SharedPerson {
    SharedPerson {
        name: "Margaret Jones".into(),
        date_of_birth: NaiveDate::from_ymd_opt(1940, 3, 1),
        nhs_number: nhs.map(|n| NhsNumber::parse(n).unwrap()),
        postcode: "LS6 3AB".into(),
        gp_practice: "Hyde Park Surgery".into(),
        what_matters_to_me: "Her garden".into(),
    }
}

fn item(n: usize, kind: SharedKind, who: Option<SharedPerson>, vitals_variant: &str) -> SharedItem {
    let observations = (vitals_variant != "no observations").then(|| SharedObservations {
        observed_at: at(-3600),
        soft_signs: SoftSign::ALL
            .iter()
            .enumerate()
            .filter(|(i, _)| (i + n).is_multiple_of(3))
            .map(|(i, sign)| SoftSignObservation {
                sign: *sign,
                compared_to_usual: COMPARISON[i % COMPARISON.len()],
                detail: if i.is_multiple_of(2) { "Holding the furniture".into() } else { String::new() },
            })
            .collect(),
        vitals: vitals(vitals_variant, n),
        spo2_scale: if vitals_variant == "on oxygen" { SpO2Scale::Scale2 } else { SpO2Scale::Scale1 },
        // Under 16 NEWS2 is not scored: the readings go without a total.
        age_years: Some(if n % 4 == 3 { 12 } else { 84 }),
        pregnant: false,
    });
    let outcome = ResponseOutcome::ALL[n % ResponseOutcome::ALL.len()];
    SharedItem {
        id: SharedItemId(Uuid::from_u128(n as u128 + 1)),
        insight_id: InsightId(Uuid::from_u128(1000 + n as u128)),
        provider: ProviderRef { id: Uuid::nil(), name: "Sunrise Care".into() },
        partner: PartnerOrg { id: Uuid::nil(), name: "Leeds ASC".into(), kind: PartnerKind::ALL[n % 9] },
        raised_by: StaffId::new("C1"),
        shared_by: "M1".into(),
        shared_at: at(n as i64),
        purpose: "So the OT can assess for a grab rail".into(),
        consent_basis: if who.is_some() { ConsentBasis::PersonConsented } else { ConsentBasis::NotIdentifiable },
        kind,
        urgency: URGENCY[n % URGENCY.len()],
        summary: "Grab rail by the back door".into(),
        detail: if n.is_multiple_of(2) { "Nearly fell twice this week".into() } else { String::new() },
        suggested_action: if n.is_multiple_of(3) { String::new() } else { "OT assessment".into() },
        who_could_act: PartnerKind::ALL.iter().copied().take(n % 3).collect(),
        area: "LS6".into(),
        person: who,
        observations,
        responses: (0..n % 3)
            .map(|r| PartnerResponse {
                admission_likely_avoided: None,
                key: format!("r{r}"),
                outcome,
                message: if r == 0 { "OT visit booked Tuesday".into() } else { String::new() },
                by: "Sam OT".into(),
                at: at(600 + r as i64),
            })
            .collect(),
        messages: Vec::new(),
        handled_by: None,
        out_of_area_reason: String::new(),
        revoked: None,
    }
}

/// Every combination, named for the messages.
fn every_bundle() -> Vec<(String, Value)> {
    let mut out = Vec::new();
    let variants = ["scored", "one reading", "impossible", "on oxygen", "no vitals", "no observations"];
    for kind in SharedKind::ALL {
        for (who_name, who) in [("NHS number", Some(Some("943 476 5919"))), ("no NHS number", Some(None)), ("", None)] {
            for variant in variants {
                let n = out.len();
                let person = who.map(person);
                let identified =
                    if person.is_some() { format!("a person with {who_name}") } else { "no person".into() };
                let name = format!("item {n}: {kind:?}, {identified}, {variant}");
                out.push((name, bundle(&item(n, kind, person, variant), "https://hub.test")));
            }
        }
    }
    out
}

#[test]
fn every_kind_of_exported_bundle_is_valid_fhir_r4() {
    let bundles = every_bundle();
    for (name, b) in &bundles {
        validate_shape(b).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    let named: Vec<(&str, &Value)> = bundles.iter().map(|(name, b)| (name.as_str(), b)).collect();
    let verdicts = fhir_check::validate_all(&named).unwrap_or_else(|e| panic!("{e}"));
    for verdict in &verdicts {
        println!("{verdict}");
    }
    assert_eq!(verdicts.len(), bundles.len());
    let text: String = bundles.iter().map(|(_, b)| b.to_string()).collect();
    for resource in ["Patient", "ServiceRequest", "Communication", "Observation", "valueQuantity", "derivedFrom"] {
        assert!(text.contains(resource), "no bundle exercised {resource}");
    }
}

/// The validator is no rubber stamp: it rejects what FHIR R4 forbids, and says where.
#[test]
fn the_fhir_validator_rejects_broken_bundles() {
    let good = bundle(&item(0, SharedKind::Idea, Some(person(Some("9434765919"))), "scored"), "https://hub.test");
    let index = |kind: &str| {
        good["entry"].as_array().unwrap().iter().position(|e| e["resource"]["resourceType"] == kind).unwrap()
    };
    let (observation, request, patient) = (index("Observation"), index("ServiceRequest"), index("Patient"));
    type Break = Box<dyn Fn(&mut Value)>;
    let cases: Vec<(&str, Break, &str)> = vec![
        (
            "an Observation without status",
            Box::new(move |b| drop(b["entry"][observation]["resource"].as_object_mut().unwrap().remove("status"))),
            "status: field required",
        ),
        (
            "a valueInteger that is text",
            Box::new(move |b| b["entry"][observation]["resource"]["valueInteger"] = json!("five")),
            "valueInteger: value is not a valid integer",
        ),
        (
            "two subjects on a ServiceRequest",
            Box::new(move |b| {
                let subject = b["entry"][request]["resource"]["subject"].clone();
                b["entry"][request]["resource"]["subject"] = json!([subject.clone(), subject]);
            }),
            "subject",
        ),
        (
            "an element R4 does not have",
            Box::new(move |b| b["entry"][patient]["resource"]["birthday"] = json!("1940-03-01")),
            "birthday: extra fields not permitted",
        ),
        ("a timestamp not in FHIR format", Box::new(|b| b["timestamp"] = json!("14/11/2023")), "timestamp"),
    ];
    for (what, break_it, expected) in cases {
        let mut broken = good.clone();
        break_it(&mut broken);
        let verdict = fhir_check::validate(what, &broken);
        println!("{verdict:?}");
        let message = verdict.expect_err(what);
        assert!(message.contains("INVALID") && message.contains(expected), "{what}: {message}");
    }
}
