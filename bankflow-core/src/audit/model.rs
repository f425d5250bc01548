//! Audit-log entries: who did what to what, when, from where, with which outcome —
//! hash-chained so that any edit or deletion of a stored entry is detectable.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use crate::account::string_enum;
use crate::crypto::{hmac_sha256, sha256_hex_plain};
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

/// One audit entry. `seq` is gap-free from 1; `hash` is the keyed MAC of `(prev_hash,
/// canonical entry)` ([`AuditRecord::keyed_hash`]), or for entries written before keys the
/// plain SHA-256 ([`AuditRecord::compute_hash`]).
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

/// Prefix of a keyed entry hash: `v2:<key id>:<hex HMAC-SHA256>`.
pub const KEYED_HASH_PREFIX: &str = "v2:";

/// What the audit key is derived for (see [`crate::crypto::derive_key`]).
pub(crate) const AUDIT_KEY_PURPOSE: &str = "audit-chain/v2";

impl AuditRecord {
    /// The canonical content this entry's hash covers, `prev_hash` first: every part
    /// length-prefixed, so part boundaries matter.
    fn canonical_bytes(&self) -> Vec<u8> {
        let at = self.at.to_rfc3339_opts(SecondsFormat::Micros, true);
        let seq = self.seq.to_string();
        let id = self.id.to_string();
        let user = self
            .actor_user_id
            .map(|u| u.to_string())
            .unwrap_or_default();
        let mut detail = String::new();
        canonical_json(&self.detail, &mut detail);
        let parts: [&[u8]; 13] = [
            self.prev_hash.as_bytes(),
            seq.as_bytes(),
            id.as_bytes(),
            at.as_bytes(),
            self.actor.as_bytes(),
            user.as_bytes(),
            self.action.as_bytes(),
            self.target_type.as_bytes(),
            opt_bytes(&self.target_id),
            self.outcome.as_str().as_bytes(),
            detail.as_bytes(),
            opt_bytes(&self.ip),
            opt_bytes(&self.user_agent),
        ];
        let mut out = Vec::with_capacity(parts.iter().map(|p| p.len() + 8).sum());
        for p in parts {
            out.extend_from_slice(&(p.len() as u64).to_be_bytes());
            out.extend_from_slice(p);
        }
        out
    }

    /// The unkeyed (format 1) hash of this entry: SHA-256 of its content and `prev_hash`.
    /// Anyone can recompute it, so it detects accidents, not an insider; entries written
    /// before keyed hashes still verify with it.
    pub fn compute_hash(&self) -> String {
        sha256_hex_plain(&self.canonical_bytes())
    }

    /// The keyed (format 2) hash: `v2:<key id>:` + HMAC-SHA256 of the same content under
    /// the audit key derived from data key `key_id`. Without the key nobody can recompute it.
    pub fn keyed_hash(&self, key_id: &str, key: &[u8; 32]) -> String {
        let mac = hmac_sha256(key, &self.canonical_bytes());
        format!("{KEYED_HASH_PREFIX}{key_id}:{}", hex::encode(mac))
    }

    /// The key id of a keyed hash; `None` for a format-1 hash.
    pub fn hash_key_id(&self) -> Option<&str> {
        let rest = self.hash.strip_prefix(KEYED_HASH_PREFIX)?;
        rest.rsplit_once(':').map(|(id, _)| id)
    }
}

/// A signed checkpoint of the chain head, kept outside the audit table (see
/// [`crate::audit::AuditAnchor`]): whoever can rewrite the table cannot move it back
/// without the audit key, so deleting the newest entries is detected.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditCheckpoint {
    /// The anchored entry's seq.
    pub seq: i64,
    /// Its hash.
    pub hash: String,
    /// When the checkpoint was taken.
    pub at: DateTime<Utc>,
    /// The data key the MAC key was derived from.
    pub key_id: String,
    /// Hex HMAC-SHA256 over seq, hash, at and key id under the audit key.
    pub mac: String,
}

impl AuditCheckpoint {
    /// A checkpoint of `(seq, hash)` at `at`, MACed under `key` (derived from `key_id`).
    pub fn signed(seq: i64, hash: String, at: DateTime<Utc>, key_id: &str, key: &[u8; 32]) -> Self {
        let mut cp = AuditCheckpoint {
            seq,
            hash,
            at,
            key_id: key_id.to_string(),
            mac: String::new(),
        };
        cp.mac = cp.compute_mac(key);
        cp
    }

    /// The MAC this checkpoint should carry under `key`.
    pub fn compute_mac(&self, key: &[u8; 32]) -> String {
        let at = self.at.to_rfc3339_opts(SecondsFormat::Micros, true);
        let msg = format!(
            "audit-anchor\n{}\n{}\n{}\n{}",
            self.seq, self.hash, at, self.key_id
        );
        hex::encode(hmac_sha256(key, msg.as_bytes()))
    }
}

string_enum!(
    /// Why [`crate::audit::AuditVerification`] found the log invalid.
    AuditFault, "fault" {
        /// An entry's hash or MAC does not match its content, or a link is broken.
        Altered = "altered",
        /// Entries are gone: a gap in `seq`, or the anchor is beyond the last entry.
        Missing = "missing",
        /// The anchor's own MAC is wrong (forged or damaged checkpoint).
        AnchorInvalid = "anchor_invalid",
    }
);

fn opt_bytes(o: &Option<String>) -> &[u8] {
    o.as_deref().unwrap_or("").as_bytes()
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
    fn format_1_hash_is_unchanged_and_keyed_hash_names_its_key() {
        let e = AuditRecord {
            seq: 1,
            id: AuditId(uuid::Uuid::nil()),
            at: DateTime::UNIX_EPOCH,
            actor: "system".into(),
            actor_user_id: None,
            action: "a".into(),
            target_type: "t".into(),
            target_id: None,
            outcome: AuditOutcome::Success,
            detail: serde_json::json!({}),
            ip: None,
            user_agent: None,
            prev_hash: GENESIS_HASH.into(),
            hash: String::new(),
        };
        let old = crate::crypto::sha256_hex(&[
            GENESIS_HASH.as_bytes(),
            b"1",
            e.id.to_string().as_bytes(),
            b"1970-01-01T00:00:00.000000Z",
            b"system",
            b"",
            b"a",
            b"t",
            b"",
            b"SUCCESS",
            b"{}",
            b"",
            b"",
        ]);
        assert_eq!(e.compute_hash(), old, "existing databases keep verifying");
        let mut k = e.clone();
        k.hash = e.keyed_hash("k:1", &[7; 32]);
        assert_eq!(k.hash_key_id(), Some("k:1"));
        assert_ne!(k.hash, e.keyed_hash("k:1", &[8; 32]));
    }

    #[test]
    fn canonical_json_sorts_keys_at_every_level() {
        let v = serde_json::json!({"b": 1, "a": {"d": [1, {"z": null, "y": "x"}], "c": true}});
        let mut s = String::new();
        canonical_json(&v, &mut s);
        assert_eq!(s, r#"{"a":{"c":true,"d":[1,{"y":"x","z":null}]},"b":1}"#);
    }
}
