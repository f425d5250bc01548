//! Insider controls on user accounts: an admin deactivates or reactivates a user (sessions
//! revoked at once), and the rule that staff enrol TOTP before any staff function works
//! (PCI DSS v4 req. 8, finding 9 of the security review).

use serde_json::json;

use crate::audit::AuditEvent;
use crate::auth::{Actor, Role};
use crate::bank::Inner;
use crate::error::{BankError, BankResult};
use crate::fraud_port::RequestContext;
use crate::identity::UserRecord;
use crate::ids::UserId;

use super::service::{IdentityService, UserView};

impl IdentityService<'_> {
    /// Deactivates a user (admin): they can no longer sign in (refused exactly like wrong
    /// credentials) or refresh, and every session of theirs is revoked in the same unit, so
    /// their access tokens are refused on the next request. An admin cannot deactivate
    /// themselves (the last admin would lock the bank out). Audited as `user.deactivated`.
    pub async fn deactivate_user(
        &self,
        actor: &Actor,
        user: UserId,
        ctx: &RequestContext,
    ) -> BankResult<UserView> {
        actor.require_admin()?;
        if actor.user_id == Some(user) {
            return Err(BankError::validation(
                "id",
                "admins cannot deactivate themselves",
            ));
        }
        self.set_active(actor, user, false, ctx).await
    }

    /// Reactivates a deactivated user (admin): they may sign in again (their old sessions
    /// stay revoked). Audited as `user.reactivated`.
    pub async fn reactivate_user(
        &self,
        actor: &Actor,
        user: UserId,
        ctx: &RequestContext,
    ) -> BankResult<UserView> {
        actor.require_admin()?;
        self.set_active(actor, user, true, ctx).await
    }

    async fn set_active(
        &self,
        actor: &Actor,
        user: UserId,
        active: bool,
        ctx: &RequestContext,
    ) -> BankResult<UserView> {
        let u = self
            .write(|uow, _ev, _| {
                Box::pin(async {
                    let (uow, _ev) = (uow, _ev);
                    let now = self.now_us();
                    let mut u = Inner::load_user(uow, user).await?;
                    if u.is_active == active {
                        let state = if active { "active" } else { "deactivated" };
                        return Err(BankError::InvalidState(format!(
                            "the user is already {state}"
                        )));
                    }
                    u.is_active = active;
                    u.updated_at = now;
                    uow.update_user(&u).await?;
                    // Reactivation revokes nothing new; deactivation ends every session now.
                    let revoked = if active {
                        0
                    } else {
                        uow.revoke_user_sessions(user, now).await?
                    };
                    let action = if active {
                        "user.reactivated"
                    } else {
                        "user.deactivated"
                    };
                    let ev = AuditEvent::new(action, "user", user)
                        .detail(json!({"sessions_revoked": revoked}))
                        .ctx(ctx);
                    self.audit(uow, actor, ev).await?;
                    Ok(u)
                })
            })
            .await?;
        let customer = self.customer_id_of(u.id).await?;
        Ok(Inner::user_view(&u, customer))
    }
}

impl Inner {
    /// True when `user` holds a staff role but has not enrolled TOTP yet and the engine
    /// requires staff MFA ([`crate::BankConfig::staff_mfa_required`]): such a session may
    /// only enrol MFA, read its own profile and sign out until it does.
    pub(super) fn staff_mfa_pending(&self, user: &UserRecord) -> bool {
        self.config.staff_mfa_required
            && !user.mfa_enabled
            && user
                .roles
                .iter()
                .any(|r| matches!(r, Role::Admin | Role::Support))
    }
}
