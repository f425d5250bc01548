//! The money context: accounts, the double-entry ledger, transfers (internal, two-phase,
//! linked batches, payments out of the bank), bookings, reversals, holds, statements.
//!
//! [`MoneyService`] is the context's face (`bank.money()`); its commands are [`Command`]s
//! run by the engine's one executor (`crate::executor`), alone or in a commit group. The pure
//! rules live beside it: `crate::account` (accounts, limits), `crate::ledger` (journals),
//! `crate::movement` (check and plan a movement), `crate::transaction` (the read model).

mod accounts;
mod approval;
mod approvals;
mod command;
mod model;
mod movements;
mod queries;
mod resolve;
mod service;
mod trail;
mod unit;

pub use approval::*;
pub(crate) use command::{Command, Outcome};
pub use model::*;
pub(crate) use model::{sorted_ids, validate_description, EVENTS_PER_COMMAND_TYPICAL};
pub(crate) use resolve::Resolve;

crate::bank::context_service!(
    /// The money context's use cases: `bank.money()`.
    MoneyService,
    money
);
