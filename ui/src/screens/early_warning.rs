//! The caseload early warning on the manager's day: this week's clusters per postcode district
//! against the provider's usual weeks, each saying what it counted and linking to the people.

use doorstep_commands::GetEarlyWarning;
use doorstep_model::early_warning::EarlyWarning;
use yew::prelude::*;

use crate::app::{Ctx, Route};
use crate::format;
use crate::widgets::{Load, use_command};

/// One usual number a week, as people say it: "0.5", "2".
fn usual(x: f64) -> String {
    let r = (x * 10.0).round() / 10.0;
    if r.fract() == 0.0 { format!("{r:.0}") } else { format!("{r:.1}") }
}

#[component]
pub fn EarlyWarningSection() -> Html {
    let ctx = use_context::<Ctx>().expect("inside the app context");
    let (loaded, _) = use_command::<GetEarlyWarning>(());
    let heading = html! { <h2 id="early-warning-heading">{"Early warning across the caseload"}</h2> };
    let screen: EarlyWarning = match &*loaded {
        Load::Ready(screen) => screen.clone(),
        Load::Loading => {
            return html! { <section id="early-warning">{ heading }<p>{"Counting this week…"}</p></section> };
        }
        Load::Failed(e) => {
            return html! { <section id="early-warning">{ heading }<p>{ e.message.clone() }</p></section> };
        }
    };
    let go = |id: String| {
        let go = ctx.go.clone();
        Callback::from(move |e: MouseEvent| {
            e.prevent_default();
            go.emit(Route::Person(id.clone()));
        })
    };
    let person = |id: String| {
        let name = screen.people.iter().find(|p| p.id == id).map_or_else(
            || "Someone not on this device".to_string(),
            |p| format!("{} ({})", p.display_name, p.client_ref),
        );
        html! { <li><a class="ds-list-link" href={format!("#person/{id}")} onclick={go(id.clone())}>{ name }</a></li> }
    };
    let district = |d: &str| if d.is_empty() { "Postcode not known".to_string() } else { d.to_string() };
    html! {
        <section id="early-warning" aria-labelledby="early-warning-heading">
            { heading }
            <p class="nhsuk-body-s">{ format!("{} to {}, each postcode district against its usual week.", format::day(screen.from), format::day(screen.to)) }</p>
            if screen.alerts.is_empty() {
                <p id="early-warning-none">{"No cluster this week: no district has unusually many people with falls, possible infections, breathing signs or eating or drinking less."}</p>
            }
            <ul class="nhsuk-list" id="early-warning-alerts">
                { for screen.alerts.iter().map(|a| html! {
                    <li class="nhsuk-card ds-attention ds-attention--high">
                        <div class="nhsuk-card__content">
                            <h3 class="nhsuk-card__heading nhsuk-heading-s">{ format!("{} in {}", a.count.kind.label(), district(&a.count.district)) }</h3>
                            <p class="nhsuk-card__description">{ a.words.clone() }</p>
                            <ul class="nhsuk-list">{ for a.count.people.iter().map(|p| person(p.0.to_string())) }</ul>
                        </div>
                    </li>
                }) }
            </ul>
            <details class="nhsuk-details">
                <summary class="nhsuk-details__summary"><span class="nhsuk-details__summary-text">{"What was counted this week"}</span></summary>
                <div class="nhsuk-details__text">
                    <p>{ screen.rule.clone() }</p>
                    if screen.counts.is_empty() {
                        <p>{"No one had a fall, breathing signs, eating or drinking less or signs of a possible infection recorded as new or worse this week."}</p>
                    } else {
                        <table class="nhsuk-table" id="early-warning-counts">
                            <caption class="nhsuk-table__caption">{"People this week, by district"}</caption>
                            <thead class="nhsuk-table__head"><tr class="nhsuk-table__row">
                                <th scope="col" class="nhsuk-table__header">{"District"}</th>
                                <th scope="col" class="nhsuk-table__header">{"Signs"}</th>
                                <th scope="col" class="nhsuk-table__header">{"People"}</th>
                                <th scope="col" class="nhsuk-table__header">{"Usual a week"}</th>
                            </tr></thead>
                            <tbody class="nhsuk-table__body">
                                { for screen.counts.iter().map(|c| html! {
                                    <tr class="nhsuk-table__row">
                                        <td class="nhsuk-table__cell">{ district(&c.district) }</td>
                                        <td class="nhsuk-table__cell">{ c.kind.label() }</td>
                                        <td class="nhsuk-table__cell">{ c.people.len() }</td>
                                        <td class="nhsuk-table__cell">{ usual(c.baseline) }</td>
                                    </tr>
                                }) }
                            </tbody>
                        </table>
                    }
                </div>
            </details>
        </section>
    }
}
