//! Ideas: recording one, and a carer's list of theirs with what became of them.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use doorstep_commands::{AppError, GetMyIdeas, IdeaArgs, RecordIdea, ReplyArgs, ReplyToPartner};
use doorstep_model::view::SharedItemRow;
use doorstep_model::{InsightStatus, PartnerKind, ThreadSide, Urgency};
use yew::prelude::*;

use crate::app::{Ctx, Route};
use crate::format;
use crate::widgets::{
    Answers, BackLink, Choice, ErrorMessage, Load, TextBox, act, choices, input_value, loading_or_failed, problem_with,
    text_field, use_command, use_staff_names,
};

#[derive(Properties, PartialEq)]
pub struct NewIdeaProps {
    pub person_id: String,
    pub person_name: String,
    pub visit_id: Option<String>,
}

#[component]
pub fn NewIdea(props: &NewIdeaProps) -> Html {
    let ctx = use_context::<Ctx>().expect("inside the app context");
    let summary = use_state(String::new);
    let detail = use_state(String::new);
    let action = use_state(String::new);
    let who = use_state(Vec::<PartnerKind>::new);
    let urgency = use_state(|| Urgency::Routine);
    let error = use_state(|| None::<AppError>);
    let sent = use_state(|| false);
    let back = match &props.visit_id {
        Some(v) => Route::Visit(v.clone()),
        None => Route::Person(props.person_id.clone()),
    };
    let text = |state: &UseStateHandle<String>| {
        let state = state.clone();
        Callback::from(move |e: InputEvent| state.set(input_value(&e)))
    };
    let save = {
        let (ctx, error) = (ctx.clone(), error.clone());
        let args = IdeaArgs {
            person_id: props.person_id.clone(),
            summary: (*summary).clone(),
            detail: (*detail).clone(),
            suggested_action: (*action).clone(),
            who_could_act: (*who).clone(),
            urgency: *urgency,
        };
        let sent = sent.clone();
        Callback::from(move |_: MouseEvent| {
            // The one answer an idea needs: said by its box before anything is sent.
            if args.summary.trim().is_empty() {
                error.set(Some(
                    AppError::new(doorstep_commands::ErrorCode::Invalid, "Write your idea in one line.")
                        .about("summary"),
                ));
                return;
            }
            let sent = sent.clone();
            act::<RecordIdea>(&ctx, args.clone(), error.clone(), move |_| sent.set(true));
        })
    };
    if *sent {
        // Saved: say so, and what happens next, before going back.
        let go = ctx.go.clone();
        let back_label = if props.visit_id.is_some() { "Back to the visit" } else { "Back to their page" };
        return html! {
            <>
                <div class="nhsuk-panel ds-panel" id="idea-sent" role="status">
                    <h1 class="nhsuk-panel__title">{"Idea sent to the office"}</h1>
                    <div class="nhsuk-panel__body">{ format!("About {}", props.person_name) }</div>
                </div>
                <h2>{"What happens next"}</h2>
                <p>{"The office reviews it and, with their agreement, shares it with the team who could act. Their answer appears in My ideas."}</p>
                <button type="button" class="nhsuk-button ds-wide" id="idea-sent-back" onclick={Callback::from(move |_: MouseEvent| go.emit(back.clone()))}>{ back_label }</button>
            </>
        };
    }
    let partner = |kind: PartnerKind| {
        let who2 = who.clone();
        let on = who.contains(&kind);
        let on_change = Callback::from(move |()| {
            let mut all = (*who2).clone();
            if let Some(i) = all.iter().position(|k| *k == kind) {
                all.remove(i);
            } else {
                all.push(kind);
            }
            who2.set(all);
        });
        Choice::new(format!("who-{kind:?}").to_lowercase(), kind.label(), on, on_change)
    };
    let urgency_choice = |u: Urgency, label: &'static str| {
        let state = urgency.clone();
        Choice::new(
            format!("urgency-{u:?}").to_lowercase(),
            label,
            *urgency == u,
            Callback::from(move |()| state.set(u)),
        )
    };
    html! {
        <>
            <BackLink to={back} label="Back" />
            <h1 class="ds-title">{ format!("An idea for {}", props.person_name) }</h1>
            <p class="nhsuk-body-l">{"What small thing would keep them well at home? The office reviews it and may share it with the NHS or council."}</p>
            <ErrorMessage error={(*error).clone()} field={problem_with(&error, "summary").map(|_| AttrValue::Static("idea-summary"))} />
            { text_field("idea-summary", "Your idea in one line", Some("For example: a grab rail by the back door would stop her near-falls"),
                &summary, text(&summary), TextBox::Line, problem_with(&error, "summary")) }
            { text_field("idea-detail", "What you have seen", None, &detail, text(&detail), TextBox::Lines(4), None) }
            { text_field("idea-action", "What could be done", None, &action, text(&action), TextBox::Line, None) }
            { choices("who", "Who could help? (choose any)", Answers::Any, PartnerKind::ALL.into_iter().map(partner).collect()) }
            { choices("urgency", "How soon?", Answers::OneInline, vec![
                urgency_choice(Urgency::Routine, "No rush"),
                urgency_choice(Urgency::Soon, "Within days"),
                urgency_choice(Urgency::Urgent, "Today"),
            ]) }
            if *urgency == Urgency::Urgent {
                <div class="nhsuk-warning-callout" id="idea-not-escalation" role="status">
                    <h3 class="nhsuk-warning-callout__label"><span role="text">{"An idea is not an escalation"}</span></h3>
                    <p>{"The office reads ideas when it can. If they are unwell now, phone the GP practice, or 111, or 999 in an emergency, and record the call on the visit."}</p>
                </div>
            }
            <button type="button" class="nhsuk-button ds-wide" id="save-idea" onclick={save}>{"Send idea to the office"}</button>
        </>
    }
}

#[component]
pub fn MyIdeas() -> Html {
    let ctx = use_context::<Ctx>().expect("inside the app context");
    let (loaded, reload) = use_command::<GetMyIdeas>(());
    let names = use_staff_names();
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
    let Load::Ready(ideas) = &*loaded else { return loading_or_failed(&loaded) };
    html! {
        <>
            <BackLink to={ctx.home()} label="Back to today" />
            <h1 class="ds-title">{"My ideas"}</h1>
            if ideas.is_empty() {
                <p class="nhsuk-body-l">{"You have not recorded any ideas yet. You can record one from any visit."}</p>
            }
            <ul class="nhsuk-list">
                { for ideas.iter().map(|mine| {
                    let idea = &mine.insight;
                    let (label, tag) = format::status_tag(idea.status.code());
                    // Shares made before partners had their own items are listed by name only.
                    let older: Vec<String> = idea
                        .shares
                        .iter()
                        .filter(|s| !mine.shared.iter().any(|i| i.partner.id == s.partner.id))
                        .map(|s| s.partner.name.clone())
                        .collect();
                    html! {
                        <li class="nhsuk-card ds-idea">
                            <div class="nhsuk-card__content">
                                <h2 class="nhsuk-card__heading nhsuk-heading-m">{ idea.summary.clone() }</h2>
                                <strong class={classes!("nhsuk-tag", tag)}>{ label }</strong>
                                if mine.new_replies > 0 {
                                    {" "}<strong class="nhsuk-tag nhsuk-tag--red ds-new">{ if mine.new_replies == 1 { "New answer".to_string() } else { format!("{} new answers", mine.new_replies) } }</strong>
                                }
                                if mine.new_messages > 0 {
                                    {" "}<strong class="nhsuk-tag nhsuk-tag--red ds-new ds-new-messages">{ if mine.new_messages == 1 { "New message".to_string() } else { format!("{} new messages", mine.new_messages) } }</strong>
                                }
                                <p class="nhsuk-body-s">
                                    { mine.person_name.as_ref().map(|n| format!("About {n}. ")).unwrap_or_default() }
                                    { format!("Recorded {}", format::when(idea.created_at)) }
                                </p>
                                if let InsightStatus::Declined { reason } = &idea.status {
                                    <p>{ format!("Why not: {reason}") }</p>
                                }
                                if !mine.shared.is_empty() {
                                    <h3 class="nhsuk-heading-s">{"Shared with"}</h3>
                                    <SharedList items={mine.shared.clone()} new_since={Some(mine.new_since.unwrap_or(DateTime::<Utc>::MIN_UTC))} />
                                }
                                if !older.is_empty() {
                                    <p>{ format!("Shared with {}", older.join(", ")) }</p>
                                }
                                { for idea.comments.iter().map(|c| html! {
                                    <div class="nhsuk-inset-text"><p><strong>{ format!("{} said: ", names.label(&c.author)) }</strong>{ c.text.clone() }</p></div>
                                }) }
                            </div>
                        </li>
                    }
                }) }
            </ul>
        </>
    }
}

#[derive(Properties, PartialEq)]
pub struct SharedListProps {
    pub items: Vec<SharedItemRow>,
    /// A manager may stop sharing an item: called with its id once they have confirmed.
    #[prop_or_default]
    pub on_stop: Option<Callback<String>>,
    /// Partners' messages after this are marked new (none: nothing is marked).
    #[prop_or_default]
    pub new_since: Option<DateTime<Utc>>,
}

/// What each partner was sent of an idea, where it stands, every answer and the conversation
/// with them, in plain English, with a box to write to them.
#[component]
pub fn SharedList(props: &SharedListProps) -> Html {
    let ctx = use_context::<Ctx>().expect("inside the app context");
    let confirming = use_state(|| None::<String>);
    let names = use_staff_names();
    // Items as the last message sent left them, and what is being typed to each partner.
    let updated = use_state(HashMap::<String, SharedItemRow>::new);
    let drafts = use_state(HashMap::<String, String>::new);
    let error = use_state(|| None::<AppError>);
    let conversation = |row: &SharedItemRow| {
        let partner = row.partner.name.as_str();
        let id = row.id.clone();
        let draft = drafts.get(&id).cloned().unwrap_or_default();
        let oninput = {
            let (drafts, id) = (drafts.clone(), id.clone());
            Callback::from(move |e: InputEvent| {
                let mut all = (*drafts).clone();
                all.insert(id.clone(), input_value(&e));
                drafts.set(all);
            })
        };
        let send = {
            let (ctx, error, updated, drafts) = (ctx.clone(), error.clone(), updated.clone(), drafts.clone());
            let args = ReplyArgs { id: id.clone(), text: draft.clone() };
            Callback::from(move |_: MouseEvent| {
                let (updated, drafts) = (updated.clone(), drafts.clone());
                act::<ReplyToPartner>(&ctx, args.clone(), error.clone(), move |row| {
                    let mut rows = (*updated).clone();
                    let mut typed = (*drafts).clone();
                    typed.remove(&row.id);
                    rows.insert(row.id.clone(), row);
                    updated.set(rows);
                    drafts.set(typed);
                });
            })
        };
        let new_since = props.new_since;
        html! {
            <div class="ds-thread">
                if let Some(h) = &row.handled_by {
                    <p class="nhsuk-body-s">{ format!("Being handled by {} at {partner} since {}.", h.by, format::when(h.at)) }</p>
                }
                if !row.messages.is_empty() {
                    <h4 class="nhsuk-heading-xs">{ format!("Messages with {partner}") }</h4>
                    <ul class="nhsuk-list ds-messages">
                        { for row.messages.iter().map(|m| {
                            let theirs = m.side == ThreadSide::Partner;
                            let new = theirs && new_since.is_some_and(|at| m.at > at);
                            html! {
                                <li class={classes!("ds-message", theirs.then_some("ds-message--theirs"))}>
                                    <p class="nhsuk-body-s">
                                        <strong>{ if theirs { format!("{} ({partner})", m.by) } else { m.by.clone() } }</strong>
                                        { format!(", {}", format::when(m.at)) }
                                        if new { {" "}<strong class="nhsuk-tag nhsuk-tag--red ds-new">{"New"}</strong> }
                                    </p>
                                    <p>{ m.text.clone() }</p>
                                </li>
                            }
                        }) }
                    </ul>
                }
                if row.revoked.is_none() {
                    <div class="nhsuk-form-group">
                        <label class="nhsuk-label" for={format!("reply-{id}")}>{ format!("Write to {partner}") }</label>
                        <textarea class="nhsuk-textarea" id={format!("reply-{id}")} rows="2" value={draft} {oninput} />
                    </div>
                    <button type="button" class="nhsuk-button nhsuk-button--secondary ds-send-reply" id={format!("send-{id}")} onclick={send}>
                        { format!("Send to {partner}") }
                    </button>
                }
            </div>
        }
    };
    let item = |row: &SharedItemRow| {
        // The row as this screen last sent to it, unless a sync has since brought more.
        let row = match updated.get(&row.id) {
            Some(sent) if sent.messages.len() >= row.messages.len() => sent,
            _ => row,
        };
        let partner = row.partner.name.as_str();
        let stop = match (&props.on_stop, &row.revoked) {
            (Some(on_stop), None) if confirming.as_deref() == Some(row.id.as_str()) => {
                let (on_stop, confirming_yes, id) = (on_stop.clone(), confirming.clone(), row.id.clone());
                let yes = Callback::from(move |_: MouseEvent| {
                    confirming_yes.set(None);
                    on_stop.emit(id.clone());
                });
                let confirming = confirming.clone();
                let cancel = Callback::from(move |_: MouseEvent| confirming.set(None));
                html! {
                    <div class="nhsuk-warning-callout ds-stop-confirm" role="alert">
                        <h4 class="nhsuk-warning-callout__label">{ format!("Stop sharing with {partner}?") }</h4>
                        <p>{"They will no longer be able to see it or answer. What they have already said stays on record."}</p>
                        <div class="ds-buttons">
                            <button type="button" class="nhsuk-button nhsuk-button--warning ds-stop-yes" onclick={yes}>{ format!("Yes, stop sharing with {partner}") }</button>
                            <button type="button" class="nhsuk-button nhsuk-button--secondary" onclick={cancel}>{"Keep sharing"}</button>
                        </div>
                    </div>
                }
            }
            (Some(_), None) => {
                let (confirming, id) = (confirming.clone(), row.id.clone());
                let onclick = Callback::from(move |_: MouseEvent| confirming.set(Some(id.clone())));
                html! { <button type="button" class="nhsuk-button nhsuk-button--secondary ds-stop" {onclick}>{"Stop sharing"}</button> }
            }
            _ => html! {},
        };
        html! {
            <li class="ds-shared">
                <p class="ds-shared__head">
                    <strong>{ partner.to_string() }</strong>{" "}
                    <strong class={classes!("nhsuk-tag", format::shared_tag(row.status))}>{ row.status.label() }</strong>
                </p>
                <p class="nhsuk-body-s">
                    { format!("Shared {} by {}: {}", format::date(row.shared_at), names.label(&row.shared_by), row.purpose) }
                    if !row.identifies_person { { " Sent without details that identify the person." } }
                </p>
                if row.responses.is_empty() && row.revoked.is_none() {
                    <p class="ds-shared__waiting">{ format!("{partner} has not answered yet.") }</p>
                }
                <ul class="nhsuk-list ds-responses">
                    { for row.responses.iter().map(|r| html! { <li class="ds-response">{ format::response(partner, r) }</li> }) }
                </ul>
                if let Some(r) = &row.revoked {
                    <p class="ds-shared__revoked">{ format!("No longer shared: stopped by {} on {}.", names.label(&r.by), format::date(r.at)) }</p>
                }
                { conversation(row) }
                { stop }
            </li>
        }
    };
    html! {
        <>
            <ErrorMessage error={(*error).clone()} />
            <ul class="nhsuk-list ds-shared-list">{ for props.items.iter().map(item) }</ul>
        </>
    }
}
