//! The provider manager's desk: the day across all carers, what needs attention, reviewing and
//! sharing ideas, CSV import, enrolment codes and search.

use chrono::{DateTime, TimeDelta, Utc};
use doorstep_commands::{
    AppError, Attention, BaselinesArgs, ChaseRow, ConsentArgs, CsvKind, DayArgs, DeclineArgs, EditIdeaArgs,
    EditPersonArgs, EnrolmentCode, EnrolmentCodeArgs, ErrorCode, HeldBackRef, IdeaRef, IdeaScreen, ImportArgs,
    ImportOutcome, ManagerDay, PlanArgs, RowProblem, ShareArgs, SharedRef, UnansweredShare,
};
use doorstep_model::news2::EscalationLevel;
use doorstep_model::note::uk_clock;
use doorstep_model::person::UsualForMe;
use doorstep_model::routing::{self, Need, PartnerListing, Suggestion};
use doorstep_model::view::{DaySignal, DeviceRow, PersonOverview, SearchHit};
use doorstep_model::visit::TimeWindow;
use doorstep_model::watch::WatchLevel;
use doorstep_model::{
    CarePlan, Chase, ClinicalSetting, ConsentBasis, ConsentRecord, Insight, InsightStatus, PartnerOrg, Person,
    ProviderRef, RecordKind, Reviewed, Role, Sector, ShareChoices, SharedItem, SharedItemId, SpO2Scale, StaffId,
    Urgency, Visit, VisitNote,
};
use doorstep_store::{Store, StoreError};
use doorstep_sync::SyncClient;
use uuid::Uuid;

use crate::{Device, storage_error, sync_error, uk_today};

impl Device {
    /// The office's day: the chosen day's visits, and what needs attention over today and the
    /// last 24 hours (so last night's concern is still there at 8am): visits to chase, then what
    /// visits raised, each with whether a manager has reviewed it; people at concern on the
    /// deterioration watch; ideas to review, "today" ones first.
    pub async fn manager_day(&self, args: DayArgs) -> Result<ManagerDay, AppError> {
        self.manager().await?;
        let now = self.now();
        let day = args.day.unwrap_or_else(|| uk_today(now));
        let (from, to) = attention_window(now);
        let store = self.db().await?;
        let directory = crate::directory::directory_of(&store)?;
        let mut visits = store.visits_on(day, None).map_err(storage_error)?;
        crate::directory::name_carers(&directory, &mut visits);
        let count = |code: &str| visits.iter().filter(|v| v.status == code).count();
        // Still to come: not started, and neither late, missed nor could not happen.
        let to_come = visits
            .iter()
            .filter(|v| {
                let window = TimeWindow { start: v.starts_at, end: v.ends_at };
                v.status == "scheduled" && Chase::of(&v.status, v.could_not, window, now).is_none()
            })
            .count();
        let mut recent = store.visits_between(from, to).map_err(storage_error)?;
        crate::directory::name_carers(&directory, &mut recent);
        let mut chase = Vec::new();
        for v in &recent {
            let window = TimeWindow { start: v.starts_at, end: v.ends_at };
            let Some(what) = Chase::of(&v.status, v.could_not, window, now) else { continue };
            chase.push(ChaseRow {
                visit_id: v.id.clone(),
                person_name: v.person_name.clone().unwrap_or_else(|| "Someone not on this device".into()),
                carers: if v.carer_names.is_empty() { v.carers.clone() } else { v.carer_names.clone() },
                carer_phones: v.carers.iter().filter_map(|c| directory.staff_phone(c)).collect(),
                starts_at: v.starts_at,
                what: what.describe(),
                weight: what.weight(),
                reviewed: reviewed_of(&store, &directory, &v.id)?,
            });
        }
        // Not yet reviewed first; then most urgent; then earliest.
        chase.sort_by_key(|c| (c.reviewed.is_some(), std::cmp::Reverse(c.weight), c.starts_at));
        let late = chase.iter().filter(|c| c.weight == Chase::Late { minutes: 0 }.weight()).count();
        let missed = chase.iter().filter(|c| c.weight == Chase::Missed.weight()).count();
        let mut attention = Vec::new();
        for signal in store.signals_between(from, to).map_err(storage_error)? {
            let visit_id = signal.visit_id.clone();
            if let Some(mut item) = attention_for(signal) {
                item.reviewed = reviewed_of(&store, &directory, &visit_id)?;
                attention.push(item);
            }
        }
        attention.sort_by_key(|a| (a.reviewed.is_some(), std::cmp::Reverse(a.weight), std::cmp::Reverse(a.at)));
        let at_concern =
            store.people().map_err(storage_error)?.into_iter().filter(|p| p.watch == WatchLevel::Concern).collect();
        let mut ideas_to_review = store.insights_with_status("submitted").map_err(storage_error)?;
        ideas_to_review.extend(store.insights_with_status("reviewed").map_err(storage_error)?);
        // "Today" ideas first, newest first within each urgency (the query's order; the sort is stable).
        ideas_to_review.sort_by_key(|i| i.urgency != Urgency::Urgent.code());
        for idea in &mut ideas_to_review {
            idea.author = directory.staff_label(&idea.author);
        }
        let unanswered = unanswered_shares(&store, now)?;
        let follow_ups_due = crate::follow_up::follow_ups_due(&store, uk_today(now))?.len();
        drop(store);
        Ok(ManagerDay {
            unanswered,
            day,
            completed: count("completed"),
            in_progress: count("in_progress"),
            to_come,
            missed,
            late,
            chase,
            visits,
            attention,
            at_concern,
            attention_since: from,
            ideas_to_review,
            sync: self.badge().await?,
            follow_ups_due,
        })
    }

    /// A manager marks what a visit raised as reviewed: who and when travel with the visit, so
    /// every office device sees it after sync.
    pub async fn mark_reviewed(&self, visit_id: &str) -> Result<ManagerDay, AppError> {
        let who = self.manager().await?;
        let reviewed = Reviewed { by: StaffId::new(who.staff_ref), at: self.now() };
        let mut store = self.db().await?;
        store
            .update::<Visit>(visit_id, |visit| {
                visit.reviewed = Some(reviewed);
                Ok(())
            })
            .map_err(storage_error)?;
        drop(store);
        self.sync_soon();
        self.manager_day(DayArgs { day: None }).await
    }

    pub async fn idea(&self, id: &str) -> Result<IdeaScreen, AppError> {
        self.manager().await?;
        let store = self.db().await?;
        idea_screen(&store, id)
    }

    /// Shares an idea with partner organisations: only under recorded consent, with a purpose.
    /// The idea records each share; each partner gets its own shared item holding only what it
    /// needs (the person's details only where their consent covers that partner, the latest soft
    /// signs and vital signs only when the manager chose to include them). The idea itself stays
    /// with the provider.
    /// The hub's partners ranked for one idea: the person's own practice and those that do
    /// what the idea asks in the person's district first, each with why
    /// (`doorstep_model::routing`).
    pub async fn partner_suggestions(&self, args: IdeaRef) -> Result<Vec<Suggestion>, AppError> {
        self.manager().await?;
        let listings = self.partner_directory().await?;
        let store = self.db().await?;
        let insight: Insight = store.get(&args.id).map_err(storage_error)?;
        let person = person_of(&store, &insight)?;
        let (district, gp_ods) = where_they_are(person.as_ref());
        let need =
            Need { who_could_act: &insight.who_could_act, district: district.as_deref(), gp_ods: gp_ods.as_deref() };
        Ok(routing::rank(listings, &need))
    }

    /// The partner directory as the hub knows it: sharing needs the hub, and says so plainly.
    async fn partner_directory(&self) -> Result<Vec<PartnerListing>, AppError> {
        let client = SyncClient::for_store(&*self.opened()?).await.map_err(sync_error)?;
        client.partner_directory().await.map_err(sync_error)
    }

    pub async fn share_idea(&self, args: ShareArgs) -> Result<IdeaScreen, AppError> {
        let who = self.manager().await?;
        let known = self.partner_directory().await?;
        let chosen: Vec<PartnerListing> =
            known.into_iter().filter(|p| args.partners.iter().any(|a| a.id == p.org.id)).collect();
        let partners: Vec<PartnerOrg> = chosen.iter().map(|p| p.org.clone()).collect();
        let mut store = self.db().await?;
        let insight: Insight = store.get(&args.id).map_err(storage_error)?;
        let person = person_of(&store, &insight)?;
        if partners.len() != args.partners.len() {
            return Err(AppError::new(
                ErrorCode::Invalid,
                "A chosen partner organisation is no longer on the hub. Reload the list and choose again.",
            )
            .about("partners"));
        }
        // The rule the hub checks too: out of area needs a reason.
        let (district, _) = where_they_are(person.as_ref());
        let reason = args.out_of_area_reason.trim().to_string();
        if let Some(far) = chosen.iter().find(|p| routing::needs_reason(p, district.as_deref(), &reason)) {
            return Err(AppError::new(
                ErrorCode::Invalid,
                format!(
                    "{} does not cover {}. Say why you are sharing with them, or choose a partner that covers it.",
                    far.org.name,
                    district.as_deref().unwrap_or("the person's area")
                ),
            )
            .about("out_of_area_reason"));
        }
        if reason.chars().count() > routing::MAX_REASON_CHARS {
            return Err(AppError::new(
                ErrorCode::Invalid,
                format!("The reason for sharing out of area can be at most {} characters.", routing::MAX_REASON_CHARS),
            )
            .about("out_of_area_reason"));
        }
        let out_of_area: Vec<uuid::Uuid> =
            chosen.iter().filter(|p| !p.covers(district.as_deref())).map(|p| p.org.id).collect();
        let already: Vec<String> = store
            .shared_items_of(&args.id)
            .map_err(storage_error)?
            .into_iter()
            .filter(|item| item.revoked.is_none() && partners.iter().any(|p| p.id == item.partner.id))
            .map(|item| item.partner.name)
            .collect();
        if !already.is_empty() {
            return Err(AppError::new(
                ErrorCode::Invalid,
                format!(
                    "This idea is already shared with {}. Choose only partners it has not gone to.",
                    already.join(" and ")
                ),
            )
            .about("partners"));
        }
        let provider = provider_of(&store)?;
        let latest_note = match &person {
            Some(p) if args.include_observations => store.latest_note_of(&p.id.to_string()).map_err(storage_error)?,
            _ => None,
        };
        let consent = person.as_ref().map(|p| (p.name.given.as_str(), &p.consent));
        let choices = ShareChoices { include_observations: args.include_observations };
        let at = self.now();
        store
            .update_and_put::<Insight, SharedItem>(&args.id, |insight| {
                insight.share(&partners, &args.purpose, consent, &who.staff_ref, at)?;
                let items = partners
                    .iter()
                    .map(|partner| {
                        SharedItem::from_insight(
                            SharedItemId(Uuid::new_v4()),
                            insight,
                            provider.clone(),
                            partner.clone(),
                            &args.purpose,
                            &who.staff_ref,
                            at,
                            person.as_ref(),
                            latest_note.as_ref().map(|(note, observed_at)| (note, *observed_at)),
                            choices,
                        )
                    })
                    .map(|mut item: SharedItem| {
                        if out_of_area.contains(&item.partner.id) {
                            item.out_of_area_reason.clone_from(&reason);
                        }
                        item
                    })
                    .collect();
                Ok(items)
            })
            .map_err(storage_error)?;
        drop(store);
        self.sync_soon();
        let store = self.db().await?;
        idea_screen(&store, &args.id)
    }

    /// Stops sharing one shared item: the partner loses access at the hub once it syncs. Their
    /// answers so far stay on record.
    pub async fn stop_sharing(&self, args: SharedRef) -> Result<IdeaScreen, AppError> {
        let who = self.manager().await?;
        let mut store = self.db().await?;
        let item = store
            .update::<SharedItem>(&args.id, |item| {
                item.revoke(&who.staff_ref, self.now());
                Ok(())
            })
            .map_err(storage_error)?;
        drop(store);
        self.sync_soon();
        let store = self.db().await?;
        idea_screen(&store, &item.insight_id.to_string())
    }

    /// Asks background sync to run now, so a share or its end reaches the hub promptly.
    pub(crate) fn sync_soon(&self) {
        self.sync.lock().unwrap_or_else(|p| p.into_inner()).as_ref().map(doorstep_sync::Background::sync_now);
    }

    /// The partner organisations the hub knows, to choose whom to share with.
    pub async fn partners(&self) -> Result<Vec<PartnerOrg>, AppError> {
        self.manager().await?;
        let client = SyncClient::for_store(&*self.opened()?).await.map_err(sync_error)?;
        client.partners().await.map_err(sync_error)
    }

    pub async fn edit_idea(&self, args: EditIdeaArgs) -> Result<IdeaScreen, AppError> {
        self.manager().await?;
        let mut store = self.db().await?;
        store
            .update_from::<Insight>(&args.id, &args.base, |insight| {
                insight.summary = args.summary.trim().to_string();
                insight.detail = args.detail.trim().to_string();
                insight.suggested_action = args.suggested_action.trim().to_string();
                Ok(insight.validate()?)
            })
            .map_err(|e| {
                let summary = matches!(&e, StoreError::Insight(doorstep_model::insight::InsightError::EmptySummary));
                let error = storage_error(e);
                if summary { error.about("summary") } else { error }
            })?;
        idea_screen(&store, &args.id)
    }

    pub async fn edit_person(&self, args: EditPersonArgs) -> Result<PersonOverview, AppError> {
        self.manager().await?;
        let lines = |items: Vec<String>| -> Vec<String> {
            items.into_iter().map(|i| i.trim().to_string()).filter(|i| !i.is_empty()).collect()
        };
        let mut store = self.db().await?;
        store
            .update_from::<Person>(&args.person_id, &args.base, |p| {
                p.what_matters_to_me = args.what_matters_to_me.trim().to_string();
                p.communication_needs = args.communication_needs.trim().to_string();
                p.known_risks = lines(args.known_risks);
                p.strengths_and_interests = lines(args.strengths_and_interests);
                Ok(())
            })
            .map_err(storage_error)?;
        store.person_overview(&args.person_id).map_err(storage_error)
    }

    /// Notes (or, with no kind, removes) the person's plan for when they become unwell, with who
    /// noted it and when; carers see it with every piece of advice.
    pub async fn record_plan(&self, args: PlanArgs) -> Result<PersonOverview, AppError> {
        let who = self.manager().await?;
        let summary = args.summary.trim().to_string();
        if args.kind.is_some() && summary.is_empty() {
            return Err(AppError::new(ErrorCode::Invalid, "Say what the plan says a carer must know.").about("summary"));
        }
        if summary.chars().count() > 1000 {
            return Err(
                AppError::new(ErrorCode::Invalid, "Keep the plan's summary under 1,000 characters.").about("summary")
            );
        }
        let plan = args.kind.map(|kind| CarePlan {
            kind,
            summary,
            recorded_by: StaffId::new(who.staff_ref),
            recorded_at: self.now(),
        });
        let mut store = self.db().await?;
        store
            .update::<Person>(&args.person_id, |p| {
                p.plan = plan;
                Ok(())
            })
            .map_err(storage_error)?;
        store.person_overview(&args.person_id).map_err(storage_error)
    }

    /// The person's oxygen scale (Scale 2 only with the clinician who set it), pregnancy and what
    /// is usual for them, with who noted each; only what the form changed is written.
    pub async fn record_baselines(&self, args: BaselinesArgs) -> Result<PersonOverview, AppError> {
        let who = self.manager().await?;
        let invalid = |m: &str, field: &str| Err(AppError::new(ErrorCode::Invalid, m).about(field));
        let set_by = args.scale2_set_by.trim().to_string();
        if args.spo2_scale == SpO2Scale::Scale2 && set_by.is_empty() {
            return invalid(
                "Say which clinician set the 88–92% oxygen target. Scale 2 is only for someone a clinician has said needs it.",
                "scale2_set_by",
            );
        }
        if let (Some(set), Some(review)) = (args.scale2_set_on, args.scale2_review_on)
            && review <= set
        {
            return invalid("The review date must be after the date the target was set.", "scale2_review_on");
        }
        if set_by.chars().count() > 200 {
            return invalid("Keep the clinician's name under 200 characters.", "scale2_set_by");
        }
        if let Some((sign, _)) = args.usual.iter().find(|(_, text)| text.chars().count() > 500) {
            return invalid(
                &format!("Keep what is usual for \"{}\" under 500 characters.", sign.label()),
                &format!("usual.{}", sign.code()),
            );
        }
        let now = self.now();
        let staff = StaffId::new(who.staff_ref);
        let mut store = self.db().await?;
        store
            .update_from::<Person>(&args.person_id, &args.base, |p| {
                p.spo2_scale = args.spo2_scale;
                p.scale2 = match args.spo2_scale {
                    SpO2Scale::Scale1 => None,
                    SpO2Scale::Scale2 => {
                        let same = p.scale2.as_ref().is_some_and(|s| {
                            s.set_by == set_by && s.set_on == args.scale2_set_on && s.review_on == args.scale2_review_on
                        });
                        if same {
                            p.scale2.take()
                        } else {
                            Some(ClinicalSetting {
                                set_by,
                                set_on: args.scale2_set_on,
                                review_on: args.scale2_review_on,
                                recorded_by: staff.clone(),
                                recorded_at: now,
                            })
                        }
                    }
                };
                p.note_pregnancy(args.pregnant, &staff, now);
                for (sign, text) in args.usual {
                    let text = text.trim();
                    match p.usual.iter_mut().find(|u| u.sign == sign) {
                        Some(u) if u.usual == text => {}
                        Some(u) if !text.is_empty() => {
                            u.usual = text.to_string();
                            u.recorded_by = Some(staff.clone());
                            u.recorded_at = Some(now);
                        }
                        Some(_) => p.usual.retain(|u| u.sign != sign),
                        None if !text.is_empty() => p.usual.push(UsualForMe {
                            sign,
                            usual: text.to_string(),
                            recorded_by: Some(staff.clone()),
                            recorded_at: Some(now),
                        }),
                        None => {}
                    }
                }
                Ok(())
            })
            .map_err(storage_error)?;
        store.person_overview(&args.person_id).map_err(storage_error)
    }

    pub async fn record_consent(&self, args: ConsentArgs) -> Result<PersonOverview, AppError> {
        let who = self.manager().await?;
        if args.note.trim().is_empty() {
            return Err(AppError::new(ErrorCode::Invalid, "Say how consent was discussed and with whom.").about("note"));
        }
        let record = ConsentRecord {
            given: args.given,
            recorded_by: StaffId::new(who.staff_ref),
            recorded_at: self.now(),
            note: args.note.trim().to_string(),
        };
        let mut store = self.db().await?;
        store
            .update::<Person>(&args.person_id, |p| {
                let slot = match args.sector {
                    Sector::Nhs => &mut p.consent.nhs,
                    Sector::Council => &mut p.consent.council,
                    Sector::VoluntarySector => &mut p.consent.voluntary_sector,
                };
                *slot = Some(record);
                Ok(())
            })
            .map_err(storage_error)?;
        store.person_overview(&args.person_id).map_err(storage_error)
    }

    pub async fn decline_idea(&self, args: DeclineArgs) -> Result<IdeaScreen, AppError> {
        let who = self.manager().await?;
        let mut store = self.db().await?;
        let now = self.now();
        store
            .update::<Insight>(&args.id, |insight| {
                let reason = args.reason.trim().to_string();
                insight.move_to(InsightStatus::Declined { reason: reason.clone() })?;
                // Said as a comment too, with its time, so the carer who raised it hears back
                // (the Today banner) rather than finding a tag one day.
                insight.add_comment(
                    uuid::Uuid::new_v4().to_string(),
                    who.staff_ref.clone(),
                    now,
                    format!("Not taken further: {reason}"),
                )?;
                Ok(())
            })
            .map_err(|e| {
                let no_reason =
                    matches!(&e, StoreError::Insight(doorstep_model::insight::InsightError::DeclineWithoutReason));
                let error = storage_error(e);
                if no_reason { error.about("reason") } else { error }
            })?;
        idea_screen(&store, &args.id)
    }

    /// Imports people or a rota from CSV: every row, or none with each bad row's problem.
    pub async fn import_csv(&self, args: ImportArgs) -> Result<ImportOutcome, AppError> {
        let who = self.manager().await?;
        let mut store = self.db().await?;
        let now = self.now();
        let outcome = match args.kind {
            CsvKind::People => {
                store.import_people_csv_by(args.text.as_bytes(), uk_today(now), &StaffId::new(who.staff_ref), now)
            }
            CsvKind::Rota => store.import_rota_csv(args.text.as_bytes()),
        };
        match outcome {
            Ok(summary) => {
                crate::directory::name_staff(&mut store, &summary.staff_names)?;
                Ok(ImportOutcome::Imported { created: summary.created, updated: summary.updated })
            }
            Err(StoreError::Import(errors)) => Ok(ImportOutcome::Refused {
                errors: errors
                    .errors
                    .into_iter()
                    .map(|r| RowProblem { line: r.line, problem: format!("{}: {}", r.field, r.reason) })
                    .collect(),
            }),
            Err(e) => Err(storage_error(e)),
        }
    }

    pub async fn create_enrolment_code(&self, args: EnrolmentCodeArgs) -> Result<EnrolmentCode, AppError> {
        self.manager().await?;
        if !matches!(args.role, Role::Carer | Role::Manager) {
            return Err(AppError::new(ErrorCode::Invalid, "Devices enrol as a carer or a manager."));
        }
        let name = args.staff_name.trim();
        if name.chars().count() > 80 || name.chars().any(char::is_control) {
            return Err(AppError::new(ErrorCode::Invalid, "Give their name on one line, at most 80 letters.")
                .about("staff_name"));
        }
        let client = SyncClient::for_store(&*self.opened()?).await.map_err(sync_error)?;
        let code = client.create_enrolment_code(args.staff_ref.trim(), args.role).await.map_err(sync_error)?;
        // The name goes in the directory, so their tablet greets them by it once it has synced.
        crate::directory::name_staff(
            &mut *self.db().await?,
            &[(StaffId::new(args.staff_ref.trim()), name.to_string())],
        )?;
        Ok(EnrolmentCode { code: code.code, expires_at: code.expires_at })
    }

    /// The organisation's devices, each with the records it keeps back named from this
    /// device's own records where it has them.
    pub async fn devices(&self) -> Result<Vec<DeviceRow>, AppError> {
        self.manager().await?;
        let client = SyncClient::for_store(&*self.opened()?).await.map_err(sync_error)?;
        let devices = client.devices().await.map_err(sync_error)?;
        self.named(devices).await
    }

    async fn named(&self, mut devices: Vec<DeviceRow>) -> Result<Vec<DeviceRow>, AppError> {
        let store = self.db().await?;
        for record in devices.iter_mut().flat_map(|d| d.held_back_records.iter_mut()) {
            record.what = store.describe_record(&record.record.to_string(), record.kind).map_err(storage_error)?;
        }
        Ok(devices)
    }

    /// The office decides a record a tablet keeps back will not be sent (say, a change a carer
    /// may not make): the tablet drops its changes to it at its next sync and takes the office's
    /// copy. The hub audits it. Answers with the devices list.
    pub async fn discard_held_back(&self, args: HeldBackRef) -> Result<Vec<DeviceRow>, AppError> {
        self.manager().await?;
        let parse = |id: &str| {
            uuid::Uuid::parse_str(id).map_err(|_| AppError::new(ErrorCode::Invalid, "That is not a held-back record."))
        };
        let (device, record) = (parse(&args.device)?, parse(&args.record)?);
        let client = SyncClient::for_store(&*self.opened()?).await.map_err(sync_error)?;
        client.discard_held_back(device, record).await.map_err(sync_error)?;
        let devices = client.devices().await.map_err(sync_error)?;
        self.named(devices).await
    }

    /// Revokes a device of the manager's organisation (never this one: that is signing out).
    pub async fn revoke_device(&self, id: &str) -> Result<Vec<DeviceRow>, AppError> {
        self.manager().await?;
        let id =
            uuid::Uuid::parse_str(id).map_err(|_| AppError::new(ErrorCode::Invalid, "That is not a device id."))?;
        let own = self.db().await?.setting("device_id").map_err(storage_error)?;
        if own.as_deref() == Some(id.to_string().as_str()) {
            return Err(AppError::new(ErrorCode::Invalid, "This is the device you are using: sign out instead."));
        }
        let client = SyncClient::for_store(&*self.opened()?).await.map_err(sync_error)?;
        client.revoke_device(id).await.map_err(sync_error)?;
        let devices = client.devices().await.map_err(sync_error)?;
        self.named(devices).await
    }

    /// After the office has fixed what made the hub hold records back (a rota, a person's
    /// details, the hub's rules), asks every tablet of the provider to send them again at its next
    /// sync, this one included. The hub audits the request. Answers with the devices list.
    pub async fn ask_held_back_retry(&self) -> Result<Vec<DeviceRow>, AppError> {
        self.manager().await?;
        let client = SyncClient::for_store(&*self.opened()?).await.map_err(sync_error)?;
        client.ask_held_back_retry().await.map_err(sync_error)?;
        self.db().await?.retry_held_back().map_err(storage_error)?;
        let devices = client.devices().await.map_err(sync_error)?;
        self.named(devices).await
    }

    /// Notes and ideas matching the words, each with who it is about, when, who wrote it and the
    /// visit to open.
    pub async fn search(&self, text: &str) -> Result<Vec<SearchHit>, AppError> {
        self.unlocked().await?;
        let store = self.db().await?;
        let directory = crate::directory::directory_of(&store)?;
        let mut hits = store.search(text, 30).map_err(storage_error)?;
        for hit in &mut hits {
            match hit.kind {
                RecordKind::Note => {
                    let note: VisitNote = store.get(&hit.id).map_err(storage_error)?;
                    hit.visit_id = Some(note.visit_id.to_string());
                    hit.authors = note.authors.iter().map(|a| directory.staff_label(a.staff.as_str())).collect();
                    hit.at = match store.get::<Visit>(&note.visit_id.to_string()) {
                        Ok(visit) => Some(visit.checked_in_at.unwrap_or(visit.window.start)),
                        Err(_) => note.authors.iter().map(|a| a.first_edit).min(),
                    };
                }
                RecordKind::Insight => {
                    let insight: Insight = store.get(&hit.id).map_err(storage_error)?;
                    hit.authors = vec![directory.staff_label(insight.author.as_str())];
                    hit.at = Some(insight.created_at);
                }
                _ => {}
            }
            if let Some(person) = &hit.person_id {
                hit.person_name = match store.get::<Person>(person) {
                    Ok(p) => Some(p.name.display()),
                    Err(StoreError::NotFound { .. }) => None,
                    Err(e) => return Err(storage_error(e)),
                };
            }
        }
        Ok(hits)
    }
}

/// Shared items whose answer is overdue, longest overdue first.
fn unanswered_shares(store: &Store, now: DateTime<Utc>) -> Result<Vec<UnansweredShare>, AppError> {
    let mut rows = Vec::new();
    for row in store.shared_items().map_err(storage_error)? {
        if row.status != doorstep_model::SharedStatus::New || row.revoked.is_some() {
            continue;
        }
        let item: SharedItem = store.get(&row.id).map_err(storage_error)?;
        if item.overdue(now) {
            let due = item.respond_by();
            rows.push(UnansweredShare {
                idea_id: item.insight_id.to_string(),
                summary: item.summary,
                partner: item.partner.name,
                urgency: item.urgency,
                due,
                due_words: format!("was due {}", routing::due_words(due, now)),
            });
        }
    }
    rows.sort_by_key(|r| r.due);
    Ok(rows)
}

/// The person's postcode district and GP practice's ODS code, for routing.
fn where_they_are(person: Option<&Person>) -> (Option<String>, Option<String>) {
    let Some(p) = person else { return (None, None) };
    let ods = p.gp_ods.trim();
    (doorstep_model::directory::postcode_district(&p.address.postcode), (!ods.is_empty()).then(|| ods.to_string()))
}

fn person_of(store: &Store, insight: &Insight) -> Result<Option<Person>, AppError> {
    let Some(id) = insight.person_id else { return Ok(None) };
    match store.get::<Person>(&id.to_string()) {
        Ok(p) => Ok(Some(p)),
        Err(StoreError::NotFound { .. }) => Ok(None),
        Err(e) => Err(storage_error(e)),
    }
}

/// The provider this device belongs to, as a shared item names it (known from enrolment).
fn provider_of(store: &Store) -> Result<ProviderRef, AppError> {
    let id = store.setting("organisation_id").map_err(storage_error)?.and_then(|id| Uuid::parse_str(&id).ok());
    let name = store.setting("organisation_name").map_err(storage_error)?.unwrap_or_default();
    match id {
        Some(id) => Ok(ProviderRef { id, name }),
        None => Err(AppError::new(
            ErrorCode::Invalid,
            "This device was set up before sharing with partners needed its organisation. Sync, sign out and enrol it again with a new code, then share.",
        )),
    }
}

fn idea_screen(store: &Store, id: &str) -> Result<IdeaScreen, AppError> {
    let (insight, version) = store.get_versioned::<Insight>(id).map_err(storage_error)?;
    let person = person_of(store, &insight)?;
    let cannot_share = match (&person, insight.consent_basis) {
        (_, ConsentBasis::NotIdentifiable) => None,
        (None, _) if insight.person_id.is_some() => {
            Some("The person's record is not on this device, so their consent cannot be checked.".to_string())
        }
        (Some(p), _) if p.consent == Default::default() => {
            Some(format!("{} has no consent to share recorded. Record it on their page first.", p.name.display()))
        }
        _ => None,
    };
    let shared = store.shared_items_of(id).map_err(storage_error)?;
    Ok(IdeaScreen { person_name: person.map(|p| p.name.display()), insight, cannot_share, shared, version })
}

/// Why a visit needs the manager's eye, if it does: medium or high NEWS2 first, then new soft signs.
fn attention_for(signal: DaySignal) -> Option<Attention> {
    let band_weight = match signal.news2_band.as_deref() {
        Some("High") => 4,
        Some("Medium") => 3,
        Some("Low–medium") => 2,
        _ => 0,
    };
    let advice = signal.advice.filter(|a| a.needs_a_call());
    let advice_weight = match advice {
        Some(EscalationLevel::Emergency999) => 4,
        Some(_) => 3,
        None => 0,
    };
    let mut reasons = Vec::new();
    // A call shows as the answer only when it met the advice (`VisitNote::advice_met`): a call to
    // the office after 999 advice reads "Told to phone 999: no 999 call recorded", then the call.
    match advice.filter(|_| !signal.advice_met) {
        Some(EscalationLevel::Emergency999) => reasons.push("Told to phone 999: no 999 call recorded".into()),
        Some(_) => reasons.push("Told to phone now: no call to a clinician recorded".into()),
        None => {}
    }
    if let Some(call) = &signal.last_call {
        reasons.push(call.trim_end_matches('.').to_string());
    }
    if band_weight > 0
        && let (Some(total), Some(band)) = (signal.news2_total, &signal.news2_band)
    {
        if signal.news2_incomplete {
            reasons.push(format!("NEWS2 at least {total} ({band}; readings missing)"));
        } else {
            reasons.push(format!("NEWS2 {total} ({band})"));
        }
    }
    if !signal.soft_signs.is_empty() {
        let signs: Vec<&str> = signal.soft_signs.iter().map(|s| s.label()).collect();
        reasons.push(format!("New: {}", signs.join(", ")));
    }
    if reasons.is_empty() {
        return None;
    }
    Some(Attention {
        person_name: signal.person_name.unwrap_or_else(|| "Someone not yet on this device".into()),
        person_id: signal.person_id,
        visit_id: signal.visit_id,
        reason: reasons.join(". "),
        weight: band_weight.max(advice_weight).max(u8::from(!signal.soft_signs.is_empty())),
        at: signal.starts_at,
        reviewed: None,
    })
}

/// The office's "needs attention" window: from 24 hours ago to the end of today (UK date), so a
/// visit checked in early today counts too.
fn attention_window(now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    let end_of_today = uk_today(now)
        .succ_opt()
        .and_then(|tomorrow| tomorrow.and_hms_opt(0, 0, 0))
        .and_then(|midnight| midnight.and_local_timezone(chrono_tz::Europe::London).earliest())
        .map(|t| t.with_timezone(&Utc));
    (now - TimeDelta::hours(24), end_of_today.unwrap_or(now + TimeDelta::hours(24)))
}

/// "Reviewed by Mo Ahmed (M001) at 08:12", when a manager has marked the visit reviewed.
fn reviewed_of(
    store: &Store,
    directory: &doorstep_model::Directory,
    visit_id: &str,
) -> Result<Option<String>, AppError> {
    let visit: Visit = match store.get(visit_id) {
        Ok(visit) => visit,
        Err(StoreError::NotFound { .. }) => return Ok(None),
        Err(e) => return Err(storage_error(e)),
    };
    Ok(visit.reviewed.map(|r| format!("Reviewed by {} at {}", directory.staff_label(r.by.as_str()), uk_clock(r.at))))
}
