//! The hub's half of each device's Automerge sync conversation about one document, between
//! requests. Bounded and expiring, and never locked across a request's work: a request takes
//! its state out, works, and puts it back. Losing a state (expired, evicted, or taken by a second
//! request at the same moment) only costs a longer conversation: Automerge's sync protocol
//! starts again from an empty state.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use automerge::sync::State;
use uuid::Uuid;

/// At most this many conversations are kept (a few kilobytes each).
pub const MAX_STATES: usize = 10_000;
/// A conversation untouched this long is forgotten.
pub const STATE_TTL: Duration = Duration::from_secs(10 * 60);

type Key = (Uuid, Uuid);

#[derive(Default)]
pub struct DocSyncStates {
    states: Mutex<HashMap<Key, (State, Instant)>>,
}

impl DocSyncStates {
    /// The conversation of `device` about `doc`, taken out (a fresh one if none is kept).
    pub fn take(&self, device: Uuid, doc: Uuid) -> State {
        let mut states = self.states.lock().unwrap_or_else(|p| p.into_inner());
        match states.remove(&(device, doc)) {
            Some((state, at)) if at.elapsed() < STATE_TTL => state,
            _ => State::new(),
        }
    }

    /// Keeps the conversation for the next request, making room if needed: expired ones go
    /// first, then the least recently used.
    pub fn put(&self, device: Uuid, doc: Uuid, state: State) {
        let mut states = self.states.lock().unwrap_or_else(|p| p.into_inner());
        if states.len() >= MAX_STATES {
            states.retain(|_, (_, at)| at.elapsed() < STATE_TTL);
        }
        if states.len() >= MAX_STATES
            && let Some(oldest) = states.iter().min_by_key(|(_, (_, at))| *at).map(|(k, _)| *k)
        {
            states.remove(&oldest);
        }
        states.insert((device, doc), (state, Instant::now()));
    }

    pub fn len(&self) -> usize {
        self.states.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_more_than_the_cap_and_the_newest_stay() {
        let states = DocSyncStates::default();
        let device = Uuid::new_v4();
        let docs: Vec<Uuid> = (0..MAX_STATES + 50).map(|_| Uuid::new_v4()).collect();
        for doc in &docs {
            states.put(device, *doc, State::new());
        }
        assert_eq!(states.len(), MAX_STATES);
        let newest = docs.last().copied().unwrap_or_default();
        let _ = states.take(device, newest);
        assert_eq!(states.len(), MAX_STATES - 1, "the newest was kept, and taking removes it");
    }

    #[test]
    fn taking_leaves_nothing_behind_to_lock() {
        let states = DocSyncStates::default();
        let (device, doc) = (Uuid::new_v4(), Uuid::new_v4());
        let mut state = states.take(device, doc);
        state.shared_heads = vec![automerge::ChangeHash([7; 32])];
        states.put(device, doc, state);
        // A second request at the same time would get a fresh state, not wait.
        assert_eq!(states.take(device, doc).shared_heads, vec![automerge::ChangeHash([7; 32])]);
        assert!(states.take(device, doc).shared_heads.is_empty());
    }
}
