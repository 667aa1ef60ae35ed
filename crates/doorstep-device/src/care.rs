//! The carer's day: today's visits, the visit (check in and out, tasks, the note, soft signs,
//! vitals with NEWS2, food and fluid, mood), ideas, and the person.

use chrono::Utc;
use doorstep_commands::{
    AppError, AtTheDoor, CheckOutArgs, CouldNotArgs, DayArgs, EarlierReadings, ErrorCode, FoodFluidArgs, Handover,
    IdeaArgs, LateEntryArgs, MoodArgs, MyIdea, NarrativeArgs, NewReply, OutcomeArgs, RecordCallArgs, Saved,
    SoftSignArgs, TaskArgs, Today, VisitScreen, VitalsArgs,
};
use doorstep_model::escalation;
use doorstep_model::news2::{self, EscalationLevel};
use doorstep_model::note::LATE_ENTRY_MOST;
use doorstep_model::outcome::{self, OutcomeKind};
use doorstep_model::policy::{Refused, WritePolicy, check_note};
use doorstep_model::sbard::{Caller, Sbard};
use doorstep_model::view::PersonOverview;
use doorstep_model::{
    CallRecord, CallTarget, ConsentBasis, CouldNotReason, CouldNotVisit, DocVersion, Insight, InsightId, InsightStatus,
    LateEntry, NoteId, Person, PersonId, Role, SoftSignObservation, StaffId, TaskOutcome, TimedVitals, Visit,
    VisitNote,
};
use doorstep_store::{Store, StoreError, Updated};
use uuid::Uuid;

use crate::{Device, Who, storage_error, uk_today};

impl Device {
    /// The day's visits in time order: a carer's own, or every visit for a manager.
    pub async fn today(&self, args: DayArgs) -> Result<Today, AppError> {
        let who = self.unlocked().await?;
        let day = args.day.unwrap_or_else(|| uk_today(Utc::now()));
        let carer = (who.role == Role::Carer).then_some(who.staff_ref.as_str());
        let store = self.db().await?;
        let mut visits = store.visits_on(day, carer).map_err(storage_error)?;
        crate::directory::name_carers(&crate::directory::directory_of(&store)?, &mut visits);
        drop(store);
        Ok(Today { day, staff_ref: who.staff_ref, visits, sync: self.badge().await? })
    }

    pub async fn visit(&self, visit_id: &str) -> Result<VisitScreen, AppError> {
        let who = self.unlocked().await?;
        let store = self.db().await?;
        screen(&store, &who, visit_id)
    }

    pub async fn check_in(&self, visit_id: &str) -> Result<VisitScreen, AppError> {
        self.edit_visit(visit_id, |visit| Ok(visit.check_in(Utc::now())?)).await
    }

    /// The visit could not happen: closed with the reason, who said so and when. The office hears
    /// at the next sync; for "no answer" the screen says to phone the office now. "In hospital"
    /// with `admitted_on` also records "Admitted to hospital" on that day, in the same step.
    pub async fn could_not_visit(&self, args: CouldNotArgs) -> Result<VisitScreen, AppError> {
        let who = self.unlocked().await?;
        let detail = args.detail.trim().to_string();
        if detail.chars().count() > 500 {
            return Err(AppError::new(ErrorCode::Invalid, "Keep what the office should know under 500 characters.")
                .about("detail"));
        }
        let admitted_on = args.admitted_on.filter(|_| args.reason == CouldNotReason::InHospital);
        // A wrong day is refused before anything is saved, so the step is never half done.
        if let Some(day) = admitted_on {
            outcome::check_day(day, uk_today(self.now()))
                .map_err(|e| AppError::new(ErrorCode::Invalid, e.to_string()).about("admitted_on"))?;
        }
        let said = CouldNotVisit { reason: args.reason, detail, by: StaffId::new(who.staff_ref), at: self.now() };
        let shown = self.edit_visit(&args.visit_id, |visit| Ok(visit.could_not(said)?)).await?;
        match admitted_on {
            Some(day) => {
                self.record_outcome(OutcomeArgs { visit_id: args.visit_id, kind: OutcomeKind::Admitted, day }).await
            }
            None => Ok(shown),
        }
    }

    /// Checks out. Unless `confirmed`, first asks (`ErrorCode::Confirm`, one item a line) when
    /// the advice said to phone and no call that got through is recorded, or tasks are unmarked:
    /// the carer may still go, having seen it.
    pub async fn check_out(&self, args: CheckOutArgs) -> Result<VisitScreen, AppError> {
        if !args.confirmed {
            let shown = self.visit(&args.visit_id).await?;
            let mut before_you_go = Vec::new();
            // 999 advice is done only by a 999 call (or an ambulance on its way); "phone now" only
            // by a call to a clinician, not the office alone.
            if let Some(advice) = shown.advice.as_ref().filter(|a| a.level.needs_a_call())
                && !shown.note.advice_met(advice.level)
            {
                before_you_go.push(if shown.note.calls.iter().any(|c| c.got_through()) {
                    if advice.level == EscalationLevel::Emergency999 {
                        "You were told to phone 999, and no 999 call is recorded. Phone 999 now, or record the call."
                            .to_string()
                    } else {
                        format!(
                            "You were told to phone a clinician ({}), and no call to one is recorded: telling the \
                             office is not enough. Phone now, or record the call.",
                            advice.who_to_phone
                        )
                    }
                } else {
                    format!(
                        "You were told to phone ({}), and no call is recorded. Record the call, or phone now.",
                        advice.who_to_phone
                    )
                });
            }
            let unmarked = shown.visit.tasks.iter().filter(|t| t.outcome.is_none()).count();
            if unmarked > 0 {
                before_you_go.push(format!(
                    "{unmarked} task{} not marked done or not done.",
                    if unmarked == 1 { " is" } else { "s are" }
                ));
            }
            if !before_you_go.is_empty() {
                return Err(AppError::new(ErrorCode::Confirm, before_you_go.join("\n")));
            }
        }
        self.edit_visit(&args.visit_id, |visit| Ok(visit.check_out(Utc::now())?)).await
    }

    /// Records a phone call the carer made about the person: the SBARD's Decision, shown to the
    /// office with the visit once synced.
    pub async fn record_call(&self, args: RecordCallArgs) -> Result<VisitScreen, AppError> {
        const MOST: usize = 300;
        let to_name = args.to_name.trim().to_string();
        if args.to == CallTarget::Other && to_name.is_empty() {
            return Err(AppError::new(ErrorCode::Invalid, "Say who you phoned."));
        }
        for (what, text) in
            [("Who you phoned", &to_name), ("Who you spoke to", &args.spoke_to), ("What was agreed", &args.detail)]
        {
            if text.chars().count() > MOST {
                return Err(AppError::new(
                    ErrorCode::Invalid,
                    format!("{what} is too long: keep it under {MOST} characters."),
                ));
            }
        }
        let who = self.unlocked().await?;
        let now = self.now();
        let (at, to_name) = {
            let store = self.db().await?;
            let visit: Visit = store.get(&args.visit_id).map_err(storage_error)?;
            let at = call_time(args.at, now, &visit)?;
            // The name of the service phoned, as the person's record or the directory has it, so
            // the office reads "Phoned Riverside Surgery", not "Phoned GP practice".
            let to_name = if to_name.is_empty() { service_name(&store, &visit, args.to)? } else { to_name };
            (at, to_name)
        };
        let call = CallRecord {
            to: args.to,
            to_name,
            at,
            spoke_to: args.spoke_to.trim().to_string(),
            outcome: args.outcome,
            detail: args.detail.trim().to_string(),
            by: StaffId::new(who.staff_ref.clone()),
        };
        self.edit_note(&args.visit_id, |note| {
            note.calls.push(call);
            Ok(())
        })
        .await
    }

    pub async fn record_task(&self, args: TaskArgs) -> Result<VisitScreen, AppError> {
        let outcome = if args.done {
            TaskOutcome::Done
        } else {
            TaskOutcome::NotDone { reason: args.reason.unwrap_or_default().trim().to_string() }
        };
        self.edit_visit(&args.visit_id, |visit| Ok(visit.record_task(&args.key, outcome)?)).await
    }

    /// The note's free text, saved as typed. Automerge merges it character by character with
    /// whatever another carer typed on a double-up.
    ///
    /// The text is applied against `args.base`, the version the editor was typing on, so words
    /// another carer added since (merged by background sync) are kept, not overwritten.
    pub async fn save_narrative(&self, args: NarrativeArgs) -> Result<Saved, AppError> {
        let at = Utc::now();
        let updated = self
            .edit_note_from(&args.visit_id, &args.base, |note| {
                note.narrative = args.narrative;
                Ok(())
            })
            .await?;
        Ok(Saved { at, narrative: updated.record.narrative, version: updated.version, typed_version: updated.written })
    }

    /// Words added to a visit after it closed, marked late with the time they were written and by
    /// whom. Only for a closed visit: an open one is still its note.
    pub async fn add_late_entry(&self, args: LateEntryArgs) -> Result<VisitScreen, AppError> {
        let text = args.text.trim().to_string();
        if text.is_empty() {
            return Err(AppError::new(ErrorCode::Invalid, "Write what you want to add."));
        }
        if text.chars().count() > LATE_ENTRY_MOST {
            return Err(AppError::new(
                ErrorCode::Invalid,
                format!("Keep a late entry under {LATE_ENTRY_MOST} characters."),
            ));
        }
        let who = self.unlocked().await?;
        let visit: Visit = self.db().await?.get(&args.visit_id).map_err(storage_error)?;
        if !visit.is_closed() {
            return Err(AppError::new(
                ErrorCode::Invalid,
                "This visit is still open: write in its note. Late entries are for visits that have ended.",
            ));
        }
        let entry = LateEntry { text, by: StaffId::new(who.staff_ref), at: self.now() };
        self.edit_note(&args.visit_id, |note| {
            note.late_entries.push(entry);
            Ok(())
        })
        .await
    }

    pub async fn set_soft_sign(&self, args: SoftSignArgs) -> Result<VisitScreen, AppError> {
        self.edit_note(&args.visit_id, |note| {
            if args.observed {
                note.observe(SoftSignObservation {
                    sign: args.sign,
                    compared_to_usual: args.compared_to_usual,
                    detail: args.detail.trim().to_string(),
                });
            } else {
                note.soft_signs.retain(|s| s.sign != args.sign);
            }
            Ok(())
        })
        .await
    }

    pub async fn record_vitals(&self, args: VitalsArgs) -> Result<VisitScreen, AppError> {
        // A reading that cannot be right is refused here, so it never becomes advice.
        args.vitals.validate().map_err(|e| AppError::new(ErrorCode::Invalid, e.to_string()))?;
        // One that can be real but is extreme is checked first: a slip of the finger must not
        // send an ambulance, and a real SpO2 of 48 must.
        let extremes = args.vitals.extremes();
        if !extremes.is_empty() && !args.checked {
            let readings: Vec<String> = extremes.iter().map(|(p, v)| format!("{} {v}", p.label())).collect();
            return Err(AppError::new(
                ErrorCode::Confirm,
                format!(
                    "Check this reading: {}. It is possible but very unusual. Take it again if you can; if it is right, save it.",
                    readings.join(", ")
                ),
            ));
        }
        let now = Utc::now();
        self.edit_note(&args.visit_id, |note| {
            // A re-check keeps the set it follows, with its time; a correction replaces it.
            if args.recheck
                && let Some(before) = note.vitals.take().filter(|v| !v.is_empty())
            {
                note.earlier_vitals.push(TimedVitals { at: note.vitals_at, vitals: before });
            }
            note.vitals = (!args.vitals.is_empty()).then_some(args.vitals);
            note.vitals_at = note.vitals.as_ref().map(|_| now);
            Ok(())
        })
        .await
    }

    pub async fn set_food_fluid(&self, args: FoodFluidArgs) -> Result<VisitScreen, AppError> {
        self.edit_note(&args.visit_id, |note| {
            note.food_fluid = args.food_fluid;
            Ok(())
        })
        .await
    }

    pub async fn set_mood(&self, args: MoodArgs) -> Result<VisitScreen, AppError> {
        self.edit_note(&args.visit_id, |note| {
            note.mood = args.mood;
            Ok(())
        })
        .await
    }

    /// A carer's idea, submitted for the office to review.
    pub async fn record_idea(&self, args: IdeaArgs) -> Result<Insight, AppError> {
        let who = self.unlocked().await?;
        let person_id = Uuid::parse_str(&args.person_id)
            .map_err(|_| AppError::new(ErrorCode::Invalid, "That person is not known on this device."))?;
        let mut store = self.db().await?;
        let person: Person = store.get(&args.person_id).map_err(storage_error)?;
        let insight = Insight {
            follow_up: None,
            id: InsightId(Uuid::new_v4()),
            person_id: Some(PersonId(person_id)),
            author: StaffId::new(who.staff_ref.clone()),
            created_at: Utc::now(),
            summary: args.summary.trim().to_string(),
            detail: args.detail.trim().to_string(),
            suggested_action: args.suggested_action.trim().to_string(),
            who_could_act: args.who_could_act,
            urgency: args.urgency,
            // Whether it may go further is the office's decision, against recorded consent.
            consent_basis: if person.consent == Default::default() {
                ConsentBasis::NotYetAsked
            } else {
                ConsentBasis::PersonConsented
            },
            status: InsightStatus::Submitted,
            comments: Vec::new(),
            shares: Vec::new(),
        };
        insight.validate().map_err(|e| AppError::new(ErrorCode::Invalid, e.to_string()))?;
        Insight::check_write(None, &insight, who.writer(&insight.author))
            .map_err(|r| AppError::new(ErrorCode::Invalid, r.0))?;
        store.put(&insight).map_err(storage_error)?;
        Ok(insight)
    }

    pub async fn person(&self, person_id: &str) -> Result<PersonOverview, AppError> {
        self.unlocked().await?;
        self.db().await?.person_overview(person_id).map_err(storage_error)
    }

    /// The carer's own ideas, newest first, with the office's and partners' replies and who each
    /// is about. Opening them counts as reading the answers: the new ones are marked for this
    /// view, and not again.
    pub async fn my_ideas(&self) -> Result<Vec<MyIdea>, AppError> {
        let who = self.unlocked().await?;
        let mut store = self.db().await?;
        let seen = RepliesSeen::read(&store)?;
        let mut shown = std::collections::BTreeSet::new();
        let mut ideas = Vec::new();
        for row in store.insights_by_author(&who.staff_ref).map_err(storage_error)? {
            let shared = store.shared_items_of(&row.id).map_err(storage_error)?;
            let insight = store.get::<Insight>(&row.id).map_err(storage_error)?;
            let responses: Vec<_> = shared.iter().flat_map(|s| &s.responses).collect();
            let messages: Vec<_> = shared
                .iter()
                .flat_map(|s| &s.messages)
                .filter(|m| m.side == doorstep_model::ThreadSide::Partner)
                .collect();
            let new_replies = responses.iter().filter(|r| seen.is_new(&r.key, r.at)).count();
            let new_messages = messages.iter().filter(|m| seen.is_new(&m.key, m.at)).count();
            shown.extend(responses.iter().map(|r| r.key.clone()));
            shown.extend(messages.iter().map(|m| m.key.clone()));
            shown.extend(insight.comments.iter().map(|c| c.key.clone()));
            ideas.push(MyIdea {
                insight,
                person_name: name_of(&store, row.person_id.as_deref())?,
                shared,
                new_replies,
                new_messages,
                new_since: seen.at,
            });
        }
        RepliesSeen::write(&mut store, self.now(), &shown)?;
        Ok(ideas)
    }

    /// What reached this carer's ideas since "My ideas" was last opened, newest first: partners'
    /// answers and questions, and the office's comments (a decision not to take an idea further
    /// among them). The Today banner and the menu's count, so nothing arrives silently.
    pub async fn new_replies(&self) -> Result<Vec<NewReply>, AppError> {
        let who = self.unlocked().await?;
        let store = self.db().await?;
        let seen = RepliesSeen::read(&store)?;
        let mut replies = Vec::new();
        for row in store.insights_by_author(&who.staff_ref).map_err(storage_error)? {
            let person_name = name_of(&store, row.person_id.as_deref())?;
            let reply = |from: &str, said: String, at| NewReply {
                idea_id: row.id.clone(),
                idea_summary: row.summary.clone(),
                person_name: person_name.clone(),
                from: from.to_string(),
                said,
                at,
            };
            for item in store.shared_items_of(&row.id).map_err(storage_error)? {
                for response in item.responses.iter().filter(|r| seen.is_new(&r.key, r.at)) {
                    let message = response.message.trim();
                    let said = if message.is_empty() {
                        response.outcome.label().to_string()
                    } else {
                        format!("{} — {message}", response.outcome.label())
                    };
                    replies.push(reply(&item.partner.name, said, response.at));
                }
                for message in item
                    .messages
                    .iter()
                    .filter(|m| m.side == doorstep_model::ThreadSide::Partner && seen.is_new(&m.key, m.at))
                {
                    replies.push(reply(&item.partner.name, format!("wrote: {}", message.text.trim()), message.at));
                }
            }
            let insight = store.get::<Insight>(&row.id).map_err(storage_error)?;
            for comment in insight.comments.iter().filter(|c| c.author != who.staff_ref && seen.is_new(&c.key, c.at)) {
                replies.push(reply("The office", comment.text.trim().to_string(), comment.at));
            }
        }
        replies.sort_by_key(|r| std::cmp::Reverse(r.at));
        Ok(replies)
    }

    async fn edit_visit(
        &self,
        visit_id: &str,
        edit: impl FnOnce(&mut Visit) -> Result<(), StoreError>,
    ) -> Result<VisitScreen, AppError> {
        let who = self.unlocked().await?;
        let mut store = self.db().await?;
        let visit: Visit = store.get(visit_id).map_err(storage_error)?;
        ensure_on_visit(&who, &visit)?;
        let staff = StaffId::new(who.staff_ref.clone());
        // The hub's own write policy, checked here first: what the app allows, the hub takes.
        store
            .update::<Visit>(visit_id, |after| {
                let seen = after.clone();
                edit(after)?;
                Visit::check_write(Some(&seen), after, who.writer(&staff)).map_err(refused)
            })
            .map_err(storage_error)?;
        screen(&store, &who, visit_id)
    }

    /// Edits the visit's note, creating it on the first edit, and records who wrote in it.
    pub(crate) async fn edit_note(
        &self,
        visit_id: &str,
        edit: impl FnOnce(&mut VisitNote) -> Result<(), StoreError>,
    ) -> Result<VisitScreen, AppError> {
        self.edit_note_from(visit_id, &DocVersion::default(), edit).await?;
        let who = self.unlocked().await?;
        screen(&*self.db().await?, &who, visit_id)
    }

    /// [`Device::edit_note`] against the version of the note the screen showed.
    async fn edit_note_from(
        &self,
        visit_id: &str,
        base: &DocVersion,
        edit: impl FnOnce(&mut VisitNote) -> Result<(), StoreError>,
    ) -> Result<Updated<VisitNote>, AppError> {
        let who = self.unlocked().await?;
        let mut store = self.db().await?;
        let visit: Visit = store.get(visit_id).map_err(storage_error)?;
        ensure_on_visit(&who, &visit)?;
        let note_id = NoteId::for_visit(visit.id).to_string();
        if matches!(store.get::<VisitNote>(&note_id), Err(StoreError::NotFound { .. })) {
            store
                .put(&VisitNote::new(NoteId::for_visit(visit.id), visit.id, visit.person_id))
                .map_err(storage_error)?;
        }
        let staff = StaffId::new(who.staff_ref.clone());
        store
            .update_from::<VisitNote>(&note_id, base, |note| {
                // Judged against the note as the carer saw it (the base), as the edit is made.
                let seen = note.clone();
                edit(note)?;
                note.touched_by(&staff, Utc::now());
                check_note(Some(&seen), note, Some(&visit), who.writer(&staff)).map_err(refused)
            })
            .map_err(storage_error)
    }
}

/// A write the policy refuses, as the store's error.
fn refused(r: Refused) -> StoreError {
    StoreError::Invalid(r.0)
}

/// The device setting holding when the carer last opened "My ideas".
const REPLIES_SEEN_AT: &str = "replies_seen_at";
const REPLIES_SEEN_KEYS: &str = "replies_seen_keys";

/// What "My ideas" last showed the carer: the keys of the answers, messages and comments on
/// screen, and when. An answer is new when its key was not shown, whatever time its writer's
/// clock gave it: one written offline yesterday and synced today is still news. (A device that
/// kept only the time, from before keys were kept, judges by time until "My ideas" is next
/// opened.)
struct RepliesSeen {
    at: Option<chrono::DateTime<Utc>>,
    keys: Option<std::collections::BTreeSet<String>>,
}

impl RepliesSeen {
    fn read(store: &Store) -> Result<Self, AppError> {
        let at = store
            .setting(REPLIES_SEEN_AT)
            .map_err(storage_error)?
            .and_then(|at| chrono::DateTime::parse_from_rfc3339(&at).ok())
            .map(|at| at.with_timezone(&Utc));
        // One key a line (keys are ids: no line breaks in them).
        let keys = store
            .setting(REPLIES_SEEN_KEYS)
            .map_err(storage_error)?
            .map(|keys| keys.lines().map(str::to_string).collect());
        Ok(RepliesSeen { at, keys })
    }

    fn is_new(&self, key: &str, written: chrono::DateTime<Utc>) -> bool {
        match &self.keys {
            Some(keys) => !keys.contains(key),
            None => self.at.is_none_or(|seen| written > seen),
        }
    }

    fn write(
        store: &mut Store,
        now: chrono::DateTime<Utc>,
        shown: &std::collections::BTreeSet<String>,
    ) -> Result<(), AppError> {
        let keys: Vec<&str> = shown.iter().map(String::as_str).collect();
        store.set_setting(REPLIES_SEEN_KEYS, &keys.join("\n")).map_err(storage_error)?;
        store.set_setting(REPLIES_SEEN_AT, &now.to_rfc3339()).map_err(storage_error)
    }
}

/// The person's name, when their record is on this device.
fn name_of(store: &Store, person_id: Option<&str>) -> Result<Option<String>, AppError> {
    let Some(id) = person_id else { return Ok(None) };
    match store.get::<Person>(id) {
        Ok(person) => Ok(Some(person.name.display())),
        Err(StoreError::NotFound { .. }) => Ok(None),
        Err(e) => Err(storage_error(e)),
    }
}

/// The person's visit before this one that has a note: who was there, what they wrote and saw.
fn handover(
    store: &Store,
    directory: &doorstep_model::Directory,
    visit: &Visit,
    person: Option<&Person>,
) -> Result<Option<Handover>, AppError> {
    let person_id = visit.person_id.to_string();
    let could_not = store.could_not_before(&person_id, visit).map_err(storage_error)?;
    let said = |v: &Visit| {
        v.could_not.as_ref().map(|c| {
            let detail = if c.detail.trim().is_empty() { String::new() } else { format!(" – {}", c.detail.trim()) };
            format!(
                "{} visit: {}{detail} ({}, {})",
                doorstep_model::note::uk_when(v.window.start),
                c.reason.label(),
                directory.staff_label(c.by.as_str()),
                doorstep_model::note::uk_when(c.at)
            )
        })
    };
    let Some((before, note)) = store.note_before(&person_id, visit).map_err(storage_error)? else {
        // No note to hand over, but a visit that could not happen is itself the handover.
        return Ok(could_not.map(|v| Handover {
            visit_id: v.id.to_string(),
            at: v.window.start,
            by: v.carers.iter().map(|c| directory.staff_label(c.as_str())).collect(),
            narrative: String::new(),
            changes: Vec::new(),
            news2: None,
            calls: Vec::new(),
            outcomes: Vec::new(),
            could_not: said(&v),
            late_entries: Vec::new(),
            visit_here: true,
        }));
    };
    // That visit's readings are scored as they were on its own UK day.
    let day = before.as_ref().map(Visit::day).unwrap_or_else(|| visit.day());
    let context = &person.map(|p| p.scoring_context(day)).unwrap_or_default();
    // Who wrote it, else who was on the visit; when that visit was, else when it was written.
    let written = note.authors.iter().map(|a| a.first_edit).min();
    let by: Vec<String> = if note.authors.is_empty() {
        before.iter().flat_map(|v| &v.carers).map(|c| directory.staff_label(c.as_str())).collect()
    } else {
        note.authors.iter().map(|a| directory.staff_label(a.staff.as_str())).collect()
    };
    let at = before.as_ref().map(|v| v.checked_in_at.unwrap_or(v.window.start)).or(written).unwrap_or_default();
    let changes = note
        .changes()
        .map(|o| {
            let usual = person.and_then(|p| p.usual_for(o.sign)).map(|u| format!("; usually {u}")).unwrap_or_default();
            format!("{} ({}{usual})", o.sign.label(), o.compared_to_usual.label().to_lowercase())
        })
        .collect();
    let news2 = note
        .vitals
        .as_ref()
        .filter(|v| !v.is_empty())
        .and_then(|v| news2::assess(v, context).ok())
        .map(|a| a.summary());
    Ok(Some(Handover {
        visit_id: note.visit_id.to_string(),
        at,
        by,
        narrative: note.narrative.clone(),
        changes,
        news2,
        calls: note.calls.iter().map(|c| c.summary()).collect(),
        outcomes: note.outcomes.iter().map(|o| format!("{} on {}", o.kind.label(), o.day.format("%-d %b"))).collect(),
        // That visit's own reason, or a later visit's that could not happen (its time says which).
        could_not: before
            .as_ref()
            .filter(|v| v.could_not.is_some())
            .or(could_not.as_ref().filter(|v| v.window.start > at))
            .and_then(said),
        late_entries: note
            .late_entries
            .iter()
            .map(|e| {
                format!(
                    "Late entry, written {} by {}: {}",
                    doorstep_model::note::uk_when(e.at),
                    directory.staff_label(e.by.as_str()),
                    e.text
                )
            })
            .collect(),
        visit_here: before.is_some(),
    }))
}

/// The most before a visit's check-in a call recorded with it may have been made.
const CALL_BEFORE_CHECK_IN_HOURS: i64 = 12;

/// When the carer says they phoned (`given`), else now: not in the future (a minute's grace for
/// the clock), nor more than 12 hours before the visit's check-in (its start, if not checked in).
fn call_time(
    given: Option<chrono::DateTime<Utc>>,
    now: chrono::DateTime<Utc>,
    visit: &Visit,
) -> Result<chrono::DateTime<Utc>, AppError> {
    let Some(at) = given else { return Ok(now) };
    if at > now + chrono::Duration::minutes(1) {
        return Err(AppError::new(
            ErrorCode::Invalid,
            format!("{} is later than now: give the time you phoned.", doorstep_model::note::uk_clock(at)),
        )
        .about("at"));
    }
    let began = visit.checked_in_at.unwrap_or(visit.window.start);
    if began - at > chrono::Duration::hours(CALL_BEFORE_CHECK_IN_HOURS) {
        return Err(AppError::new(
            ErrorCode::Invalid,
            format!(
                "That time is more than {CALL_BEFORE_CHECK_IN_HOURS} hours before this visit began: give the \
                 time you phoned."
            ),
        )
        .about("at"));
    }
    Ok(at)
}

/// The name of the service a carer phoned, where this device knows it: the person's GP practice
/// from their record, or the area's service of that kind from the provider's directory (the
/// first covering the person's postcode). Empty when unknown.
fn service_name(store: &Store, visit: &Visit, to: CallTarget) -> Result<String, AppError> {
    let person = match store.get::<Person>(&visit.person_id.to_string()) {
        Ok(p) => Some(p),
        Err(StoreError::NotFound { .. }) => None,
        Err(e) => return Err(storage_error(e)),
    };
    if to == CallTarget::GpPractice {
        return Ok(person.map(|p| p.gp_practice.trim().to_string()).unwrap_or_default());
    }
    let Some(kind) = to.service_kind() else { return Ok(String::new()) };
    let directory = crate::directory::directory_of(store)?;
    let postcode = person.as_ref().map(|p| p.address.postcode.as_str()).unwrap_or_default();
    Ok(directory.services_for(postcode).find(|s| s.kind == kind).map(|s| s.name.trim().to_string()).unwrap_or_default())
}

/// A carer edits only visits they are on; a manager any.
pub(crate) fn ensure_on_visit(who: &Who, visit: &Visit) -> Result<(), AppError> {
    if who.role == Role::Manager || visit.carers.iter().any(|c| c.as_str() == who.staff_ref) {
        Ok(())
    } else {
        Err(AppError::new(ErrorCode::Invalid, "You are not on this visit's rota."))
    }
}

/// Everything the visit screen shows, read fresh from the store.
fn screen(store: &Store, who: &Who, visit_id: &str) -> Result<VisitScreen, AppError> {
    let visit: Visit = store.get(visit_id).map_err(storage_error)?;
    let person = match store.get::<Person>(&visit.person_id.to_string()) {
        Ok(p) => Some(p),
        Err(StoreError::NotFound { .. }) => None,
        Err(e) => return Err(storage_error(e)),
    };
    let note_id = NoteId::for_visit(visit.id).to_string();
    let (note, note_version) = match store.get_versioned::<VisitNote>(&note_id) {
        Ok(versioned) => versioned,
        Err(StoreError::NotFound { .. }) => {
            // No one has written yet: the editor types on the note's shared first version.
            let empty = VisitNote::new(NoteId::for_visit(visit.id), visit.id, visit.person_id);
            let version = store.genesis_version(&empty).map_err(storage_error)?;
            (empty, version)
        }
        Err(e) => return Err(storage_error(e)),
    };
    // Age (and so whether NEWS2 applies) is worked out on the visit's UK day, not the tablet's.
    let day = visit.day();
    // Advice never waits for the person's record to sync: without it the readings are scored as
    // an adult's on Scale 1 (the screen says so).
    let context = person.as_ref().map(|p| p.scoring_context(day)).unwrap_or_default();
    let news2 = note.vitals.as_ref().filter(|v| !v.is_empty()).and_then(|v| news2::assess(v, &context).ok());
    let advice = escalation::advice(news2.as_ref(), &note.soft_signs);
    let scored_without_record = person.is_none() && news2.is_some();
    let earlier: Vec<EarlierReadings> = note
        .earlier_vitals
        .iter()
        .map(|set| EarlierReadings {
            at: set.at,
            summary: match news2::assess(&set.vitals, &context) {
                Ok(assessment) => assessment.summary(),
                Err(e) => e.to_string(),
            },
        })
        .collect();
    let directory = crate::directory::directory_of(store)?;
    let mut phones = advice
        .as_ref()
        .map(|advice| directory.who_to_phone_for(advice, person.as_ref()))
        .unwrap_or_default()
        .into_iter();
    let phone_first = phones.next();
    let then_phone = phones.collect();
    let office = directory.office_numbers();
    let handover = handover(store, &directory, &visit, person.as_ref())?;
    let outcomes = crate::outcomes::rows_of(store, &directory, &note)?;
    let at_the_door = person
        .as_ref()
        .map(|p| AtTheDoor {
            address: p
                .address
                .lines
                .iter()
                .chain(std::iter::once(&p.address.postcode))
                .map(|l| l.trim().to_string())
                .filter(|l| !l.is_empty())
                .collect(),
            access: p.address.access.trim().to_string(),
            communication_needs: p.communication_needs.trim().to_string(),
        })
        .unwrap_or_default();
    // What to say on the phone, whether or not the person's record has reached this tablet.
    let sbard = advice.as_ref().filter(|a| a.level > EscalationLevel::Routine).map(|_| {
        // A receptionist knows a carer by name; without one, "a carer (staff reference C001)".
        let caller = Caller {
            name: directory.staff_name(&who.staff_ref).unwrap_or_default(),
            organisation: &who.organisation,
            callback: directory.callback(),
        };
        Sbard::for_visit(&caller, &who.staff_ref, person.as_ref(), &note, news2.as_ref(), day)
    });
    Ok(VisitScreen {
        person_name: person.as_ref().map(|p| p.name.display()),
        what_matters_to_me: person.as_ref().map(|p| p.what_matters_to_me.clone()).unwrap_or_default(),
        known_risks: person.as_ref().map(|p| p.known_risks.clone()).unwrap_or_default(),
        visit,
        note,
        note_version,
        news2,
        advice,
        plan: person.as_ref().and_then(|p| p.plan.clone()),
        usual: person.as_ref().map(|p| p.usual.clone()).unwrap_or_default(),
        earlier,
        phone_first,
        then_phone,
        office,
        handover,
        at_the_door,
        scored_without_record,
        sbard,
        outcomes,
    })
}
