//! Today: the day's visits in time order, with the sync badge.

use doorstep_commands::{DayArgs, GetNewReplies, GetToday};
use yew::prelude::*;

use crate::app::{Ctx, Route};
use crate::format;
use crate::widgets::{Load, SyncBadgeView, card, loading_or_failed, use_command};

#[component]
pub fn TodayScreen() -> Html {
    let ctx = use_context::<Ctx>().expect("inside the app context");
    let (today, reload) = use_command::<GetToday>(DayArgs { day: None });
    let (replies, _) = use_command::<GetNewReplies>(());
    let Load::Ready(today) = &*today else { return loading_or_failed(&today) };
    let visit_card = |v: &doorstep_model::view::VisitRow| {
        let (label, tag) = format::status_tag(&v.status);
        let name = v.person_name.clone().unwrap_or_else(|| "Details not on this device yet".into());
        // Colleagues by name where the office's directory has one ("Ben Okafor (C002)").
        let others: Vec<String> = v
            .carers
            .iter()
            .enumerate()
            .filter(|(_, c)| **c != today.staff_ref)
            .map(|(i, c)| v.carer_names.get(i).filter(|n| !n.is_empty()).unwrap_or(c).clone())
            .collect();
        html! {
            <li class="ds-visit" data-visit={v.id.clone()}>
                { card(&ctx.go, Route::Visit(v.id.clone()), classes!("ds-visit__card"), html! {
                    // The time first: the link reads "09:00 to 09:30, Margaret …" like the card.
                    <>
                        <span class="ds-visit__time">
                            { format!("{} to {}", format::time(v.starts_at), format::time(v.ends_at)) }
                            <span class="nhsuk-u-visually-hidden">{", "}</span>
                        </span>
                        { name }
                    </>
                }, 2, html! {
                    <>
                        <strong class={classes!("nhsuk-tag", tag)}>{ label }</strong>
                        if !others.is_empty() {
                            <p class="nhsuk-body-s ds-visit__with">{ format!("With {}", others.join(", ")) }</p>
                        }
                    </>
                }) }
            </li>
        }
    };
    html! {
        <>
            <h1 class="ds-title">{ format!("Today, {}", format::day(today.day)) }</h1>
            <SyncBadgeView badge={today.sync.clone()} on_synced={reload.clone()} />
            if let Load::Ready(replies) = &*replies && let Some(latest) = replies.first() {
                <div class="nhsuk-inset-text ds-replies" id="new-replies" role="status">
                    <h2 class="nhsuk-heading-s">{ if replies.len() == 1 { "A new answer to your idea".to_string() } else { format!("{} new answers to your ideas", replies.len()) } }</h2>
                    <p>
                        { format!("{} answered \"{}\"", latest.from, latest.idea_summary) }
                        { latest.person_name.as_ref().map(|n| format!(" about {n}")).unwrap_or_default() }
                        { format!(": {}", latest.said) }
                    </p>
                    <a href="#my-ideas" class="ds-list-link" onclick={{
                        let go = ctx.go.clone();
                        Callback::from(move |e: MouseEvent| { e.prevent_default(); go.emit(Route::MyIdeas); })
                    }}>{"Read the answers in My ideas"}</a>
                </div>
            }
            if today.visits.is_empty() {
                <p class="nhsuk-body-l">{"No visits on your rota today."}</p>
            } else {
                <p class="nhsuk-body">{ format!("{} visit{} today", today.visits.len(), if today.visits.len() == 1 { "" } else { "s" }) }</p>
                <ul class="nhsuk-list ds-visits">{ for today.visits.iter().map(visit_card) }</ul>
            }
        </>
    }
}
