//! Typed identifiers and the id-generator port.
//!
//! Every entity id is a UUID wrapped in its own newtype so that an `AccountId` can never be
//! passed where a `TransactionId` is expected. Ids come from an [`IdGenerator`] so tests and
//! simulations can make them deterministic.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

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

id_type!(
    /// A login session (one refresh token of a rotation chain).
    SessionId,
    "session_id"
);
id_type!(
    /// A single-use code or token (email/phone verification, password reset).
    CodeId,
    "code_id"
);
id_type!(
    /// A KYC document.
    DocumentId,
    "document_id"
);
id_type!(
    /// A fraud rule.
    RuleId,
    "rule_id"
);
id_type!(
    /// A black- or whitelist entry.
    ListEntryId,
    "list_entry_id"
);
id_type!(
    /// A fraud case.
    CaseId,
    "case_id"
);
id_type!(
    /// A notification.
    NotificationId,
    "notification_id"
);
id_type!(
    /// A registered push device (one token of one user).
    DeviceId,
    "device_id"
);
id_type!(
    /// A staff money movement waiting for a second staff member (maker-checker).
    ApprovalId,
    "approval_id"
);
id_type!(
    /// A service client (OAuth2 client credentials).
    ClientId,
    "client_id"
);
id_type!(
    /// An audit-log entry.
    AuditId,
    "audit_id"
);

id_type!(
    /// A scheduled (standing) transfer.
    ScheduleId,
    "schedule_id"
);

/// Port: where new ids come from.
pub trait IdGenerator: Send + Sync + 'static {
    /// A fresh, unique UUID.
    fn next_uuid(&self) -> Uuid;

    /// A fresh, unique UUID for something created at `at` (the command's clock reading): a
    /// time-ordered generator may stamp it with `at` instead of reading the clock again.
    fn next_uuid_at(&self, at: chrono::DateTime<chrono::Utc>) -> Uuid {
        let _ = at;
        self.next_uuid()
    }
}

/// Production ids: UUIDv7 (time-ordered, so B-tree inserts stay local). The 74 random bits
/// come from a per-generator stream seeded once from the OS (a fresh v4), so generating an id
/// costs no system call — the engine makes a dozen ids per transfer.
#[derive(Debug)]
pub struct RandomIds {
    stream: SplitMix,
}

impl Default for RandomIds {
    fn default() -> Self {
        let (hi, lo) = Uuid::new_v4().as_u64_pair();
        RandomIds {
            stream: SplitMix::new(hi ^ lo.rotate_left(29)),
        }
    }
}

impl RandomIds {
    fn v7(&self, ms: u64) -> Uuid {
        let (r1, r2) = self.stream.next_pair();
        let mut bytes = [0u8; 16];
        bytes[..6].copy_from_slice(&ms.to_be_bytes()[2..]);
        bytes[6..8].copy_from_slice(&(r1 as u16).to_be_bytes());
        bytes[8..].copy_from_slice(&r2.to_be_bytes());
        bytes[6] = (bytes[6] & 0x0f) | 0x70; // version 7
        bytes[8] = (bytes[8] & 0x3f) | 0x80; // RFC 4122 variant
        Uuid::from_bytes(bytes)
    }
}

impl IdGenerator for RandomIds {
    fn next_uuid(&self) -> Uuid {
        let ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        self.v7(ms)
    }

    fn next_uuid_at(&self, at: chrono::DateTime<chrono::Utc>) -> Uuid {
        // Before 1970 (a test clock) the prefix is 0, as for a clock error above.
        self.v7(u64::try_from(at.timestamp_millis()).unwrap_or(0))
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
        SequentialIds {
            seed,
            next: AtomicU64::new(1),
        }
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

/// SplitMix64 pseudo-random numbers for the engine's own choices (account numbers, id tails).
/// Lock-free (an atomic counter) so it is shareable; not for cryptographic use.
#[derive(Debug)]
pub(crate) struct SplitMix(AtomicU64);

impl SplitMix {
    pub(crate) fn new(seed: u64) -> Self {
        SplitMix(AtomicU64::new(seed))
    }
    const GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

    pub(crate) fn next_u64(&self) -> u64 {
        Self::mix(
            self.0
                .fetch_add(Self::GAMMA, Ordering::Relaxed)
                .wrapping_add(Self::GAMMA),
        )
    }

    /// The next two outputs with one atomic step (an id takes two; the atomic was the
    /// costliest part of making one). Same sequence as two `next_u64` calls.
    pub(crate) fn next_pair(&self) -> (u64, u64) {
        let z = self
            .0
            .fetch_add(Self::GAMMA.wrapping_mul(2), Ordering::Relaxed);
        (
            Self::mix(z.wrapping_add(Self::GAMMA)),
            Self::mix(z.wrapping_add(Self::GAMMA.wrapping_mul(2))),
        )
    }

    fn mix(mut z: u64) -> u64 {
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
    fn a_pair_is_two_steps_of_the_stream() {
        let (a, b) = (SplitMix::new(11), SplitMix::new(11));
        assert_eq!(a.next_pair(), (b.next_u64(), b.next_u64()));
        assert_eq!(a.next_u64(), b.next_u64());
    }

    #[test]
    fn ids_at_a_time_carry_that_time() {
        let g = RandomIds::default();
        let at = chrono::DateTime::from_timestamp_millis(1_764_115_200_123).unwrap();
        let a = g.next_uuid_at(at);
        let b = g.next_uuid_at(at);
        assert_ne!(a, b);
        for u in [a, b] {
            assert_eq!(u.get_version_num(), 7);
            let (secs, nanos) = u.get_timestamp().unwrap().to_unix();
            assert_eq!(
                secs * 1000 + u64::from(nanos) / 1_000_000,
                1_764_115_200_123
            );
        }
        // A generator without a clock of its own keeps its sequence.
        let s = SequentialIds::new(3);
        assert_eq!(s.next_uuid_at(at), SequentialIds::new(3).next_uuid());
    }

    #[test]
    fn random_ids_are_v7_time_ordered_and_distinct() {
        let g = RandomIds::default();
        let ids: Vec<Uuid> = (0..10_000).map(|_| g.next_uuid()).collect();
        assert!(ids.iter().all(|u| u.get_version_num() == 7));
        let set: std::collections::HashSet<_> = ids.iter().collect();
        assert_eq!(set.len(), ids.len());
        let ms = |u: &Uuid| u.as_bytes()[..6].to_vec();
        assert!(
            ids.windows(2).all(|w| ms(&w[0]) <= ms(&w[1])),
            "timestamp prefix never goes back"
        );
    }

    #[test]
    fn ids_parse_and_reject() {
        let id = AccountId(RandomIds::default().next_uuid());
        assert_eq!(AccountId::parse(&id.to_string()).unwrap(), id);
        assert_eq!(
            AccountId::parse("nope").unwrap_err().code(),
            "validation_error"
        );
    }
}
