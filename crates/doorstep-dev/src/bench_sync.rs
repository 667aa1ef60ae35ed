//! `cargo xtask bench sync`: many carers reconnect at once to one hub (a real `doorstep-hub`
//! process on SQLite, on 127.0.0.1) after an offline week.
//!
//! Workload: N carers (default 50) × M notes (default 56), each note about 1.5 KB of text built
//! by ~200 edits coalesced into ~20 saves, as the app's editor saves on a pause. All devices
//! reconnect at once; then 10% of the notes get one more edit and all reconnect again.
//! Prints a table and, last, `RESULT delta_bytes_ratio=… full_push_ratio=… round_trips=…
//! converge_s=… peer_converge_s=… hub_peak_rss_mb=… p99_ms=… lost=…`.
//!
//! Then the same workload runs against automerge-repo's sync server (`bench/peer`, Node.js) for
//! a side-by-side table (`--no-peer` skips it; `peer_converge_s=nan` then says so).

use std::io::Write;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Duration as Days;
use doorstep_demo::{Generator, at};
use doorstep_hub::api::issue_enrolment_code;
use doorstep_hub::sqlite::SqliteStorage;
use doorstep_hub::storage::{HubStorage, OrgKind, Organisation};
use doorstep_model::{NoteId, Person, StaffId, Visit, VisitNote};
use doorstep_protocol::Role;
use doorstep_store::Store;
use doorstep_sync::SyncClient;
use tokio::sync::Mutex;
use uuid::Uuid;

use crate::Result;
use crate::bench_peer::PeerFigures;

const PROVIDER: Uuid = Uuid::from_u128(0xbe7c_0000_0000_4000_8000_0000_0000_0001);
const PEOPLE_PER_CARER: usize = 8;

struct Device {
    store: Arc<Mutex<Store>>,
    client: SyncClient,
    visits: Vec<Visit>,
}

struct Phase {
    wall: Duration,
    per_device: Vec<Duration>,
    sent: usize,
    received: usize,
    round_trips: usize,
}

fn gzip_len(bytes: &[u8]) -> usize {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let _ = encoder.write_all(bytes);
    encoder.finish().map(|v| v.len()).unwrap_or(bytes.len())
}

fn percentile(samples: &[Duration], p: f64) -> Duration {
    let mut s = samples.to_vec();
    s.sort();
    let i = ((s.len() as f64 - 1.0) * p).round() as usize;
    s.get(i).copied().unwrap_or_default()
}

/// CPU seconds (user + system) a process has used, from /proc (Linux).
fn cpu_seconds(pid: u32) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { return f64::NAN };
    // Fields after the command name (which may contain spaces) start after the last ')'.
    let fields: Vec<&str> =
        stat.rsplit_once(')').map(|(_, rest)| rest.split_whitespace().collect()).unwrap_or_default();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(f64::NAN);
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the ')'.
    (ticks(11) + ticks(12)) / 100.0
}

/// Peak resident memory of a process, from /proc (Linux).
fn peak_rss_mb(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).map(str::to_string))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|kb| kb.parse::<f64>().ok()))
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

struct HubProcess(Child);

impl Drop for HubProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn hub_binary() -> Result<PathBuf> {
    crate::sibling("doorstep-hub")
}

async fn wait_for_health(url: &str) -> Result {
    let client = reqwest::Client::new();
    for _ in 0..200 {
        if let Ok(r) = client.get(format!("{url}/api/v1/health")).send().await
            && r.status().is_success()
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err(format!("the hub at {url} did not answer within 10 s"))
}

/// Types a note the way a carer does: ~200 small edits, saved every 10 (a pause).
fn type_note(store: &mut Store, visit: &Visit, generator_seed: u64) -> doorstep_store::Result<()> {
    let id = NoteId::for_visit(visit.id);
    store.put(&VisitNote::new(id, visit.id, visit.person_id))?;
    let words = [
        "Helped",
        "with",
        "a",
        "wash",
        "and",
        "dressing;",
        "ate",
        "most",
        "of",
        "breakfast",
        "and",
        "had",
        "tea.",
        "Chatted",
        "about",
        "the",
        "garden.",
        "Tablets",
        "taken",
        "with",
        "water.",
        "Skin",
        "intact,",
        "cream",
        "applied.",
        "Bins",
        "out,",
        "drink",
        "left",
        "in",
        "reach.",
    ];
    let mut n = generator_seed as usize;
    for _save in 0..20 {
        store.update::<VisitNote>(&id.to_string(), |note| {
            for _edit in 0..10 {
                note.narrative.push_str(words[n % words.len()]);
                note.narrative.push(' ');
                n += 7;
            }
            Ok(())
        })?;
    }
    Ok(())
}

async fn reconnect_all(devices: &[Device]) -> Result<Phase> {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for device in devices {
        let store = device.store.clone();
        let client = device.client.clone();
        tasks.push(tokio::spawn(async move {
            let t = Instant::now();
            let report = client.sync(&store, |_| {}).await;
            (t.elapsed(), report)
        }));
    }
    let mut phase = Phase { wall: Duration::ZERO, per_device: Vec::new(), sent: 0, received: 0, round_trips: 0 };
    for task in tasks {
        let (took, report) = task.await.map_err(|e| e.to_string())?;
        let report = report.map_err(|e| e.to_string())?;
        if !report.failed.is_empty() || report.held_back > 0 {
            return Err(format!("a device had records refused: {report:?}"));
        }
        phase.per_device.push(took);
        phase.sent += report.bytes_sent;
        phase.received += report.bytes_received;
        phase.round_trips = phase.round_trips.max(report.round_trips);
    }
    phase.wall = started.elapsed();
    Ok(phase)
}

pub fn sync(args: &[&str]) -> Result {
    let mut carers = 50usize;
    let mut with_peer = true;
    let mut notes = 56usize;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match *arg {
            "--carers" => carers = it.next().and_then(|v| v.parse().ok()).ok_or("--carers takes a number")?,
            "--notes" => notes = it.next().and_then(|v| v.parse().ok()).ok_or("--notes takes a number")?,
            "--no-peer" => with_peer = false,
            other => {
                return Err(format!(
                    "unknown option {other}\nusage: cargo xtask bench sync [--carers N] [--notes M] [--no-peer]"
                ));
            }
        }
    }
    crate::require_release("bench sync")?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|e| e.to_string())?;
    let ours = runtime.block_on(run(carers, notes))?;
    drop(runtime);
    let peer = if with_peer {
        eprintln!("peer: the same workload against automerge-repo's sync server (Node.js, bench/peer)");
        match crate::bench_peer::run_peer(carers, notes) {
            Ok(figures) => Some(figures),
            Err(e) => {
                eprintln!("peer: could not run: {e}");
                None
            }
        }
    } else {
        None
    };
    report(&ours, peer.as_ref());
    Ok(())
}

async fn run(carers: usize, notes_per_carer: usize) -> Result<Figures> {
    let text = |e: &dyn std::fmt::Display| e.to_string();
    let dir = tempfile::TempDir::new().map_err(|e| text(&e))?;
    let hub_db = dir.path().join("hub.db");

    // Codes for everyone, written before the hub process opens the file.
    let mut codes = Vec::new();
    {
        let storage = SqliteStorage::open(&hub_db).map_err(|e| text(&e))?;
        storage
            .create_organisation(Organisation {
                id: PROVIDER,
                name: "Bench Care".into(),
                kind: OrgKind::Provider,
                partner_kind: None,
            })
            .await
            .map_err(|e| text(&e))?;
        for i in 0..=carers {
            let (staff, role) =
                if i == carers { ("M001".to_string(), Role::Manager) } else { (format!("C{i:03}"), Role::Carer) };
            let code =
                issue_enrolment_code(&storage, PROVIDER, &staff, role, "bench").await.map_err(|e| format!("{e:?}"))?;
            codes.push((staff, role, code.code));
        }
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map_err(|e| text(&e))?.port();
    let url = format!("http://127.0.0.1:{port}");
    let binary = hub_binary()?;
    let child = Command::new(&binary)
        .args(["--database", &hub_db.to_string_lossy(), "serve", "--insecure-http-for-development"])
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
    let hub = HubProcess(child);
    wait_for_health(&url).await?;

    let enrol = |staff: String, code: String, path: PathBuf| {
        let url = url.clone();
        async move {
            let store = Arc::new(Mutex::new(Store::open(&path).map_err(|e| e.to_string())?));
            doorstep_sync::enrol(&store, &url, &code, &staff).await.map_err(|e| e.to_string())?;
            let client = SyncClient::for_store(&store).await.map_err(|e| e.to_string())?;
            Ok::<_, String>((store, client))
        }
    };

    // Set-up (not measured): the office plans last week's rota and every carer receives theirs.
    let setup = Instant::now();
    let today = chrono::Utc::now().date_naive();
    let mut generator = Generator::new(2026);
    let (office_staff, _, office_code) = codes.pop().ok_or("no codes")?;
    let (office, office_client) = enrol(office_staff, office_code, dir.path().join("office.db")).await?;
    let mut people: Vec<Person> = Vec::new();
    let mut rota: Vec<Vec<Visit>> = Vec::new();
    for c in 0..carers {
        let mine: Vec<Person> = (0..PEOPLE_PER_CARER).map(|_| generator.person()).collect();
        let mut visits = Vec::new();
        for n in 0..notes_per_carer {
            let person = &mine[n % PEOPLE_PER_CARER];
            let day = today - Days::days(7) + Days::days((n / PEOPLE_PER_CARER) as i64);
            let mut visit = generator.visit(person, at(day, 7 + (n % PEOPLE_PER_CARER) as u32, 0));
            visit.carers = vec![StaffId::new(format!("C{c:03}"))];
            visits.push(visit);
        }
        people.extend(mine);
        rota.push(visits);
    }
    {
        let mut store = office.lock().await;
        store.put_all(&people).map_err(|e| text(&e))?;
        store.put_all(rota.iter().flatten()).map_err(|e| text(&e))?;
    }
    office_client.sync(&office, |_| {}).await.map_err(|e| text(&e))?;
    let mut devices = Vec::new();
    for ((staff, _, code), visits) in codes.into_iter().zip(rota) {
        let (store, client) = enrol(staff.clone(), code, dir.path().join(format!("{staff}.db"))).await?;
        client.sync(&store, |_| {}).await.map_err(|e| text(&e))?;
        devices.push(Device { store, client, visits });
    }
    eprintln!(
        "setup: hub + {carers} carers with {notes_per_carer} visits each in {:.1} s",
        setup.elapsed().as_secs_f64()
    );

    // The offline week: every carer writes every note (2 threads, one store each at a time).
    let typing = Instant::now();
    std::thread::scope(|scope| -> Result {
        let halves: Vec<&[Device]> = devices.chunks(devices.len().div_ceil(2).max(1)).collect();
        let handles: Vec<_> = halves
            .into_iter()
            .map(|half| {
                scope.spawn(move || -> Result {
                    for device in half {
                        let mut store = device.store.blocking_lock();
                        for (i, visit) in device.visits.iter().enumerate() {
                            type_note(&mut store, visit, i as u64).map_err(|e| e.to_string())?;
                        }
                    }
                    Ok(())
                })
            })
            .collect();
        for h in handles {
            h.join().map_err(|_| "a typing thread panicked".to_string())??;
        }
        Ok(())
    })?;
    eprintln!("setup: typed {} notes in {:.1} s", carers * notes_per_carer, typing.elapsed().as_secs_f64());

    // What a full push carries: the saved size of every new document.
    let mut saved_docs = 0usize;
    for device in &devices {
        let store = device.store.lock().await;
        for o in store.pending_changes(usize::MAX).map_err(|e| text(&e))? {
            saved_docs += store.document_bytes(o.kind, &o.id).map_err(|e| text(&e))?.len();
        }
    }
    let (hub_cpu, own_cpu) = (cpu_seconds(hub.0.id()), cpu_seconds(std::process::id()));
    let push = reconnect_all(&devices).await?;
    let push_hub_cpu = cpu_seconds(hub.0.id()) - hub_cpu;
    let push_devices_cpu = cpu_seconds(std::process::id()) - own_cpu;

    // 10% of the notes get one more edit.
    let mut new_change_gzip = 0usize;
    let mut edited = Vec::new();
    for device in &devices {
        let mut store = device.store.lock().await;
        for (i, visit) in device.visits.iter().enumerate() {
            if i % 10 == 3 {
                let id = NoteId::for_visit(visit.id).to_string();
                store
                    .update::<VisitNote>(&id, |n| {
                        n.narrative.push_str("Daughter visited later; all well.");
                        Ok(())
                    })
                    .map_err(|e| text(&e))?;
                edited.push(id);
            }
        }
        let changes: Vec<u8> =
            store.pending_changes(usize::MAX).map_err(|e| text(&e))?.into_iter().flat_map(|o| o.bytes).collect();
        new_change_gzip += gzip_len(&changes);
    }
    let delta = reconnect_all(&devices).await?;
    let rss = peak_rss_mb(hub.0.id());

    // Nothing lost: the office receives every note, each with the carer's final text.
    let check = Instant::now();
    office_client.sync(&office, |_| {}).await.map_err(|e| text(&e))?;
    let mut lost = 0usize;
    {
        let office = office.lock().await;
        for device in &devices {
            let store = device.store.lock().await;
            for visit in &device.visits {
                let id = NoteId::for_visit(visit.id).to_string();
                let mine: VisitNote = store.get(&id).map_err(|e| text(&e))?;
                match office.get::<VisitNote>(&id) {
                    Ok(theirs) if theirs.narrative == mine.narrative => {}
                    _ => lost += 1,
                }
            }
        }
    }
    eprintln!("check: the office pulled everything and compared in {:.1} s", check.elapsed().as_secs_f64());
    drop(hub);

    let p99 = percentile(&[push.per_device.clone(), delta.per_device.clone()].concat(), 0.99);
    Ok(Figures {
        carers,
        notes_per_carer,
        push_bytes: (push.sent + push.received) as u64,
        saved_docs: saved_docs as u64,
        push_converge_s: push.wall.as_secs_f64(),
        push_hub_cpu_s: push_hub_cpu,
        push_devices_cpu_s: push_devices_cpu,
        delta_bytes: (delta.sent + delta.received) as u64,
        delta_gzip: new_change_gzip as u64,
        delta_edited: edited.len(),
        delta_converge_s: delta.wall.as_secs_f64(),
        round_trips: push.round_trips.max(delta.round_trips),
        p99_ms: p99.as_secs_f64() * 1000.0,
        rss_mb: rss,
        lost: lost as u64,
    })
}

/// Doorstep's side of the comparison.
struct Figures {
    carers: usize,
    notes_per_carer: usize,
    push_bytes: u64,
    saved_docs: u64,
    push_converge_s: f64,
    push_hub_cpu_s: f64,
    push_devices_cpu_s: f64,
    delta_bytes: u64,
    delta_gzip: u64,
    delta_edited: usize,
    delta_converge_s: f64,
    round_trips: usize,
    p99_ms: f64,
    rss_mb: f64,
    lost: u64,
}

fn ratio(a: u64, b: u64) -> f64 {
    a as f64 / b.max(1) as f64
}

/// The side-by-side table and, last, the machine-readable line.
fn report(ours: &Figures, peer: Option<&PeerFigures>) {
    let full_push_ratio = ratio(ours.push_bytes, ours.saved_docs);
    let delta_ratio = ratio(ours.delta_bytes, ours.delta_gzip);
    println!("{:<32} {:>14} {:>16} {:>9}  what", "measure", "doorstep", "automerge-repo", "goal");
    let row = |name: &str, us: String, them: Option<String>, goal: &str, what: &str| {
        let them = them.unwrap_or_else(|| "not run".into());
        println!("{name:<32} {us:>14} {them:>16} {goal:>9}  {what}");
    };
    row(
        "devices × notes",
        format!("{} × {}", ours.carers, ours.notes_per_carer),
        peer.map(|_| format!("{} × {}", ours.carers, ours.notes_per_carer)),
        "50 × 56",
        "carers reconnecting at once",
    );
    row(
        "full push: bytes on the wire",
        ours.push_bytes.to_string(),
        peer.map(|p| p.full_push_bytes.to_string()),
        "",
        "sync bodies / WebSocket payloads, both ways",
    );
    row(
        "full push: saved documents",
        ours.saved_docs.to_string(),
        peer.map(|p| p.full_push_saved_bytes.to_string()),
        "",
        "Automerge save() of every new note",
    );
    row(
        "full_push_ratio",
        format!("{full_push_ratio:.3}"),
        peer.map(|p| format!("{:.3}", ratio(p.full_push_bytes, p.full_push_saved_bytes))),
        "≤ 1.1",
        "wire / saved documents",
    );
    row(
        "delta: bytes on the wire",
        ours.delta_bytes.to_string(),
        peer.map(|p| p.delta_bytes.to_string()),
        "",
        &format!("{} notes edited once more", ours.delta_edited),
    );
    row(
        "delta: new changes gzipped",
        ours.delta_gzip.to_string(),
        peer.map(|p| p.delta_new_changes_gzip_bytes.to_string()),
        "",
        "gzip of the new Automerge changes",
    );
    row(
        "delta_bytes_ratio",
        format!("{delta_ratio:.3}"),
        peer.map(|p| format!("{:.3}", ratio(p.delta_bytes, p.delta_new_changes_gzip_bytes))),
        "≤ 1.5",
        "wire / gzipped new changes",
    );
    row("round_trips", ours.round_trips.to_string(), None, "1", "most HTTP exchanges any device needed");
    row(
        "converge_s (full push)",
        format!("{:.3}", ours.push_converge_s),
        peer.map(|p| format!("{:.3}", p.full_push_converge_s)),
        "< 3",
        "until every device's notes are held by the server",
    );
    row(
        "  hub CPU during full push",
        format!("{:.2} s", ours.push_hub_cpu_s),
        None,
        "",
        "hub process user + system time",
    );
    row(
        "  devices' CPU during full push",
        format!("{:.2} s", ours.push_devices_cpu_s),
        None,
        "",
        "all devices' stores and clients, one process",
    );
    row(
        "converge_s (delta)",
        format!("{:.3}", ours.delta_converge_s),
        peer.map(|p| format!("{:.3}", p.delta_converge_s)),
        "",
        "",
    );
    row(
        "p99_ms",
        format!("{:.1}", ours.p99_ms),
        peer.map(|p| format!("{:.1}", p.p99_ms)),
        "",
        "per-device sync time, both phases",
    );
    row(
        "server peak RSS MB",
        format!("{:.1}", ours.rss_mb),
        peer.map(|p| format!("{:.1}", p.server_peak_rss_mb)),
        "< 100",
        "VmHWM of the server process",
    );
    row("lost", ours.lost.to_string(), peer.map(|p| p.lost.to_string()), "0", "notes missing or different afterwards");
    if let Some(p) = peer {
        println!(
            "speed-up over the peer (full push): {:.1}x (goal ≥ 5x)",
            p.full_push_converge_s / ours.push_converge_s.max(f64::MIN_POSITIVE)
        );
    }
    let peer_converge = peer.map(|p| format!("{:.3}", p.full_push_converge_s)).unwrap_or_else(|| "nan".into());
    println!(
        "RESULT delta_bytes_ratio={delta_ratio:.3} full_push_ratio={full_push_ratio:.3} round_trips={} converge_s={:.3} peer_converge_s={peer_converge} hub_peak_rss_mb={:.1} p99_ms={:.1} lost={}",
        ours.round_trips, ours.push_converge_s, ours.rss_mb, ours.p99_ms, ours.lost
    );
}
