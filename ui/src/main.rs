//! Doorstep's UI: yew components in the Tauri webview. Every read and write goes through the
//! shell's commands ([`invoke::call`]); the UI keeps no care records of its own.

mod app;
mod events;
mod format;
mod invoke;
mod screens;
mod widgets;

fn main() {
    yew::Renderer::<app::App>::new().render();
}
