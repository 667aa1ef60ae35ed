//! FHIR R4 export of one shared item: a `collection` Bundle, built as plain JSON.
//!
//! No FHIR crate: the maintained ones (fhir-sdk, fhir-model) are huge generated crates that take
//! minutes to build here and target R4B/R5, while UK Core is R4.
//!
//! Minimum necessary, as in the hub: a `Patient` appears only when the item carries the person
//! (their consent covers this partner) and then holds the NHS number alone. Every id is a UUID v5
//! of the item id and a role name, so one item always exports the same ids (a receiver can
//! de-duplicate), while two items about one person share no Patient id (exports cannot be joined).
//! Revoked items are the caller's to refuse: this only maps what it is given.
//!
//! Beside [`validate_shape`], every kind of bundle made here is checked against the FHIR R4 base
//! definitions by an outside validator (fhir.resources) in `tests/tests/it/fhir_export.rs`.

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use doorstep_model::news2::{News2Assessment, temperature_tenths};
use doorstep_model::{NhsNumber, SharedItem, SharedKind, Urgency, VitalSigns};
use serde_json::{Map, Value, json};
use std::collections::HashSet;
use uuid::Uuid;

const UK_CORE: &str = "https://fhir.hl7.org.uk/StructureDefinition/";
const NHS_NUMBER_SYSTEM: &str = "https://fhir.nhs.uk/Id/nhs-number";
const LOINC: &str = "http://loinc.org";
const SNOMED: &str = "http://snomed.info/sct";
const UCUM: &str = "http://unitsofmeasure.org";
const CATEGORY: &str = "http://terminology.hl7.org/CodeSystem/observation-category";
/// ServiceRequest.subject is required; without consent there is no Patient to point at.
pub const NOT_IDENTIFIED: &str = "Not identified (shared without identifiers)";
/// Elements holding FHIR dateTime/instant values that [`validate_shape`] checks.
const DATE_KEYS: [&str; 5] = ["timestamp", "effectiveDateTime", "authoredOn", "sent", "issued"];

/// The item as a FHIR R4 Bundle. `base_url` is the hub's public address: it namespaces the
/// item identifier so exports from different hubs cannot collide.
pub fn bundle(item: &SharedItem, base_url: &str) -> Value {
    let id = |role: &str| Uuid::new_v5(&item.id.0, role.as_bytes());
    let system = format!("{}/fhir/Id/shared-item", base_url.trim_end_matches('/'));
    let identifier = json!({ "system": system, "value": item.id.to_string() });
    let mut entries = Vec::new();
    let subject = match item.person.as_ref().and_then(|p| p.nhs_number.as_ref()) {
        Some(nhs) => {
            entries.push(patient(id("patient"), nhs));
            json!({ "reference": urn(id("patient")) })
        }
        None => json!({ "display": NOT_IDENTIFIED }),
    };
    let observations = observations(item, &subject, &id);
    let evidence: Vec<Value> = observations.iter().map(|o| json!({ "reference": full_url(o) })).collect();
    let (role, mut main, evidence_key, reply_key) = match item.kind {
        // R4 `inResponseTo` may only point at a Communication; an answer to a request is `basedOn` it.
        SharedKind::Idea => ("service-request", service_request(item, &subject), "supportingInfo", "basedOn"),
        SharedKind::Observation => ("communication", communication(item, &subject), "about", "inResponseTo"),
    };
    set(&mut main, "id", json!(id(role).to_string()));
    set(&mut main, "identifier", json!([identifier]));
    set(&mut main, evidence_key, json!(evidence));
    entries.push(main);
    entries.extend(observations);
    for r in &item.responses {
        let mut reply = json!({
            "resourceType": "Communication",
            "id": id(&format!("response-{}", r.key)).to_string(),
            "meta": { "profile": [profile("UKCore-Communication")] },
            "status": "completed",
            "subject": subject,
            "sent": date_time(r.at),
            "sender": { "display": format!("{} ({})", r.by, item.partner.name) },
            "recipient": [{ "display": item.provider.name }],
            "payload": [{ "contentString": format!("{}{}", r.outcome.label(), labelled(": ", &r.message)) }],
        });
        set(&mut reply, reply_key, json!([{ "reference": urn(id(role)) }]));
        entries.push(reply);
    }
    let entries: Vec<Value> = entries.into_iter().map(|r| json!({ "fullUrl": full_url(&r), "resource": r })).collect();
    let bundle = json!({
        "resourceType": "Bundle",
        "id": id("bundle").to_string(),
        "identifier": identifier,
        "type": "collection",
        "timestamp": date_time(item.shared_at),
        "entry": entries,
    });
    prune(bundle).unwrap_or_default()
}

/// FHIR JSON allows no null, empty string, array or object: drop them here, bottom-up, rather than
/// test every optional field where it is built.
fn prune(value: Value) -> Option<Value> {
    match value {
        Value::Null => None,
        Value::String(s) if s.trim().is_empty() => None,
        Value::Array(items) => Some(items.into_iter().filter_map(prune).collect::<Vec<_>>())
            .filter(|items| !items.is_empty())
            .map(Value::Array),
        Value::Object(map) => {
            Some(map.into_iter().filter_map(|(k, v)| prune(v).map(|v| (k, v))).collect::<Map<_, _>>())
                .filter(|map| !map.is_empty())
                .map(Value::Object)
        }
        other => Some(other),
    }
}

fn urn(id: Uuid) -> String {
    format!("urn:uuid:{id}")
}

fn full_url(resource: &Value) -> String {
    format!("urn:uuid:{}", resource["id"].as_str().unwrap_or_default())
}

fn profile(name: &str) -> String {
    format!("{UK_CORE}{name}")
}

fn set(resource: &mut Value, key: &str, value: Value) {
    if let Some(map) = resource.as_object_mut() {
        map.insert(key.to_string(), value);
    }
}

/// `prefix` + trimmed `text`, or nothing when there is no text.
fn labelled(prefix: &str, text: &str) -> String {
    if text.trim().is_empty() { String::new() } else { format!("{prefix}{}", text.trim()) }
}

fn date_time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

fn coding(system: &str, code: &str, display: &str) -> Value {
    json!({ "system": system, "code": code, "display": display })
}

fn patient(id: Uuid, nhs: &NhsNumber) -> Value {
    // "02": Doorstep checks the check digit but never traces the number against PDS.
    let system = "https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatusEngland";
    let status = json!({ "coding": [coding(system, "02", "Number present but not traced")] });
    let url = profile("Extension-UKCore-NHSNumberVerificationStatus");
    json!({
        "resourceType": "Patient",
        "id": id.to_string(),
        "meta": { "profile": [profile("UKCore-Patient")] },
        "identifier": [{
            "extension": [{ "url": url, "valueCodeableConcept": status }],
            "system": NHS_NUMBER_SYSTEM,
            "value": nhs.digits(),
        }],
    })
}

/// FHIR request-priority: `stat` is for emergencies, which go by phone (999), never a share.
fn priority(urgency: Urgency) -> &'static str {
    match urgency {
        Urgency::Routine => "routine",
        Urgency::Soon => "urgent",
        Urgency::Urgent => "asap",
    }
}

fn service_request(item: &SharedItem, subject: &Value) -> Value {
    let who: Vec<&str> = item.who_could_act.iter().map(|k| k.label()).collect();
    let notes = [
        labelled("", &item.detail),
        labelled("Suggested action: ", &item.suggested_action),
        labelled("Who could act: ", &who.join(", ")),
    ];
    json!({
        "resourceType": "ServiceRequest",
        "meta": { "profile": [profile("UKCore-ServiceRequest")] },
        "status": "active",
        "intent": "proposal",
        "priority": priority(item.urgency),
        "code": { "text": item.summary.trim() },
        "subject": subject,
        "authoredOn": date_time(item.shared_at),
        "requester": { "display": item.provider.name },
        "performer": [{ "display": item.partner.name }],
        "reasonCode": [{ "text": item.purpose }],
        "note": notes.map(|text| json!({ "text": text })),
    })
}

fn communication(item: &SharedItem, subject: &Value) -> Value {
    json!({
        "resourceType": "Communication",
        "meta": { "profile": [profile("UKCore-Communication")] },
        "status": "completed",
        "priority": priority(item.urgency),
        "subject": subject,
        "sent": date_time(item.shared_at),
        "sender": { "display": item.provider.name },
        "recipient": [{ "display": item.partner.name }],
        "reasonCode": [{ "text": item.purpose }],
        "payload": [{ "contentString": item.summary.trim() }, { "contentString": item.detail.trim() }],
    })
}

/// Numeric vital signs: (id role, UK Core vital-signs profile suffix, SNOMED CT concept, LOINC "magic"
/// codes, UCUM unit). UK Core wants SNOMED CT and LOINC together. Systolic alone takes the generic
/// profile: UKCore-...-BloodPressure needs the panel with a diastolic, which NEWS2 does not record.
type Vital = (&'static str, &'static str, [&'static str; 2], &'static [&'static str], [&'static str; 2]);
const VITALS: [Vital; 5] = [
    ("respiration-rate", "-RespirationRate", ["86290005", "Respiratory rate"], &["9279-1"], ["/min", "breaths/minute"]),
    (
        "oxygen-saturation",
        "-OxygenSaturation",
        ["431314004", "Peripheral oxygen saturation"],
        &["2708-6", "59408-5"],
        ["%", "%"],
    ),
    ("systolic-bp", "", ["271649006", "Systolic blood pressure"], &["8480-6"], ["mm[Hg]", "mmHg"]),
    ("heart-rate", "-HeartRate", ["364075005", "Heart rate"], &["8867-4"], ["/min", "beats/minute"]),
    ("temperature", "-BodyTemperature", ["276885007", "Core body temperature"], &["8310-5"], ["Cel", "degree Celsius"]),
];

/// One recorded reading: (id role, profile, category, code, value element, value).
type Reading = (&'static str, String, &'static str, Value, (&'static str, Value));

fn readings(v: &VitalSigns) -> Vec<Reading> {
    // Temperature at one decimal place, as the NEWS2 chart scores it.
    let temperature = v.temperature_c.and_then(temperature_tenths).map(|t| json!(t as f64 / 10.0));
    let values = [v.respiration_rate, v.spo2_percent, v.systolic_bp, v.pulse].map(|x| x.map(|x| json!(x)));
    let numbers = values.into_iter().chain([temperature]).zip(VITALS);
    let mut out: Vec<Reading> = numbers
        .filter_map(|(value, (role, suffix, [code, display], loinc, [ucum, unit]))| {
            let mut codings = vec![coding(SNOMED, code, display)];
            codings.extend(loinc.iter().map(|c| json!({ "system": LOINC, "code": c })));
            let quantity = json!({ "value": value?, "unit": unit, "system": UCUM, "code": ucum });
            let code = json!({ "coding": codings, "text": display });
            Some((
                role,
                format!("UKCore-Observation-VitalSigns{suffix}"),
                "vital-signs",
                code,
                ("valueQuantity", quantity),
            ))
        })
        .collect();
    // Not vital-signs codes, so not that category: R4 ties the category to the vital-signs profile.
    if let Some(on_oxygen) = v.on_oxygen {
        let (code, display) =
            if on_oxygen { ("371825009", "Patient on oxygen") } else { ("722742002", "Breathing room air") };
        let value = json!({ "coding": [coding(SNOMED, code, display)], "text": display });
        let code = json!({ "text": "Air or oxygen" });
        out.push(("air-or-oxygen", "UKCore-Observation".into(), "survey", code, ("valueCodeableConcept", value)));
    }
    if let Some(level) = v.consciousness {
        let acvpu = coding(SNOMED, "1104441000000107", "ACVPU (Alert Confusion Voice Pain Unresponsive) scale score");
        let (code, value) = (json!({ "coding": [acvpu], "text": "Consciousness" }), json!({ "text": level.label() }));
        out.push(("consciousness", "UKCore-Observation-ACVPU".into(), "survey", code, ("valueCodeableConcept", value)));
    }
    out
}

fn observations(item: &SharedItem, subject: &Value, id: &dyn Fn(&str) -> Uuid) -> Vec<Value> {
    let Some(obs) = &item.observations else { return Vec::new() };
    let make = |role: &str, profile_name: &str, category: &str, code: Value, (key, value): (&str, Value)| {
        let display = if category == "survey" { "Survey" } else { "Vital Signs" };
        let mut o = json!({
            "resourceType": "Observation",
            "id": id(role).to_string(),
            "meta": { "profile": [profile(profile_name)] },
            "status": "final",
            "category": [{ "coding": [coding(CATEGORY, category, display)] }],
            "code": code,
            "subject": subject,
            "effectiveDateTime": date_time(obs.observed_at),
            "performer": [{ "display": item.provider.name }],
        });
        set(&mut o, key, value);
        o
    };
    let mut out = Vec::new();
    // Impossible readings (a typing slip) are not exported as clinical data, as NEWS2 refuses them.
    if let Some(v) = obs.vitals.as_ref().filter(|v| v.validate().is_ok()) {
        out.extend(readings(v).into_iter().map(|(role, p, c, code, value)| make(role, &p, c, code, value)));
    }
    if let Some(News2Assessment::Scored(score)) = obs.news2() {
        let members: Vec<Value> = out.iter().map(|o| json!({ "reference": full_url(o) })).collect();
        let parts = score.parameters.iter();
        let parts: Vec<Value> = parts
            .map(|p| json!({ "code": { "text": format!("{} score", p.parameter) }, "valueInteger": p.score }))
            .collect();
        let display = "Royal College of Physicians NEWS2 (National Early Warning Score 2) total score";
        let code = json!({ "coding": [coding(SNOMED, "1104051000000101", display)], "text": "NEWS2 total score" });
        let mut news2 = make("news2", "UKCore-Observation", "survey", code, ("valueInteger", json!(score.total)));
        // derivedFrom, not hasMember: R4 keeps hasMember for panels, derivedFrom for calculated values.
        set(&mut news2, "derivedFrom", json!(members));
        set(&mut news2, "interpretation", json!([{ "text": format!("{} clinical risk", score.band.label()) }]));
        set(&mut news2, "component", json!(parts));
        out.insert(0, news2);
    }
    for sign in &obs.soft_signs {
        let value = format!("{}{}", sign.compared_to_usual.label(), labelled(": ", &sign.detail));
        let (role, code) = (format!("soft-sign-{}", sign.sign.code()), json!({ "text": sign.sign.label() }));
        out.push(make(&role, "UKCore-Observation", "survey", code, ("valueString", json!(value))));
    }
    out
}

/// Structural check of an exported Bundle: entries well formed, `urn:uuid` references resolve,
/// required elements present, no empty elements, dateTimes in FHIR format, and any Patient
/// carries only an NHS number.
pub fn validate_shape(bundle: &Value) -> Result<(), String> {
    if bundle["resourceType"] != "Bundle" || !bundle["type"].is_string() {
        return Err("not a Bundle with a type".into());
    }
    let entries = bundle["entry"].as_array().ok_or("Bundle has no entry array")?;
    let mut urls = HashSet::new();
    for (i, entry) in entries.iter().enumerate() {
        let full_url = entry["fullUrl"].as_str().ok_or_else(|| format!("entry {i}: no fullUrl"))?;
        let resource = &entry["resource"];
        let kind = resource["resourceType"].as_str().ok_or_else(|| format!("entry {i}: no resourceType"))?;
        let id = resource["id"].as_str().ok_or_else(|| format!("entry {i}: {kind} has no id"))?;
        if Uuid::parse_str(id).is_err() || full_url != format!("urn:uuid:{id}") {
            return Err(format!("entry {i}: fullUrl {full_url} does not match id {id}"));
        }
        if !urls.insert(full_url.to_string()) {
            return Err(format!("entry {i}: duplicate fullUrl {full_url}"));
        }
        let required: &[&str] = match kind {
            "Observation" => &["status", "code"],
            "ServiceRequest" => &["status", "intent", "subject"],
            "Communication" => &["status"],
            "Patient" => &["identifier"],
            other => return Err(format!("entry {i}: unexpected resource type {other}")),
        };
        if let Some(missing) = required.iter().find(|k| resource[**k].is_null()) {
            return Err(format!("entry {i}: {kind} has no {missing}"));
        }
        if kind == "Patient" {
            check_patient(resource).map_err(|e| format!("entry {i}: {e}"))?;
        }
    }
    walk(bundle, &urls)
}

fn check_patient(patient: &Value) -> Result<(), String> {
    let allowed = ["resourceType", "id", "meta", "identifier"];
    let fields = patient.as_object().into_iter().flat_map(Map::keys);
    if let Some(extra) = fields.into_iter().find(|k| !allowed.contains(&k.as_str())) {
        return Err(format!("Patient carries {extra}: only the NHS number may be shared"));
    }
    let ids = patient["identifier"].as_array().ok_or("Patient has no identifier")?;
    for ident in ids {
        let value = ident["value"].as_str().unwrap_or_default();
        if ident["system"] != NHS_NUMBER_SYSTEM || value.len() != 10 || !value.bytes().all(|b| b.is_ascii_digit()) {
            return Err("a Patient identifier is not an NHS number".into());
        }
    }
    Ok(())
}

fn walk(value: &Value, urls: &HashSet<String>) -> Result<(), String> {
    match value {
        Value::Null => Err("null element".into()),
        Value::String(s) if s.trim().is_empty() => Err("empty string".into()),
        Value::Array(items) if items.is_empty() => Err("empty array".into()),
        Value::Object(map) if map.is_empty() => Err("empty object".into()),
        Value::Object(map) => map.iter().try_for_each(|(key, v)| {
            if key == "reference"
                && let Some(r) = v.as_str().filter(|r| r.starts_with("urn:uuid:"))
                && !urls.contains(r)
            {
                return Err(format!("reference {r} does not resolve inside the Bundle"));
            }
            if DATE_KEYS.contains(&key.as_str()) && !v.as_str().is_some_and(is_date_time) {
                return Err(format!("{key} {v} is not a FHIR dateTime"));
            }
            walk(v, urls).map_err(|e| format!("{key}: {e}"))
        }),
        Value::Array(items) => items.iter().try_for_each(|v| walk(v, urls)),
        _ => Ok(()),
    }
}

/// FHIR dateTime: YYYY, YYYY-MM, YYYY-MM-DD, or a full time with seconds and a zone.
fn is_date_time(s: &str) -> bool {
    let shape = |s: &str, template: &str| {
        s.len() == template.len()
            && s.bytes().zip(template.bytes()).all(|(c, t)| if t == b'd' { c.is_ascii_digit() } else { c == t })
    };
    match s.split_once('T') {
        None => {
            shape(s, "dddd")
                || shape(s, "dddd-dd")
                || shape(s, "dddd-dd-dd") && NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok()
        }
        Some((date, time)) => {
            // `get`, not slicing: the input is arbitrary JSON and may not split on a char boundary.
            let tail = time.len().checked_sub(6).and_then(|i| time.get(i..)).unwrap_or_default();
            let zone_ok = time.ends_with('Z') || shape(&tail.replace('-', "+"), "+dd:dd");
            let clock_ok = time.get(..8).is_some_and(|t| shape(t, "dd:dd:dd"));
            shape(date, "dddd-dd-dd") && clock_ok && zone_ok && DateTime::parse_from_rfc3339(s).is_ok()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use doorstep_model::news2::SpO2Scale;
    use doorstep_model::shared::{ProviderRef, SharedObservations, SharedPerson};
    use doorstep_model::{
        Acvpu, Comparison, ConsentBasis, InsightId, PartnerKind, PartnerOrg, PartnerResponse, ResponseOutcome,
        SharedItemId, SoftSign, SoftSignObservation, StaffId,
    };

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + secs, 0).unwrap()
    }

    /// NEWS2 5: breathing 22 (2), SpO2 95 (1), air (0), systolic 105 (1), pulse 95 (1), alert, 37.0.
    fn vitals() -> VitalSigns {
        VitalSigns {
            respiration_rate: Some(22),
            spo2_percent: Some(95),
            on_oxygen: Some(false),
            systolic_bp: Some(105),
            pulse: Some(95),
            consciousness: Some(Acvpu::Alert),
            temperature_c: Some(37.0),
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

    fn item(kind: SharedKind, person: Option<SharedPerson>, vitals: Option<VitalSigns>) -> SharedItem {
        SharedItem {
            id: SharedItemId(Uuid::from_u128(7)),
            insight_id: InsightId(Uuid::from_u128(8)),
            provider: ProviderRef { id: Uuid::nil(), name: "Sunrise Care".into() },
            partner: PartnerOrg { id: Uuid::nil(), name: "Leeds ASC".into(), kind: PartnerKind::OtEquipment },
            raised_by: StaffId::new("C1"),
            shared_by: "M1".into(),
            shared_at: at(0),
            purpose: "So the OT can assess for a grab rail".into(),
            consent_basis: if person.is_some() { ConsentBasis::PersonConsented } else { ConsentBasis::NotIdentifiable },
            kind,
            urgency: Urgency::Soon,
            summary: "Grab rail by the back door".into(),
            detail: "Nearly fell twice this week".into(),
            suggested_action: "OT assessment".into(),
            who_could_act: vec![PartnerKind::OtEquipment],
            area: "LS6".into(),
            person,
            observations: Some(SharedObservations {
                observed_at: at(-3600),
                soft_signs: vec![SoftSignObservation {
                    sign: SoftSign::UnsteadyOrFall,
                    compared_to_usual: Comparison::Worse,
                    detail: "Holding the furniture".into(),
                }],
                vitals,
                spo2_scale: SpO2Scale::Scale1,
                age_years: Some(84),
                pregnant: false,
            }),
            responses: vec![PartnerResponse {
                admission_likely_avoided: None,
                key: "r1".into(),
                outcome: ResponseOutcome::ActionTaken,
                message: "OT visit booked Tuesday".into(),
                by: "Sam OT".into(),
                at: at(600),
            }],
            messages: Vec::new(),
            handled_by: None,
            out_of_area_reason: String::new(),
            revoked: None,
        }
    }

    fn resources<'a>(b: &'a Value, kind: &str) -> Vec<&'a Value> {
        let entries = b["entry"].as_array().unwrap();
        entries.iter().map(|e| &e["resource"]).filter(|r| r["resourceType"] == kind).collect()
    }

    fn coded<'a>(b: &'a Value, system: &str, code: &str) -> Option<&'a Value> {
        let has = |r: &&Value| {
            r["code"]["coding"].as_array().is_some_and(|c| c.iter().any(|c| c["system"] == system && c["code"] == code))
        };
        resources(b, "Observation").into_iter().find(has)
    }

    #[test]
    fn with_consent_the_patient_is_the_nhs_number_only() {
        let b =
            bundle(&item(SharedKind::Idea, Some(person(Some("943 476 5919"))), Some(vitals())), "https://hub.test/");
        validate_shape(&b).unwrap();
        let patients = resources(&b, "Patient");
        assert_eq!(patients.len(), 1);
        assert_eq!(patients[0]["identifier"][0]["value"], "9434765919");
        let patient_url = format!("urn:uuid:{}", patients[0]["id"].as_str().unwrap());
        let request = resources(&b, "ServiceRequest")[0];
        assert_eq!(request["subject"]["reference"], patient_url.as_str());
        assert_eq!(request["priority"], "urgent");
        assert_eq!(b["identifier"]["system"], "https://hub.test/fhir/Id/shared-item");
        let text = b.to_string();
        for leak in ["Margaret", "birthDate", "1940", "LS6", "Hyde Park", "garden", "\"name\""] {
            assert!(!text.contains(leak), "{leak} leaked");
        }
    }

    #[test]
    fn without_consent_or_nhs_number_there_is_no_patient() {
        for who in [None, Some(person(None))] {
            let b = bundle(&item(SharedKind::Idea, who, Some(vitals())), "https://hub.test");
            validate_shape(&b).unwrap();
            assert!(resources(&b, "Patient").is_empty());
            assert_eq!(resources(&b, "ServiceRequest")[0]["subject"]["display"], NOT_IDENTIFIED);
            let text = b.to_string();
            for leak in ["Margaret", "birthDate", "nhs-number", "LS6"] {
                assert!(!text.contains(leak), "{leak} leaked");
            }
        }
    }

    #[test]
    fn vitals_carry_loinc_codes_and_news2_scores_them() {
        let b = bundle(&item(SharedKind::Idea, None, Some(vitals())), "https://hub.test");
        for (code, unit) in
            [("9279-1", "/min"), ("59408-5", "%"), ("8480-6", "mm[Hg]"), ("8867-4", "/min"), ("8310-5", "Cel")]
        {
            let obs = coded(&b, LOINC, code).unwrap_or_else(|| panic!("no LOINC {code}"));
            assert_eq!(obs["valueQuantity"]["code"], unit);
            assert_eq!(obs["valueQuantity"]["system"], UCUM);
            assert_eq!(obs["effectiveDateTime"], "2023-11-14T21:13:20Z");
        }
        let news2 = coded(&b, SNOMED, "1104051000000101").unwrap();
        assert_eq!(news2["valueInteger"], 5);
        assert_eq!(news2["derivedFrom"].as_array().unwrap().len(), 7);
        assert_eq!(news2["interpretation"][0]["text"], "Medium clinical risk");
        let request = resources(&b, "ServiceRequest")[0];
        assert_eq!(request["supportingInfo"].as_array().unwrap().len(), 9, "NEWS2, 7 readings, 1 soft sign");
    }

    #[test]
    fn incomplete_vitals_are_exported_without_a_news2_total() {
        let partial = VitalSigns { pulse: Some(72), ..VitalSigns::default() };
        let b = bundle(&item(SharedKind::Idea, None, Some(partial)), "https://hub.test");
        validate_shape(&b).unwrap();
        assert!(coded(&b, SNOMED, "1104051000000101").is_none());
        assert_eq!(coded(&b, LOINC, "8867-4").unwrap()["valueQuantity"]["value"], 72);
        let impossible = VitalSigns { pulse: Some(400), ..vitals() };
        let b = bundle(&item(SharedKind::Idea, None, Some(impossible)), "https://hub.test");
        assert!(coded(&b, LOINC, "8867-4").is_none(), "a typing slip is not exported");
    }

    #[test]
    fn soft_signs_and_responses_are_exported() {
        let b = bundle(&item(SharedKind::Idea, None, None), "https://hub.test");
        validate_shape(&b).unwrap();
        let sign =
            resources(&b, "Observation").into_iter().find(|o| o["code"]["text"] == SoftSign::UnsteadyOrFall.label());
        assert_eq!(sign.unwrap()["valueString"], "Worse than usual: Holding the furniture");
        let request_url = format!("urn:uuid:{}", resources(&b, "ServiceRequest")[0]["id"].as_str().unwrap());
        let reply = resources(&b, "Communication")[0];
        assert_eq!(reply["basedOn"][0]["reference"], request_url.as_str());
        assert_eq!(reply["payload"][0]["contentString"], "Action taken: OT visit booked Tuesday");
        assert_eq!(reply["sent"], "2023-11-14T22:23:20Z");
    }

    #[test]
    fn an_observation_is_a_communication_and_answers_respond_to_it() {
        let b = bundle(&item(SharedKind::Observation, None, Some(vitals())), "https://hub.test");
        validate_shape(&b).unwrap();
        assert!(resources(&b, "ServiceRequest").is_empty());
        let comms = resources(&b, "Communication");
        assert_eq!(comms.len(), 2);
        assert_eq!(comms[0]["payload"][0]["contentString"], "Grab rail by the back door");
        assert_eq!(comms[1]["inResponseTo"][0]["reference"], format!("urn:uuid:{}", comms[0]["id"].as_str().unwrap()));
    }

    #[test]
    fn the_same_item_always_exports_the_same_ids() {
        let one = item(SharedKind::Idea, Some(person(Some("9434765919"))), Some(vitals()));
        assert_eq!(bundle(&one, "https://hub.test"), bundle(&one.clone(), "https://hub.test"));
        let other = SharedItem { id: SharedItemId(Uuid::from_u128(9)), ..one.clone() };
        let patient_id = |i: &SharedItem| resources(&bundle(i, "https://hub.test"), "Patient")[0]["id"].clone();
        assert_ne!(patient_id(&one), patient_id(&other), "two items about one person cannot be joined");
    }

    #[test]
    fn validate_shape_catches_broken_bundles() {
        let good =
            bundle(&item(SharedKind::Idea, Some(person(Some("9434765919"))), Some(vitals())), "https://hub.test");
        let broken = |f: &dyn Fn(&mut Value)| {
            let mut b = good.clone();
            f(&mut b);
            validate_shape(&b).is_err()
        };
        assert!(broken(&|b| b["entry"][1]["resource"]["subject"]["reference"] = json!("urn:uuid:nowhere")));
        assert!(broken(&|b| b["timestamp"] = json!("14/11/2023")));
        assert!(broken(&|b| b["entry"][0]["resource"]["birthDate"] = json!("1940-03-01")));
        assert!(broken(&|b| b["entry"][1]["resource"]["intent"] = Value::Null));
        assert!(broken(&|b| b["entry"][2]["fullUrl"] = json!("urn:uuid:00000000-0000-0000-0000-000000000000")));
        for ok in ["2023", "2023-11", "2023-11-14", "2023-11-14T21:13:20Z", "2023-11-14T21:13:20.5+01:00"] {
            assert!(is_date_time(ok), "{ok}");
        }
        for bad in
            ["2023-13-01", "2023-11-14T21:13Z", "2023-11-14T21:13:20", "2023-11-14 21:13:20Z", "2023-11-14T21:1é"]
        {
            assert!(!is_date_time(bad), "{bad}");
        }
    }
}
