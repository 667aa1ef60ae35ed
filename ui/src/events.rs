//! Events the shell sends the screen (`doorstep_commands::RECORDS_ARRIVED`), through Tauri's
//! event plugin: the window may listen to events and never send them
//! (src-tauri/capabilities/default.json).

use js_sys::{Object, Reflect};
use wasm_bindgen::prelude::*;
use yew::platform::spawn_local;

use crate::invoke::tauri_invoke;

#[wasm_bindgen]
extern "C" {
    /// Registers a JavaScript function for the shell to call back, and answers its id.
    #[wasm_bindgen(js_namespace = ["window", "__TAURI_INTERNALS__"], js_name = transformCallback)]
    fn transform_callback(callback: &js_sys::Function, once: bool) -> f64;
}

/// Calls `on_event` with the payload of each `event` the shell sends, for as long as the app
/// runs: one listener per event, registered once by the app.
pub fn listen_forever(event: &'static str, on_event: impl Fn(JsValue) + 'static) {
    let callback = Closure::<dyn Fn(JsValue)>::new(move |message: JsValue| {
        on_event(Reflect::get(&message, &"payload".into()).unwrap_or(JsValue::NULL));
    });
    let handler = transform_callback(callback.as_ref().unchecked_ref(), false);
    // The app keeps listening until it closes, so the callback is never freed.
    callback.forget();
    spawn_local(async move {
        let target = Object::new();
        let args = Object::new();
        let registered = Reflect::set(&target, &"kind".into(), &"Any".into()).is_ok()
            && Reflect::set(&args, &"event".into(), &event.into()).is_ok()
            && Reflect::set(&args, &"target".into(), &target).is_ok()
            && Reflect::set(&args, &"handler".into(), &JsValue::from_f64(handler)).is_ok();
        if !registered || tauri_invoke("plugin:event|listen", args.into()).await.is_err() {
            // Screens still reload when the carer opens them; nothing is lost, only later seen.
            web_sys::console::warn_1(&format!("could not listen for {event}").into());
        }
    });
}
