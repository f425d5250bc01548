//! Who is acting: the principal every use case is authorised against.
//!
//! The engine, not the HTTP layer, decides who may touch what, so every adapter (HTTP,
//! Python, Node) enforces the same rules: a customer reaches only their own resources
//! (anything else is `not_found`, never revealing that it exists), admin-only actions are
//! `forbidden` to others.

use serde::{Deserialize, Serialize};

use crate::account::{string_enum, Account};
use crate::error::{BankError, BankResult};
use crate::ids::{CustomerId, UserId};

string_enum!(
    /// A role granted to a user.
    Role, "role" {
        /// A bank customer.
        Customer = "customer",
        /// Back-office staff: every admin action (KYC decisions, freezes, reversals, rules).
        Admin = "admin",
        /// Support staff: read access to customers and transactions, no money movement.
        Support = "support",
    }
);

/// The acting principal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// The user, if a person acts.
    pub user_id: Option<UserId>,
    /// The user's customer profile, if any.
    pub customer_id: Option<CustomerId>,
    /// Granted roles.
    pub roles: Vec<Role>,
    /// True for the embedding program itself (trusted, like an admin, but not a person).
    pub system: bool,
}

impl Actor {
    /// The embedding program itself: may do everything.
    pub fn system() -> Actor {
        Actor {
            user_id: None,
            customer_id: None,
            roles: Vec::new(),
            system: true,
        }
    }

    /// A customer user.
    pub fn customer(user_id: UserId, customer_id: Option<CustomerId>) -> Actor {
        Actor {
            user_id: Some(user_id),
            customer_id,
            roles: vec![Role::Customer],
            system: false,
        }
    }

    /// An admin user.
    pub fn admin(user_id: UserId) -> Actor {
        Actor {
            user_id: Some(user_id),
            customer_id: None,
            roles: vec![Role::Admin],
            system: false,
        }
    }

    /// True for admins and the system.
    pub fn is_admin(&self) -> bool {
        self.system || self.roles.contains(&Role::Admin)
    }

    /// True for admins, support staff and the system.
    pub fn is_staff(&self) -> bool {
        self.is_admin() || self.roles.contains(&Role::Support)
    }

    /// Refuses everyone but staff (admins, support, the system).
    pub fn require_staff(&self) -> BankResult<()> {
        if self.is_staff() {
            Ok(())
        } else {
            Err(BankError::Forbidden("staff only".into()))
        }
    }

    /// Refuses non-admins.
    pub fn require_admin(&self) -> BankResult<()> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(BankError::Forbidden("admin role required".into()))
        }
    }

    /// True when this actor may see resources of `customer`.
    pub fn may_read_customer(&self, customer: CustomerId) -> bool {
        self.is_staff() || self.customer_id == Some(customer)
    }

    /// True when this actor may move money out of / manage resources of `customer`.
    pub fn may_act_for_customer(&self, customer: CustomerId) -> bool {
        self.is_admin() || self.customer_id == Some(customer)
    }

    /// `not_found` unless the actor may read the account (BOLA protection).
    pub fn check_read(&self, account: &Account) -> BankResult<()> {
        if self.may_read_customer(account.customer_id) {
            Ok(())
        } else {
            Err(self.refuse_foreign("account", account.id))
        }
    }

    /// `not_found` unless the actor may act on the account.
    pub fn check_act(&self, account: &Account) -> BankResult<()> {
        if self.may_act_for_customer(account.customer_id) {
            Ok(())
        } else {
            Err(self.refuse_foreign("account", account.id))
        }
    }

    /// The answer to a request for a resource that exists but is not this actor's: the same
    /// `not_found` an unknown id gets (nothing to enumerate), plus one security log line and
    /// a counter, so a probe of other customers' ids is visible to the bank.
    pub fn refuse_foreign(&self, resource: &'static str, id: impl std::fmt::Display) -> BankError {
        crate::telemetry::foreign_resource_refused(self, resource, &id.to_string());
        BankError::NotFound { resource }
    }

    /// The idempotency scope of this actor: keys of different callers never collide.
    pub fn idempotency_scope(&self) -> String {
        match (self.system, self.user_id) {
            (true, _) => "system".to_string(),
            (false, Some(u)) => format!("user:{u}"),
            (false, None) => "anonymous".to_string(),
        }
    }
}
