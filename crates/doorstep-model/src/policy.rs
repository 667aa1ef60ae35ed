//! Who may write what, per record kind and per field: one policy, run by the hub on every push
//! (it compares the record before and after) and by the device before it writes, so the app and
//! the hub can never disagree about what a carer may change.
//!
//! - Carers record their own visits: check-in and out, task outcomes, "could not visit" (as
//!   themselves); they write the visit's note (as themselves, about the visit's own person) and
//!   submit ideas (as themselves). They never change a person's record (identity, consent,
//!   plan, baselines), the rota (whose visit, who is on it, when, which tasks), the office's
//!   review marks, or what another carer wrote.
//! - Managers write their provider's records (which provider is the hub's check); a consent
//!   they record names them.
//! - Partners and commissioners write nothing by sync: partners answer through the hub's pages.

use crate::{Directory, Insight, InsightStatus, Person, Role, SharedItem, StaffId, ThreadSide, Visit, VisitNote};

/// Who is writing: the role their device holds and their staff reference.
#[derive(Debug, Clone, Copy)]
pub struct Writer<'a> {
    pub role: Role,
    pub staff: &'a StaffId,
}

/// Why a write breaks the policy, in words for the office's held-back list.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

fn refuse<T>(why: impl Into<String>) -> Result<T, Refused> {
    Err(Refused(why.into()))
}

/// A record kind's write rules. `before` is `None` when the record is new.
pub trait WritePolicy: Sized {
    fn check_write(before: Option<&Self>, after: &Self, writer: Writer<'_>) -> Result<(), Refused>;
}

/// Only a provider's devices write by sync; partners and commissioners never do.
fn provider_device(writer: Writer<'_>) -> Result<(), Refused> {
    match writer.role {
        Role::Carer | Role::Manager => Ok(()),
        Role::Partner | Role::Commissioner => refuse("partners and commissioners do not write records by sync"),
    }
}

impl WritePolicy for Person {
    fn check_write(before: Option<&Self>, after: &Self, writer: Writer<'_>) -> Result<(), Refused> {
        provider_device(writer)?;
        if writer.role == Role::Carer {
            if before != Some(after) {
                return refuse(
                    "a carer may not create or change a person's record (details, consent, plan or what is usual): the office keeps it",
                );
            }
            return Ok(());
        }
        // A consent the manager recorded names them: no one records consent in another's name.
        let sectors = [
            (before.and_then(|p| p.consent.nhs.as_ref()), after.consent.nhs.as_ref()),
            (before.and_then(|p| p.consent.council.as_ref()), after.consent.council.as_ref()),
            (before.and_then(|p| p.consent.voluntary_sector.as_ref()), after.consent.voluntary_sector.as_ref()),
        ];
        for (was, now) in sectors {
            if let Some(now) = now
                && was != Some(now)
                && &now.recorded_by != writer.staff
            {
                return refuse(format!(
                    "a consent must be recorded by the manager who records it ({} is not {})",
                    now.recorded_by, writer.staff
                ));
            }
        }
        Ok(())
    }
}

/// What of a visit is the rota's (the office's), not the carer's.
fn rota_of(visit: &Visit) -> impl PartialEq + '_ {
    let tasks: Vec<_> = visit.tasks.iter().map(|t| (&t.key, t.kind, &t.description)).collect();
    (visit.id, visit.person_id, visit.window, &visit.carers, tasks, &visit.reviewed)
}

impl WritePolicy for Visit {
    fn check_write(before: Option<&Self>, after: &Self, writer: Writer<'_>) -> Result<(), Refused> {
        provider_device(writer)?;
        if writer.role == Role::Manager {
            return Ok(());
        }
        let Some(before) = before else { return refuse("a carer may not create a visit: the rota is the office's") };
        if !before.carers.contains(writer.staff) {
            return refuse("a carer may change only visits they are on");
        }
        if rota_of(before) != rota_of(after) {
            return refuse(
                "a carer may not change whose visit it is, who is on it, when, its tasks or the office's review",
            );
        }
        if after.could_not != before.could_not
            && let Some(said) = &after.could_not
            && &said.by != writer.staff
        {
            return refuse("a carer says a visit could not happen as themselves");
        }
        Ok(())
    }
}

/// A note's rules need its visit (the hub and the device load it): whose person it is about and
/// who is on it.
pub fn check_note(
    before: Option<&VisitNote>,
    after: &VisitNote,
    visit: Option<&Visit>,
    writer: Writer<'_>,
) -> Result<(), Refused> {
    provider_device(writer)?;
    if writer.role == Role::Manager {
        return Ok(());
    }
    let Some(visit) = visit else { return refuse("a note's visit must be known before a carer writes it") };
    if after.visit_id != visit.id || after.person_id != visit.person_id {
        return refuse("a note is about its own visit's person");
    }
    if !visit.carers.contains(writer.staff) {
        return refuse("a carer writes notes only for visits they are on");
    }
    if let Some(before) = before
        && (before.id != after.id || before.visit_id != after.visit_id || before.person_id != after.person_id)
    {
        return refuse("a note stays with its visit and person");
    }
    let others = |note: Option<&VisitNote>| -> Vec<_> {
        note.map(|n| n.authors.iter().filter(|a| &a.staff != writer.staff).cloned().collect()).unwrap_or_default()
    };
    if others(before) != others(Some(after)) {
        return refuse("a carer writes a note as themselves, never as another carer");
    }
    // Calls and late entries are added, each as the writer; what was there stays as it was.
    let calls_before = before.map(|b| b.calls.as_slice()).unwrap_or_default();
    if !kept_and_own(calls_before, &after.calls, |c| &c.by == writer.staff) {
        return refuse("calls are recorded by the carer who made them, and not changed afterwards");
    }
    let late_before = before.map(|b| b.late_entries.as_slice()).unwrap_or_default();
    if !kept_and_own(late_before, &after.late_entries, |e| &e.by == writer.staff) {
        return refuse("late entries are written by the carer adding them, and not changed afterwards");
    }
    let outcomes_before = before.map(|b| b.outcomes.as_slice()).unwrap_or_default();
    if !kept_and_own(outcomes_before, &after.outcomes, |o| &o.by == writer.staff) {
        return refuse("outcomes are recorded by the carer who learned of them, and not changed afterwards");
    }
    Ok(())
}

/// Everything in `was` is still in `now`, unchanged, and whatever was added passes `own`.
fn kept_and_own<T: PartialEq>(was: &[T], now: &[T], own: impl Fn(&T) -> bool) -> bool {
    was.iter().all(|w| now.contains(w)) && now.iter().filter(|n| !was.contains(n)).all(own)
}

impl WritePolicy for Insight {
    fn check_write(before: Option<&Self>, after: &Self, writer: Writer<'_>) -> Result<(), Refused> {
        provider_device(writer)?;
        if writer.role == Role::Manager {
            return Ok(());
        }
        match before {
            None if &after.author == writer.staff
                && after.status == InsightStatus::Submitted
                && after.shares.is_empty()
                && after.comments.is_empty()
                && after.follow_up.is_none() =>
            {
                Ok(())
            }
            None => refuse("a carer submits an idea as themselves, for the office to review and share"),
            Some(before) if before == after => Ok(()),
            Some(_) => refuse("once submitted, an idea is the office's to review, change and share"),
        }
    }
}

impl WritePolicy for Directory {
    fn check_write(before: Option<&Self>, after: &Self, writer: Writer<'_>) -> Result<(), Refused> {
        match writer.role {
            Role::Manager => Ok(()),
            _ if before == Some(after) => Ok(()),
            _ => refuse("the directory is kept by the office's managers"),
        }
    }
}

impl WritePolicy for SharedItem {
    fn check_write(before: Option<&Self>, after: &Self, writer: Writer<'_>) -> Result<(), Refused> {
        if before == Some(after) {
            return Ok(());
        }
        provider_device(writer)?;
        // The conversation: what was said stays said, and each new message is the writer's own.
        if let Some(before) = before {
            if !before.messages_kept_in(after) {
                return refuse("a message in a shared item's conversation cannot be changed or removed");
            }
            if before.new_messages_in(after).any(|m| m.side != ThreadSide::Provider || m.staff != writer.staff.as_str())
            {
                return refuse("a message may only be written in the writer's own name, from the provider's side");
            }
        } else if !after.messages.is_empty() {
            return refuse("a shared item starts with no conversation");
        }
        match writer.role {
            Role::Manager => Ok(()),
            _ => {
                // A carer may add messages to an item about their own idea, and nothing else.
                let Some(before) = before else {
                    return refuse("what is shared with partners is the office's decision");
                };
                if after.raised_by.as_str() != writer.staff.as_str() {
                    return refuse("only the care worker who raised the idea may write to the partner about it");
                }
                let only_messages = SharedItem { messages: before.messages.clone(), ..after.clone() };
                if &only_messages != before {
                    return refuse("what is shared with partners is the office's decision");
                }
                Ok(())
            }
        }
    }
}

/// The longest text a record may hold in one field, in characters: a visit note's free text,
/// and everything else (a detail, a summary, a reason).
pub const NOTE_TEXT_MOST: usize = 50_000;
pub const FIELD_TEXT_MOST: usize = 5_000;

/// Text fields over their limit, for the hub to hold a record back before storing it (a few
/// kilobytes of compressed changes can carry millions of characters to every reader).
pub trait WithinSize {
    /// The first field over its limit, in words.
    fn oversize(&self) -> Option<String>;
}

fn first_over<'a>(fields: impl IntoIterator<Item = (&'static str, &'a str, usize)>) -> Option<String> {
    fields
        .into_iter()
        .find(|(_, text, most)| text.chars().count() > *most)
        .map(|(name, text, most)| format!("{name} has {} characters (at most {most})", text.chars().count()))
}

impl WithinSize for VisitNote {
    fn oversize(&self) -> Option<String> {
        let mut fields = vec![("the note", self.narrative.as_str(), NOTE_TEXT_MOST)];
        fields.extend(self.soft_signs.iter().map(|s| ("a sign's detail", s.detail.as_str(), FIELD_TEXT_MOST)));
        fields.extend(self.calls.iter().flat_map(|c| {
            [
                ("a call's detail", c.detail.as_str(), FIELD_TEXT_MOST),
                ("who was spoken to", c.spoke_to.as_str(), FIELD_TEXT_MOST),
            ]
        }));
        fields.extend(self.late_entries.iter().map(|e| ("a late entry", e.text.as_str(), FIELD_TEXT_MOST)));
        fields.push(("food and drink", self.food_fluid.detail.as_str(), FIELD_TEXT_MOST));
        first_over(fields)
    }
}

impl WithinSize for Insight {
    fn oversize(&self) -> Option<String> {
        let mut fields = vec![
            ("the summary", self.summary.as_str(), FIELD_TEXT_MOST),
            ("the detail", self.detail.as_str(), FIELD_TEXT_MOST),
            ("the suggested action", self.suggested_action.as_str(), FIELD_TEXT_MOST),
        ];
        fields.extend(self.comments.iter().map(|c| ("a comment", c.text.as_str(), FIELD_TEXT_MOST)));
        fields.extend(self.follow_up.iter().map(|f| ("the follow-up", f.detail.as_str(), FIELD_TEXT_MOST)));
        first_over(fields)
    }
}

impl WithinSize for SharedItem {
    fn oversize(&self) -> Option<String> {
        let mut fields = vec![
            ("the summary", self.summary.as_str(), FIELD_TEXT_MOST),
            ("the detail", self.detail.as_str(), FIELD_TEXT_MOST),
            ("the suggested action", self.suggested_action.as_str(), FIELD_TEXT_MOST),
            ("the purpose", self.purpose.as_str(), FIELD_TEXT_MOST),
            ("the reason for sharing out of area", self.out_of_area_reason.as_str(), FIELD_TEXT_MOST),
        ];
        fields.extend(self.responses.iter().map(|r| ("an answer", r.message.as_str(), FIELD_TEXT_MOST)));
        fields.extend(self.messages.iter().map(|m| ("a message", m.text.as_str(), FIELD_TEXT_MOST)));
        first_over(fields)
    }
}

impl WithinSize for Person {
    fn oversize(&self) -> Option<String> {
        let mut fields = vec![
            ("what matters to them", self.what_matters_to_me.as_str(), FIELD_TEXT_MOST),
            ("communication needs", self.communication_needs.as_str(), FIELD_TEXT_MOST),
            ("how to get in", self.address.access.as_str(), FIELD_TEXT_MOST),
        ];
        fields.extend(self.known_risks.iter().map(|r| ("a known risk", r.as_str(), FIELD_TEXT_MOST)));
        fields.extend(self.usual.iter().map(|u| ("what is usual", u.usual.as_str(), FIELD_TEXT_MOST)));
        first_over(fields)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::visit::{CouldNotReason, CouldNotVisit, TaskOutcome, TimeWindow};
    use crate::{
        CallOutcome, CallRecord, CallTarget, ConsentRecord, InsightId, LateEntry, NoteAuthor, NoteId, PartnerKind,
        PersonId, Urgency, VisitId, VisitStatus,
    };
    use chrono::{TimeZone, Utc};
    use uuid::Uuid;

    fn at(h: u32) -> chrono::DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 3, h, 0, 0).single().expect("time")
    }

    fn staff(s: &str) -> StaffId {
        StaffId::new(s)
    }

    fn carer(s: &StaffId) -> Writer<'_> {
        Writer { role: Role::Carer, staff: s }
    }

    fn manager(s: &StaffId) -> Writer<'_> {
        Writer { role: Role::Manager, staff: s }
    }

    fn visit() -> Visit {
        Visit {
            id: VisitId(Uuid::from_u128(1)),
            person_id: PersonId(Uuid::from_u128(2)),
            window: TimeWindow { start: at(9), end: at(10) },
            carers: vec![staff("C001")],
            tasks: vec![crate::Task {
                key: "meal-1".into(),
                kind: crate::TaskKind::Meal,
                description: "Breakfast".into(),
                outcome: None,
            }],
            checked_in_at: None,
            checked_out_at: None,
            status: VisitStatus::Scheduled,
            could_not: None,
            reviewed: None,
        }
    }

    #[test]
    fn a_carer_records_their_visit_but_not_the_rota() {
        let (sam, priya) = (staff("C001"), staff("C002"));
        let before = visit();
        let mut done = before.clone();
        done.check_in(at(9)).expect("in");
        done.record_task("meal-1", TaskOutcome::Done).expect("task");
        assert_eq!(Visit::check_write(Some(&before), &done, carer(&sam)), Ok(()));
        assert!(Visit::check_write(Some(&before), &done, carer(&priya)).is_err(), "not on it");
        assert!(Visit::check_write(None, &done, carer(&sam)).is_err(), "no new visits");

        for change in [
            |v: &mut Visit| v.carers.push(StaffId::new("C003")),
            |v: &mut Visit| v.window.start -= chrono::TimeDelta::hours(1),
            |v: &mut Visit| v.person_id = PersonId(Uuid::from_u128(9)),
            |v: &mut Visit| v.tasks[0].description = "Nothing".into(),
            |v: &mut Visit| v.reviewed = Some(crate::Reviewed { by: StaffId::new("C001"), at: at(11) }),
        ] {
            let mut changed = before.clone();
            change(&mut changed);
            assert!(Visit::check_write(Some(&before), &changed, carer(&sam)).is_err(), "{changed:?}");
            assert_eq!(Visit::check_write(Some(&before), &changed, manager(&staff("M001"))), Ok(()));
        }
        let mut said = before.clone();
        said.could_not(CouldNotVisit {
            reason: CouldNotReason::NoAnswer,
            detail: String::new(),
            by: priya.clone(),
            at: at(9),
        })
        .expect("could not");
        assert!(Visit::check_write(Some(&before), &said, carer(&sam)).is_err(), "said as someone else");
    }

    fn note(v: &Visit) -> VisitNote {
        VisitNote::new(NoteId::for_visit(v.id), v.id, v.person_id)
    }

    #[test]
    fn a_carer_writes_their_visits_note_as_themselves_about_its_person() {
        let (sam, priya) = (staff("C001"), staff("C002"));
        let v = visit();
        let mut written = note(&v);
        written.narrative = "Ate well".into();
        written.touched_by(&sam, at(9));
        assert_eq!(check_note(None, &written, Some(&v), carer(&sam)), Ok(()));
        assert!(check_note(None, &written, Some(&v), carer(&priya)).is_err(), "not on the visit");
        assert!(check_note(None, &written, None, carer(&sam)).is_err(), "visit unknown");

        let mut elsewhere = written.clone();
        elsewhere.person_id = PersonId(Uuid::from_u128(77));
        assert!(check_note(None, &elsewhere, Some(&v), carer(&sam)).is_err(), "names another person");

        let mut as_priya = written.clone();
        as_priya.authors.push(NoteAuthor { staff: priya.clone(), first_edit: at(9), last_edit: at(9) });
        assert!(check_note(Some(&written), &as_priya, Some(&v), carer(&sam)).is_err(), "another author");

        let call = |by: &StaffId| CallRecord {
            to: CallTarget::GpPractice,
            to_name: String::new(),
            at: at(9),
            spoke_to: String::new(),
            outcome: CallOutcome::GpVisiting,
            detail: String::new(),
            by: by.clone(),
        };
        let mut called = written.clone();
        called.calls.push(call(&sam));
        assert_eq!(check_note(Some(&written), &called, Some(&v), carer(&sam)), Ok(()));
        let mut forged = written.clone();
        forged.calls.push(call(&priya));
        assert!(check_note(Some(&written), &forged, Some(&v), carer(&sam)).is_err(), "a call as Priya");
        let mut erased = called.clone();
        erased.calls.clear();
        assert!(check_note(Some(&called), &erased, Some(&v), carer(&sam)).is_err(), "a call removed");

        let late = |by: &StaffId| LateEntry { text: "Forgot".into(), by: by.clone(), at: at(18) };
        let mut added = written.clone();
        added.late_entries.push(late(&sam));
        assert_eq!(check_note(Some(&written), &added, Some(&v), carer(&sam)), Ok(()));
        let mut rewritten = added.clone();
        rewritten.late_entries[0].text = "Something else".into();
        assert!(check_note(Some(&added), &rewritten, Some(&v), carer(&sam)).is_err(), "a late entry rewritten");
    }

    fn person() -> Person {
        Person::new(PersonId(Uuid::from_u128(2)), "P00001", "Margaret", "Jones")
    }

    #[test]
    fn a_person_is_the_offices_and_a_consent_names_the_manager_who_recorded_it() {
        let (sam, mo) = (staff("C001"), staff("M001"));
        let before = person();
        let mut changed = before.clone();
        changed.nhs_number = None;
        changed.what_matters_to_me = "Her garden".into();
        assert!(Person::check_write(Some(&before), &changed, carer(&sam)).is_err());
        assert!(Person::check_write(None, &before, carer(&sam)).is_err());
        assert_eq!(Person::check_write(Some(&before), &before, carer(&sam)), Ok(()), "nothing changed");
        assert_eq!(Person::check_write(Some(&before), &changed, manager(&mo)), Ok(()));

        let consent = |by: &StaffId| ConsentRecord {
            given: true,
            recorded_by: by.clone(),
            recorded_at: at(9),
            note: String::new(),
        };
        let mut forged = before.clone();
        forged.consent.nhs = Some(consent(&staff("M002")));
        assert!(Person::check_write(Some(&before), &forged, manager(&mo)).is_err(), "in another manager's name");
        let mut own = before.clone();
        own.consent.nhs = Some(consent(&mo));
        assert_eq!(Person::check_write(Some(&before), &own, manager(&mo)), Ok(()));
        // An earlier manager's consent, untouched, is not this manager's to answer for.
        assert_eq!(Person::check_write(Some(&forged), &forged, manager(&mo)), Ok(()));
    }

    /// A submitted idea about person 2 by `author`; tests change what they judge.
    fn idea_by(author: &StaffId) -> Insight {
        Insight {
            follow_up: None,
            id: InsightId(Uuid::from_u128(5)),
            person_id: Some(PersonId(Uuid::from_u128(2))),
            author: author.clone(),
            created_at: at(9),
            summary: "Grab rail".into(),
            detail: String::new(),
            suggested_action: String::new(),
            who_could_act: vec![PartnerKind::CouncilAdultSocialCare],
            urgency: Urgency::Routine,
            consent_basis: crate::ConsentBasis::NotYetAsked,
            status: InsightStatus::Submitted,
            comments: Vec::new(),
            shares: Vec::new(),
        }
    }

    #[test]
    fn a_carer_submits_ideas_as_themselves_and_the_office_does_the_rest() {
        let (sam, priya) = (staff("C001"), staff("C002"));
        let idea = idea_by(&sam);
        assert_eq!(Insight::check_write(None, &idea, carer(&sam)), Ok(()));
        assert!(Insight::check_write(None, &idea, carer(&priya)).is_err(), "as another carer");
        let mut shared = idea.clone();
        shared.status = InsightStatus::Shared;
        assert!(Insight::check_write(Some(&idea), &shared, carer(&sam)).is_err());
        assert_eq!(Insight::check_write(Some(&idea), &shared, manager(&staff("M001"))), Ok(()));
        let partner = Writer { role: Role::Partner, staff: &sam };
        assert!(Insight::check_write(Some(&idea), &shared, partner).is_err());
    }

    #[test]
    fn only_the_office_answers_did_it_help_on_an_idea() {
        let (sam, mo) = (staff("C001"), staff("M001"));
        let idea = Insight {
            who_could_act: vec![PartnerKind::OtEquipment],
            consent_basis: crate::ConsentBasis::NotIdentifiable,
            status: InsightStatus::Actioned,
            ..idea_by(&sam)
        };
        let mut answered = idea.clone();
        answered.follow_up = Some(crate::outcome::FollowUp {
            answer: crate::outcome::HelpAnswer::Yes,
            by: "Sam".into(),
            at: at(10),
            detail: "No falls since".into(),
        });
        // Even the carer who raised it: once submitted, the idea is the office's.
        assert!(Insight::check_write(Some(&idea), &answered, carer(&sam)).is_err());
        assert_eq!(Insight::check_write(Some(&idea), &answered, manager(&mo)), Ok(()));
        let mut changed = answered.clone();
        changed.follow_up = None;
        assert!(Insight::check_write(Some(&answered), &changed, carer(&sam)).is_err(), "nor remove it");
    }

    #[test]
    fn the_carer_who_raised_an_idea_writes_to_the_partner_in_their_own_name_and_nothing_else() {
        let (sam, priya, mo) = (staff("C001"), staff("C002"), staff("M001"));
        let idea = Insight {
            suggested_action: "OT visit".into(),
            who_could_act: vec![PartnerKind::OtEquipment],
            consent_basis: crate::ConsentBasis::NotIdentifiable,
            ..idea_by(&sam)
        };
        let partner =
            crate::PartnerOrg { id: Uuid::nil(), name: "Northbrook OT".into(), kind: PartnerKind::OtEquipment };
        let provider = crate::ProviderRef { id: Uuid::nil(), name: "Sunrise".into() };
        let item = SharedItem::from_insight(
            crate::SharedItemId(Uuid::from_u128(6)),
            &idea,
            provider,
            partner,
            "For an OT visit",
            "M001",
            at(10),
            None,
            None,
            crate::ShareChoices::default(),
        );
        let message = |staff: &str, text: &str| crate::ThreadMessage {
            key: format!("{staff}-{text}"),
            side: ThreadSide::Provider,
            by: staff.into(),
            staff: staff.into(),
            at: at(11),
            text: text.into(),
        };
        let with = |m: crate::ThreadMessage| {
            let mut after = item.clone();
            after.messages.push(m);
            after
        };
        let sams = with(message("C001", "She is home after 2pm"));
        assert_eq!(SharedItem::check_write(Some(&item), &sams, carer(&sam)), Ok(()));
        assert!(SharedItem::check_write(Some(&item), &sams, carer(&priya)).is_err(), "in another's name");
        let priyas = with(message("C002", "Hello"));
        assert!(SharedItem::check_write(Some(&item), &priyas, carer(&priya)).is_err(), "not her idea");
        let as_partner = with(crate::ThreadMessage { side: ThreadSide::Partner, ..message("C001", "We will come") });
        assert!(SharedItem::check_write(Some(&item), &as_partner, carer(&sam)).is_err(), "posing as the partner");
        // A message and anything else: refused; the office writes in its own name only.
        let mut more = sams.clone();
        more.purpose = "Something else".into();
        assert!(SharedItem::check_write(Some(&item), &more, carer(&sam)).is_err());
        assert_eq!(SharedItem::check_write(Some(&item), &more, manager(&sam)), Ok(()), "a manager may");
        assert!(SharedItem::check_write(Some(&item), &sams, manager(&mo)).is_err(), "not in Sam's name");
        // What was said stays said.
        let mut unsaid = sams.clone();
        unsaid.messages[0].text = "She is out".into();
        assert!(SharedItem::check_write(Some(&sams), &unsaid, manager(&mo)).is_err());
        assert!(SharedItem::check_write(Some(&sams), &item, carer(&sam)).is_err(), "removed");
    }
}

#[cfg(test)]
mod size_tests {
    use super::*;
    use crate::{NoteId, PersonId, VisitId};
    use uuid::Uuid;

    #[test]
    fn a_note_of_millions_of_characters_is_over_its_limit() {
        let mut note =
            VisitNote::new(NoteId::for_visit(VisitId(Uuid::nil())), VisitId(Uuid::nil()), PersonId(Uuid::nil()));
        note.narrative = "a".repeat(NOTE_TEXT_MOST);
        assert_eq!(note.oversize(), None);
        note.narrative.push('b');
        assert_eq!(note.oversize().as_deref(), Some("the note has 50001 characters (at most 50000)"));
    }
}
