//! Fixtures for the identity, customer, fraud, notification and audit repository cases.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use serde_json::json;
use uuid::Uuid;

use crate::audit::{AuditOutcome, AuditRecord};
use crate::auth::Role;
use crate::crypto::Sealed;
use crate::customer::{
    CustomerRecord, DocumentRecord, DocumentStatus, DocumentType, KycStatus, SealedSsn,
};
use crate::fraud::{
    Assessment, CaseStatus, FraudCase, FraudRule, ListEntry, ListEntryType, ListKind, RuleType,
};
use crate::fraud_port::{FraudAction, RiskLevel};
use crate::identity::{
    CodePurpose, Email, OneTimeCode, PasswordHash, Phone, SessionRecord, UserRecord,
};
use crate::ids::{
    AccountId, AuditId, CaseId, CodeId, CustomerId, DocumentId, ListEntryId, NotificationId,
    RuleId, SessionId, TransactionId, UserId,
};
use crate::money::{Currency, Money};
use crate::notify::{Channel, NotificationRecord, NotificationStatus};

// ------------------------------------------------------------------ fixtures

// One pair of unit helpers for every case (the ledger fixtures'), re-exported for the
// context cases that glob-import these fixtures.
pub(crate) use super::fixtures::{read, write};

/// A timestamp with microseconds, which every store must round-trip exactly.
pub(crate) fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 2, 3, 4, 5, 6)
        .single()
        .expect("valid")
        + Duration::microseconds(123_456)
}

pub(crate) fn uid(n: u128) -> UserId {
    UserId(Uuid::from_u128(n))
}

pub(crate) fn user(n: u128, email: &str, phone: Option<&str>) -> UserRecord {
    UserRecord::new_active(
        uid(n),
        Email::parse(email).expect("email"),
        phone.map(|p| Phone::parse(p).expect("phone")),
        PasswordHash("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into()),
        vec![Role::Customer],
        false,
        t0(),
    )
}

pub(crate) fn session(n: u128, user: u128, family: u128, at: DateTime<Utc>) -> SessionRecord {
    SessionRecord {
        id: SessionId(Uuid::from_u128(n)),
        user_id: uid(user),
        family_id: SessionId(Uuid::from_u128(family)),
        token_hash: format!("hash-{n}"),
        created_at: at,
        expires_at: at + Duration::days(7),
        rotated_at: None,
        revoked_at: None,
        ip: Some("192.0.2.1".into()),
        user_agent: None,
    }
}

pub(crate) fn code(
    n: u128,
    user: u128,
    purpose: CodePurpose,
    hash: &str,
    at: DateTime<Utc>,
) -> OneTimeCode {
    OneTimeCode {
        id: CodeId(Uuid::from_u128(n)),
        user_id: uid(user),
        purpose,
        code_hash: hash.into(),
        attempts: 0,
        expires_at: at + Duration::minutes(15),
        used_at: None,
        created_at: at,
    }
}

pub(crate) fn customer(n: u128, user: u128, first: &str, last: &str) -> CustomerRecord {
    CustomerRecord {
        id: CustomerId(Uuid::from_u128(n)),
        user_id: uid(user),
        first_name: first.into(),
        last_name: last.into(),
        date_of_birth: NaiveDate::from_ymd_opt(1980, 2, 29).expect("date"),
        ssn: Some(SealedSsn {
            sealed: Sealed {
                key_id: "k1".into(),
                nonce: vec![1; 12],
                ciphertext: vec![7; 25],
            },
            last4: "6789".into(),
        }),
        email: Some(format!("{}@example.com", first.to_ascii_lowercase())),
        phone: None,
        address_line1: "1 Main St".into(),
        address_line2: None,
        city: "Springfield".into(),
        state: "IL".into(),
        zip_code: "62701".into(),
        country: "US".into(),
        kyc_status: KycStatus::Pending,
        kyc_rejection_reason: None,
        kyc_submitted_at: None,
        kyc_verified_at: None,
        default_account_id: None,
        created_at: t0(),
        updated_at: t0(),
        version: 1,
    }
}

pub(crate) fn document(n: u128, customer: u128, at: DateTime<Utc>) -> DocumentRecord {
    DocumentRecord {
        id: DocumentId(Uuid::from_u128(n)),
        customer_id: CustomerId(Uuid::from_u128(customer)),
        document_type: DocumentType::Passport,
        content_type: "application/pdf".into(),
        size_bytes: 1234,
        sha256: "ab".repeat(32),
        storage_key: format!("kyc/{customer}/{n}"),
        status: DocumentStatus::Pending,
        uploaded_at: at,
        verified_at: None,
    }
}

pub(crate) fn rule(n: u128, name: &str, priority: i32, active: bool) -> FraudRule {
    FraudRule {
        id: RuleId(Uuid::from_u128(n)),
        rule_name: name.into(),
        rule_type: RuleType::AmountThreshold,
        conditions: json!({"min_amount": "100.00", "score": 10}),
        action: FraudAction::Review,
        priority,
        is_active: active,
        created_at: t0(),
        updated_at: t0(),
    }
}

pub(crate) fn entry(n: u128, list: ListKind, ty: ListEntryType, value: &str) -> ListEntry {
    ListEntry {
        id: ListEntryId(Uuid::from_u128(n)),
        list,
        entry_type: ty,
        value: value.into(),
        reason: None,
        created_at: t0(),
    }
}

pub(crate) fn assessment(
    n: u128,
    from: u128,
    payee: &str,
    amount: &str,
    action: FraudAction,
    at: DateTime<Utc>,
) -> Assessment {
    Assessment {
        transaction_id: TransactionId(Uuid::from_u128(n)),
        from_account_id: Some(AccountId(Uuid::from_u128(from))),
        to_account_id: None,
        payee: Some(payee.into()),
        amount: Money::parse(amount, Currency::USD).expect("amount"),
        score: 10,
        risk_level: RiskLevel::Low,
        action,
        flags: vec!["a".into(), "b".into()],
        created_at: at,
    }
}

pub(crate) fn case(n: u128, txn: u128, account: u128, at: DateTime<Utc>) -> FraudCase {
    FraudCase {
        id: CaseId(Uuid::from_u128(n)),
        transaction_id: TransactionId(Uuid::from_u128(txn)),
        account_id: AccountId(Uuid::from_u128(account)),
        fraud_score: 70,
        risk_level: RiskLevel::High,
        flags: vec!["x".into()],
        status: CaseStatus::Open,
        resolved_by: None,
        resolution_note: None,
        resolved_at: None,
        created_at: at,
    }
}

/// A notification row for repository-level cases (the documents tests of the SQL stores too).
pub fn notification(
    n: u128,
    user: u128,
    channel: Channel,
    at: DateTime<Utc>,
) -> NotificationRecord {
    NotificationRecord {
        id: NotificationId(Uuid::from_u128(n)),
        user_id: uid(user),
        channel,
        recipient: "someone@example.com".into(),
        subject: Some("s".into()),
        body: "b".into(),
        template_id: "welcome".into(),
        status: NotificationStatus::Pending,
        metadata: json!({"k": "v"}),
        source_event_id: None,
        attempts: 0,
        next_attempt_at: Some(at),
        last_error: None,
        sent_at: None,
        read_at: None,
        created_at: at,
    }
}

pub(crate) fn audit_entry(seq: i64, prev: &str) -> AuditRecord {
    let mut e = AuditRecord {
        seq,
        id: AuditId(Uuid::from_u128(seq as u128)),
        at: t0() + Duration::seconds(seq),
        actor: "system".into(),
        actor_user_id: None,
        action: "account.freeze".into(),
        target_type: "account".into(),
        target_id: Some("a".into()),
        outcome: AuditOutcome::Success,
        detail: json!({"b": 1, "a": [1, 2]}),
        ip: Some("192.0.2.9".into()),
        user_agent: None,
        prev_hash: prev.into(),
        hash: String::new(),
    };
    e.hash = e.compute_hash();
    e
}
