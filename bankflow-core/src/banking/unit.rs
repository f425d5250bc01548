//! Inside a money command's unit: idempotency, persistence, account locks, stamps.

use chrono::{DateTime, Utc};

use super::*;
use crate::error::{BankError, BankResult};
use crate::events::DomainEvent;
use crate::idempotency::{IdempotencyKey, IdempotencyRecord, IdempotentResponse};
use crate::ids::{AccountId, IdGenerator, TransactionId, UserId};
use crate::movement::{AccountSet, Planned, Stamp};
use crate::ports::UnitOfWork;
use crate::transaction::Transaction;

impl MoneyService<'_> {
    // ---------------------------------------------------------------- idempotency

    pub(crate) async fn idem_lookup(
        &self,
        uow: &mut dyn UnitOfWork,
        scope: &str,
        key: &IdempotencyKey,
        fp: &str,
    ) -> BankResult<Option<IdempotentResponse>> {
        match uow.idempotency(scope, key).await? {
            Some(rec) if rec.fingerprint == fp => Ok(Some(rec.response)),
            Some(_) => Err(BankError::IdempotencyConflict),
            None => Ok(None),
        }
    }

    pub(crate) async fn idem_save(
        &self,
        uow: &mut dyn UnitOfWork,
        scope: String,
        key: &IdempotencyKey,
        fp: String,
        response: IdempotentResponse,
    ) -> BankResult<()> {
        let rec = IdempotencyRecord {
            scope,
            key: key.clone(),
            fingerprint: fp,
            response,
            created_at: self.now(),
        };
        uow.insert_idempotency(&rec).await
    }

    pub(crate) fn replay_txn(resp: IdempotentResponse) -> BankResult<Transaction> {
        match resp {
            IdempotentResponse::Transaction(t) => Ok(t),
            _ => Err(BankError::IdempotencyConflict),
        }
    }

    // ---------------------------------------------------------------- persistence helpers

    pub(crate) async fn persist(
        &self,
        uow: &mut dyn UnitOfWork,
        set: AccountSet,
        planned: Vec<Planned>,
        initiated_by: Option<UserId>,
        events: &mut Vec<DomainEvent>,
    ) -> BankResult<Vec<Transaction>> {
        let dirty = set.into_dirty()?;
        for a in &dirty {
            uow.update_account(a).await?;
        }
        let mut txns = Vec::with_capacity(planned.len());
        for mut p in planned {
            if initiated_by.is_some() {
                p.txn.mark_people(&mut p.events, initiated_by, None);
            }
            if let Some(h) = &p.hold {
                uow.insert_hold(h).await?;
            }
            if let Some(j) = &p.journal {
                uow.insert_journal(j).await?;
            }
            uow.insert_transaction(&p.txn).await?;
            events.extend(p.events);
            txns.push(p.txn);
        }
        if self.config.verify_balances_on_write {
            for a in &dirty {
                let sum = uow.posting_sum(a.id, None).await?;
                if sum != a.balance {
                    return Err(BankError::Invariant(format!(
                        "account {} balance {} != postings {sum}",
                        a.id, a.balance
                    )));
                }
            }
        }
        Ok(txns)
    }

    pub(crate) async fn lock_set(
        &self,
        uow: &mut dyn UnitOfWork,
        ids: impl IntoIterator<Item = AccountId>,
    ) -> BankResult<AccountSet> {
        let ids = sorted_ids(ids);
        let locked = uow.lock_accounts(&ids).await?;
        for a in &locked {
            // Pair assertion: what the store hands back satisfies what the engine wrote.
            a.assert_invariants()?;
        }
        Ok(AccountSet::new(locked))
    }

    /// Time and ids for a new transaction: one clock read, and every id of the movement
    /// (the transaction's included) stamped with it.
    pub(crate) fn stamp(&self) -> Stamp<'_> {
        let now = self.now();
        let ids: &dyn IdGenerator = &*self.ids;
        Stamp {
            txn_id: TransactionId(ids.next_uuid_at(now)),
            now,
            ids,
        }
    }

    /// Time and ids for a movement of an existing transaction.
    pub(crate) fn stamp_for(&self, txn_id: TransactionId, now: DateTime<Utc>) -> Stamp<'_> {
        Stamp {
            txn_id,
            now,
            ids: &*self.ids,
        }
    }
}
