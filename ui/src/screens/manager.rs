//! The manager's screens: the day, reviewing and sharing ideas, CSV import, devices, search.

use doorstep_commands::{
    AppError, AskHeldBackRetry, CreateEnrolmentCode, CsvKind, DayArgs, DeclineArgs, DeclineIdea, DeviceRef,
    DiscardHeldBack, EditIdea, EditIdeaArgs, EnrolmentCode, EnrolmentCodeArgs, GetDevices, GetIdea, GetManagerDay,
    HeldBackRef, IdeaRef, IdeaScreen, ImportArgs, ImportCsv, ImportOutcome, ManagerDay, MarkReviewed,
    PartnerSuggestions, RevokeDevice, Search, SearchArgs, ShareArgs, ShareIdea, SharedRef, StopSharing, VisitArgs,
};
use doorstep_model::routing::Suggestion;
use doorstep_model::view::{DeviceRow, SearchHit};
use doorstep_model::{PartnerOrg, Role};
use yew::prelude::*;

use crate::app::{Ctx, Route};
use crate::format;
use crate::screens::ideas::SharedList;
use crate::widgets::{
    Answers, BackLink, Choice, ErrorMessage, Load, StaffNames, SyncBadgeView, TextBox, act, choices,
    choices_with_error, input_value, loading_or_failed, problem_with, text_field, use_command, use_staff_names,
};

/// A part of the office's day a tile narrows the page to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DayPart {
    Chase,
    Attention,
    Watch,
    Tablets,
    Ideas,
    Unanswered,
    FollowUp,
}

/// How long a tablet may go without reaching the office before the day lists it.
const QUIET_TABLET_HOURS: i64 = 24;

#[component]
pub fn ManagerDayScreen() -> Html {
    let ctx = use_context::<Ctx>().expect("inside the app context");
    let (loaded, reload) = use_command::<GetManagerDay>(DayArgs { day: None });
    // Tablets come from the hub: offline, the day shows without them and says so.
    let (devices, _) = use_command::<GetDevices>(());
    let only = use_state(|| None::<DayPart>);
    let names = use_staff_names();
    let marked = use_state(|| None::<ManagerDay>);
    let error = use_state(|| None::<AppError>);
    let day = match (&*marked, &*loaded) {
        (Some(day), _) => day.clone(),
        (None, Load::Ready(day)) => day.clone(),
        (None, _) => return loading_or_failed(&loaded),
    };
    let now = day.attention_since + chrono::TimeDelta::hours(24);
    let quiet: Vec<DeviceRow> = match &*devices {
        Load::Ready(list) => list
            .iter()
            .filter(|d| !d.revoked)
            .filter(|d| {
                d.held_back > 0
                    || d.last_sync_at.is_none_or(|at| now - at > chrono::TimeDelta::hours(QUIET_TABLET_HOURS))
            })
            .cloned()
            .collect(),
        _ => Vec::new(),
    };
    let open_attention = day.attention.iter().filter(|a| a.reviewed.is_none()).count();
    let open_chase = day.chase.iter().filter(|c| c.reviewed.is_none()).count();
    // "1 visit still to chase", "2 visits still to chase".
    let tile = |part: DayPart, n: usize, (one, many): (&str, &str), id: &str| {
        let label = if n == 1 { one } else { many };
        let only = only.clone();
        let on = *only == Some(part);
        let onclick = Callback::from(move |e: MouseEvent| {
            e.prevent_default();
            only.set(if on { None } else { Some(part) });
        });
        html! {
            <li class={classes!("ds-count", (n > 0).then_some("ds-count--some"), on.then_some("ds-count--on"))} id={id.to_string()}>
                <a href={format!("#{id}-list")} aria-current={on.then_some("true")} {onclick}>
                    <span class="ds-count__n">{ n }</span><span>{ label.to_string() }</span>
                </a>
            </li>
        }
    };
    let shown = |part: DayPart| only.is_none_or(|p| p == part);
    let go = |route: Route| {
        let go = ctx.go.clone();
        Callback::from(move |e: MouseEvent| {
            e.prevent_default();
            go.emit(route.clone());
        })
    };
    let mark = |visit_id: &str| {
        let (ctx, error, marked, args) =
            (ctx.clone(), error.clone(), marked.clone(), VisitArgs { visit_id: visit_id.to_string() });
        Callback::from(move |_: MouseEvent| {
            let marked = marked.clone();
            act::<MarkReviewed>(&ctx, args.clone(), error.clone(), move |day| marked.set(Some(day)));
        })
    };
    let reviewed_or_button = |reviewed: &Option<String>, visit_id: &str| match reviewed {
        Some(said) => {
            html! { <p class="ds-reviewed"><strong class="nhsuk-tag nhsuk-tag--green">{"Reviewed"}</strong>{ format!(" {}", said.trim_start_matches("Reviewed ")) }</p> }
        }
        None => html! {
            <button type="button" class="nhsuk-button nhsuk-button--secondary ds-mark-reviewed" id={format!("review-{visit_id}")} onclick={mark(visit_id)}>
                {"Mark as reviewed"}
            </button>
        },
    };
    let marked_today: Vec<&doorstep_model::view::InsightRow> =
        day.ideas_to_review.iter().filter(|i| i.urgency == doorstep_model::Urgency::Urgent.code()).collect();
    let other_ideas = day.ideas_to_review.len() - marked_today.len();
    let idea_card = |i: &doorstep_model::view::InsightRow| {
        html! {
            <li class="nhsuk-card ds-idea-card">
                <div class="nhsuk-card__content">
                    <h3 class="nhsuk-card__heading nhsuk-heading-s">
                        <a href={format!("#idea/{}", i.id)} onclick={go(Route::Idea(i.id.clone()))}>{ i.summary.clone() }</a>
                    </h3>
                    <p class="nhsuk-card__description">
                        { i.person_name.as_ref().map(|n| format!("About {n}. ")).unwrap_or_default() }
                        { format!("From {}, {} ({})", i.author, format::when(i.created_at), urgency_words(&i.urgency)) }
                    </p>
                </div>
            </li>
        }
    };
    html! {
        <>
            <h1 class="ds-title">{ format!("The office's day, {}", format::day(day.day)) }</h1>
            <SyncBadgeView badge={day.sync.clone()} on_synced={{
                let (marked, reload) = (marked.clone(), reload.clone());
                Callback::from(move |()| {
                    marked.set(None);
                    reload.emit(());
                })
            }} />
            <ErrorMessage error={(*error).clone()} />
            <p class="nhsuk-body-s" id="day-counts">{ format!("{} completed, {} in progress, {} still to come today.", day.completed, day.in_progress, day.to_come) }</p>
            <ul class="ds-counts" aria-label="Show only">
                { tile(DayPart::Chase, open_chase, ("visit still to chase", "visits still to chase"), "count-chase") }
                { tile(DayPart::Attention, open_attention, ("visit still needs attention", "visits still need attention"), "count-attention") }
                { tile(DayPart::Watch, day.at_concern.len(), ("person at concern", "people at concern"), "count-watch") }
                { tile(DayPart::Tablets, quiet.len(), ("tablet to check", "tablets to check"), "count-tablets") }
                // Only ideas a carer marked "today": the rest wait in the list below them.
                { tile(DayPart::Ideas, marked_today.len(), ("idea marked \"today\"", "ideas marked \"today\""), "count-ideas") }
                { tile(DayPart::Unanswered, day.unanswered.len(), ("partner's answer overdue", "partners' answers overdue"), "count-unanswered") }
                { tile(DayPart::FollowUp, day.follow_ups_due, ("idea to follow up: did it help?", "ideas to follow up: did it help?"), "count-follow-up") }
            </ul>
            <p class="nhsuk-body-s" id="count-late">{ format!("Late now: {}. Missed: {}.", day.late, day.missed) }</p>
            if only.is_some() {
                <p><a href="#everything" onclick={{ let only = only.clone(); Callback::from(move |e: MouseEvent| { e.prevent_default(); only.set(None); }) }}>{"Show everything"}</a></p>
            }
            if shown(DayPart::Chase) {
                <h2 id="count-chase-list">{"Visits to chase now"}</h2>
                if day.chase.is_empty() { <p>{"No visit is late, missed or could not happen."}</p> }
                <ul class="nhsuk-list" id="chase">
                    { for day.chase.iter().map(|c| html! {
                        <li class={classes!("nhsuk-card", "ds-attention", (c.weight >= 3 && c.reviewed.is_none()).then_some("ds-attention--high"))}>
                            <div class="nhsuk-card__content">
                                <h3 class="nhsuk-card__heading nhsuk-heading-s">
                                    <a href={format!("#visit/{}", c.visit_id)} onclick={go(Route::Visit(c.visit_id.clone()))}>{ c.person_name.clone() }</a>
                                </h3>
                                <p class="nhsuk-card__description"><strong>{ c.what.clone() }</strong></p>
                                <p class="nhsuk-body-s">{ format!("{}, {}", format::when(c.starts_at), c.carers.join(" and ")) }</p>
                                { for c.carer_phones.iter().map(|p| html! {
                                    <a class="ds-phone-link ds-chase-phone" href={format!("tel:{}", p.dial)}>
                                        <span class="ds-phone-link__name">{ format!("Phone {}", p.name) }</span>
                                        <span class="ds-phone-link__number">{ p.shown.clone() }</span>
                                    </a>
                                }) }
                                { reviewed_or_button(&c.reviewed, &c.visit_id) }
                            </div>
                        </li>
                    }) }
                </ul>
            }
            if shown(DayPart::Attention) {
                <h2 id="count-attention-list">{"Needs attention"}</h2>
                <p class="nhsuk-body-s">{ format!("Calls, scores and new signs since {}. Not yet reviewed first.", format::when(day.attention_since)) }</p>
                if day.attention.is_empty() { <p>{"Nothing noticed in the last 24 hours that needs you."}</p> }
                if day.attention.iter().any(|a| a.reason.contains("NEWS2")) {
                    <p class="nhsuk-body-s ds-attribution">{ doorstep_model::news2::ATTRIBUTION }</p>
                }
                <ul class="nhsuk-list" id="attention">
                    { for day.attention.iter().map(|a| html! {
                        <li class={classes!("nhsuk-card", "ds-attention", (a.weight >= 3 && a.reviewed.is_none()).then_some("ds-attention--high"))}>
                            <div class="nhsuk-card__content">
                                <h3 class="nhsuk-card__heading nhsuk-heading-s">
                                    <a href={format!("#visit/{}", a.visit_id)} onclick={go(Route::Visit(a.visit_id.clone()))}>{ a.person_name.clone() }</a>
                                </h3>
                                <p class="nhsuk-card__description">{ a.reason.clone() }</p>
                                <p class="nhsuk-body-s">{ format!("Visit {}", format::when(a.at)) }</p>
                                { reviewed_or_button(&a.reviewed, &a.visit_id) }
                            </div>
                        </li>
                    }) }
                </ul>
            }
            if shown(DayPart::Watch) {
                <h2 id="count-watch-list">{"People at concern on the deterioration watch"}</h2>
                if day.at_concern.is_empty() { <p>{"No one is at concern."}</p> }
                <ul class="nhsuk-list" id="at-concern">
                    { for day.at_concern.iter().map(|p| html! {
                        <li><a class="ds-list-link" href={format!("#person/{}", p.id)} onclick={go(Route::Person(p.id.clone()))}>{ format!("{} ({})", p.display_name, p.client_ref) }</a></li>
                    }) }
                </ul>
            }
            if shown(DayPart::Watch) { <crate::screens::early_warning::EarlyWarningSection /> }
            if shown(DayPart::Tablets) {
                <h2 id="count-tablets-list">{"Tablets to check"}</h2>
                { match &*devices {
                    Load::Ready(_) if quiet.is_empty() => html! { <p>{"Every tablet has reached the office in the last 24 hours, with nothing held back."}</p> },
                    Load::Ready(_) => html! {
                        <ul class="nhsuk-list" id="quiet-tablets">
                            { for quiet.iter().map(|d| html! {
                                <li>
                                    <a class="ds-list-link" href="#devices" onclick={go(Route::Devices)}>{ whose(&names, d) }</a>
                                    { format!(" ({}, called \u{201c}{}\u{201d}): {}", d.staff_ref, d.name, quiet_reason(d)) }
                                </li>
                            }) }
                        </ul>
                    },
                    Load::Loading => html! { <p>{"Asking the office's server…"}</p> },
                    Load::Failed(_) => html! { <p>{"Tablets are listed when this device can reach the office's server."}</p> },
                } }
            }
            if shown(DayPart::Ideas) {
                <h2 id="count-ideas-list">{"Ideas to review"}</h2>
                if day.ideas_to_review.is_empty() {
                    <p>{"No ideas waiting."}</p>
                } else {
                    <p class="nhsuk-body-s">{ format!(
                        "{} marked \"today\" by the carer, first; {} more to review.",
                        marked_today.len(), other_ideas
                    ) }</p>
                }
                <ul class="nhsuk-list" id="ideas-to-review">
                    { for day.ideas_to_review.iter().map(idea_card) }
                </ul>
            }
            if shown(DayPart::Unanswered) {
                <h2 id="count-unanswered-list">{"Partners' answers overdue"}</h2>
                if day.unanswered.is_empty() { <p>{"Every partner has answered in time."}</p> }
                <ul class="nhsuk-list" id="unanswered">
                    { for day.unanswered.iter().map(|u| html! {
                        <li class={classes!("nhsuk-card", "ds-attention", (u.urgency == doorstep_model::Urgency::Urgent).then_some("ds-attention--high"))}>
                            <div class="nhsuk-card__content">
                                <h3 class="nhsuk-card__heading nhsuk-heading-s">
                                    <a href={format!("#idea/{}", u.idea_id)} onclick={go(Route::Idea(u.idea_id.clone()))}>{ u.summary.clone() }</a>
                                </h3>
                                <p class="nhsuk-card__description"><strong>{ format!("{} has not answered: {}.", u.partner, u.due_words) }</strong></p>
                                <p class="nhsuk-body-s">{"Phone them, or share it with someone else."}</p>
                            </div>
                        </li>
                    }) }
                </ul>
            }
            if shown(DayPart::FollowUp) { <crate::screens::follow_up::FollowUpSection /> }
        </>
    }
}

/// How soon the carer asked for an idea to be looked at, in the words they chose from.
fn urgency_words(code: &str) -> &str {
    match code {
        "urgent" => "marked today",
        "soon" => "within days",
        "routine" => "no rush",
        other => other,
    }
}

/// "Sam Taylor's tablet" (or "C001's tablet" before the directory names them); a manager's is
/// their "device".
fn whose(names: &StaffNames, device: &DeviceRow) -> String {
    let who = names.name(&device.staff_ref).unwrap_or_else(|| device.staff_ref.clone());
    let what = if device.role == Role::Carer { "tablet" } else { "device" };
    format!("{who}\u{2019}s {what}")
}

/// A role as the office says it.
fn role_word(role: Role) -> &'static str {
    match role {
        Role::Carer => "Carer",
        Role::Manager => "Manager",
        Role::Partner => "Partner",
        Role::Commissioner => "Commissioner",
    }
}

/// Why a tablet is on the list: not heard from, or holding records back.
fn quiet_reason(device: &DeviceRow) -> String {
    let heard = match device.last_sync_at {
        Some(at) => format!("not heard from since {}", format::when(at)),
        None => "never heard from".to_string(),
    };
    match device.held_back {
        0 => heard,
        n => format!("{heard}; {n} record{} held back", if n == 1 { "" } else { "s" }),
    }
}

#[derive(Properties, PartialEq)]
pub struct IdeaProps {
    pub id: AttrValue,
}

#[component]
pub fn IdeaReview(props: &IdeaProps) -> Html {
    let ctx = use_context::<Ctx>().expect("inside the app context");
    let (loaded, reload) = use_command::<GetIdea>(IdeaRef { id: props.id.to_string() });
    {
        // A sync that brings a partner's answer or message shows it at once.
        let seen = use_mut_ref(|| ctx.arrivals);
        use_effect_with(ctx.arrivals, move |arrivals| {
            if *seen.borrow() != *arrivals {
                *seen.borrow_mut() = *arrivals;
                reload.emit(());
            }
        });
    }
    let (partners, _) = use_command::<PartnerSuggestions>(IdeaRef { id: props.id.to_string() });
    let screen = use_state(|| None::<IdeaScreen>);
    {
        let screen = screen.clone();
        use_effect_with(loaded.clone(), move |loaded| {
            if let Load::Ready(s) = &**loaded {
                screen.set(Some(s.clone()));
            }
        });
    }
    let chosen = use_state(Vec::<PartnerOrg>::new);
    let editing = use_state(|| None::<EditIdeaArgs>);
    let purpose = use_state(String::new);
    let include_observations = use_state(|| false);
    let out_of_area_reason = use_state(String::new);
    let reason = use_state(String::new);
    let error = use_state(|| None::<AppError>);
    let names = use_staff_names();
    let Some(s) = (*screen).clone() else { return loading_or_failed(&loaded) };
    let idea = &s.insight;
    let share = {
        let (ctx, error, screen) = (ctx.clone(), error.clone(), screen.clone());
        let args = ShareArgs {
            id: idea.id.to_string(),
            partners: (*chosen).clone(),
            purpose: (*purpose).clone(),
            include_observations: *include_observations,
            out_of_area_reason: (*out_of_area_reason).clone(),
        };
        let (chosen, purpose, include, far) =
            (chosen.clone(), purpose.clone(), include_observations.clone(), out_of_area_reason.clone());
        Callback::from(move |_: MouseEvent| {
            let (screen, chosen, purpose, include, far) =
                (screen.clone(), chosen.clone(), purpose.clone(), include.clone(), far.clone());
            act::<ShareIdea>(&ctx, args.clone(), error.clone(), move |s| {
                screen.set(Some(s));
                // Ready for another partner: nothing carries over from this share.
                chosen.set(Vec::new());
                purpose.set(String::new());
                include.set(false);
                far.set(String::new());
            });
        })
    };
    let stop_sharing = {
        let (ctx, error, screen) = (ctx.clone(), error.clone(), screen.clone());
        Callback::from(move |id: String| {
            let screen = screen.clone();
            act::<StopSharing>(&ctx, SharedRef { id }, error.clone(), move |s| screen.set(Some(s)));
        })
    };
    let toggle_observations = {
        let include = include_observations.clone();
        Callback::from(move |_: MouseEvent| include.set(!*include))
    };
    let decline = {
        let (ctx, error, screen) = (ctx.clone(), error.clone(), screen.clone());
        let args = DeclineArgs { id: idea.id.to_string(), reason: (*reason).clone() };
        Callback::from(move |_: MouseEvent| {
            let screen = screen.clone();
            act::<DeclineIdea>(&ctx, args.clone(), error.clone(), move |s| screen.set(Some(s)));
        })
    };
    let partner_choice = |suggestion: &Suggestion| {
        let p = &suggestion.partner.org;
        let on = chosen.iter().any(|c| c.id == p.id);
        let (chosen, p2) = (chosen.clone(), p.clone());
        let on_change = Callback::from(move |()| {
            let mut all = (*chosen).clone();
            if let Some(i) = all.iter().position(|c| c.id == p2.id) {
                all.remove(i);
            } else {
                all.push(p2.clone());
            }
            chosen.set(all);
        });
        Choice::new(format!("partner-{}", p.id), format!("{} ({})", p.name, p.kind.label()), on, on_change)
            .with_hint(partner_hint(suggestion))
    };
    let chosen_far: Vec<String> = match &*partners {
        Load::Ready(list) => list
            .iter()
            .filter(|s| s.out_of_area && chosen.iter().any(|c| c.id == s.partner.org.id))
            .map(|s| s.partner.org.name.clone())
            .collect(),
        _ => Vec::new(),
    };
    // The field the device found a problem with, as the error summary links to it.
    let partners_fieldset = match &*partners {
        Load::Ready(list) if list.iter().any(|s| s.fits) => "partners-suggested",
        _ => "partners-other",
    };
    let at_fault = error.as_ref().and_then(|e| e.field.as_deref()).and_then(|arg| match arg {
        "summary" => Some(AttrValue::Static("edit-summary")),
        "partners" => Some(AttrValue::Static(partners_fieldset)),
        "out_of_area_reason" => Some(AttrValue::Static("out-of-area-reason")),
        "reason" => Some(AttrValue::Static("decline-reason")),
        _ => None,
    });
    let (label, tag) = format::status_tag(idea.status.code());
    let open = matches!(idea.status.code(), "submitted" | "reviewed" | "shared");
    let edit_form = match &*editing {
        None => {
            let (editing, idea, version) = (editing.clone(), idea.clone(), s.version.clone());
            let onclick = Callback::from(move |_: MouseEvent| {
                editing.set(Some(EditIdeaArgs {
                    id: idea.id.to_string(),
                    // Saved against what the form was filled from: others' edits meanwhile stay.
                    base: version.clone(),
                    summary: idea.summary.clone(),
                    detail: idea.detail.clone(),
                    suggested_action: idea.suggested_action.clone(),
                }))
            });
            html! { <button type="button" class="nhsuk-button nhsuk-button--secondary" id="edit-idea" {onclick}>{"Edit the wording"}</button> }
        }
        Some(draft) => {
            let field = |id: &'static str, label: &'static str, value: &str, set: fn(&mut EditIdeaArgs, String)| {
                let editing = editing.clone();
                let oninput = Callback::from(move |e: InputEvent| {
                    if let Some(mut d) = (*editing).clone() {
                        set(&mut d, input_value(&e));
                        editing.set(Some(d));
                    }
                });
                let problem = if id == "edit-summary" { problem_with(&error, "summary") } else { None };
                text_field(id, label, None, value, oninput, TextBox::Line, problem)
            };
            let save = {
                let (ctx, error, screen, editing, args) =
                    (ctx.clone(), error.clone(), screen.clone(), editing.clone(), draft.clone());
                Callback::from(move |_: MouseEvent| {
                    let (screen, editing) = (screen.clone(), editing.clone());
                    act::<EditIdea>(&ctx, args.clone(), error.clone(), move |s| {
                        screen.set(Some(s));
                        editing.set(None);
                    });
                })
            };
            html! {
                <>
                    { field("edit-summary", "Summary", &draft.summary, |d, v| d.summary = v) }
                    { field("edit-detail", "What they saw", &draft.detail, |d, v| d.detail = v) }
                    { field("edit-action", "What could be done", &draft.suggested_action, |d, v| d.suggested_action = v) }
                    <button type="button" class="nhsuk-button" onclick={save}>{"Save wording"}</button>
                </>
            }
        }
    };
    html! {
        <>
            <BackLink to={Route::ManagerDay} label="Back to today" />
            <h1 class="ds-title">{ idea.summary.clone() }</h1>
            <p><strong class={classes!("nhsuk-tag", tag)} id="idea-status">{ label }</strong></p>
            <dl class="nhsuk-summary-list">
                <div class="nhsuk-summary-list__row"><dt class="nhsuk-summary-list__key">{"About"}</dt><dd class="nhsuk-summary-list__value">{ s.person_name.clone().unwrap_or_else(|| "No one in particular".into()) }</dd></div>
                <div class="nhsuk-summary-list__row"><dt class="nhsuk-summary-list__key">{"From"}</dt><dd class="nhsuk-summary-list__value">{ format!("{}, {}", names.label(idea.author.as_str()), format::when(idea.created_at)) }</dd></div>
                <div class="nhsuk-summary-list__row"><dt class="nhsuk-summary-list__key">{"What they saw"}</dt><dd class="nhsuk-summary-list__value">{ idea.detail.clone() }</dd></div>
                <div class="nhsuk-summary-list__row"><dt class="nhsuk-summary-list__key">{"What could be done"}</dt><dd class="nhsuk-summary-list__value">{ idea.suggested_action.clone() }</dd></div>
                <div class="nhsuk-summary-list__row"><dt class="nhsuk-summary-list__key">{"Who could help"}</dt><dd class="nhsuk-summary-list__value">{ idea.who_could_act.iter().map(|k| k.label()).collect::<Vec<_>>().join(", ") }</dd></div>
            </dl>
            // One summary for the page's forms (the wording, sharing, declining), above them all.
            <ErrorMessage error={(*error).clone()} field={at_fault} />
            if open { { edit_form } }
            if !s.shared.is_empty() {
                <h2>{"Shared with"}</h2>
                <div id="shared-with"><SharedList items={s.shared.clone()} on_stop={Some(stop_sharing)} /></div>
            } else if !idea.shares.is_empty() {
                <h2>{"Shared with"}</h2>
                <ul id="shared-with">{ for idea.shares.iter().map(|sh| html! { <li>{ format!("{}: {} (by {}, {})", sh.partner.name, sh.purpose, names.label(sh.shared_by.as_str()), format::when(sh.at)) }</li> }) }</ul>
            }
            if open {
                <h2>{"Share with partners"}</h2>
                if let Some(why) = &s.cannot_share {
                    <div class="nhsuk-warning-callout"><h3 class="nhsuk-warning-callout__label">{"Cannot share yet"}</h3><p>{ why.clone() }</p></div>
                } else {
                    <p>{"Only what is needed goes: the idea, what was seen, and who it is about where their consent covers that partner. Each partner gets its own copy and can answer. Choose who should receive it."}</p>
                    { match &*partners {
                        Load::Ready(list) if list.is_empty() => html! { <p>{"No partner organisations are set up on the hub yet."}</p> },
                        Load::Ready(list) => {
                            let (fit, rest): (Vec<&Suggestion>, Vec<&Suggestion>) = list.iter().partition(|s| s.fits);
                            html! { <>
                                if !fit.is_empty() {
                                    { choices_with_error("partners-suggested", "Suggested for this idea", Answers::Any, fit.into_iter().map(partner_choice).collect(), problem_with(&error, "partners")) }
                                }
                                if !rest.is_empty() {
                                    { choices_with_error("partners-other", if list.iter().any(|s| s.fits) { "Other partners" } else { "Who should receive it?" }, Answers::Any, rest.into_iter().map(partner_choice).collect(),
                                        problem_with(&error, "partners").filter(|_| partners_fieldset == "partners-other")) }
                                }
                            </> }
                        }
                        other => loading_or_failed(other),
                    } }
                    if !chosen_far.is_empty() {
                        { text_field("out-of-area-reason", &format!("Why share with {} out of area?", chosen_far.join(" and ")),
                            Some("They do not cover where the person lives. Say why they are the right people, for example: the person is moving there."),
                            &out_of_area_reason, { let r = out_of_area_reason.clone(); Callback::from(move |e: InputEvent| r.set(input_value(&e))) },
                            TextBox::Line, problem_with(&error, "out_of_area_reason")) }
                    }
                    { text_field("purpose", "Why you are sharing it (the partner sees this)", None, &purpose,
                        { let p = purpose.clone(); Callback::from(move |e: InputEvent| p.set(input_value(&e))) }, TextBox::Line, problem_with(&error, "purpose")) }
                    <div class="nhsuk-form-group">
                        <div class="nhsuk-checkboxes">
                            <div class="nhsuk-checkboxes__item ds-check">
                                <input class="nhsuk-checkboxes__input" id="include-observations" type="checkbox" aria-describedby="include-observations-hint" checked={*include_observations} onclick={toggle_observations} />
                                <label class="nhsuk-label nhsuk-checkboxes__label" for="include-observations">{"Include the latest soft signs and vital signs"}</label>
                                <div class="nhsuk-hint nhsuk-checkboxes__hint" id="include-observations-hint">
                                    {"From the most recent visit: only the signs that had changed from usual, and the NEWS2 score. Leave it unticked if the partner does not need them."}
                                </div>
                            </div>
                        </div>
                    </div>
                    <button type="button" class="nhsuk-button" id="share" onclick={share}>{"Share"}</button>
                }
                <h2>{"Or decline it"}</h2>
                { text_field("decline-reason", "Reason (the carer sees this)", None, &reason,
                    { let r = reason.clone(); Callback::from(move |e: InputEvent| r.set(input_value(&e))) }, TextBox::Line, problem_with(&error, "reason")) }
                <button type="button" class="nhsuk-button nhsuk-button--secondary" id="decline" onclick={decline}>{"Decline"}</button>
            }
        </>
    }
}

#[component]
pub fn Import() -> Html {
    let ctx = use_context::<Ctx>().expect("inside the app context");
    let kind = use_state(|| CsvKind::People);
    let text = use_state(String::new);
    let outcome = use_state(|| None::<ImportOutcome>);
    let error = use_state(|| None::<AppError>);
    let run = {
        let (ctx, error, outcome) = (ctx.clone(), error.clone(), outcome.clone());
        let args = ImportArgs { kind: *kind, text: (*text).clone() };
        Callback::from(move |_: MouseEvent| {
            let outcome = outcome.clone();
            act::<ImportCsv>(&ctx, args.clone(), error.clone(), move |o| outcome.set(Some(o)));
        })
    };
    let choice = |k: CsvKind, label: &'static str| {
        let state = kind.clone();
        Choice::new(format!("csv-{k:?}").to_lowercase(), label, *kind == k, Callback::from(move |()| state.set(k)))
    };
    html! {
        <>
            <BackLink to={ctx.home()} label="Back to today" />
            <h1 class="ds-title">{"Import people or a rota"}</h1>
            <p>{"Paste a CSV file. Every row is checked first: if any row has a problem, nothing is imported and each problem is listed."}</p>
            <ErrorMessage error={(*error).clone()} />
            // Refused rows: one summary at the top of the form, each problem a link to the text.
            if let Some(ImportOutcome::Refused { errors }) = &*outcome {
                <div class="nhsuk-error-summary" role="alert" id="import-problems">
                    <h2 class="nhsuk-error-summary__title">{ format!("Nothing was imported: {} problem{} to fix", errors.len(), if errors.len() == 1 { "" } else { "s" }) }</h2>
                    <ul class="nhsuk-list nhsuk-error-summary__list">
                        { for errors.iter().map(|e| html! {
                            <li><a href="#csv" onclick={Callback::from(|ev: MouseEvent| { ev.prevent_default(); crate::widgets::focus("csv"); })}>
                                { format!("Line {}: {}", e.line, e.problem) }
                            </a></li>
                        }) }
                    </ul>
                </div>
            }
            { choices("csv-kind", "What is in the file?", Answers::OneInline, vec![choice(CsvKind::People, "People"), choice(CsvKind::Rota, "Rota")]) }
            { text_field("csv", "CSV text", None, &text, { let t = text.clone(); Callback::from(move |e: InputEvent| t.set(input_value(&e))) },
                TextBox::Lines(10), match &*outcome {
                    Some(ImportOutcome::Refused { .. }) => Some("Fix the lines listed at the top, then import again"),
                    _ => None,
                }) }
            <button type="button" class="nhsuk-button" id="import" onclick={run}>{"Import"}</button>
            if let Some(ImportOutcome::Imported { created, updated }) = &*outcome {
                <div class="nhsuk-inset-text" role="status"><p>{ format!("Imported: {created} new, {updated} updated.") }</p></div>
            }
        </>
    }
}

#[component]
pub fn Devices() -> Html {
    let ctx = use_context::<Ctx>().expect("inside the app context");
    let (loaded, _) = use_command::<GetDevices>(());
    let list = use_state(|| None::<Vec<DeviceRow>>);
    {
        let list = list.clone();
        use_effect_with(loaded.clone(), move |loaded| {
            if let Load::Ready(l) = &**loaded {
                list.set(Some(l.clone()));
            }
        });
    }
    let confirming = use_state(|| None::<String>);
    let asked = use_state(|| false);
    let staff = use_state(String::new);
    let staff_name = use_state(String::new);
    let role = use_state(|| Role::Carer);
    let code = use_state(|| None::<EnrolmentCode>);
    let error = use_state(|| None::<AppError>);
    let names = use_staff_names();
    let ask_again = {
        let (ctx, error, list, asked) = (ctx.clone(), error.clone(), list.clone(), asked.clone());
        Callback::from(move |_: MouseEvent| {
            let (list, asked) = (list.clone(), asked.clone());
            act::<AskHeldBackRetry>(&ctx, (), error.clone(), move |l| {
                list.set(Some(l));
                asked.set(true);
            });
        })
    };
    let create = {
        let (ctx, error, code) = (ctx.clone(), error.clone(), code.clone());
        let args = EnrolmentCodeArgs { staff_ref: (*staff).clone(), staff_name: (*staff_name).clone(), role: *role };
        Callback::from(move |_: MouseEvent| {
            let code = code.clone();
            act::<CreateEnrolmentCode>(&ctx, args.clone(), error.clone(), move |c| code.set(Some(c)));
        })
    };
    let role_choice = |r: Role, label: &'static str| {
        let state = role.clone();
        Choice::new(format!("role-{r:?}").to_lowercase(), label, *role == r, Callback::from(move |()| state.set(r)))
    };
    html! {
        <>
            <BackLink to={ctx.home()} label="Back to today" />
            <h1 class="ds-title">{"Devices"}</h1>
            <h2>{"Set up a new tablet"}</h2>
            <p>{"Create a one-time code for a member of staff. It works once, for 24 hours."}</p>
            <ErrorMessage error={(*error).clone()} field={problem_with(&error, "staff_name").map(|_| AttrValue::Static("staff-name"))} />
            { text_field("staff-ref", "Staff reference", None, &staff,
                { let s = staff.clone(); Callback::from(move |e: InputEvent| s.set(input_value(&e))) }, TextBox::Width(10), problem_with(&error, "staff_ref")) }
            { text_field("staff-name", "Their name, as colleagues know them",
                Some("For example, Sam Taylor. It goes in the directory, so the tablet and the office's lists show their name."),
                &staff_name, { let s = staff_name.clone(); Callback::from(move |e: InputEvent| s.set(input_value(&e))) },
                TextBox::Width(20), problem_with(&error, "staff_name")) }
            { choices("role", "Their role", Answers::OneInline, vec![role_choice(Role::Carer, "Carer"), role_choice(Role::Manager, "Manager")]) }
            <button type="button" class="nhsuk-button" id="create-code" onclick={create}>{"Create code"}</button>
            if let Some(c) = &*code {
                <div class="nhsuk-inset-text" role="status">
                    <p class="nhsuk-body-l">{"Code: "}<strong id="enrolment-code">{ c.code.clone() }</strong></p>
                    <p>{ format!("Valid until {}", c.expires_at) }</p>
                </div>
            }
            <h2>{"Enrolled devices"}</h2>
            <p>{"Revoke a lost or stolen tablet: it can sync nothing more, and it deletes its records the next time it connects."}</p>
            { match (&*list, &*loaded) {
                (Some(devices), _) => html! { <>
                    <table class="nhsuk-table" id="devices">
                        <thead class="nhsuk-table__head"><tr><th>{"Device"}</th><th>{"Staff"}</th><th>{"Role"}</th><th>{"Last synced"}</th><th>{""}</th></tr></thead>
                        <tbody class="nhsuk-table__body">
                            { for devices.iter().map(|d| {
                                let id = d.id.to_string();
                                let action = if d.revoked {
                                    html! { <strong class="nhsuk-tag nhsuk-tag--grey">{"Revoked"}</strong> }
                                } else if confirming.as_deref() == Some(id.as_str()) {
                                    let (ctx, error, list, confirming) = (ctx.clone(), error.clone(), list.clone(), confirming.clone());
                                    let args = DeviceRef { id: id.clone() };
                                    let onclick = Callback::from(move |_: MouseEvent| {
                                        let (list, confirming) = (list.clone(), confirming.clone());
                                        act::<RevokeDevice>(&ctx, args.clone(), error.clone(), move |l| { list.set(Some(l)); confirming.set(None); });
                                    });
                                    html! { <button type="button" class="nhsuk-button nhsuk-button--warning ds-revoke-confirm" {onclick}>{ format!("Yes, revoke {}", d.name) }</button> }
                                } else {
                                    let (confirming, id) = (confirming.clone(), id.clone());
                                    let onclick = Callback::from(move |_: MouseEvent| confirming.set(Some(id.clone())));
                                    html! { <button type="button" class="nhsuk-button nhsuk-button--secondary ds-revoke" {onclick}>{"Revoke"}</button> }
                                };
                                html! {
                                    <tr class="nhsuk-table__row">
                                        <td class="nhsuk-table__cell">{ d.name.clone() }</td>
                                        <td class="nhsuk-table__cell">{ names.label(&d.staff_ref) }</td>
                                        <td class="nhsuk-table__cell">{ role_word(d.role) }</td>
                                        <td class="nhsuk-table__cell">
                                            { d.last_sync_at.map(format::when).unwrap_or_else(|| "Never".into()) }
                                            if d.held_back > 0 {
                                                <br /><strong class="nhsuk-tag nhsuk-tag--red ds-held-back">
                                                    { format!("{} held back: listed below", d.held_back) }
                                                </strong>
                                            }
                                        </td>
                                        <td class="nhsuk-table__cell">{ action }</td>
                                    </tr>
                                }
                            }) }
                        </tbody>
                    </table>
                    if devices.iter().any(|d| !d.held_back_records.is_empty()) {
                        <h2 id="held-back-heading">{"Records the office's server held back"}</h2>
                        <p>{"Each stays on its tablet until it is sent or you discard it. Discard only a change that should not be kept: the tablet then takes the office's copy."}</p>
                        <table class="nhsuk-table" id="held-back" aria-labelledby="held-back-heading">
                            <thead class="nhsuk-table__head"><tr><th>{"Tablet"}</th><th>{"Record"}</th><th>{"Why"}</th><th>{"Since"}</th><th>{""}</th></tr></thead>
                            <tbody class="nhsuk-table__body">
                                { for devices.iter().flat_map(|d| d.held_back_records.iter().map(move |h| (d, h))).map(|(d, h)| {
                                    let key = format!("{}/{}", d.id, h.record);
                                    let action = if h.discard_asked {
                                        html! { <strong class="nhsuk-tag nhsuk-tag--grey">{"Discarded at the tablet's next sync"}</strong> }
                                    } else if confirming.as_deref() == Some(key.as_str()) {
                                        let (ctx, error, list, confirming) = (ctx.clone(), error.clone(), list.clone(), confirming.clone());
                                        let args = HeldBackRef { device: d.id.to_string(), record: h.record.to_string() };
                                        let onclick = Callback::from(move |_: MouseEvent| {
                                            let (list, confirming) = (list.clone(), confirming.clone());
                                            act::<DiscardHeldBack>(&ctx, args.clone(), error.clone(), move |l| { list.set(Some(l)); confirming.set(None); });
                                        });
                                        html! { <button type="button" class="nhsuk-button nhsuk-button--warning ds-discard-confirm" {onclick}>{"Yes, discard this change"}</button> }
                                    } else {
                                        let confirming = confirming.clone();
                                        let onclick = Callback::from(move |_: MouseEvent| confirming.set(Some(key.clone())));
                                        html! { <button type="button" class="nhsuk-button nhsuk-button--secondary ds-discard" {onclick}>{"Discard…"}</button> }
                                    };
                                    html! {
                                        <tr class="nhsuk-table__row">
                                            <td class="nhsuk-table__cell">{ format!("{} ({})", d.name, names.label(&d.staff_ref)) }</td>
                                            <td class="nhsuk-table__cell">{ h.what.clone() }</td>
                                            <td class="nhsuk-table__cell">{ format!("The server said {}.", h.reason) }</td>
                                            <td class="nhsuk-table__cell">{ format::when(h.since) }</td>
                                            <td class="nhsuk-table__cell">{ action }</td>
                                        </tr>
                                    }
                                }) }
                            </tbody>
                        </table>
                    }
                    if devices.iter().any(|d| d.held_back > 0) || *asked {
                        <p>{"A tablet keeps every record the office's server would not take and lists them, with why, on its sync badge. Once the cause is fixed here (a rota, a person's details), ask the tablets to send them again."}</p>
                        <button type="button" class="nhsuk-button nhsuk-button--secondary" id="ask-held-back-retry" onclick={ask_again}>
                            {"Ask tablets to send held-back records again"}
                        </button>
                        if *asked {
                            <div class="nhsuk-inset-text" role="status" id="asked-held-back-retry">
                                <p>{"Asked. Each tablet sends them again the next time it syncs; the counts here change after that."}</p>
                            </div>
                        }
                    }
                </> },
                (None, other) => loading_or_failed(other),
            } }
        </>
    }
}

#[component]
pub fn SearchScreen() -> Html {
    let ctx = use_context::<Ctx>().expect("inside the app context");
    let text = use_state(String::new);
    let hits = use_state(|| None::<Vec<SearchHit>>);
    let error = use_state(|| None::<AppError>);
    let onsubmit = {
        let (ctx, error, hits, text) = (ctx.clone(), error.clone(), hits.clone(), text.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let hits = hits.clone();
            act::<Search>(&ctx, SearchArgs { text: (*text).clone() }, error.clone(), move |h| hits.set(Some(h)));
        })
    };
    let open = |hit: &SearchHit| {
        let go = ctx.go.clone();
        let route = match (hit.kind, &hit.visit_id, &hit.person_id) {
            (doorstep_model::RecordKind::Insight, _, _) => Route::Idea(hit.id.clone()),
            (_, Some(visit), _) => Route::Visit(visit.clone()),
            (_, None, Some(person)) => Route::Person(person.clone()),
            _ => Route::Search,
        };
        Callback::from(move |e: MouseEvent| {
            e.prevent_default();
            go.emit(route.clone());
        })
    };
    let kind = |hit: &SearchHit| match hit.kind {
        doorstep_model::RecordKind::Insight => "Idea",
        _ => "Visit note",
    };
    html! {
        <>
            <h1 class="ds-title">{"Search notes and ideas"}</h1>
            <form {onsubmit}>
                <div class="nhsuk-form-group">
                    <label class="nhsuk-label" for="search">{"Words to find"}</label>
                    <input class="nhsuk-input" id="search" type="search" value={(*text).clone()} oninput={let t = text.clone(); Callback::from(move |e: InputEvent| t.set(input_value(&e)))} />
                </div>
                <button class="nhsuk-button" type="submit">{"Search"}</button>
            </form>
            <ErrorMessage error={(*error).clone()} />
            if let Some(hits) = &*hits {
                <p>{ format!("{} found", hits.len()) }</p>
                <ul class="nhsuk-list" id="hits">
                    { for hits.iter().map(|h| html! {
                        <li class="nhsuk-card ds-hit">
                            <div class="nhsuk-card__content">
                                <h2 class="nhsuk-card__heading nhsuk-heading-s">
                                    <a href={format!("#{}", h.id)} onclick={open(h)}>
                                        { format!("{}: {}", kind(h), h.person_name.clone().unwrap_or_else(|| "someone not on this device".into())) }
                                        // Each link names its own record: the same person's notes differ by when.
                                        if let Some(at) = h.at { { format!(", {}", format::when(at)) } }
                                    </a>
                                </h2>
                                if !h.authors.is_empty() { <p class="nhsuk-body-s">{ format!("By {}", h.authors.join(" and ")) }</p> }
                                <p class="nhsuk-card__description">
                                    { for h.snippet_parts().into_iter().map(|(text, matched)| if matched { html! { <mark>{ text }</mark> } } else { html! { { text } } }) }
                                </p>
                            </div>
                        </li>
                    }) }
                </ul>
            }
        </>
    }
}

/// Why a partner is where it is in the list, in one line: "Offers what the idea asks for… ·
/// Covers NB1 · Monday to Friday, 9am to 5pm".
fn partner_hint(s: &Suggestion) -> String {
    let mut parts = s.reasons.clone();
    if !s.partner.hours.is_empty() {
        parts.push(s.partner.hours.clone());
    }
    parts.join(". ")
}
