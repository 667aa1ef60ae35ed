//! The Automerge sync protocol as the hub and the devices run it for one document (feature
//! `automerge`): the fallback when the hub lacks a document's history (after a restore).
//!
//! Both sides load the document from storage for each round and keep only what they could
//! apply, so a change that arrives before the change it builds on is dropped, not queued. The
//! protocol would then never send it again: it remembers every change it has sent
//! (`sent_hashes`) and skips those. A change can arrive early whenever the other side's Bloom
//! filter falsely claims to have its predecessor (about 1 in 100 per change, and change hashes
//! differ every run) — which is how a restored hub's sync once "did not settle" at random.

use automerge::sync::State;

/// Call before generating a message: the changes the other side says it still needs are sent
/// again, even if they were sent before (it dropped them).
pub fn resend_what_they_need(state: &mut State) {
    if let Some(need) = &state.their_need {
        for hash in need {
            state.sent_hashes.remove(hash);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use automerge::sync::{Message, State, SyncDoc};
    use automerge::transaction::Transactable;
    use automerge::{AutoCommit, ROOT};

    use super::resend_what_they_need;

    /// A peer that keeps only what it could apply: its document is reloaded from its saved bytes
    /// each round, as the hub and the device store do.
    struct Reloading {
        saved: Vec<u8>,
        state: State,
    }

    impl Reloading {
        fn round(&mut self, message: Option<Message>, fix: bool) -> Option<Message> {
            let mut doc = AutoCommit::load(&self.saved).unwrap();
            if let Some(message) = message {
                doc.sync().receive_sync_message(&mut self.state, message).unwrap();
            }
            self.saved = doc.save();
            if fix {
                resend_what_they_need(&mut self.state);
            }
            doc.sync().generate_sync_message(&mut self.state)
        }
    }

    /// Device A has changes 1, 2, 3; the hub B has only 1. A has (as after a false positive in
    /// B's Bloom filter) already counted change 2 as sent, so change 3 arrives alone and is
    /// dropped. Returns whether the two reach the same heads within 32 rounds.
    fn settles(fix: bool) -> bool {
        let mut a = AutoCommit::new();
        a.put(ROOT, "words", "first").unwrap();
        a.commit();
        let b_saved = a.save();
        a.put(ROOT, "words", "second").unwrap();
        let second = a.commit().unwrap();
        a.put(ROOT, "words", "third").unwrap();
        a.commit();
        let mut a = Reloading { saved: a.save(), state: State::new() };
        a.state.sent_hashes.insert(second);
        let mut b = Reloading { saved: b_saved, state: State::new() };
        let mut to_b = a.round(None, fix);
        for _ in 0..32 {
            let to_a = b.round(to_b.take(), fix);
            let quiet = to_a.is_none();
            to_b = a.round(to_a, fix);
            if quiet && to_b.is_none() {
                break;
            }
        }
        let heads = |saved: &[u8]| AutoCommit::load(saved).unwrap().get_heads();
        heads(&a.saved) == heads(&b.saved)
    }

    #[test]
    fn a_dropped_change_is_sent_again_when_the_other_side_still_needs_it() {
        assert!(!settles(false), "without resending, the exchange stalls (the bug this guards against)");
        assert!(settles(true));
    }
}
