//! Read-side queries over the projections: what screens list. They never open a document
//! except the one record a screen shows in full.

use chrono::{DateTime, NaiveDate, Utc};
use doorstep_model::early_warning::Observation;
use doorstep_model::news2::EscalationLevel;
use doorstep_model::shared::{PartnerResponse, ResponseOutcome, Revocation, SharedStatus};
pub use doorstep_model::view::{
    DaySignal, InsightRow, PersonOverview, PersonRow, SearchHit, SharedItemRow, TimelineEntry, VisitRow,
};
use doorstep_model::watch::{WatchFlag, WatchLevel};
use doorstep_model::{
    CouldNotReason, NoteId, PartnerKind, PartnerOrg, Person, PersonId, RecordKind, SharedItem, SoftSign, Visit,
    VisitNote,
};
use rusqlite::{OptionalExtension, params};

use crate::Store;
use crate::error::{Result, StoreError};

fn millis(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

impl Store {
    /// The day's visits in time order (UK date), optionally only one carer's.
    pub fn visits_on(&self, day: NaiveDate, carer: Option<&str>) -> Result<Vec<VisitRow>> {
        self.visits_where(
            "v.day = ?1 AND (?2 IS NULL OR v.carer_1 = ?2 OR v.carer_2 = ?2)",
            params![day.to_string(), carer],
        )
    }

    /// Every visit starting from `from` up to `to`, in time order: the office's rolling window.
    pub fn visits_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<VisitRow>> {
        self.visits_where(
            "v.starts_at >= ?1 AND v.starts_at < ?2",
            params![from.timestamp_millis(), to.timestamp_millis()],
        )
    }

    fn visits_where(&self, condition: &str, params: &[&dyn rusqlite::ToSql]) -> Result<Vec<VisitRow>> {
        let mut stmt = self.conn().prepare_cached(&format!(
            "SELECT v.id, v.person_id, p.display_name, v.starts_at, v.ends_at, v.status, v.carer_1, v.carer_2, v.could_not
             FROM visits v LEFT JOIN people p ON p.id = v.person_id
             WHERE {condition}
             ORDER BY v.starts_at, v.id"
        ))?;
        let rows = stmt.query_map(params, |r| {
            let mut carers = vec![r.get::<_, String>(6)?];
            if let Some(second) = r.get::<_, Option<String>>(7)? {
                carers.push(second);
            }
            Ok(VisitRow {
                id: r.get(0)?,
                person_id: r.get(1)?,
                person_name: r.get(2)?,
                starts_at: millis(r.get(3)?),
                ends_at: millis(r.get(4)?),
                status: r.get(5)?,
                carers,
                carer_names: Vec::new(),
                could_not: r.get::<_, Option<String>>(8)?.as_deref().and_then(CouldNotReason::from_code),
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Every staff reference on a visit this device holds, for naming them in the directory.
    pub fn carers_on_rota(&self) -> Result<Vec<String>> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT carer_1 FROM visits UNION SELECT carer_2 FROM visits WHERE carer_2 IS NOT NULL LIMIT 5000",
        )?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Everyone on the device, by family name, with their watch level.
    pub fn people(&self) -> Result<Vec<PersonRow>> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT p.id, p.client_ref, p.display_name, COALESCE(f.level, 'clear')
             FROM people p LEFT JOIN deterioration_flags f ON f.person_id = p.id
             ORDER BY p.family_name, p.display_name",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(PersonRow {
                id: r.get(0)?,
                client_ref: r.get(1)?,
                display_name: r.get(2)?,
                watch: WatchLevel::from_code(&r.get::<_, String>(3)?).unwrap_or(WatchLevel::Clear),
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The person id for a client reference, if the person is on this device.
    pub fn person_by_client_ref(&self, client_ref: &str) -> Result<Option<String>> {
        Ok(self
            .conn()
            .query_row("SELECT id FROM people WHERE client_ref = ?1 ORDER BY doc_no LIMIT 1", [client_ref], |r| {
                r.get(0)
            })
            .optional()?)
    }

    /// The person screen: their record, past visits with what was noticed, the watch, ideas.
    pub fn person_overview(&self, person_id: &str) -> Result<PersonOverview> {
        let (person, version) = self.get_versioned::<Person>(person_id)?;
        let mut stmt = self.conn().prepare_cached(
            "SELECT v.id, v.starts_at, v.status, n.soft_signs, n.news2_total, n.news2_band,
                    COALESCE(n.news2_incomplete, 0)
             FROM visits v LEFT JOIN notes n ON n.visit_id = v.id
             WHERE v.person_id = ?1 ORDER BY v.starts_at DESC",
        )?;
        let timeline = stmt
            .query_map([person_id], |r| {
                let signs: Option<String> = r.get(3)?;
                Ok(TimelineEntry {
                    visit_id: r.get(0)?,
                    starts_at: millis(r.get(1)?),
                    status: r.get(2)?,
                    soft_signs: signs.unwrap_or_default().split(',').filter_map(SoftSign::from_code).collect(),
                    news2_total: r.get::<_, Option<i64>>(4)?.map(|t| t.clamp(0, 255) as u8),
                    news2_band: r.get(5)?,
                    news2_incomplete: r.get(6)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(PersonOverview {
            person,
            timeline,
            watch: self.watch(person_id)?,
            insights: self.insights_where("i.person_id = ?1", params![person_id])?,
            version,
        })
    }

    /// What the notes of visits starting from `from` up to `to` raised, in time order.
    pub fn signals_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<DaySignal>> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT v.id, v.person_id, p.display_name, n.soft_signs, n.news2_total, n.news2_band,
                    n.news2_incomplete, n.advice, n.last_call, v.starts_at, n.advice_met
             FROM visits v JOIN notes n ON n.visit_id = v.id LEFT JOIN people p ON p.id = v.person_id
             WHERE v.starts_at >= ?1 AND v.starts_at < ?2 ORDER BY v.starts_at",
        )?;
        let signals = stmt
            .query_map([from.timestamp_millis(), to.timestamp_millis()], |r| {
                let signs: String = r.get(3)?;
                Ok(DaySignal {
                    visit_id: r.get(0)?,
                    person_id: r.get(1)?,
                    person_name: r.get(2)?,
                    soft_signs: signs.split(',').filter_map(SoftSign::from_code).collect(),
                    news2_total: r.get::<_, Option<i64>>(4)?.map(|t| t.clamp(0, 255) as u8),
                    news2_band: r.get(5)?,
                    news2_incomplete: r.get(6)?,
                    advice: r.get::<_, Option<String>>(7)?.as_deref().and_then(EscalationLevel::from_code),
                    last_call: r.get(8)?,
                    starts_at: millis(r.get(9)?),
                    advice_met: r.get(10)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(signals)
    }

    /// For the caseload early warning: per note of a visit on a UK day from `from` to `to`
    /// (inclusive) that recorded a sign new or worse than usual, the person, the day, their
    /// postcode district ("" when unknown) and those signs. Visits of people not on this device
    /// count under "".
    pub fn sign_changes_between(&self, from: NaiveDate, to: NaiveDate) -> Result<Vec<Observation>> {
        let mut stmt = self.conn().prepare_cached(
            // Driven from the notes with a change (a partial index holds only those), not from
            // every visit in the 13 weeks.
            "SELECT n.person_id, v.day, COALESCE(p.district, ''), n.soft_signs
             FROM notes n INDEXED BY notes_with_sign_changes
             CROSS JOIN visits v ON v.id = n.visit_id LEFT JOIN people p ON p.id = n.person_id
             WHERE n.soft_sign_changes > 0 AND v.day >= ?1 AND v.day <= ?2
             ORDER BY v.day",
        )?;
        let rows = stmt.query_map([from.to_string(), to.to_string()], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, String>(3)?))
        })?;
        let mut observations = Vec::new();
        for row in rows {
            let (person, day, district, signs) = row?;
            let (Ok(person), Ok(day)) = (person.parse(), day.parse()) else { continue };
            let signs: Vec<SoftSign> = signs.split(',').filter_map(SoftSign::from_code).collect();
            observations.push(Observation { person: PersonId(person), day, district, signs });
        }
        Ok(observations)
    }

    /// The UK day of the earliest visit with a note on this device: where its history starts.
    pub fn first_note_day(&self) -> Result<Option<NaiveDate>> {
        // Walks visits by day (their index) and stops at the first with a note, instead of
        // joining every note.
        let day: Option<String> = self
            .conn()
            .query_row(
                "SELECT v.day FROM visits v WHERE EXISTS (SELECT 1 FROM notes n WHERE n.visit_id = v.id)
                 ORDER BY v.day LIMIT 1",
                [],
                |r| r.get(0),
            )
            .optional()?;
        Ok(day.and_then(|d| d.parse().ok()))
    }

    /// A person's deterioration watch as last computed.
    pub fn watch(&self, person_id: &str) -> Result<WatchFlag> {
        let row: Option<(String, String)> = self
            .conn()
            .query_row("SELECT level, reasons FROM deterioration_flags WHERE person_id = ?1", [person_id], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?;
        let Some((level, reasons)) = row else { return Ok(WatchFlag::clear()) };
        Ok(WatchFlag {
            level: WatchLevel::from_code(&level).unwrap_or(WatchLevel::Clear),
            reasons: serde_json::from_str(&reasons).map_err(|e| StoreError::Invalid(e.to_string()))?,
        })
    }

    /// Insights with a status code (`"submitted"`, `"shared"`…), newest first.
    pub fn insights_with_status(&self, status: &str) -> Result<Vec<InsightRow>> {
        self.insights_where("i.status = ?1", params![status])
    }

    /// One carer's ideas, newest first.
    pub fn insights_by_author(&self, staff_ref: &str) -> Result<Vec<InsightRow>> {
        self.insights_where("i.author = ?1", params![staff_ref])
    }

    fn insights_where(&self, condition: &str, params: &[&dyn rusqlite::ToSql]) -> Result<Vec<InsightRow>> {
        let mut stmt = self.conn().prepare_cached(&format!(
            "SELECT i.id, i.person_id, i.author, i.status, i.urgency, i.summary, i.created_at, p.display_name
             FROM insights i LEFT JOIN people p ON p.id = i.person_id
             WHERE {condition} ORDER BY i.created_at DESC"
        ))?;
        let rows = stmt.query_map(params, |r| {
            Ok(InsightRow {
                id: r.get(0)?,
                person_id: r.get(1)?,
                author: r.get(2)?,
                status: r.get(3)?,
                urgency: r.get(4)?,
                summary: r.get(5)?,
                created_at: millis(r.get(6)?),
                person_name: r.get(7)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// What each partner was sent of one insight, with their answers, in the order it was shared.
    pub fn shared_items_of(&self, insight_id: &str) -> Result<Vec<SharedItemRow>> {
        self.shared_items_where("insight_id = ?1", params![insight_id], "shared_at, partner_name")
    }

    /// Every shared item on the device, newest first (on a partner's device: what it received).
    pub fn shared_items(&self) -> Result<Vec<SharedItemRow>> {
        self.shared_items_where("1 = 1", params![], "shared_at DESC, partner_name")
    }

    fn shared_items_where(
        &self,
        condition: &str,
        params: &[&dyn rusqlite::ToSql],
        order: &str,
    ) -> Result<Vec<SharedItemRow>> {
        let mut stmt = self.conn().prepare_cached(&format!(
            "SELECT doc_no, id, insight_id, partner_id, partner_name, partner_kind, purpose, shared_by, shared_at,
                    identified, status, revoked_by, revoked_at
             FROM shared_items WHERE {condition} ORDER BY {order}"
        ))?;
        let items = stmt
            .query_map(params, |r| {
                let revoked = match (r.get::<_, Option<String>>(11)?, r.get::<_, Option<i64>>(12)?) {
                    (Some(by), Some(at)) => Some(Revocation { by, at: millis(at) }),
                    _ => None,
                };
                let row = SharedItemRow {
                    id: r.get(1)?,
                    insight_id: r.get(2)?,
                    partner: PartnerOrg {
                        id: r.get::<_, String>(3)?.parse().unwrap_or_default(),
                        name: r.get(4)?,
                        kind: PartnerKind::from_code(&r.get::<_, String>(5)?).unwrap_or(PartnerKind::Other),
                    },
                    purpose: r.get(6)?,
                    shared_by: r.get(7)?,
                    shared_at: millis(r.get(8)?),
                    identifies_person: r.get(9)?,
                    status: SharedStatus::from_code(&r.get::<_, String>(10)?).unwrap_or(SharedStatus::New),
                    responses: Vec::new(),
                    messages: Vec::new(),
                    handled_by: None,
                    revoked,
                };
                Ok((r.get::<_, i64>(0)?, row))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let mut answers = self.conn().prepare_cached(
            "SELECT key, outcome, message, by_name, at FROM shared_responses WHERE doc_no = ?1 ORDER BY at, rowid",
        )?;
        let mut rows = Vec::with_capacity(items.len());
        for (doc_no, mut row) in items {
            row.responses = answers
                .query_map([doc_no], |r| {
                    Ok(PartnerResponse {
                        admission_likely_avoided: None,
                        key: r.get(0)?,
                        outcome: ResponseOutcome::from_code(&r.get::<_, String>(1)?)
                            .unwrap_or(ResponseOutcome::Acknowledged),
                        message: r.get(2)?,
                        by: r.get(3)?,
                        at: millis(r.get(4)?),
                    })
                })?
                .collect::<rusqlite::Result<_>>()?;
            // The conversation from the document itself (a damaged one lists without it: lists
            // stay readable).
            if let Ok(item) = self.get::<SharedItem>(&row.id) {
                row.messages = item.messages;
                row.handled_by = item.handled_by;
            }
            rows.push(row);
        }
        Ok(rows)
    }

    /// A person's most recent visit note, with when it was observed (the visit's check-in, or its
    /// planned start): what a manager may send a partner as "the latest soft signs and vitals".
    pub fn latest_note_of(&self, person_id: &str) -> Result<Option<(VisitNote, DateTime<Utc>)>> {
        let visit_id: Option<String> = self
            .conn()
            .query_row(
                "SELECT v.id FROM notes n JOIN visits v ON v.id = n.visit_id
                 WHERE n.person_id = ?1 ORDER BY v.starts_at DESC, n.updated_at DESC LIMIT 1",
                [person_id],
                |r| r.get(0),
            )
            .optional()?;
        let Some(visit_id) = visit_id else { return Ok(None) };
        let visit: Visit = self.get(&visit_id)?;
        let note: VisitNote = self.get(&NoteId::for_visit(visit.id).to_string())?;
        Ok(Some((note, visit.checked_in_at.unwrap_or(visit.window.start))))
    }

    /// The person's latest note other than `visit`'s, for the handover at that visit, with its
    /// visit where this device holds it (another carer's visit to the same person may not be
    /// here: their note is). Notes of visits after `visit` are left out; a note whose visit is
    /// not here is placed by when it was first written.
    pub fn note_before(&self, person_id: &str, visit: &Visit) -> Result<Option<(Option<Visit>, VisitNote)>> {
        let found: Option<(String, Option<String>)> = self
            .conn()
            .query_row(
                "SELECT n.id, v.id FROM notes n LEFT JOIN visits v ON v.id = n.visit_id
                 WHERE n.person_id = ?1 AND n.visit_id != ?2 AND (v.starts_at IS NULL OR v.starts_at < ?3)
                 ORDER BY COALESCE(v.starts_at, n.written_at, n.updated_at) DESC LIMIT 1",
                params![person_id, visit.id.to_string(), visit.window.start.timestamp_millis()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let Some((note_id, visit_id)) = found else { return Ok(None) };
        let earlier = match visit_id {
            Some(id) => Some(self.get::<Visit>(&id)?),
            None => None,
        };
        Ok(Some((earlier, self.get(&note_id)?)))
    }

    /// The person's latest visit on this device before `visit` that could not happen (no answer,
    /// refused…): the next carer must hear of it even when no note was written there.
    pub fn could_not_before(&self, person_id: &str, visit: &Visit) -> Result<Option<Visit>> {
        let found: Option<String> = self
            .conn()
            .query_row(
                "SELECT id FROM visits WHERE person_id = ?1 AND id != ?2 AND starts_at < ?3 AND could_not IS NOT NULL
                 ORDER BY starts_at DESC LIMIT 1",
                params![person_id, visit.id.to_string(), visit.window.start.timestamp_millis()],
                |r| r.get(0),
            )
            .optional()?;
        found.map(|id| self.get::<Visit>(&id)).transpose()
    }

    /// Full-text search over notes and insights, best matches first. Any text a person types
    /// is safe: each word is searched for literally (the last as a prefix).
    pub fn search(&self, text: &str, limit: usize) -> Result<Vec<SearchHit>> {
        let Some(query) = fts_query(text) else { return Ok(Vec::new()) };
        // Rank (bm25) the newest matches only: in a care record the recent note is the one
        // wanted, and ranking every match of a common word ("tea") over 100,000 notes costs
        // more than a screen can wait. FTS5 walks its index newest first and stops.
        let mut best = self.conn().prepare_cached(
            "SELECT doc_no FROM (SELECT rowid AS doc_no, rank FROM search_index
                                 WHERE search_index MATCH ?1 ORDER BY rowid DESC LIMIT ?3)
             ORDER BY rank LIMIT ?2",
        )?;
        let doc_nos: Vec<i64> = best
            .query_map(params![query, limit as i64, SEARCH_RECENT_MATCHES], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        // Snippets and ids for just those.
        let mut hit = self.conn().prepare_cached(
            "SELECT d.id, s.kind, s.person_id, snippet(search_index, 2, char(57344), char(57345), '…', 12)
             FROM search_index s JOIN documents d ON d.doc_no = s.rowid
             WHERE search_index MATCH ?1 AND s.rowid = ?2",
        )?;
        let mut hits = Vec::with_capacity(doc_nos.len());
        for doc_no in doc_nos {
            let found = hit
                .query_row(params![query, doc_no], |r| {
                    Ok(SearchHit {
                        id: r.get(0)?,
                        kind: RecordKind::from_code(&r.get::<_, String>(1)?).unwrap_or(RecordKind::Note),
                        person_id: r.get(2)?,
                        snippet: r.get(3)?,
                        person_name: None,
                        at: None,
                        authors: Vec::new(),
                        visit_id: None,
                    })
                })
                .optional()?;
            hits.extend(found);
        }
        Ok(hits)
    }
}

/// How many of the newest matches a search ranks.
const SEARCH_RECENT_MATCHES: i64 = 1000;

/// Turns what a person typed into an FTS5 query with no operators: every word quoted, all
/// required, the last one matching as a prefix (search as you type).
fn fts_query(text: &str) -> Option<String> {
    let words: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric() && c != '\'')
        .filter(|w| !w.is_empty())
        .map(|w| format!("\"{}\"", w.replace('"', "")))
        .collect();
    let (last, rest) = words.split_last()?;
    let mut query = rest.join(" ");
    if !query.is_empty() {
        query.push(' ');
    }
    query.push_str(last);
    query.push('*');
    Some(query)
}

#[cfg(test)]
mod tests {
    use super::fts_query;

    #[test]
    fn typed_text_becomes_a_literal_query() {
        assert_eq!(fts_query("  "), None);
        assert_eq!(fts_query("grab rail").as_deref(), Some("\"grab\" \"rail\"*"));
        assert_eq!(fts_query("NEAR(\"x\" OR y) -z").as_deref(), Some("\"NEAR\" \"x\" \"OR\" \"y\" \"z\"*"));
    }
}
