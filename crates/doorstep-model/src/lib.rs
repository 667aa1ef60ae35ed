//! Doorstep's domain model: what a UK home-care provider records about the people it supports,
//! their visits and what carers notice, plus the clinical rules (NEWS2, SBARD, the deterioration
//! watch) that turn observations into advice.
//!
//! **Architecture Invariant:** this crate is pure: no I/O, no clock, no randomness. Callers pass
//! the time in. It builds for native and `wasm32-unknown-unknown`, so the yew UI, the app and the
//! hub share one model. Automerge support (autosurgeon derives) is behind the `automerge`
//! feature, which the UI never enables.

#[cfg(feature = "automerge")]
pub mod am;
pub mod directory;
#[cfg(feature = "automerge")]
pub mod doc_sync;
pub mod early_warning;
pub mod escalation;
pub mod ids;
pub mod insight;
pub mod news2;
pub mod nhs_number;
pub mod note;
pub mod outcome;
pub mod person;
pub mod policy;
pub mod role;
pub mod routing;
pub mod sbard;
pub mod shared;
pub mod view;
pub mod visit;
pub mod watch;

pub use directory::{AreaService, Directory, DirectoryId, PhoneContact, ServiceKind, StaffMember};
pub use ids::{DocVersion, InsightId, NoteId, PersonId, RecordKind, SharedItemId, StaffId, VisitId};
pub use insight::{Comment, ConsentBasis, Insight, InsightStatus, PartnerKind, PartnerOrg, Sector, Share, Urgency};
pub use news2::{Acvpu, News2Assessment, RiskBand, SpO2Scale, VitalSigns};
pub use nhs_number::{NhsNumber, NhsNumberError};
pub use note::{
    CallOutcome, CallRecord, CallTarget, Comparison, FoodFluid, Intake, LateEntry, Mood, NoteAuthor, SoftSign,
    SoftSignObservation, TimedVitals, VisitNote,
};
pub use outcome::{FollowUp, HelpAnswer, OutcomeKind, OutcomeLinks, PersonOutcome};
pub use person::{
    Address, CarePlan, ClinicalSetting, ConsentRecord, ConsentToShare, Contact, Person, PersonName, PlanKind,
};
pub use role::Role;
pub use shared::{
    Handling, PartnerResponse, ProviderRef, ResponseOutcome, ShareChoices, SharedItem, SharedKind, SharedObservations,
    SharedPerson, SharedStatus, ThreadMessage, ThreadSide,
};
pub use visit::{
    Chase, CouldNotReason, CouldNotVisit, Reviewed, Task, TaskKind, TaskOutcome, TimeWindow, Visit, VisitError,
    VisitStatus,
};
