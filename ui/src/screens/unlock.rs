//! The PIN screen: a big keypad that works with gloves on.

use doorstep_commands::{AppError, MAX_PIN_DIGITS, Session, Unlock as UnlockCommand, UnlockArgs};
use yew::platform::spawn_local;
use yew::prelude::*;

use crate::invoke::call;
use crate::widgets::ErrorMessage;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub session: Session,
    pub on_done: Callback<Session>,
}

#[component]
pub fn Unlock(props: &Props) -> Html {
    let pin = use_state(String::new);
    let error = use_state(|| None::<AppError>);
    let submit = {
        let (pin, error, on_done) = (pin.clone(), error.clone(), props.on_done.clone());
        Callback::from(move |()| {
            let attempt = UnlockArgs { pin: (*pin).clone() };
            let (pin, error, on_done) = (pin.clone(), error.clone(), on_done.clone());
            spawn_local(async move {
                match call::<UnlockCommand>(&attempt).await {
                    Ok(session) => on_done.emit(session),
                    Err(e) => {
                        error.set(Some(e));
                        pin.set(String::new());
                    }
                }
            });
        })
    };
    let key = |digit: &'static str| {
        let pin = pin.clone();
        let onclick = Callback::from(move |_: MouseEvent| {
            if pin.len() < MAX_PIN_DIGITS {
                pin.set(format!("{}{digit}", *pin));
            }
        });
        html! { <button type="button" class="ds-key" aria-label={digit} {onclick}>{digit}</button> }
    };
    let clear = {
        let pin = pin.clone();
        Callback::from(move |_: MouseEvent| pin.set(String::new()))
    };
    let ok = {
        let submit = submit.clone();
        Callback::from(move |_: MouseEvent| submit.emit(()))
    };
    let who = props.session.signed_in_as();
    html! {
        <div class="nhsuk-width-container">
            <main class="nhsuk-main-wrapper ds-narrow ds-centre" id="maincontent">
                <h1>{"Enter your PIN"}</h1>
                if who.is_empty() {
                    <p class="nhsuk-body-l">{"Doorstep is locked."}</p>
                } else {
                    <p class="nhsuk-body-l">{ format!("Doorstep is locked. Signed in as {who}.") }</p>
                }
                <ErrorMessage error={(*error).clone()} />
                // Said before any attempt too: after a restart the count is still there.
                if let Some(left) = props.session.pin_tries_left.filter(|_| error.is_none()) {
                    <div class="nhsuk-warning-callout" id="pin-tries-left" role="status">
                        <h2 class="nhsuk-warning-callout__label">{"Important"}</h2>
                        <p>{ format!(
                            "{left} {} before this tablet deletes its records. If you have forgotten your PIN, ring the office.",
                            if left == 1 { "try left" } else { "tries left" }
                        ) }</p>
                    </div>
                }
                <div class={classes!("ds-pin", pin.is_empty().then_some("ds-pin--empty"))} aria-live="polite" id="pin-dots">
                    { if pin.is_empty() { "No numbers entered".to_string() } else { "●".repeat(pin.len()) } }
                </div>
                <div class="ds-keypad">
                    { for ["1", "2", "3", "4", "5", "6", "7", "8", "9"].into_iter().map(key) }
                    <button type="button" class="ds-key ds-key--small" onclick={clear}>{"Clear"}</button>
                    { key("0") }
                    <button type="button" class="ds-key ds-key--go" id="unlock" onclick={ok}>{"Open"}</button>
                </div>
            </main>
        </div>
    }
}
