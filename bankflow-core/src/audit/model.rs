//! Audit-log entries: who did what to what, when, from where, with which outcome —
//! hash-chained so that any edit or deletion of a stored entry is detectable.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use crate::account::string_enum;
use crate::crypto::sha256_hex;
use crate::ids::{AuditId, UserId};

/// The `prev_hash` of the first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

string_enum!(
    /// How an audited action ended.
    AuditOutcome, "outcome" {
        /// Done.
        Success = "SUCCESS",
        /// Refused (bad credentials, invalid state...).
        Failure = "FAILURE",
        /// Refused for lack of permission.
        Denied = "DENIED",
    }
);

/// One audit entry. `seq` is gap-free from 1; `hash = SHA-256(prev_hash, canonical entry)`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// Position in the chain (1, 2, 3...).
    pub seq: i64,
    /// Id.
    pub id: AuditId,
    /// When (microsecond precision, so every store round-trips it exactly).
    pub at: DateTime<Utc>,
    /// `system`, `user:<id>` or `anonymous`.
    pub actor: String,
    /// The acting user, if a person acted.
    pub actor_user_id: Option<UserId>,
    /// What was done (`auth.login`, `account.freeze`, `kyc.approve`...).
    pub action: String,
    /// Kind of object acted on (`user`, `account`, `customer`...).
    pub target_type: String,
    /// Its id.
    pub target_id: Option<String>,
    /// Outcome.
    pub outcome: AuditOutcome,
    /// Extra facts (never secrets), canonical JSON (sorted keys).
    pub detail: serde_json::Value,
    /// Source IP, when known.
    pub ip: Option<String>,
    /// User agent, when known.
    pub user_agent: Option<String>,
    /// Hash of the previous entry (`GENESIS_HASH` for the first).
    pub prev_hash: String,
    /// This entry's hash.
    pub hash: String,
}

impl AuditRecord {
    /// The hash this entry should carry, from its content and `prev_hash`.
    pub fn compute_hash(&self) -> String {
        let at = self.at.to_rfc3339_opts(SecondsFormat::Micros, true);
        let seq = self.seq.to_string();
        let id = self.id.to_string();
        let user = self
            .actor_user_id
            .map(|u| u.to_string())
            .unwrap_or_default();
        // serde_json's default map is sorted, so this is canonical.
        let detail = serde_json::to_string(&self.detail).unwrap_or_default();
        let opt = |o: &Option<String>| o.clone().unwrap_or_default();
        sha256_hex(&[
            self.prev_hash.as_bytes(),
            seq.as_bytes(),
            id.as_bytes(),
            at.as_bytes(),
            self.actor.as_bytes(),
            user.as_bytes(),
            self.action.as_bytes(),
            self.target_type.as_bytes(),
            opt(&self.target_id).as_bytes(),
            self.outcome.as_str().as_bytes(),
            detail.as_bytes(),
            opt(&self.ip).as_bytes(),
            opt(&self.user_agent).as_bytes(),
        ])
    }
}
