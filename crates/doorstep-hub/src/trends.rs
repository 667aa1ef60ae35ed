//! Commissioners' view: anonymised counts across providers, with small numbers suppressed.

/// One fact the hub keeps for trends, with nothing that names a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrendFact {
    /// An insight (idea or observation) raised by a carer.
    Idea {
        provider: String,
        /// `YYYY-MM` (UK time).
        month: String,
        /// Postcode district, "" when unknown.
        area: String,
        /// Who could act, as `PartnerKind` codes; empty when the carer did not say.
        categories: Vec<String>,
        /// The one-line summary, for recurring words only (never shown whole).
        summary: String,
    },
    /// A visit note's soft signs and NEWS2.
    Note {
        provider: String,
        month: String,
        area: String,
        /// `SoftSign` codes of the signs that had changed from usual.
        soft_signs: Vec<String>,
        /// The NEWS2 total where all readings were taken.
        news2: Option<u8>,
    },
}
