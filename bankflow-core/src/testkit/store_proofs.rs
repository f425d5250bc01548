//! Setup and checks the SQL stores' own proofs share (the SIGKILL crash test, the
//! two-process test, stored documents across versions): one piece of code, so each store
//! crate keeps only what differs (how a process is started or killed, how a raw column is
//! reached behind the store).

use async_trait::async_trait;
use chrono::{TimeZone, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::account::AccountType;
use crate::auth::Actor;
use crate::ids::{AccountId, CustomerId};
use crate::money::{Currency, Money};
use crate::notify::Channel;
use crate::ports::{Store, TxMode};
use crate::{Bank, BookingRequest, OpenAccountRequest};

use super::ctx_fixtures::notification;
use super::fixtures::key;

/// Opens `count` USD checking accounts as the system, of customers `1..=count`, and funds
/// each with a deposit of `funding` (idempotency key `fund-{i}`). `overdraft(i)` is the
/// overdraft limit of the `i`-th account. Returns the ids in opening order.
pub async fn open_funded_accounts(
    bank: &Bank,
    count: usize,
    funding: Money,
    overdraft: impl Fn(usize) -> Option<Decimal>,
) -> Vec<AccountId> {
    let sys = Actor::system();
    let mut ids = Vec::with_capacity(count);
    for i in 0..count {
        let request = OpenAccountRequest {
            customer_id: CustomerId(Uuid::from_u128(i as u128 + 1)),
            account_type: AccountType::Checking,
            currency: Currency::USD,
            overdraft_limit: overdraft(i),
            daily_limit: None,
        };
        let a = bank
            .money()
            .open_account(&sys, request)
            .await
            .expect("open");
        let funding = BookingRequest {
            account_id: a.id,
            amount: funding,
            description: None,
            idempotency_key: key(&format!("fund-{i}")),
        };
        bank.money().deposit(&sys, funding).await.expect("fund");
        ids.push(a.id);
    }
    ids
}

/// The `notifications` table's document column, reached behind the store (a second
/// connection or the pool), as a test of stored documents needs it.
#[async_trait]
pub trait RawNotificationDocs: Send {
    /// The document of the table's one row.
    async fn read(&mut self) -> String;
    /// Replaces the document of every row by `doc`.
    async fn overwrite(&mut self, doc: &str);
}

/// Stored documents across versions: a notification is written with its schema version
/// (`"_v":1`); the previous version's document (no version field) and one carrying a
/// field this build does not know both read back as the same notification.
pub async fn documents_read_across_versions(store: &dyn Store, raw: &mut dyn RawNotificationDocs) {
    let at = Utc.with_ymd_and_hms(2026, 1, 15, 9, 30, 0).unwrap();
    let n = notification(1, 10, Channel::Email, at);
    let mut u = store.begin(TxMode::Write).await.unwrap();
    u.insert_notification(&n).await.unwrap();
    u.commit().await.unwrap();

    let stored = raw.read().await;
    assert!(
        stored.contains(r#""_v":1"#),
        "written with its version: {stored}"
    );
    let previous = serde_json::to_string(&n).unwrap();
    let mut added: serde_json::Value = serde_json::from_str(&stored).unwrap();
    added["addedByALaterVersion"] = serde_json::json!({"nested": [1, 2]});
    for doc in [previous, added.to_string()] {
        raw.overwrite(&doc).await;
        let mut r = store.begin(TxMode::Read).await.unwrap();
        assert_eq!(
            r.notification(n.id).await.unwrap(),
            Some(n.clone()),
            "{doc}"
        );
    }
}
