//! A typed wrapper over Tauri's `invoke`: the command's name, argument and answer types all come
//! from `doorstep-commands`, so the UI and the shell cannot disagree about them.

use doorstep_commands::{ARG_NAME, AppError, Command, ErrorCode};
use serde::Serialize;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = ["window", "__TAURI_INTERNALS__"], js_name = invoke, catch)]
    pub(crate) async fn tauri_invoke(cmd: &str, args: JsValue) -> Result<JsValue, JsValue>;
}

/// Calls command `C` in the shell.
pub async fn call<C: Command>(args: &C::Args) -> Result<C::Output, AppError> {
    let serializer = serde_wasm_bindgen::Serializer::json_compatible();
    let payload = js_sys::Object::new();
    let value = args.serialize(&serializer).map_err(|e| internal(format!("could not send {}: {e}", C::NAME)))?;
    js_sys::Reflect::set(&payload, &JsValue::from_str(ARG_NAME), &value)
        .map_err(|_| internal(format!("could not send {}", C::NAME)))?;
    match tauri_invoke(C::NAME, payload.into()).await {
        Ok(answer) => serde_wasm_bindgen::from_value(answer)
            .map_err(|e| internal(format!("could not read the answer to {}: {e}", C::NAME))),
        Err(error) => Err(serde_wasm_bindgen::from_value::<AppError>(error.clone())
            .unwrap_or_else(|_| internal(error.as_string().unwrap_or_else(|| format!("{error:?}"))))),
    }
}

fn internal(message: String) -> AppError {
    AppError::new(ErrorCode::Storage, message)
}
