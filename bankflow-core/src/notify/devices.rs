//! The push device registry: a user registers, lists and unregisters the push tokens of
//! their installs; pushes fan out to every registered device (see `service.rs`).

use crate::auth::Actor;
use crate::error::{BankError, BankResult};
use crate::ids::DeviceId;
use crate::notify::service::{user_id_of, NotificationService};
use crate::notify::{check_device_token, Platform, PushDevice, DEVICES_PER_USER_MAX};
use crate::ports::TxMode;

/// What a refused or foreign device answers: the same 404 whether it does not exist or is
/// another user's (no probing of others' devices).
const DEVICE_NOT_FOUND: BankError = BankError::NotFound {
    resource: "push device",
};

impl NotificationService<'_> {
    /// Registers a push token for the caller's install. Re-registering a token the caller
    /// already has refreshes it (and its platform); a token registered to another user moves
    /// to the caller (the install changed hands: the previous owner stops getting its
    /// pushes). A new token beyond [`DEVICES_PER_USER_MAX`] devices is refused
    /// `limit_exceeded`.
    pub async fn register_device(
        &self,
        actor: &Actor,
        platform: &str,
        token: &str,
    ) -> BankResult<PushDevice> {
        let user = user_id_of(actor)?;
        let platform = Platform::parse(platform)?;
        check_device_token(token)?;
        self.write(|uow, _ev, _| {
            Box::pin(async {
                let (uow, _ev) = (uow, _ev);
                let now = self.now_us();
                match uow.device_by_token(token).await? {
                    Some(mut d) if d.user_id == user => {
                        d.platform = platform;
                        d.updated_at = now;
                        uow.update_device(&d).await?;
                        return Ok(d);
                    }
                    Some(other) => {
                        // A fresh id for the new owner: the old owner's id stops resolving.
                        uow.delete_device(other.id).await?;
                    }
                    None => {}
                }
                let owned = uow.devices_of_user(user, DEVICES_PER_USER_MAX).await?;
                if owned.len() >= DEVICES_PER_USER_MAX as usize {
                    return Err(BankError::LimitExceeded(format!(
                        "at most {DEVICES_PER_USER_MAX} push devices per user: unregister one first"
                    )));
                }
                let d = PushDevice {
                    id: DeviceId(self.new_uuid()),
                    user_id: user,
                    platform,
                    token: token.to_string(),
                    created_at: now,
                    updated_at: now,
                };
                uow.insert_device(&d).await?;
                Ok(d)
            })
        })
        .await
    }

    /// The caller's push devices, oldest first (at most [`DEVICES_PER_USER_MAX`]).
    pub async fn devices(&self, actor: &Actor) -> BankResult<Vec<PushDevice>> {
        let user = user_id_of(actor)?;
        self.k
            .store
            .begin(TxMode::Read)
            .await?
            .devices_of_user(user, DEVICES_PER_USER_MAX)
            .await
    }

    /// Unregisters one of the caller's devices; another user's device is `not_found`.
    pub async fn unregister_device(&self, actor: &Actor, id: DeviceId) -> BankResult<()> {
        let user = user_id_of(actor)?;
        self.write(|uow, _ev, _| {
            Box::pin(async {
                let (uow, _ev) = (uow, _ev);
                match uow.device(id).await? {
                    Some(d) if d.user_id == user => {
                        uow.delete_device(id).await?;
                        Ok(())
                    }
                    _ => Err(DEVICE_NOT_FOUND),
                }
            })
        })
        .await
    }
}
