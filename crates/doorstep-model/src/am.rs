//! Automerge mapping helpers for fields autosurgeon cannot map by itself (feature `automerge`).
//!
//! Times are stored as Automerge timestamps (milliseconds since the epoch) and dates as ISO
//! `YYYY-MM-DD` strings, so a document read by another tool still makes sense.

use autosurgeon::{Hydrate, HydrateError, Prop, ReadDoc, Reconciler};
use chrono::{DateTime, NaiveDate, Utc};

fn datetime_from_millis(ms: i64) -> Result<DateTime<Utc>, HydrateError> {
    DateTime::from_timestamp_millis(ms).ok_or_else(|| HydrateError::unexpected("a timestamp in range", ms.to_string()))
}

/// `DateTime<Utc>` as an Automerge timestamp.
pub mod timestamp {
    use super::*;

    pub fn reconcile<R: Reconciler>(value: &DateTime<Utc>, mut reconciler: R) -> Result<(), R::Error> {
        reconciler.timestamp(value.timestamp_millis())
    }

    pub fn hydrate<D: ReadDoc>(doc: &D, obj: &automerge::ObjId, prop: Prop<'_>) -> Result<DateTime<Utc>, HydrateError> {
        let millis: Millis = autosurgeon::hydrate_prop(doc, obj, prop)?;
        datetime_from_millis(millis.0)
    }
}

/// `Option<DateTime<Utc>>` as an Automerge timestamp or null.
pub mod optional_timestamp {
    use super::*;

    pub fn reconcile<R: Reconciler>(value: &Option<DateTime<Utc>>, mut reconciler: R) -> Result<(), R::Error> {
        match value {
            Some(at) => reconciler.timestamp(at.timestamp_millis()),
            None => reconciler.none(),
        }
    }

    pub fn hydrate<D: ReadDoc>(
        doc: &D,
        obj: &automerge::ObjId,
        prop: Prop<'_>,
    ) -> Result<Option<DateTime<Utc>>, HydrateError> {
        let millis: Option<Millis> = autosurgeon::hydrate_prop(doc, obj, prop)?;
        millis.map(|m| datetime_from_millis(m.0)).transpose()
    }
}

/// `NaiveDate` as an ISO date string.
pub mod date {
    use super::*;

    pub fn reconcile<R: Reconciler>(value: &NaiveDate, mut reconciler: R) -> Result<(), R::Error> {
        reconciler.str(value.format("%Y-%m-%d").to_string())
    }

    pub fn hydrate<D: ReadDoc>(doc: &D, obj: &automerge::ObjId, prop: Prop<'_>) -> Result<NaiveDate, HydrateError> {
        let text: String = autosurgeon::hydrate_prop(doc, obj, prop)?;
        NaiveDate::parse_from_str(&text, "%Y-%m-%d").map_err(|_| HydrateError::unexpected("a YYYY-MM-DD date", text))
    }
}

/// `Option<NaiveDate>` as an ISO date string or null.
pub mod optional_date {
    use super::*;

    pub fn reconcile<R: Reconciler>(value: &Option<NaiveDate>, mut reconciler: R) -> Result<(), R::Error> {
        match value {
            Some(day) => reconciler.str(day.format("%Y-%m-%d").to_string()),
            None => reconciler.none(),
        }
    }

    pub fn hydrate<D: ReadDoc>(
        doc: &D,
        obj: &automerge::ObjId,
        prop: Prop<'_>,
    ) -> Result<Option<NaiveDate>, HydrateError> {
        let text: Option<String> = autosurgeon::hydrate_prop(doc, obj, prop)?;
        text.map(|t| {
            NaiveDate::parse_from_str(&t, "%Y-%m-%d").map_err(|_| HydrateError::unexpected("a YYYY-MM-DD date", t))
        })
        .transpose()
    }
}

/// A string held as Automerge text, so concurrent edits merge character by character
/// (a plain `String` field would be last-writer-wins). Reconciling diffs against the text in
/// the document, so callers must start from a freshly hydrated value.
pub mod text {
    use super::*;
    use autosurgeon::reconcile::TextReconciler;

    pub fn reconcile<R: Reconciler>(value: &String, mut reconciler: R) -> Result<(), R::Error> {
        let mut text = reconciler.text()?;
        text.update(value)
    }

    pub fn hydrate<D: ReadDoc>(doc: &D, obj: &automerge::ObjId, prop: Prop<'_>) -> Result<String, HydrateError> {
        let text: autosurgeon::Text = autosurgeon::hydrate_prop(doc, obj, prop)?;
        Ok(text.as_str().to_string())
    }
}

/// Integer milliseconds, accepting either an Automerge timestamp or a plain integer.
struct Millis(i64);

impl Hydrate for Millis {
    fn hydrate_timestamp(t: i64) -> Result<Self, HydrateError> {
        Ok(Millis(t))
    }
    fn hydrate_int(i: i64) -> Result<Self, HydrateError> {
        Ok(Millis(i))
    }
}

/// Newtypes over strings are stored as plain strings (autosurgeon's derive cannot read them
/// back); an NHS number is checked again on the way in.
macro_rules! string_newtype {
    ($ty:ty, to: $to:expr, from: $from:expr) => {
        impl autosurgeon::Reconcile for $ty {
            type Key<'a> = autosurgeon::reconcile::NoKey;
            fn reconcile<R: Reconciler>(&self, mut reconciler: R) -> Result<(), R::Error> {
                let to: fn(&$ty) -> &str = $to;
                reconciler.str(to(self))
            }
        }
        impl Hydrate for $ty {
            fn hydrate_string(s: &'_ str) -> Result<Self, HydrateError> {
                let from: fn(&str) -> Result<$ty, HydrateError> = $from;
                from(s)
            }
        }
    };
}

string_newtype!(crate::NhsNumber, to: |n| n.digits(), from: |s| {
    crate::NhsNumber::parse(s).map_err(|e| HydrateError::unexpected("a valid NHS number", format!("{s:?} ({e})")))
});
string_newtype!(crate::StaffId, to: |id| id.as_str(), from: |s| Ok(crate::StaffId::new(s)));
