//! The PIN as a thief at the PIN screen meets it: new PINs are 6 to 12 digits and not easy to
//! guess; wrong PINs are counted in a file beside the store, one attempt at a time, across
//! restarts, and the tenth in a row deletes the tablet's records, never silently.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use doorstep_commands::{AppError, DayArgs, EnrolArgs, ErrorCode, Session};
use doorstep_device::{Device, FREE_PIN_ATTEMPTS, LOCK_AFTER, WIPE_AFTER_WRONG_PINS};
use doorstep_model::{Role, VisitStatus};

use crate::device::{PIN, enrolled, hub, office};

/// A wrong PIN (it would pass the blocklist, so it is a guess a thief could make).
const WRONG: &str = "975310";
/// Short waits, so a test reaches the tenth attempt in seconds (the app waits 30 s a step).
const STEP: Duration = Duration::from_millis(20);

/// The file beside the store at `path` with `suffix` (`.secret`, `.attempts`).
fn beside(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// An attempt as a patient carer makes it: when told to wait, waits (a few seconds at most).
async fn attempt(device: &Device, pin: &str) -> Result<Session, AppError> {
    for _ in 0..200 {
        match device.unlock(pin).await {
            Err(e) if e.message.starts_with("Too many wrong PINs") => tokio::time::sleep(STEP).await,
            outcome => return outcome,
        }
    }
    panic!("still told to wait after 200 tries");
}

fn warning(left: u32) -> String {
    format!("{left} tries left before this tablet deletes its records.")
}

#[tokio::test]
async fn short_and_easy_to_guess_pins_are_refused_in_plain_words() {
    let dir = tempfile::TempDir::new().expect("dir");
    let hub = hub(dir.path()).await;
    let device = Device::open(dir.path().join("tablet.db"), LOCK_AFTER).expect("open");
    let code = hub.code("C001", Role::Carer).await;
    let args = |pin: &str| EnrolArgs {
        hub_url: hub.url.clone(),
        code: code.clone(),
        device_name: "Sam's tablet".into(),
        pin: pin.into(),
        hub_certificate: None,
    };
    let too_short = "Choose a PIN of 6 to 12 numbers";
    let easy = "That PIN is easy to guess. Choose 6 to 12 numbers that are not easy to guess";
    for (pin, says) in [
        ("2468", too_short),
        ("1234", too_short),
        ("13579", too_short),
        ("1357924680135", too_short),
        ("24681a", too_short),
        ("123456", easy),
        ("012345", easy),
        ("654321", easy),
        ("000000", easy),
        ("777777777", easy),
        ("121212", easy),
        ("123123", easy),
        ("112233", easy),
        ("147258", easy),
    ] {
        let refused = device.enrol(args(pin)).await.unwrap_err();
        assert_eq!(refused.code, ErrorCode::Invalid, "{pin}: {}", refused.message);
        assert!(refused.message.starts_with(says), "{pin}: {}", refused.message);
        assert!(!device.session().await.expect("session").enrolled, "{pin}");
    }
    // Refused before the hub was asked: the same code still sets the tablet up.
    let session = device.enrol(args(PIN)).await.expect("a PIN that is hard to guess");
    assert!(session.enrolled && !session.locked);
    assert_eq!(session.pin_tries_left, None);
    hub.stop().await;
}

#[tokio::test]
async fn wrong_pins_are_still_counted_after_a_restart_and_the_right_pin_clears_them() {
    let dir = tempfile::TempDir::new().expect("dir");
    let hub = hub(dir.path()).await;
    let path = dir.path().join("C001.db");
    let device = enrolled(&hub, dir.path(), "C001", Role::Carer, LOCK_AFTER).await;
    device.lock().await.expect("lock");
    for _ in 0..FREE_PIN_ATTEMPTS {
        assert_eq!(device.unlock(WRONG).await.unwrap_err().code, ErrorCode::WrongPin);
    }
    drop(device);

    // The app starts again: the count, and the wait it brings, are still there.
    let device = Device::open(&path, LOCK_AFTER).expect("open");
    let session = device.session().await.expect("session");
    assert!(session.enrolled && session.locked);
    assert_eq!(session.pin_tries_left, Some(WIPE_AFTER_WRONG_PINS - FREE_PIN_ATTEMPTS));
    let waiting = device.unlock(PIN).await.unwrap_err();
    assert_eq!(waiting.code, ErrorCode::WrongPin);
    assert!(waiting.message.starts_with("Too many wrong PINs. Try again in "), "{}", waiting.message);
    assert!(waiting.message.ends_with(&warning(5)), "{}", waiting.message);
    assert!(device.unlocked_store().await.is_err(), "the right PIN was not checked during the wait");
    drop(device);

    // After the wait the right PIN opens the tablet and clears the count.
    let device = Device::open(&path, LOCK_AFTER).expect("open").with_pin_wait_step(STEP);
    let session = attempt(&device, PIN).await.expect("the right PIN after the wait");
    assert!(!session.locked);
    assert_eq!(session.pin_tries_left, None);
    assert!(!beside(&path, ".attempts").exists(), "nothing left to count");
    device.lock().await.expect("lock");
    for _ in 1..FREE_PIN_ATTEMPTS {
        assert_eq!(device.unlock(WRONG).await.unwrap_err().message, "That PIN is not right. Try again.");
    }
    drop(device);
    let device = Device::open(&path, LOCK_AFTER).expect("open");
    let fifth = device.unlock(WRONG).await.unwrap_err();
    assert_eq!(fifth.message, format!("That PIN is not right. Try again. {}", warning(5)), "four kept over a restart");
    hub.stop().await;
}

/// Two attempts made at the same moment, as two taps racing through the shell would.
async fn two_at_once(device: &Arc<Device>) -> [String; 2] {
    let first = tokio::spawn({
        let device = device.clone();
        async move { device.unlock(WRONG).await }
    });
    let second = tokio::spawn({
        let device = device.clone();
        async move { device.unlock(WRONG).await }
    });
    let mut said = [
        first.await.expect("first").expect_err("a wrong PIN").message,
        second.await.expect("second").expect_err("a wrong PIN").message,
    ];
    said.sort();
    said
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_attempts_at_once_are_checked_one_at_a_time_and_both_count() {
    let dir = tempfile::TempDir::new().expect("dir");
    let hub = hub(dir.path()).await;

    // Three wrong in: two more at once are both checked and both counted.
    let sam = Arc::new(enrolled(&hub, dir.path(), "C001", Role::Carer, LOCK_AFTER).await);
    sam.lock().await.expect("lock");
    for _ in 0..3 {
        sam.unlock(WRONG).await.unwrap_err();
    }
    let said = two_at_once(&sam).await;
    assert_eq!(
        said,
        ["That PIN is not right. Try again.".to_string(), format!("That PIN is not right. Try again. {}", warning(5))]
    );
    assert_eq!(sam.session().await.expect("session").pin_tries_left, Some(5));

    // Four wrong in: of two at once only one gets the last free try; the other is told to wait
    // and is not checked.
    let priya = Arc::new(enrolled(&hub, dir.path(), "C002", Role::Carer, LOCK_AFTER).await);
    priya.lock().await.expect("lock");
    for _ in 0..4 {
        priya.unlock(WRONG).await.unwrap_err();
    }
    let said = two_at_once(&priya).await;
    assert_eq!(said[0], format!("That PIN is not right. Try again. {}", warning(5)));
    assert!(said[1].starts_with("Too many wrong PINs. Try again in 30 seconds."), "{said:?}");
    assert_eq!(priya.session().await.expect("session").pin_tries_left, Some(5));
    hub.stop().await;
}

#[tokio::test]
async fn the_tenth_wrong_pin_in_a_row_deletes_the_records_and_the_ninth_does_not() {
    let dir = tempfile::TempDir::new().expect("dir");
    let hub = hub(dir.path()).await;
    let path = dir.path().join("C001.db");
    drop(enrolled(&hub, dir.path(), "C001", Role::Carer, LOCK_AFTER).await);

    // The app has started again, so its store is closed: every guess is tried against the file.
    let device = Device::open(&path, LOCK_AFTER).expect("open").with_pin_wait_step(STEP);
    for tried in 1..WIPE_AFTER_WRONG_PINS {
        let wrong = attempt(&device, WRONG).await.unwrap_err();
        assert_eq!(wrong.code, ErrorCode::WrongPin, "attempt {tried}: {}", wrong.message);
    }
    let ninth = device.unlock(WRONG).await.unwrap_err();
    assert!(ninth.message.starts_with("Too many wrong PINs"), "{}", ninth.message);
    assert!(ninth.message.ends_with("1 try left before this tablet deletes its records."), "{}", ninth.message);
    let session = device.session().await.expect("session");
    assert!(session.enrolled && session.locked, "nine wrong PINs delete nothing");
    assert_eq!(session.pin_tries_left, Some(1));
    assert!(path.exists() && beside(&path, ".secret").exists());
    drop(device);

    // Even across a restart, the tenth deletes the store and its key, and says what that means.
    let device = Device::open(&path, LOCK_AFTER).expect("open").with_pin_wait_step(STEP);
    let wiped = attempt(&device, WRONG).await.unwrap_err();
    assert_eq!(wiped.code, ErrorCode::NotEnrolled);
    assert!(
        wiped.message.starts_with("After 10 wrong PINs in a row this tablet has deleted its records"),
        "{}",
        wiped.message
    );
    assert!(wiped.message.contains("Anything it had not sent to the office is lost"), "{}", wiped.message);
    for file in [path.clone(), beside(&path, ".secret"), beside(&path, ".attempts"), beside(&path, "-wal")] {
        assert!(!file.exists(), "{} is still there", file.display());
    }
    assert!(!device.session().await.expect("session").enrolled);
    assert_eq!(device.unlock(PIN).await.unwrap_err().code, ErrorCode::NotEnrolled, "the right PIN opens nothing");
    let restarted = Device::open(&path, LOCK_AFTER).expect("open");
    assert!(!restarted.session().await.expect("session").enrolled);

    // The manager can set it up again, with a clean count.
    let code = hub.code("C001", Role::Carer).await;
    let args = EnrolArgs {
        hub_url: hub.url.clone(),
        code,
        device_name: "Sam's tablet".into(),
        pin: PIN.into(),
        hub_certificate: None,
    };
    let session = restarted.enrol(args).await.expect("set up again");
    assert!(session.enrolled && session.pin_tries_left.is_none());
    hub.stop().await;
}

#[tokio::test]
async fn a_tablet_that_deletes_itself_first_sends_the_office_what_was_waiting() {
    let dir = tempfile::TempDir::new().expect("dir");
    let hub = hub(dir.path()).await;
    let office = office(&hub, dir.path()).await;
    let tablet = Device::open(dir.path().join("C001.db"), LOCK_AFTER)
        .expect("open")
        .with_pin_wait_step(STEP)
        // Background sync waits an hour after its first run: only the last sync can send it.
        .with_sync_every(Duration::from_secs(3600));
    let code = hub.code("C001", Role::Carer).await;
    let args = EnrolArgs {
        hub_url: hub.url.clone(),
        code,
        device_name: "Sam's tablet".into(),
        pin: PIN.into(),
        hub_certificate: None,
    };
    tablet.enrol(args).await.expect("enrol");
    tablet.sync_now().await.expect("the rota");
    // Background sync's first run (started at enrolment) ends before anything is typed.
    for _ in 0..100 {
        if !tablet.sync_badge().await.expect("badge").syncing {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let visit = tablet.today(DayArgs { day: None }).await.expect("today").visits[0].id.clone();
    tablet.check_in(&visit).await.expect("check in");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(tablet.sync_badge().await.expect("badge").waiting > 0, "the check-in is waiting");
    tablet.lock().await.expect("lock");

    for _ in 1..WIPE_AFTER_WRONG_PINS {
        attempt(&tablet, WRONG).await.unwrap_err();
    }
    let wiped = attempt(&tablet, WRONG).await.unwrap_err();
    assert_eq!(wiped.code, ErrorCode::NotEnrolled);
    assert!(wiped.message.contains("Everything on it had reached the office."), "{}", wiped.message);
    assert!(!tablet.session().await.expect("session").enrolled);

    office.sync_now().await.expect("office sync");
    let seen = office.visit(&visit).await.expect("the visit");
    assert_eq!(seen.visit.status, VisitStatus::InProgress, "the check-in reached the office before the wipe");
    hub.stop().await;
}
