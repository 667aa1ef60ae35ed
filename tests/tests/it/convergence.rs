//! Property: whatever concurrent edits 2–5 replicas make to one visit note, and in whatever
//! order they exchange them, once everyone has everything they hold the same note and the same
//! projections (timeline, deterioration watch, search). Each replica is a real store file.

use chrono::NaiveDate;
use doorstep_demo::{Generator, at};
use doorstep_model::note::{Comparison, Mood, SoftSign, SoftSignObservation};
use doorstep_model::{NoteId, RecordKind, VisitNote};
use doorstep_store::Store;
use proptest::prelude::*;
use tempfile::TempDir;

#[derive(Debug, Clone)]
enum Edit {
    Insert { at: f64, text: String },
    Delete { at: f64, len: usize },
    Sign { sign: usize, comparison: usize, detail: String },
    Unsign { sign: usize },
    Mood(usize),
}

#[derive(Debug, Clone)]
enum Step {
    Edit { replica: usize, edit: Edit },
    Send { from: usize, to: usize },
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        4 => (0.0..=1.0f64, "[a-z ]{1,6}").prop_map(|(at, text)| Edit::Insert { at, text }),
        2 => (0.0..=1.0f64, 1usize..4).prop_map(|(at, len)| Edit::Delete { at, len }),
        2 => (0usize..11, 0usize..3, "[a-z]{0,4}").prop_map(|(sign, comparison, detail)| Edit::Sign { sign, comparison, detail }),
        1 => (0usize..11).prop_map(|sign| Edit::Unsign { sign }),
        1 => (0usize..5).prop_map(Edit::Mood),
    ]
}

fn scenario() -> impl Strategy<Value = (usize, Vec<Step>)> {
    (2usize..=5).prop_flat_map(|replicas| {
        let step = prop_oneof![
            3 => (0..replicas, edit()).prop_map(|(replica, edit)| Step::Edit { replica, edit }),
            1 => (0..replicas, 0..replicas).prop_map(|(from, to)| Step::Send { from, to }),
        ];
        (Just(replicas), prop::collection::vec(step, 1..24))
    })
}

fn apply(note: &mut VisitNote, edit: &Edit) {
    let chars: Vec<char> = note.narrative.chars().collect();
    let pos = |at: f64| ((chars.len() as f64) * at).round() as usize;
    match edit {
        Edit::Insert { at, text } => {
            let p = pos(*at).min(chars.len());
            let mut out: String = chars[..p].iter().collect();
            out.push_str(text);
            out.extend(&chars[p..]);
            note.narrative = out;
        }
        Edit::Delete { at, len } => {
            let p = pos(*at).min(chars.len());
            let end = (p + len).min(chars.len());
            note.narrative = chars[..p].iter().chain(&chars[end..]).collect();
        }
        Edit::Sign { sign, comparison, detail } => note.observe(SoftSignObservation {
            sign: SoftSign::ALL[*sign],
            compared_to_usual: [Comparison::SameAsUsual, Comparison::Worse, Comparison::New][*comparison],
            detail: detail.clone(),
        }),
        Edit::Unsign { sign } => note.soft_signs.retain(|s| s.sign != SoftSign::ALL[*sign]),
        Edit::Mood(m) => note.mood = Some([Mood::Happy, Mood::Settled, Mood::Low, Mood::Anxious, Mood::Distressed][*m]),
    }
}

fn send(stores: &mut [Store], from: usize, to: usize, kind: RecordKind, id: &str) {
    if from == to {
        return;
    }
    let bytes = stores[from].document_bytes(kind, id).expect("save");
    stores[to].apply_changes(kind, id, &bytes).expect("merge");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

    #[test]
    fn concurrent_note_edits_converge_on_every_replica((replicas, steps) in scenario()) {
        let dir = TempDir::new().expect("temp dir");
        let today = NaiveDate::from_ymd_opt(2026, 11, 23).expect("date");
        let mut generator = Generator::new(1);
        let person = generator.person();
        let visit = generator.visit(&person, at(today, 9, 0));
        let note_id = NoteId::for_visit(visit.id).to_string();

        let mut stores: Vec<Store> = (0..replicas)
            .map(|i| Store::open(dir.path().join(format!("replica-{i}.db"))).expect("open"))
            .collect();
        stores[0].put(&person).expect("person");
        stores[0].put(&visit).expect("visit");
        for i in 1..replicas {
            send(&mut stores, 0, i, RecordKind::Person, &person.id.to_string());
            send(&mut stores, 0, i, RecordKind::Visit, &visit.id.to_string());
        }
        // Every replica starts the note on its own, offline.
        for store in &mut stores {
            store.put(&VisitNote::new(NoteId::for_visit(visit.id), visit.id, person.id)).expect("start note");
        }

        for step in &steps {
            match step {
                Step::Edit { replica, edit } => {
                    stores[*replica]
                        .update::<VisitNote>(&note_id, |note| {
                            apply(note, edit);
                            Ok(())
                        })
                        .expect("edit");
                }
                Step::Send { from, to } => send(&mut stores, *from, *to, RecordKind::Note, &note_id),
            }
        }
        // Everyone meets everyone.
        for from in 0..replicas {
            for to in 0..replicas {
                send(&mut stores, from, to, RecordKind::Note, &note_id);
            }
        }

        let first: VisitNote = stores[0].get(&note_id).expect("read");
        let first_view = stores[0].person_overview(&person.id.to_string()).expect("overview");
        let first_hits = stores[0].search("a", 50).expect("search").len();
        for store in &stores[1..] {
            let note: VisitNote = store.get(&note_id).expect("read");
            prop_assert_eq!(&note, &first);
            let view = store.person_overview(&person.id.to_string()).expect("overview");
            prop_assert_eq!(&view.timeline, &first_view.timeline);
            prop_assert_eq!(&view.watch, &first_view.watch);
            prop_assert_eq!(store.search("a", 50).expect("search").len(), first_hits);
            prop_assert_eq!(
                store.heads(RecordKind::Note, &note_id).expect("heads"),
                stores[0].heads(RecordKind::Note, &note_id).expect("heads")
            );
        }
    }
}

/// The concrete story behind the property: two carers on a double-up type apart.
#[test]
fn two_carers_typing_apart_both_keep_their_words() {
    let dir = TempDir::new().expect("temp dir");
    let today = NaiveDate::from_ymd_opt(2026, 11, 23).expect("date");
    let mut generator = Generator::new(2);
    let person = generator.person();
    let visit = generator.visit(&person, at(today, 13, 0));
    let id = NoteId::for_visit(visit.id);
    let mut stores = vec![
        Store::open(dir.path().join("sam.db")).expect("open"),
        Store::open(dir.path().join("priya.db")).expect("open"),
    ];
    for (store, words) in stores.iter_mut().zip(["Sam: helped Harold wash.", "Priya: Harold ate well."]) {
        let mut note = VisitNote::new(id, visit.id, person.id);
        note.narrative = words.to_string();
        store.put(&note).expect("write");
    }
    send(&mut stores, 0, 1, RecordKind::Note, &id.to_string());
    send(&mut stores, 1, 0, RecordKind::Note, &id.to_string());
    let a: VisitNote = stores[0].get(&id.to_string()).expect("read");
    let b: VisitNote = stores[1].get(&id.to_string()).expect("read");
    assert_eq!(a, b);
    assert!(a.narrative.contains("Sam: helped Harold wash."), "{}", a.narrative);
    assert!(a.narrative.contains("Priya: Harold ate well."), "{}", a.narrative);
}
