//! Signing out of this device: only once everything has reached the office.

use doorstep_commands::{AppError, SignOut};
use yew::prelude::*;

use crate::app::Ctx;
use crate::widgets::{BackLink, ErrorMessage, act};

#[component]
pub fn Account() -> Html {
    let ctx = use_context::<Ctx>().expect("inside the app context");
    let error = use_state(|| None::<AppError>);
    let sign_out = {
        let (ctx, error) = (ctx.clone(), error.clone());
        Callback::from(move |_: MouseEvent| {
            let set_session = ctx.set_session.clone();
            act::<SignOut>(&ctx, (), error.clone(), move |session| set_session.emit(session));
        })
    };
    let who = ctx.session.signed_in_as();
    html! {
        <>
            <BackLink to={ctx.home()} label="Back to today" />
            <h1 class="ds-title">{"Sign out of this device"}</h1>
            <p class="nhsuk-body-l">{ format!("You are signed in as {who}.") }</p>
            <p>{"Signing out removes everyone's records from this device. Doorstep first sends anything not yet at the office; if it cannot, it stops and tells you, and nothing is deleted."}</p>
            <ErrorMessage error={(*error).clone()} />
            <button type="button" class="nhsuk-button nhsuk-button--warning" id="sign-out" onclick={sign_out}>{"Sign out and remove records"}</button>
        </>
    }
}
