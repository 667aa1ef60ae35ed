//! NHS numbers: ten digits, the last a modulus-11 check digit. Accepted with or without spaces
//! (people copy them from letters as "943 476 5919"), stored as ten digits, shown 3-3-4.
//! Parsing and the check digit come from the `nhs-number` crate.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A valid NHS number (check digit verified).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct NhsNumber(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NhsNumberError {
    #[error("An NHS number has 10 digits, for example 943 476 5919.")]
    WrongShape,
    #[error("This NHS number's last digit does not match the others: check it for a typing mistake.")]
    CheckDigit,
}

impl NhsNumber {
    /// Parses `"9434765919"`, `"943 476 5919"` or `"943-476-5919"`, with surrounding spaces.
    pub fn parse(input: &str) -> Result<Self, NhsNumberError> {
        let digits: String = input.trim().chars().filter(|c| *c != ' ' && *c != '-').collect();
        if digits.len() != 10 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(NhsNumberError::WrongShape);
        }
        let parsed = nhs_number::NHSNumber::from_str(&digits).map_err(|_| NhsNumberError::WrongShape)?;
        if !parsed.validate_check_digit() {
            return Err(NhsNumberError::CheckDigit);
        }
        Ok(Self(digits))
    }

    /// The ten digits with no spaces, as systems exchange it.
    pub fn digits(&self) -> &str {
        &self.0
    }

    /// The 3-3-4 form people read: `943 476 5919`.
    pub fn formatted(&self) -> String {
        format!("{} {} {}", &self.0[0..3], &self.0[3..6], &self.0[6..10])
    }
}

impl fmt::Display for NhsNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.formatted())
    }
}

impl FromStr for NhsNumber {
    type Err = NhsNumberError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for NhsNumber {
    type Error = NhsNumberError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<NhsNumber> for String {
    fn from(value: NhsNumber) -> Self {
        value.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_valid_numbers_with_or_without_spaces() {
        for input in ["9434765919", "943 476 5919", " 943 476 5919 ", "943-476-5919", "4010232137"] {
            let n = NhsNumber::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(n.digits().len(), 10);
        }
        assert_eq!(NhsNumber::parse("9434765919").unwrap().to_string(), "943 476 5919");
    }

    #[test]
    fn refuses_a_wrong_check_digit() {
        assert_eq!(NhsNumber::parse("943 476 5918"), Err(NhsNumberError::CheckDigit));
        // Every single-digit typo in the last place is caught.
        for last in 0..=9 {
            let candidate = format!("943476591{last}");
            assert_eq!(NhsNumber::parse(&candidate).is_ok(), last == 9, "{candidate}");
        }
    }

    #[test]
    fn refuses_numbers_whose_check_digit_would_be_ten() {
        // 123456789x: weighted sum 1*10+2*9+...+9*2 = 210, 210 % 11 = 1, 11-1 = 10: never valid.
        for last in 0..=9 {
            assert!(NhsNumber::parse(&format!("123456789{last}")).is_err());
        }
    }

    #[test]
    fn refuses_the_wrong_shape() {
        for input in ["", "943476591", "94347659199", "943 476 591x", "９４３４７６５９１９", "abc"] {
            assert_eq!(NhsNumber::parse(input), Err(NhsNumberError::WrongShape), "{input:?}");
        }
    }

    #[test]
    fn serde_stores_digits_and_validates_on_the_way_in() {
        let n = NhsNumber::parse("943 476 5919").unwrap();
        assert_eq!(serde_json::to_string(&n).unwrap(), "\"9434765919\"");
        assert!(serde_json::from_str::<NhsNumber>("\"9434765918\"").is_err());
    }
}
