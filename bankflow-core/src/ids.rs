//! Typed identifiers and the id-generator port.
//!
//! Every entity id is a UUID wrapped in its own newtype so that an `AccountId` can never be
//! passed where a `TransactionId` is expected. Ids come from an [`IdGenerator`] so tests and
//! simulations can make them deterministic.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{BankError, BankResult};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// Parses a UUID string.
            pub fn parse(s: &str) -> BankResult<Self> {
                Uuid::parse_str(s.trim())
                    .map($name)
                    .map_err(|_| BankError::validation($what, format!("{s:?} is not a valid id")))
            }
            /// The underlying UUID.
            pub fn uuid(&self) -> Uuid {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }

        impl std::str::FromStr for $name {
            type Err = BankError;
            fn from_str(s: &str) -> BankResult<Self> {
                Self::parse(s)
            }
        }
    };
}

id_type!(
    /// A customer (or system) ledger account.
    AccountId,
    "account_id"
);
id_type!(
    /// A transaction (transfer, deposit, reversal...).
    TransactionId,
    "transaction_id"
);
id_type!(
    /// A hold (reserved funds of a pending transfer).
    HoldId,
    "hold_id"
);
id_type!(
    /// A customer (KYC subject, owner of accounts).
    CustomerId,
    "customer_id"
);
id_type!(
    /// A user (login identity).
    UserId,
    "user_id"
);
id_type!(
    /// A journal entry (one balanced set of postings).
    JournalId,
    "journal_id"
);
id_type!(
    /// A domain event.
    EventId,
    "event_id"
);

/// Port: where new ids come from.
pub trait IdGenerator: Send + Sync + 'static {
    /// A fresh, unique UUID.
    fn next_uuid(&self) -> Uuid;
}

/// Production ids: UUIDv7 (time-ordered, so B-tree inserts stay local) with random tails.
#[derive(Debug, Default)]
pub struct RandomIds;

impl IdGenerator for RandomIds {
    fn next_uuid(&self) -> Uuid {
        Uuid::now_v7()
    }
}

/// Deterministic ids for tests and simulations: a seeded counter laid into UUID bytes.
/// Two generators with the same seed produce the same sequence.
#[derive(Debug)]
pub struct SequentialIds {
    seed: u64,
    next: AtomicU64,
}

impl SequentialIds {
    /// A generator whose ids embed `seed` (so runs with different seeds never collide).
    pub fn new(seed: u64) -> Self {
        SequentialIds { seed, next: AtomicU64::new(1) }
    }
}

impl IdGenerator for SequentialIds {
    fn next_uuid(&self) -> Uuid {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&self.seed.to_be_bytes());
        bytes[8..].copy_from_slice(&n.to_be_bytes());
        // Version 8 ("custom") with the RFC 4122 variant, so the value is a well-formed UUID.
        bytes[6] = (bytes[6] & 0x0f) | 0x80;
        bytes[8] = (bytes[8] & 0x3f) | 0x80;
        Uuid::from_bytes(bytes)
    }
}

/// Deterministic pseudo-random numbers for the engine's own choices (account numbers).
/// Lives behind a mutex so it is shareable; not for cryptographic use.
#[derive(Debug)]
pub(crate) struct SplitMix(Mutex<u64>);

impl SplitMix {
    pub(crate) fn new(seed: u64) -> Self {
        SplitMix(Mutex::new(seed))
    }
    pub(crate) fn next_u64(&self) -> u64 {
        let mut s = self.0.lock().expect("splitmix lock");
        *s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = *s;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequential_ids_are_deterministic_and_distinct() {
        let a = SequentialIds::new(7);
        let b = SequentialIds::new(7);
        let xs: Vec<Uuid> = (0..5).map(|_| a.next_uuid()).collect();
        let ys: Vec<Uuid> = (0..5).map(|_| b.next_uuid()).collect();
        assert_eq!(xs, ys);
        let mut sorted = xs.clone();
        sorted.dedup();
        assert_eq!(sorted.len(), 5);
        assert_ne!(SequentialIds::new(8).next_uuid(), xs[0]);
    }

    #[test]
    fn ids_parse_and_reject() {
        let id = AccountId(RandomIds.next_uuid());
        assert_eq!(AccountId::parse(&id.to_string()).unwrap(), id);
        assert_eq!(AccountId::parse("nope").unwrap_err().code(), "validation_error");
    }
}
