//! Domain events, their topics and their CloudEvents 1.0 form.
//!
//! Events are appended through the store in the same unit of work as the state change they
//! describe (the events table is both the event store and the transactional outbox); an
//! [`EventSink`] receives them after commit, and a relay can re-publish from the outbox with
//! at-least-once delivery.

use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use uuid::Uuid;

use crate::account::string_enum;
use crate::error::{BankError, BankResult};
use crate::ids::{AccountId, EventId, HoldId, TransactionId, UserId};
use crate::money::Money;
use crate::transaction::{TransactionStatus, TransactionType};

string_enum!(
    /// Every event the engine emits, spelled exactly as the platform design names them.
    EventType, "event_type" {
        /// A user registered.
        UserRegistered = "user.registered",
        /// A user logged in.
        UserLoggedIn = "user.logged_in",
        /// A user verified their email or phone.
        UserVerified = "user.verified",
        /// A customer profile was created.
        CustomerCreated = "customer.created",
        /// A customer profile changed.
        CustomerUpdated = "customer.updated",
        /// KYC was submitted for review.
        KycSubmitted = "kyc.submitted",
        /// KYC was approved.
        KycApproved = "kyc.approved",
        /// KYC was rejected.
        KycRejected = "kyc.rejected",
        /// An account was opened.
        AccountCreated = "account.created",
        /// The onboarding saga could not open the default account.
        AccountCreationFailed = "account.creation.failed",
        /// An account's balance changed.
        AccountBalanceUpdated = "account.balance.updated",
        /// An account was frozen.
        AccountFrozen = "account.frozen",
        /// An account was unfrozen.
        AccountUnfrozen = "account.unfrozen",
        /// An account was closed.
        AccountClosed = "account.closed",
        /// A transaction was initiated.
        TransactionInitiated = "transaction.initiated",
        /// The fraud check passed.
        TransactionFraudCheckPassed = "transaction.fraud_check.passed",
        /// Funds were reserved (checked, or held for a pending/review transaction).
        TransactionBalanceReserved = "transaction.balance_reserved",
        /// Postings were written.
        TransactionProcessed = "transaction.processed",
        /// The transaction completed.
        TransactionCompleted = "transaction.completed",
        /// The transaction failed (refused, voided, expired or rejected).
        TransactionFailed = "transaction.failed",
        /// The transaction was reversed.
        TransactionReversed = "transaction.reversed",
        /// Fraud rules blocked a transaction.
        FraudDetected = "fraud.detected",
        /// Fraud rules sent a transaction to review.
        FraudHighRisk = "fraud.high_risk",
        /// Repeated fraud cases on one account.
        AccountSuspicious = "account.suspicious",
        /// A notification was sent.
        NotificationSent = "notification.sent",
        /// A staff money movement above the threshold waits for a second staff member.
        ApprovalRequested = "approval.requested",
        /// A parked staff movement was approved (and ran) or rejected.
        ApprovalDecided = "approval.decided",
    }
);

impl EventType {
    /// The Kafka topic this event belongs to.
    pub fn topic(&self) -> &'static str {
        use EventType::*;
        match self {
            UserRegistered | UserLoggedIn | UserVerified => "identity-events",
            CustomerCreated | CustomerUpdated | KycSubmitted | KycApproved | KycRejected => {
                "customer-events"
            }
            AccountCreated
            | AccountCreationFailed
            | AccountBalanceUpdated
            | AccountFrozen
            | AccountUnfrozen
            | AccountClosed => "account-events",
            TransactionInitiated
            | TransactionFraudCheckPassed
            | TransactionBalanceReserved
            | TransactionProcessed
            | TransactionCompleted
            | TransactionFailed
            | TransactionReversed
            | ApprovalRequested
            | ApprovalDecided => "transaction-events",
            FraudDetected | FraudHighRisk | AccountSuspicious => "fraud-events",
            NotificationSent => "notification-events",
        }
    }

    /// The CloudEvents `source`: the bounded context that owns the event.
    pub fn source(&self) -> &'static str {
        match self.topic() {
            "identity-events" => "identity-service",
            "customer-events" => "customer-service",
            "account-events" => "account-service",
            "transaction-events" => "transaction-service",
            "fraud-events" => "fraud-service",
            _ => "notification-service",
        }
    }
}

/// Typed payload of a transaction event. Hot-path events stay typed (no JSON is built
/// while a transfer runs); JSON is rendered only when an event leaves the engine.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransactionEventData {
    /// Transaction.
    pub transaction_id: TransactionId,
    /// Kind.
    pub transaction_type: TransactionType,
    /// Debited account.
    pub from_account_id: Option<AccountId>,
    /// Credited account.
    pub to_account_id: Option<AccountId>,
    /// Amount (for a partial post, the posted amount).
    pub amount: Money,
    /// Status after this event.
    pub status: TransactionStatus,
    /// Failure or reversal reason.
    pub reason: Option<String>,
    /// Stable error code of a failure.
    pub failure_code: Option<String>,
    /// Description (carried by `transaction.initiated` only).
    pub description: Option<String>,
    /// The transaction this one reverses (reversals only).
    pub parent_id: Option<TransactionId>,
    /// Hold reserving the funds (pending and review transactions).
    pub hold_id: Option<HoldId>,
    /// Who asked for the movement (`transaction.initiated` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initiated_by: Option<UserId>,
    /// The second staff member who approved it (`transaction.initiated` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_by: Option<UserId>,
}

/// Payload of `account.balance.updated`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BalanceEventData {
    /// Account.
    pub account_id: AccountId,
    /// New ledger balance.
    pub balance: Money,
    /// New available balance.
    pub available_balance: Money,
    /// The transaction that changed it.
    pub transaction_id: TransactionId,
}

/// An event payload.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value")]
pub enum EventData {
    /// Transaction lifecycle.
    Transaction(TransactionEventData),
    /// Balance change.
    Balance(BalanceEventData),
    /// Any other context's payload, already in its wire (camelCase JSON) form.
    Json(Value),
}

/// A domain event as the engine stores it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomainEvent {
    /// Unique id (CloudEvents `id`).
    pub id: EventId,
    /// Type.
    pub event_type: EventType,
    /// The aggregate (transaction, account, customer, user...) the event belongs to;
    /// events of one aggregate are published in the order they were appended.
    pub aggregate_id: Uuid,
    /// When it happened.
    pub time: DateTime<Utc>,
    /// Payload.
    pub data: EventData,
}

fn opt_id<T: ToString>(v: &Option<T>) -> Value {
    v.as_ref()
        .map(|x| Value::String(x.to_string()))
        .unwrap_or(Value::Null)
}

impl DomainEvent {
    /// The payload in its wire form (camelCase keys, amounts as strings).
    pub fn data_json(&self) -> Value {
        match &self.data {
            EventData::Transaction(t) => {
                let mut m = Map::new();
                m.insert("transactionId".into(), json!(t.transaction_id.to_string()));
                m.insert("transactionType".into(), json!(t.transaction_type.as_str()));
                m.insert("fromAccountId".into(), opt_id(&t.from_account_id));
                m.insert("toAccountId".into(), opt_id(&t.to_account_id));
                m.insert("amount".into(), json!(t.amount.amount().to_string()));
                m.insert("currency".into(), json!(t.amount.currency().code()));
                m.insert(
                    "status".into(),
                    json!(t.status.as_str().to_ascii_lowercase()),
                );
                if let Some(r) = &t.reason {
                    m.insert("reason".into(), json!(r));
                }
                if let Some(c) = &t.failure_code {
                    m.insert("failureCode".into(), json!(c));
                }
                if let Some(d) = &t.description {
                    m.insert("description".into(), json!(d));
                }
                if t.parent_id.is_some() {
                    m.insert("parentTransactionId".into(), opt_id(&t.parent_id));
                }
                if t.hold_id.is_some() {
                    m.insert("holdId".into(), opt_id(&t.hold_id));
                }
                if t.initiated_by.is_some() {
                    m.insert("initiatedBy".into(), opt_id(&t.initiated_by));
                }
                if t.approved_by.is_some() {
                    m.insert("approvedBy".into(), opt_id(&t.approved_by));
                }
                Value::Object(m)
            }
            EventData::Balance(b) => json!({
                "accountId": b.account_id.to_string(),
                "balance": b.balance.amount().to_string(),
                "availableBalance": b.available_balance.amount().to_string(),
                "currency": b.balance.currency().code(),
                "transactionId": b.transaction_id.to_string(),
            }),
            EventData::Json(v) => v.clone(),
        }
    }

    /// The event as a CloudEvents 1.0 JSON document.
    pub fn to_cloudevent(&self) -> Value {
        json!({
            "specversion": "1.0",
            "type": format!("com.bankflow.{}", self.event_type.as_str()),
            "source": self.event_type.source(),
            "id": self.id.to_string(),
            "time": self.time.to_rfc3339_opts(SecondsFormat::Micros, true),
            "subject": self.aggregate_id.to_string(),
            "datacontenttype": "application/json",
            "data": self.data_json(),
        })
    }
}

/// An event as stored in the outbox, with its position and relay state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredEvent {
    /// Store-assigned, strictly increasing position.
    pub seq: i64,
    /// The event.
    pub event: DomainEvent,
    /// When the relay marked it published.
    pub published_at: Option<DateTime<Utc>>,
}

/// Port: where committed events go (Kafka producer, webhook fan-out, the HTTP server's
/// real-time stream...). Called after commit; failures are retried by the outbox relay.
#[async_trait]
pub trait EventSink: Send + Sync + 'static {
    /// Receives committed events in commit order.
    async fn publish(&self, events: &[DomainEvent]) -> BankResult<()>;
}

/// A sink that drops events (the outbox still has them).
#[derive(Debug, Default)]
pub struct NoopSink;

#[async_trait]
impl EventSink for NoopSink {
    async fn publish(&self, _events: &[DomainEvent]) -> BankResult<()> {
        Ok(())
    }
}

/// A sink that keeps every event in memory: for tests and embedded users who poll.
#[derive(Debug, Default)]
pub struct MemorySink(std::sync::Mutex<Vec<DomainEvent>>);

impl MemorySink {
    /// Everything received so far.
    pub fn events(&self) -> Vec<DomainEvent> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

#[async_trait]
impl EventSink for MemorySink {
    async fn publish(&self, events: &[DomainEvent]) -> BankResult<()> {
        self.0
            .lock()
            .map_err(|_| BankError::internal("sink lock poisoned"))?
            .extend_from_slice(events);
        Ok(())
    }
}
