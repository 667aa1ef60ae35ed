//! First run: enrol this device with the code a manager gave, and choose a PIN.

use doorstep_commands::{
    AppError, Enrol as EnrolCommand, EnrolArgs, ErrorCode, MAX_PIN_DIGITS, MIN_PIN_DIGITS, Session,
};
use yew::platform::spawn_local;
use yew::prelude::*;

use crate::invoke::call;
use crate::widgets::{ErrorMessage, input_value};

#[derive(Properties, PartialEq)]
pub struct Props {
    pub on_done: Callback<Session>,
}

#[component]
pub fn Enrol(props: &Props) -> Html {
    let hub = use_state(String::new);
    let code = use_state(String::new);
    let name = use_state(String::new);
    let pin = use_state(String::new);
    let pin_again = use_state(String::new);
    let certificate = use_state(String::new);
    let error = use_state(|| None::<AppError>);
    // The PINs differ: the summary links to the second one.
    let mismatch = use_state(|| false);
    let busy = use_state(|| false);
    let field = |state: &UseStateHandle<String>| {
        let state = state.clone();
        Callback::from(move |e: InputEvent| state.set(input_value(&e)))
    };
    let onsubmit = {
        let (hub, code, name, pin, pin_again, certificate, error, busy, on_done) = (
            hub.clone(),
            code.clone(),
            name.clone(),
            pin.clone(),
            pin_again.clone(),
            certificate.clone(),
            error.clone(),
            busy.clone(),
            props.on_done.clone(),
        );
        let mismatch = mismatch.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            mismatch.set(*pin != *pin_again);
            if *pin != *pin_again {
                error.set(Some(AppError::new(
                    ErrorCode::Invalid,
                    "The two PINs are different. Type the same PIN twice.",
                )));
                return;
            }
            let args = EnrolArgs {
                hub_url: (*hub).trim().to_string(),
                code: (*code).trim().to_string(),
                device_name: (*name).trim().to_string(),
                pin: (*pin).clone(),
                hub_certificate: Some((*certificate).trim().to_string()).filter(|c| !c.is_empty()),
            };
            let (error, busy, on_done) = (error.clone(), busy.clone(), on_done.clone());
            busy.set(true);
            spawn_local(async move {
                match call::<EnrolCommand>(&args).await {
                    Ok(session) => on_done.emit(session),
                    Err(e) => error.set(Some(e)),
                }
                busy.set(false);
            });
        })
    };
    html! {
        <div class="nhsuk-width-container">
            <main class="nhsuk-main-wrapper ds-narrow" id="maincontent">
                <h1>{"Set up Doorstep on this device"}</h1>
                <p class="nhsuk-body-l">{"Your manager will give you the hub address and a one-time code."}</p>
                <ErrorMessage error={(*error).clone()} field={mismatch.then_some(AttrValue::Static("pin-again"))} />
                <form {onsubmit} novalidate=true>
                    <div class="nhsuk-form-group">
                        <label class="nhsuk-label" for="hub">{"Hub address"}</label>
                        <div class="nhsuk-hint" id="hub-hint">{"For example https://hub.sunrisecare.example"}</div>
                        <input class="nhsuk-input" id="hub" type="url" autocomplete="url" aria-describedby="hub-hint"
                            value={(*hub).clone()} oninput={field(&hub)} />
                    </div>
                    <div class="nhsuk-form-group">
                        <label class="nhsuk-label" for="code">{"One-time code"}</label>
                        <div class="nhsuk-hint" id="code-hint">{"12 letters and numbers, like KD7M-3QXA-9PLR"}</div>
                        <input class="nhsuk-input nhsuk-input--width-20" id="code" autocomplete="one-time-code"
                            aria-describedby="code-hint" value={(*code).clone()} oninput={field(&code)} />
                    </div>
                    <div class="nhsuk-form-group">
                        <label class="nhsuk-label" for="device-name">{"Name for this device"}</label>
                        <div class="nhsuk-hint" id="name-hint">{"So the office knows it, for example Sam's tablet"}</div>
                        <input class="nhsuk-input" id="device-name" aria-describedby="name-hint"
                            value={(*name).clone()} oninput={field(&name)} />
                    </div>
                    <div class="nhsuk-form-group">
                        <label class="nhsuk-label" for="pin">{"Choose a PIN"}</label>
                        <div class="nhsuk-hint" id="pin-hint">
                            { format!("{MIN_PIN_DIGITS} to {MAX_PIN_DIGITS} numbers that are not easy to guess: not \
                                       counting up or down like 123456, and not a repeat like 121212. You will use \
                                       it to open Doorstep.") }
                        </div>
                        <input class="nhsuk-input nhsuk-input--width-10" id="pin" type="password" inputmode="numeric"
                            autocomplete="new-password" aria-describedby="pin-hint" value={(*pin).clone()} oninput={field(&pin)} />
                    </div>
                    <div class="nhsuk-form-group">
                        <label class="nhsuk-label" for="pin-again">{"Type the PIN again"}</label>
                        <input class="nhsuk-input nhsuk-input--width-10" id="pin-again" type="password" inputmode="numeric"
                            autocomplete="new-password" value={(*pin_again).clone()} oninput={field(&pin_again)} />
                    </div>
                    <details class="nhsuk-details">
                        <summary class="nhsuk-details__summary">
                            <span class="nhsuk-details__summary-text">{"My manager gave me a certificate fingerprint"}</span>
                        </summary>
                        <div class="nhsuk-details__text">
                            <div class="nhsuk-form-group">
                                <label class="nhsuk-label" for="hub-certificate">{"Certificate fingerprint (optional)"}</label>
                                <div class="nhsuk-hint" id="hub-certificate-hint">
                                    {"Only if your manager gave you one. Copy it exactly: 64 letters and numbers, \
                                      usually in pairs with colons, like AB:CD:12:… This device will then only \
                                      talk to your organisation's hub."}
                                </div>
                                <input class="nhsuk-input" id="hub-certificate" aria-describedby="hub-certificate-hint"
                                    autocomplete="off" autocapitalize="characters" spellcheck="false"
                                    value={(*certificate).clone()} oninput={field(&certificate)} />
                            </div>
                        </div>
                    </details>
                    <button class="nhsuk-button ds-wide" type="submit" id="enrol" disabled={*busy}>
                        { if *busy { "Setting up…" } else { "Set up this device" } }
                    </button>
                </form>
            </main>
        </div>
    }
}
