//! Idempotency: every money-moving command carries a key. The first execution stores the
//! request's fingerprint and its response in the same unit of work as its effects; a replay
//! with the same key and request gets the stored response, the same key with another request
//! is an [`BankError::IdempotencyConflict`], and nothing ever moves twice.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{BankError, BankResult};
use crate::transaction::Transaction;

/// Longest key accepted (IETF idempotency-key draft practice).
pub const IDEMPOTENCY_KEY_LEN_MAX: usize = 255;

/// A client-chosen idempotency key: 1..=255 printable ASCII characters.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// Parses a key.
    pub fn parse(s: &str) -> BankResult<IdempotencyKey> {
        if s.is_empty() || s.len() > IDEMPOTENCY_KEY_LEN_MAX {
            return Err(BankError::validation(
                "idempotency_key",
                "must be 1 to 255 characters",
            ));
        }
        if !s.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
            return Err(BankError::validation(
                "idempotency_key",
                "must be printable ASCII without spaces",
            ));
        }
        Ok(IdempotencyKey(s.to_string()))
    }

    /// The key text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A key derived from a parent key, for the internal steps of one command.
    pub fn derived(&self, suffix: &str) -> IdempotencyKey {
        let mut s = format!("{}#{suffix}", self.0);
        s.truncate(IDEMPOTENCY_KEY_LEN_MAX);
        IdempotencyKey(s)
    }
}

impl TryFrom<String> for IdempotencyKey {
    type Error = BankError;
    fn try_from(s: String) -> BankResult<Self> {
        IdempotencyKey::parse(&s)
    }
}

impl From<IdempotencyKey> for String {
    fn from(k: IdempotencyKey) -> String {
        k.0
    }
}

impl fmt::Debug for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdempotencyKey({})", self.0)
    }
}

impl fmt::Display for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// SHA-256 over a canonical description of the request (command name and every field).
pub fn fingerprint(parts: &[&str]) -> String {
    let mut f = Fingerprinter::new();
    for p in parts {
        f.part(p);
    }
    f.finish()
}

/// Builds a request fingerprint part by part, formatting each part straight into the hash:
/// the transfer path fingerprints ids, amounts and codes without allocating a string for
/// each. Each part is followed by its length, so ("ab","c") and ("a","bc") differ (read from
/// the end, a length-suffixed sequence parses one way only).
pub struct Fingerprinter {
    hash: Sha256,
    part_len: u64,
}

impl std::fmt::Write for Fingerprinter {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.hash.update(s.as_bytes());
        self.part_len += s.len() as u64;
        Ok(())
    }
}

impl Fingerprinter {
    /// An empty fingerprint.
    pub fn new() -> Self {
        Fingerprinter {
            hash: Sha256::new(),
            part_len: 0,
        }
    }

    /// Adds one part, as its `Display` text.
    pub fn part(&mut self, part: impl fmt::Display) -> &mut Self {
        use std::fmt::Write as _;
        self.part_len = 0;
        // Writing into a hash cannot fail.
        let _ = write!(self, "{part}");
        let len = self.part_len;
        self.hash.update(len.to_be_bytes());
        self
    }

    /// Adds one part as raw bytes: for values with a fixed binary form (ids, amounts), which
    /// formatting as text made the costliest step of a transfer's fingerprint.
    pub fn bytes(&mut self, part: &[u8]) -> &mut Self {
        self.hash.update(part);
        self.hash.update((part.len() as u64).to_be_bytes());
        self
    }

    /// The fingerprint, as lowercase hex.
    pub fn finish(self) -> String {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let digest = self.hash.finalize();
        // Straight into one buffer: `hex::encode` went through a char iterator (measured at
        // a few percent of an in-memory transfer).
        let mut out = String::with_capacity(digest.len() * 2);
        for b in digest {
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0x0f)]));
        }
        out
    }
}

impl Default for Fingerprinter {
    fn default() -> Self {
        Self::new()
    }
}

/// The stored response of a command.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value")]
pub enum IdempotentResponse {
    /// One transaction (possibly FAILED: a replay then returns the same refusal).
    Transaction(Transaction),
    /// A linked batch that succeeded.
    Batch(Vec<Transaction>),
    /// A scheduled transfer that was created.
    Schedule(crate::schedule::ScheduledTransfer),
    /// A staff movement parked for approval, or a decided approval request.
    /// Boxed: a request is several times a transaction, and every record would pay for it.
    Approval(Box<crate::banking::ApprovalRequest>),
    /// A refusal that left no transaction behind (a linked batch that failed).
    Refused {
        /// Stable code.
        code: String,
        /// Message.
        message: String,
    },
}

/// A stored idempotency record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdempotencyRecord {
    /// Who the key belongs to (keys of different callers never collide).
    pub scope: String,
    /// The key.
    pub key: IdempotencyKey,
    /// Fingerprint of the first request.
    pub fingerprint: String,
    /// The first response.
    pub response: IdempotentResponse,
    /// When it was stored.
    pub created_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_bounded_and_printable() {
        assert!(IdempotencyKey::parse("abc-123").is_ok());
        assert!(IdempotencyKey::parse("").is_err());
        assert!(IdempotencyKey::parse("has space").is_err());
        assert!(IdempotencyKey::parse(&"x".repeat(256)).is_err());
        assert!(IdempotencyKey::parse(&"x".repeat(255)).is_ok());
    }

    #[test]
    fn fingerprints_are_length_prefixed() {
        assert_ne!(fingerprint(&["ab", "c"]), fingerprint(&["a", "bc"]));
        assert_eq!(fingerprint(&["x"]), fingerprint(&["x"]));
        assert_ne!(fingerprint(&["x", ""]), fingerprint(&["x"]));
        let mut f = Fingerprinter::new();
        f.part("x");
        let mut h = Sha256::new();
        h.update(b"x");
        h.update(1u64.to_be_bytes());
        assert_eq!(
            f.finish(),
            hex::encode(h.finalize()),
            "lowercase hex of the digest"
        );
        let mut f = Fingerprinter::new();
        f.part("transfer").part(42).part("");
        assert_eq!(f.finish(), fingerprint(&["transfer", "42", ""]));
        let mut f = Fingerprinter::new();
        f.bytes(b"42");
        assert_eq!(
            f.finish(),
            fingerprint(&["42"]),
            "bytes and text parts agree"
        );
        let (mut a, mut b) = (Fingerprinter::new(), Fingerprinter::new());
        a.bytes(b"ab").bytes(b"c");
        b.bytes(b"a").bytes(b"bc");
        assert_ne!(a.finish(), b.finish());
    }
}
