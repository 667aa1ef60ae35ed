//! The sync protocol between a device and the hub.
//!
//! One exchange, in the common case: the device sends its cursor (the last hub sequence it has
//! applied) and the Automerge changes it made since the hub last acknowledged them; the hub
//! stores them and answers with every change the device may see after the cursor, the new
//! cursor, and what the device must purge. Bodies are binary (postcard): Automerge changes are
//! already compressed, so the envelope must add as little as possible.
//!
//! Endpoints (all under [`API_PREFIX`]):
//! - `POST /enrol` — JSON [`EnrolRequest`] → [`EnrolResponse`]
//! - `POST /sync` — [`SyncRequest`] → [`SyncResponse`] (binary, bearer token; [`HUB_EPOCH_HEADER`])
//! - `POST /docs/{id}/sync` — one Automerge sync-protocol message each way ([`DocSyncRequest`])
//! - `POST /enrolment-codes`, `POST /devices/{id}/revoke` — managers (JSON, bearer token)
//! - `GET /health`
//!
//! Errors are JSON [`ApiError`] with a stable `code`.

use doorstep_model::RecordKind;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub const API_PREFIX: &str = "/api/v1";
/// Content type of binary sync bodies.
pub const SYNC_CONTENT_TYPE: &str = "application/vnd.doorstep.sync+postcard";
/// Header on `/sync`, both ways: the device sends the hub epoch it last synced with (none on its
/// first sync); the hub always answers with its own. They differ after the hub was restored from
/// a backup: the hub then starts the device's feed again from the beginning and the device sends
/// every record again, so nothing the backup lacks is lost. A header, not a field, so devices
/// and hubs from before it still understand each other's bodies.
pub const HUB_EPOCH_HEADER: &str = "doorstep-hub-epoch";

/// Header on the hub's answer to `/sync`: the version of the rules the hub checks records
/// against ([`HUB_RULES`] on a hub of this version), then a dot and how many times the device's
/// organisation's managers asked for held-back records again. When it changes, a device tries
/// again the records the hub held back before, which may now be accepted.
pub const HUB_RULES_HEADER: &str = "doorstep-hub-rules";

/// Header on a device's `/sync`: how many records the hub held back that the device still keeps
/// (it does not send them again until something changes), so the office sees which tablets hold
/// records back even when a sync pushes nothing.
pub const HELD_BACK_HEADER: &str = "doorstep-held-back";

/// The version of the hub's acceptance rules; raise it when a change to them may accept a
/// record an earlier hub held back.
pub const HUB_RULES: &str = "1";

pub use doorstep_model::Role;

/// The Automerge changes of one document: what a device pushes, or what the hub sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocChanges {
    pub id: Uuid,
    pub kind: RecordKind,
    /// Concatenated Automerge change chunks, or a whole saved document.
    pub bytes: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncRequest {
    /// The last hub sequence number this device has applied (0: none).
    pub cursor: u64,
    pub push: Vec<DocChanges>,
    /// The most bytes of changes the device wants in one answer (the hub may cap it lower).
    pub max_bytes: u32,
    /// Every record the device keeps back because the hub would not take it (it does not send
    /// them again until something changes): the office lists them per device, and may ask for
    /// one to be discarded. At most [`MAX_HELD_BACK_NOTES`] are read.
    pub held_back: Vec<HeldBackNote>,
}

/// The most held-back records one request reports; the rest wait for the next.
pub const MAX_HELD_BACK_NOTES: usize = 500;

/// A record a device keeps back, as it reports it: which, what kind, and the reason the hub
/// gave (plain words, at most [`MAX_HELD_BACK_REASON`] characters are kept).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldBackNote {
    pub id: Uuid,
    pub kind: RecordKind,
    pub reason: String,
}

pub const MAX_HELD_BACK_REASON: usize = 200;

/// Why the hub did not take a document's changes. Everything else in the request was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum HoldReason {
    /// The bytes are not valid Automerge changes, or do not make a valid record.
    Corrupt,
    /// This device may not write that document.
    Forbidden,
    /// Larger than the hub accepts for one document in one request.
    TooLarge,
    /// The hub lacks changes these depend on (e.g. it was restored from a backup): run the
    /// Automerge sync protocol for this document.
    NeedsDocSync,
}

impl HoldReason {
    pub fn explain(self) -> &'static str {
        match self {
            HoldReason::Corrupt => "the record is damaged and the hub could not read it",
            HoldReason::Forbidden => "this device is not allowed to change this record",
            HoldReason::TooLarge => "the record is too large to send in one go",
            HoldReason::NeedsDocSync => "the hub is missing earlier changes; they will be sent again",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldBack {
    pub id: Uuid,
    pub reason: HoldReason,
    pub detail: String,
}

/// A document the device must delete (after anything unsynced in it has been sent).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Purge {
    pub id: Uuid,
    pub kind: RecordKind,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncResponse {
    /// Pushed documents whose changes the hub did not take, and why. Every other pushed
    /// document is held by the hub now (not listed, to keep the answer small).
    pub held_back: Vec<HeldBack>,
    /// Changes visible to this device after the request's cursor (whole documents for records
    /// it has just been given).
    pub pull: Vec<DocChanges>,
    pub purge: Vec<Purge>,
    /// Apply `pull` and `purge`, then store this as the cursor.
    pub cursor: u64,
    /// More pages are waiting: ask again with the new cursor.
    pub more: bool,
    /// Roughly how many documents are still to come (for progress).
    pub remaining: u64,
    /// Held-back records the office decided to discard: the device drops its own changes to
    /// each and takes the hub's copy, if there is one it may read.
    #[serde(default)]
    pub discard: Vec<Uuid>,
}

/// One round of the Automerge sync protocol for one document (the fallback when heads
/// disagree).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocSyncRequest {
    pub kind: RecordKind,
    /// An encoded `automerge::sync::Message`, or empty when the device has nothing to say.
    pub message: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocSyncResponse {
    /// The hub's next message, or empty when the hub has nothing more to say.
    pub message: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrolRequest {
    pub code: String,
    pub device_name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrolResponse {
    pub device_id: Uuid,
    /// Shown once: the hub keeps only its hash.
    pub token: String,
    pub organisation_id: Uuid,
    pub organisation_name: String,
    pub staff_ref: String,
    pub role: Role,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrolmentCodeRequest {
    pub staff_ref: String,
    pub role: Role,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrolmentCodeResponse {
    pub code: String,
    pub expires_at: String,
}

/// Every error the API returns, as JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    /// Stable, for programs: `unauthorised`, `revoked`, `forbidden`, `not_found`, `bad_request`,
    /// `too_large`, `unsupported_media_type`, `method_not_allowed`, `too_many_requests`, `conflict`,
    /// `internal`.
    pub code: String,
    /// For people.
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("cannot decode the message: {0}")]
    Postcard(#[from] postcard::Error),
    #[error("cannot decompress the message: {0}")]
    Deflate(#[from] std::io::Error),
    #[error("the message is larger than {0} bytes once decompressed")]
    TooLarge(usize),
    #[error("the message goes on for {0} bytes after its end (another version of the protocol?)")]
    TrailingBytes(usize),
}

/// The `Content-Encoding` of compressed sync bodies (zlib, as HTTP's "deflate").
pub const CONTENT_ENCODING: &str = "deflate";

/// Compresses a sync body when that makes it smaller: several documents' changes share actor
/// ids and hashes, which compress. Returns the bytes to send and whether they are compressed.
pub fn compress(body: Vec<u8>) -> (Vec<u8>, bool) {
    use std::io::Write;
    if body.len() < 128 {
        return (body, false);
    }
    let mut encoder =
        flate2::write::ZlibEncoder::new(Vec::with_capacity(body.len() / 2), flate2::Compression::default());
    match encoder.write_all(&body).and_then(|()| encoder.finish()) {
        Ok(compressed) if compressed.len() < body.len() => (compressed, true),
        _ => (body, false),
    }
}

/// Decompresses a body someone sent, refusing to grow it past `limit` bytes (a small body
/// must not unpack into a huge one).
pub fn decompress(bytes: &[u8], limit: usize) -> Result<Vec<u8>, DecodeError> {
    use std::io::Read;
    let mut out = Vec::new();
    let mut decoder = flate2::read::ZlibDecoder::new(bytes).take(limit as u64 + 1);
    decoder.read_to_end(&mut out)?;
    if out.len() > limit {
        return Err(DecodeError::TooLarge(limit));
    }
    Ok(out)
}

/// Encodes a binary body.
pub fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    // Serialising our own plain structs to a Vec cannot fail.
    postcard::to_stdvec(value).unwrap_or_default()
}

/// Decodes a binary body someone sent: any bytes give a value or an error, never a panic.
/// The whole body must be the message: bytes left over mean it was not made as this version
/// makes it, and guessing at what they meant could misread it.
pub fn decode<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> Result<T, DecodeError> {
    let (value, rest) = postcard::take_from_bytes(bytes)?;
    if !rest.is_empty() {
        return Err(DecodeError::TrailingBytes(rest.len()));
    }
    Ok(value)
}

/// Decodes a `/sync` request, also from a device of the release before held-back notes (its
/// request ends after `max_bytes`): a hub is often upgraded before its tablets.
pub fn decode_sync_request(bytes: &[u8]) -> Result<SyncRequest, DecodeError> {
    #[derive(Deserialize)]
    struct Before {
        cursor: u64,
        push: Vec<DocChanges>,
        max_bytes: u32,
    }
    decode(bytes).or_else(|e| match decode::<Before>(bytes) {
        Ok(b) => Ok(SyncRequest { cursor: b.cursor, push: b.push, max_bytes: b.max_bytes, held_back: Vec::new() }),
        Err(_) => Err(e),
    })
}

/// Decodes a `/sync` answer, also from a hub of the release before discards.
pub fn decode_sync_response(bytes: &[u8]) -> Result<SyncResponse, DecodeError> {
    #[derive(Deserialize)]
    struct Before {
        held_back: Vec<HeldBack>,
        pull: Vec<DocChanges>,
        purge: Vec<Purge>,
        cursor: u64,
        more: bool,
        remaining: u64,
    }
    decode(bytes).or_else(|e| match decode::<Before>(bytes) {
        Ok(b) => Ok(SyncResponse {
            held_back: b.held_back,
            pull: b.pull,
            purge: b.purge,
            cursor: b.cursor,
            more: b.more,
            remaining: b.remaining,
            discard: Vec::new(),
        }),
        Err(_) => Err(e),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sync_request_round_trips_and_costs_little_beyond_its_changes() {
        let request = SyncRequest {
            cursor: 1_234_567,
            push: vec![DocChanges { id: Uuid::from_u128(7), kind: RecordKind::Note, bytes: vec![9; 1000] }],
            max_bytes: 1 << 20,
            held_back: vec![HeldBackNote { id: Uuid::from_u128(8), kind: RecordKind::Visit, reason: "no".into() }],
        };
        let bytes = encode(&request);
        assert_eq!(decode::<SyncRequest>(&bytes).expect("decodes"), request);
        assert!(bytes.len() < 1000 + 60, "envelope of {} bytes", bytes.len() - 1000);
    }

    /// The release before held-back notes and discards ended its messages earlier; a hub and
    /// its tablets are not upgraded at the same moment.
    #[test]
    fn sync_messages_of_the_release_before_still_decode() {
        #[derive(Serialize)]
        struct RequestBefore {
            cursor: u64,
            push: Vec<DocChanges>,
            max_bytes: u32,
        }
        let old = encode(&RequestBefore { cursor: 9, push: Vec::new(), max_bytes: 4096 });
        let request = decode_sync_request(&old).expect("an old request decodes");
        assert_eq!((request.cursor, request.max_bytes, request.held_back.len()), (9, 4096, 0));
        assert!(decode_sync_request(&[1, 2]).is_err(), "not a request at all is still refused");

        #[derive(Serialize)]
        struct ResponseBefore {
            held_back: Vec<HeldBack>,
            pull: Vec<DocChanges>,
            purge: Vec<Purge>,
            cursor: u64,
            more: bool,
            remaining: u64,
        }
        let old = encode(&ResponseBefore {
            held_back: Vec::new(),
            pull: Vec::new(),
            purge: Vec::new(),
            cursor: 5,
            more: true,
            remaining: 3,
        });
        let response = decode_sync_response(&old).expect("an old answer decodes");
        assert_eq!((response.cursor, response.more, response.discard.len()), (5, true, 0));
        let new = SyncResponse { discard: vec![Uuid::from_u128(1)], ..response };
        assert_eq!(decode_sync_response(&encode(&new)).expect("decodes"), new);
    }

    #[test]
    fn bodies_compress_only_when_it_helps_and_unpack_within_a_limit() {
        let small = vec![1, 2, 3];
        assert_eq!(compress(small.clone()), (small, false));
        let repetitive = vec![7u8; 10_000];
        let (packed, compressed) = compress(repetitive.clone());
        assert!(compressed && packed.len() < 200);
        assert_eq!(decompress(&packed, 10_000).expect("unpacks"), repetitive);
        assert!(matches!(decompress(&packed, 9_999), Err(DecodeError::TooLarge(9_999))));
        assert!(decompress(b"not zlib at all", 1000).is_err());
    }

    #[test]
    fn a_message_with_bytes_after_its_end_is_refused() {
        let mut bytes = encode(&SyncRequest { cursor: 1, push: Vec::new(), max_bytes: 1 << 20, held_back: Vec::new() });
        bytes.push(0);
        assert!(matches!(decode::<SyncRequest>(&bytes), Err(DecodeError::TrailingBytes(1))));
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for bytes in [&b""[..], &[0xff; 3], &[1, 2, 3, 4, 5, 6, 7, 8, 9]] {
            assert!(decode::<SyncRequest>(bytes).is_err());
        }
    }
}
