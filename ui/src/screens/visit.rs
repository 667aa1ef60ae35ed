//! The visit: check in, tasks, the note (autosaved), what was noticed, vital signs with NEWS2
//! and what to do about them, food and fluid, mood, an idea, check out.

use std::cell::RefCell;
use std::rc::Rc;

use doorstep_commands::{
    AddLateEntry, AppError, CheckIn, CheckOut, CheckOutArgs, CouldNotArgs, CouldNotVisit, ErrorCode, FoodFluidArgs,
    GetDirectory, GetSyncStatus, GetVisit, LateEntryArgs, MoodArgs, NarrativeArgs, OutcomeArgs, OutcomeRow, RecordCall,
    RecordCallArgs, RecordOutcome, RecordTask, RecordVitals, SaveNarrative, SetFoodFluid, SetMood, SetSoftSign,
    SoftSignArgs, TaskArgs, VisitArgs, VisitScreen, VitalsArgs,
};
use doorstep_model::news2::{EscalationLevel, News2Assessment};
use doorstep_model::outcome::OutcomeKind;
use doorstep_model::{
    Acvpu, CallOutcome, CallTarget, Comparison, CouldNotReason, DocVersion, FoodFluid, Intake, Mood, SoftSign,
    TaskOutcome, VisitStatus, VitalSigns,
};
use gloo_timers::callback::Timeout;
use yew::platform::spawn_local;
use yew::prelude::*;

use crate::app::{Ctx, Route};
use crate::format;
use crate::invoke::call;
use crate::widgets::{
    Answers, BackLink, Choice, ErrorMessage, Load, PlanNote, act, choices, choices_with_error, field_error,
    input_value, loading_or_failed, problem_with, select_value, use_command,
};

/// Which readings scored, and how much: "Breathing rate 2, Pulse 1". None when none scored.
fn scored_parts(assessment: &News2Assessment) -> Option<String> {
    let parts = match assessment {
        News2Assessment::Scored(score) => &score.parameters,
        News2Assessment::Incomplete { scored, .. } => scored,
        News2Assessment::NotApplicable { .. } => return None,
    };
    let scoring: Vec<String> =
        parts.iter().filter(|p| p.score > 0).map(|p| format!("{} {}", p.parameter.label(), p.score)).collect();
    (!scoring.is_empty()).then(|| scoring.join(", "))
}

/// Brings an element into view once the screen has drawn it (the advice card appears above
/// the vitals form, out of sight of a carer who just pressed "Work out the NEWS2 score").
fn scroll_to(id: &'static str) {
    Timeout::new(50, move || {
        if let Some(element) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.get_element_by_id(id)) {
            element.scroll_into_view();
        }
    })
    .forget();
}

/// The usual reasons a task was not done, one tap each (typing with gloves on is hard).
const NOT_DONE_REASONS: [&str; 3] = ["They said no", "Not needed today", "Family did it"];

/// The visit at a glance, each part with the section it jumps to: "Tasks 2 of 4", "Note
/// written", "2 signs", "NEWS2 5: Medium – phoned 09:12".
fn glance(s: &VisitScreen, note_saved: Option<&str>) -> Vec<(&'static str, String)> {
    let mut parts = Vec::new();
    if !s.visit.tasks.is_empty() {
        let marked = s.visit.tasks.iter().filter(|t| t.outcome.is_some()).count();
        parts.push((TASKS, format!("Tasks {marked} of {}", s.visit.tasks.len())));
    }
    parts.push((NOTE, format!("Note {}", note_summary(s, note_saved).to_lowercase())));
    match s.note.soft_signs.len() {
        0 => {}
        1 => parts.push((SIGNS, "1 sign".to_string())),
        n => parts.push((SIGNS, format!("{n} signs"))),
    }
    if let Some(readings) = readings_summary(s) {
        parts.push((VITALS, readings));
    }
    parts
}

/// The visit's sections, by their headings' ids: the glance bar and "Change" jump to them.
const TASKS: &str = "tasks-heading";
const NOTE: &str = "note-heading";
const SIGNS: &str = "signs-heading";
const VITALS: &str = "vitals-heading";
const FOOD: &str = "food-heading";

/// "Saved 09:03" once this screen saved it, "Written" for a note written before, "Not written
/// yet".
fn note_summary(s: &VisitScreen, saved: Option<&str>) -> String {
    match saved {
        Some(at) => format!("Saved {at}"),
        None if s.note.narrative.trim().is_empty() => "Not written yet".into(),
        None => "Written".into(),
    }
}

/// "NEWS2 5: Medium – phoned 09:12", when readings were scored.
fn readings_summary(s: &VisitScreen) -> Option<String> {
    let news2 = s.news2.as_ref()?;
    let phoned = s.note.calls.last().map(|c| format!(" – phoned {}", format::time(c.at))).unwrap_or_default();
    Some(format!("{}{phoned}", news2.summary()))
}

/// What a folded section holds, in a few words beside its heading.
fn fold_summary(s: &VisitScreen, section: &str, note_saved: Option<&str>) -> String {
    match section {
        TASKS => {
            let marked = s.visit.tasks.iter().filter(|t| t.outcome.is_some()).count();
            if marked == 0 {
                format!("None of {} marked yet", s.visit.tasks.len())
            } else {
                format!("{marked} of {} marked", s.visit.tasks.len())
            }
        }
        NOTE => note_summary(s, note_saved),
        SIGNS => match s.note.soft_signs.len() {
            0 => "Nothing ticked yet".into(),
            1 => "1 sign".into(),
            n => format!("{n} signs"),
        },
        VITALS => readings_summary(s).unwrap_or_else(|| "No readings yet".into()),
        FOOD => {
            let f = &s.note.food_fluid;
            let parts: Vec<String> = [
                f.eating.map(|i| format!("eating {}", i.label().to_lowercase())),
                f.drinking.map(|i| format!("drinking {}", i.label().to_lowercase())),
                s.note.mood.map(|m| m.label().to_lowercase()),
            ]
            .into_iter()
            .flatten()
            .collect();
            if parts.is_empty() { "Not asked yet".into() } else { parts.join(", ") }
        }
        _ => String::new(),
    }
}

/// Which sections start open when the visit is opened: the tasks while any is unmarked and the
/// note while it is empty (what every visit needs); the rest start folded to their summary, one
/// tap away, so the visit reads as a short checklist. Advice is never inside a fold.
fn first_open(s: &VisitScreen) -> std::collections::BTreeSet<&'static str> {
    let mut open = std::collections::BTreeSet::new();
    if s.visit.tasks.iter().any(|t| t.outcome.is_none()) {
        open.insert(TASKS);
    }
    if s.note.narrative.trim().is_empty() {
        open.insert(NOTE);
    }
    open
}

#[derive(Properties, PartialEq)]
struct FoldProps {
    /// The heading's id.
    id: &'static str,
    title: AttrValue,
    summary: String,
    open: bool,
    on_toggle: Callback<&'static str>,
    children: Html,
}

/// A section of the visit that folds to one line: its name, what it holds ("2 of 4 marked"),
/// and the whole line as one big button. Folded content stays on the page, hidden, so a note
/// being typed is never thrown away by folding.
#[component]
fn Fold(props: &FoldProps) -> Html {
    let body = format!("{}-body", props.id);
    let toggle = {
        let (on_toggle, id) = (props.on_toggle.clone(), props.id);
        Callback::from(move |_: MouseEvent| on_toggle.emit(id))
    };
    html! {
        <section class={classes!("ds-fold", props.open.then_some("ds-fold--open"))} aria-labelledby={props.id}>
            <h2 class="ds-fold__heading" id={props.id}>
                <button type="button" class="ds-fold__toggle" aria-expanded={props.open.to_string()} aria-controls={body.clone()} onclick={toggle}>
                    <span class="ds-fold__title">{ props.title.clone() }</span>
                    <span class="ds-fold__summary">{ props.summary.clone() }</span>
                    <span class="ds-fold__action" aria-hidden="true">{ if props.open { "Fold" } else { "Open" } }</span>
                </button>
            </h2>
            <div class="ds-fold__body" id={body} hidden={!props.open}>{ props.children.clone() }</div>
        </section>
    }
}

/// Saves the note this long after the last keystroke.
const AUTOSAVE_MS: u32 = 700;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub visit_id: AttrValue,
}

#[component]
pub fn VisitPage(props: &Props) -> Html {
    let ctx = use_context::<Ctx>().expect("inside the app context");
    let (loaded, _) = use_command::<GetVisit>(VisitArgs { visit_id: props.visit_id.to_string() });
    let screen = use_state(|| None::<VisitScreen>);
    {
        let screen = screen.clone();
        use_effect_with(loaded.clone(), move |loaded| {
            if let Load::Ready(s) = &**loaded {
                screen.set(Some(s.clone()));
            }
        });
    }
    {
        // A sync that brings in others' changes (the other carer's words on a double-up)
        // reloads the screen when the shell says records arrived; the note editor takes them
        // in without losing what is typed.
        let (screen, visit_id) = (screen.clone(), props.visit_id.to_string());
        let seen = use_mut_ref(|| ctx.arrivals);
        use_effect_with(ctx.arrivals, move |arrivals| {
            if *seen.borrow() != *arrivals {
                *seen.borrow_mut() = *arrivals;
                spawn_local(async move {
                    if let Ok(fresh) = call::<GetVisit>(&VisitArgs { visit_id }).await {
                        screen.set(Some(fresh));
                    }
                });
            }
        });
    }
    let error = use_state(|| None::<AppError>);
    // Whether the office has what was recorded: asked again after every change on this screen.
    let badge = use_state(|| None::<doorstep_commands::SyncBadge>);
    {
        let badge = badge.clone();
        use_effect_with((*screen).clone(), move |_| {
            spawn_local(async move {
                if let Ok(fresh) = call::<GetSyncStatus>(&()).await {
                    badge.set(Some(fresh));
                }
            });
        });
    }
    // The carer pressed Check out and is reading back what they recorded.
    let checking = use_state(|| false);
    {
        // The bar's Check out is at the bottom of the screen, wherever the page is scrolled: show
        // what it asks about.
        let asking = error.as_ref().is_some_and(|e| e.code == ErrorCode::Confirm);
        use_effect_with((asking, *checking), move |(asking, checking)| {
            if *asking {
                scroll_to("before-you-go");
            } else if *checking {
                scroll_to("check-answers");
            }
        });
    }
    // Which sections are open: chosen when the visit first shows (`first_open`), then the carer's.
    let folds = use_state(|| None::<std::collections::BTreeSet<&'static str>>);
    {
        // Chosen once, when the visit first shows: later answers (a task marked, a sync) must not
        // fold a section under the carer's finger.
        let (folds, screen) = (folds.clone(), screen.clone());
        use_effect_with(screen.is_some(), move |ready| {
            if *ready
                && folds.is_none()
                && let Some(s) = &*screen
            {
                folds.set(Some(first_open(s)));
            }
        });
    }
    // When this screen last saved the note ("09:03"), for its section's summary.
    let note_saved = use_state(|| None::<String>);
    let Some(s) = (*screen).clone() else { return loading_or_failed(&loaded) };
    let open_now = (*folds).clone().unwrap_or_else(|| first_open(&s));
    let toggle = {
        let (folds, open_now) = (folds.clone(), open_now.clone());
        Callback::from(move |id: &'static str| {
            let mut open = open_now.clone();
            if !open.remove(id) {
                open.insert(id);
            }
            folds.set(Some(open));
        })
    };
    // Opens a section and brings it into view (the glance bar, "Change" at check-out).
    let go_to = {
        let (folds, open_now) = (folds.clone(), open_now.clone());
        Callback::from(move |id: &'static str| {
            let mut open = open_now.clone();
            open.insert(id);
            folds.set(Some(open));
            scroll_to(id);
        })
    };
    let fold = |id: &'static str, title: &'static str| {
        (id, AttrValue::Static(title), fold_summary(&s, id, note_saved.as_deref()), open_now.contains(id))
    };
    let visit_id = s.visit.id.to_string();
    let update = {
        let screen = screen.clone();
        move |fresh: VisitScreen| screen.set(Some(fresh))
    };
    let open = s.visit.status == VisitStatus::InProgress || ctx.is_manager();
    let name = s.person_name.clone().unwrap_or_else(|| "This person".into());

    let check_in = {
        let (ctx, error, update, args) =
            (ctx.clone(), error.clone(), update.clone(), VisitArgs { visit_id: visit_id.clone() });
        Callback::from(move |_: MouseEvent| act::<CheckIn>(&ctx, args.clone(), error.clone(), update.clone()))
    };
    let check_out = |confirmed: bool| {
        let (ctx, error, update) = (ctx.clone(), error.clone(), update.clone());
        let args = CheckOutArgs { visit_id: visit_id.clone(), confirmed };
        Callback::from(move |_: MouseEvent| act::<CheckOut>(&ctx, args.clone(), error.clone(), update.clone()))
    };
    // "Before you go": what checking out would leave undone (a call the advice asked for, tasks
    // unmarked), from the device; the carer may still go.
    let before_you_go = error.as_ref().filter(|e| e.code == ErrorCode::Confirm).map(|e| e.message.clone());
    let shown_error = if before_you_go.is_some() { None } else { (*error).clone() };
    let new_idea = {
        let go = ctx.go.clone();
        let route = Route::NewIdea {
            person_id: s.visit.person_id.to_string(),
            person_name: name.clone(),
            visit_id: Some(visit_id.clone()),
        };
        Callback::from(move |_: MouseEvent| go.emit(route.clone()))
    };
    let about = {
        let go = ctx.go.clone();
        let person = s.visit.person_id.to_string();
        Callback::from(move |_: MouseEvent| go.emit(Route::Person(person.clone())))
    };
    let (status_label, status_tag) = format::status_tag(s.visit.status.code());
    html! {
        <>
            <BackLink to={ctx.home()} label="Back to today" />
            <h1 class="ds-title">{ name.clone() }</h1>
            <p class="nhsuk-body-l">
                { format!("{} to {} ", format::time(s.visit.window.start), format::time(s.visit.window.end)) }
                <strong class={classes!("nhsuk-tag", status_tag)} id="visit-status">{ status_label }</strong>
            </p>
            // Check in sits under the name and time: the first thing a carer at the door needs.
            if s.visit.status == VisitStatus::Scheduled {
                <button type="button" class="nhsuk-button ds-wide ds-big" id="check-in" onclick={check_in}>{"Check in"}</button>
            }
            <Door at_the_door={s.at_the_door.clone()} />
            if let Some(h) = &s.handover { <LastVisit handover={h.clone()} /> }
            if !s.what_matters_to_me.is_empty() {
                <div class="nhsuk-inset-text">
                    <span class="nhsuk-u-visually-hidden">{"Information: "}</span>
                    <p><strong>{"What matters to me: "}</strong>{ s.what_matters_to_me.clone() }</p>
                </div>
            }
            if let Some(plan) = &s.plan { <PlanNote plan={plan.clone()} /> }
            if !s.known_risks.is_empty() {
                <div class="nhsuk-warning-callout">
                    <h2 class="nhsuk-warning-callout__label"><span role="text">{"Known risks"}</span></h2>
                    <ul>{ for s.known_risks.iter().map(|r| html! { <li>{ r.clone() }</li> }) }</ul>
                </div>
            }
            <button type="button" class="nhsuk-button nhsuk-button--secondary" onclick={about}>{ format!("About {name}") }</button>
            <ErrorMessage error={shown_error} />
            if s.visit.status == VisitStatus::Scheduled {
                <CouldNot screen={s.clone()} on_update={Callback::from(update.clone())} />
            }
            if let Some(said) = &s.visit.could_not {
                <CouldNotCard could_not={said.clone()} office={s.office.clone()} />
            }
            if s.visit.status == VisitStatus::Completed {
                <div class="nhsuk-inset-text"><p>{ format!("Checked out at {}.", s.visit.checked_out_at.map(format::time).unwrap_or_default()) }</p></div>
            }
            if s.visit.is_closed() && !ctx.is_manager() {
                <ClosedVisit screen={s.clone()} on_update={Callback::from(update.clone())} />
                <Outcomes screen={s.clone()} on_update={Callback::from(update.clone())} />
            }
            if open {
                // What to do now is never folded away: it sits above the sections.
                <Advice screen={s.clone()} />
                <Calls screen={s.clone()} on_update={Callback::from(update.clone())} />
                if !s.visit.tasks.is_empty() {
                    { section(fold(TASKS, "Tasks"), &toggle, html! { <Tasks screen={s.clone()} on_update={Callback::from(update.clone())} /> }) }
                }
                { section(fold(NOTE, "Visit note"), &toggle, html! {
                    <Note visit_id={visit_id.clone()} text={s.note.narrative.clone()} version={s.note_version.clone()}
                        on_saved={{ let note_saved = note_saved.clone(); Callback::from(move |at: String| note_saved.set(Some(at))) }} />
                }) }
                { section(fold(SIGNS, "Anything different today?"), &toggle, html! { <SoftSigns screen={s.clone()} on_update={Callback::from(update.clone())} /> }) }
                { section(fold(VITALS, "Vital signs"), &toggle, html! { <Vitals screen={s.clone()} on_update={Callback::from(update.clone())} /> }) }
                { section(fold(FOOD, "Food, drink and mood"), &toggle, html! { <FoodAndMood screen={s.clone()} on_update={Callback::from(update.clone())} /> }) }
                <h2>{"An idea to keep them well"}</h2>
                <p>{"Something small that would help, like a grab rail, a medication review or a neighbour calling in."}</p>
                <button type="button" class="nhsuk-button nhsuk-button--secondary ds-wide" id="new-idea" onclick={new_idea}>{"Record an idea"}</button>
                <Outcomes screen={s.clone()} on_update={Callback::from(update.clone())} />
                if s.visit.status == VisitStatus::InProgress {
                    <hr />
                    if *checking {
                        // Check your answers: what the office will read, before it is final.
                        <section aria-labelledby="check-heading" id="check-answers">
                            <h2 id="check-heading">{"Check before you check out"}</h2>
                            <RecordSummary screen={s.clone()} change={Some(go_to.clone())} />
                            if let Some(items) = before_you_go.clone() {
                                <div class="nhsuk-warning-callout" id="before-you-go" role="alert">
                                    <h3 class="nhsuk-warning-callout__label"><span role="text">{"Before you go"}</span></h3>
                                    <ul>{ for items.lines().map(|line| html! { <li>{ line.to_string() }</li> }) }</ul>
                                </div>
                            }
                        </section>
                    }
                    // Check out stays in reach at the bottom of the screen however long the visit
                    // page is, under the visit at a glance and whether the office has it yet.
                    <div class="ds-visit-bar">
                        <p class="ds-glance" id="glance">
                            { for glance(&s, note_saved.as_deref()).into_iter().map(|(target, words)| html! {
                                <a class="ds-glance__item" href={format!("#{target}")} onclick={{
                                    let go_to = go_to.clone();
                                    Callback::from(move |e: MouseEvent| { e.prevent_default(); go_to.emit(target); })
                                }}>{ words }</a>
                            }) }
                            if let Some(badge) = &*badge {
                                <span class="ds-glance__sync">{ badge.headline(chrono::Utc::now()) }</span>
                            }
                        </p>
                        if before_you_go.is_some() {
                            <button type="button" class="nhsuk-button nhsuk-button--secondary ds-wide" id="check-out-anyway" onclick={check_out(true)}>{"Check out anyway"}</button>
                        } else if *checking {
                            <button type="button" class="nhsuk-button ds-wide ds-big" id="check-out-now" onclick={check_out(false)}>{"Check out now"}</button>
                        } else {
                            <button type="button" class="nhsuk-button ds-wide ds-big" id="check-out" onclick={{
                                let checking = checking.clone();
                                Callback::from(move |_: MouseEvent| checking.set(true))
                            }}>{"Check out"}</button>
                        }
                    </div>
                }
            }
        </>
    }
}

/// One of the visit's sections inside its fold.
fn section(
    (id, title, summary, open): (&'static str, AttrValue, String, bool),
    on_toggle: &Callback<&'static str>,
    children: Html,
) -> Html {
    html! { <Fold {id} {title} {summary} {open} on_toggle={on_toggle.clone()}>{ children }</Fold> }
}

#[derive(Properties, PartialEq)]
struct SectionProps {
    screen: VisitScreen,
    on_update: Callback<VisitScreen>,
}

#[component]
fn Tasks(props: &SectionProps) -> Html {
    let ctx = use_context::<Ctx>().expect("inside the app context");
    let error = use_state(|| None::<AppError>);
    let reasons = use_state(std::collections::BTreeMap::<String, String>::new);
    let asking = use_state(|| None::<String>);
    if props.screen.visit.tasks.is_empty() {
        return html! {};
    }
    let visit_id = props.screen.visit.id.to_string();
    let row = |task: &doorstep_model::Task| {
        let record = |done: bool, reason: Option<String>| {
            let (ctx, error, on_update, asking) = (ctx.clone(), error.clone(), props.on_update.clone(), asking.clone());
            let args = TaskArgs { visit_id: visit_id.clone(), key: task.key.clone(), done, reason };
            move || {
                let asking = asking.clone();
                let on_update = on_update.clone();
                act::<RecordTask>(&ctx, args.clone(), error.clone(), move |s| {
                    asking.set(None);
                    on_update.emit(s);
                });
            }
        };
        let reason_text = reasons.get(&task.key).cloned().unwrap_or_default();
        let on_reason = {
            let (reasons, key) = (reasons.clone(), task.key.clone());
            Callback::from(move |e: InputEvent| {
                let mut all = (*reasons).clone();
                all.insert(key.clone(), input_value(&e));
                reasons.set(all);
            })
        };
        let save_reason = {
            let record = record(false, Some(reason_text.clone()));
            Callback::from(move |_: MouseEvent| record())
        };
        let said_reason = match &task.outcome {
            Some(TaskOutcome::NotDone { reason }) => Some(reason.clone()),
            _ => None,
        };
        // "Not done" asks why: one tap for the usual reasons, or the carer's own words.
        let not_done_open = asking.as_deref() == Some(task.key.as_str()) || said_reason.is_some();
        let own_words = asking.as_deref() == Some(task.key.as_str())
            || said_reason.as_deref().is_some_and(|r| !NOT_DONE_REASONS.contains(&r));
        let name = format!("task-{}", task.key);
        let was_it_done = vec![
            Choice::new(format!("{name}-done"), "Done", task.outcome == Some(TaskOutcome::Done), {
                let record = record(true, None);
                Callback::from(move |()| record())
            }),
            Choice::new(format!("{name}-not-done"), "Not done", not_done_open, {
                let (asking, key) = (asking.clone(), task.key.clone());
                Callback::from(move |()| asking.set(Some(key.clone())))
            }),
        ];
        let why = NOT_DONE_REASONS
            .iter()
            .enumerate()
            .map(|(i, reason)| {
                let record = record(false, Some((*reason).to_string()));
                Choice::new(
                    format!("{name}-why-{i}"),
                    *reason,
                    said_reason.as_deref() == Some(*reason),
                    Callback::from(move |()| record()),
                )
            })
            .collect();
        let reason_id = format!("reason-{}", task.key);
        // A refusal while this task's reason is being given is about the reason: shown by it.
        let reason_problem =
            error.as_ref().filter(|_| asking.as_deref() == Some(task.key.as_str())).map(|e| e.message.clone());
        html! {
            <li class="ds-task" data-task={task.key.clone()}>
                { choices(&name, &format!("{}: {}", task.kind.label(), task.description), Answers::OneInline, was_it_done) }
                if not_done_open {
                    <div class="ds-not-done">
                        { choices(&format!("{name}-why"), "Why was it not done?", Answers::One, why) }
                        if own_words {
                            <div class={classes!("nhsuk-form-group", reason_problem.is_some().then_some("nhsuk-form-group--error"))}>
                                <label class="nhsuk-label" for={reason_id.clone()}>{"Or say why in your own words"}</label>
                                { field_error(&reason_id, reason_problem.as_deref()) }
                                <input class={classes!("nhsuk-input", reason_problem.is_some().then_some("nhsuk-input--error"))}
                                    id={reason_id.clone()} value={reason_text} oninput={on_reason}
                                    aria-describedby={reason_problem.is_some().then(|| format!("{reason_id}-error"))} />
                            </div>
                            <button type="button" class="nhsuk-button nhsuk-button--secondary" onclick={save_reason}>{"Save reason"}</button>
                        }
                    </div>
                }
            </li>
        }
    };
    let reason_field = asking.as_ref().map(|key| AttrValue::from(format!("reason-{key}")));
    html! {
        <>
            <ErrorMessage error={(*error).clone()} field={error.is_some().then_some(reason_field).flatten()} />
            <ul class="nhsuk-list ds-tasks">{ for props.screen.visit.tasks.iter().map(row) }</ul>
        </>
    }
}

#[derive(Properties, PartialEq)]
struct NoteProps {
    visit_id: String,
    /// The note as the screen last loaded it, and its version.
    text: String,
    version: DocVersion,
    /// Told the time ("09:03") after each save, for the section's summary.
    on_saved: Callback<String>,
}

/// Sends the note's text.
type SaveNote = Rc<dyn Fn(String)>;

/// What the editor knows beyond the text on screen.
#[derive(Default)]
struct Editing {
    /// The note's version the on-screen text was typed on: every save is made against it, so
    /// words that reached the note meanwhile (the other carer's) are merged, not overwritten.
    base: DocVersion,
    /// The text on screen now (the state handle in a closure would be the value it captured).
    text: String,
    /// Typed since the last save was sent.
    typing: bool,
    saving: bool,
    /// Typed while a save was on its way: sent when it returns.
    queued: Option<String>,
}

/// The note's text, saved a moment after typing stops and whenever the box loses focus. Saves
/// go one at a time; when the carer is not typing, the note the screen reloads (with what others
/// wrote) replaces the text, keeping the cursor where it was.
#[component]
fn Note(props: &NoteProps) -> Html {
    let ctx = use_context::<Ctx>().expect("inside the app context");
    let text = use_state(|| props.text.clone());
    let editing: Rc<RefCell<Editing>> =
        use_mut_ref(|| Editing { base: props.version.clone(), text: props.text.clone(), ..Editing::default() });
    let saved = use_state(|| None::<String>);
    let error = use_state(|| None::<AppError>);
    let timer: Rc<RefCell<Option<Timeout>>> = use_mut_ref(|| None);
    let area = use_node_ref();

    // Shows `fresh` in the box without moving the cursor.
    let show = {
        let (text, area) = (text.clone(), area.clone());
        move |fresh: String| {
            if let Some(el) = area.cast::<web_sys::HtmlTextAreaElement>() {
                let caret = (el.selection_start().ok().flatten(), el.selection_end().ok().flatten());
                el.set_value(&fresh);
                if let (Some(start), Some(end)) = caret {
                    let _ = el.set_selection_range(start, end);
                }
            }
            text.set(fresh);
        }
    };

    {
        // The screen reloaded the note (a sync brought someone's words): take it unless the
        // carer is in the middle of typing, in which case their next save merges it.
        let (editing, show) = (editing.clone(), show.clone());
        use_effect_with((props.text.clone(), props.version.clone()), move |(fresh, version)| {
            let mut e = editing.borrow_mut();
            if !e.typing && !e.saving && e.queued.is_none() && e.base != *version {
                e.base = version.clone();
                e.text = fresh.clone();
                drop(e);
                show(fresh.clone());
            }
        });
    }

    // The save function, reachable from its own answer (to send what was typed meanwhile).
    let this_save: Rc<RefCell<Option<SaveNote>>> = use_mut_ref(|| None);
    let save: SaveNote = {
        let (ctx, saved, error, visit_id, editing, show) =
            (ctx.clone(), saved.clone(), error.clone(), props.visit_id.clone(), editing.clone(), show.clone());
        let on_saved = props.on_saved.clone();
        let me = Rc::downgrade(&this_save);
        Rc::new(move |narrative: String| {
            {
                let mut e = editing.borrow_mut();
                e.typing = false;
                if e.saving {
                    e.queued = Some(narrative);
                    return;
                }
                e.saving = true;
            }
            saved.set(Some("Saving…".into()));
            let args = NarrativeArgs {
                visit_id: visit_id.clone(),
                narrative: narrative.clone(),
                base: editing.borrow().base.clone(),
            };
            let (ctx, saved, error, editing, show, me, on_saved) = (
                ctx.clone(),
                saved.clone(),
                error.clone(),
                editing.clone(),
                show.clone(),
                me.clone(),
                on_saved.clone(),
            );
            spawn_local(async move {
                let outcome = call::<SaveNarrative>(&args).await;
                let next = {
                    let mut e = editing.borrow_mut();
                    e.saving = false;
                    match &outcome {
                        Ok(answer) if !e.typing && e.queued.is_none() && e.text == narrative => {
                            // Untouched since it was sent: show the merged note.
                            e.base = answer.version.clone();
                            e.text = answer.narrative.clone();
                        }
                        // Typed on meanwhile: the next save is made on what was sent.
                        Ok(answer) => e.base = answer.typed_version.clone(),
                        Err(_) => {}
                    }
                    e.queued.take()
                };
                match outcome {
                    Ok(answer) => {
                        error.set(None);
                        saved.set(Some(format!("Saved at {}", format::time(answer.at))));
                        on_saved.emit(format::time(answer.at));
                        if next.is_none() && editing.borrow().text == answer.narrative && answer.narrative != narrative
                        {
                            show(answer.narrative);
                        }
                    }
                    Err(e) => {
                        saved.set(None);
                        ctx.on_error.emit(e.clone());
                        error.set(Some(e));
                    }
                }
                let again = me.upgrade().and_then(|slot| slot.borrow().clone());
                if let (Some(queued), Some(save)) = (next, again) {
                    save(queued);
                }
            });
        })
    };
    *this_save.borrow_mut() = Some(save.clone());
    let oninput = {
        let (text, timer, save, editing) = (text.clone(), timer.clone(), save.clone(), editing.clone());
        Callback::from(move |e: InputEvent| {
            let value = input_value(&e);
            {
                let mut editing = editing.borrow_mut();
                editing.typing = true;
                editing.text = value.clone();
            }
            text.set(value.clone());
            let save = save.clone();
            *timer.borrow_mut() = Some(Timeout::new(AUTOSAVE_MS, move || save(value)));
        })
    };
    let onblur = {
        let (timer, save, editing) = (timer.clone(), save.clone(), editing.clone());
        Callback::from(move |_: FocusEvent| {
            if timer.borrow_mut().take().is_some() {
                let text = editing.borrow().text.clone();
                save(text);
            }
        })
    };
    html! {
        <div class="nhsuk-form-group">
            <label class="nhsuk-label" for="note">{"What you did and how they were"}</label>
            <div class="nhsuk-hint" id="note-hint">{"It saves by itself as you type."}</div>
            <ErrorMessage error={(*error).clone()} />
            <textarea class="nhsuk-textarea ds-note" id="note" rows="8" aria-describedby="note-hint note-saved"
                ref={area} value={(*text).clone()} {oninput} {onblur} />
            <p class="nhsuk-body-s ds-saved" id="note-saved" aria-live="polite">{ (*saved).clone().unwrap_or_default() }</p>
        </div>
    }
}

#[component]
fn SoftSigns(props: &SectionProps) -> Html {
    let ctx = use_context::<Ctx>().expect("inside the app context");
    let error = use_state(|| None::<AppError>);
    let visit_id = props.screen.visit.id.to_string();
    // Ticked, but not yet said whether new, worse or usual: nothing is saved until the carer
    // chooses, so no comparison is ever chosen for them.
    let pending = use_state(std::collections::BTreeSet::<SoftSign>::new);
    let row = |sign: SoftSign| {
        let current = props.screen.note.soft_signs.iter().find(|o| o.sign == sign).cloned();
        let asking = current.is_none() && pending.contains(&sign);
        let send = {
            let (ctx, error, on_update, visit_id) =
                (ctx.clone(), error.clone(), props.on_update.clone(), visit_id.clone());
            move |observed: bool, compared_to_usual: Comparison, detail: String| {
                let args = SoftSignArgs { visit_id: visit_id.clone(), sign, observed, compared_to_usual, detail };
                let on_update = on_update.clone();
                act::<SetSoftSign>(&ctx, args, error.clone(), move |s| on_update.emit(s));
            }
        };
        let toggle = {
            let (send, current, pending) = (send.clone(), current.clone(), pending.clone());
            Callback::from(move |_: MouseEvent| {
                let mut asked = (*pending).clone();
                if current.is_some() {
                    send(false, Comparison::New, String::new());
                } else if !asked.remove(&sign) {
                    asked.insert(sign);
                }
                pending.set(asked);
            })
        };
        let id = format!("sign-{}", sign.code());
        let compare = |comparison: Comparison, suffix: &'static str| {
            let (send, current, pending) = (send.clone(), current.clone(), pending.clone());
            let checked = current.as_ref().is_some_and(|c| c.compared_to_usual == comparison);
            let on_change = Callback::from(move |()| {
                send(true, comparison, current.as_ref().map(|c| c.detail.clone()).unwrap_or_default());
                let mut asked = (*pending).clone();
                asked.remove(&sign);
                pending.set(asked);
            });
            Choice::new(format!("sign-{}-{suffix}", sign.code()), comparison.label(), checked, on_change)
        };
        html! {
            <li class="ds-sign">
                <div class="nhsuk-checkboxes__item">
                    <input class="nhsuk-checkboxes__input" id={id.clone()} type="checkbox" checked={current.is_some() || asking} onclick={toggle} />
                    <label class="nhsuk-label nhsuk-checkboxes__label" for={id.clone()}>{ sign.label() }</label>
                    if let Some(usual) = props.screen.usual.iter().find(|u| u.sign == sign) {
                        <div class="nhsuk-hint nhsuk-checkboxes__hint ds-sign__usual" id={format!("{id}-usual")}>{ format!("Usual for them: {}", usual.usual) }</div>
                    }
                </div>
                if current.is_some() || asking {
                    <div class="ds-sign__compare">
                        if asking { <p class="nhsuk-hint">{"Choose one to save it."}</p> }
                        { choices(
                            &format!("{id}-compare"),
                            &format!("{}: compared with what is usual for them?", sign.label()),
                            Answers::OneInline,
                            vec![compare(Comparison::New, "new"), compare(Comparison::Worse, "worse"), compare(Comparison::SameAsUsual, "usual")],
                        ) }
                    </div>
                }
            </li>
        }
    };
    html! {
        <div class="nhsuk-form-group">
            <fieldset class="nhsuk-fieldset" aria-describedby="signs-hint">
                <legend class="nhsuk-fieldset__legend nhsuk-fieldset__legend--s">{"What did you notice today?"}</legend>
                <div class="nhsuk-hint" id="signs-hint">{"Tick what you noticed, then say if it is new, worse, or usual for them."}</div>
                <ErrorMessage error={(*error).clone()} />
                <ul class="nhsuk-list nhsuk-checkboxes ds-signs">{ for SoftSign::ALL.into_iter().map(row) }</ul>
            </fieldset>
        </div>
    }
}

/// The vital-signs form as typed: text until "Work out the score" parses it.
#[derive(Clone, Default, PartialEq)]
struct VitalsForm {
    respiration_rate: String,
    spo2_percent: String,
    on_oxygen: Option<bool>,
    systolic_bp: String,
    pulse: String,
    consciousness: Option<Acvpu>,
    temperature_c: String,
}

impl VitalsForm {
    fn from(v: &Option<VitalSigns>) -> Self {
        let Some(v) = v else { return Self::default() };
        let text = |n: Option<u16>| n.map(|n| n.to_string()).unwrap_or_default();
        VitalsForm {
            respiration_rate: text(v.respiration_rate),
            spo2_percent: text(v.spo2_percent),
            on_oxygen: v.on_oxygen,
            systolic_bp: text(v.systolic_bp),
            pulse: text(v.pulse),
            consciousness: v.consciousness,
            temperature_c: v.temperature_c.map(|t| t.to_string()).unwrap_or_default(),
        }
    }

    /// The readings, or the id of the field that cannot be read and what is wrong with it.
    fn parse(&self) -> Result<VitalSigns, (&'static str, String)> {
        let whole = |id: &'static str, label: &str, text: &str| -> Result<Option<u16>, (&'static str, String)> {
            let text = text.trim();
            if text.is_empty() {
                return Ok(None);
            }
            text.parse().map(Some).map_err(|_| (id, format!("{label}: type a whole number, like 18.")))
        };
        let temperature = match self.temperature_c.trim() {
            "" => None,
            t => Some(t.parse::<f64>().map_err(|_| ("temp", "Temperature: type a number, like 37.2.".to_string()))?),
        };
        Ok(VitalSigns {
            respiration_rate: whole("resp", "Breaths per minute", &self.respiration_rate)?,
            spo2_percent: whole("spo2", "Oxygen level", &self.spo2_percent)?,
            on_oxygen: self.on_oxygen,
            systolic_bp: whole("bp", "Blood pressure", &self.systolic_bp)?,
            pulse: whole("pulse", "Pulse", &self.pulse)?,
            consciousness: self.consciousness,
            temperature_c: temperature,
        })
    }
}

#[component]
fn Vitals(props: &SectionProps) -> Html {
    let ctx = use_context::<Ctx>().expect("inside the app context");
    let form = use_state(|| VitalsForm::from(&props.screen.note.vitals));
    let error = use_state(|| None::<AppError>);
    // The field a typed reading could not be read from: the summary links to it, and it shows
    // the problem too.
    let bad_field = use_state(|| None::<&'static str>);
    // Taking the readings again: the form is cleared, and the set already scored is kept.
    let recheck = use_state(|| false);
    let start_recheck = {
        let (form, recheck, error) = (form.clone(), recheck.clone(), error.clone());
        Callback::from(move |_: MouseEvent| {
            form.set(VitalsForm::default());
            recheck.set(true);
            error.set(None);
            scroll_to("vitals-heading");
        })
    };
    let number = |id: &'static str,
                  label: &'static str,
                  hint: &'static str,
                  get: fn(&VitalsForm) -> &String,
                  set: fn(&mut VitalsForm, String)| {
        let form2 = form.clone();
        let oninput = Callback::from(move |e: InputEvent| {
            let mut f = (*form2).clone();
            set(&mut f, input_value(&e));
            form2.set(f);
        });
        let problem = (*bad_field == Some(id)).then(|| error.as_ref().map(|e| e.message.clone())).flatten();
        let described = if problem.is_some() { format!("{id}-hint {id}-error") } else { format!("{id}-hint") };
        html! {
            <div class={classes!("nhsuk-form-group", "ds-vital", problem.is_some().then_some("nhsuk-form-group--error"))}>
                <label class="nhsuk-label" for={id}>{ label }</label>
                <div class="nhsuk-hint" id={format!("{id}-hint")}>{ hint }</div>
                { field_error(id, problem.as_deref()) }
                <input class={classes!("nhsuk-input", "nhsuk-input--width-4", problem.is_some().then_some("nhsuk-input--error"))}
                    id={id} inputmode="decimal" value={get(&form).clone()} {oninput} aria-describedby={described} />
            </div>
        }
    };
    let oxygen = |value: bool, label: &'static str, id: &'static str| {
        let form2 = form.clone();
        let on_change = Callback::from(move |()| {
            let mut f = (*form2).clone();
            f.on_oxygen = Some(value);
            form2.set(f);
        });
        Choice::new(id, label, form.on_oxygen == Some(value), on_change)
    };
    let on_consciousness = {
        let form2 = form.clone();
        Callback::from(move |e: Event| {
            let mut f = (*form2).clone();
            f.consciousness = match select_value(&e).as_str() {
                "alert" => Some(Acvpu::Alert),
                "new_confusion" => Some(Acvpu::NewConfusion),
                "voice" => Some(Acvpu::Voice),
                "pain" => Some(Acvpu::Pain),
                "unresponsive" => Some(Acvpu::Unresponsive),
                _ => None,
            };
            form2.set(f);
        })
    };
    // `checked`: the carer has checked the extreme readings the device asked about.
    let score = |checked: bool| {
        let (ctx, error, form, on_update, visit_id) =
            (ctx.clone(), error.clone(), form.clone(), props.on_update.clone(), props.screen.visit.id.to_string());
        let (recheck, bad_field) = (recheck.clone(), bad_field.clone());
        Callback::from(move |_: MouseEvent| match form.parse() {
            Ok(vitals) => {
                bad_field.set(None);
                let (on_update, recheck) = (on_update.clone(), recheck.clone());
                let args = VitalsArgs { visit_id: visit_id.clone(), vitals, checked, recheck: *recheck };
                act::<RecordVitals>(&ctx, args, error.clone(), move |s| {
                    recheck.set(false);
                    on_update.emit(s);
                    // The advice appears above the form the carer's finger is on: bring it up.
                    scroll_to("news2");
                });
            }
            Err((field, message)) => {
                bad_field.set(Some(field));
                error.set(Some(AppError::new(doorstep_commands::ErrorCode::Invalid, message)));
            }
        })
    };
    let to_check = error.as_ref().filter(|e| e.code == ErrorCode::Confirm).map(|e| e.message.clone());
    let shown_error = if to_check.is_some() { None } else { (*error).clone() };
    let option = |value: &'static str, level: Option<Acvpu>| {
        html! { <option {value} selected={form.consciousness == level}>{ level.map(|l| l.label()).unwrap_or("Choose") }</option> }
    };
    html! {
        <div class="ds-vitals-form">
            <p class="nhsuk-hint">{"Fill in what you measured. The NEWS2 score and what to do appear at the top of the visit straight away."}</p>
            if let Some(at) = props.screen.note.vitals_at {
                <p id="readings-at">{ format!("These readings were taken at {}.", format::time(at)) }</p>
            }
            if !props.screen.earlier.is_empty() {
                <p class="nhsuk-body-s" id="earlier-readings">
                    <strong>{"Earlier today: "}</strong>
                    { props.screen.earlier.iter().map(|e| format!("{} at {}", e.summary, e.at.map(format::time).unwrap_or_else(|| "an earlier time".into()))).collect::<Vec<_>>().join("; ") }
                </p>
            }
            if props.screen.note.vitals.is_some() && !*recheck {
                <button type="button" class="nhsuk-button nhsuk-button--secondary ds-wide" id="recheck" onclick={start_recheck}>{"Take the readings again"}</button>
            }
            if *recheck {
                <p class="nhsuk-inset-text" id="rechecking">{"Taking the readings again: the first set is kept."}</p>
            }
            <ErrorMessage error={shown_error} field={bad_field.map(AttrValue::Static)} />
            if let Some(message) = to_check {
                <div class="nhsuk-warning-callout" id="check-reading" role="alert">
                    <h3 class="nhsuk-warning-callout__label"><span role="text">{"Check the reading"}</span></h3>
                    <p>{ message }</p>
                    <button type="button" class="nhsuk-button ds-wide" id="reading-is-right" onclick={score(true)}>{"It is right: work out the score"}</button>
                </div>
            }
            <div class="ds-vitals">
                { number("resp", "Breaths per minute", "Count for a full minute", |f| &f.respiration_rate, |f, v| f.respiration_rate = v) }
                { number("spo2", "Oxygen level (%)", "From the finger probe", |f| &f.spo2_percent, |f, v| f.spo2_percent = v) }
                { number("bp", "Blood pressure, top number", "Systolic, like 120", |f| &f.systolic_bp, |f, v| f.systolic_bp = v) }
                { number("pulse", "Pulse (beats per minute)", "Heart rate", |f| &f.pulse, |f, v| f.pulse = v) }
                { number("temp", "Temperature (°C)", "Like 37.2", |f| &f.temperature_c, |f, v| f.temperature_c = v) }
            </div>
            { choices(
                "on-oxygen",
                "Are they on oxygen from a machine or cylinder?",
                Answers::OneInline,
                vec![oxygen(false, "No, breathing air", "air"), oxygen(true, "Yes, on oxygen", "oxygen")],
            ) }
            <div class="nhsuk-form-group">
                <label class="nhsuk-label" for="consciousness">{"How alert are they?"}</label>
                <select class="nhsuk-select" id="consciousness" onchange={on_consciousness}>
                    { option("", None) }
                    { option("alert", Some(Acvpu::Alert)) }
                    { option("new_confusion", Some(Acvpu::NewConfusion)) }
                    { option("voice", Some(Acvpu::Voice)) }
                    { option("pain", Some(Acvpu::Pain)) }
                    { option("unresponsive", Some(Acvpu::Unresponsive)) }
                </select>
            </div>
            <button type="button" class="nhsuk-button ds-wide" id="score" onclick={score(false)}>{"Work out the NEWS2 score"}</button>
        </div>
    }
}

#[derive(Properties, PartialEq)]
struct AdviceProps {
    screen: VisitScreen,
}

/// What to do, prominent and at once: the more urgent of the readings' advice (the community
/// escalation rule over NEWS2) and the soft signs', with who to phone and what to say. The
/// card's heading, colour and words come from one level, so they never disagree.
#[component]
fn Advice(props: &AdviceProps) -> Html {
    let screen = &props.screen;
    if let Some(News2Assessment::NotApplicable { reason }) = &screen.news2 {
        return html! { <div class="nhsuk-inset-text" id="news2"><p>{ format!("NEWS2 is not used here: {reason}") }</p></div> };
    }
    let Some(advice) = &screen.advice else { return html! {} };
    let score = screen.news2.as_ref().map(|a| html! {
        <>
            <p class="nhsuk-body-l" id="news2-score"><strong>{ a.summary() }</strong></p>
            if let Some(scored) = scored_parts(a) {
                <p id="news2-parts">{ format!("What scored: {scored}.") }</p>
            }
            if screen.scored_without_record {
                <p>{"Scored as an adult on the usual oxygen scale: this person's record has not reached this tablet yet."}</p>
            }
            <p class="nhsuk-body-s ds-attribution">{ doorstep_model::news2::ATTRIBUTION }</p>
        </>
    });
    // The heading comes from the advice itself (`Escalation::heading`), so it says what the
    // words say; the colour from its level.
    let label = advice.heading();
    let card = match advice.level {
        EscalationLevel::Emergency999 => "nhsuk-card--care--emergency",
        EscalationLevel::UrgentCallNow => "nhsuk-card--care--urgent",
        EscalationLevel::TellSomeoneToday | EscalationLevel::ReadingsMissing => "nhsuk-card--care--non-urgent",
        EscalationLevel::Routine => "",
    };
    if advice.level == EscalationLevel::Routine {
        return html! {
            <div class="nhsuk-inset-text" id="news2">
                { score.unwrap_or_default() }
                <p id="news2-headline">{ advice.headline.clone() }</p>
                <p>{ advice.action.clone() }</p>
            </div>
        };
    }
    html! {
        <div class={classes!("nhsuk-card", "nhsuk-card--care", card)} id="news2" role="alert">
            <div class="nhsuk-card__heading-container">
                <h3 class="nhsuk-card--care__heading"><span role="text"><span class="nhsuk-u-visually-hidden">{"Urgency: "}</span>{ label }</span></h3>
                <span class="nhsuk-card--care__arrow" aria-hidden="true"></span>
            </div>
            <div class="nhsuk-card__content">
                <p class="nhsuk-body-l" id="news2-headline"><strong>{ advice.headline.clone() }</strong></p>
                <p>{ advice.action.clone() }</p>
                if let Some(phone) = &screen.phone_first {
                    <a class="nhsuk-button ds-wide ds-big ds-phone" id="phone-first" href={format!("tel:{}", phone.dial)}>
                        { match (phone.dial.as_str(), advice.level.needs_a_call()) {
                            ("999", _) => "Phone 999 now".to_string(),
                            (_, true) => format!("Phone {} now – {}", phone.in_a_sentence(), phone.shown),
                            (_, false) => format!("Phone {} – {}", phone.in_a_sentence(), phone.shown),
                        } }
                    </a>
                    <p class="ds-phone-why">{ phone.why.clone() }</p>
                }
                if !screen.then_phone.is_empty() {
                    <h3 class="nhsuk-heading-s">{ if screen.phone_first.is_some() { "If you cannot get through" } else { "Who to phone" } }</h3>
                    <ul class="nhsuk-list ds-phone-list" id="then-phone">
                        { for screen.then_phone.iter().map(|p| html! {
                            <li>
                                <a class="ds-phone-link" href={format!("tel:{}", p.dial)}>
                                    <span class="ds-phone-link__name">{ p.name.clone() }</span>
                                    <span class="ds-phone-link__number">{ p.shown.clone() }</span>
                                </a>
                                <span class="nhsuk-hint ds-phone-link__why">{ p.why.clone() }</span>
                            </li>
                        }) }
                    </ul>
                }
                <p class="nhsuk-body-l" id="news2-phone"><strong>{"Who to phone: "}</strong>{ advice.who_to_phone.clone() }</p>
                if let Some(plan) = &screen.plan { <PlanNote plan={plan.clone()} id="plan-with-advice" /> }
                { score.unwrap_or_default() }
                if let Some(sbard) = &screen.sbard {
                    <details class="nhsuk-details" open=true>
                        <summary class="nhsuk-details__summary"><span class="nhsuk-details__summary-text">{"What to say on the phone (SBARD)"}</span></summary>
                        <div class="nhsuk-details__text ds-sbard" id="sbard">
                            <p><strong>{"Situation: "}</strong>{ sbard.situation.clone() }</p>
                            <p><strong>{"Background: "}</strong>{ sbard.background.clone() }</p>
                            <p><strong>{"Assessment: "}</strong>{ sbard.assessment.clone() }</p>
                            <p><strong>{"Recommendation: "}</strong>{ sbard.recommendation.clone() }</p>
                            <p><strong>{"Decision: "}</strong>{ sbard.decision.clone() }</p>
                        </div>
                    </details>
                }
            </div>
        </div>
    }
}

/// The calls made about the person, and "Record the call" under the advice: who was phoned,
/// who they spoke to, what happens now. It becomes the SBARD's Decision and reaches the office.
#[component]
fn Calls(props: &SectionProps) -> Html {
    let ctx = use_context::<Ctx>().expect("inside the app context");
    let error = use_state(|| None::<AppError>);
    let to = use_state(|| None::<CallTarget>);
    let outcome = use_state(|| None::<CallOutcome>);
    let to_name = use_state(String::new);
    let spoke_to = use_state(String::new);
    let detail = use_state(String::new);
    // When they phoned, "HH:MM" in UK time; empty is now.
    let phoned_at = use_state(String::new);
    // Which question the problem is with (its first radio), for the error summary's link.
    let missing = use_state(|| None::<String>);
    let screen = &props.screen;
    let advised = screen.advice.as_ref().is_some_and(|a| a.level > EscalationLevel::Routine);
    if !advised && screen.note.calls.is_empty() {
        return html! {};
    }
    let save = {
        let (ctx, error, on_update) = (ctx.clone(), error.clone(), props.on_update.clone());
        let (to, outcome, to_name, spoke_to, detail, missing) =
            (to.clone(), outcome.clone(), to_name.clone(), spoke_to.clone(), detail.clone(), missing.clone());
        let phoned_at = phoned_at.clone();
        let visit_id = screen.visit.id.to_string();
        Callback::from(move |_: MouseEvent| {
            let (target, result) = match (*to, *outcome) {
                (Some(target), Some(result)) => (target, result),
                (None, _) => {
                    missing.set(Some(format!("call-to-{:?}", CallTarget::ALL[0]).to_lowercase()));
                    error.set(Some(AppError::new(ErrorCode::Invalid, "Choose who you phoned.")));
                    return;
                }
                (Some(_), None) => {
                    missing.set(Some(format!("call-outcome-{:?}", CallOutcome::ALL[0]).to_lowercase()));
                    error.set(Some(AppError::new(ErrorCode::Invalid, "Choose what happens now.")));
                    return;
                }
            };
            let at = match call_time(&phoned_at) {
                Ok(at) => at,
                Err(message) => {
                    missing.set(Some("call-at".into()));
                    error.set(Some(AppError::new(ErrorCode::Invalid, message)));
                    return;
                }
            };
            missing.set(None);
            let args = RecordCallArgs {
                visit_id: visit_id.clone(),
                to: target,
                to_name: (*to_name).clone(),
                spoke_to: (*spoke_to).clone(),
                outcome: result,
                detail: (*detail).clone(),
                at,
            };
            let (on_update, to, outcome, detail, spoke_to, to_name) =
                (on_update.clone(), to.clone(), outcome.clone(), detail.clone(), spoke_to.clone(), to_name.clone());
            let phoned_at = phoned_at.clone();
            act::<RecordCall>(&ctx, args, error.clone(), move |s| {
                phoned_at.set(String::new());
                to.set(None);
                outcome.set(None);
                detail.set(String::new());
                spoke_to.set(String::new());
                to_name.set(String::new());
                on_update.emit(s);
            });
        })
    };
    // The problem under the question it is about (the summary's link goes to its first radio).
    let message = error.as_ref().map(|e| e.message.clone());
    let problem = |question: &str| {
        missing.as_deref().filter(|first| first.starts_with(&format!("{question}-"))).and(message.as_deref())
    };
    // The time's problem: the form's own check, or the device's (its error names the field "at").
    let time_problem =
        if missing.as_deref() == Some("call-at") { message.as_deref() } else { problem_with(&error, "at") };
    let text = |id: &'static str, label: &'static str, hint: &'static str, state: &UseStateHandle<String>| {
        let state = state.clone();
        let value = (*state).clone();
        html! {
            <div class="nhsuk-form-group">
                <label class="nhsuk-label" for={id}>{ label }</label>
                <div class="nhsuk-hint">{ hint }</div>
                <input class="nhsuk-input" {id} {value} oninput={Callback::from(move |e: InputEvent| state.set(input_value(&e)))} />
            </div>
        }
    };
    html! {
        <section aria-labelledby="calls-heading" class="ds-calls">
            <h3 id="calls-heading">{"Calls"}</h3>
            if !screen.note.calls.is_empty() {
                <ul class="nhsuk-list" id="calls">
                    { for screen.note.calls.iter().map(|c| html! { <li>{ c.summary() }</li> }) }
                </ul>
            }
            <ErrorMessage error={(*error).clone()} field={time_problem.map(|_| AttrValue::Static("call-at")).or_else(|| (*missing).clone().map(AttrValue::from))} />
            { choices_with_error("call-to", "Record the call: who did you phone?", Answers::One, CallTarget::ALL.into_iter().map(|t| {
                let state = to.clone();
                Choice::new(format!("call-to-{t:?}").to_lowercase(), t.label(), *to == Some(t), Callback::from(move |()| state.set(Some(t))))
            }).collect(), problem("call-to")) }
            if *to == Some(CallTarget::Other) {
                { text("call-to-name", "Who did you phone?", "Like: the district nurses", &to_name) }
            }
            { text("call-spoke-to", "Who did you speak to? (optional)", "Like: Dr Khan, the receptionist", &spoke_to) }
            { choices_with_error("call-outcome", "What happens now?", Answers::One, CallOutcome::ALL.into_iter().map(|o| {
                let state = outcome.clone();
                Choice::new(format!("call-outcome-{o:?}").to_lowercase(), o.label(), *outcome == Some(o), Callback::from(move |()| state.set(Some(o))))
            }).collect(), problem("call-outcome")) }
            { text("call-detail", "What was agreed (optional)", "Like: GP visiting by 14:00, check again at 13:00", &detail) }
            <div class={classes!("nhsuk-form-group", time_problem.is_some().then_some("nhsuk-form-group--error"))}>
                <label class="nhsuk-label" for="call-at">{"What time did you phone? (leave empty if just now)"}</label>
                <div class="nhsuk-hint" id="call-at-hint">{"Like 09:12"}</div>
                { field_error("call-at", time_problem) }
                <input class={classes!("nhsuk-input", "nhsuk-input--width-5", time_problem.is_some().then_some("nhsuk-input--error"))}
                    id="call-at" type="time" aria-describedby={if time_problem.is_some() { "call-at-hint call-at-error" } else { "call-at-hint" }}
                    value={(*phoned_at).clone()} oninput={{ let phoned_at = phoned_at.clone(); Callback::from(move |e: InputEvent| phoned_at.set(input_value(&e))) }} />
            </div>
            <button type="button" class="nhsuk-button ds-wide" id="save-call" onclick={save}>{"Save the call"}</button>
        </section>
    }
}

#[component]
fn FoodAndMood(props: &SectionProps) -> Html {
    let ctx = use_context::<Ctx>().expect("inside the app context");
    let error = use_state(|| None::<AppError>);
    let visit_id = props.screen.visit.id.to_string();
    let food = props.screen.note.food_fluid.clone();
    let intake =
        |what: &'static str, name: &'static str, current: Option<Intake>, make: fn(&FoodFluid, Intake) -> FoodFluid| {
            let answers = [Intake::None, Intake::Less, Intake::Usual, Intake::More];
            choices(
                name,
                what,
                Answers::OneInline,
                answers
                    .into_iter()
                    .map(|choice| {
                        let (ctx, error, on_update, visit_id, food) =
                            (ctx.clone(), error.clone(), props.on_update.clone(), visit_id.clone(), food.clone());
                        let on_change = Callback::from(move |()| {
                            let on_update = on_update.clone();
                            let args = FoodFluidArgs { visit_id: visit_id.clone(), food_fluid: make(&food, choice) };
                            act::<SetFoodFluid>(&ctx, args, error.clone(), move |s| on_update.emit(s));
                        });
                        Choice::new(
                            format!("{name}-{choice:?}").to_lowercase(),
                            choice.label(),
                            current == Some(choice),
                            on_change,
                        )
                    })
                    .collect(),
            )
        };
    let moods = [Mood::Happy, Mood::Settled, Mood::Low, Mood::Anxious, Mood::Distressed];
    html! {
        <>
            <ErrorMessage error={(*error).clone()} />
            { intake("Eating", "eating", food.eating, |f, i| FoodFluid { eating: Some(i), ..f.clone() }) }
            { intake("Drinking", "drinking", food.drinking, |f, i| FoodFluid { drinking: Some(i), ..f.clone() }) }
            { choices("mood", "Mood", Answers::One, moods.into_iter().map(|mood| {
                let (ctx, error, on_update, visit_id) = (ctx.clone(), error.clone(), props.on_update.clone(), visit_id.clone());
                let on_change = Callback::from(move |()| {
                    let on_update = on_update.clone();
                    let args = MoodArgs { visit_id: visit_id.clone(), mood: Some(mood) };
                    act::<SetMood>(&ctx, args, error.clone(), move |s| on_update.emit(s));
                });
                Choice::new(format!("mood-{mood:?}").to_lowercase(), mood.label(), props.screen.note.mood == Some(mood), on_change)
            }).collect()) }
            // A radio cannot be un-chosen: a mood chosen by mistake is cleared here.
            if props.screen.note.mood.is_some() {
                <button type="button" class="nhsuk-button nhsuk-button--secondary" id="clear-mood" onclick={{
                    let (ctx, error, on_update, visit_id) = (ctx.clone(), error.clone(), props.on_update.clone(), visit_id.clone());
                    Callback::from(move |_: MouseEvent| {
                        let on_update = on_update.clone();
                        let args = MoodArgs { visit_id: visit_id.clone(), mood: None };
                        act::<SetMood>(&ctx, args, error.clone(), move |s| on_update.emit(s));
                    })
                }}>{"Clear the mood"}</button>
            }
        </>
    }
}

/// "Couldn't do this visit": a reason in one tap (no typing with gloves), anything else the
/// office should know, and one button. The office hears at the next sync.
#[component]
fn CouldNot(props: &SectionProps) -> Html {
    let ctx = use_context::<Ctx>().expect("inside the app context");
    let reason = use_state(|| None::<CouldNotReason>);
    let detail = use_state(String::new);
    // "In hospital" also records the admission, on today unless the carer changes the day.
    let admitted_on = use_state(uk_today_field);
    let error = use_state(|| None::<AppError>);
    let radio = |r: CouldNotReason| {
        let state = reason.clone();
        let id = format!("could-not-{}", r.code());
        html! {
            <div class="nhsuk-radios__item">
                <input class="nhsuk-radios__input" id={id.clone()} name="could-not" type="radio"
                    checked={*reason == Some(r)} onchange={Callback::from(move |_: Event| state.set(Some(r)))} />
                <label class="nhsuk-label nhsuk-radios__label" for={id}>{ r.label() }</label>
            </div>
        }
    };
    let on_detail = {
        let detail = detail.clone();
        Callback::from(move |e: InputEvent| detail.set(input_value(&e)))
    };
    let tell = {
        let (ctx, error, on_update) = (ctx.clone(), error.clone(), props.on_update.clone());
        let (visit_id, reason, detail) = (props.screen.visit.id.to_string(), *reason, (*detail).clone());
        let admitted_on = (*admitted_on).clone();
        Callback::from(move |_: MouseEvent| {
            let Some(reason) = reason else {
                error.set(Some(
                    AppError::new(ErrorCode::Invalid, "Choose why the visit could not happen.").about("reason"),
                ));
                return;
            };
            let admitted_on = match (reason, admitted_on.trim()) {
                (CouldNotReason::InHospital, day) if !day.is_empty() => match parse_day(day) {
                    Some(day) => Some(day),
                    None => {
                        error.set(Some(
                            AppError::new(ErrorCode::Invalid, "Give the day they went into hospital.")
                                .about("admitted_on"),
                        ));
                        return;
                    }
                },
                _ => None,
            };
            let args = CouldNotArgs { visit_id: visit_id.clone(), reason, detail: detail.clone(), admitted_on };
            let on_update = on_update.clone();
            act::<CouldNotVisit>(&ctx, args, error.clone(), move |s| on_update.emit(s));
        })
    };
    // Which field the problem is with: the summary links to it and the field shows it too.
    // The form's own checks and the device's refusals both name their field (`AppError::field`).
    let reason_problem = problem_with(&error, "reason");
    let day_problem = problem_with(&error, "admitted_on");
    let detail_problem = problem_with(&error, "detail");
    let problem_field: Option<String> = if reason_problem.is_some() {
        Some(format!("could-not-{}", CouldNotReason::ALL[0].code()))
    } else if day_problem.is_some() {
        Some("admitted-on".to_string())
    } else {
        detail_problem.map(|_| "could-not-detail".to_string())
    };
    html! {
        <details class="nhsuk-details" id="could-not">
            <summary class="nhsuk-details__summary"><span class="nhsuk-details__summary-text">{"Couldn't do this visit"}</span></summary>
            <div class="nhsuk-details__text">
                <ErrorMessage error={(*error).clone()} field={problem_field.clone().map(AttrValue::from)} />
                <div class={classes!("nhsuk-form-group", reason_problem.is_some().then_some("nhsuk-form-group--error"))}>
                    <fieldset class="nhsuk-fieldset" aria-describedby={reason_problem.map(|_| "could-not-reason-error")}>
                        <legend class="nhsuk-fieldset__legend nhsuk-fieldset__legend--s">{"Why could the visit not happen?"}</legend>
                        { field_error("could-not-reason", reason_problem) }
                        <div class="nhsuk-radios ds-choices">{ for CouldNotReason::ALL.into_iter().map(radio) }</div>
                    </fieldset>
                </div>
                if *reason == Some(CouldNotReason::InHospital) {
                    <div class={classes!("nhsuk-form-group", "nhsuk-radios__conditional", day_problem.is_some().then_some("nhsuk-form-group--error"))}>
                        <label class="nhsuk-label" for="admitted-on">{"The day they went into hospital"}</label>
                        <div class="nhsuk-hint" id="admitted-on-hint">{"Saved as \"Admitted to hospital\" on this day. Clear it if you do not know."}</div>
                        { field_error("admitted-on", day_problem) }
                        <input class={classes!("nhsuk-input", "nhsuk-input--width-10", day_problem.is_some().then_some("nhsuk-input--error"))}
                            id="admitted-on" type="date" aria-describedby={if day_problem.is_some() { "admitted-on-hint admitted-on-error" } else { "admitted-on-hint" }}
                            value={(*admitted_on).clone()} oninput={{
                                let admitted_on = admitted_on.clone();
                                Callback::from(move |e: InputEvent| admitted_on.set(input_value(&e)))
                            }} />
                    </div>
                }
                <div class={classes!("nhsuk-form-group", detail_problem.is_some().then_some("nhsuk-form-group--error"))}>
                    <label class="nhsuk-label" for="could-not-detail">{"Anything the office should know (optional)"}</label>
                    <div class="nhsuk-hint">{"Like: curtains closed, yesterday's milk on the step"}</div>
                    { field_error("could-not-detail", detail_problem) }
                    <textarea class="nhsuk-textarea" id="could-not-detail" rows="2" value={(*detail).clone()} oninput={on_detail} />
                </div>
                <button type="button" class="nhsuk-button nhsuk-button--warning ds-wide" id="tell-office" onclick={tell}>{"Tell the office"}</button>
            </div>
        </details>
    }
}

#[derive(Properties, PartialEq)]
struct CouldNotCardProps {
    could_not: doorstep_model::CouldNotVisit,
    office: Vec<doorstep_commands::PhoneTo>,
}

/// What the carer said, and for "no answer" the call to make now: they may have fallen.
#[component]
fn CouldNotCard(props: &CouldNotCardProps) -> Html {
    let said = &props.could_not;
    html! {
        <div class={classes!("nhsuk-card", "nhsuk-card--care", if said.reason.phone_the_office_now() { "nhsuk-card--care--emergency" } else { "nhsuk-card--care--non-urgent" })} id="could-not-said">
            <div class="nhsuk-card--care__heading-container">
                <h2 class="nhsuk-card--care__heading"><span role="text">{ said.reason.label() }</span></h2>
                <span class="nhsuk-card--care__arrow" aria-hidden="true"></span>
            </div>
            <div class="nhsuk-card__content">
                if said.reason.phone_the_office_now() {
                    <p class="nhsuk-body-l"><strong>{"Phone the office now: they may have fallen. Do not wait for the app to sync."}</strong></p>
                    { for props.office.iter().take(1).map(|p| html! {
                        <a class="nhsuk-button ds-wide ds-big ds-phone" id="phone-office" href={format!("tel:{}", p.dial)}>{ format!("Phone {} now – {}", p.in_a_sentence(), p.shown) }</a>
                    }) }
                    if props.office.is_empty() {
                        <p>{"The office's number has not reached this tablet: phone the office as you usually would. If you can see or hear them and they need help, phone 999."}</p>
                    }
                    <p>{"If you can see or hear them and they need help, phone 999."}</p>
                } else {
                    <p>{"The office will be told at the next sync."}</p>
                }
                if !said.detail.is_empty() { <p>{ format!("You told the office: {}", said.detail) }</p> }
                <p class="nhsuk-body-s">{ format!("Recorded at {}.", format::time(said.at)) }</p>
            </div>
        </div>
    }
}

#[derive(Properties, PartialEq)]
struct DoorProps {
    at_the_door: doorstep_commands::AtTheDoor,
}

/// The address (a maps link), how to get in behind "Show" (a key-safe code is not for anyone
/// looking over a shoulder), and how to talk with them.
#[component]
fn Door(props: &DoorProps) -> Html {
    let shown = use_state(|| false);
    let d = &props.at_the_door;
    if d.address.is_empty() && d.access.is_empty() && d.communication_needs.is_empty() {
        return html! {};
    }
    let query: String = d.address.join(", ").chars().map(|c| if c == ' ' { '+' } else { c }).collect();
    let toggle = {
        let shown = shown.clone();
        Callback::from(move |_: MouseEvent| shown.set(!*shown))
    };
    html! {
        <dl class="nhsuk-summary-list ds-door" id="at-the-door">
            if !d.address.is_empty() {
                <div class="nhsuk-summary-list__row">
                    <dt class="nhsuk-summary-list__key">{"Address"}</dt>
                    <dd class="nhsuk-summary-list__value">
                        { d.address.join(", ") }<br />
                        // geo: opens the tablet's own maps app; nothing is sent from Doorstep.
                        <a href={format!("geo:0,0?q={query}")}>{"Open in maps"}</a>
                    </dd>
                </div>
            }
            if !d.access.is_empty() {
                <div class="nhsuk-summary-list__row">
                    <dt class="nhsuk-summary-list__key">{"How to get in"}</dt>
                    <dd class="nhsuk-summary-list__value">
                        if *shown {
                            <span id="access">{ d.access.clone() }</span>{" "}
                        }
                        <button type="button" class="nhsuk-button nhsuk-button--secondary ds-inline-button" id="show-access" aria-expanded={shown.to_string()} onclick={toggle}>
                            { if *shown { "Hide" } else { "Show how to get in" } }
                        </button>
                    </dd>
                </div>
            }
            if !d.communication_needs.is_empty() {
                <div class="nhsuk-summary-list__row">
                    <dt class="nhsuk-summary-list__key">{"Talking with them"}</dt>
                    <dd class="nhsuk-summary-list__value">{ d.communication_needs.clone() }</dd>
                </div>
            }
        </dl>
    }
}

#[derive(Properties, PartialEq)]
struct RecordProps {
    screen: VisitScreen,
    /// At check-out, each row's "Change" opens its section; a closed visit's record has none.
    #[prop_or_default]
    change: Option<Callback<&'static str>>,
}

/// What the visit recorded, as a summary list: read back at check-out, and shown once it ended.
#[component]
fn RecordSummary(props: &RecordProps) -> Html {
    let s = &props.screen;
    let tasks = s.visit.tasks.iter().map(|t| {
        let outcome = match &t.outcome {
            Some(TaskOutcome::Done) => "done".to_string(),
            Some(TaskOutcome::NotDone { reason }) => format!("not done: {reason}"),
            None => "not marked".to_string(),
        };
        html! { <li>{ format!("{}: {} – {outcome}", t.kind.label(), t.description) }</li> }
    });
    let signs: Vec<String> = s
        .note
        .soft_signs
        .iter()
        .map(|o| format!("{} ({})", o.sign.label(), o.compared_to_usual.label().to_lowercase()))
        .collect();
    let readings = s.news2.as_ref().map(News2Assessment::summary);
    let food = fold_summary(s, FOOD, None);
    // "Change" (NHS.UK check your answers), with what it changes for a screen reader.
    let change = |section: &'static str, what: &'static str| match &props.change {
        Some(go_to) => {
            let go_to = go_to.clone();
            html! {
                <dd class="nhsuk-summary-list__actions">
                    <a href={format!("#{section}")} onclick={Callback::from(move |e: MouseEvent| { e.prevent_default(); go_to.emit(section); })}>
                        {"Change"}<span class="nhsuk-u-visually-hidden">{ format!(" {what}") }</span>
                    </a>
                </dd>
            }
        }
        None => html! {},
    };
    html! {
        <dl class="nhsuk-summary-list">
            if !s.visit.tasks.is_empty() {
                <div class="nhsuk-summary-list__row">
                    <dt class="nhsuk-summary-list__key">{"Tasks"}</dt>
                    <dd class="nhsuk-summary-list__value"><ul class="nhsuk-list">{ for tasks }</ul></dd>
                    { change(TASKS, "the tasks") }
                </div>
            }
            <div class="nhsuk-summary-list__row">
                <dt class="nhsuk-summary-list__key">{"Note"}</dt>
                <dd class="nhsuk-summary-list__value ds-handover__note">
                    { if s.note.narrative.trim().is_empty() { "No note was written.".to_string() } else { s.note.narrative.clone() } }
                </dd>
                { change(NOTE, "the note") }
            </div>
            <div class="nhsuk-summary-list__row">
                <dt class="nhsuk-summary-list__key">{"Noticed"}</dt>
                <dd class="nhsuk-summary-list__value">{ if signs.is_empty() { "Nothing ticked.".to_string() } else { signs.join("; ") } }</dd>
                { change(SIGNS, "what you noticed") }
            </div>
            if let Some(readings) = readings {
                <div class="nhsuk-summary-list__row">
                    <dt class="nhsuk-summary-list__key">{"Readings"}</dt>
                    <dd class="nhsuk-summary-list__value">{ readings }</dd>
                    { change(VITALS, "the readings") }
                </div>
            }
            <div class="nhsuk-summary-list__row">
                <dt class="nhsuk-summary-list__key">{"Food, drink and mood"}</dt>
                <dd class="nhsuk-summary-list__value">{ food }</dd>
                { change(FOOD, "food, drink and mood") }
            </div>
            if !s.note.calls.is_empty() {
                <div class="nhsuk-summary-list__row">
                    <dt class="nhsuk-summary-list__key">{"Calls"}</dt>
                    <dd class="nhsuk-summary-list__value">{ for s.note.calls.iter().map(|c| html! { <p>{ c.summary() }</p> }) }</dd>
                </div>
            }
            if !s.outcomes.is_empty() {
                <div class="nhsuk-summary-list__row">
                    <dt class="nhsuk-summary-list__key">{"What happened"}</dt>
                    <dd class="nhsuk-summary-list__value">{ for s.outcomes.iter().map(|o| html! { <p>{ outcome_line(o) }</p> }) }</dd>
                </div>
            }
        </dl>
    }
}

/// A visit that has ended, as it was recorded: read only, with words added since marked late.
/// The carer adds to it with a late entry, never by changing what was written at the time.
#[component]
fn ClosedVisit(props: &SectionProps) -> Html {
    let ctx = use_context::<Ctx>().expect("inside the app context");
    let text = use_state(String::new);
    let error = use_state(|| None::<AppError>);
    let saved = use_state(|| false);
    // Staff names are in the office's directory: another carer's late entry reads "Priya Shah
    // (C002)", not a code.
    let (directory, _) = use_command::<GetDirectory>(());
    let s = &props.screen;
    let who = |staff: &doorstep_model::StaffId| {
        if ctx.session.staff_ref.as_deref() == Some(staff.as_str()) {
            ctx.session.signed_in_as()
        } else if let Load::Ready(d) = &*directory {
            d.directory.staff_label(staff.as_str())
        } else {
            staff.to_string()
        }
    };
    let add = {
        let (ctx, error, on_update, text, saved) =
            (ctx.clone(), error.clone(), props.on_update.clone(), text.clone(), saved.clone());
        let args = LateEntryArgs { visit_id: s.visit.id.to_string(), text: (*text).clone() };
        Callback::from(move |_: MouseEvent| {
            let (on_update, text, saved) = (on_update.clone(), text.clone(), saved.clone());
            act::<AddLateEntry>(&ctx, args.clone(), error.clone(), move |fresh| {
                text.set(String::new());
                saved.set(true);
                on_update.emit(fresh);
            });
        })
    };
    let on_text = {
        let (text, saved) = (text.clone(), saved.clone());
        Callback::from(move |e: InputEvent| {
            saved.set(false);
            text.set(input_value(&e));
        })
    };
    html! {
        <section aria-labelledby="record-heading" id="visit-record">
            <h2 id="record-heading">{"What was recorded"}</h2>
            <RecordSummary screen={s.clone()} />
            if !s.note.late_entries.is_empty() {
                <h3>{"Added later"}</h3>
                <ul class="nhsuk-list" id="late-entries">
                    { for s.note.late_entries.iter().map(|e| html! {
                        <li class="ds-late-entry">
                            <strong class="nhsuk-tag nhsuk-tag--grey">{"Late entry"}</strong>
                            { format!(" written {} by {}", format::when(e.at), who(&e.by)) }
                            <p class="ds-handover__note">{ e.text.clone() }</p>
                        </li>
                    }) }
                </ul>
            }
            <ErrorMessage error={(*error).clone()} field={error.is_some().then_some(AttrValue::Static("late-entry"))} />
            <div class={classes!("nhsuk-form-group", error.is_some().then_some("nhsuk-form-group--error"))}>
                <label class="nhsuk-label nhsuk-label--s" for="late-entry">{"Add something you forgot"}</label>
                <div class="nhsuk-hint" id="late-entry-hint">{"It is kept as a late entry with today's time and your name. What was written at the visit stays as it was."}</div>
                { field_error("late-entry", error.as_ref().map(|e| e.message.as_str())) }
                <textarea class={classes!("nhsuk-textarea", error.is_some().then_some("nhsuk-textarea--error"))} id="late-entry" rows="3"
                    aria-describedby={if error.is_some() { "late-entry-hint late-entry-error" } else { "late-entry-hint" }}
                    value={(*text).clone()} oninput={on_text} />
            </div>
            <button type="button" class="nhsuk-button ds-wide" id="add-late-entry" onclick={add}>{"Add late entry"}</button>
            if *saved { <p class="ds-confirm" role="status">{"Late entry added."}</p> }
        </section>
    }
}

#[derive(Properties, PartialEq)]
struct LastVisitProps {
    handover: doorstep_commands::Handover,
}

/// What the last carer saw: who, when, their note, signs, readings and calls, anything added
/// late, and why it could not happen if it could not; that visit opens, read only.
#[component]
fn LastVisit(props: &LastVisitProps) -> Html {
    let ctx = use_context::<Ctx>().expect("inside the app context");
    let h = &props.handover;
    let open_it = {
        let (go, visit_id) = (ctx.go.clone(), h.visit_id.clone());
        Callback::from(move |e: MouseEvent| {
            e.prevent_default();
            go.emit(Route::Visit(visit_id.clone()));
        })
    };
    html! {
        <details class="nhsuk-details ds-handover" id="handover" open=true>
            <summary class="nhsuk-details__summary">
                <span class="nhsuk-details__summary-text">{ format!("Last visit: {}, {}", format::when(h.at), h.by.join(" and ")) }</span>
            </summary>
            <div class="nhsuk-details__text">
                if h.narrative.trim().is_empty() { <p>{"No note was written."}</p> } else { <p class="ds-handover__note">{ h.narrative.clone() }</p> }
                if !h.changes.is_empty() {
                    <p><strong>{"Noticed: "}</strong>{ h.changes.join("; ") }</p>
                }
                if let Some(score) = &h.news2 {
                    <p><strong>{"Readings: "}</strong>{ score.clone() }</p>
                    <p class="nhsuk-body-s ds-attribution">{ doorstep_model::news2::ATTRIBUTION }</p>
                }
                { for h.calls.iter().map(|c| html! { <p><strong>{"Call: "}</strong>{ c.clone() }</p> }) }
                { for h.outcomes.iter().map(|o| html! { <p><strong>{"What happened: "}</strong>{ o.clone() }</p> }) }
                if let Some(said) = &h.could_not { <p><strong>{"Could not happen: "}</strong>{ said.clone() }</p> }
                { for h.late_entries.iter().map(|e| html! { <p class="ds-late-entry ds-handover__note">{ e.clone() }</p> }) }
                if h.visit_here {
                    <p><a href="#" class="ds-list-link" id="open-last-visit" onclick={open_it}>{"Open that visit"}</a></p>
                }
            </div>
        </details>
    }
}

/// Today in the UK as a date field holds it ("2026-12-03").
fn uk_today_field() -> String {
    chrono::Utc::now().with_timezone(&chrono_tz::Europe::London).date_naive().format("%Y-%m-%d").to_string()
}

/// The time a call was made, from a time field ("09:12", UK time, today): none when empty
/// (the device stamps it now). The device refuses a time in the future or long before the visit.
fn call_time(value: &str) -> Result<Option<chrono::DateTime<chrono::Utc>>, &'static str> {
    use chrono::TimeZone;
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    let time =
        chrono::NaiveTime::parse_from_str(value, "%H:%M").map_err(|_| "Give the time you phoned, like 09:12.")?;
    let now = chrono::Utc::now();
    let today = now.with_timezone(&chrono_tz::Europe::London).date_naive();
    let on = |day: chrono::NaiveDate| {
        chrono_tz::Europe::London
            .from_local_datetime(&day.and_time(time))
            .earliest()
            .map(|at| at.with_timezone(&chrono::Utc))
    };
    // A time later than now is last night's (23:50, recorded at 00:05).
    let at = match on(today) {
        Some(at) if at > now + chrono::Duration::minutes(1) => today.pred_opt().and_then(on),
        found => found,
    };
    at.map(Some).ok_or("That time did not happen today (the clocks changed): give another.")
}

/// A date field's value, when it is a date.
fn parse_day(value: &str) -> Option<chrono::NaiveDate> {
    chrono::NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d").ok()
}

/// "Admitted to hospital on Wednesday 2 December, recorded by Sam Taylor (C001)".
pub fn outcome_line(o: &OutcomeRow) -> String {
    format!("{} on {}, recorded by {}", o.kind.label(), format::day(o.day), o.by)
}

/// "What happened to them?": what the carer heard (A&E, admitted, home again, the urgent team,
/// the GP) and the day it happened, folded away until needed. The fold says the latest.
#[component]
fn Outcomes(props: &SectionProps) -> Html {
    let ctx = use_context::<Ctx>().expect("inside the app context");
    let kind = use_state(|| None::<OutcomeKind>);
    let day = use_state(uk_today_field);
    let error = use_state(|| None::<AppError>);
    // The field with the problem, for the error summary's link and the message under it.
    let problem_at = use_state(|| None::<String>);
    let saved = use_state(|| None::<String>);
    let s = &props.screen;
    let first_kind = format!("outcome-{}", OutcomeKind::ALL[0].code());
    let save = {
        let (ctx, error, on_update, kind, day, problem_at, saved) = (
            ctx.clone(),
            error.clone(),
            props.on_update.clone(),
            kind.clone(),
            day.clone(),
            problem_at.clone(),
            saved.clone(),
        );
        let (visit_id, first_kind) = (s.visit.id.to_string(), first_kind.clone());
        Callback::from(move |_: MouseEvent| {
            saved.set(None);
            let Some(chosen) = *kind else {
                problem_at.set(Some(first_kind.clone()));
                error.set(Some(AppError::new(ErrorCode::Invalid, "Choose what happened to them.")));
                return;
            };
            let Some(on) = parse_day(&day) else {
                problem_at.set(Some("outcome-day".into()));
                error.set(Some(AppError::new(ErrorCode::Invalid, "Give the day it happened.")));
                return;
            };
            problem_at.set(Some("outcome-day".into()));
            let (on_update, kind, saved) = (on_update.clone(), kind.clone(), saved.clone());
            let args = OutcomeArgs { visit_id: visit_id.clone(), kind: chosen, day: on };
            act::<RecordOutcome>(&ctx, args, error.clone(), move |fresh| {
                kind.set(None);
                saved.set(Some(format!("Saved: {} on {}.", chosen.label(), format::day(on))));
                on_update.emit(fresh);
            });
        })
    };
    let message = error.as_ref().map(|e| e.message.clone());
    let kind_problem =
        problem_at.as_deref().filter(|f| f.starts_with("outcome-") && *f != "outcome-day").and(message.as_deref());
    let day_problem = (problem_at.as_deref() == Some("outcome-day")).then_some(()).and(message.as_deref());
    let latest = s.outcomes.iter().max_by_key(|o| (o.day, o.at));
    let heading = match latest {
        Some(o) => format!("What happened to them? {}, {}", o.kind.label(), o.day.format("%-d %b")),
        None => "What happened to them?".to_string(),
    };
    html! {
        <details class="nhsuk-details" id="outcomes" open={error.is_some() || saved.is_some()}>
            <summary class="nhsuk-details__summary"><span class="nhsuk-details__summary-text">{ heading }</span></summary>
            <div class="nhsuk-details__text">
                if !s.outcomes.is_empty() {
                    <ul class="nhsuk-list" id="outcome-list">
                        { for s.outcomes.iter().map(|o| html! {
                            <li>
                                { outcome_line(o) }
                                if !o.links.is_empty() { <p class="nhsuk-body-s">{ format!("Before it: {}.", o.links.join("; ")) }</p> }
                            </li>
                        }) }
                    </ul>
                }
                <ErrorMessage error={(*error).clone()} field={(*problem_at).clone().map(AttrValue::from)} />
                { choices_with_error("outcome", "What happened to them?", Answers::One, OutcomeKind::ALL.into_iter().map(|k| {
                    let state = kind.clone();
                    Choice::new(format!("outcome-{}", k.code()), k.label(), *kind == Some(k), Callback::from(move |()| state.set(Some(k))))
                }).collect(), kind_problem) }
                <div class={classes!("nhsuk-form-group", day_problem.is_some().then_some("nhsuk-form-group--error"))}>
                    <label class="nhsuk-label" for="outcome-day">{"The day it happened"}</label>
                    <div class="nhsuk-hint" id="outcome-day-hint">{"Today, or the day it happened if you heard later."}</div>
                    { field_error("outcome-day", day_problem) }
                    <input class="nhsuk-input nhsuk-input--width-10" id="outcome-day" type="date" aria-describedby="outcome-day-hint"
                        value={(*day).clone()} oninput={{
                            let day = day.clone();
                            Callback::from(move |e: InputEvent| day.set(input_value(&e)))
                        }} />
                </div>
                <button type="button" class="nhsuk-button ds-wide" id="save-outcome" onclick={save}>{"Save what happened"}</button>
                if let Some(done) = &*saved { <p class="ds-confirm" role="status" id="outcome-saved">{ done.clone() }</p> }
            </div>
        </details>
    }
}
