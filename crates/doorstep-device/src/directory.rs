//! The provider's directory on this device: read by every screen that names staff or offers a
//! number to phone, kept by managers.

use doorstep_commands::{AppError, DirectoryScreen, EditDirectoryArgs, ErrorCode};
use doorstep_model::view::VisitRow;
use doorstep_model::{Directory, DirectoryId, Role, StaffId, StaffMember};
use doorstep_store::{Store, StoreError};
use uuid::Uuid;

use crate::{Device, storage_error};

/// The directory this device holds; an empty one (999 and 111 still offered) before the office's
/// has synced, or on a device enrolled before the organisation was recorded.
pub(crate) fn directory_of(store: &Store) -> Result<Directory, AppError> {
    Ok(directory_versioned(store)?.0)
}

fn directory_versioned(store: &Store) -> Result<(Directory, doorstep_model::DocVersion), AppError> {
    let Some(org) = organisation(store)? else { return Ok(Default::default()) };
    let id = DirectoryId::for_provider(org).to_string();
    match store.get_versioned::<Directory>(&id) {
        Ok(found) => Ok(found),
        Err(StoreError::NotFound { .. }) => {
            let empty = Directory::new(org);
            let version = store.genesis_version(&empty).map_err(storage_error)?;
            Ok((empty, version))
        }
        Err(e) => Err(storage_error(e)),
    }
}

fn organisation(store: &Store) -> Result<Option<Uuid>, AppError> {
    Ok(store.setting("organisation_id").map_err(storage_error)?.and_then(|id| Uuid::parse_str(&id).ok()))
}

/// Names staff in the provider's directory (from a rota's names or an enrolment code): one
/// change to the names given, so other managers' edits to the directory stay.
pub(crate) fn name_staff(store: &mut Store, names: &[(StaffId, String)]) -> Result<(), AppError> {
    let Some(org) = organisation(store)? else { return Ok(()) };
    let named: Vec<&(StaffId, String)> = names.iter().filter(|(_, n)| !n.trim().is_empty()).collect();
    if named.is_empty() {
        return Ok(());
    }
    let id = DirectoryId::for_provider(org).to_string();
    if matches!(store.get::<Directory>(&id), Err(StoreError::NotFound { .. })) {
        store.put(&Directory::new(org)).map_err(storage_error)?;
    }
    store
        .update::<Directory>(&id, |directory| {
            for (reference, name) in &named {
                directory.set_staff_name(reference, name);
            }
            directory.validate().map_err(|e| StoreError::Invalid(e.to_string()))
        })
        .map_err(storage_error)?;
    Ok(())
}

/// Puts staff names beside the references on visit rows ("Ben Okafor (C002)").
pub(crate) fn name_carers(directory: &Directory, rows: &mut [VisitRow]) {
    for row in rows {
        row.carer_names = row.carers.iter().map(|c| directory.staff_label(c)).collect();
    }
}

impl Device {
    pub async fn directory(&self) -> Result<DirectoryScreen, AppError> {
        let who = self.unlocked().await?;
        let store = self.db().await?;
        screen(&store, who.role)
    }

    /// A manager's change to the directory, applied to the version their form showed.
    pub async fn edit_directory(&self, args: EditDirectoryArgs) -> Result<DirectoryScreen, AppError> {
        self.manager().await?;
        let mut store = self.db().await?;
        let Some(org) = organisation(&store)? else {
            return Err(AppError::new(
                ErrorCode::Invalid,
                "This device was set up before the directory needed its organisation. Enrol it again with a new code.",
            ));
        };
        let mut edited = Directory::new(org);
        edited.office_phone = args.office_phone.trim().to_string();
        edited.office_hours = args.office_hours.trim().to_string();
        edited.on_call_phone = args.on_call_phone.trim().to_string();
        edited.services = args
            .services
            .into_iter()
            .map(|mut s| {
                s.name = s.name.trim().to_string();
                s.phone = s.phone.trim().to_string();
                s.hours = s.hours.trim().to_string();
                s.districts = s.districts.iter().map(|d| d.trim().to_uppercase()).filter(|d| !d.is_empty()).collect();
                if s.id.trim().is_empty() {
                    s.id = Uuid::new_v4().to_string();
                }
                s
            })
            .collect();
        edited.staff = args.staff.into_iter().filter(|m| !m.display_name.trim().is_empty()).collect();
        for member in &mut edited.staff {
            member.display_name = member.display_name.trim().to_string();
        }
        if let Err(e) = edited.validate() {
            let error = AppError::new(ErrorCode::Invalid, e.to_string());
            return Err(match field_at_fault(&edited) {
                Some(field) => error.about(&field),
                None => error,
            });
        }
        let id = edited.id.to_string();
        if matches!(store.get::<Directory>(&id), Err(StoreError::NotFound { .. })) {
            store.put(&Directory::new(org)).map_err(storage_error)?;
        }
        store
            .update_from::<Directory>(&id, &args.base, |d| {
                *d = edited;
                Ok(())
            })
            .map_err(storage_error)?;
        screen(&store, Role::Manager)
    }
}

/// Which part of a directory the manager must fix, named as in [`EditDirectoryArgs`]:
/// `office_phone`, `on_call_phone`, `office_hours`, `services.<i>` (its place in the list),
/// `staff.<reference>` (their name) or `staff.<reference>.phone`; none when the problem is the
/// whole list (too many).
fn field_at_fault(edited: &Directory) -> Option<String> {
    let alone = |set: &dyn Fn(&mut Directory)| {
        let mut part = Directory::new(edited.provider);
        set(&mut part);
        part.validate().is_err()
    };
    if alone(&|d| d.office_phone.clone_from(&edited.office_phone)) {
        return Some("office_phone".into());
    }
    if alone(&|d| d.on_call_phone.clone_from(&edited.on_call_phone)) {
        return Some("on_call_phone".into());
    }
    if alone(&|d| d.office_hours.clone_from(&edited.office_hours)) {
        return Some("office_hours".into());
    }
    if let Some(i) = edited.services.iter().position(|s| s.validate().is_err()) {
        return Some(format!("services.{i}"));
    }
    let member = edited.staff.iter().find(|m| alone(&|d| d.staff = vec![(*m).clone()]))?;
    let without_phone = StaffMember { phone: String::new(), ..member.clone() };
    Some(if alone(&|d| d.staff = vec![without_phone.clone()]) {
        format!("staff.{}", member.reference.as_str())
    } else {
        format!("staff.{}.phone", member.reference.as_str())
    })
}

fn screen(store: &Store, role: Role) -> Result<DirectoryScreen, AppError> {
    let (directory, version) = directory_versioned(store)?;
    let mut unnamed_staff: Vec<String> = store
        .carers_on_rota()
        .map_err(storage_error)?
        .into_iter()
        .filter(|c| directory.staff_name(c).is_none())
        .collect();
    unnamed_staff.sort();
    unnamed_staff.dedup();
    Ok(DirectoryScreen { directory, version, may_edit: role == Role::Manager, unnamed_staff })
}
