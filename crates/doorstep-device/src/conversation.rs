//! The conversation on a shared item between the partner and the provider's people: the care
//! worker who raised the idea and the office write to the partner from their tablets, offline;
//! the message goes at the next sync, and the hub checks the same write policy
//! (`doorstep_model::policy`: a carer writes only messages, in their own name, on their own idea).

use doorstep_commands::{AppError, ErrorCode, ReplyArgs};
use doorstep_model::policy::WritePolicy;
use doorstep_model::view::SharedItemRow;
use doorstep_model::{SharedItem, StaffId, ThreadMessage, ThreadSide};
use uuid::Uuid;

use crate::{Device, storage_error};

impl Device {
    /// Writes to the partner on a shared item; answers the item as lists show it.
    pub async fn reply_to_partner(&self, args: ReplyArgs) -> Result<SharedItemRow, AppError> {
        let who = self.unlocked().await?;
        let mut store = self.db().await?;
        let directory = crate::directory::directory_of(&store)?;
        let staff = StaffId::new(who.staff_ref.clone());
        let message = ThreadMessage {
            key: Uuid::new_v4().to_string(),
            side: ThreadSide::Provider,
            by: directory.staff_label(&who.staff_ref),
            staff: who.staff_ref.clone(),
            at: self.now(),
            text: args.text,
        };
        let item = store
            .update::<SharedItem>(&args.id, |after| {
                let seen = after.clone();
                after.post(message).map_err(|e| doorstep_store::StoreError::Invalid(e.to_string()))?;
                // The hub's own rule, checked here first: what the app allows, the hub takes.
                SharedItem::check_write(Some(&seen), after, who.writer(&staff))
                    .map_err(|r| doorstep_store::StoreError::Invalid(r.0))
            })
            .map_err(storage_error)?;
        drop(store);
        self.sync_soon();
        let store = self.db().await?;
        store
            .shared_items_of(&item.insight_id.to_string())
            .map_err(storage_error)?
            .into_iter()
            .find(|row| row.id == args.id)
            .ok_or_else(|| AppError::new(ErrorCode::NotFound, "That shared item is no longer on this tablet."))
    }
}
