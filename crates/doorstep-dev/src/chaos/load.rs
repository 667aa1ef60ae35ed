//! A bounded load probe on loopback: while a real device syncs, slow clients hold connections
//! open without finishing their headers, a device pushes a note far over the size limit, and a
//! stream of forged device tokens knocks. The hub must drop the slow clients at its header
//! deadline, hold the oversize note back without storing it, write a handful of audit rows for
//! hundreds of forged tokens, and keep syncing the real device promptly.

use std::time::{Duration, Instant};

use doorstep_model::policy::NOTE_TEXT_MOST;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::Ctx;
use crate::Result;

/// Connections that send half a request and wait.
const SLOW_CLIENTS: usize = 40;
/// Requests with well-formed tokens naming no device.
const FORGED: usize = 300;
/// The real device's syncs timed under that load.
const TIMED_SYNCS: usize = 40;
/// No slow client is waited for longer than this (the hub's header deadline is 10 s).
const GIVE_UP: Duration = Duration::from_secs(30);

#[derive(Debug, Default, Clone)]
pub struct LoadFigures {
    /// The longest the hub let a slow client hold a connection, in seconds.
    pub slow_clients_held_s: f64,
    pub oversize_held_back: u64,
    /// Audit rows written per forged token.
    pub audit_rows_per_forged: f64,
    /// The real device's sync round trips under load: 99th percentile, milliseconds.
    pub p99_ms: u64,
}

pub async fn run(ctx: &mut Ctx) -> Result<LoadFigures> {
    let mut figures = LoadFigures::default();
    let address = ctx.hub.address.clone();
    let url = ctx.hub.url.clone();

    // Slow clients: each connects, sends part of a request's headers and waits for the hub to
    // hang up.
    let slow: Vec<_> = (0..SLOW_CLIENTS)
        .map(|_| {
            let address = address.clone();
            tokio::spawn(async move {
                let started = Instant::now();
                let mut stream = tokio::net::TcpStream::connect(&address).await.map_err(|e| e.to_string())?;
                stream.write_all(b"POST /sync HTTP/1.1\r\nHost: hub\r\n").await.map_err(|e| e.to_string())?;
                let mut buf = [0u8; 512];
                // The hub answers (408) or closes: either way the connection is over.
                let _ = tokio::time::timeout(GIVE_UP, async {
                    while let Ok(n) = stream.read(&mut buf).await {
                        if n == 0 {
                            break;
                        }
                    }
                })
                .await;
                Ok::<f64, String>(started.elapsed().as_secs_f64())
            })
        })
        .collect();

    // Forged tokens, at the same time: counted before and after in the hub's audit log.
    let audit_before = audit_rows(&ctx.hub_db)?;
    let forged = tokio::spawn(async move {
        let client = reqwest::Client::new();
        for _ in 0..FORGED {
            let token = format!("ds1.{}.{}", uuid::Uuid::new_v4(), uuid::Uuid::new_v4().simple());
            let _ = client.post(format!("{url}/sync")).bearer_auth(token).body("{}").send().await;
        }
    });

    // The real device: a visit, then a note edited and synced again and again, each timed.
    let device_path = ctx.dir.path().join("load.db");
    let device = ctx.device(&device_path, "load").await?;
    let visit = ctx.visit(15);
    device.store.lock().await.put(&visit).map_err(|e| e.to_string())?;
    let mut note =
        doorstep_model::VisitNote::new(doorstep_model::NoteId::for_visit(visit.id), visit.id, visit.person_id);
    let mut timings = Vec::with_capacity(TIMED_SYNCS);
    for n in 0..TIMED_SYNCS {
        note.narrative.push_str(&format!("[load {n}] "));
        device.store.lock().await.put(&note).map_err(|e| e.to_string())?;
        let started = Instant::now();
        device.sync().await.map_err(|e| format!("the real device's sync under load: {e}"))?;
        timings.push(started.elapsed().as_millis() as u64);
    }
    timings.sort_unstable();
    figures.p99_ms = timings.get((timings.len() * 99).div_ceil(100).saturating_sub(1)).copied().unwrap_or(0);

    // An oversize note: held back with its reason, never stored.
    let other = ctx.visit(16);
    let mut huge =
        doorstep_model::VisitNote::new(doorstep_model::NoteId::for_visit(other.id), other.id, other.person_id);
    huge.narrative = "x".repeat(NOTE_TEXT_MOST * 4);
    device.store.lock().await.put(&other).map_err(|e| e.to_string())?;
    device.store.lock().await.put(&huge).map_err(|e| e.to_string())?;
    let report = device.sync().await.map_err(|e| format!("pushing the oversize note: {e}"))?;
    figures.oversize_held_back = report.held_back as u64;
    let stored = stored_documents(&ctx.hub_db, &huge.id.0.to_string())?;
    if stored > 0 {
        ctx.problem("the hub stored a note over the size limit".into());
    }

    forged.await.map_err(|e| e.to_string())?;
    let audit_after = audit_rows(&ctx.hub_db)?;
    figures.audit_rows_per_forged = (audit_after - audit_before) as f64 / FORGED as f64;
    for handle in slow {
        let held = handle.await.map_err(|e| e.to_string())??;
        figures.slow_clients_held_s = figures.slow_clients_held_s.max(held);
    }
    println!(
        "load: {SLOW_CLIENTS} slow clients dropped after at most {:.1} s; {FORGED} forged tokens wrote {} audit rows; \
         oversize note held back {} time(s); the real device's syncs p99 {} ms",
        figures.slow_clients_held_s,
        audit_after - audit_before,
        figures.oversize_held_back,
        figures.p99_ms
    );
    if figures.slow_clients_held_s >= GIVE_UP.as_secs_f64() {
        ctx.problem("slow clients were never dropped".into());
    }
    if figures.oversize_held_back == 0 {
        ctx.problem("the oversize note was not held back".into());
    }
    if figures.audit_rows_per_forged > 0.1 {
        ctx.problem(format!("forged tokens wrote {:.2} audit rows each", figures.audit_rows_per_forged));
    }
    Ok(figures)
}

fn audit_rows(db: &std::path::Path) -> Result<i64> {
    let conn = rusqlite::Connection::open(db).map_err(|e| format!("{}: {e}", db.display()))?;
    conn.query_row("SELECT COUNT(*) FROM audit_log", [], |r| r.get(0)).map_err(|e| e.to_string())
}

fn stored_documents(db: &std::path::Path, id: &str) -> Result<i64> {
    let conn = rusqlite::Connection::open(db).map_err(|e| format!("{}: {e}", db.display()))?;
    conn.query_row("SELECT COUNT(*) FROM documents WHERE id = ?1", [id], |r| r.get(0)).map_err(|e| e.to_string())
}
