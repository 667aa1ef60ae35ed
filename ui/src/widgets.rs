//! Pieces every screen uses: the header, the sync badge, error messages, loading a command's
//! answer, and running an action.

use doorstep_commands::badge::Tone;
use doorstep_commands::{AppError, Command, GetDirectory, GetNewReplies, Lock, RetryHeldBack, SyncBadge, SyncNow};
use yew::platform::spawn_local;
use yew::prelude::*;

use crate::app::{Ctx, Route};
use crate::invoke::call;

/// A command's answer as a screen loads it.
#[derive(Debug, Clone, PartialEq)]
pub enum Load<T> {
    Loading,
    Ready(T),
    Failed(AppError),
}

/// Loads command `C` with `args` (again whenever `args` change or `reload` is emitted).
#[hook]
pub fn use_command<C>(args: C::Args) -> (UseStateHandle<Load<C::Output>>, Callback<()>)
where
    C: Command + 'static,
    C::Args: Clone + PartialEq + 'static,
    C::Output: 'static,
{
    let ctx = use_context::<Ctx>();
    let state = use_state(|| Load::Loading);
    let generation = use_state(|| 0u32);
    {
        let state = state.clone();
        use_effect_with((args, *generation), move |(args, _)| {
            let args = args.clone();
            spawn_local(async move {
                match call::<C>(&args).await {
                    Ok(answer) => state.set(Load::Ready(answer)),
                    Err(e) => {
                        if let Some(ctx) = ctx {
                            ctx.on_error.emit(e.clone());
                        }
                        state.set(Load::Failed(e));
                    }
                }
            });
        });
    }
    let reload = Callback::from(move |()| generation.set(*generation + 1));
    (state, reload)
}

/// Runs command `C`; on success hands the answer to `done`, on failure shows it in `error`.
pub fn act<C>(ctx: &Ctx, args: C::Args, error: UseStateHandle<Option<AppError>>, done: impl FnOnce(C::Output) + 'static)
where
    C: Command + 'static,
    C::Args: 'static,
{
    let on_error = ctx.on_error.clone();
    spawn_local(async move {
        match call::<C>(&args).await {
            Ok(answer) => {
                error.set(None);
                done(answer);
            }
            Err(e) => {
                on_error.emit(e.clone());
                error.set(Some(e));
            }
        }
    });
}

#[derive(Properties, PartialEq)]
pub struct ErrorProps {
    pub error: Option<AppError>,
    /// The id of the field the problem is with, when it is one field: the summary links to it.
    #[prop_or_default]
    pub field: Option<AttrValue>,
}

/// The NHS.UK error summary, at the top of the form it concerns: "There is a problem", and the
/// problem as a link to the field to fix where there is one field.
#[component]
pub fn ErrorMessage(props: &ErrorProps) -> Html {
    let summary = use_node_ref();
    {
        // Focus moves to the summary when a problem appears, so a screen reader reads it and
        // the next Tab reaches its link.
        let summary = summary.clone();
        use_effect_with(props.error.clone(), move |error| {
            if error.is_some()
                && let Some(element) = summary.cast::<web_sys::HtmlElement>()
            {
                let _ = element.focus();
            }
        });
    }
    let Some(e) = &props.error else { return html! {} };
    let problem = match &props.field {
        Some(field) => {
            let target = field.clone();
            // The app has no URL routing: focus the field rather than follow the fragment.
            let onclick = Callback::from(move |ev: MouseEvent| {
                ev.prevent_default();
                focus(&target);
            });
            html! {
                <ul class="nhsuk-list nhsuk-error-summary__list">
                    <li><a href={format!("#{field}")} {onclick}>{ e.message.clone() }</a></li>
                </ul>
            }
        }
        None => html! { <p>{ e.message.clone() }</p> },
    };
    html! {
        <div class="nhsuk-error-summary ds-error" role="alert" tabindex="-1" ref={summary}>
            <h2 class="nhsuk-error-summary__title">{"There is a problem"}</h2>
            <div class="nhsuk-error-summary__body">{ problem }</div>
        </div>
    }
}

/// Moves focus to the element with `id` and brings it into view.
pub fn focus(id: &str) {
    use wasm_bindgen::JsCast;
    let element = web_sys::window().and_then(|w| w.document()).and_then(|d| d.get_element_by_id(id));
    if let Some(element) = element.and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok()) {
        element.scroll_into_view();
        let _ = element.focus();
    }
}

/// The inline error under a field with a problem (NHS.UK error message), or nothing.
pub fn field_error(id: &str, message: Option<&str>) -> Html {
    match message {
        Some(message) => html! {
            <span class="nhsuk-error-message" id={format!("{id}-error")}>
                <span class="nhsuk-u-visually-hidden">{"Error: "}</span>{ message.to_string() }
            </span>
        },
        None => html! {},
    }
}

/// The problem the device found with the argument `arg` of a form's command (see
/// [`AppError::field`]), to show by the field it came from.
pub fn problem_with<'a>(error: &'a Option<AppError>, arg: &str) -> Option<&'a str> {
    error.as_ref().filter(|e| e.field.as_deref() == Some(arg)).map(|e| e.message.as_str())
}

/// What kind of box a [`text_field`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextBox {
    /// One line, full width.
    Line,
    /// One line, about `n` characters wide (`nhsuk-input--width-n`).
    Width(u8),
    /// A date picker.
    Date,
    /// A phone number (the phone keypad on a tablet).
    Phone,
    /// Several lines.
    Lines(u8),
}

/// A labelled NHS.UK text input (or textarea) with its hint and, when it has a problem, the
/// form group marked and the problem between the hint and the box, read with it.
pub fn text_field(
    id: &str,
    label: &str,
    hint: Option<&str>,
    value: &str,
    oninput: Callback<InputEvent>,
    kind: TextBox,
    problem: Option<&str>,
) -> Html {
    let hint_id = format!("{id}-hint");
    let described: Vec<String> =
        hint.map(|_| hint_id.clone()).into_iter().chain(problem.map(|_| format!("{id}-error"))).collect();
    let described = (!described.is_empty()).then(|| described.join(" "));
    let input = match kind {
        TextBox::Lines(rows) => html! {
            <textarea class={classes!("nhsuk-textarea", problem.map(|_| "nhsuk-textarea--error"))} id={id.to_string()}
                rows={rows.to_string()} value={value.to_string()} aria-describedby={described} {oninput} />
        },
        TextBox::Line | TextBox::Width(_) | TextBox::Date | TextBox::Phone => {
            let (width, kind) = match kind {
                TextBox::Width(n) => (Some(format!("nhsuk-input--width-{n}")), "text"),
                TextBox::Date => (Some("nhsuk-input--width-10".to_string()), "date"),
                TextBox::Phone => (Some("nhsuk-input--width-20".to_string()), "tel"),
                _ => (None, "text"),
            };
            html! {
                <input class={classes!("nhsuk-input", width, problem.map(|_| "nhsuk-input--error"))} id={id.to_string()} type={kind}
                    value={value.to_string()} aria-describedby={described} {oninput} />
            }
        }
    };
    html! {
        <div class={classes!("nhsuk-form-group", problem.map(|_| "nhsuk-form-group--error"))}>
            <label class="nhsuk-label" for={id.to_string()}>{ label.to_string() }</label>
            if let Some(hint) = hint { <div class="nhsuk-hint" id={hint_id}>{ hint.to_string() }</div> }
            { field_error(id, problem) }
            { input }
        </div>
    }
}

/// Names staff as people know them ("Sam Taylor (C001)") from the office's directory on this
/// device; the reference alone until the directory has synced or for someone it does not name.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StaffNames(Option<doorstep_model::Directory>);

impl StaffNames {
    pub fn label(&self, reference: &str) -> String {
        match &self.0 {
            Some(directory) => directory.staff_label(reference),
            None => reference.to_string(),
        }
    }

    /// Their name alone ("Sam Taylor"), if the directory has one.
    pub fn name(&self, reference: &str) -> Option<String> {
        self.0.as_ref().and_then(|d| d.staff_name(reference)).map(str::to_string)
    }
}

/// The staff names on this device, for a screen that shows who did something.
#[hook]
pub fn use_staff_names() -> StaffNames {
    let (loaded, _) = use_command::<GetDirectory>(());
    match &*loaded {
        Load::Ready(screen) => StaffNames(Some(screen.directory.clone())),
        _ => StaffNames(None),
    }
}

/// One answer to a question asked with radios or checkboxes.
pub struct Choice {
    /// The input's id (tests and the error summary find it by this).
    pub id: String,
    pub label: String,
    pub checked: bool,
    /// Called when it is chosen (a radio) or ticked or unticked (a checkbox).
    pub on_change: Callback<()>,
    /// Said under the label (and read with it): why this answer, what it means.
    pub hint: Option<String>,
}

impl Choice {
    pub fn new(id: impl Into<String>, label: impl Into<String>, checked: bool, on_change: Callback<()>) -> Choice {
        Choice { id: id.into(), label: label.into(), checked, on_change, hint: None }
    }

    pub fn with_hint(self, hint: impl Into<String>) -> Choice {
        Choice { hint: Some(hint.into()), ..self }
    }
}

/// How a question's answers are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answers {
    /// One answer, the radios one under another.
    One,
    /// One answer of a few short ones, side by side.
    OneInline,
    /// Any number of answers: checkboxes.
    Any,
}

/// A question with NHS.UK radios or checkboxes in a fieldset whose legend asks it. The whole
/// label is the touch target, at least 48px tall (`.ds-choices`). `name` groups the radios and
/// is the fieldset's id.
pub fn choices(name: &str, legend: &str, answers: Answers, items: Vec<Choice>) -> Html {
    choices_with_error(name, legend, answers, items, None)
}

/// [`choices`], with the question marked as the one with a problem and the problem under its
/// legend (NHS.UK error message) when there is one.
pub fn choices_with_error(name: &str, legend: &str, answers: Answers, items: Vec<Choice>, error: Option<&str>) -> Html {
    let (kind, input) = match answers {
        Answers::Any => ("nhsuk-checkboxes", "checkbox"),
        Answers::One | Answers::OneInline => ("nhsuk-radios", "radio"),
    };
    let item = |c: Choice| {
        let on_change = c.on_change.clone();
        let hint_id = format!("{}-hint", c.id);
        html! {
            <div class={format!("{kind}__item")}>
                <input class={format!("{kind}__input")} id={c.id.clone()} name={name.to_string()} type={input}
                    aria-describedby={c.hint.as_ref().map(|_| hint_id.clone())}
                    checked={c.checked} onchange={Callback::from(move |_: Event| on_change.emit(()))} />
                <label class={format!("nhsuk-label {kind}__label")} for={c.id}>{ c.label }</label>
                if let Some(hint) = c.hint {
                    <div class={format!("nhsuk-hint {kind}__hint")} id={hint_id}>{ hint }</div>
                }
            </div>
        }
    };
    html! {
        <div class={classes!("nhsuk-form-group", error.is_some().then_some("nhsuk-form-group--error"))}>
            <fieldset class="nhsuk-fieldset" id={name.to_string()} aria-describedby={error.map(|_| format!("{name}-error"))}>
                <legend class="nhsuk-fieldset__legend nhsuk-fieldset__legend--s">{ legend.to_string() }</legend>
                { field_error(name, error) }
                <div class={classes!(kind, "ds-choices", (answers == Answers::OneInline).then_some("nhsuk-radios--inline"))}>
                    { for items.into_iter().map(item) }
                </div>
            </fieldset>
        </div>
    }
}

/// Where a link to `route` points: read aloud and shown on hover, as the app has no URLs.
pub fn route_href(route: &Route) -> String {
    match route {
        Route::Visit(id) => format!("#visit/{id}"),
        Route::Person(id) => format!("#person/{id}"),
        Route::Idea(id) => format!("#idea/{id}"),
        _ => "#".to_string(),
    }
}

/// An NHS.UK card whose heading is a link to `route`: the whole card is the touch target (the
/// link's ::before covers it), and a screen reader hears one link named by the heading.
pub fn card(go: &Callback<Route>, route: Route, class: Classes, heading: Html, level: u8, body: Html) -> Html {
    let href = route_href(&route);
    let go = go.clone();
    let onclick = Callback::from(move |e: MouseEvent| {
        e.prevent_default();
        go.emit(route.clone());
    });
    let link = html! { <a class="nhsuk-card__link" {href} {onclick}>{ heading }</a> };
    html! {
        <div class={classes!("nhsuk-card", "nhsuk-card--clickable", class)}>
            <div class="nhsuk-card__content">
                if level == 2 {
                    <h2 class="nhsuk-card__heading nhsuk-heading-m">{ link }</h2>
                } else {
                    <h3 class="nhsuk-card__heading nhsuk-heading-s">{ link }</h3>
                }
                { body }
            </div>
        </div>
    }
}

/// What to show while a screen's data loads or when it failed.
pub fn loading_or_failed<T>(load: &Load<T>) -> Html {
    match load {
        Load::Loading => html! { <p class="nhsuk-body-l ds-loading">{"Loading…"}</p> },
        Load::Failed(e) => html! { <ErrorMessage error={Some(e.clone())} /> },
        Load::Ready(_) => html! {},
    }
}

#[derive(Properties, PartialEq)]
pub struct HeaderProps {
    pub current: Route,
}

/// The NHS.UK-style header with the few places a carer (or manager) goes.
#[component]
pub fn Header(props: &HeaderProps) -> Html {
    let ctx = use_context::<Ctx>().expect("the header is inside the app context");
    // Partners' answers the carer has not read: counted again when records arrive or the
    // carer moves between screens (opening "My ideas" reads them).
    let unread = use_state(|| 0usize);
    {
        let (unread, carer) = (unread.clone(), !ctx.is_manager());
        use_effect_with((ctx.arrivals, props.current.clone()), move |_| {
            if carer {
                spawn_local(async move {
                    if let Ok(replies) = call::<GetNewReplies>(&()).await {
                        unread.set(replies.len());
                    }
                });
            }
        });
    }
    let link_with_count = |label: &'static str, route: Route, count: usize| {
        let go = ctx.go.clone();
        let here = std::mem::discriminant(&props.current) == std::mem::discriminant(&route);
        let onclick = Callback::from(move |_: MouseEvent| go.emit(route.clone()));
        html! {
            <li class="nhsuk-header__navigation-item">
                <button type="button" class={classes!("ds-nav-link", here.then_some("ds-nav-link--current"))}
                    aria-current={here.then_some("page")} {onclick}>
                    { label }
                    if count > 0 {
                        <span class="ds-nav-count" id="unread-replies">{ count }<span class="nhsuk-u-visually-hidden">{ if count == 1 { " new answer" } else { " new answers" } }</span></span>
                    }
                </button>
            </li>
        }
    };
    let link = |label: &'static str, route: Route| link_with_count(label, route, 0);
    let lock = {
        let ctx = ctx.clone();
        Callback::from(move |_: MouseEvent| {
            let set_session = ctx.set_session.clone();
            spawn_local(async move {
                if let Ok(session) = call::<Lock>(&()).await {
                    set_session.emit(session);
                }
            });
        })
    };
    let who = ctx.session.signed_in_as();
    html! {
        <header class="nhsuk-header ds-header" role="banner">
            <div class="nhsuk-width-container ds-header__bar">
                <span class="ds-header__service">{"Doorstep"}</span>
                <span class="ds-header__who">{ if ctx.is_manager() { format!("Manager {who}") } else { format!("Carer {who}") } }</span>
            </div>
            <nav class="nhsuk-width-container" aria-label="Menu">
                <ul class="ds-nav">
                    if ctx.is_manager() {
                        { link("Today", Route::ManagerDay) }
                        { link("Visits", Route::Today) }
                        { link("Search", Route::Search) }
                        { link("Import", Route::Import) }
                        { link("Devices", Route::Devices) }
                        { link("Directory", Route::Directory) }
                    } else {
                        { link("Today", Route::Today) }
                        { link_with_count("My ideas", Route::MyIdeas, *unread) }
                        { link("Phone numbers", Route::Directory) }
                    }
                    <li class="nhsuk-header__navigation-item ds-nav__end">
                        <button type="button" class="ds-nav-link" onclick={lock}>{"Lock"}</button>
                    </li>
                    { link("Sign out", Route::Account) }
                </ul>
            </nav>
        </header>
    }
}

#[derive(Properties, PartialEq)]
pub struct BadgeProps {
    pub badge: SyncBadge,
    /// Called after "Sync now" succeeds, so the screen shows what arrived.
    #[prop_or_default]
    pub on_synced: Callback<()>,
}

/// The honest sync badge, with a "Sync now" button.
#[component]
pub fn SyncBadgeView(props: &BadgeProps) -> Html {
    let ctx = use_context::<Ctx>().expect("inside the app context");
    let badge = use_state(|| props.badge.clone());
    {
        let badge = badge.clone();
        use_effect_with(props.badge.clone(), move |fresh| badge.set(fresh.clone()));
    }
    let error = use_state(|| None);
    let busy = use_state(|| false);
    // "Sync now", or "Send again" for what the hub held back: both answer with the badge.
    fn run<C: Command<Args = (), Output = SyncBadge> + 'static>(
        ctx: &Ctx,
        badge: &UseStateHandle<SyncBadge>,
        error: &UseStateHandle<Option<AppError>>,
        busy: &UseStateHandle<bool>,
        on_synced: &Callback<()>,
    ) -> Callback<MouseEvent> {
        let (ctx, badge, error, busy, on_synced) =
            (ctx.clone(), badge.clone(), error.clone(), busy.clone(), on_synced.clone());
        Callback::from(move |_: MouseEvent| {
            busy.set(true);
            let (badge, busy, error, on_synced, on_error) =
                (badge.clone(), busy.clone(), error.clone(), on_synced.clone(), ctx.on_error.clone());
            spawn_local(async move {
                match call::<C>(&()).await {
                    Ok(fresh) => {
                        let synced = !fresh.offline;
                        badge.set(fresh);
                        error.set(None);
                        if synced {
                            on_synced.emit(());
                        }
                    }
                    Err(e) => {
                        on_error.emit(e.clone());
                        error.set(Some(e));
                    }
                }
                busy.set(false);
            });
        })
    }
    let sync_now = run::<SyncNow>(&ctx, &badge, &error, &busy, &props.on_synced);
    let send_again = run::<RetryHeldBack>(&ctx, &badge, &error, &busy, &props.on_synced);
    let tone = match badge.tone() {
        Tone::Good => "ds-sync--good",
        Tone::Waiting => "ds-sync--waiting",
        Tone::Problem => "ds-sync--problem",
    };
    html! {
        <div class={classes!("ds-sync", tone)} role="status" aria-live="polite">
            <span class="ds-sync__text" id="sync-status">{ badge.headline(chrono::Utc::now()) }</span>
            <button type="button" class="nhsuk-button nhsuk-button--secondary ds-sync__button" onclick={sync_now} disabled={*busy}>
                { if *busy { "Syncing…" } else { "Sync now" } }
            </button>
            if !badge.held_back.is_empty() {
                <div class="ds-sync__held">
                    <p class="nhsuk-body-s">{"Tell the office. Once they have fixed it, press \"Send again\"."}</p>
                    <ul class="nhsuk-list nhsuk-list--bullet nhsuk-body-s" id="held-back">
                        { for badge.held_back.iter().map(|(what, why)| html! { <li><strong>{ what.clone() }</strong>{ format!(": {why}.") }</li> }) }
                    </ul>
                    <button type="button" class="nhsuk-button nhsuk-button--secondary ds-sync__button" id="send-again" onclick={send_again} disabled={*busy}>
                        {"Send again"}
                    </button>
                </div>
            }
            <ErrorMessage error={(*error).clone()} />
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct BackProps {
    pub to: Route,
    pub label: AttrValue,
}

#[component]
pub fn BackLink(props: &BackProps) -> Html {
    let ctx = use_context::<Ctx>().expect("inside the app context");
    let onclick = {
        let (go, to) = (ctx.go.clone(), props.to.clone());
        Callback::from(move |_: MouseEvent| go.emit(to.clone()))
    };
    html! {
        <div class="nhsuk-back-link">
            <button type="button" class="nhsuk-back-link__link ds-back" {onclick}>{ props.label.clone() }</button>
        </div>
    }
}

/// The value of the input or textarea an event came from.
pub fn input_value(e: &InputEvent) -> String {
    use wasm_bindgen::JsCast;
    let Some(target) = e.target() else { return String::new() };
    if let Some(input) = target.dyn_ref::<web_sys::HtmlInputElement>() {
        return input.value();
    }
    target.dyn_ref::<web_sys::HtmlTextAreaElement>().map(|t| t.value()).unwrap_or_default()
}

pub fn select_value(e: &Event) -> String {
    use wasm_bindgen::JsCast;
    e.target().and_then(|t| t.dyn_into::<web_sys::HtmlSelectElement>().ok()).map(|s| s.value()).unwrap_or_default()
}

#[derive(Properties, PartialEq)]
pub struct PlanProps {
    pub plan: doorstep_model::CarePlan,
    /// The element's id: the plan shows on the visit and again inside the advice card.
    #[prop_or(AttrValue::Static("plan"))]
    pub id: AttrValue,
}

/// The person's plan for when they become unwell, as the office noted it, with the rule that
/// it never stops a 999 call.
#[component]
pub fn PlanNote(props: &PlanProps) -> Html {
    let plan = &props.plan;
    let names = use_staff_names();
    html! {
        <div class="nhsuk-inset-text ds-plan" id={props.id.clone()}>
            <span class="nhsuk-u-visually-hidden">{"Information: "}</span>
            <p><strong>{ format!("{}: ", plan.kind.label()) }</strong>{ plan.summary.clone() }</p>
            <p>{"Follow their plan. If you think they need 999, phone 999: a plan never stops you."}</p>
            <p class="nhsuk-body-s">{ format!("Noted by {} on {}.", names.label(plan.recorded_by.as_str()), crate::format::when(plan.recorded_at)) }</p>
        </div>
    }
}
