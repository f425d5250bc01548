//! Pending transfers (post/void/expire), review holds and reversals.

use rust_decimal::Decimal;

use super::*;
use crate::account::{Account, AccountStatus, HoldStatus};
use crate::audit::AuditEvent;
use crate::auth::Actor;
use crate::error::{BankError, BankResult};
use crate::events::{DomainEvent, EventData, EventType, TransactionEventData};
use crate::idempotency::{fingerprint, IdempotencyKey, IdempotentResponse};
use crate::ids::{AccountId, JournalId, TransactionId};
use crate::ledger::{JournalEntry, Posting, SystemAccount};
use crate::money::Money;
use crate::movement::{self, AccountSet, Movement, Side};
use crate::ports::UnitOfWork;
use crate::transaction::{Transaction, TransactionStatus, TransactionType};

impl MoneyService<'_> {
    // ---------------------------------------------------------------- pending, review, reversal

    pub(crate) async fn exec_resolve(
        &self,
        uow: &mut dyn UnitOfWork,
        actor: &Actor,
        id: TransactionId,
        how: Resolve,
        key: &IdempotencyKey,
        events: &mut Vec<DomainEvent>,
    ) -> BankResult<Transaction> {
        let scope = actor.idempotency_scope();
        let fp = match how {
            Resolve::Post(a) => fingerprint(&[
                "post",
                &id.to_string(),
                &a.map(|m| m.to_string()).unwrap_or_default(),
            ]),
            Resolve::Void => fingerprint(&["void", &id.to_string()]),
            Resolve::Expire => fingerprint(&["expire", &id.to_string()]),
        };
        if let Some(resp) = self.idem_lookup(uow, &scope, key, &fp).await? {
            return Self::replay_txn(resp);
        }
        let txn = self.resolve_hold(uow, actor, id, how, events).await?;
        let action = match how {
            Resolve::Post(_) => "transaction.post",
            Resolve::Void | Resolve::Expire => "transaction.void",
        };
        let context = crate::fraud_port::RequestContext::default();
        self.audit_customer_movement(uow, actor, action, &txn, &context)
            .await?;
        self.idem_save(
            uow,
            scope,
            key,
            fp,
            IdempotentResponse::Transaction(txn.clone()),
        )
        .await?;
        Ok(txn)
    }

    /// Posts, voids or expires the hold of a PENDING or REVIEW transaction.
    pub(crate) async fn resolve_hold(
        &self,
        uow: &mut dyn UnitOfWork,
        actor: &Actor,
        id: TransactionId,
        how: Resolve,
        events: &mut Vec<DomainEvent>,
    ) -> BankResult<Transaction> {
        let mut txn = uow.lock_transaction(id).await?.ok_or(BankError::NotFound {
            resource: "transaction",
        })?;
        let from = txn
            .from_account_id
            .ok_or(BankError::InvalidState("transaction has no hold".into()))?;
        let credit = match (txn.to_account_id, txn.transaction_type) {
            (Some(to), _) => Side::Customer(to),
            (None, TransactionType::Payment | TransactionType::ExternalTransfer) => {
                Side::System(SystemAccount::ExternalClearing)
            }
            (None, _) => return Err(BankError::InvalidState("transaction has no hold".into())),
        };
        let mut set = self
            .lock_set(uow, [Some(from), credit.customer()].into_iter().flatten())
            .await?;
        actor.check_act(set.get(from)?)?;
        let review = txn.status == TransactionStatus::Review;
        if !matches!(
            txn.status,
            TransactionStatus::Pending | TransactionStatus::Review
        ) {
            return Err(BankError::InvalidState(format!(
                "transaction is {}",
                txn.status
            )));
        }
        if review && !actor.is_admin() {
            // Only the fraud team releases or rejects a transfer under review.
            return Err(BankError::Forbidden(
                "transaction is under fraud review".into(),
            ));
        }
        let hold_id = txn
            .hold_id
            .ok_or(BankError::InvalidState("transaction has no hold".into()))?;
        let mut hold = uow
            .hold(hold_id)
            .await?
            .ok_or(BankError::NotFound { resource: "hold" })?;
        if hold.status != HoldStatus::Active {
            return Err(BankError::Invariant(format!(
                "hold {hold_id} of a {} transaction is {}",
                txn.status, hold.status
            )));
        }
        let post_amount = match how {
            Resolve::Post(Some(a)) => {
                let a = a.positive()?;
                if a.cmp_amount(&hold.amount)? == std::cmp::Ordering::Greater {
                    return Err(BankError::validation(
                        "amount",
                        "cannot post more than was reserved",
                    ));
                }
                Some(a)
            }
            Resolve::Post(None) => Some(hold.amount),
            Resolve::Void | Resolve::Expire => None,
        };
        let m = Movement {
            kind: txn.transaction_type,
            debit: Side::Customer(from),
            credit,
            amount: hold.amount,
            description: txn.description.clone(),
        };
        if post_amount.is_some() {
            set.get(from)?.ensure_open_for_movement()?;
            if let Some(to) = credit.customer() {
                set.get(to)?.ensure_open_for_movement()?;
            }
        }
        let now = self.now();
        let stamp = self.stamp_for(id, now);
        // Release the reservation (and its share of the daily limit if unused).
        {
            let acc = set_get_mut(&mut set, from)?;
            acc.add_to_held(-hold.amount.amount())?;
            let unused = hold.amount.amount() - post_amount.map(|p| p.amount()).unwrap_or_default();
            if acc.daily_out_date == hold.created_at.date_naive() {
                acc.daily_out_total = (acc.daily_out_total - unused).max(Decimal::ZERO);
            }
            acc.updated_at = now;
        }
        let mut new_events = Vec::new();
        let mut journal = None;
        hold.resolved_at = Some(now);
        match post_amount {
            Some(amount) => {
                hold.status = HoldStatus::Posted;
                journal = Some(movement::post(
                    &mut set,
                    &m,
                    amount,
                    &stamp,
                    &mut new_events,
                )?);
                let mut done = movement_event(
                    &stamp,
                    EventType::TransactionCompleted,
                    &m,
                    TransactionStatus::Completed,
                    amount,
                );
                set_reason(&mut done, None, None);
                new_events.push(done);
            }
            None => {
                let (status, reason, code) = match (how, review) {
                    (Resolve::Expire, _) => (TransactionStatus::Expired, "hold expired", "expired"),
                    (_, true) => (
                        TransactionStatus::Failed,
                        "rejected by fraud review",
                        "fraud_blocked",
                    ),
                    _ => (TransactionStatus::Voided, "voided", "voided"),
                };
                hold.status = if how == Resolve::Expire {
                    HoldStatus::Expired
                } else {
                    HoldStatus::Voided
                };
                let mut failed = movement_event(
                    &stamp,
                    EventType::TransactionFailed,
                    &m,
                    status,
                    hold.amount,
                );
                set_reason(&mut failed, Some(reason), Some(code));
                new_events.push(failed);
                let bal = balance_event_for(&stamp, set.get(from)?);
                new_events.push(bal);
            }
        }
        for e in new_events.iter().filter(|e| e.aggregate_id == id.0) {
            txn.apply(e)?;
        }
        for a in set.into_dirty()? {
            uow.update_account(&a).await?;
        }
        uow.update_hold(&hold).await?;
        if let Some(j) = &journal {
            uow.insert_journal(j).await?;
        }
        uow.update_transaction(&txn).await?;
        events.extend(new_events);
        Ok(txn)
    }

    pub(crate) async fn exec_reverse(
        &self,
        uow: &mut dyn UnitOfWork,
        actor: &Actor,
        id: TransactionId,
        reason: &str,
        key: &IdempotencyKey,
        events: &mut Vec<DomainEvent>,
    ) -> BankResult<Transaction> {
        actor.require_admin()?;
        let reason = reason.trim();
        if reason.is_empty() || reason.chars().count() > DESCRIPTION_LEN_MAX {
            return Err(BankError::validation(
                "reason",
                "a reason of 1 to 500 characters is required",
            ));
        }
        let scope = actor.idempotency_scope();
        let fp = fingerprint(&["reverse", &id.to_string(), reason]);
        if let Some(resp) = self.idem_lookup(uow, &scope, key, &fp).await? {
            return Self::replay_txn(resp);
        }
        let mut original = uow.lock_transaction(id).await?.ok_or(BankError::NotFound {
            resource: "transaction",
        })?;
        match original.status {
            TransactionStatus::Completed => {}
            TransactionStatus::Reversed => return Err(BankError::AlreadyReversed),
            s => {
                return Err(BankError::InvalidState(format!(
                    "only COMPLETED transactions can be reversed, this one is {s}"
                )))
            }
        }
        if original.transaction_type == TransactionType::Reversal {
            return Err(BankError::InvalidState(
                "a reversal cannot itself be reversed".into(),
            ));
        }
        let journals = uow
            .journals_of_transaction(id, crate::ports::JOURNALS_OF_TRANSACTION_MAX)
            .await?;
        if journals.is_empty() {
            return Err(BankError::Invariant(format!(
                "completed transaction {id} has no journal"
            )));
        }
        let rev_id = TransactionId(self.new_uuid());
        let now = self.now();
        let postings: Vec<Posting> = journals
            .iter()
            .flat_map(|j| {
                j.postings.iter().map(|p| Posting {
                    account_id: p.account_id,
                    amount: p.amount.negate(),
                })
            })
            .collect();
        let journal = JournalEntry {
            id: JournalId(self.new_uuid()),
            transaction_id: rev_id,
            postings,
            posted_at: now,
            description: Some(format!(
                "Reversal of {}: {reason}",
                original.transaction_ref
            )),
        };
        journal.validate()?;
        let customer_ids: Vec<AccountId> = journal
            .postings
            .iter()
            .map(|p| p.account_id)
            .filter(|a| SystemAccount::from_id(*a).is_none())
            .collect();
        let mut set = self.lock_set(uow, customer_ids.iter().copied()).await?;
        let m = Movement {
            kind: TransactionType::Reversal,
            debit: original
                .to_account_id
                .map(Side::Customer)
                .unwrap_or(Side::System(SystemAccount::Suspense)),
            credit: original
                .from_account_id
                .map(Side::Customer)
                .unwrap_or(Side::System(SystemAccount::Suspense)),
            amount: original.amount,
            description: journal.description.clone(),
        };
        let stamp = self.stamp_for(rev_id, now);
        let mut new_events = vec![movement_event(
            &stamp,
            EventType::TransactionInitiated,
            &m,
            TransactionStatus::Pending,
            original.amount,
        )];
        if let Some(EventData::Transaction(d)) = new_events.last_mut().map(|e| &mut e.data) {
            d.parent_id = Some(id);
        }
        new_events.push(movement_event(
            &stamp,
            EventType::TransactionProcessed,
            &m,
            TransactionStatus::Pending,
            original.amount,
        ));
        for p in &journal.postings {
            if SystemAccount::from_id(p.account_id).is_some() {
                continue;
            }
            let a = set_get_mut(&mut set, p.account_id)?;
            if a.status == AccountStatus::Closed {
                return Err(BankError::AccountClosed(format!(
                    "account {} is closed",
                    a.account_number.masked()
                )));
            }
            if p.amount.is_negative() && -p.amount.amount() > a.spendable() {
                return Err(BankError::InsufficientFunds);
            }
            a.add_to_balance(p.amount.amount())?;
            a.updated_at = now;
            new_events.push(balance_event_for(&stamp, a));
        }
        new_events.push(movement_event(
            &stamp,
            EventType::TransactionCompleted,
            &m,
            TransactionStatus::Completed,
            original.amount,
        ));
        let mut reversal =
            Transaction::from_events(new_events.iter().filter(|e| e.aggregate_id == rev_id.0))?;
        reversal.mark_people(&mut new_events, actor.user_id, None);
        let mut reversed = movement_event(
            &self.stamp_for(id, now),
            EventType::TransactionReversed,
            &Movement {
                kind: original.transaction_type,
                debit: original
                    .from_account_id
                    .map(Side::Customer)
                    .unwrap_or(Side::System(SystemAccount::Suspense)),
                credit: original
                    .to_account_id
                    .map(Side::Customer)
                    .unwrap_or(Side::System(SystemAccount::Suspense)),
                amount: original.amount,
                description: None,
            },
            TransactionStatus::Reversed,
            original.amount,
        );
        if let EventData::Transaction(d) = &mut reversed.data {
            d.reason = Some(reason.to_string());
            d.parent_id = Some(rev_id);
        }
        original.apply(&reversed)?;
        new_events.push(reversed);
        for a in set.into_dirty()? {
            uow.update_account(&a).await?;
        }
        uow.insert_journal(&journal).await?;
        uow.insert_transaction(&reversal).await?;
        uow.update_transaction(&original).await?;
        events.extend(new_events);
        self.idem_save(
            uow,
            scope,
            key,
            fp,
            IdempotentResponse::Transaction(original.clone()),
        )
        .await?;
        let detail = serde_json::json!({"reason": reason, "reversal_id": rev_id.to_string()});
        self.audit(
            uow,
            actor,
            AuditEvent::new("transaction.reverse", "transaction", id).detail(detail),
        )
        .await?;
        Ok(original)
    }

    pub(crate) async fn exec_expire(
        &self,
        uow: &mut dyn UnitOfWork,
        events: &mut Vec<DomainEvent>,
    ) -> BankResult<usize> {
        let due = uow.expired_holds(self.now(), EXPIRE_BATCH_MAX).await?;
        let n = due.len();
        for h in due {
            self.resolve_hold(
                uow,
                &Actor::system(),
                h.transaction_id,
                Resolve::Expire,
                events,
            )
            .await?;
        }
        Ok(n)
    }
}

/// How a hold is resolved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Resolve {
    Post(Option<Money>),
    Void,
    Expire,
}

fn set_get_mut(set: &mut AccountSet, id: AccountId) -> BankResult<&mut Account> {
    set.get_mut(id)
}

use movement::balance_event as balance_event_for;
use movement::txn_event as movement_event;

fn set_reason(e: &mut DomainEvent, reason: Option<&str>, code: Option<&str>) {
    if let EventData::Transaction(TransactionEventData {
        reason: r,
        failure_code: c,
        ..
    }) = &mut e.data
    {
        *r = reason.map(str::to_string);
        *c = code.map(str::to_string);
    }
}
