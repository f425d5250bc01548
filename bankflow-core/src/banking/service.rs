//! The money context's public commands.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::*;
use crate::account::{Account, AccountStatus};
use crate::auth::Actor;
use crate::error::{BankError, BankResult};
use crate::executor::{RetryPolicy, WRITE_ATTEMPTS_MAX};
use crate::fraud_port::RequestContext;
use crate::group;
use crate::idempotency::IdempotencyKey;
use crate::ids::{AccountId, TransactionId};
use crate::money::Money;
use crate::movement::Reserve;
use crate::transaction::{Transaction, TransactionType};

impl MoneyService<'_> {
    // ---------------------------------------------------------------- public commands

    /// Opens a CHECKING or SAVINGS account for a customer.
    pub async fn open_account(
        &self,
        actor: &Actor,
        req: OpenAccountRequest,
    ) -> BankResult<Account> {
        match self.run(actor, Command::OpenAccount(req)).await? {
            Outcome::Account(a) => Ok(a),
            _ => Err(BankError::internal("unexpected outcome")),
        }
    }

    /// Internal transfer. Ok with COMPLETED (or REVIEW when fraud holds it); business
    /// refusals are recorded as FAILED and returned as their error.
    pub async fn transfer(&self, actor: &Actor, req: TransferRequest) -> BankResult<Transaction> {
        self.run(actor, Command::Transfer(req, Reserve::No))
            .await?
            .txn()
    }

    /// Many independent transfers in one commit: each keeps its own idempotency key, its own
    /// checks and its own outcome (a refused one fails alone, as it would on its own), and
    /// none is acknowledged before the commit covering all of them. For bulk work (payroll,
    /// a payments file) and for embedders that buffer requests: one write unit and one
    /// publish per call instead of one per transfer. Unlike [`Bank::transfer_batch`] the
    /// transfers are not linked. 1 to [`SUBMIT_TRANSFERS_MAX`] requests.
    pub async fn submit_transfers(
        &self,
        actor: &Actor,
        reqs: Vec<TransferRequest>,
    ) -> BankResult<Vec<BankResult<Transaction>>> {
        if reqs.is_empty() || reqs.len() > SUBMIT_TRANSFERS_MAX {
            return Err(BankError::validation(
                "transfers",
                format!("submit 1 to {SUBMIT_TRANSFERS_MAX} transfers"),
            ));
        }
        let cmds: Vec<Command> = reqs
            .into_iter()
            .map(|r| Command::Transfer(r, Reserve::No))
            .collect();
        let mut results: Vec<Option<BankResult<Transaction>>> = vec![None; cmds.len()];
        // Indexes still to run: all at first; then only those that lost a transient race
        // (their whole unit is retried, bounded like every write).
        let mut todo: Vec<usize> = (0..cmds.len()).collect();
        let mut attempt = 0;
        while !todo.is_empty() {
            attempt += 1;
            let last = attempt >= WRITE_ATTEMPTS_MAX;
            if attempt > 1 {
                self.back_off(attempt - 1).await;
            }
            match group::exec_in_one_unit(self, todo.iter().map(|i| (actor, &cmds[*i]))).await {
                Ok((outcomes, events)) => {
                    self.publish(&events).await;
                    let mut again = Vec::new();
                    for (i, out) in todo.into_iter().zip(outcomes) {
                        match out {
                            Err(e) if RetryPolicy::retryable(&e) && !last => again.push(i),
                            out => results[i] = Some(out.and_then(Outcome::txn)),
                        }
                    }
                    todo = again;
                }
                Err(e) if RetryPolicy::retryable(&e) && !last => {}
                Err(e) => {
                    if results.iter().all(Option::is_none) {
                        return Err(e);
                    }
                    // Earlier rounds committed: report them, and this error for the rest.
                    for i in todo.drain(..) {
                        results[i] = Some(Err(e.clone()));
                    }
                }
            }
        }
        Ok(results
            .into_iter()
            .map(|r| r.unwrap_or_else(|| Err(BankError::internal("transfer not run"))))
            .collect())
    }

    /// Two-phase transfer, phase one: reserves the funds with a hold until `expires_at`
    /// (default: the configured hold TTL). The transaction is PENDING.
    pub async fn transfer_pending(
        &self,
        actor: &Actor,
        req: TransferRequest,
        expires_at: Option<DateTime<Utc>>,
    ) -> BankResult<Transaction> {
        let until = expires_at.unwrap_or_else(|| self.now() + self.config.hold_ttl);
        self.run(actor, Command::Transfer(req, Reserve::Until(until)))
            .await?
            .txn()
    }

    /// Posts a PENDING transfer, for its reserved amount or a smaller one.
    pub async fn post_pending(
        &self,
        actor: &Actor,
        id: TransactionId,
        amount: Option<Money>,
        key: IdempotencyKey,
    ) -> BankResult<Transaction> {
        self.run(actor, Command::PostPending { id, amount, key })
            .await?
            .txn()
    }

    /// Voids a PENDING transfer: the funds are released, nothing moves.
    pub async fn void_pending(
        &self,
        actor: &Actor,
        id: TransactionId,
        key: IdempotencyKey,
    ) -> BankResult<Transaction> {
        self.run(actor, Command::VoidPending { id, key })
            .await?
            .txn()
    }

    /// Teller deposit (cash → account). Admin only.
    pub async fn deposit(&self, actor: &Actor, req: BookingRequest) -> BankResult<Transaction> {
        self.run(actor, Command::Booking(req, TransactionType::Deposit))
            .await?
            .txn()
    }

    /// Teller withdrawal (account → cash). Admin only.
    pub async fn withdraw(&self, actor: &Actor, req: BookingRequest) -> BankResult<Transaction> {
        self.run(actor, Command::Booking(req, TransactionType::Withdrawal))
            .await?
            .txn()
    }

    /// A booking against another GL account: `ExternalDeposit`, `ExternalTransfer`,
    /// `Payment`, `Fee` or `Interest`. Admin only (payments by customers go through
    /// the payments use case, which adds the customer's own checks).
    pub async fn book(
        &self,
        actor: &Actor,
        kind: TransactionType,
        req: BookingRequest,
    ) -> BankResult<Transaction> {
        self.run(actor, Command::Booking(req, kind)).await?.txn()
    }

    /// Reverses a COMPLETED transaction with one compensating journal entry, at most once.
    /// Returns the original, now REVERSED. Admin only.
    pub async fn reverse(
        &self,
        actor: &Actor,
        id: TransactionId,
        reason: &str,
        key: IdempotencyKey,
    ) -> BankResult<Transaction> {
        self.run(
            actor,
            Command::Reverse {
                id,
                reason: reason.to_string(),
                key,
            },
        )
        .await?
        .txn()
    }

    /// A linked batch: every transfer succeeds or none does.
    pub async fn transfer_batch(
        &self,
        actor: &Actor,
        items: Vec<TransferItem>,
        key: IdempotencyKey,
        context: RequestContext,
    ) -> BankResult<Vec<Transaction>> {
        match self
            .run(
                actor,
                Command::Batch {
                    items,
                    key,
                    context,
                },
            )
            .await?
        {
            Outcome::Transactions(t) => Ok(t),
            _ => Err(BankError::internal("unexpected outcome")),
        }
    }

    /// Freezes an account (admin).
    pub async fn freeze_account(&self, actor: &Actor, id: AccountId) -> BankResult<Account> {
        self.set_status(actor, id, AccountStatus::Frozen).await
    }

    /// Unfreezes an account (admin).
    pub async fn unfreeze_account(&self, actor: &Actor, id: AccountId) -> BankResult<Account> {
        self.set_status(actor, id, AccountStatus::Active).await
    }

    /// Closes an account (owner or admin); only at zero balance with no open holds.
    pub async fn close_account(&self, actor: &Actor, id: AccountId) -> BankResult<Account> {
        self.set_status(actor, id, AccountStatus::Closed).await
    }

    pub(crate) async fn set_status(
        &self,
        actor: &Actor,
        id: AccountId,
        status: AccountStatus,
    ) -> BankResult<Account> {
        match self.run(actor, Command::SetStatus { id, status }).await? {
            Outcome::Account(a) => Ok(a),
            _ => Err(BankError::internal("unexpected outcome")),
        }
    }

    /// Sets overdraft and daily limits (admin). A staff person raising either above the
    /// approval threshold is answered `approval_required`: the change waits for a second
    /// admin ([`MoneyService::approve`]).
    pub async fn set_limits(
        &self,
        actor: &Actor,
        id: AccountId,
        overdraft_limit: Decimal,
        daily_limit: Option<Decimal>,
    ) -> BankResult<Account> {
        match self
            .run(
                actor,
                Command::SetLimits {
                    id,
                    overdraft_limit,
                    daily_limit,
                },
            )
            .await?
        {
            Outcome::Account(a) => Ok(a),
            Outcome::Approval(a) => Err(BankError::ApprovalRequired(a.id)),
            _ => Err(BankError::internal("unexpected outcome")),
        }
    }
}

#[cfg(test)]
mod future_size {
    use super::*;
    use crate::Bank;
    use std::sync::Arc;

    /// The transfer future is copied whole at await boundaries that build it (measured: the
    /// copies were the largest single cost of an in-memory transfer), so its size is bounded:
    /// a cold command or the group path growing must stay boxed out of it.
    #[test]
    pub(crate) fn the_transfer_future_stays_under_4_kib() {
        let bank = Bank::builder(Arc::new(crate::MemoryStore::new())).build();
        let req = TransferRequest {
            item: TransferItem {
                from_account_id: AccountId(uuid::Uuid::nil()),
                to: Destination::Account(AccountId(uuid::Uuid::nil())),
                amount: Money::parse("1", crate::Currency::USD).unwrap(),
                description: None,
            },
            idempotency_key: IdempotencyKey::parse("k").unwrap(),
            context: RequestContext::default(),
        };
        let actor = Actor::system();
        let size = std::mem::size_of_val(&bank.money().transfer(&actor, req));
        assert!(size <= 4096, "transfer future is {size} bytes");
    }
}
