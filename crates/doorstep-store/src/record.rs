//! The record kinds the store keeps as Automerge documents, and how each is projected into SQL.

use automerge::ActorId;
use autosurgeon::{Hydrate, Reconcile};
use doorstep_model::news2::{self, News2Assessment};
use doorstep_model::watch::{self, VisitSignal};
use doorstep_model::{Directory, Insight, Intake, Mood, Person, RecordKind, SharedItem, SpO2Scale, Visit, VisitNote};
use rusqlite::{Connection, OptionalExtension, params};

use crate::error::{Result, StoreError};

/// A model type the store keeps as an Automerge document with SQL projections.
pub trait Record: Reconcile + Hydrate + Clone + Sized {
    const KIND: RecordKind;

    fn doc_id(&self) -> String;

    /// The rules every stored record keeps; refused input never reaches the document.
    fn check(&self) -> Result<()>;

    /// A skeleton that every replica creates identically, byte for byte, for records that two
    /// devices may each create offline (a visit's note). `None`: only one party creates it.
    fn genesis(&self) -> Option<(Self, ActorId)> {
        None
    }

    /// Rewrites this record's projection rows. Runs in the transaction that wrote the document.
    fn project(&self, conn: &Connection, doc_no: i64, now_ms: i64) -> Result<()>;
}

impl Record for Person {
    const KIND: RecordKind = RecordKind::Person;

    fn doc_id(&self) -> String {
        self.id.to_string()
    }

    fn check(&self) -> Result<()> {
        if self.client_ref.trim().is_empty() {
            return Err(StoreError::Invalid("A person needs a client reference.".into()));
        }
        if self.name.given.trim().is_empty() && self.name.family.trim().is_empty() {
            return Err(StoreError::Invalid("A person needs a name.".into()));
        }
        Ok(())
    }

    fn project(&self, conn: &Connection, doc_no: i64, _now_ms: i64) -> Result<()> {
        conn.execute("DELETE FROM people WHERE doc_no = ?1", [doc_no])?;
        conn.execute(
            "INSERT INTO people (doc_no, id, client_ref, display_name, family_name, date_of_birth, nhs_number, spo2_scale, pregnant, district)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![
                doc_no,
                self.id.to_string(),
                self.client_ref,
                self.name.display(),
                self.name.family,
                self.date_of_birth.map(|d| d.to_string()),
                self.nhs_number.as_ref().map(|n| n.digits().to_string()),
                match self.spo2_scale {
                    SpO2Scale::Scale1 => "1",
                    SpO2Scale::Scale2 => "2",
                },
                self.pregnant,
                doorstep_model::directory::postcode_district(&self.address.postcode),
            ],
        )?;
        Ok(())
    }
}

impl Record for Directory {
    const KIND: RecordKind = RecordKind::Directory;

    fn doc_id(&self) -> String {
        self.id.to_string()
    }

    fn check(&self) -> Result<()> {
        self.validate().map_err(|e| StoreError::Invalid(e.to_string()))
    }

    /// Two managers may each start the directory offline: both write into one skeleton.
    fn genesis(&self) -> Option<(Self, ActorId)> {
        Some((Directory::new(self.provider), ActorId::from(self.id.0.as_bytes().as_slice())))
    }

    /// Read whole when needed (one small document per provider): nothing to project.
    fn project(&self, _conn: &Connection, _doc_no: i64, _now_ms: i64) -> Result<()> {
        Ok(())
    }
}

impl Record for Visit {
    const KIND: RecordKind = RecordKind::Visit;

    fn doc_id(&self) -> String {
        self.id.to_string()
    }

    fn check(&self) -> Result<()> {
        Ok(self.validate()?)
    }

    fn project(&self, conn: &Connection, doc_no: i64, now_ms: i64) -> Result<()> {
        conn.execute("DELETE FROM visits WHERE doc_no = ?1", [doc_no])?;
        conn.execute(
            "INSERT INTO visits (doc_no, id, person_id, day, starts_at, ends_at, status, carer_1, carer_2, could_not)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![
                doc_no,
                self.id.to_string(),
                self.person_id.to_string(),
                self.day().to_string(),
                self.window.start.timestamp_millis(),
                self.window.end.timestamp_millis(),
                self.status.code(),
                self.carers.first().map(|c| c.as_str()).unwrap_or_default(),
                self.carers.get(1).map(|c| c.as_str()),
                self.could_not.as_ref().map(|c| c.reason.code()),
            ],
        )?;
        // A visit's time orders its note in the watch.
        refresh_watch(conn, &self.person_id.to_string(), now_ms)
    }
}

impl Record for VisitNote {
    const KIND: RecordKind = RecordKind::Note;

    fn doc_id(&self) -> String {
        self.id.to_string()
    }

    fn check(&self) -> Result<()> {
        if let Some(vitals) = &self.vitals {
            vitals.validate()?;
        }
        Ok(())
    }

    fn genesis(&self) -> Option<(Self, ActorId)> {
        let skeleton = VisitNote::new(self.id, self.visit_id, self.person_id);
        Some((skeleton, ActorId::from(self.id.0.as_bytes().as_slice())))
    }

    fn project(&self, conn: &Connection, doc_no: i64, now_ms: i64) -> Result<()> {
        let person_id = self.person_id.to_string();
        let changes: Vec<&str> = self.changes().map(|s| s.sign.code()).collect();
        let assessment = score_note(conn, self)?;
        let advice = doorstep_model::escalation::advice(assessment.as_ref(), &self.soft_signs).map(|a| a.level);
        let advice_met = advice.is_some_and(|level| self.advice_met(level));
        let advice = advice.map(|level| level.code());
        let last_call = self.calls.last().map(|call| call.summary());
        let (news2_total, news2_band, news2_incomplete) = match assessment {
            Some(News2Assessment::Scored(score)) => (Some(score.total), Some(score.band.label()), false),
            // The lower bound: already this band, whatever the missing readings would add.
            Some(News2Assessment::Incomplete { partial_total, band_at_least, .. }) => {
                (Some(partial_total), Some(band_at_least.label()), true)
            }
            _ => (None, None, false),
        };
        conn.execute("DELETE FROM notes WHERE doc_no = ?1", [doc_no])?;
        conn.execute(
            "INSERT INTO notes (doc_no, id, visit_id, person_id, soft_signs, soft_sign_changes, news2_total, news2_band,
                                updated_at, news2_incomplete, advice, last_call, ate_or_drank_nothing, distressed,
                                written_at, advice_met)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
            params![
                doc_no,
                self.id.to_string(),
                self.visit_id.to_string(),
                person_id,
                changes.join(","),
                changes.len() as i64,
                news2_total,
                news2_band,
                now_ms,
                news2_incomplete,
                advice,
                last_call,
                self.food_fluid.eating == Some(Intake::None) || self.food_fluid.drinking == Some(Intake::None),
                self.mood == Some(Mood::Distressed),
                self.authors.iter().map(|a| a.first_edit.timestamp_millis()).min(),
                advice_met,
            ],
        )?;
        let mut body = self.narrative.clone();
        for obs in &self.soft_signs {
            body.push('\n');
            body.push_str(obs.sign.label());
            body.push_str(": ");
            body.push_str(&obs.detail);
        }
        body.push('\n');
        body.push_str(&self.food_fluid.detail);
        index(conn, doc_no, RecordKind::Note, Some(&person_id), &body)?;
        refresh_watch(conn, &person_id, now_ms)
    }
}

impl Record for Insight {
    const KIND: RecordKind = RecordKind::Insight;

    fn doc_id(&self) -> String {
        self.id.to_string()
    }

    fn check(&self) -> Result<()> {
        Ok(self.validate()?)
    }

    fn project(&self, conn: &Connection, doc_no: i64, _now_ms: i64) -> Result<()> {
        let person_id = self.person_id.map(|p| p.to_string());
        conn.execute("DELETE FROM insights WHERE doc_no = ?1", [doc_no])?;
        conn.execute(
            "INSERT INTO insights (doc_no, id, person_id, author, status, urgency, summary, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                doc_no,
                self.id.to_string(),
                person_id,
                self.author.as_str(),
                self.status.code(),
                self.urgency.code(),
                self.summary,
                self.created_at.timestamp_millis(),
            ],
        )?;
        let mut body = format!("{}\n{}\n{}", self.summary, self.detail, self.suggested_action);
        for comment in &self.comments {
            body.push('\n');
            body.push_str(&comment.text);
        }
        index(conn, doc_no, RecordKind::Insight, person_id.as_deref(), &body)
    }
}

impl Record for SharedItem {
    const KIND: RecordKind = RecordKind::Shared;

    fn doc_id(&self) -> String {
        self.id.to_string()
    }

    fn check(&self) -> Result<()> {
        Ok(self.validate()?)
    }

    fn project(&self, conn: &Connection, doc_no: i64, _now_ms: i64) -> Result<()> {
        let latest = self.latest_response();
        conn.execute("DELETE FROM shared_items WHERE doc_no = ?1", [doc_no])?;
        conn.execute(
            "INSERT INTO shared_items (doc_no, id, insight_id, partner_id, partner_name, partner_kind, purpose, shared_by,
                 shared_at, identified, status, latest_outcome, latest_message, latest_by, latest_at, revoked, revoked_by,
                 revoked_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)",
            params![
                doc_no,
                self.id.to_string(),
                self.insight_id.to_string(),
                self.partner.id.to_string(),
                self.partner.name,
                self.partner.kind.code(),
                self.purpose,
                self.shared_by,
                self.shared_at.timestamp_millis(),
                self.person.is_some(),
                self.status().code(),
                latest.map(|r| r.outcome.code()),
                latest.map(|r| r.message.as_str()),
                latest.map(|r| r.by.as_str()),
                latest.map(|r| r.at.timestamp_millis()),
                self.revoked.is_some(),
                self.revoked.as_ref().map(|r| r.by.as_str()),
                self.revoked.as_ref().map(|r| r.at.timestamp_millis()),
            ],
        )?;
        conn.execute("DELETE FROM shared_responses WHERE doc_no = ?1", [doc_no])?;
        let mut insert = conn.prepare_cached(
            "INSERT INTO shared_responses (doc_no, key, outcome, message, by_name, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        for r in &self.responses {
            insert.execute(params![doc_no, r.key, r.outcome.code(), r.message, r.by, r.at.timestamp_millis()])?;
        }
        Ok(())
    }
}

/// Scores a note's vitals with what the store knows of the person (age on the visit's day,
/// SpO2 scale, pregnancy). A note whose person has not arrived yet is scored as an adult on
/// Scale 1, and rescored when it is next written.
pub(crate) fn score_note(conn: &Connection, note: &VisitNote) -> Result<Option<News2Assessment>> {
    let Some(vitals) = note.vitals.as_ref().filter(|v| !v.is_empty()) else { return Ok(None) };
    let person: Option<(Option<String>, String, bool)> = conn
        .query_row(
            "SELECT date_of_birth, spo2_scale, pregnant FROM people WHERE id = ?1",
            [note.person_id.to_string()],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let day: Option<String> =
        conn.query_row("SELECT day FROM visits WHERE id = ?1", [note.visit_id.to_string()], |r| r.get(0)).optional()?;
    let mut ctx = news2::ScoringContext::default();
    if let Some((dob, scale, pregnant)) = person {
        ctx.pregnant = pregnant;
        ctx.spo2_scale = if scale == "2" { SpO2Scale::Scale2 } else { SpO2Scale::Scale1 };
        let dob = dob.and_then(|d| d.parse::<chrono::NaiveDate>().ok());
        let on = day.and_then(|d| d.parse::<chrono::NaiveDate>().ok());
        if let (Some(dob), Some(on)) = (dob, on) {
            ctx.age_years = on.years_since(dob);
        }
    }
    Ok(Some(news2::assess(vitals, &ctx)?))
}

fn index(conn: &Connection, doc_no: i64, kind: RecordKind, person_id: Option<&str>, body: &str) -> Result<()> {
    conn.execute("DELETE FROM search_index WHERE rowid = ?1", [doc_no])?;
    conn.execute(
        "INSERT INTO search_index (rowid, kind, person_id, body) VALUES (?1, ?2, ?3, ?4)",
        params![doc_no, kind.code(), person_id, body],
    )?;
    Ok(())
}

/// Recomputes a person's deterioration watch from their notes of the [`watch::WINDOW_DAYS`] days
/// up to their latest visit with a note (counted back from that visit, not from today, so the
/// stored flag depends only on the notes), however many there are.
pub(crate) fn refresh_watch(conn: &Connection, person_id: &str, now_ms: i64) -> Result<()> {
    let mut stmt = conn.prepare_cached(
        "WITH timed AS (
             SELECT COALESCE(v.starts_at, n.updated_at) AS at, n.soft_sign_changes, n.news2_total,
                    n.ate_or_drank_nothing, n.distressed
             FROM notes n LEFT JOIN visits v ON v.id = n.visit_id
             WHERE n.person_id = ?1)
         SELECT at, soft_sign_changes, news2_total, ate_or_drank_nothing, distressed FROM timed
         WHERE at >= (SELECT MAX(at) FROM timed) - ?2 ORDER BY at",
    )?;
    let window_ms = chrono::Duration::days(watch::WINDOW_DAYS).num_milliseconds();
    let signals = stmt
        .query_map(params![person_id, window_ms], |r| {
            Ok(VisitSignal {
                at: chrono::DateTime::from_timestamp_millis(r.get(0)?).unwrap_or_default(),
                soft_sign_changes: r.get::<_, i64>(1)?.max(0) as u32,
                news2_total: r.get::<_, Option<i64>>(2)?.map(|t| t.clamp(0, 255) as u8),
                ate_or_drank_nothing: r.get(3)?,
                distressed: r.get(4)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    if signals.is_empty() {
        return Ok(());
    }
    let flag = watch::assess(&signals);
    let reasons = serde_json::to_string(&flag.reasons).map_err(|e| StoreError::Invalid(e.to_string()))?;
    conn.execute(
        "INSERT INTO deterioration_flags (person_id, level, reasons, updated_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (person_id) DO UPDATE SET level = excluded.level, reasons = excluded.reasons, updated_at = excluded.updated_at",
        params![person_id, flag.level.code(), reasons, now_ms],
    )?;
    Ok(())
}
