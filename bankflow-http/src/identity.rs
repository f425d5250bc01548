//! Lookups between users and customers, and the first-start admin.

use bankflow_core::{BankError, CustomerId, UserId};

use crate::error::ApiResult;
use crate::state::{AppState, Auth};

/// The customer profile of `user`, as the caller may see it (`not_found` otherwise).
pub async fn customer_of_user(
    state: &AppState,
    auth: &Auth,
    user: UserId,
) -> ApiResult<CustomerId> {
    if auth.actor.user_id == Some(user) {
        if let Some(c) = auth.actor.customer_id {
            return Ok(c);
        }
    }
    match state
        .bank
        .customers()
        .customer_of_user(&auth.actor, user)
        .await
    {
        Ok(c) => Ok(c.id),
        Err(BankError::Forbidden(_)) => Err(BankError::NotFound {
            resource: "customer",
        }
        .into()),
        Err(e) => Err(e.into()),
    }
}

/// Creates the first admin from the configured email and password when no admin exists.
pub async fn bootstrap_admin(
    state: &AppState,
    email: Option<&str>,
    password: Option<&str>,
) -> Result<(), crate::serve::CliError> {
    match (email, password) {
        (Some(e), Some(p)) => {
            match state.bank.identity().ensure_admin(e, p).await? {
                Some(id) => tracing::info!(user_id = %id, "created the first admin"),
                // Only the first admin comes from configuration; later ones are granted by an
                // admin, and a configured password never overwrites a stored one.
                None => tracing::info!("an admin exists; BANKFLOW_ADMIN_EMAIL/PASSWORD not used"),
            }
            Ok(())
        }
        (None, None) => Ok(()),
        _ => Err("set both BANKFLOW_ADMIN_EMAIL and BANKFLOW_ADMIN_PASSWORD, or neither".into()),
    }
}
