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
        let mut detail = String::new();
        canonical_json(&self.detail, &mut detail);
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

/// Writes `v` as JSON with object keys sorted at every level, whatever map type serde_json
/// was built with (`preserve_order` may be on through feature unification) and whatever
/// order a store hands keys back in (PostgreSQL JSONB reorders them).
fn canonical_json(v: &serde_json::Value, out: &mut String) {
    match v {
        serde_json::Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::Value::String(k.clone()).to_string());
                out.push(':');
                canonical_json(&m[k], out);
            }
            out.push('}');
        }
        serde_json::Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical_json(x, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_json_sorts_keys_at_every_level() {
        let v = serde_json::json!({"b": 1, "a": {"d": [1, {"z": null, "y": "x"}], "c": true}});
        let mut s = String::new();
        canonical_json(&v, &mut s);
        assert_eq!(s, r#"{"a":{"c":true,"d":[1,{"y":"x","z":null}]},"b":1}"#);
    }
}
