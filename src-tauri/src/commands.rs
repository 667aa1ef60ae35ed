//! The Tauri commands: one line each, from the UI's arguments to the device core. Names, argument
//! and answer types are those of `doorstep-commands`, which the UI compiles against too.

use std::sync::Arc;

use doorstep_commands as c;
use doorstep_commands::AppError;
use doorstep_device::Device;
use doorstep_model::view::{DeviceRow, PersonOverview, SearchHit};
use doorstep_model::{Insight, PartnerOrg};
use tauri::State;

type Core<'a> = State<'a, Arc<Device>>;
type Answer<T> = Result<T, AppError>;

/// Registers the commands once: the builder's handler, and their names for the test below,
/// which checks them against `doorstep_commands::ALL`.
macro_rules! register {
    ($($name:ident),* $(,)?) => {
        pub fn handler() -> impl Fn(tauri::ipc::Invoke) -> bool + Send + Sync + 'static {
            tauri::generate_handler![$($name),*]
        }

        #[cfg(test)]
        const REGISTERED: &[&str] = &[$(stringify!($name)),*];
    };
}

register![
    get_session,
    enrol,
    unlock,
    lock,
    sign_out,
    today,
    visit,
    check_in,
    check_out,
    record_task,
    save_narrative,
    set_soft_sign,
    record_vitals,
    record_call,
    could_not_visit,
    record_outcome,
    outcomes,
    add_late_entry,
    new_replies,
    mark_reviewed,
    set_food_fluid,
    set_mood,
    record_idea,
    person,
    edit_person,
    record_consent,
    record_plan,
    record_baselines,
    directory,
    edit_directory,
    my_ideas,
    sync_status,
    sync_now,
    retry_held_back,
    ask_held_back_retry,
    manager_day,
    idea,
    partners,
    partner_suggestions,
    reply_to_partner,
    share_idea,
    stop_sharing,
    edit_idea,
    decline_idea,
    import_csv,
    create_enrolment_code,
    devices,
    revoke_device,
    discard_held_back,
    search,
    early_warning,
    follow_ups,
    answer_follow_up,
];

#[tauri::command]
async fn get_session(core: Core<'_>, args: ()) -> Answer<c::Session> {
    let () = args;
    core.session().await
}

#[tauri::command]
async fn enrol(core: Core<'_>, args: c::EnrolArgs) -> Answer<c::Session> {
    core.enrol(args).await
}

#[tauri::command]
async fn unlock(core: Core<'_>, args: c::UnlockArgs) -> Answer<c::Session> {
    core.unlock(&args.pin).await
}

#[tauri::command]
async fn lock(core: Core<'_>, args: ()) -> Answer<c::Session> {
    let () = args;
    core.lock().await
}

#[tauri::command]
async fn sign_out(core: Core<'_>, args: ()) -> Answer<c::Session> {
    let () = args;
    core.sign_out().await
}

#[tauri::command]
async fn today(core: Core<'_>, args: c::DayArgs) -> Answer<c::Today> {
    core.today(args).await
}

#[tauri::command]
async fn visit(core: Core<'_>, args: c::VisitArgs) -> Answer<c::VisitScreen> {
    core.visit(&args.visit_id).await
}

#[tauri::command]
async fn check_in(core: Core<'_>, args: c::VisitArgs) -> Answer<c::VisitScreen> {
    core.check_in(&args.visit_id).await
}

#[tauri::command]
async fn check_out(core: Core<'_>, args: c::CheckOutArgs) -> Answer<c::VisitScreen> {
    core.check_out(args).await
}

#[tauri::command]
async fn record_call(core: Core<'_>, args: c::RecordCallArgs) -> Answer<c::VisitScreen> {
    core.record_call(args).await
}

#[tauri::command]
async fn record_task(core: Core<'_>, args: c::TaskArgs) -> Answer<c::VisitScreen> {
    core.record_task(args).await
}

#[tauri::command]
async fn save_narrative(core: Core<'_>, args: c::NarrativeArgs) -> Answer<c::Saved> {
    core.save_narrative(args).await
}

#[tauri::command]
async fn set_soft_sign(core: Core<'_>, args: c::SoftSignArgs) -> Answer<c::VisitScreen> {
    core.set_soft_sign(args).await
}

#[tauri::command]
async fn record_vitals(core: Core<'_>, args: c::VitalsArgs) -> Answer<c::VisitScreen> {
    core.record_vitals(args).await
}

#[tauri::command]
async fn set_food_fluid(core: Core<'_>, args: c::FoodFluidArgs) -> Answer<c::VisitScreen> {
    core.set_food_fluid(args).await
}

#[tauri::command]
async fn set_mood(core: Core<'_>, args: c::MoodArgs) -> Answer<c::VisitScreen> {
    core.set_mood(args).await
}

#[tauri::command]
async fn record_idea(core: Core<'_>, args: c::IdeaArgs) -> Answer<Insight> {
    core.record_idea(args).await
}

#[tauri::command]
async fn person(core: Core<'_>, args: c::PersonArgs) -> Answer<PersonOverview> {
    core.person(&args.person_id).await
}

#[tauri::command]
async fn edit_person(core: Core<'_>, args: c::EditPersonArgs) -> Answer<PersonOverview> {
    core.edit_person(args).await
}

#[tauri::command]
async fn record_consent(core: Core<'_>, args: c::ConsentArgs) -> Answer<PersonOverview> {
    core.record_consent(args).await
}

#[tauri::command]
async fn my_ideas(core: Core<'_>, args: ()) -> Answer<Vec<c::MyIdea>> {
    let () = args;
    core.my_ideas().await
}

#[tauri::command]
async fn sync_status(core: Core<'_>, args: ()) -> Answer<c::SyncBadge> {
    let () = args;
    core.sync_badge().await
}

#[tauri::command]
async fn sync_now(core: Core<'_>, args: ()) -> Answer<c::SyncBadge> {
    let () = args;
    core.sync_now().await
}

#[tauri::command]
async fn retry_held_back(core: Core<'_>, args: ()) -> Answer<c::SyncBadge> {
    let () = args;
    core.retry_held_back().await
}

#[tauri::command]
async fn ask_held_back_retry(core: Core<'_>, args: ()) -> Answer<Vec<DeviceRow>> {
    let () = args;
    core.ask_held_back_retry().await
}

#[tauri::command]
async fn manager_day(core: Core<'_>, args: c::DayArgs) -> Answer<c::ManagerDay> {
    core.manager_day(args).await
}

#[tauri::command]
async fn idea(core: Core<'_>, args: c::IdeaRef) -> Answer<c::IdeaScreen> {
    core.idea(&args.id).await
}

#[tauri::command]
async fn partners(core: Core<'_>, args: ()) -> Answer<Vec<PartnerOrg>> {
    let () = args;
    core.partners().await
}

#[tauri::command]
async fn partner_suggestions(core: Core<'_>, args: c::IdeaRef) -> Answer<Vec<doorstep_model::routing::Suggestion>> {
    core.partner_suggestions(args).await
}

#[tauri::command]
async fn reply_to_partner(core: Core<'_>, args: c::ReplyArgs) -> Answer<doorstep_model::view::SharedItemRow> {
    core.reply_to_partner(args).await
}

#[tauri::command]
async fn share_idea(core: Core<'_>, args: c::ShareArgs) -> Answer<c::IdeaScreen> {
    core.share_idea(args).await
}

#[tauri::command]
async fn stop_sharing(core: Core<'_>, args: c::SharedRef) -> Answer<c::IdeaScreen> {
    core.stop_sharing(args).await
}

#[tauri::command]
async fn edit_idea(core: Core<'_>, args: c::EditIdeaArgs) -> Answer<c::IdeaScreen> {
    core.edit_idea(args).await
}

#[tauri::command]
async fn decline_idea(core: Core<'_>, args: c::DeclineArgs) -> Answer<c::IdeaScreen> {
    core.decline_idea(args).await
}

#[tauri::command]
async fn import_csv(core: Core<'_>, args: c::ImportArgs) -> Answer<c::ImportOutcome> {
    core.import_csv(args).await
}

#[tauri::command]
async fn create_enrolment_code(core: Core<'_>, args: c::EnrolmentCodeArgs) -> Answer<c::EnrolmentCode> {
    core.create_enrolment_code(args).await
}

#[tauri::command]
async fn devices(core: Core<'_>, args: ()) -> Answer<Vec<DeviceRow>> {
    let () = args;
    core.devices().await
}

#[tauri::command]
async fn revoke_device(core: Core<'_>, args: c::DeviceRef) -> Answer<Vec<DeviceRow>> {
    core.revoke_device(&args.id).await
}

#[tauri::command]
async fn discard_held_back(core: Core<'_>, args: c::HeldBackRef) -> Answer<Vec<DeviceRow>> {
    core.discard_held_back(args).await
}

#[tauri::command]
async fn record_plan(core: Core<'_>, args: c::PlanArgs) -> Answer<PersonOverview> {
    core.record_plan(args).await
}

#[tauri::command]
async fn record_baselines(core: Core<'_>, args: c::BaselinesArgs) -> Answer<PersonOverview> {
    core.record_baselines(args).await
}

#[tauri::command]
async fn could_not_visit(core: Core<'_>, args: c::CouldNotArgs) -> Answer<c::VisitScreen> {
    core.could_not_visit(args).await
}

#[tauri::command]
async fn record_outcome(core: Core<'_>, args: c::OutcomeArgs) -> Answer<c::VisitScreen> {
    core.record_outcome(args).await
}

#[tauri::command]
async fn outcomes(core: Core<'_>, args: c::PersonArgs) -> Answer<Vec<c::OutcomeRow>> {
    core.outcomes_of(&args.person_id).await
}

#[tauri::command]
async fn add_late_entry(core: Core<'_>, args: c::LateEntryArgs) -> Answer<c::VisitScreen> {
    core.add_late_entry(args).await
}

#[tauri::command]
async fn new_replies(core: Core<'_>, args: ()) -> Answer<Vec<c::NewReply>> {
    let () = args;
    core.new_replies().await
}

#[tauri::command]
async fn mark_reviewed(core: Core<'_>, args: c::VisitArgs) -> Answer<c::ManagerDay> {
    core.mark_reviewed(&args.visit_id).await
}

#[tauri::command]
async fn directory(core: Core<'_>, args: ()) -> Answer<c::DirectoryScreen> {
    let () = args;
    core.directory().await
}

#[tauri::command]
async fn edit_directory(core: Core<'_>, args: c::EditDirectoryArgs) -> Answer<c::DirectoryScreen> {
    core.edit_directory(args).await
}

#[tauri::command]
async fn search(core: Core<'_>, args: c::SearchArgs) -> Answer<Vec<SearchHit>> {
    core.search(&args.text).await
}

#[tauri::command]
async fn early_warning(core: Core<'_>, args: ()) -> Answer<doorstep_model::early_warning::EarlyWarning> {
    let () = args;
    core.early_warning().await
}

#[tauri::command]
async fn follow_ups(core: Core<'_>, args: ()) -> Answer<Vec<c::FollowUpRow>> {
    let () = args;
    core.follow_ups().await
}

#[tauri::command]
async fn answer_follow_up(core: Core<'_>, args: c::FollowUpArgs) -> Answer<Vec<c::FollowUpRow>> {
    core.answer_follow_up(args).await
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_command_the_ui_knows_is_registered() {
        let mut registered = super::REGISTERED.to_vec();
        let mut known = doorstep_commands::ALL.to_vec();
        registered.sort_unstable();
        known.sort_unstable();
        assert_eq!(registered, known);
    }
}
