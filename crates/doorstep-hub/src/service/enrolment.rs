//! How a device joins and is managed: one-time enrolment codes, enrolling with one, and a
//! manager's rules over the organisation's devices.

/// A one-time code of 12 characters from 32 that cannot be misread (60 bits): "K7QM-2XPD-9HWR".
pub fn new_enrolment_code() -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    // 32 symbols: each random byte's low five bits pick one with no bias.
    let bytes: [u8; 12] = rand::random();
    let chars: String = bytes.iter().map(|b| ALPHABET[usize::from(b & 31)] as char).collect();
    format!("{}-{}-{}", &chars[..4], &chars[4..8], &chars[8..])
}

/// The code as stored: HMAC-SHA256 under the hub's key (`code_key`).
pub fn enrolment_code_hash(key: &crate::code_key::CodeKey, code: &str) -> Vec<u8> {
    key.code_hash(code)
}
