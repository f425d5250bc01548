//! Maps sqlx/PostgreSQL failures onto the engine's typed errors.
//!
//! Messages name the SQLSTATE class and, for constraints, the constraint only: never SQL text
//! or row data (which may hold personal data).

use bankflow_core::BankError;

/// SQLSTATEs after which re-running the whole unit of work may succeed.
const TRANSIENT_STATES: &[(&str, &str)] = &[
    ("40001", "serialization failure"),
    ("40P01", "deadlock detected"),
    ("55P03", "lock not available"),
    ("57014", "statement cancelled (timeout)"),
    ("25P02", "transaction aborted by an earlier failure"),
    ("57P01", "server shutting down"),
    ("53300", "too many connections"),
];

/// The resource a unique constraint protects, named as the memory store names it.
fn duplicate_resource(constraint: Option<&str>) -> &'static str {
    match constraint.unwrap_or_default() {
        "accounts_pkey" | "accounts_account_number_key" => "account",
        "holds_pkey" => "hold",
        "transactions_pkey" | "transactions_transaction_ref_key" => "transaction",
        "idempotency_keys_pkey" => "idempotency key",
        "journal_entries_pkey" => "journal entry",
        "events_event_id_key" => "event",
        "users_email_key" => "email",
        "users_phone_key" => "phone",
        "users_pkey" => "user",
        "sessions_pkey" | "sessions_token_hash_key" => "session",
        "one_time_codes_pkey" => "one-time code",
        "customers_pkey" | "customers_user_id_key" => "customer",
        "kyc_documents_pkey" => "document",
        "fraud_rules_pkey" | "fraud_rules_rule_name_key" => "fraud rule",
        "fraud_list_entries_pkey" | "fraud_list_entries_value_key" => "list entry",
        "fraud_assessments_pkey" => "fraud assessment",
        "fraud_cases_pkey" | "fraud_cases_transaction_id_key" => "fraud case",
        "notifications_pkey" | "notifications_source_key" => "notification",
        "audit_log_pkey" | "audit_log_id_key" => "audit entry",
        "scheduled_transfers_pkey" => "scheduled transfer",
        _ => "record",
    }
}

/// Converts a sqlx error.
pub(crate) fn db_err(e: sqlx::Error) -> BankError {
    match &e {
        sqlx::Error::Database(db) => {
            let code = db.code().map(|c| c.into_owned()).unwrap_or_default();
            if let Some((_, what)) = TRANSIENT_STATES.iter().find(|(c, _)| *c == code) {
                return BankError::Transient(format!("postgres: {what} ({code})"));
            }
            match code.as_str() {
                "23505" => BankError::Duplicate(duplicate_resource(db.constraint())),
                // A CHECK constraint is a second line of defence behind the engine's own checks:
                // tripping one means the engine tried to write an invalid row.
                "23514" => BankError::Invariant(format!(
                    "postgres refused a row breaking constraint {}",
                    db.constraint().unwrap_or("?")
                )),
                _ => BankError::Internal(format!("postgres error {code}")),
            }
        }
        sqlx::Error::PoolTimedOut => {
            BankError::Transient("postgres: no connection available in time".into())
        }
        // Not transient: a connection lost during COMMIT leaves the outcome unknown, and
        // commands without an idempotency key must not be re-run blindly.
        sqlx::Error::Io(_) => BankError::Internal("postgres: connection i/o failure".into()),
        sqlx::Error::PoolClosed => BankError::Internal("postgres: pool closed".into()),
        sqlx::Error::ColumnDecode { index, .. } => {
            BankError::Internal(format!("postgres: cannot decode column {index}"))
        }
        _ => BankError::Internal("postgres: driver failure".into()),
    }
}

/// A stored value that does not parse as its domain type: the database holds something the
/// engine never wrote.
pub(crate) fn corrupt(what: &str) -> BankError {
    BankError::Internal(format!("postgres: stored {what} does not parse"))
}
