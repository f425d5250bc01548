//! Python bindings for BankFlow: the private native module `bankflow._bankflow`, wrapped by
//! the pure-Python package `bankflow` (see `python/bankflow/__init__.py`).
//!
//! Architecture invariant: this crate converts types and errors and nothing else. Every
//! rule (validation, authorisation, money arithmetic) is `bankflow-core`'s.
#![warn(missing_docs)]

mod adapters;
mod bank;
mod convert;
mod error;
mod ops;
mod people;
mod runtime;
mod types;

use pyo3::prelude::*;

/// The native module.
#[pymodule]
fn _bankflow(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<bank::Bank>()?;
    m.add_class::<adapters::KafkaRelay>()?;
    m.add_class::<types::Account>()?;
    m.add_class::<types::Transaction>()?;
    m.add_class::<types::Balance>()?;
    m.add_class::<types::Statement>()?;
    m.add_class::<types::StatementLine>()?;
    m.add_class::<types::LedgerReport>()?;
    m.add_class::<people::User>()?;
    m.add_class::<people::Login>()?;
    m.add_class::<people::MfaSetup>()?;
    m.add_class::<people::Customer>()?;
    m.add_class::<people::Document>()?;
    m.add_class::<people::Kyc>()?;
    m.add_class::<ops::FraudRuleInfo>()?;
    m.add_class::<ops::ListEntryInfo>()?;
    m.add_class::<ops::FraudCaseInfo>()?;
    m.add_class::<ops::Notification>()?;
    m.add_class::<ops::NotificationPreference>()?;
    m.add_class::<ops::AuditEntry>()?;
    m.add_class::<ops::AuditReport>()?;
    error::register(m)?;
    Ok(())
}
