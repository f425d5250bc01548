//! Conformance cases for the identity, customer, fraud, notification and audit repositories
//! (cargo feature `testkit`): every store runs them against the contract written in
//! `REPOS_ISSUE3.md` and the trait docs. Same code for every store.

use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use serde_json::json;
use uuid::Uuid;

use crate::audit::{AuditOutcome, AuditRecord, GENESIS_HASH};
use crate::auth::Role;
use crate::crypto::Sealed;
use crate::customer::{
    CustomerRecord, CustomerSearch, DocumentRecord, DocumentStatus, DocumentType, KycStatus,
    SealedSsn,
};
use crate::error::BankError;
use crate::fraud::{
    Assessment, CaseStatus, FraudCase, FraudRule, ListEntry, ListEntryType, ListKind, RuleType,
};
use crate::fraud_port::{FraudAction, RiskLevel};
use crate::identity::{
    CodePurpose, Email, OneTimeCode, PasswordHash, Phone, SessionRecord, UserRecord,
};
use crate::ids::{
    AccountId, AuditId, CaseId, CodeId, CustomerId, DocumentId, EventId, ListEntryId,
    NotificationId, RuleId, SessionId, TransactionId, UserId,
};
use crate::money::{Currency, Money};
use crate::notify::{Channel, NotificationRecord, NotificationStatus, Preference};
use crate::ports::{Store, TxMode, UnitOfWork};

type CaseFn = fn(Arc<dyn Store>) -> futures::future::BoxFuture<'static, ()>;

macro_rules! cases {
    ($($name:ident),+ $(,)?) => {
        &[$((stringify!($name), |s| Box::pin($name(s)) as futures::future::BoxFuture<'static, ()>)),+]
    };
}

/// Every context conformance case, by name.
pub fn cases() -> &'static [(&'static str, CaseFn)] {
    cases![
        users_unique_and_lookups,
        sessions_rotation_queries,
        one_time_codes,
        customers_and_documents,
        customer_search,
        fraud_rules_and_lists,
        fraud_assessments_and_cases,
        notifications_feed_and_retries,
        audit_chain_storage,
        context_writes_roll_back,
    ]
}

// ------------------------------------------------------------------ fixtures

/// A timestamp with microseconds, which every store must round-trip exactly.
fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 2, 3, 4, 5, 6)
        .single()
        .expect("valid")
        + Duration::microseconds(123_456)
}

fn uid(n: u128) -> UserId {
    UserId(Uuid::from_u128(n))
}

async fn write(store: &Arc<dyn Store>) -> Box<dyn UnitOfWork> {
    store.begin(TxMode::Write).await.expect("begin write")
}

async fn read(store: &Arc<dyn Store>) -> Box<dyn UnitOfWork> {
    store.begin(TxMode::Read).await.expect("begin read")
}

fn user(n: u128, email: &str, phone: Option<&str>) -> UserRecord {
    UserRecord {
        id: uid(n),
        email: Email::parse(email).expect("email"),
        phone: phone.map(|p| Phone::parse(p).expect("phone")),
        password_hash: PasswordHash("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into()),
        roles: vec![Role::Customer],
        email_verified: false,
        phone_verified: false,
        is_active: true,
        failed_logins: 0,
        locked_until: None,
        last_login: None,
        mfa_secret: None,
        mfa_enabled: false,
        mfa_last_step: None,
        created_at: t0(),
        updated_at: t0(),
    }
}

fn session(n: u128, user: u128, family: u128, at: DateTime<Utc>) -> SessionRecord {
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

fn code(n: u128, user: u128, purpose: CodePurpose, hash: &str, at: DateTime<Utc>) -> OneTimeCode {
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

fn customer(n: u128, user: u128, first: &str, last: &str) -> CustomerRecord {
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

fn document(n: u128, customer: u128, at: DateTime<Utc>) -> DocumentRecord {
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

fn rule(n: u128, name: &str, priority: i32, active: bool) -> FraudRule {
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

fn entry(n: u128, list: ListKind, ty: ListEntryType, value: &str) -> ListEntry {
    ListEntry {
        id: ListEntryId(Uuid::from_u128(n)),
        list,
        entry_type: ty,
        value: value.into(),
        reason: None,
        created_at: t0(),
    }
}

fn assessment(
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

fn case(n: u128, txn: u128, account: u128, at: DateTime<Utc>) -> FraudCase {
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

/// A pending e-mail-or-in-app notification fixture (also used by the stores' own tests).
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

fn audit_entry(seq: i64, prev: &str) -> AuditRecord {
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

// ------------------------------------------------------------------ cases

async fn users_unique_and_lookups(store: Arc<dyn Store>) {
    let a = user(1, "a@example.com", Some("+14155550101"));
    let mut u = write(&store).await;
    u.insert_user(&a).await.expect("insert");
    let dup_email = user(2, "a@example.com", Some("+14155550101"));
    assert_eq!(
        u.insert_user(&dup_email).await,
        Err(BankError::Duplicate("email")),
        "email checked first"
    );
    assert_eq!(
        u.insert_user(&user(2, "b@example.com", Some("+14155550101")))
            .await,
        Err(BankError::Duplicate("phone"))
    );
    assert_eq!(
        u.insert_user(&user(1, "c@example.com", None)).await,
        Err(BankError::Duplicate("user"))
    );
    u.insert_user(&user(3, "c@example.com", None))
        .await
        .expect("no phone is fine");
    u.insert_user(&user(4, "d@example.com", None))
        .await
        .expect("several without phone");
    assert!(!u.any_user_with_role(Role::Admin).await.unwrap());
    u.commit().await.expect("commit");

    let mut r = read(&store).await;
    assert_eq!(r.user(a.id).await.unwrap().as_ref(), Some(&a), "round trip");
    assert_eq!(
        r.user_by_email(&a.email).await.unwrap().map(|x| x.id),
        Some(a.id)
    );
    assert_eq!(r.user(uid(99)).await.unwrap(), None);
    drop(r);

    let mut u = write(&store).await;
    let mut c = u.user(uid(3)).await.unwrap().unwrap();
    c.phone = Some(Phone::parse("+14155550101").unwrap());
    assert_eq!(u.update_user(&c).await, Err(BankError::Duplicate("phone")));
    c.phone = Some(Phone::parse("+14155550103").unwrap());
    c.roles = vec![Role::Admin, Role::Support];
    c.failed_logins = 3;
    c.locked_until = Some(t0() + Duration::minutes(15));
    c.mfa_secret = Some(Sealed {
        key_id: "k".into(),
        nonce: vec![0; 12],
        ciphertext: vec![1, 2, 3],
    });
    c.mfa_last_step = Some(57_000_000);
    u.update_user(&c).await.expect("update");
    assert_eq!(
        u.update_user(&user(98, "z@example.com", None)).await,
        Err(BankError::NotFound { resource: "user" })
    );
    u.commit().await.unwrap();
    let mut r = read(&store).await;
    assert_eq!(r.user(c.id).await.unwrap().as_ref(), Some(&c));
    assert!(r.any_user_with_role(Role::Admin).await.unwrap());
}

async fn sessions_rotation_queries(store: Arc<dyn Store>) {
    let mut u = write(&store).await;
    let s1 = session(1, 10, 1, t0());
    let s2 = session(2, 10, 1, t0() + Duration::seconds(1));
    let s3 = session(3, 10, 3, t0() + Duration::seconds(2));
    let other = session(4, 11, 4, t0());
    for s in [&s1, &s2, &s3, &other] {
        u.insert_session(s).await.expect("insert");
    }
    let mut same_hash = session(5, 10, 5, t0());
    same_hash.token_hash = s1.token_hash.clone();
    assert_eq!(
        u.insert_session(&same_hash).await,
        Err(BankError::Duplicate("session"))
    );
    assert_eq!(
        u.insert_session(&session(1, 10, 1, t0()))
            .await
            .map_err(|e| e.code()),
        Err("conflict")
    );
    let mut rotated = s1.clone();
    rotated.rotated_at = Some(t0() + Duration::seconds(1));
    u.update_session(&rotated).await.unwrap();
    u.commit().await.unwrap();

    let mut r = read(&store).await;
    assert_eq!(
        r.session_by_token_hash("hash-1").await.unwrap().as_ref(),
        Some(&rotated)
    );
    assert_eq!(r.session_by_token_hash("nope").await.unwrap(), None);
    let live = r
        .active_sessions(uid(10), t0() + Duration::seconds(5), 10)
        .await
        .unwrap();
    assert_eq!(
        live.iter().map(|s| s.id).collect::<Vec<_>>(),
        vec![s3.id, s2.id],
        "newest first, rotated excluded"
    );
    assert_eq!(
        r.active_sessions(uid(10), t0() + Duration::days(8), 10)
            .await
            .unwrap(),
        vec![],
        "expired excluded"
    );
    assert_eq!(
        r.active_sessions(uid(10), t0(), 1).await.unwrap().len(),
        1,
        "limit"
    );
    drop(r);

    let mut u = write(&store).await;
    assert_eq!(
        u.revoke_session_family(uid(10), s1.family_id, t0())
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        u.revoke_session_family(uid(10), s1.family_id, t0())
            .await
            .unwrap(),
        0,
        "already revoked"
    );
    assert_eq!(
        u.revoke_session_family(uid(11), s3.family_id, t0())
            .await
            .unwrap(),
        0,
        "other user's family"
    );
    assert_eq!(u.revoke_user_sessions(uid(10), t0()).await.unwrap(), 1);
    u.commit().await.unwrap();
    let mut r = read(&store).await;
    assert_eq!(
        r.session_by_token_hash("hash-2")
            .await
            .unwrap()
            .unwrap()
            .revoked_at,
        Some(t0())
    );
    assert_eq!(r.active_sessions(uid(11), t0(), 10).await.unwrap().len(), 1);
}

async fn one_time_codes(store: Arc<dyn Store>) {
    let mut u = write(&store).await;
    let c1 = code(1, 10, CodePurpose::VerifyEmail, "h1", t0());
    let c2 = code(
        2,
        10,
        CodePurpose::VerifyEmail,
        "h2",
        t0() + Duration::seconds(1),
    );
    let c3 = code(
        3,
        10,
        CodePurpose::PasswordReset,
        "h2",
        t0() + Duration::seconds(2),
    );
    for c in [&c1, &c2, &c3] {
        u.insert_code(c).await.expect("insert");
    }
    assert_eq!(
        u.insert_code(&c1).await,
        Err(BankError::Duplicate("one-time code"))
    );
    u.commit().await.unwrap();
    let mut r = read(&store).await;
    assert_eq!(
        r.latest_code(uid(10), CodePurpose::VerifyEmail)
            .await
            .unwrap()
            .as_ref(),
        Some(&c2)
    );
    assert_eq!(
        r.latest_code(uid(10), CodePurpose::VerifyPhone)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        r.code_by_hash(CodePurpose::PasswordReset, "h2")
            .await
            .unwrap()
            .as_ref(),
        Some(&c3)
    );
    assert_eq!(
        r.code_by_hash(CodePurpose::PasswordReset, "h1")
            .await
            .unwrap(),
        None
    );
    drop(r);
    let mut u = write(&store).await;
    let mut used = c1.clone();
    used.attempts = 2;
    used.used_at = Some(t0());
    u.update_code(&used).await.unwrap();
    assert_eq!(
        u.consume_codes(
            uid(10),
            CodePurpose::VerifyEmail,
            t0() + Duration::seconds(9)
        )
        .await
        .unwrap(),
        1
    );
    u.commit().await.unwrap();
    let mut r = read(&store).await;
    let latest = r
        .latest_code(uid(10), CodePurpose::VerifyEmail)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(latest.used_at, Some(t0() + Duration::seconds(9)));
    assert_eq!(
        r.code_by_hash(CodePurpose::VerifyEmail, "h1")
            .await
            .unwrap()
            .unwrap()
            .attempts,
        2
    );
    assert_eq!(
        r.code_by_hash(CodePurpose::PasswordReset, "h2")
            .await
            .unwrap()
            .unwrap()
            .used_at,
        None
    );
}

async fn customers_and_documents(store: Arc<dyn Store>) {
    let mut u = write(&store).await;
    let c = customer(1, 10, "Ann", "Lee");
    u.insert_customer(&c).await.expect("insert");
    assert_eq!(
        u.insert_customer(&customer(2, 10, "X", "Y")).await,
        Err(BankError::Duplicate("customer")),
        "one per user"
    );
    assert_eq!(
        u.insert_customer(&customer(1, 11, "X", "Y")).await,
        Err(BankError::Duplicate("customer"))
    );
    let docs = [
        document(3, 1, t0() + Duration::seconds(2)),
        document(2, 1, t0()),
        document(1, 1, t0() + Duration::seconds(2)),
    ];
    for d in &docs {
        u.insert_document(d).await.unwrap();
    }
    assert_eq!(
        u.insert_document(&docs[0]).await,
        Err(BankError::Duplicate("document"))
    );
    u.commit().await.unwrap();

    let mut r = read(&store).await;
    assert_eq!(
        r.customer(c.id).await.unwrap().as_ref(),
        Some(&c),
        "round trip (sealed SSN included)"
    );
    assert_eq!(
        r.customer_by_user(uid(10)).await.unwrap().map(|x| x.id),
        Some(c.id)
    );
    let order: Vec<DocumentId> = r
        .documents_of_customer(c.id, 10)
        .await
        .unwrap()
        .iter()
        .map(|d| d.id)
        .collect();
    assert_eq!(
        order,
        vec![docs[1].id, docs[2].id, docs[0].id],
        "uploaded_at, then id"
    );
    assert_eq!(r.documents_of_customer(c.id, 1).await.unwrap().len(), 1);
    drop(r);

    let mut u = write(&store).await;
    let mut c2 = c.clone();
    c2.kyc_status = KycStatus::Approved;
    c2.kyc_verified_at = Some(t0());
    c2.address_line2 = Some("Apt 1".into());
    c2.default_account_id = Some(AccountId(Uuid::from_u128(77)));
    c2.version = 2;
    u.update_customer(&c2).await.unwrap();
    let mut d = docs[1].clone();
    d.status = DocumentStatus::Verified;
    d.verified_at = Some(t0());
    u.update_document(&d).await.unwrap();
    assert_eq!(
        u.update_customer(&customer(9, 19, "N", "O")).await,
        Err(BankError::NotFound {
            resource: "customer"
        })
    );
    u.commit().await.unwrap();
    let mut r = read(&store).await;
    assert_eq!(r.customer(c.id).await.unwrap().as_ref(), Some(&c2));
    assert_eq!(r.document(d.id).await.unwrap().as_ref(), Some(&d));
    drop(r);

    let mut u = write(&store).await;
    u.delete_customer(c.id).await.unwrap();
    assert_eq!(
        u.delete_customer(c.id).await,
        Err(BankError::NotFound {
            resource: "customer"
        })
    );
    u.commit().await.unwrap();
    let mut r = read(&store).await;
    assert_eq!(r.customer(c.id).await.unwrap(), None);
    assert_eq!(r.customer_by_user(uid(10)).await.unwrap(), None);
    assert_eq!(
        r.documents_of_customer(c.id, 10).await.unwrap(),
        vec![],
        "documents go with the customer"
    );
}

async fn customer_search(store: Arc<dyn Store>) {
    let mut u = write(&store).await;
    let mut rows = vec![
        customer(4, 40, "Ann", "Lee"),
        customer(2, 20, "Bob", "Leeds"),
        customer(3, 30, "Cid", "Moss"),
        customer(1, 10, "Dee", "LEE"),
        customer(5, 50, "Eve", "100%_Real"),
    ];
    rows[2].kyc_status = KycStatus::Approved;
    rows[2].phone = Some("+14155550123".into());
    for c in &rows {
        u.insert_customer(c).await.unwrap();
    }
    u.commit().await.unwrap();
    let mut r = read(&store).await;
    let ids = |v: Vec<CustomerRecord>| v.into_iter().map(|c| c.id.0.as_u128()).collect::<Vec<_>>();
    let s = |name: Option<&str>| CustomerSearch {
        name: name.map(Into::into),
        limit: 100,
        ..Default::default()
    };
    assert_eq!(
        ids(r.search_customers(&s(Some("lee"))).await.unwrap()),
        vec![1, 2, 4],
        "case-insensitive substring, id order"
    );
    assert_eq!(
        ids(r.search_customers(&s(Some("ann lee"))).await.unwrap()),
        vec![4],
        "first + ' ' + last"
    );
    assert_eq!(
        ids(r.search_customers(&s(Some("0%_R"))).await.unwrap()),
        vec![5],
        "% and _ are literal"
    );
    assert_eq!(
        ids(r.search_customers(&s(Some("%"))).await.unwrap()),
        vec![5]
    );
    assert_eq!(
        ids(r.search_customers(&s(Some("_"))).await.unwrap()),
        vec![5]
    );
    let by = |f: fn(&mut CustomerSearch)| {
        let mut q = CustomerSearch {
            limit: 100,
            ..Default::default()
        };
        f(&mut q);
        q
    };
    assert_eq!(
        ids(r
            .search_customers(&by(|q| q.email = Some("bob@example.com".into())))
            .await
            .unwrap()),
        vec![2]
    );
    assert_eq!(
        ids(r
            .search_customers(&by(|q| q.phone = Some("+14155550123".into())))
            .await
            .unwrap()),
        vec![3]
    );
    assert_eq!(
        ids(r
            .search_customers(&by(|q| q.kyc_status = Some(KycStatus::Pending)))
            .await
            .unwrap()),
        vec![1, 2, 4, 5]
    );
    let both = by(|q| {
        q.kyc_status = Some(KycStatus::Pending);
        q.name = Some("LEE".into());
    });
    assert_eq!(
        ids(r.search_customers(&both).await.unwrap()),
        vec![1, 2, 4],
        "filters are ANDed"
    );
    let page = CustomerSearch {
        limit: 2,
        after: Some(CustomerId(Uuid::from_u128(2))),
        ..Default::default()
    };
    assert_eq!(
        ids(r.search_customers(&page).await.unwrap()),
        vec![3, 4],
        "after + limit"
    );
}

async fn fraud_rules_and_lists(store: Arc<dyn Store>) {
    let mut u = write(&store).await;
    for r in [
        rule(3, "c", 5, true),
        rule(1, "a", 5, true),
        rule(2, "b", 9, false),
        rule(4, "d", -1, true),
    ] {
        u.insert_rule(&r).await.unwrap();
    }
    assert_eq!(
        u.insert_rule(&rule(5, "a", 0, true)).await,
        Err(BankError::Duplicate("fraud rule")),
        "unique name"
    );
    assert_eq!(
        u.insert_rule(&rule(1, "e", 0, true)).await,
        Err(BankError::Duplicate("fraud rule"))
    );
    let mut renamed = rule(4, "a", -1, true);
    assert_eq!(
        u.update_rule(&renamed).await,
        Err(BankError::Duplicate("fraud rule"))
    );
    renamed.rule_name = "d2".into();
    renamed.conditions = json!({"min_amount": "5.00"});
    u.update_rule(&renamed).await.unwrap();
    assert_eq!(
        u.update_rule(&rule(9, "z", 0, true)).await,
        Err(BankError::NotFound {
            resource: "fraud rule"
        })
    );
    u.commit().await.unwrap();
    let mut r = read(&store).await;
    let names = |v: Vec<FraudRule>| v.into_iter().map(|r| r.rule_name).collect::<Vec<_>>();
    assert_eq!(
        names(r.list_rules(false, 10).await.unwrap()),
        vec!["b", "a", "c", "d2"],
        "priority desc, then id"
    );
    assert_eq!(
        names(r.list_rules(true, 10).await.unwrap()),
        vec!["a", "c", "d2"]
    );
    assert_eq!(names(r.list_rules(true, 1).await.unwrap()), vec!["a"]);
    assert_eq!(r.rule(renamed.id).await.unwrap().as_ref(), Some(&renamed));
    drop(r);

    let mut u = write(&store).await;
    let e1 = entry(1, ListKind::Black, ListEntryType::Ip, "203.0.113.1");
    let e2 = entry(2, ListKind::White, ListEntryType::Ip, "203.0.113.1");
    let e3 = entry(
        3,
        ListKind::Black,
        ListEntryType::EmailDomain,
        "evil.example",
    );
    for e in [&e3, &e1, &e2] {
        u.insert_list_entry(e).await.unwrap();
    }
    assert_eq!(
        u.insert_list_entry(&entry(4, ListKind::Black, ListEntryType::Ip, "203.0.113.1"))
            .await,
        Err(BankError::Duplicate("list entry"))
    );
    u.commit().await.unwrap();
    let mut r = read(&store).await;
    let keys = [
        (ListEntryType::Ip, "203.0.113.1".to_string()),
        (ListEntryType::Email, "evil.example".to_string()),
    ];
    assert_eq!(
        r.find_list_entries(&keys).await.unwrap(),
        vec![e1.clone(), e2.clone()],
        "type and value both match"
    );
    assert_eq!(
        r.find_list_entries(&[(ListEntryType::Ip, "203.0.113.1 ".into())])
            .await
            .unwrap(),
        vec![]
    );
    assert_eq!(
        r.list_entries(Some(ListKind::Black), None, 10)
            .await
            .unwrap(),
        vec![e1.clone(), e3.clone()]
    );
    assert_eq!(
        r.list_entries(None, Some(e1.id), 1).await.unwrap(),
        vec![e2.clone()]
    );
    drop(r);
    let mut u = write(&store).await;
    assert!(u.delete_list_entry(e1.id).await.unwrap());
    assert!(!u.delete_list_entry(e1.id).await.unwrap());
    u.commit().await.unwrap();
    assert_eq!(
        read(&store)
            .await
            .list_entries(None, None, 10)
            .await
            .unwrap(),
        vec![e2, e3]
    );
}

async fn fraud_assessments_and_cases(store: Arc<dyn Store>) {
    let mut u = write(&store).await;
    let rows = [
        assessment(1, 7, "p1", "10.00", FraudAction::Allow, t0()),
        assessment(
            2,
            7,
            "p2",
            "20.50",
            FraudAction::Review,
            t0() + Duration::minutes(10),
        ),
        assessment(
            3,
            7,
            "p3",
            "1000.00",
            FraudAction::Block,
            t0() + Duration::minutes(20),
        ),
        assessment(
            4,
            8,
            "p1",
            "5.00",
            FraudAction::Allow,
            t0() + Duration::minutes(20),
        ),
    ];
    for a in &rows {
        u.insert_assessment(a).await.unwrap();
    }
    assert_eq!(
        u.insert_assessment(&rows[0]).await,
        Err(BankError::Duplicate("fraud assessment"))
    );
    u.commit().await.unwrap();
    let mut r = read(&store).await;
    let acc = AccountId(Uuid::from_u128(7));
    assert_eq!(
        r.assessment(rows[1].transaction_id).await.unwrap().as_ref(),
        Some(&rows[1])
    );
    let v = r.velocity(acc, t0()).await.unwrap();
    assert_eq!(
        (v.count, v.total.to_string()),
        (2, "30.50".to_string()),
        "since inclusive, BLOCK excluded"
    );
    assert_eq!(
        r.velocity(acc, t0() + Duration::seconds(1))
            .await
            .unwrap()
            .count,
        1
    );
    assert_eq!(
        r.velocity(AccountId(Uuid::from_u128(99)), t0())
            .await
            .unwrap()
            .count,
        0
    );
    assert!(r
        .has_paid_before(acc, "p1", t0() + Duration::seconds(1))
        .await
        .unwrap());
    assert!(
        !r.has_paid_before(acc, "p1", t0()).await.unwrap(),
        "strictly before"
    );
    assert!(
        !r.has_paid_before(acc, "p3", t0() + Duration::hours(1))
            .await
            .unwrap(),
        "blocked payments do not count"
    );
    drop(r);

    let mut u = write(&store).await;
    let c1 = case(1, 2, 7, t0());
    let c2 = case(2, 5, 7, t0() + Duration::days(2));
    let c3 = case(3, 6, 8, t0());
    for c in [&c2, &c1, &c3] {
        u.insert_case(c).await.unwrap();
    }
    assert_eq!(
        u.insert_case(&case(4, 2, 7, t0())).await,
        Err(BankError::Duplicate("fraud case")),
        "one per transaction"
    );
    let mut resolved = c1.clone();
    resolved.status = CaseStatus::Released;
    resolved.resolved_by = Some(uid(1));
    resolved.resolution_note = Some("ok".into());
    resolved.resolved_at = Some(t0() + Duration::hours(1));
    u.update_case(&resolved).await.unwrap();
    u.commit().await.unwrap();
    let mut r = read(&store).await;
    assert_eq!(r.case(c1.id).await.unwrap().as_ref(), Some(&resolved));
    assert_eq!(
        r.case_by_transaction(c2.transaction_id)
            .await
            .unwrap()
            .map(|c| c.id),
        Some(c2.id)
    );
    let ids = |v: Vec<FraudCase>| v.into_iter().map(|c| c.id.0.as_u128()).collect::<Vec<_>>();
    assert_eq!(
        ids(r.list_cases(None, None, 10).await.unwrap()),
        vec![1, 2, 3]
    );
    assert_eq!(
        ids(r
            .list_cases(Some(CaseStatus::Open), None, 10)
            .await
            .unwrap()),
        vec![2, 3]
    );
    assert_eq!(
        ids(r.list_cases(None, Some(c1.id), 1).await.unwrap()),
        vec![2]
    );
    assert_eq!(r.count_cases_of_account(acc, t0()).await.unwrap(), 2);
    assert_eq!(
        r.count_cases_of_account(acc, t0() + Duration::days(1))
            .await
            .unwrap(),
        1
    );
}

async fn notifications_feed_and_retries(store: Arc<dyn Store>) {
    let mut u = write(&store).await;
    // Ids deliberately out of time order: order is (created_at, id), never id alone.
    let n_late = notification(1, 10, Channel::InApp, t0() + Duration::seconds(2));
    let n_early = notification(9, 10, Channel::InApp, t0());
    let n_mid_a = notification(5, 10, Channel::InApp, t0() + Duration::seconds(1));
    let n_mid_b = notification(6, 10, Channel::Email, t0() + Duration::seconds(1));
    let other = notification(7, 11, Channel::InApp, t0());
    for n in [&n_late, &n_early, &n_mid_a, &n_mid_b, &other] {
        u.insert_notification(n).await.unwrap();
    }
    assert_eq!(
        u.insert_notification(&n_late).await,
        Err(BankError::Duplicate("notification"))
    );
    let ev = EventId(Uuid::from_u128(500));
    let mut from_event = notification(20, 10, Channel::Email, t0());
    from_event.source_event_id = Some(ev);
    u.insert_notification(&from_event).await.unwrap();
    let mut again = notification(21, 10, Channel::Email, t0());
    again.source_event_id = Some(ev);
    assert_eq!(
        u.insert_notification(&again).await,
        Err(BankError::Duplicate("notification")),
        "one per event, user, channel"
    );
    again.channel = Channel::Push;
    u.insert_notification(&again)
        .await
        .expect("another channel is fine");
    u.commit().await.unwrap();

    let mut r = read(&store).await;
    let ids =
        |v: Vec<NotificationRecord>| v.into_iter().map(|n| n.id.0.as_u128()).collect::<Vec<_>>();
    assert_eq!(
        ids(r.in_app_feed(uid(10), None, 10).await.unwrap()),
        vec![9, 5, 1]
    );
    assert_eq!(
        ids(r.in_app_feed(uid(10), Some(n_early.id), 10).await.unwrap()),
        vec![5, 1]
    );
    assert_eq!(
        ids(r.in_app_feed(uid(10), Some(n_mid_b.id), 10).await.unwrap()),
        vec![1],
        "cursor by (created_at, id)"
    );
    assert_eq!(
        ids(r.in_app_feed(uid(10), Some(other.id), 10).await.unwrap()),
        Vec::<u128>::new(),
        "another user's cursor"
    );
    assert_eq!(
        ids(r.notifications_of_user(uid(10), None, 3).await.unwrap()),
        vec![1, 6, 5]
    );
    assert_eq!(
        ids(r
            .notifications_of_user(uid(10), Some(n_mid_a.id), 10)
            .await
            .unwrap()),
        vec![21, 20, 9]
    );
    let due = ids(r
        .due_notifications(t0() + Duration::seconds(1), 10)
        .await
        .unwrap());
    assert_eq!(due, vec![7, 9, 20, 21, 5, 6], "next_attempt_at, then id");
    drop(r);

    let mut u = write(&store).await;
    let mut sent = n_early.clone();
    sent.status = NotificationStatus::Sent;
    sent.attempts = 2;
    sent.next_attempt_at = None;
    sent.sent_at = Some(t0());
    sent.read_at = Some(t0());
    sent.last_error = Some("boom".into());
    u.update_notification(&sent).await.unwrap();
    let pref = |cat: &str, ch: Channel, on: bool| Preference {
        user_id: uid(10),
        category: cat.into(),
        channel: ch,
        enabled: on,
        updated_at: t0(),
    };
    u.set_preference(&pref("transaction.completed", Channel::Sms, false))
        .await
        .unwrap();
    u.set_preference(&pref("account.created", Channel::Push, false))
        .await
        .unwrap();
    u.set_preference(&pref("transaction.completed", Channel::Email, false))
        .await
        .unwrap();
    u.set_preference(&pref("transaction.completed", Channel::Sms, true))
        .await
        .unwrap();
    u.commit().await.unwrap();
    let mut r = read(&store).await;
    assert_eq!(r.notification(sent.id).await.unwrap().as_ref(), Some(&sent));
    assert!(!ids(r
        .due_notifications(t0() + Duration::hours(1), 10)
        .await
        .unwrap())
    .contains(&9));
    let prefs = r.preferences_of_user(uid(10)).await.unwrap();
    assert_eq!(
        prefs,
        vec![
            pref("account.created", Channel::Push, false),
            pref("transaction.completed", Channel::Email, false),
            pref("transaction.completed", Channel::Sms, true),
        ],
        "upsert; ordered by category then channel"
    );
    assert_eq!(r.preferences_of_user(uid(11)).await.unwrap(), vec![]);
}

async fn audit_chain_storage(store: Arc<dyn Store>) {
    let mut u = write(&store).await;
    assert_eq!(u.lock_audit_head().await.unwrap(), None);
    let e1 = audit_entry(1, GENESIS_HASH);
    let e2 = audit_entry(2, &e1.hash);
    u.append_audit(&e1).await.unwrap();
    u.append_audit(&e2).await.unwrap();
    assert_eq!(
        u.append_audit(&audit_entry(2, &e1.hash)).await,
        Err(BankError::Duplicate("audit entry"))
    );
    assert_eq!(
        u.lock_audit_head().await.unwrap(),
        Some((2, e2.hash.clone()))
    );
    u.commit().await.unwrap();
    let e3 = audit_entry(3, &e2.hash);
    let mut u = write(&store).await;
    u.append_audit(&e3).await.unwrap();
    u.commit().await.unwrap();
    let mut r = read(&store).await;
    let all = r.audit_entries(None, 10).await.unwrap();
    assert_eq!(
        all,
        vec![e1.clone(), e2.clone(), e3.clone()],
        "round trip, detail JSON included"
    );
    assert!(
        all.iter().all(|e| e.compute_hash() == e.hash),
        "hashes recompute after a round trip"
    );
    assert_eq!(r.audit_entries(Some(1), 1).await.unwrap(), vec![e2]);
    assert_eq!(r.audit_entries(Some(3), 10).await.unwrap(), vec![]);
}

async fn context_writes_roll_back(store: Arc<dyn Store>) {
    let mut u = write(&store).await;
    u.insert_user(&user(1, "keep@example.com", None))
        .await
        .unwrap();
    u.savepoint().await.unwrap();
    u.insert_user(&user(2, "gone@example.com", None))
        .await
        .unwrap();
    u.insert_customer(&customer(2, 2, "Gone", "Away"))
        .await
        .unwrap();
    u.insert_rule(&rule(2, "gone", 0, true)).await.unwrap();
    u.insert_assessment(&assessment(2, 7, "p", "1.00", FraudAction::Allow, t0()))
        .await
        .unwrap();
    u.insert_notification(&notification(2, 1, Channel::Email, t0()))
        .await
        .unwrap();
    u.append_audit(&audit_entry(1, GENESIS_HASH)).await.unwrap();
    u.rollback_to_savepoint().await.unwrap();
    u.commit().await.unwrap();
    let mut r = read(&store).await;
    assert!(r.user(uid(1)).await.unwrap().is_some());
    assert_eq!(r.user(uid(2)).await.unwrap(), None);
    assert_eq!(
        r.customer(CustomerId(Uuid::from_u128(2))).await.unwrap(),
        None
    );
    assert_eq!(r.list_rules(false, 10).await.unwrap(), vec![]);
    assert_eq!(
        r.velocity(AccountId(Uuid::from_u128(7)), t0())
            .await
            .unwrap()
            .count,
        0
    );
    assert_eq!(
        r.notification(NotificationId(Uuid::from_u128(2)))
            .await
            .unwrap(),
        None
    );
    assert_eq!(r.lock_audit_head().await.unwrap(), None);
    drop(r);
    // A unit dropped without commit leaves nothing either.
    let mut u = write(&store).await;
    u.insert_session(&session(1, 1, 1, t0())).await.unwrap();
    u.insert_code(&code(1, 1, CodePurpose::VerifyEmail, "h", t0()))
        .await
        .unwrap();
    drop(u);
    let mut r = read(&store).await;
    assert_eq!(r.session_by_token_hash("hash-1").await.unwrap(), None);
    assert_eq!(
        r.latest_code(uid(1), CodePurpose::VerifyEmail)
            .await
            .unwrap(),
        None
    );
}
