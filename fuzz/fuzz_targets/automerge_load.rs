//! Loading an Automerge document as the hub and the store do (strictly), then reading it as each
//! kind of record and checking it: any bytes give a record or an error, never a panic.
#![no_main]

use automerge::{AutoCommit, LoadOptions, OnPartialLoad, VerificationMode};
use doorstep_model::{Insight, Person, SharedItem, Visit, VisitNote};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let options =
        LoadOptions::new().on_partial_load(OnPartialLoad::Error).verification_mode(VerificationMode::DontCheck);
    let Ok(doc) = AutoCommit::load_with_options(data, options) else { return };
    if let Ok(p) = autosurgeon::hydrate::<_, Person>(&doc) {
        let _ = p.name.display();
    }
    if let Ok(v) = autosurgeon::hydrate::<_, Visit>(&doc) {
        let _ = v.validate();
    }
    if let Ok(n) = autosurgeon::hydrate::<_, VisitNote>(&doc)
        && let Some(vitals) = &n.vitals
    {
        let _ = vitals.validate();
    }
    if let Ok(i) = autosurgeon::hydrate::<_, Insight>(&doc) {
        let _ = i.validate();
    }
    if let Ok(s) = autosurgeon::hydrate::<_, SharedItem>(&doc) {
        let _ = s.validate();
        let _ = s.sbard();
    }
});
