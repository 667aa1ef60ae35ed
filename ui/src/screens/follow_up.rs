//! "Did it help?" on the manager's day: each idea a partner acted on 30 days ago (or 30 days
//! after "too early to tell"), with what the partner did and judged, and the office's answer.

use doorstep_commands::{AnswerFollowUp, AppError, ErrorCode, FollowUpArgs, FollowUpRow, GetFollowUps};
use doorstep_model::outcome::HelpAnswer;
use yew::prelude::*;

use crate::app::Ctx;
use crate::format;
use crate::widgets::{Answers, Choice, ErrorMessage, Load, act, choices_with_error, input_value, use_command};

/// What the section's heading is: the office's day links its tile here.
pub const HEADING_ID: &str = "count-follow-up-list";

#[component]
pub fn FollowUpSection() -> Html {
    let (loaded, _) = use_command::<GetFollowUps>(());
    let answered = use_state(|| None::<Vec<FollowUpRow>>);
    let confirmed = use_state(|| None::<String>);
    let heading = html! { <h2 id={HEADING_ID}>{"Ideas to follow up: did it help?"}</h2> };
    let rows = match (&*answered, &*loaded) {
        (Some(rows), _) => rows.clone(),
        (None, Load::Ready(rows)) => rows.clone(),
        (None, Load::Loading) => {
            return html! { <section id="follow-up">{ heading }<p>{"Looking for ideas to follow up…"}</p></section> };
        }
        (None, Load::Failed(e)) => {
            return html! { <section id="follow-up">{ heading }<p>{ e.message.clone() }</p></section> };
        }
    };
    let on_saved = {
        let (answered, confirmed) = (answered.clone(), confirmed.clone());
        Callback::from(move |(rows, said): (Vec<FollowUpRow>, String)| {
            answered.set(Some(rows));
            confirmed.set(Some(said));
        })
    };
    html! {
        <section id="follow-up" aria-labelledby={HEADING_ID}>
            { heading }
            <p class="nhsuk-body-s">{"Ideas a partner acted on at least 30 days ago. Say whether it made a difference for the person."}</p>
            if let Some(said) = &*confirmed {
                <div class="nhsuk-inset-text" role="status" id="follow-up-saved"><p>{ said.clone() }</p></div>
            }
            if rows.is_empty() {
                <p id="follow-up-none">{"No ideas to follow up. When a partner says they acted on an idea, you are asked here 30 days later whether it helped."}</p>
            }
            <ul class="nhsuk-list" id="follow-ups">
                { for rows.iter().map(|row| html! {
                    <FollowUpCard key={row.insight_id.clone()} row={row.clone()} on_saved={on_saved.clone()} />
                }) }
            </ul>
        </section>
    }
}

#[derive(Properties, PartialEq)]
struct CardProps {
    row: FollowUpRow,
    /// The ideas still to follow up after this answer, and the confirmation to show.
    on_saved: Callback<(Vec<FollowUpRow>, String)>,
}

#[component]
fn FollowUpCard(props: &CardProps) -> Html {
    let ctx = use_context::<Ctx>().expect("inside the app context");
    let chosen = use_state(|| None::<HelpAnswer>);
    let detail = use_state(String::new);
    let error = use_state(|| None::<AppError>);
    let row = &props.row;
    let id = |what: &str| format!("follow-up-{}-{what}", row.insight_id);
    let radios_id = id("answer");
    let save = {
        let (ctx, chosen, detail, error, on_saved) =
            (ctx.clone(), chosen.clone(), detail.clone(), error.clone(), props.on_saved.clone());
        let (insight_id, seen, summary) = (row.insight_id.clone(), row.version.clone(), row.summary.clone());
        Callback::from(move |_: MouseEvent| {
            let Some(answer) = *chosen else {
                error.set(Some(AppError::new(
                    ErrorCode::Invalid,
                    "Choose whether it helped: yes, no, or too early to tell.",
                )));
                return;
            };
            let args =
                FollowUpArgs { insight_id: insight_id.clone(), seen: seen.clone(), answer, detail: (*detail).clone() };
            let said = match answer {
                HelpAnswer::TooEarly => {
                    format!("Saved for “{summary}”: too early to tell. You will be asked again in 30 days.")
                }
                _ => format!("Saved for “{summary}”: {}.", answer.label().to_lowercase()),
            };
            let on_saved = on_saved.clone();
            act::<AnswerFollowUp>(&ctx, args, error.clone(), move |rows| on_saved.emit((rows, said)));
        })
    };
    let pick = |answer: HelpAnswer| {
        let chosen = chosen.clone();
        Callback::from(move |()| chosen.set(Some(answer)))
    };
    let items = HelpAnswer::ALL
        .into_iter()
        .map(|a| {
            let choice = Choice::new(id(a.code()), a.label(), *chosen == Some(a), pick(a));
            if a == HelpAnswer::TooEarly { choice.with_hint("You will be asked again in 30 days.") } else { choice }
        })
        .collect();
    // The problem is with the question only while no answer is chosen.
    let field_problem = (*error).as_ref().filter(|_| chosen.is_none()).map(|e| e.message.clone());
    let detail_id = id("detail");
    html! {
        <li class="nhsuk-card ds-follow-up">
            <div class="nhsuk-card__content">
                <h3 class="nhsuk-card__heading nhsuk-heading-s">{ row.summary.clone() }</h3>
                <p class="nhsuk-card__description">
                    { row.person_name.as_ref().map_or_else(|| "About someone whose record is not on this device.".to_string(), |n| format!("About {n}.")) }
                    { format!(" Due since {}.", format::day(row.due)) }
                </p>
                <ul class="nhsuk-list">
                    { for row.actions.iter().map(|a| html! {
                        <li><strong>{ format!("{} acted ({}, {}): ", a.partner, a.by, format::date(a.at)) }</strong>{ a.said.clone() }</li>
                    }) }
                </ul>
                if let Some(judged) = &row.judgement {
                    <p class="nhsuk-body-s"><strong>{ format!("{judged}.") }</strong></p>
                }
                if let Some(before) = &row.asked_before {
                    <p class="nhsuk-body-s">{ format!("Asked before: {before}.") }</p>
                }
                <ErrorMessage error={(*error).clone()} field={field_problem.is_some().then(|| AttrValue::from(id(HelpAnswer::Yes.code())))} />
                { choices_with_error(&radios_id, "Did it help?", Answers::One, items, field_problem.as_deref()) }
                <div class="nhsuk-form-group">
                    <label class="nhsuk-label" for={detail_id.clone()}>{"What happened (optional)"}</label>
                    <div class="nhsuk-hint" id={format!("{detail_id}-hint")}>{"Like: no falls since the rail went in"}</div>
                    <textarea class="nhsuk-textarea" id={detail_id.clone()} rows="2" aria-describedby={format!("{detail_id}-hint")}
                        value={(*detail).clone()} oninput={{ let d = detail.clone(); Callback::from(move |e: InputEvent| d.set(input_value(&e))) }} />
                </div>
                <button type="button" class="nhsuk-button ds-wide" id={id("save")} onclick={save}>{"Save"}</button>
            </div>
        </li>
    }
}
