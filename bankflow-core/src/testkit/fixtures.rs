//! Fixtures shared by the ledger, transaction and engine cases.

use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::account::{Account, AccountNumber, AccountStatus, AccountType};
use crate::auth::Actor;
use crate::events::{DomainEvent, EventData, EventType};
use crate::idempotency::IdempotencyKey;
use crate::ids::{AccountId, CustomerId, EventId, TransactionId};
use crate::money::{Currency, Money};
use crate::ports::{Store, TxMode, UnitOfWork};
use crate::transaction::{Transaction, TransactionStatus, TransactionType};
use crate::Bank;

// ------------------------------------------------------------------ fixtures

pub(crate) fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 15, 9, 30, 0)
        .single()
        .expect("valid")
}

/// An account's ledger balance, read as the system.
pub(crate) async fn balance_of(bank: &Bank, id: AccountId) -> Money {
    bank.money()
        .balance(&Actor::system(), id)
        .await
        .unwrap()
        .balance
}

pub(crate) fn usd(s: &str) -> Money {
    Money::parse(s, Currency::USD).expect("valid amount")
}

pub(crate) fn key(s: &str) -> IdempotencyKey {
    IdempotencyKey::parse(s).expect("valid key")
}

pub(crate) fn account(n: u128, customer: u128, at: DateTime<Utc>) -> Account {
    Account {
        id: AccountId(Uuid::from_u128(n)),
        account_number: AccountNumber::from_body(n as u64 * 7919),
        customer_id: CustomerId(Uuid::from_u128(customer)),
        account_type: AccountType::Checking,
        currency: Currency::USD,
        balance: usd("0").amount(),
        held: usd("0").amount(),
        overdraft_limit: usd("0").amount(),
        daily_limit: None,
        daily_out_date: at.date_naive(),
        daily_out_total: Decimal::ZERO,
        status: AccountStatus::Active,
        opened_at: at,
        closed_at: None,
        updated_at: at,
        version: 1,
    }
}

pub(crate) fn txn(
    n: u128,
    from: Option<AccountId>,
    to: Option<AccountId>,
    amount: &str,
    at: DateTime<Utc>,
) -> Transaction {
    let id = TransactionId(Uuid::from_u128(n));
    Transaction {
        id,
        transaction_ref: Transaction::reference_for(id),
        from_account_id: from,
        to_account_id: to,
        amount: usd(amount),
        transaction_type: TransactionType::Transfer,
        status: TransactionStatus::Completed,
        description: Some(format!("txn {n}")),
        failure_code: None,
        reason: None,
        hold_id: None,
        parent_id: None,
        created_at: at,
        processed_at: Some(at),
        reversed_at: None,
        // Both set, so every store's round trip proves the maker-checker columns survive.
        initiated_by: Some(crate::ids::UserId(Uuid::from_u128(9_000 + n))),
        approved_by: Some(crate::ids::UserId(Uuid::from_u128(9_500 + n))),
    }
}

pub(crate) fn event(n: u128, aggregate: u128, ty: EventType, at: DateTime<Utc>) -> DomainEvent {
    DomainEvent {
        id: EventId(Uuid::from_u128(n)),
        event_type: ty,
        aggregate_id: Uuid::from_u128(aggregate),
        time: at,
        data: EventData::Json(serde_json::json!({"n": n.to_string()})),
    }
}

pub(crate) async fn write(store: &Arc<dyn Store>) -> Box<dyn UnitOfWork> {
    store.begin(TxMode::Write).await.expect("begin write")
}

pub(crate) async fn read(store: &Arc<dyn Store>) -> Box<dyn UnitOfWork> {
    store.begin(TxMode::Read).await.expect("begin read")
}
