//! Ideas: recording one, and a carer's list of theirs with what became of them.

use doorstep_commands::{AppError, GetMyIdeas, IdeaArgs, RecordIdea};
use doorstep_model::{InsightStatus, PartnerKind, Urgency};
use yew::prelude::*;

use crate::app::{Ctx, Route};
use crate::format;
use crate::widgets::{BackLink, ErrorMessage, Load, act, input_value, loading_or_failed, use_command};

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
    let back = match &props.visit_id {
        Some(v) => Route::Visit(v.clone()),
        None => Route::Person(props.person_id.clone()),
    };
    let text = |state: &UseStateHandle<String>| {
        let state = state.clone();
        Callback::from(move |e: InputEvent| state.set(input_value(&e)))
    };
    let save = {
        let (ctx, error, back) = (ctx.clone(), error.clone(), back.clone());
        let args = IdeaArgs {
            person_id: props.person_id.clone(),
            summary: (*summary).clone(),
            detail: (*detail).clone(),
            suggested_action: (*action).clone(),
            who_could_act: (*who).clone(),
            urgency: *urgency,
        };
        Callback::from(move |_: MouseEvent| {
            let (go, back) = (ctx.go.clone(), back.clone());
            act::<RecordIdea>(&ctx, args.clone(), error.clone(), move |_| go.emit(back));
        })
    };
    let partner = |kind: PartnerKind| {
        let who2 = who.clone();
        let on = who.contains(&kind);
        let onclick = Callback::from(move |_: MouseEvent| {
            let mut all = (*who2).clone();
            if let Some(i) = all.iter().position(|k| *k == kind) {
                all.remove(i);
            } else {
                all.push(kind);
            }
            who2.set(all);
        });
        html! { <button type="button" class={classes!("ds-choice", on.then_some("ds-choice--on"))} aria-pressed={on.to_string()} {onclick}>{ kind.label() }</button> }
    };
    let urgency_choice = |u: Urgency, label: &'static str| {
        let state = urgency.clone();
        let on = *urgency == u;
        let onclick = Callback::from(move |_: MouseEvent| state.set(u));
        html! { <button type="button" class={classes!("ds-choice", on.then_some("ds-choice--on"))} aria-pressed={on.to_string()} {onclick}>{ label }</button> }
    };
    html! {
        <>
            <BackLink to={back} label="Back" />
            <h1 class="ds-title">{ format!("An idea for {}", props.person_name) }</h1>
            <p class="nhsuk-body-l">{"What small thing would keep them well at home? The office reviews it and may share it with the NHS or council."}</p>
            <ErrorMessage error={(*error).clone()} />
            <div class="nhsuk-form-group">
                <label class="nhsuk-label" for="idea-summary">{"Your idea in one line"}</label>
                <div class="nhsuk-hint">{"For example: a grab rail by the back door would stop her near-falls"}</div>
                <input class="nhsuk-input" id="idea-summary" value={(*summary).clone()} oninput={text(&summary)} />
            </div>
            <div class="nhsuk-form-group">
                <label class="nhsuk-label" for="idea-detail">{"What you have seen"}</label>
                <textarea class="nhsuk-textarea" id="idea-detail" rows="4" value={(*detail).clone()} oninput={text(&detail)} />
            </div>
            <div class="nhsuk-form-group">
                <label class="nhsuk-label" for="idea-action">{"What could be done"}</label>
                <input class="nhsuk-input" id="idea-action" value={(*action).clone()} oninput={text(&action)} />
            </div>
            <div class="nhsuk-form-group">
                <p class="nhsuk-label">{"Who could help? (choose any)"}</p>
                <div class="ds-buttons">{ for PartnerKind::ALL.into_iter().map(partner) }</div>
            </div>
            <div class="nhsuk-form-group">
                <p class="nhsuk-label">{"How soon?"}</p>
                <div class="ds-buttons">
                    { urgency_choice(Urgency::Routine, "No rush") }
                    { urgency_choice(Urgency::Soon, "Within days") }
                    { urgency_choice(Urgency::Urgent, "Today") }
                </div>
            </div>
            <button type="button" class="nhsuk-button ds-wide" id="save-idea" onclick={save}>{"Send idea to the office"}</button>
        </>
    }
}

#[component]
pub fn MyIdeas() -> Html {
    let ctx = use_context::<Ctx>().expect("inside the app context");
    let (loaded, _) = use_command::<GetMyIdeas>(());
    let Load::Ready(ideas) = &*loaded else { return loading_or_failed(&loaded) };
    html! {
        <>
            <BackLink to={ctx.home()} label="Back to today" />
            <h1 class="ds-title">{"My ideas"}</h1>
            if ideas.is_empty() {
                <p class="nhsuk-body-l">{"You have not recorded any ideas yet. You can record one from any visit."}</p>
            }
            <ul class="nhsuk-list">
                { for ideas.iter().map(|idea| {
                    let (label, tag) = format::status_tag(idea.status.code());
                    html! {
                        <li class="nhsuk-card ds-idea">
                            <div class="nhsuk-card__content">
                                <h2 class="nhsuk-card__heading nhsuk-heading-m">{ idea.summary.clone() }</h2>
                                <strong class={classes!("nhsuk-tag", tag)}>{ label }</strong>
                                <p class="nhsuk-body-s">{ format!("Recorded {}", format::when(idea.created_at)) }</p>
                                if let InsightStatus::Declined { reason } = &idea.status {
                                    <p>{ format!("Why not: {reason}") }</p>
                                }
                                if !idea.shares.is_empty() {
                                    <p>{ format!("Shared with {}", idea.shares.iter().map(|s| s.partner.name.clone()).collect::<Vec<_>>().join(", ")) }</p>
                                }
                                { for idea.comments.iter().map(|c| html! {
                                    <div class="nhsuk-inset-text"><p><strong>{ format!("{} said: ", c.author) }</strong>{ c.text.clone() }</p></div>
                                }) }
                            </div>
                        </li>
                    }
                }) }
            </ul>
        </>
    }
}
