//! The person: what matters to them, strengths, contacts, risks, consent, the deterioration
//! watch with a small chart, and past visits.

use doorstep_commands::{
    AppError, BaselinesArgs, ConsentArgs, EditPerson, EditPersonArgs, GetOutcomes, GetPerson, PersonArgs, PlanArgs,
    RecordBaselines, RecordConsent, RecordPlan,
};
use doorstep_model::view::{PersonOverview, TimelineEntry};
use doorstep_model::watch::{self, WatchLevel};
use doorstep_model::{CarePlan, ConsentRecord, PlanKind, Sector, SoftSign, SpO2Scale};
use yew::prelude::*;

use crate::app::{Ctx, Route};
use crate::format;
use crate::widgets::{
    Answers, BackLink, Choice, ErrorMessage, Load, PlanNote, TextBox, act, choices, input_value, loading_or_failed,
    problem_with, route_href, text_field, use_command, use_staff_names,
};

#[derive(Properties, PartialEq)]
pub struct Props {
    pub person_id: AttrValue,
}

#[component]
pub fn PersonPage(props: &Props) -> Html {
    let ctx = use_context::<Ctx>().expect("inside the app context");
    let (loaded, _) = use_command::<GetPerson>(PersonArgs { person_id: props.person_id.to_string() });
    let edited = use_state(|| None::<PersonOverview>);
    let names = use_staff_names();
    let Load::Ready(loaded_overview) = &*loaded else { return loading_or_failed(&loaded) };
    let overview = (*edited).as_ref().unwrap_or(loaded_overview);
    let on_saved = {
        let edited = edited.clone();
        Callback::from(move |o: PersonOverview| edited.set(Some(o)))
    };
    let p = &overview.person;
    let consent = |label: &str, record: &Option<ConsentRecord>| {
        let text = match record {
            Some(r) if r.given => {
                format!("Yes, recorded by {} on {}", names.label(r.recorded_by.as_str()), format::when(r.recorded_at))
            }
            Some(_) => "No: they said no".to_string(),
            None => "Not asked yet".to_string(),
        };
        html! {
            <div class="nhsuk-summary-list__row">
                <dt class="nhsuk-summary-list__key">{ label.to_string() }</dt>
                <dd class="nhsuk-summary-list__value">{ text }</dd>
            </div>
        }
    };
    let (watch_label, watch_class) = match overview.watch.level {
        WatchLevel::Clear => ("Nothing to watch", "nhsuk-tag--green"),
        WatchLevel::Watch => ("Keep an eye on", "nhsuk-tag--yellow"),
        WatchLevel::Concern => ("Concern", "nhsuk-tag--red"),
    };
    let new_idea = {
        let go = ctx.go.clone();
        let route = Route::NewIdea { person_id: p.id.to_string(), person_name: p.name.display(), visit_id: None };
        Callback::from(move |_: MouseEvent| go.emit(route.clone()))
    };
    html! {
        <>
            <BackLink to={ctx.home()} label="Back to today" />
            <h1 class="ds-title">{ p.name.display() }</h1>
            <h2>{"What matters to me"}</h2>
            <p class="nhsuk-body-l ds-what-matters">{ if p.what_matters_to_me.is_empty() { "Not written yet.".to_string() } else { p.what_matters_to_me.clone() } }</p>
            if !p.strengths_and_interests.is_empty() {
                <h2>{"Strengths and interests"}</h2>
                <ul>{ for p.strengths_and_interests.iter().map(|s| html! { <li>{ s.clone() }</li> }) }</ul>
            }
            <h2>{"Deterioration watch"}</h2>
            <p><strong class={classes!("nhsuk-tag", watch_class)}>{ watch_label }</strong></p>
            if !overview.watch.reasons.is_empty() {
                <ul>{ for overview.watch.reasons.iter().map(|r| html! { <li>{ r.clone() }</li> }) }</ul>
            }
            <Chart timeline={overview.timeline.clone()} />
            <Outcomes person_id={p.id.to_string()} />
            if let Some(plan) = &p.plan { <PlanNote plan={plan.clone()} /> }
            if !p.known_risks.is_empty() {
                <div class="nhsuk-warning-callout">
                    <h2 class="nhsuk-warning-callout__label"><span role="text">{"Known risks"}</span></h2>
                    <ul>{ for p.known_risks.iter().map(|r| html! { <li>{ r.clone() }</li> }) }</ul>
                </div>
            }
            <Baselines overview={overview.clone()} names={names.clone()} />
            <h2>{"Contacts"}</h2>
            if p.key_contacts.is_empty() { <p>{"None recorded."}</p> }
            <ul class="nhsuk-list">
                { for p.key_contacts.iter().map(|c| html! {
                    <li><strong>{ c.name.clone() }</strong>{ format!(" ({}) ", c.relationship) }<a href={format!("tel:{}", c.phone)}>{ c.phone.clone() }</a></li>
                }) }
            </ul>
            if !p.gp_named().is_empty() { <p>{ format!("GP practice: {}", p.gp_named()) }if !p.gp_phone.is_empty() { {" – "}<a href={format!("tel:{}", p.gp_dial().unwrap_or_default())}>{ p.gp_phone.clone() }</a> }</p> }
            <h2>{"Consent to share"}</h2>
            <dl class="nhsuk-summary-list">
                { consent("With the NHS", &p.consent.nhs) }
                { consent("With the council", &p.consent.council) }
                { consent("With voluntary groups", &p.consent.voluntary_sector) }
            </dl>
            if ctx.is_manager() {
                <ConsentForm person_id={p.id.to_string()} on_saved={on_saved.clone()} />
                <PlanForm person_id={p.id.to_string()} current={p.plan.clone()} on_saved={on_saved.clone()} />
                <BaselinesForm key={overview.version.0.join(",")} overview={overview.clone()} on_saved={on_saved.clone()} />
                <PersonEditor overview={overview.clone()} on_saved={on_saved} />
            }
            <button type="button" class="nhsuk-button nhsuk-button--secondary" onclick={new_idea}>{"Record an idea"}</button>
            <h2>{"Past visits"}</h2>
            <table class="nhsuk-table" id="past-visits">
                <thead class="nhsuk-table__head"><tr><th>{"When"}</th><th>{"Status"}</th><th>{"Noticed"}</th><th>{"NEWS2"}</th></tr></thead>
                <tbody class="nhsuk-table__body">
                    { for overview.timeline.iter().take(20).map(|t| html! {
                        <tr class="nhsuk-table__row">
                            // Every visit on the timeline is on this device: it opens (read-only once done).
                            <td class="nhsuk-table__cell">{ visit_link(&ctx.go, t) }</td>
                            <td class="nhsuk-table__cell">{ format::status_tag(&t.status).0 }</td>
                            <td class="nhsuk-table__cell">{ t.soft_signs.iter().map(|s| s.label()).collect::<Vec<_>>().join(", ") }</td>
                            <td class="nhsuk-table__cell">{ t.news2_total.map(|n| if t.news2_incomplete { format!("at least {n}") } else { n.to_string() }).unwrap_or_default() }</td>
                        </tr>
                    }) }
                </tbody>
            </table>
            if overview.timeline.iter().take(20).any(|t| t.news2_total.is_some()) {
                <p class="nhsuk-body-s ds-attribution">{ doorstep_model::news2::ATTRIBUTION }</p>
            }
        </>
    }
}

/// A past visit's time as a link to the visit.
fn visit_link(go: &Callback<Route>, t: &TimelineEntry) -> Html {
    let route = Route::Visit(t.visit_id.clone());
    let href = route_href(&route);
    let go = go.clone();
    let onclick = Callback::from(move |e: MouseEvent| {
        e.prevent_default();
        go.emit(route.clone());
    });
    html! { <a class="ds-past-visit" {href} {onclick}>{ format::when(t.starts_at) }</a> }
}

#[derive(Properties, PartialEq)]
struct ChartProps {
    timeline: Vec<TimelineEntry>,
}

/// The visits the deterioration watch looks at, oldest first: every visit with a note in the
/// [`watch::WINDOW_DAYS`] days up to the latest (`watch::in_window`, as `watch::assess` takes them),
/// so the chart and the watch's tag above it always show the same visits. `timeline` is
/// newest first; visits not yet started add nothing to the watch and are left out.
fn watched(timeline: &[TimelineEntry]) -> Vec<&TimelineEntry> {
    let happened = |t: &&TimelineEntry| {
        matches!(t.status.as_str(), "in_progress" | "completed") || t.news2_total.is_some() || !t.soft_signs.is_empty()
    };
    let mut recent: Vec<&TimelineEntry> = timeline.iter().filter(happened).collect();
    if let Some(latest) = recent.first().map(|t| t.starts_at) {
        recent.retain(|t| watch::in_window(latest, t.starts_at));
    }
    recent.reverse();
    recent
}

/// A NEWS2 as written: "at least 4" when readings were missing.
fn news2_text(t: &TimelineEntry) -> String {
    match t.news2_total {
        Some(n) if t.news2_incomplete => format!("at least {n}"),
        Some(n) => n.to_string(),
        None => "not taken".to_string(),
    }
}

/// NEWS2 (points joined by a line, each with its value) with the lines at 5 (medium) and 7
/// (high), and soft signs noticed (bars with their count) at the visits the watch looks at,
/// dated, oldest on the left; the same figures as a table for screen readers. Colours are
/// NHS.UK ones with at least 3:1 contrast on white.
#[component]
fn Chart(props: &ChartProps) -> Html {
    let recent = watched(&props.timeline);
    if recent.is_empty() {
        return html! {};
    }
    // The drawing: NEWS2 above, soft signs below, dates along the bottom.
    let (w, left, right) = (480.0_f64, 40.0, 92.0);
    let (news_top, news_bottom) = (20.0_f64, 150.0);
    let (signs_top, signs_bottom) = (176.0_f64, 236.0);
    let h = 280.0_f64;
    let step = (w - left - right) / recent.len() as f64;
    let x = |i: usize| left + step * (i as f64 + 0.5);
    let top_score = recent.iter().filter_map(|t| t.news2_total).max().unwrap_or(0).max(9) as f64 + 1.0;
    let y_news = |v: f64| news_bottom - v / top_score * (news_bottom - news_top);
    let most_signs = recent.iter().map(|t| t.soft_signs.len()).max().unwrap_or(0).max(3) as f64;
    let y_signs = |n: f64| signs_bottom - n / most_signs * (signs_bottom - signs_top);
    let reference = |score: f64, label: &'static str, colour: &'static str| {
        let at = y_news(score);
        html! {
            <g>
                <line x1={left.to_string()} x2={(w - right).to_string()} y1={at.to_string()} y2={at.to_string()}
                    stroke={colour} stroke-width="2" stroke-dasharray="6 4" />
                <text x={(w - right + 6.0).to_string()} y={(at + 5.0).to_string()} fill={colour} font-size="14">{ label }</text>
            </g>
        }
    };
    let scored: Vec<(usize, &TimelineEntry)> =
        recent.iter().copied().enumerate().filter(|(_, t)| t.news2_total.is_some()).collect();
    let line: Vec<String> =
        scored.iter().map(|(i, t)| format!("{:.1},{:.1}", x(*i), y_news(t.news2_total.unwrap_or(0) as f64))).collect();
    let points = scored.iter().map(|(i, t)| {
        let (cx, cy) = (x(*i), y_news(t.news2_total.unwrap_or(0) as f64));
        let value = if t.news2_incomplete { format!("≥{}", t.news2_total.unwrap_or(0)) } else { news2_text(t) };
        html! {
            <g>
                <circle cx={cx.to_string()} cy={cy.to_string()} r="6" fill="#005eb8" />
                <text x={cx.to_string()} y={(cy - 10.0).to_string()} text-anchor="middle" font-size="15" font-weight="bold" fill="#212b32">{ value }</text>
            </g>
        }
    });
    let bars = recent.iter().enumerate().map(|(i, t)| {
        let n = t.soft_signs.len();
        let top = y_signs(n as f64);
        let bar_w = (step * 0.4).min(40.0);
        html! {
            <g>
                <rect x={(x(i) - bar_w / 2.0).to_string()} y={top.to_string()} width={bar_w.to_string()}
                    height={(signs_bottom - top).to_string()} fill="#425563" />
                <text x={x(i).to_string()} y={(top - 4.0).to_string()} text-anchor="middle" font-size="14" fill="#212b32">{ n }</text>
            </g>
        }
    });
    let dates = recent.iter().enumerate().map(|(i, t)| {
        html! {
            <text x={x(i).to_string()} y={(signs_bottom + 18.0).to_string()} text-anchor="middle" font-size="14" fill="#212b32">
                <tspan x={x(i).to_string()}>{ format::date(t.starts_at) }</tspan>
                <tspan x={x(i).to_string()} dy="16">{ format::time(t.starts_at) }</tspan>
            </text>
        }
    });
    let visits = if recent.len() == 1 { "visit".to_string() } else { format!("{} visits", recent.len()) };
    html! {
        <figure class="ds-chart" id="watch-chart">
            <figcaption class="nhsuk-body-s">
                { format!("The {visits} the watch looks at: every visit in the {} days up to the latest, {}, oldest on the left. Blue line: NEWS2 score. Grey bars: soft signs noticed as new or worse.", watch::WINDOW_DAYS, recent.last().map(|t| format::date(t.starts_at)).unwrap_or_default()) }
            </figcaption>
            // The table below carries the figures for screen readers: the drawing is hidden.
            <svg viewBox={format!("0 0 {w} {h}")} width="100%" aria-hidden="true" focusable="false">
                <text x="0" y="12" font-size="14" fill="#212b32">{"NEWS2"}</text>
                <line x1={left.to_string()} y1={news_bottom.to_string()} x2={(w - right).to_string()} y2={news_bottom.to_string()} stroke="#4c6272" />
                <text x={(left - 6.0).to_string()} y={(news_bottom + 4.0).to_string()} text-anchor="end" font-size="14" fill="#4c6272">{"0"}</text>
                { reference(5.0, "5 medium", "#4c6272") }
                { reference(7.0, "7 high", "#d5281b") }
                <polyline points={line.join(" ")} fill="none" stroke="#005eb8" stroke-width="3" />
                { for points }
                <text x="0" y={(signs_top - 8.0).to_string()} font-size="14" fill="#212b32">{"Soft signs"}</text>
                <line x1={left.to_string()} y1={signs_bottom.to_string()} x2={(w - right).to_string()} y2={signs_bottom.to_string()} stroke="#4c6272" />
                { for bars }
                { for dates }
            </svg>
            <table class="nhsuk-table nhsuk-u-visually-hidden">
                <caption>{ format!("NEWS2 and soft signs at the last {visits} the watch looks at, oldest first") }</caption>
                <thead><tr><th scope="col">{"Visit"}</th><th scope="col">{"NEWS2"}</th><th scope="col">{"Soft signs noticed"}</th></tr></thead>
                <tbody>
                    { for recent.iter().map(|t| html! {
                        <tr>
                            <th scope="row">{ format::when(t.starts_at) }</th>
                            <td>{ news2_text(t) }</td>
                            <td>{ if t.soft_signs.is_empty() { "None".to_string() } else { t.soft_signs.iter().map(|s| s.label()).collect::<Vec<_>>().join(", ") } }</td>
                        </tr>
                    }) }
                </tbody>
            </table>
            if !scored.is_empty() {
                <p class="nhsuk-body-s ds-attribution">{ doorstep_model::news2::ATTRIBUTION }</p>
            }
        </figure>
    }
}

#[derive(Properties, PartialEq)]
struct EditProps {
    overview: PersonOverview,
    on_saved: Callback<PersonOverview>,
}

/// The manager's edit of what the carers read first.
#[component]
fn PersonEditor(props: &EditProps) -> Html {
    let ctx = use_context::<Ctx>().expect("inside the app context");
    let p = &props.overview.person;
    let matters = use_state(|| p.what_matters_to_me.clone());
    let communication = use_state(|| p.communication_needs.clone());
    let risks = use_state(|| p.known_risks.join("\n"));
    let strengths = use_state(|| p.strengths_and_interests.join("\n"));
    // The version the form was filled from: only what the manager changes in it is written.
    let base = use_state(|| props.overview.version.clone());
    let error = use_state(|| None::<AppError>);
    let saved = use_state(|| false);
    let text = |state: &UseStateHandle<String>| {
        let state = state.clone();
        Callback::from(move |e: InputEvent| state.set(input_value(&e)))
    };
    let save = {
        let (ctx, error, saved, on_saved) = (ctx.clone(), error.clone(), saved.clone(), props.on_saved.clone());
        let lines = |t: &str| t.lines().map(str::to_string).collect::<Vec<_>>();
        let args = EditPersonArgs {
            person_id: p.id.to_string(),
            base: (*base).clone(),
            what_matters_to_me: (*matters).clone(),
            communication_needs: (*communication).clone(),
            known_risks: lines(&risks),
            strengths_and_interests: lines(&strengths),
        };
        Callback::from(move |_: MouseEvent| {
            let (saved, on_saved, base) = (saved.clone(), on_saved.clone(), base.clone());
            act::<EditPerson>(&ctx, args.clone(), error.clone(), move |o| {
                base.set(o.version.clone());
                saved.set(true);
                on_saved.emit(o);
            });
        })
    };
    html! {
        <details class="nhsuk-details">
            <summary class="nhsuk-details__summary"><span class="nhsuk-details__summary-text">{"Edit this page"}</span></summary>
            <div class="nhsuk-details__text">
                <ErrorMessage error={(*error).clone()} />
                <div class="nhsuk-form-group">
                    <label class="nhsuk-label" for="edit-matters">{"What matters to me"}</label>
                    <textarea class="nhsuk-textarea" id="edit-matters" rows="3" value={(*matters).clone()} oninput={text(&matters)} />
                </div>
                <div class="nhsuk-form-group">
                    <label class="nhsuk-label" for="edit-communication">{"Communication needs"}</label>
                    <input class="nhsuk-input" id="edit-communication" value={(*communication).clone()} oninput={text(&communication)} />
                </div>
                <div class="nhsuk-form-group">
                    <label class="nhsuk-label" for="edit-risks">{"Known risks (one per line)"}</label>
                    <textarea class="nhsuk-textarea" id="edit-risks" rows="3" value={(*risks).clone()} oninput={text(&risks)} />
                </div>
                <div class="nhsuk-form-group">
                    <label class="nhsuk-label" for="edit-strengths">{"Strengths and interests (one per line)"}</label>
                    <textarea class="nhsuk-textarea" id="edit-strengths" rows="3" value={(*strengths).clone()} oninput={text(&strengths)} />
                </div>
                <button type="button" class="nhsuk-button" onclick={save}>{"Save changes"}</button>
                if *saved { <p role="status">{"Saved."}</p> }
            </div>
        </details>
    }
}

#[derive(Properties, PartialEq)]
struct PlanProps {
    person_id: String,
    current: Option<CarePlan>,
    on_saved: Callback<PersonOverview>,
}

/// The manager notes the person's ReSPECT, treatment escalation, DNACPR or end of life plan:
/// carers see it with every piece of advice, and in what they say on the phone.
#[component]
fn PlanForm(props: &PlanProps) -> Html {
    let ctx = use_context::<Ctx>().expect("inside the app context");
    let kind = use_state(|| props.current.as_ref().map(|p| p.kind));
    let summary = use_state(|| props.current.as_ref().map(|p| p.summary.clone()).unwrap_or_default());
    let error = use_state(|| None::<AppError>);
    let save = |kind: Option<PlanKind>| {
        let (ctx, error, on_saved) = (ctx.clone(), error.clone(), props.on_saved.clone());
        let args = PlanArgs { person_id: props.person_id.clone(), kind, summary: (*summary).clone() };
        Callback::from(move |_: MouseEvent| {
            let on_saved = on_saved.clone();
            act::<RecordPlan>(&ctx, args.clone(), error.clone(), move |o| on_saved.emit(o));
        })
    };
    let choice = |k: PlanKind| {
        let state = kind.clone();
        Choice::new(
            format!("plan-{k:?}").to_lowercase(),
            k.label(),
            *kind == Some(k),
            Callback::from(move |()| state.set(Some(k))),
        )
    };
    let on_summary = {
        let summary = summary.clone();
        Callback::from(move |e: InputEvent| summary.set(input_value(&e)))
    };
    html! {
        <details class="nhsuk-details">
            <summary class="nhsuk-details__summary"><span class="nhsuk-details__summary-text">{"Their plan if they become unwell (ReSPECT, DNACPR…)"}</span></summary>
            <div class="nhsuk-details__text">
                <ErrorMessage error={(*error).clone()} field={problem_with(&error, "summary").map(|_| AttrValue::Static("plan-summary"))} />
                { choices("plan-kind", "Which plan?", Answers::One, PlanKind::ALL.into_iter().map(choice).collect()) }
                { text_field("plan-summary", "What a carer must know, in the plan's words",
                    Some("Like: for treatment at home, would not want hospital; phone the district nurses on 01632 960 456"),
                    &summary, on_summary, TextBox::Lines(3), problem_with(&error, "summary")) }
                <div class="ds-buttons">
                    <button type="button" class="nhsuk-button" id="save-plan" onclick={save(*kind)}>{"Save the plan"}</button>
                    if props.current.is_some() {
                        <button type="button" class="nhsuk-button nhsuk-button--secondary" onclick={save(None)}>{"Remove the plan"}</button>
                    }
                </div>
            </div>
        </details>
    }
}

#[derive(Properties, PartialEq)]
struct ConsentProps {
    person_id: String,
    on_saved: Callback<PersonOverview>,
}

/// Recording what the person said about sharing with each group of partners.
#[component]
fn ConsentForm(props: &ConsentProps) -> Html {
    let ctx = use_context::<Ctx>().expect("inside the app context");
    let sector = use_state(|| Sector::Nhs);
    let note = use_state(String::new);
    let error = use_state(|| None::<AppError>);
    let record = |given: bool, label: &'static str| {
        let (ctx, error, on_saved) = (ctx.clone(), error.clone(), props.on_saved.clone());
        let args = ConsentArgs { person_id: props.person_id.clone(), sector: *sector, given, note: (*note).clone() };
        let onclick = Callback::from(move |_: MouseEvent| {
            let on_saved = on_saved.clone();
            act::<RecordConsent>(&ctx, args.clone(), error.clone(), move |o| on_saved.emit(o));
        });
        html! { <button type="button" class="nhsuk-button nhsuk-button--secondary" {onclick}>{ label }</button> }
    };
    let choice = |s: Sector, label: &'static str| {
        let state = sector.clone();
        Choice::new(
            format!("consent-{s:?}").to_lowercase(),
            label,
            *sector == s,
            Callback::from(move |()| state.set(s)),
        )
    };
    html! {
        <details class="nhsuk-details">
            <summary class="nhsuk-details__summary"><span class="nhsuk-details__summary-text">{"Record consent to share"}</span></summary>
            <div class="nhsuk-details__text">
                <ErrorMessage error={(*error).clone()} field={problem_with(&error, "note").map(|_| AttrValue::Static("consent-note"))} />
                { choices("consent-sector", "Sharing with", Answers::OneInline, vec![
                    choice(Sector::Nhs, "The NHS"),
                    choice(Sector::Council, "The council"),
                    choice(Sector::VoluntarySector, "Voluntary groups"),
                ]) }
                { text_field("consent-note", "How it was discussed, and with whom", None, &note,
                    { let n = note.clone(); Callback::from(move |e: InputEvent| n.set(input_value(&e))) },
                    TextBox::Line, problem_with(&error, "note")) }
                <div class="ds-buttons">{ record(true, "They agreed") }{ record(false, "They said no") }</div>
            </div>
        </details>
    }
}

#[derive(Properties, PartialEq)]
struct BaselinesProps {
    overview: PersonOverview,
    names: crate::widgets::StaffNames,
}

/// What is usual for them, with who noted it: the oxygen scale NEWS2 uses, pregnancy, and the
/// usual for each soft sign (shown beside the sign at a visit).
#[component]
fn Baselines(props: &BaselinesProps) -> Html {
    let p = &props.overview.person;
    // The review falls due on a UK day, not a UTC one.
    let today = chrono::Utc::now().with_timezone(&chrono_tz::Europe::London).date_naive();
    let oxygen = match (p.spo2_scale, &p.scale2) {
        (SpO2Scale::Scale1, _) => "Scale 1: the usual target (96% or more)".to_string(),
        (SpO2Scale::Scale2, Some(setting)) => format!("Scale 2: a target of 88–92%, {}", setting.describe()),
        (SpO2Scale::Scale2, None) => "Scale 2: a target of 88–92% (who set it is not recorded)".to_string(),
    };
    let overdue = p.scale2.as_ref().is_some_and(|s| p.spo2_scale == SpO2Scale::Scale2 && s.review_overdue(today));
    html! {
        <>
            <h2>{"What is usual for them"}</h2>
            <dl class="nhsuk-summary-list" id="baselines">
                <div class="nhsuk-summary-list__row">
                    <dt class="nhsuk-summary-list__key">{"Oxygen scale for NEWS2"}</dt>
                    <dd class="nhsuk-summary-list__value">
                        { oxygen }
                        if overdue { {" "}<strong class="nhsuk-tag nhsuk-tag--red">{"Review overdue: tell the office"}</strong> }
                    </dd>
                </div>
                if p.pregnant {
                    <div class="nhsuk-summary-list__row">
                        <dt class="nhsuk-summary-list__key">{"Pregnant"}</dt>
                        <dd class="nhsuk-summary-list__value">
                            {"Yes: NEWS2 is not used. If you are worried, phone the midwife or the GP practice, or 999 in an emergency."}
                            if let (Some(by), Some(at)) = (&p.pregnancy_recorded_by, p.pregnancy_recorded_at) {
                                <br /><span class="nhsuk-hint">{ format!("Noted by {} on {}", props.names.label(by.as_str()), format::when(at)) }</span>
                            }
                        </dd>
                    </div>
                }
                { for p.usual.iter().map(|u| html! {
                    <div class="nhsuk-summary-list__row">
                        <dt class="nhsuk-summary-list__key">{ u.sign.label() }</dt>
                        <dd class="nhsuk-summary-list__value">
                            { u.usual.clone() }
                            if let (Some(by), Some(at)) = (&u.recorded_by, u.recorded_at) {
                                <br /><span class="nhsuk-hint">{ format!("Noted by {} on {}", props.names.label(by.as_str()), format::when(at)) }</span>
                            }
                        </dd>
                    </div>
                }) }
            </dl>
        </>
    }
}

#[derive(Properties, PartialEq)]
struct BaselinesFormProps {
    overview: PersonOverview,
    on_saved: Callback<PersonOverview>,
}

/// The manager records the baselines; only what the form changed is written.
#[component]
fn BaselinesForm(props: &BaselinesFormProps) -> Html {
    let ctx = use_context::<Ctx>().expect("inside the app context");
    let p = &props.overview.person;
    let scale = use_state(|| p.spo2_scale);
    let set_by = use_state(|| p.scale2.as_ref().map(|s| s.set_by.clone()).unwrap_or_default());
    let set_on = use_state(|| p.scale2.as_ref().and_then(|s| s.set_on).map(|d| d.to_string()).unwrap_or_default());
    let review_on =
        use_state(|| p.scale2.as_ref().and_then(|s| s.review_on).map(|d| d.to_string()).unwrap_or_default());
    let pregnant = use_state(|| p.pregnant);
    let usual = use_state(|| {
        SoftSign::ALL.iter().map(|sign| p.usual_for(*sign).unwrap_or_default().to_string()).collect::<Vec<String>>()
    });
    let error = use_state(|| None::<AppError>);
    let text = |state: &UseStateHandle<String>| {
        let state = state.clone();
        Callback::from(move |e: InputEvent| state.set(input_value(&e)))
    };
    let date = |text: &str| chrono::NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").ok();
    let save = {
        let (ctx, error, on_saved) = (ctx.clone(), error.clone(), props.on_saved.clone());
        let args = BaselinesArgs {
            person_id: p.id.to_string(),
            base: props.overview.version.clone(),
            spo2_scale: *scale,
            scale2_set_by: (*set_by).clone(),
            scale2_set_on: date(&set_on),
            scale2_review_on: date(&review_on),
            pregnant: *pregnant,
            usual: SoftSign::ALL.iter().copied().zip(usual.iter().cloned()).collect(),
        };
        Callback::from(move |_: MouseEvent| {
            let on_saved = on_saved.clone();
            act::<RecordBaselines>(&ctx, args.clone(), error.clone(), move |o| on_saved.emit(o));
        })
    };
    let radio = |value: SpO2Scale, id: &str, label: &str| {
        let state = scale.clone();
        html! {
            <div class="nhsuk-radios__item">
                <input class="nhsuk-radios__input" id={id.to_string()} name="spo2-scale" type="radio"
                    checked={*scale == value} onchange={Callback::from(move |_: Event| state.set(value))} />
                <label class="nhsuk-label nhsuk-radios__label" for={id.to_string()}>{ label.to_string() }</label>
            </div>
        }
    };
    let usual_row = |(i, sign): (usize, &SoftSign)| {
        let state = usual.clone();
        let id = format!("usual-{}", sign.code());
        let oninput = Callback::from(move |e: InputEvent| {
            let mut all = (*state).clone();
            if let Some(slot) = all.get_mut(i) {
                *slot = input_value(&e);
            }
            state.set(all);
        });
        let problem = problem_with(&error, &format!("usual.{}", sign.code()));
        text_field(
            &id,
            sign.label(),
            None,
            usual.get(i).map(String::as_str).unwrap_or_default(),
            oninput,
            TextBox::Line,
            problem,
        )
    };
    // The field the device found a problem with, as the error summary links to it.
    let at_fault = error.as_ref().and_then(|e| e.field.as_deref()).and_then(|arg| match arg {
        "scale2_set_by" => Some("scale2-set-by".to_string()),
        "scale2_review_on" => Some("scale2-review-on".to_string()),
        other => other.strip_prefix("usual.").map(|code| format!("usual-{code}")),
    });
    let on_pregnant = {
        let pregnant = pregnant.clone();
        Callback::from(move |_: Event| pregnant.set(!*pregnant))
    };
    html! {
        <details class="nhsuk-details">
            <summary class="nhsuk-details__summary"><span class="nhsuk-details__summary-text">{"Change what is usual for them (oxygen scale, pregnancy, soft signs)"}</span></summary>
            <div class="nhsuk-details__text">
                <ErrorMessage error={(*error).clone()} field={at_fault.map(AttrValue::from)} />
                <fieldset class="nhsuk-fieldset">
                    <legend class="nhsuk-fieldset__legend nhsuk-fieldset__legend--s">{"Which oxygen scale does NEWS2 use for them?"}</legend>
                    <div class="nhsuk-hint">{"Scale 2 only when a clinician has set a target of 88–92%, usually for COPD. Say who, from their letter or plan."}</div>
                    <div class="nhsuk-radios">
                        { radio(SpO2Scale::Scale1, "scale-1", "Scale 1: the usual target (96% or more)") }
                        { radio(SpO2Scale::Scale2, "scale-2", "Scale 2: a clinician set a target of 88–92%") }
                    </div>
                </fieldset>
                if *scale == SpO2Scale::Scale2 {
                    { text_field("scale2-set-by", "Which clinician set it", Some("Like: Dr A Shah, community respiratory team"),
                        &set_by, text(&set_by), TextBox::Line, problem_with(&error, "scale2_set_by")) }
                    { text_field("scale2-set-on", "When it was set", None, &set_on, text(&set_on), TextBox::Date, None) }
                    { text_field("scale2-review-on", "When it is due for review", None, &review_on, text(&review_on),
                        TextBox::Date, problem_with(&error, "scale2_review_on")) }
                }
                <div class="nhsuk-checkboxes">
                    <div class="nhsuk-checkboxes__item">
                        <input class="nhsuk-checkboxes__input" id="pregnant" type="checkbox" checked={*pregnant} onchange={on_pregnant} />
                        <label class="nhsuk-label nhsuk-checkboxes__label" for="pregnant">{"They are pregnant (NEWS2 is not used in pregnancy)"}</label>
                    </div>
                </div>
                <h3 class="nhsuk-heading-s">{"What is usual for them"}</h3>
                <p class="nhsuk-hint">{"Carers see this beside each sign, so they can say whether what they see is new, worse or usual. Leave empty if you do not know."}</p>
                { for SoftSign::ALL.iter().enumerate().map(usual_row) }
                <button type="button" class="nhsuk-button" id="save-baselines" onclick={save}>{"Save what is usual"}</button>
            </div>
        </details>
    }
}

#[derive(Properties, PartialEq)]
struct OutcomesProps {
    person_id: AttrValue,
}

/// What happened to them (A&E, admitted, home again, the urgent team, the GP), newest first,
/// with who recorded it and what stood before it: the watch, the calls, the open ideas.
#[component]
fn Outcomes(props: &OutcomesProps) -> Html {
    let (loaded, _) = use_command::<GetOutcomes>(PersonArgs { person_id: props.person_id.to_string() });
    let Load::Ready(outcomes) = &*loaded else { return html! {} };
    if outcomes.is_empty() {
        return html! {};
    }
    html! {
        <section aria-labelledby="outcomes-heading" id="person-outcomes">
            <h2 id="outcomes-heading">{"What happened to them"}</h2>
            <ul class="nhsuk-list nhsuk-list--border">
                { for outcomes.iter().map(|o| html! {
                    <li>
                        <strong>{ format!("{}, {}", o.kind.label(), format::day(o.day)) }</strong>
                        <p class="nhsuk-body-s">{ format!("Recorded by {} on {}.", o.by, format::when(o.at)) }</p>
                        if !o.links.is_empty() { <p class="nhsuk-body-s">{ format!("Before it: {}.", o.links.join("; ")) }</p> }
                    </li>
                }) }
            </ul>
        </section>
    }
}
