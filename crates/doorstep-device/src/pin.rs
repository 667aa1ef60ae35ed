//! The PIN that unlocks the app offline. Today it is checked by the store key it makes (see
//! `keys`); stores from before encryption kept an Argon2 hash of it, checked here once, at the
//! unlock that encrypts them.
//!
//! A new PIN is 6 to 12 digits and not one a thief would try first: with the failure counter
//! (`attempts`) a thief at the PIN screen gets [`crate::WIPE_AFTER_WRONG_PINS`] guesses, so the
//! guesses people make most must not be allowed. PINs chosen before this rule (4 digits and up)
//! still open their store: the rule applies when a PIN is chosen, never when it is typed.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordVerifier};
// 6 digits: 10⁶ choices, so the few guesses allowed before the wipe are hopeless; at most 12,
// so a carer can type it with gloves on. Shared with the UI's PIN screens.
use doorstep_commands::{AppError, ErrorCode, MAX_PIN_DIGITS, MIN_PIN_DIGITS};

pub(crate) const SETTING: &str = "pin_hash";

/// PINs people choose most often beyond the patterns `guessable` refuses anyway (runs, one
/// digit, repeats). Written for Doorstep from what published studies of leaked PIN and
/// password sets report at the top of their lists (for example Wang et al., "Understanding
/// Human-chosen PINs", AsiaCCS 2017; Markert et al., "This PIN Can Be Easily Guessed", IEEE
/// S&P 2020): keypad lines and shapes, mirrored halves, counting in steps, "I love you"
/// numbers. Short on purpose: the patterns catch most of the rest.
const COMMON: &[&str] = &[
    "112233", "123321", "123654", "654123", "102030", "010203", "100200", "112358", "147258", "258369", "369258",
    "147852", "258456", "741852", "852963", "963852", "159753", "159357", "357159", "951753", "789456", "456123",
    "142536", "246810", "135790", "135791", "131313", "520131", "520520", "521521", "696969", "775533",
];

/// A new PIN: 6 to 12 digits, and not easy to guess.
pub(crate) fn check_new(pin: &str) -> Result<(), AppError> {
    if !(MIN_PIN_DIGITS..=MAX_PIN_DIGITS).contains(&pin.len()) || !pin.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AppError::new(
            ErrorCode::Invalid,
            format!("Choose a PIN of {MIN_PIN_DIGITS} to {MAX_PIN_DIGITS} numbers, with no letters or spaces."),
        ));
    }
    if guessable(pin) {
        return Err(AppError::new(
            ErrorCode::Invalid,
            format!(
                "That PIN is easy to guess. Choose {MIN_PIN_DIGITS} to {MAX_PIN_DIGITS} numbers that are not easy to \
                 guess: not one number again and again (like 111111), not counting up or down (like 123456), not a \
                 repeat (like 121212) and not a well-known PIN."
            ),
        ));
    }
    Ok(())
}

/// Whether `pin` (all digits) is one a thief would try early.
fn guessable(pin: &str) -> bool {
    let digits: Vec<u8> = pin.bytes().map(|b| b - b'0').collect();
    // Counting up or down by one, wrapping 9 to 0 (123456, 654321, 789012).
    let steps = |step: u8| digits.windows(2).all(|w| w[1] == (w[0] + step) % 10);
    // A block said again: one digit (111111), pairs (121212), triples (123123), halves (482482).
    let repeats = (1..=digits.len() / 2).any(|period| digits.iter().enumerate().all(|(i, d)| *d == digits[i % period]));
    steps(1) || steps(9) || repeats || COMMON.contains(&pin)
}

/// How the previous release kept the PIN (the tests make such stores).
#[cfg(test)]
pub(crate) fn hash(pin: &str) -> Result<String, AppError> {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let salt_bytes: [u8; 16] = rand::random();
    let salt = SaltString::encode_b64(&salt_bytes)
        .map_err(|e| AppError::new(ErrorCode::Storage, format!("could not protect the PIN: {e}")))?;
    Argon2::default()
        .hash_password(pin.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::new(ErrorCode::Storage, format!("could not protect the PIN: {e}")))
}

pub(crate) fn verify(attempt: &str, stored: &str) -> bool {
    PasswordHash::new(stored).is_ok_and(|h| Argon2::default().verify_password(attempt.as_bytes(), &h).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pin_is_kept_hashed_and_checked() {
        let stored = hash("4821").unwrap();
        assert!(!stored.contains("4821"));
        assert!(verify("4821", &stored));
        assert!(!verify("4822", &stored));
        assert!(!verify("4821", "not a hash"));
    }

    #[test]
    fn a_new_pin_is_six_to_twelve_digits() {
        assert!(check_new("380591").is_ok());
        assert!(check_new("380591274816").is_ok());
        for bad in ["", "2468", "38059", "3805912748163", "38059a", "380 591", "３８０５９１"] {
            let refused = check_new(bad).unwrap_err();
            assert_eq!(refused.code, ErrorCode::Invalid, "{bad}");
            assert!(refused.message.starts_with("Choose a PIN of 6 to 12 numbers"), "{bad}: {}", refused.message);
        }
    }

    #[test]
    fn pins_a_thief_would_try_first_are_refused_in_plain_words() {
        let easy = [
            "000000",
            "111111",
            "99999999", // one digit
            "123456",
            "012345",
            "234567",
            "789012",
            "1234567890", // counting up
            "654321",
            "987654",
            "210987",
            "9876543210", // counting down
            "121212",
            "909090",
            "123123",
            "456456",
            "48214821",
            "380591380591", // repeats
            "112233",
            "147258",
            "159753",
            "696969",
            "246810", // common
        ];
        for pin in easy {
            let refused = check_new(pin).unwrap_err();
            assert_eq!(refused.code, ErrorCode::Invalid, "{pin}");
            assert!(refused.message.contains("easy to guess"), "{pin}: {}", refused.message);
        }
        for fine in ["246813", "380591", "1212123", "135246", "12345679"] {
            assert!(check_new(fine).is_ok(), "{fine} should be allowed");
        }
        for pin in COMMON {
            assert_eq!(pin.len(), MIN_PIN_DIGITS, "{pin}");
        }
    }
}
