//! The contract between the UI (yew, in the webview) and the app shell (Tauri): every command
//! the UI may invoke, its arguments and its answer. Both sides compile against these types, so
//! a renamed field or command breaks the build instead of a carer's visit.
//!
//! Every command takes exactly one argument, named `args` (see [`ARG_NAME`]); commands without
//! arguments take `()`.

use chrono::{DateTime, NaiveDate, Utc};
use doorstep_model::news2::{Escalation, News2Assessment};
use doorstep_model::sbard::Sbard;
use doorstep_model::view::{DeviceRow, InsightRow, PersonOverview, SearchHit, SharedItemRow, VisitRow};
use doorstep_model::{
    AreaService, CallOutcome, CallTarget, CarePlan, Comparison, CouldNotReason, Directory, DocVersion, FoodFluid,
    Insight, Mood, PartnerKind, PartnerOrg, PlanKind, Role, Sector, SoftSign, SpO2Scale, StaffMember, Urgency, Visit,
    VisitNote, VitalSigns,
};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

pub mod badge;
pub use badge::SyncBadge;

/// The name of the one argument every command takes.
pub const ARG_NAME: &str = "args";

/// A command the UI may invoke: its name in the shell, what it takes and what it answers.
pub trait Command {
    const NAME: &'static str;
    type Args: Serialize + DeserializeOwned;
    type Output: Serialize + DeserializeOwned;
}

macro_rules! commands {
    ($($(#[$doc:meta])* $ty:ident = $name:literal, $args:ty => $out:ty;)*) => {
        $(
            $(#[$doc])*
            pub struct $ty;
            impl Command for $ty {
                const NAME: &'static str = $name;
                type Args = $args;
                type Output = $out;
            }
        )*
        /// Every command's name: the shell registers exactly these.
        pub const ALL: &[&str] = &[$($name),*];
    };
}

commands! {
    /// Whether this device is enrolled, who it belongs to and whether it is locked.
    GetSession = "get_session", () => Session;
    /// Enrols this device with the hub using a manager's one-time code, and sets the PIN.
    Enrol = "enrol", EnrolArgs => Session;
    Unlock = "unlock", UnlockArgs => Session;
    Lock = "lock", () => Session;
    /// Signs out and forgets this device's records, only once every change has reached the hub.
    SignOut = "sign_out", () => Session;
    GetToday = "today", DayArgs => Today;
    GetVisit = "visit", VisitArgs => VisitScreen;
    CheckIn = "check_in", VisitArgs => VisitScreen;
    /// Checks out; asks first (`ErrorCode::Confirm`) when a call the advice asked for is not
    /// recorded or tasks are unmarked, unless `confirmed`.
    CheckOut = "check_out", CheckOutArgs => VisitScreen;
    /// Records a phone call made about the person (the SBARD's Decision).
    RecordCall = "record_call", RecordCallArgs => VisitScreen;
    /// The visit could not happen (no answer, refused, in hospital, cancelled by the office).
    CouldNotVisit = "could_not_visit", CouldNotArgs => VisitScreen;
    RecordTask = "record_task", TaskArgs => VisitScreen;
    /// Adds words to a closed visit, marked late with their time and author.
    AddLateEntry = "add_late_entry", LateEntryArgs => VisitScreen;
    /// Autosave of the visit note's free text (the UI calls it after a short pause in typing).
    SaveNarrative = "save_narrative", NarrativeArgs => Saved;
    SetSoftSign = "set_soft_sign", SoftSignArgs => VisitScreen;
    RecordVitals = "record_vitals", VitalsArgs => VisitScreen;
    SetFoodFluid = "set_food_fluid", FoodFluidArgs => VisitScreen;
    SetMood = "set_mood", MoodArgs => VisitScreen;
    RecordIdea = "record_idea", IdeaArgs => Insight;
    GetPerson = "person", PersonArgs => PersonOverview;
    /// A manager's edit of the person's page (what matters, risks, strengths, communication).
    EditPerson = "edit_person", EditPersonArgs => PersonOverview;
    /// A manager records the person's answer about sharing with one group of partners.
    RecordConsent = "record_consent", ConsentArgs => PersonOverview;
    /// A manager notes the person's plan for when they become unwell (ReSPECT, DNACPR…).
    RecordPlan = "record_plan", PlanArgs => PersonOverview;
    /// A manager records the person's oxygen scale (with who set Scale 2), pregnancy and what is
    /// usual for them.
    RecordBaselines = "record_baselines", BaselinesArgs => PersonOverview;
    /// The provider's directory: the office's numbers, the area's services, staff names.
    GetDirectory = "directory", () => DirectoryScreen;
    /// A manager changes the directory (see [`EditDirectoryArgs`]).
    EditDirectory = "edit_directory", EditDirectoryArgs => DirectoryScreen;
    /// The carer's own ideas, with what each partner was sent and answered.
    GetMyIdeas = "my_ideas", () => Vec<MyIdea>;
    /// Partners' answers to the carer's ideas that arrived since they last opened "My ideas".
    GetNewReplies = "new_replies", () => Vec<NewReply>;
    /// Writes to the partner on a shared item (the carer who raised the idea, or the office).
    ReplyToPartner = "reply_to_partner", ReplyArgs => doorstep_model::view::SharedItemRow;
    GetSyncStatus = "sync_status", () => SyncBadge;
    SyncNow = "sync_now", () => SyncBadge;
    /// Sends again the records the hub held back, now that the office has fixed what was wrong.
    RetryHeldBack = "retry_held_back", () => SyncBadge;
    GetManagerDay = "manager_day", DayArgs => ManagerDay;
    /// A manager marks what a visit raised as reviewed (who and when sync with the visit);
    /// answers today's manager day.
    MarkReviewed = "mark_reviewed", VisitArgs => ManagerDay;
    GetIdea = "idea", IdeaRef => IdeaScreen;
    /// The partner organisations on the hub (needs a connection).
    GetPartners = "partners", () => Vec<PartnerOrg>;
    /// The partners on the hub ranked for one idea, those that fit first, each with why (needs
    /// a connection).
    PartnerSuggestions = "partner_suggestions", IdeaRef => Vec<doorstep_model::routing::Suggestion>;
    /// Shares an idea: records the share on it and sends each partner its own shared item.
    ShareIdea = "share_idea", ShareArgs => IdeaScreen;
    /// Stops sharing one shared item: the partner loses access at the hub.
    StopSharing = "stop_sharing", SharedRef => IdeaScreen;
    /// A manager's edit of an idea's words before it is shared.
    EditIdea = "edit_idea", EditIdeaArgs => IdeaScreen;
    DeclineIdea = "decline_idea", DeclineArgs => IdeaScreen;
    ImportCsv = "import_csv", ImportArgs => ImportOutcome;
    CreateEnrolmentCode = "create_enrolment_code", EnrolmentCodeArgs => EnrolmentCode;
    /// The organisation's devices (needs a connection).
    GetDevices = "devices", () => Vec<DeviceRow>;
    /// Revokes a lost tablet; answers the device list after it.
    RevokeDevice = "revoke_device", DeviceRef => Vec<DeviceRow>;
    /// Asks every tablet to send the records the hub held back again (managers; audited).
    AskHeldBackRetry = "ask_held_back_retry", () => Vec<DeviceRow>;
    /// Asks one tablet to discard its held-back changes to one record (managers; audited).
    DiscardHeldBack = "discard_held_back", HeldBackRef => Vec<DeviceRow>;
    Search = "search", SearchArgs => Vec<SearchHit>;
    /// This week's clusters of signs per postcode district against the provider's usual weeks
    /// (managers; computed on the device).
    GetEarlyWarning = "early_warning", () => doorstep_model::early_warning::EarlyWarning;
    /// Ideas a partner acted on 30 or more days ago that the office has not yet said helped
    /// or not (managers; from the device's own store), oldest due first.
    GetFollowUps = "follow_ups", () => Vec<FollowUpRow>;
    /// A manager answers "did it help?" on one idea; answers the ideas still to follow up.
    AnswerFollowUp = "answer_follow_up", FollowUpArgs => Vec<FollowUpRow>;
    /// Records what happened to the person (A&E, admitted, home again, UCR, GP visited) in a
    /// visit's note, with what stood before it (carers on the visit, managers).
    RecordOutcome = "record_outcome", OutcomeArgs => VisitScreen;
    /// What happened to the person, newest first, in words.
    GetOutcomes = "outcomes", PersonArgs => Vec<OutcomeRow>;
}

/// What went wrong, in words a carer can act on, and a code the UI can branch on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppError {
    pub code: ErrorCode,
    pub message: String,
    /// The argument the problem is with (its name in the command's arguments, like `note`), when
    /// it is one: the form links its error summary to that field and marks it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// The event the shell sends when a sync brought records in (its payload: how many times so
/// far). An open screen reloads, keeping what the carer is typing.
pub const RECORDS_ARRIVED: &str = "records-arrived";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    NotEnrolled,
    Locked,
    WrongPin,
    /// Something typed or chosen cannot be right; the message says what.
    Invalid,
    NotFound,
    /// Changes have not reached the hub yet: the action would lose them.
    Unsynced,
    /// The hub could not be reached.
    Offline,
    /// The hub refused (a revoked device, a used enrolment code...).
    Refused,
    /// The device's own storage failed.
    Storage,
    /// Something to check before going on: the message lists it, one item a line; sending
    /// the command again confirmed goes on.
    Confirm,
}

impl AppError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        AppError { code, message: message.into(), field: None }
    }

    /// The same problem, said to be with the argument `field`.
    pub fn about(self, field: &str) -> Self {
        AppError { field: Some(field.to_string()), ..self }
    }
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for AppError {}

/// The fewest digits a new PIN may have (the device refuses shorter ones and easy guesses).
pub const MIN_PIN_DIGITS: usize = 6;
/// The most digits a PIN may have.
pub const MAX_PIN_DIGITS: usize = 12;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub enrolled: bool,
    pub locked: bool,
    pub staff_ref: Option<String>,
    /// The name the office's directory gives them ("Amira Khan"), once it has synced.
    #[serde(default)]
    pub staff_name: Option<String>,
    pub role: Option<Role>,
    pub hub_url: Option<String>,
    /// Wrong PINs left before the device deletes its records, once the PIN screen should warn
    /// of it; `None` until then.
    #[serde(default)]
    pub pin_tries_left: Option<u32>,
}

impl Session {
    /// "Amira Khan (C001)", or the staff reference alone before the office's directory names them.
    pub fn signed_in_as(&self) -> String {
        match (&self.staff_name, &self.staff_ref) {
            (Some(name), Some(reference)) => format!("{name} ({reference})"),
            (None, Some(reference)) => reference.clone(),
            (_, None) => String::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrolArgs {
    pub hub_url: String,
    pub code: String,
    /// What the manager sees in the device list: "Sam's tablet".
    pub device_name: String,
    /// Unlocks the app offline; 4 to 8 digits.
    pub pin: String,
    /// The SHA-256 fingerprint of the hub's certificate, when the manager gave one ("AB:CD:…"
    /// or plain hex): the device then talks only to a hub showing that certificate.
    #[serde(default)]
    pub hub_certificate: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnlockArgs {
    pub pin: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayArgs {
    /// `None`: today (UK date).
    pub day: Option<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Today {
    pub day: NaiveDate,
    pub staff_ref: String,
    pub visits: Vec<VisitRow>,
    pub sync: SyncBadge,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisitArgs {
    pub visit_id: String,
}

/// Someone to phone: "Riverside Surgery", shown "01632 960 000", dialled "01632960000".
pub type PhoneTo = doorstep_model::PhoneContact;

/// The provider's directory as the directory page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectoryScreen {
    pub directory: Directory,
    /// The version shown: an edit is made against it ([`DocVersion`]).
    pub version: DocVersion,
    /// A manager's device may change it; a carer's reads it.
    pub may_edit: bool,
    /// Staff references seen on the rota who have no name yet, so the manager can name them.
    pub unnamed_staff: Vec<String>,
}

/// The directory as the manager's form left it, made against the version the form showed: only
/// what changed is written, so another manager's changes meanwhile stay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EditDirectoryArgs {
    pub base: DocVersion,
    pub office_phone: String,
    pub office_hours: String,
    pub on_call_phone: String,
    pub services: Vec<AreaService>,
    pub staff: Vec<StaffMember>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckOutArgs {
    pub visit_id: String,
    /// The carer saw what was left to do ("Before you go") and checks out anyway.
    #[serde(default)]
    pub confirmed: bool,
}

/// A phone call about the person, as the carer records it after the call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordCallArgs {
    pub visit_id: String,
    pub to: CallTarget,
    /// Who, when `to` is someone else; for the GP practice and the area's services the device
    /// fills in the name from the person's record or the directory when this is empty.
    #[serde(default)]
    pub to_name: String,
    #[serde(default)]
    pub spoke_to: String,
    pub outcome: CallOutcome,
    /// What was agreed: "GP visiting by 14:00", "check again at 13:00".
    #[serde(default)]
    pub detail: String,
    /// When they phoned, if not just now (a call made before they could record it). Not in
    /// the future, nor more than 12 hours before the visit's check-in.
    #[serde(default)]
    pub at: Option<DateTime<Utc>>,
}

/// What the last carer saw, at the top of the next visit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Handover {
    pub visit_id: String,
    /// When that visit was (its check-in, else its start).
    pub at: DateTime<Utc>,
    /// Who was there, as people know them ("Priya Shah (C002)").
    pub by: Vec<String>,
    pub narrative: String,
    /// Soft signs new or worse than usual: "New or worse confusion (new)".
    pub changes: Vec<String>,
    /// "NEWS2 5 (Medium)", when readings were taken.
    pub news2: Option<String>,
    /// The calls made: "Phoned GP practice at 09:12 …".
    pub calls: Vec<String>,
    /// What happened to them, recorded at that visit: "Admitted to hospital on 1 Dec".
    #[serde(default)]
    pub outcomes: Vec<String>,
    /// Why that visit could not happen, when it could not: "They said no to the visit – said
    /// he was too tired (Sam Taylor (C001), 2 Dec, 09:20)".
    #[serde(default)]
    pub could_not: Option<String>,
    /// Words added after that visit ended, each marked as late: "Late entry, written 3 Dec,
    /// 01:08 by Sam Taylor (C001): she asked for her daughter to ring".
    #[serde(default)]
    pub late_entries: Vec<String>,
    /// That visit is on this device, so the carer can open it (read only, with late entries).
    #[serde(default)]
    pub visit_here: bool,
}

/// Where the person lives and how to get in, for the carer at the door.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AtTheDoor {
    /// Address lines and postcode.
    pub address: Vec<String>,
    /// Key safe, which door, the dog: shown only when the carer asks.
    pub access: String,
    pub communication_needs: String,
}

/// A carer says a visit could not happen, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CouldNotArgs {
    pub visit_id: String,
    pub reason: CouldNotReason,
    #[serde(default)]
    pub detail: String,
    /// With "in hospital": also records "Admitted to hospital" on this day, in the same step.
    /// Ignored for the other reasons.
    #[serde(default)]
    pub admitted_on: Option<NaiveDate>,
}

/// A visit the office should chase now, most urgent first ([`doorstep_model::Chase`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChaseRow {
    pub visit_id: String,
    pub person_name: String,
    /// The carers as people know them.
    pub carers: Vec<String>,
    /// Their work phones, where the office's directory has them.
    #[serde(default)]
    pub carer_phones: Vec<PhoneTo>,
    pub starts_at: DateTime<Utc>,
    /// "No answer at the door", "Late: not checked in 35 minutes after the start".
    pub what: String,
    pub weight: u8,
    /// "Reviewed by Mo Ahmed (M001) at 08:12", once a manager has marked it.
    #[serde(default)]
    pub reviewed: Option<String>,
}

/// Everything the visit screen shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VisitScreen {
    pub visit: Visit,
    pub person_name: Option<String>,
    pub what_matters_to_me: String,
    pub known_risks: Vec<String>,
    pub note: VisitNote,
    /// The note's version as shown: the note editor saves against it (see [`DocVersion`]).
    #[serde(default)]
    pub note_version: DocVersion,
    /// The NEWS2 assessment of the recorded vitals, if any; errors are refused at entry.
    pub news2: Option<News2Assessment>,
    /// What to do: the more urgent of the readings' and the soft signs' advice
    /// (`doorstep_model::escalation::advice`).
    #[serde(default)]
    pub advice: Option<Escalation>,
    /// Earlier sets of readings at this visit (the current set is `note.vitals`, taken at
    /// `note.vitals_at`), oldest first.
    #[serde(default)]
    pub earlier: Vec<EarlierReadings>,
    /// What is usual for the person, per soft sign: shown beside the sign, so "new", "worse"
    /// or "usual" is judged against it.
    #[serde(default)]
    pub usual: Vec<doorstep_model::person::UsualForMe>,
    /// The person's plan for when they become unwell, shown with the advice.
    #[serde(default)]
    pub plan: Option<CarePlan>,
    /// Who to phone first, with the number to dial, when the advice says to phone
    /// (`Directory::who_to_phone`): 999, the GP practice, the area's urgent team, the office.
    #[serde(default)]
    pub phone_first: Option<PhoneTo>,
    /// The numbers to try after the first, in order (111 is always among them when a clinician
    /// is needed).
    #[serde(default)]
    pub then_phone: Vec<PhoneTo>,
    /// The office and on-call numbers, for "no answer at the door: phone the office now".
    #[serde(default)]
    pub office: Vec<PhoneTo>,
    /// The person's previous visit with a note: the handover.
    #[serde(default)]
    pub handover: Option<Handover>,
    #[serde(default)]
    pub at_the_door: AtTheDoor,
    /// The person's record has not reached this device: readings were scored as an adult's on
    /// Scale 1.
    #[serde(default)]
    pub scored_without_record: bool,
    /// The handover to read out when the advice calls for a phone call.
    pub sbard: Option<Sbard>,
    /// What happened to the person, recorded in this visit's note, in words.
    #[serde(default)]
    pub outcomes: Vec<OutcomeRow>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskArgs {
    pub visit_id: String,
    pub key: String,
    pub done: bool,
    /// Required when not done.
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LateEntryArgs {
    pub visit_id: String,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NarrativeArgs {
    pub visit_id: String,
    pub narrative: String,
    /// The note's version the editor's text was typed against: the device applies the
    /// difference from it, so words another carer added meanwhile stay.
    #[serde(default)]
    pub base: DocVersion,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Saved {
    pub at: DateTime<Utc>,
    /// The note's text after the save, with anything merged in from others, and its version:
    /// an editor that shows this text saves its next edit against `version`.
    #[serde(default)]
    pub narrative: String,
    #[serde(default)]
    pub version: DocVersion,
    /// The version of exactly the text that was sent: an editor still showing it (the carer
    /// typed on meanwhile) saves its next edit against this, never against `version`.
    #[serde(default)]
    pub typed_version: DocVersion,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SoftSignArgs {
    pub visit_id: String,
    pub sign: SoftSign,
    /// `false` removes the observation.
    pub observed: bool,
    pub compared_to_usual: Comparison,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VitalsArgs {
    pub visit_id: String,
    pub vitals: VitalSigns,
    /// The carer checked the extreme readings they were asked about (`ErrorCode::Confirm`) and
    /// they are right.
    #[serde(default)]
    pub checked: bool,
    /// A re-check: the readings already on the note are kept as an earlier set, with their time.
    /// Without it, the new readings correct the current set.
    #[serde(default)]
    pub recheck: bool,
}

/// An earlier set of readings at this visit, as the card lists them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EarlierReadings {
    pub at: Option<DateTime<Utc>>,
    /// "NEWS2 5: Medium", or why it was not scored.
    pub summary: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FoodFluidArgs {
    pub visit_id: String,
    pub food_fluid: FoodFluid,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MoodArgs {
    pub visit_id: String,
    pub mood: Option<Mood>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdeaArgs {
    pub person_id: String,
    pub summary: String,
    pub detail: String,
    pub suggested_action: String,
    pub who_could_act: Vec<PartnerKind>,
    pub urgency: Urgency,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonArgs {
    pub person_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EditPersonArgs {
    pub person_id: String,
    /// The version the form showed ([`PersonOverview::version`]): only what was changed in the
    /// form is written, so others' edits meanwhile stay.
    #[serde(default)]
    pub base: DocVersion,
    pub what_matters_to_me: String,
    pub communication_needs: String,
    pub known_risks: Vec<String>,
    pub strengths_and_interests: Vec<String>,
}

/// What the office knows is usual for the person, as the baselines form left it, made against
/// the version the form showed ([`PersonOverview::version`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BaselinesArgs {
    pub person_id: String,
    #[serde(default)]
    pub base: DocVersion,
    pub spo2_scale: SpO2Scale,
    /// For Scale 2: the clinician who set the 88–92% target ("Dr A Shah, respiratory team").
    #[serde(default)]
    pub scale2_set_by: String,
    #[serde(default)]
    pub scale2_set_on: Option<NaiveDate>,
    #[serde(default)]
    pub scale2_review_on: Option<NaiveDate>,
    pub pregnant: bool,
    /// What is usual, per sign; an empty text removes it.
    pub usual: Vec<(SoftSign, String)>,
}

/// A manager notes the person's plan for when they become unwell; `kind: None` removes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanArgs {
    pub person_id: String,
    pub kind: Option<PlanKind>,
    pub summary: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentArgs {
    pub person_id: String,
    pub sector: Sector,
    /// `true`: they agreed; `false`: they said no.
    pub given: bool,
    /// How it was discussed and with whom.
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EditIdeaArgs {
    pub id: String,
    /// The version the form showed ([`IdeaScreen::version`]).
    #[serde(default)]
    pub base: DocVersion,
    pub summary: String,
    pub detail: String,
    pub suggested_action: String,
}

/// The manager's view of a day across all carers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManagerDay {
    pub day: NaiveDate,
    pub visits: Vec<VisitRow>,
    pub completed: usize,
    pub in_progress: usize,
    /// The day's visits not started and not yet to chase (neither late, missed nor could not
    /// happen): those still to come.
    #[serde(default)]
    pub to_come: usize,
    /// Not started and past their window's start.
    pub late: usize,
    pub missed: usize,
    /// Visits to chase now (late, missed, could not happen), most urgent first.
    #[serde(default)]
    pub chase: Vec<ChaseRow>,
    /// Calls, scores and new soft signs from today and the last 24 hours: not yet reviewed
    /// first, then most serious.
    pub attention: Vec<Attention>,
    /// People whose deterioration watch is at concern.
    #[serde(default)]
    pub at_concern: Vec<doorstep_model::view::PersonRow>,
    /// Where the attention window starts: 24 hours before the device's now.
    #[serde(default)]
    pub attention_since: DateTime<Utc>,
    pub ideas_to_review: Vec<InsightRow>,
    /// Shared items no partner has answered past the time an answer was due
    /// (`doorstep_model::routing::respond_by`), longest overdue first.
    #[serde(default)]
    pub unanswered: Vec<UnansweredShare>,
    pub sync: SyncBadge,
    /// Ideas to follow up: did it help? (see [`GetFollowUps`]).
    #[serde(default)]
    pub follow_ups_due: usize,
}

/// A shared item to chase: the partner has not answered in time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnansweredShare {
    pub idea_id: String,
    pub summary: String,
    pub partner: String,
    pub urgency: doorstep_model::Urgency,
    pub due: DateTime<Utc>,
    /// "was due by 5pm today".
    pub due_words: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attention {
    pub person_id: String,
    pub person_name: String,
    pub visit_id: String,
    /// "NEWS2 5 (medium)", "New: confused, off food".
    pub reason: String,
    /// Higher is more serious; the list is sorted by it.
    pub weight: u8,
    /// When the visit was due to start.
    #[serde(default)]
    pub at: DateTime<Utc>,
    /// "Reviewed by Mo Ahmed (M001) at 08:12", once a manager has marked it.
    #[serde(default)]
    pub reviewed: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdeaRef {
    pub id: String,
}

/// An idea under review, with what sharing it would need.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IdeaScreen {
    pub insight: Insight,
    pub person_name: Option<String>,
    /// Why it cannot be shared yet (no recorded consent...), if it cannot.
    pub cannot_share: Option<String>,
    /// What each partner was sent, where it stands and their answers, in the order shared.
    #[serde(default)]
    pub shared: Vec<SharedItemRow>,
    /// The idea's version as shown: the edit form saves against it.
    #[serde(default)]
    pub version: DocVersion,
}

/// One of the carer's ideas, with what became of it at each partner.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MyIdea {
    pub insight: Insight,
    #[serde(default)]
    pub shared: Vec<SharedItemRow>,
    /// Who the idea is about.
    #[serde(default)]
    pub person_name: Option<String>,
    /// Answers that arrived since the carer last opened "My ideas".
    #[serde(default)]
    pub new_replies: usize,
    /// Partners' messages that arrived since then.
    #[serde(default)]
    pub new_messages: usize,
    /// When "My ideas" was last opened before now: what came after is new.
    #[serde(default)]
    pub new_since: Option<DateTime<Utc>>,
}

/// A message to the partner on a shared item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyArgs {
    /// The shared item's id.
    pub id: String,
    pub text: String,
}

/// A partner answered one of the carer's ideas, and the carer has not seen it yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewReply {
    pub idea_id: String,
    pub idea_summary: String,
    pub person_name: Option<String>,
    /// Who answered: the partner ("Leeds Adult Social Care") or "The office".
    pub from: String,
    /// What they said, in words: "Action taken — OT visit booked Tuesday", "asked: Is she in
    /// on Tuesdays?", "Not taken further: the family have arranged it".
    pub said: String,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShareArgs {
    pub id: String,
    pub partners: Vec<PartnerOrg>,
    pub purpose: String,
    /// Send the person's latest soft signs and vital signs (with NEWS2) too.
    #[serde(default)]
    pub include_observations: bool,
    /// Why it goes to a partner that does not cover the person's district (needed then).
    #[serde(default)]
    pub out_of_area_reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedRef {
    /// The shared item's id, as the idea screen listed it.
    pub id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeclineArgs {
    pub id: String,
    pub reason: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CsvKind {
    People,
    Rota,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportArgs {
    pub kind: CsvKind,
    pub text: String,
}

/// A CSV import either took every row, or took none and says what is wrong with each bad row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ImportOutcome {
    Imported { created: usize, updated: usize },
    Refused { errors: Vec<RowProblem> },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowProblem {
    /// 1-based line in the file, counting the header.
    pub line: u64,
    pub problem: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrolmentCodeArgs {
    pub staff_ref: String,
    /// The name they are known by ("Sam Taylor"): put in the office's directory.
    #[serde(default)]
    pub staff_name: String,
    pub role: Role,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrolmentCode {
    pub code: String,
    /// RFC 3339, as the hub gave it.
    pub expires_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceRef {
    /// The device's id as the device list gave it.
    pub id: String,
}

/// One record one device keeps back, as the device list gave them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldBackRef {
    pub device: String,
    pub record: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchArgs {
    pub text: String,
}

/// An idea to follow up: a partner said they acted on it, and the office is asked whether it
/// helped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowUpRow {
    pub insight_id: String,
    /// The idea's version as shown: the answer is saved against it.
    pub version: DocVersion,
    pub summary: String,
    /// Who it is about, where their record is on this device.
    pub person_name: Option<String>,
    /// What each partner said they did, oldest first.
    pub actions: Vec<FollowUpAction>,
    /// The day it asks from: 30 days after the first "action taken", or after "too early to tell".
    pub due: NaiveDate,
    /// The partners' judgement, in words, where one gave it: "Riverside Surgery judged that an
    /// admission was likely avoided".
    pub judgement: Option<String>,
    /// An earlier "too early to tell": who said it and when.
    pub asked_before: Option<String>,
}

/// One partner's "action taken".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowUpAction {
    pub partner: String,
    /// The partner user who answered.
    pub by: String,
    pub said: String,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowUpArgs {
    pub insight_id: String,
    /// The version the manager saw ([`FollowUpRow::version`]).
    pub seen: DocVersion,
    pub answer: doorstep_model::outcome::HelpAnswer,
    /// Optional words ("no falls since the rail went in").
    #[serde(default)]
    pub detail: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_names_are_unique_snake_case() {
        let mut seen = std::collections::BTreeSet::new();
        for name in ALL {
            assert!(name.chars().all(|c| c.is_ascii_lowercase() || c == '_'), "{name}");
            assert!(seen.insert(name), "{name} twice");
        }
    }

    #[test]
    fn errors_travel_as_json_with_a_code() {
        let e = AppError::new(ErrorCode::WrongPin, "That PIN is not right. Try again.");
        let json = serde_json::to_string(&e).unwrap();
        assert_eq!(json, r#"{"code":"wrong_pin","message":"That PIN is not right. Try again."}"#);
        assert_eq!(serde_json::from_str::<AppError>(&json).unwrap(), e);
    }
}

/// What happened to the person, recorded at a visit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutcomeArgs {
    pub visit_id: String,
    pub kind: doorstep_model::outcome::OutcomeKind,
    /// The day it happened (UK), today or before.
    pub day: NaiveDate,
}

/// An outcome as the person page, the visit and the handover show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutcomeRow {
    /// The visit whose note holds it.
    pub visit_id: String,
    pub kind: doorstep_model::outcome::OutcomeKind,
    pub day: NaiveDate,
    /// Who recorded it, as people know them ("Priya Shah (C002)").
    pub by: String,
    pub at: DateTime<Utc>,
    /// What stood before it, in words ([`doorstep_model::outcome::OutcomeLinks::words`]).
    pub links: Vec<String>,
}
