// Starts the UI: wasm-bindgen's glue loads the yew app's wasm, which then draws into <body>.
import init from "/doorstep-ui.js";

init({ module_or_path: "/doorstep-ui_bg.wasm" });
