//! Randomised schedules: 3–5 devices edit notes, sync, and drop offline in any order, through a
//! real hub. At the end, once everyone is back online and has synced, every device holds the
//! same notes and no typed word is lost.
//!
//! CI runs a small number of schedules; set `PROPTEST_CASES=500` for a long run.

use std::collections::BTreeSet;

use doorstep_demo::{Generator, at};
use doorstep_hub::sqlite::SqliteStorage;
use doorstep_model::{NoteId, VisitNote};
use doorstep_protocol::Role;
use doorstep_tests::{TestDevice, TestHub, today};
use proptest::prelude::*;
use tempfile::TempDir;

const NOTES: usize = 2;

#[derive(Debug, Clone)]
enum Step {
    /// Device types a word into a note at a relative position.
    Type {
        device: usize,
        note: usize,
        at: f64,
    },
    Sync {
        device: usize,
    },
    GoOffline {
        device: usize,
    },
    ComeBack {
        device: usize,
    },
}

fn schedule() -> impl Strategy<Value = (usize, Vec<Step>)> {
    (3usize..=5).prop_flat_map(|devices| {
        let step = prop_oneof![
            4 => (0..devices, 0..NOTES, 0.0..=1.0f64).prop_map(|(device, note, at)| Step::Type { device, note, at }),
            3 => (0..devices).prop_map(|device| Step::Sync { device }),
            1 => (0..devices).prop_map(|device| Step::GoOffline { device }),
            1 => (0..devices).prop_map(|device| Step::ComeBack { device }),
        ];
        (Just(devices), prop::collection::vec(step, 5..40))
    })
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(12)
}

async fn run(devices: usize, steps: Vec<Step>) -> Result<(), TestCaseError> {
    let dir = TempDir::new().expect("temp dir");
    let hub = TestHub::start(SqliteStorage::open(&dir.path().join("hub.db")).expect("hub")).await;
    let mut fleet: Vec<TestDevice> = Vec::new();
    for i in 0..devices {
        fleet.push(hub.device(dir.path(), &format!("M{i:03}"), Role::Manager).await);
    }
    // The office sets up two visits; everyone starts with them.
    let mut generator = Generator::new(11);
    let person = generator.person();
    let visits: Vec<_> = (0..NOTES).map(|n| generator.visit(&person, at(today(), 9 + n as u32, 0))).collect();
    {
        let mut store = fleet[0].store.lock().await;
        store.put(&person).expect("person");
        for v in &visits {
            store.put(v).expect("visit");
        }
    }
    fleet[0].sync().await;
    for device in &fleet {
        device.sync().await;
    }

    let mut online = vec![true; devices];
    let mut typed: BTreeSet<String> = BTreeSet::new();
    for (n, step) in steps.iter().enumerate() {
        match *step {
            Step::Type { device, note, at } => {
                let visit = &visits[note];
                let word = format!(" w{n}d{device} ");
                typed.insert(word.trim().to_string());
                let id = NoteId::for_visit(visit.id);
                let mut store = fleet[device].store.lock().await;
                let mut current =
                    store.get::<VisitNote>(&id.to_string()).unwrap_or_else(|_| VisitNote::new(id, visit.id, person.id));
                let chars: Vec<char> = current.narrative.chars().collect();
                // Type between words, never inside one (that would split a word, not lose it).
                let target = ((chars.len() as f64) * at).round() as usize;
                let pos = (target..chars.len()).find(|&i| chars[i] == ' ').unwrap_or(chars.len());
                let mut text: String = chars[..pos.min(chars.len())].iter().collect();
                text.push_str(&word);
                text.extend(&chars[pos.min(chars.len())..]);
                current.narrative = text;
                store.put(&current).expect("type");
            }
            Step::Sync { device } if online[device] => {
                fleet[device].sync().await;
            }
            Step::Sync { .. } => {}
            Step::GoOffline { device } => online[device] = false,
            Step::ComeBack { device } => online[device] = true,
        }
    }
    // Everyone back in signal: two rounds reach everyone.
    for _ in 0..2 {
        for device in &fleet {
            device.sync().await;
        }
    }
    for visit in &visits {
        let id = NoteId::for_visit(visit.id).to_string();
        let mut seen = Vec::new();
        for device in &fleet {
            seen.push(device.store.lock().await.get::<VisitNote>(&id).ok());
        }
        for other in &seen[1..] {
            prop_assert_eq!(other, &seen[0]);
        }
    }
    let all_text: String = {
        let store = fleet[0].store.lock().await;
        visits
            .iter()
            .filter_map(|v| store.get::<VisitNote>(&NoteId::for_visit(v.id).to_string()).ok())
            .map(|n| n.narrative)
            .collect::<Vec<_>>()
            .join(" ")
    };
    for word in &typed {
        prop_assert!(all_text.split_whitespace().any(|w| w == word), "lost {word}: {all_text}");
    }
    for device in &fleet {
        prop_assert_eq!(device.store.lock().await.local_sync_state().expect("state").pending, 0);
    }
    hub.stop().await;
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn any_schedule_of_edits_syncs_and_outages_converges_with_nothing_lost((devices, steps) in schedule()) {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
        runtime.block_on(run(devices, steps))?;
    }
}
