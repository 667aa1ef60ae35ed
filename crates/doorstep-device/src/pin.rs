//! The PIN that unlocks the app offline. Today it is checked by the store key it makes (see
//! `keys`); stores from before encryption kept an Argon2 hash of it, checked here once, at the
//! unlock that encrypts them.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordVerifier};
use doorstep_commands::{AppError, ErrorCode};

pub(crate) const SETTING: &str = "pin_hash";

/// A new PIN: 4 to 8 digits.
pub(crate) fn check_new(pin: &str) -> Result<(), AppError> {
    if (4..=8).contains(&pin.len()) && pin.chars().all(|c| c.is_ascii_digit()) {
        Ok(())
    } else {
        Err(AppError::new(ErrorCode::Invalid, "Choose a PIN of 4 to 8 numbers."))
    }
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
    fn a_new_pin_is_four_to_eight_digits() {
        assert!(check_new("1234").is_ok());
        assert!(check_new("12345678").is_ok());
        for bad in ["123", "123456789", "12a4", ""] {
            assert_eq!(check_new(bad).unwrap_err().code, ErrorCode::Invalid, "{bad}");
        }
    }
}
