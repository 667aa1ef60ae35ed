//! The provider's directory: the office's numbers, the area's community services and staff names.
//! Managers keep it; carers read it (it is on their tablet, so it works with no signal).

use doorstep_commands::{AppError, DirectoryScreen, EditDirectory, EditDirectoryArgs, GetDirectory};
use doorstep_model::{AreaService, Directory, ServiceKind, StaffId, StaffMember};
use yew::prelude::*;

use crate::app::Ctx;
use crate::widgets::{
    BackLink, ErrorMessage, Load, TextBox, act, field_error, input_value, loading_or_failed, problem_with,
    select_value, text_field, use_command,
};

#[component]
pub fn DirectoryPage() -> Html {
    let ctx = use_context::<Ctx>().expect("inside the app context");
    let (loaded, reload) = use_command::<GetDirectory>(());
    let Load::Ready(screen) = &*loaded else { return loading_or_failed(&loaded) };
    html! {
        <>
            <BackLink to={ctx.home()} label="Back to today" />
            if screen.may_edit {
                <h1 class="ds-title">{"Directory: numbers and names"}</h1>
                <p class="nhsuk-body-l">{"Carers' tablets hold these numbers, so they can phone from a home with no signal. The advice card offers them in this order: the person's GP, the area's urgent team, 111, then the office."}</p>
                // Keyed on the version: a save or a sync starts the form again from what is stored.
                <DirectoryForm key={screen.version.0.join(",")} screen={screen.clone()} on_saved={reload.clone()} />
            } else {
                <h1 class="ds-title">{"Phone numbers"}</h1>
                <Numbers directory={screen.directory.clone()} />
            }
        </>
    }
}

#[derive(Properties, PartialEq)]
struct NumbersProps {
    directory: Directory,
}

/// What a carer sees: every number as a big link to dial.
#[component]
fn Numbers(props: &NumbersProps) -> Html {
    let d = &props.directory;
    let row = |name: &str, number: &str, why: &str| {
        let dial: String = number.chars().filter(|c| c.is_ascii_digit() || *c == '+').collect();
        html! {
            <li>
                <a class="ds-phone-link" href={format!("tel:{dial}")}>
                    <span class="ds-phone-link__name">{ name.to_string() }</span>
                    <span class="ds-phone-link__number">{ number.to_string() }</span>
                </a>
                if !why.is_empty() { <span class="nhsuk-hint ds-phone-link__why">{ why.to_string() }</span> }
            </li>
        }
    };
    html! {
        <>
            <ul class="nhsuk-list ds-phone-list" id="numbers">
                { row("999", "999", "Ambulance: give the address first") }
                if !d.office_phone.trim().is_empty() { { row("The office", &d.office_phone, &d.office_hours) } }
                if !d.on_call_phone.trim().is_empty() { { row("The manager on call", &d.on_call_phone, "When the office is closed") } }
                { for d.services.iter().map(|s| {
                    let covers = if s.districts.is_empty() { "the whole area".to_string() } else { s.districts.join(", ") };
                    row(&s.name, &s.phone, &format!("{}. {}. Covers {covers}.", s.kind.label(), s.hours))
                }) }
                { row("NHS 111", "111", "Always there, day and night") }
            </ul>
            if d.office_phone.trim().is_empty() {
                <p class="nhsuk-body">{"The office's numbers have not reached this tablet yet. They come with the next sync."}</p>
            }
        </>
    }
}

#[derive(Properties, PartialEq)]
struct FormProps {
    screen: DirectoryScreen,
    on_saved: Callback<()>,
}

/// The manager's form: one save sends the whole form, made against the version it showed.
#[component]
fn DirectoryForm(props: &FormProps) -> Html {
    let ctx = use_context::<Ctx>().expect("inside the app context");
    let d = &props.screen.directory;
    let office_phone = use_state(|| d.office_phone.clone());
    let office_hours = use_state(|| d.office_hours.clone());
    let on_call_phone = use_state(|| d.on_call_phone.clone());
    let services = use_state(|| d.services.clone());
    let staff = use_state(|| {
        let mut all = d.staff.clone();
        all.extend(props.screen.unnamed_staff.iter().map(|r| StaffMember {
            reference: StaffId::new(r.clone()),
            display_name: String::new(),
            phone: String::new(),
        }));
        all
    });
    let error = use_state(|| None::<AppError>);
    let saved = use_state(|| false);

    let text = |state: &UseStateHandle<String>| {
        let state = state.clone();
        Callback::from(move |e: InputEvent| state.set(input_value(&e)))
    };
    let save = {
        let (ctx, error, saved, on_saved) = (ctx.clone(), error.clone(), saved.clone(), props.on_saved.clone());
        let args = EditDirectoryArgs {
            base: props.screen.version.clone(),
            office_phone: (*office_phone).clone(),
            office_hours: (*office_hours).clone(),
            on_call_phone: (*on_call_phone).clone(),
            services: (*services).clone(),
            staff: (*staff).clone(),
        };
        Callback::from(move |_: MouseEvent| {
            let (saved, on_saved) = (saved.clone(), on_saved.clone());
            act::<EditDirectory>(&ctx, args.clone(), error.clone(), move |_| {
                saved.set(true);
                on_saved.emit(());
            });
        })
    };
    // The field the device found a problem with (named as in `EditDirectoryArgs`), as the
    // error summary links to it: a service is fixed by removing it and adding it again.
    let at_fault = error.as_ref().and_then(|e| e.field.as_deref()).map(|arg| match arg {
        "office_phone" => "office-phone".to_string(),
        "office_hours" => "office-hours".to_string(),
        "on_call_phone" => "on-call-phone".to_string(),
        other => match other.strip_prefix("services.") {
            Some(i) => format!("service-{i}-remove"),
            None => {
                let staff = other.trim_start_matches("staff.");
                match staff.strip_suffix(".phone") {
                    Some(reference) => format!("staff-phone-{reference}"),
                    None => format!("staff-{staff}"),
                }
            }
        },
    });
    let service_row = |(i, s): (usize, &AreaService)| {
        let problem = problem_with(&error, &format!("services.{i}")).map(str::to_string);
        let services = services.clone();
        let remove = Callback::from(move |_: MouseEvent| {
            let mut list = (*services).clone();
            list.remove(i);
            services.set(list);
        });
        let covers = if s.districts.is_empty() { "Whole area".to_string() } else { s.districts.join(", ") };
        html! {
            <tr class="nhsuk-table__row">
                <td class="nhsuk-table__cell">
                    { s.name.clone() }<br /><span class="nhsuk-hint">{ s.kind.label() }</span>
                    { field_error(&format!("service-{i}"), problem.as_deref()) }
                </td>
                <td class="nhsuk-table__cell">{ s.phone.clone() }</td>
                <td class="nhsuk-table__cell">{ s.hours.clone() }</td>
                <td class="nhsuk-table__cell">{ covers }</td>
                <td class="nhsuk-table__cell">
                    <button type="button" class="nhsuk-button nhsuk-button--secondary" id={format!("service-{i}-remove")} onclick={remove}
                        aria-label={format!("Remove {}", s.name)}>{"Remove"}</button>
                </td>
            </tr>
        }
    };
    // One row's field: edits member `i` of the list with what was typed.
    let edit_member = |i: usize, set: fn(&mut StaffMember, String)| {
        let staff = staff.clone();
        Callback::from(move |e: InputEvent| {
            let mut list = (*staff).clone();
            if let Some(member) = list.get_mut(i) {
                set(member, input_value(&e));
            }
            staff.set(list);
        })
    };
    let staff_row = |(i, m): (usize, &StaffMember)| {
        let id = format!("staff-{}", m.reference.as_str());
        let oninput = edit_member(i, |m, v| m.display_name = v);
        let phone_id = format!("staff-phone-{}", m.reference.as_str());
        let on_phone = edit_member(i, |m, v| m.phone = v);
        let name_problem = problem_with(&error, &format!("staff.{}", m.reference.as_str()));
        let phone_problem = problem_with(&error, &format!("staff.{}.phone", m.reference.as_str()));
        html! {
            <tr class="nhsuk-table__row">
                <td class="nhsuk-table__cell"><label for={id.clone()}>{ m.reference.as_str().to_string() }</label></td>
                <td class={classes!("nhsuk-table__cell", name_problem.map(|_| "nhsuk-form-group--error"))}>
                    { field_error(&id, name_problem) }
                    <input class={classes!("nhsuk-input", name_problem.map(|_| "nhsuk-input--error"))} id={id.clone()} type="text" autocomplete="off"
                        value={m.display_name.clone()} {oninput} aria-describedby={name_problem.map(|_| format!("{id}-error"))} />
                </td>
                <td class={classes!("nhsuk-table__cell", phone_problem.map(|_| "nhsuk-form-group--error"))}>
                    { field_error(&phone_id, phone_problem) }
                    <input class={classes!("nhsuk-input", phone_problem.map(|_| "nhsuk-input--error"))} id={phone_id.clone()} type="tel" autocomplete="off"
                        value={m.phone.clone()} oninput={on_phone} aria-label={format!("Work phone of {}", m.reference.as_str())}
                        aria-describedby={phone_problem.map(|_| format!("{phone_id}-error"))} />
                </td>
            </tr>
        }
    };
    html! {
        <>
            <ErrorMessage error={(*error).clone()} field={at_fault.map(AttrValue::from)} />
            if *saved { <div class="nhsuk-inset-text" role="status"><p>{"Saved. Tablets get the change at their next sync."}</p></div> }
            <h2>{"The office"}</h2>
            { text_field("office-phone", "Office phone number", None, &office_phone, text(&office_phone), TextBox::Phone, problem_with(&error, "office_phone")) }
            { text_field("office-hours", "When the office is open", Some("Like: Monday to Friday, 8am to 6pm"), &office_hours, text(&office_hours),
                TextBox::Line, problem_with(&error, "office_hours")) }
            { text_field("on-call-phone", "On-call manager's number (when the office is closed)", None, &on_call_phone, text(&on_call_phone),
                TextBox::Phone, problem_with(&error, "on_call_phone")) }

            <h2>{"Community services in your area"}</h2>
            if services.is_empty() {
                <p>{"None yet. Add your area's urgent community response team first: it is offered after the GP when someone needs seeing now."}</p>
            } else {
                <table class="nhsuk-table" id="services">
                    <thead class="nhsuk-table__head"><tr class="nhsuk-table__row">
                        <th class="nhsuk-table__header" scope="col">{"Service"}</th>
                        <th class="nhsuk-table__header" scope="col">{"Phone"}</th>
                        <th class="nhsuk-table__header" scope="col">{"Hours"}</th>
                        <th class="nhsuk-table__header" scope="col">{"Covers"}</th>
                        <th class="nhsuk-table__header" scope="col"><span class="nhsuk-u-visually-hidden">{"Remove"}</span></th>
                    </tr></thead>
                    <tbody class="nhsuk-table__body">{ for services.iter().enumerate().map(service_row) }</tbody>
                </table>
            }
            <AddService services={services.clone()} />

            <h2>{"Staff names"}</h2>
            <p>{"The name a carer gives on the phone and colleagues see. Staff on the rota without a name are listed with an empty box."}</p>
            <table class="nhsuk-table" id="staff">
                <thead class="nhsuk-table__head"><tr class="nhsuk-table__row">
                    <th class="nhsuk-table__header" scope="col">{"Staff reference"}</th>
                    <th class="nhsuk-table__header" scope="col">{"Name"}</th>
                    <th class="nhsuk-table__header" scope="col">{"Work phone"}</th>
                </tr></thead>
                <tbody class="nhsuk-table__body">{ for staff.iter().enumerate().map(staff_row) }</tbody>
            </table>
            <button type="button" class="nhsuk-button ds-wide" id="save-directory" onclick={save}>{"Save the directory"}</button>
        </>
    }
}

#[derive(Properties, PartialEq)]
struct AddProps {
    services: UseStateHandle<Vec<AreaService>>,
}

#[component]
fn AddService(props: &AddProps) -> Html {
    let kind = use_state(|| ServiceKind::UrgentCommunityResponse);
    let name = use_state(String::new);
    let phone = use_state(String::new);
    let hours = use_state(String::new);
    let districts = use_state(String::new);
    let text = |state: &UseStateHandle<String>| {
        let state = state.clone();
        Callback::from(move |e: InputEvent| state.set(input_value(&e)))
    };
    let on_kind = {
        let kind = kind.clone();
        Callback::from(move |e: Event| {
            if let Some(k) = ServiceKind::from_code(&select_value(&e)) {
                kind.set(k);
            }
        })
    };
    let add = {
        let (services, kind, name, phone, hours, districts) =
            (props.services.clone(), kind.clone(), name.clone(), phone.clone(), hours.clone(), districts.clone());
        Callback::from(move |_: MouseEvent| {
            let mut list = (*services).clone();
            list.push(AreaService {
                // The device gives it an id when it is saved.
                id: String::new(),
                kind: *kind,
                name: (*name).clone(),
                phone: (*phone).clone(),
                hours: (*hours).clone(),
                districts: districts
                    .split([',', ' '])
                    .filter(|d| !d.trim().is_empty())
                    .map(|d| d.trim().to_string())
                    .collect(),
            });
            services.set(list);
            for field in [&name, &phone, &hours, &districts] {
                field.set(String::new());
            }
        })
    };
    html! {
        <details class="nhsuk-details">
            <summary class="nhsuk-details__summary"><span class="nhsuk-details__summary-text">{"Add a service"}</span></summary>
            <div class="nhsuk-details__text">
                <div class="nhsuk-form-group">
                    <label class="nhsuk-label" for="service-kind">{"What it is"}</label>
                    <select class="nhsuk-select" id="service-kind" onchange={on_kind}>
                        { for ServiceKind::ALL.into_iter().map(|k| html! { <option value={k.code()} selected={*kind == k}>{ k.label() }</option> }) }
                    </select>
                </div>
                <div class="nhsuk-form-group">
                    <label class="nhsuk-label" for="service-name">{"Name"}</label>
                    <input class="nhsuk-input" id="service-name" type="text" value={(*name).clone()} oninput={text(&name)} />
                </div>
                <div class="nhsuk-form-group">
                    <label class="nhsuk-label" for="service-phone">{"Phone number"}</label>
                    <input class="nhsuk-input nhsuk-input--width-20" id="service-phone" type="tel" value={(*phone).clone()} oninput={text(&phone)} />
                </div>
                <div class="nhsuk-form-group">
                    <label class="nhsuk-label" for="service-hours">{"Hours"}</label>
                    <input class="nhsuk-input" id="service-hours" type="text" value={(*hours).clone()} oninput={text(&hours)} />
                </div>
                <div class="nhsuk-form-group">
                    <label class="nhsuk-label" for="service-districts">{"Postcode districts it covers"}</label>
                    <div class="nhsuk-hint">{"The first part of the postcode, like NB1, NB2. Leave empty if it covers your whole area."}</div>
                    <input class="nhsuk-input" id="service-districts" type="text" value={(*districts).clone()} oninput={text(&districts)} />
                </div>
                <button type="button" class="nhsuk-button nhsuk-button--secondary" id="add-service" onclick={add}>{"Add to the list"}</button>
                <p class="nhsuk-hint">{"Then save the directory."}</p>
            </div>
        </details>
    }
}
