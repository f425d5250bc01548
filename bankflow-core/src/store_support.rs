//! Pure helpers the SQL stores share (no I/O, no database driver): one piece of code per
//! storage rule, so the SQLite and PostgreSQL stores cannot drift apart.
//!
//! # Document rows
//!
//! The non-ledger contexts store each record as a JSON document next to the few columns they
//! filter on. A document carries its schema version in the field [`DOC_VERSION_FIELD`] so a
//! later release can tell which shape it reads:
//!
//! * a document without the field was written before versioning (version 0), whose shape
//!   is version 1's: it reads as is;
//! * a document of a newer version than this build knows is refused as corrupt rather than
//!   misread (a rollback of the binary over data of a newer one);
//! * fields this build does not know (added by a newer minor change) are ignored, so adding
//!   an optional field never needs a migration.

use std::collections::HashMap;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::account::Account;
use crate::error::{BankError, BankResult};
use crate::events::DomainEvent;
use crate::fraud::FraudRule;
use crate::idempotency::IdempotencyRecord;
use crate::ids::{AccountId, TransactionId};
use crate::ledger::JournalEntry;
use crate::transaction::Transaction;

/// The schema version written into every document row.
pub const DOC_SCHEMA_VERSION: u64 = 1;

/// The field of a document row that holds its schema version. The leading underscore keeps
/// it apart from the records' own (camelCase or snake_case) fields.
pub const DOC_VERSION_FIELD: &str = "_v";

/// Encodes a record as a document row: its JSON object plus the schema version.
pub fn encode_doc<T: Serialize>(record: &T) -> BankResult<String> {
    let mut value = serde_json::to_value(record)
        .map_err(|_| BankError::internal("record does not serialise"))?;
    let Value::Object(fields) = &mut value else {
        return Err(BankError::internal("a document row must be a JSON object"));
    };
    fields.insert(DOC_VERSION_FIELD.into(), Value::from(DOC_SCHEMA_VERSION));
    serde_json::to_string(&value).map_err(|_| BankError::internal("record does not serialise"))
}

/// Decodes a document row written by this version or an earlier one (see the module docs).
/// `Err(None)` when the text is not a document of a known version; the store maps that to
/// its own "stored value is corrupt" error.
pub fn decode_doc<T: DeserializeOwned>(text: &str) -> Result<T, Option<BankError>> {
    let mut value: Value = serde_json::from_str(text).map_err(|_| None)?;
    let Value::Object(fields) = &mut value else {
        return Err(None);
    };
    match fields.remove(DOC_VERSION_FIELD) {
        None => {}
        Some(v) => match v.as_u64() {
            Some(v) if v <= DOC_SCHEMA_VERSION => {}
            Some(v) => {
                return Err(Some(BankError::Invariant(format!(
                    "a stored document has schema version {v}; this build reads up to \
                     {DOC_SCHEMA_VERSION}"
                ))))
            }
            None => return Err(None),
        },
    }
    serde_json::from_value(value).map_err(|_| None)
}

/// "Zero rows means not found": an update or delete of one row by key that changed nothing
/// names the missing resource.
pub fn found(rows_affected: u64, resource: &'static str) -> BankResult<()> {
    if rows_affected == 0 {
        return Err(BankError::NotFound { resource });
    }
    Ok(())
}

/// "Every named row exists": a statement that updates a known set of rows by key (a flushed
/// batch, the events a relay marks published) must change exactly `expected` of them; fewer
/// means some key names no row, so the caller's unit is rolled back with `not_found`.
pub fn found_all(rows_affected: u64, expected: usize, resource: &'static str) -> BankResult<()> {
    if u64::try_from(expected).ok() != Some(rows_affected) {
        return Err(BankError::NotFound { resource });
    }
    Ok(())
}

/// The distinct event sequence numbers of a `mark_published` call, ascending: a relay may
/// name an event twice, and each must then count once against [`found_all`].
pub fn distinct_seqs(seqs: &[i64]) -> Vec<i64> {
    let mut out = seqs.to_vec();
    out.sort_unstable();
    out.dedup();
    out
}

// ------------------------------------------------------------------ fraud rules cache

/// The fraud rules a unit last read with `list_rules`, by that call's arguments (active
/// only, limit). Every transfer reads the active rules, so the commands of one group commit
/// share one read; a rule write, or a rollback to a savepoint, forgets them.
#[derive(Clone, Debug, Default)]
pub struct RulesCache(Option<((bool, u32), Vec<FraudRule>)>);

impl RulesCache {
    /// The rules read with these arguments, if they are the ones kept.
    pub fn get(&self, active_only: bool, limit: u32) -> Option<Vec<FraudRule>> {
        match &self.0 {
            Some((key, rules)) if *key == (active_only, limit) => Some(rules.clone()),
            _ => None,
        }
    }

    /// Keeps `rules`, read with these arguments (replacing what was kept).
    pub fn put(&mut self, active_only: bool, limit: u32, rules: Vec<FraudRule>) {
        self.0 = Some(((active_only, limit), rules));
    }

    /// Forgets what was kept.
    pub fn clear(&mut self) {
        self.0 = None;
    }
}

// ------------------------------------------------------------------ write-behind log

/// A buffered hot-path write of a SQL store's write-behind log: kept in the unit and written
/// at the next point that needs it in the database (commit, or a read it may change).
#[derive(Clone, Debug)]
pub enum WriteOp {
    /// A held (locked or inserted) account's new state.
    UpdateAccount(Account),
    /// A journal entry and its postings.
    Journal(JournalEntry),
    /// A new transaction row.
    InsertTxn(Transaction),
    /// A transaction row's new state.
    UpdateTxn(Transaction),
    /// A new idempotency record.
    Idem(IdempotencyRecord),
    /// Events, in append order.
    Events(Vec<DomainEvent>),
}

/// One flush's rows, per kind, in log order, with repeated writes of a row coalesced to its
/// last state (a transfer and the next one in a group touch the same balance row; an insert
/// followed by updates of one transaction inserts its last state). Each store turns it into
/// its own statements, in dependency order: accounts, journals (then postings), transaction
/// inserts, transaction updates, idempotency records, events.
#[derive(Default, Debug)]
pub struct WriteBatch<'a> {
    /// Accounts' last states, first-touch order.
    pub accounts: Vec<&'a Account>,
    account_at: HashMap<AccountId, usize>,
    /// Journal entries, log order.
    pub journals: Vec<&'a JournalEntry>,
    /// Postings of `journals`, in total.
    pub postings: usize,
    /// (row's last state, inserted by this batch), first-touch order.
    txns: Vec<(&'a Transaction, bool)>,
    txn_at: HashMap<TransactionId, usize>,
    /// Idempotency records, log order.
    pub idem: Vec<&'a IdempotencyRecord>,
    /// Events, log order.
    pub events: Vec<&'a DomainEvent>,
}

impl<'a> WriteBatch<'a> {
    /// Every op of `ops`, in order.
    pub fn of(ops: &'a [WriteOp]) -> Self {
        let mut b = WriteBatch::default();
        for op in ops {
            b.add(op);
        }
        b
    }

    /// Rows the batch writes (postings included).
    pub fn rows(&self) -> usize {
        self.accounts.len()
            + self.journals.len()
            + self.postings
            + self.txns.len()
            + self.idem.len()
            + self.events.len()
    }

    /// Adds one op (all its events, for `Events`).
    pub fn add(&mut self, op: &'a WriteOp) {
        match op {
            WriteOp::UpdateAccount(a) => match self.account_at.get(&a.id) {
                Some(i) => self.accounts[*i] = a,
                None => {
                    self.account_at.insert(a.id, self.accounts.len());
                    self.accounts.push(a);
                }
            },
            WriteOp::Journal(j) => {
                self.journals.push(j);
                self.postings += j.postings.len();
            }
            WriteOp::InsertTxn(t) => self.add_txn(t, true),
            WriteOp::UpdateTxn(t) => self.add_txn(t, false),
            WriteOp::Idem(r) => self.idem.push(r),
            WriteOp::Events(es) => self.events.extend(es.iter()),
        }
    }

    /// Adds one event (a store that bounds its batches splits a long `Events` op).
    pub fn add_event(&mut self, e: &'a DomainEvent) {
        self.events.push(e);
    }

    fn add_txn(&mut self, t: &'a Transaction, insert: bool) {
        match self.txn_at.get(&t.id) {
            // Keeps whether the batch inserts it: an insert then updates inserts the last state.
            Some(i) => self.txns[*i].0 = t,
            None => {
                self.txn_at.insert(t.id, self.txns.len());
                self.txns.push((t, insert));
            }
        }
    }

    /// Transactions the batch inserts (`true`) or updates (`false`), last states.
    pub fn txns(&self, inserted: bool) -> Vec<&'a Transaction> {
        self.txns
            .iter()
            .filter(|(_, i)| *i == inserted)
            .map(|(t, _)| *t)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Rec {
        id: u32,
        #[serde(default)]
        note: Option<String>,
    }

    #[test]
    fn documents_carry_their_version_and_round_trip() {
        let r = Rec {
            id: 7,
            note: Some("n".into()),
        };
        let text = encode_doc(&r).unwrap();
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v[DOC_VERSION_FIELD], Value::from(DOC_SCHEMA_VERSION));
        assert_eq!(decode_doc::<Rec>(&text).unwrap(), r);
    }

    #[test]
    fn unversioned_and_extended_documents_read() {
        // As the previous version wrote it: no version field.
        assert_eq!(
            decode_doc::<Rec>(r#"{"id":1,"note":null}"#).unwrap(),
            Rec { id: 1, note: None }
        );
        // A field this build does not know.
        assert_eq!(
            decode_doc::<Rec>(r#"{"_v":1,"id":2,"note":null,"addedLater":{"x":1}}"#).unwrap(),
            Rec { id: 2, note: None }
        );
    }

    #[test]
    fn newer_or_malformed_documents_are_refused() {
        let newer = decode_doc::<Rec>(r#"{"_v":2,"id":1}"#).unwrap_err();
        assert!(matches!(newer, Some(BankError::Invariant(_))), "{newer:?}");
        assert!(decode_doc::<Rec>(r#"{"_v":"one","id":1}"#)
            .unwrap_err()
            .is_none());
        assert!(decode_doc::<Rec>("[1]").unwrap_err().is_none());
        assert!(encode_doc(&5u32).is_err());
    }

    #[test]
    fn zero_rows_is_not_found() {
        assert!(found(1, "user").is_ok());
        assert_eq!(
            found(0, "user").unwrap_err(),
            BankError::NotFound { resource: "user" }
        );
        assert!(found_all(3, 3, "event").is_ok());
        assert_eq!(
            found_all(2, 3, "event").unwrap_err(),
            BankError::NotFound { resource: "event" }
        );
        assert_eq!(distinct_seqs(&[5, 2, 5, 1]), vec![1, 2, 5]);
    }
}
