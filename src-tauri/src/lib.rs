//! Doorstep's app shell. It opens the device core in the platform's app-data folder, starts
//! background sync, and exposes the core's methods as Tauri commands (see `commands.rs`); the
//! UI is the yew app in `ui/`, served from the binary.
//!
//! For `cargo xtask run` and the end-to-end tests, `--data-dir FOLDER` (or `DOORSTEP_DATA_DIR`)
//! puts the store elsewhere, `DOORSTEP_LOCK_AFTER_SECS` changes the inactivity lock and
//! `DOORSTEP_SYNC_EVERY_SECS` how often background sync runs.

mod commands;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use doorstep_device::{Device, LOCK_AFTER};
use tauri::{Emitter, Manager};

/// The store's file name inside the data folder.
const STORE_FILE: &str = "doorstep.db";

#[cfg_attr(mobile, tauri::mobile_entry_point)]
pub fn run() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "doorstep=info,warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let outcome = tauri::Builder::default()
        .setup(|app| {
            let dir = match data_dir_argument().or_else(|| std::env::var_os("DOORSTEP_DATA_DIR").map(PathBuf::from)) {
                Some(dir) => dir,
                None => app.path().app_data_dir()?,
            };
            std::fs::create_dir_all(&dir)?;
            let lock_after = std::env::var("DOORSTEP_LOCK_AFTER_SECS")
                .ok()
                .and_then(|s| s.parse().ok())
                .map(Duration::from_secs)
                .unwrap_or(LOCK_AFTER);
            let mut device = Device::open(dir.join(STORE_FILE), lock_after)
                .map_err(|e| format!("cannot open the store in {}: {e}", dir.display()))?;
            if let Some(every) =
                std::env::var("DOORSTEP_SYNC_EVERY_SECS").ok().and_then(|s| s.parse().ok()).map(Duration::from_secs)
            {
                device = device.with_sync_every(every);
            }
            let device = Arc::new(device);
            tracing::info!(data = %dir.display(), "Doorstep started");
            let background = device.clone();
            tauri::async_runtime::spawn(async move { background.start_sync().await });
            // Records a sync brought in: the open screen reloads what merged (ui/src/events.rs).
            let mut arrivals = device.arrivals();
            let handle = app.handle().clone();
            tauri::async_runtime::spawn(async move {
                while arrivals.changed().await.is_ok() {
                    let count = *arrivals.borrow_and_update();
                    if let Err(e) = handle.emit(doorstep_commands::RECORDS_ARRIVED, count) {
                        tracing::warn!(error = %e, "could not tell the screen that records arrived");
                    }
                }
            });
            app.manage(device);
            Ok(())
        })
        .invoke_handler(commands::handler())
        .run(tauri::generate_context!());
    if let Err(e) = outcome {
        eprintln!("Doorstep could not start: {e}");
        std::process::exit(1);
    }
}

/// `--data-dir FOLDER` from the command line, if given.
fn data_dir_argument() -> Option<PathBuf> {
    let mut args = std::env::args_os().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--data-dir" {
            return args.next().map(PathBuf::from);
        }
    }
    None
}
