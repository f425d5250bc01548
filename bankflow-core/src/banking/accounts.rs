//! Opening accounts, status and limit changes.

use rust_decimal::Decimal;

use super::*;
use crate::account::{Account, AccountNumber, AccountStatus, AccountType};
use crate::audit::AuditEvent;
use crate::auth::Actor;
use crate::error::{BankError, BankResult};
use crate::events::{DomainEvent, EventData, EventType};
use crate::ids::{AccountId, CustomerId, EventId};
use crate::money::{Currency, Money};
use crate::ports::UnitOfWork;

impl MoneyService<'_> {
    // ---------------------------------------------------------------- accounts

    pub(crate) async fn exec_open(
        &self,
        uow: &mut dyn UnitOfWork,
        actor: &Actor,
        req: &OpenAccountRequest,
        events: &mut Vec<DomainEvent>,
    ) -> BankResult<Account> {
        if !actor.may_act_for_customer(req.customer_id) {
            return Err(BankError::NotFound {
                resource: "customer",
            });
        }
        let overdraft = req.overdraft_limit.unwrap_or(Decimal::ZERO);
        if overdraft != Decimal::ZERO && !actor.is_admin() {
            return Err(BankError::Forbidden(
                "only staff may grant an overdraft".into(),
            ));
        }
        Self::check_limits(req.account_type, req.currency, overdraft, req.daily_limit)?;
        self.check_customer_may_open(uow, actor, req.customer_id)
            .await?;
        self.check_account_cap(uow, actor, req.customer_id).await?;
        let now = self.now();
        let mut last_err = BankError::internal("no attempt");
        // Random numbers collide rarely; a bounded number of retries settles it.
        for _ in 0..5 {
            let account = Account {
                id: AccountId(self.new_uuid()),
                account_number: AccountNumber::from_body(self.rng.next_u64()),
                customer_id: req.customer_id,
                account_type: req.account_type,
                currency: req.currency,
                balance: Money::zero(req.currency).amount(),
                held: Money::zero(req.currency).amount(),
                overdraft_limit: overdraft,
                daily_limit: req.daily_limit,
                daily_out_date: now.date_naive(),
                daily_out_total: Decimal::ZERO,
                status: AccountStatus::Active,
                opened_at: now,
                closed_at: None,
                updated_at: now,
                version: 1,
            };
            account.assert_invariants()?;
            if uow
                .account_by_number(&account.account_number)
                .await?
                .is_some()
            {
                last_err = BankError::Duplicate("account");
                continue;
            }
            uow.insert_account(&account).await?;
            events.push(self.account_event(EventType::AccountCreated, &account));
            return Ok(account);
        }
        Err(last_err)
    }

    /// Hook for the customer context: refuses opening when the customer may not hold accounts.
    /// See [`Bank::customer_may_open`] for the rule.
    pub(crate) async fn check_customer_may_open(
        &self,
        uow: &mut dyn UnitOfWork,
        actor: &Actor,
        customer: CustomerId,
    ) -> BankResult<()> {
        self.customer_may_open(uow, actor, customer).await
    }

    /// Refuses a person opening one account more than [`ACCOUNTS_PER_CUSTOMER_MAX`] not
    /// closed. One engine runs its opens one after another (group commit on PostgreSQL, the
    /// write lock on SQLite and memory), so its count is exact; several engines over one
    /// PostgreSQL database could overshoot by the opens they run at the same instant.
    pub(crate) async fn check_account_cap(
        &self,
        uow: &mut dyn UnitOfWork,
        actor: &Actor,
        customer: CustomerId,
    ) -> BankResult<()> {
        if actor.system {
            return Ok(());
        }
        let held = uow
            .accounts_of_customer(customer, crate::ports::ACCOUNTS_OF_CUSTOMER_MAX)
            .await?;
        let live = held
            .iter()
            .filter(|a| a.status != AccountStatus::Closed)
            .count();
        if live >= ACCOUNTS_PER_CUSTOMER_MAX as usize {
            return Err(BankError::LimitExceeded(format!(
                "a customer holds at most {ACCOUNTS_PER_CUSTOMER_MAX} accounts that are not closed"
            )));
        }
        Ok(())
    }

    pub(crate) fn check_limits(
        ty: AccountType,
        ccy: Currency,
        overdraft: Decimal,
        daily: Option<Decimal>,
    ) -> BankResult<()> {
        if overdraft < Decimal::ZERO {
            return Err(BankError::validation(
                "overdraft_limit",
                "must not be negative",
            ));
        }
        if ty == AccountType::Savings && overdraft > Decimal::ZERO {
            return Err(BankError::validation(
                "overdraft_limit",
                "savings accounts have no overdraft",
            ));
        }
        Money::new(overdraft, ccy)?;
        if let Some(d) = daily {
            if d < Decimal::ZERO {
                return Err(BankError::validation("daily_limit", "must not be negative"));
            }
            Money::new(d, ccy)?;
        }
        Ok(())
    }

    pub(crate) fn account_event(&self, ty: EventType, a: &Account) -> DomainEvent {
        DomainEvent {
            id: EventId(self.new_uuid()),
            event_type: ty,
            aggregate_id: a.id.0,
            time: self.now(),
            data: EventData::Json(serde_json::json!({
                "accountId": a.id.to_string(),
                "accountNumber": a.account_number.masked(),
                "customerId": a.customer_id.to_string(),
                "accountType": a.account_type.as_str(),
                "currency": a.currency.code(),
                "status": a.status.as_str(),
            })),
        }
    }

    pub(crate) async fn exec_set_status(
        &self,
        uow: &mut dyn UnitOfWork,
        actor: &Actor,
        id: AccountId,
        status: AccountStatus,
        events: &mut Vec<DomainEvent>,
    ) -> BankResult<Account> {
        let set = self.lock_set(uow, [id]).await?;
        let mut a = set.get(id)?.clone();
        actor.check_act(&a)?;
        let ty = match (a.status, status) {
            (AccountStatus::Active, AccountStatus::Frozen) => {
                actor.require_admin()?;
                EventType::AccountFrozen
            }
            (AccountStatus::Frozen, AccountStatus::Active) => {
                actor.require_admin()?;
                EventType::AccountUnfrozen
            }
            (AccountStatus::Frozen, AccountStatus::Closed) if !actor.is_admin() => {
                // The bank froze it (an investigation, a court order, KYC still pending):
                // only the bank lifts that, and closing would be a way around it.
                return Err(BankError::AccountFrozen(
                    "the account is frozen: contact the bank to close it".into(),
                ));
            }
            (AccountStatus::Active | AccountStatus::Frozen, AccountStatus::Closed) => {
                if !a.balance.is_zero() || !a.held.is_zero() {
                    return Err(BankError::AccountNotEmpty(
                        "balance must be zero with no open holds".into(),
                    ));
                }
                a.closed_at = Some(self.now());
                EventType::AccountClosed
            }
            (from, to) => {
                return Err(BankError::InvalidState(format!(
                    "account cannot go from {from} to {to}"
                )))
            }
        };
        a.status = status;
        a.updated_at = self.now();
        a.version += 1;
        a.assert_invariants()?;
        uow.update_account(&a).await?;
        events.push(self.account_event(ty, &a));
        let action = match ty {
            EventType::AccountFrozen => "account.freeze",
            EventType::AccountUnfrozen => "account.unfreeze",
            _ => "account.close",
        };
        self.audit(uow, actor, AuditEvent::new(action, "account", a.id))
            .await?;
        Ok(a)
    }

    pub(crate) async fn exec_set_limits(
        &self,
        uow: &mut dyn UnitOfWork,
        actor: &Actor,
        id: AccountId,
        overdraft: Decimal,
        daily: Option<Decimal>,
    ) -> BankResult<Account> {
        actor.require_admin()?;
        let set = self.lock_set(uow, [id]).await?;
        let mut a = set.get(id)?.clone();
        Self::check_limits(a.account_type, a.currency, overdraft, daily)?;
        a.overdraft_limit = overdraft;
        a.daily_limit = daily;
        a.updated_at = self.now();
        a.version += 1;
        if a.available_balance() < -a.overdraft_limit {
            return Err(BankError::validation(
                "overdraft_limit",
                "the account already uses more overdraft",
            ));
        }
        a.assert_invariants()?;
        uow.update_account(&a).await?;
        let detail = serde_json::json!({"overdraft_limit": overdraft.to_string(), "daily_limit": daily.map(|d| d.to_string())});
        self.audit(
            uow,
            actor,
            AuditEvent::new("account.set_limits", "account", a.id).detail(detail),
        )
        .await?;
        Ok(a)
    }
}
