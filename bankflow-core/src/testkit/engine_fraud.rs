//! Fraud through the `Bank` facade on any store: rules and lists, every rule type,
//! BLOCK and REVIEW through the transfer pipeline, case resolution, suspicious accounts,
//! analyze-only and score lookups.

#![allow(missing_docs)] // A case is named by what it checks; the names are the docs.

use std::ops::Deref;
use std::sync::Arc;

use crate::fraud::{FraudProposal, FraudRulePatch, NewFraudRule};
use crate::ports::{Store, TxMode, EVENTS_OF_AGGREGATE_MAX};
use crate::*;
use chrono::Duration;
use rust_decimal::Decimal;
use serde_json::json;

use super::engine::open;
use super::engine_ctx::{bank_on, bank_with, refusal_code, Ctx};
use super::fixtures::usd;

/// A bank with a fraud admin and two month-old accounts, `a` funded with 200,000.00.
struct T {
    ctx: Ctx,
    admin: Actor,
    a: AccountId,
    b: AccountId,
    n: std::sync::atomic::AtomicU32,
}

impl Deref for T {
    type Target = Ctx;
    fn deref(&self) -> &Ctx {
        &self.ctx
    }
}

async fn setup(store: Arc<dyn Store>) -> T {
    let ctx = bank_on(store);
    let admin = ctx.admin("fraud-admin@bank.example").await;
    let a = open(&ctx.bank, 1, AccountType::Checking).await.id;
    let b = open(&ctx.bank, 2, AccountType::Checking).await.id;
    let t = T {
        ctx,
        admin,
        a,
        b,
        n: Default::default(),
    };
    t.deposit(a, "200000.00").await;
    // Accounts are a month old unless a test says otherwise.
    t.clock.advance(Duration::days(30));
    t
}

impl T {
    fn key(&self) -> IdempotencyKey {
        let n = self.n.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        IdempotencyKey::parse(&format!("k-{n}")).unwrap()
    }

    async fn deposit(&self, to: AccountId, amount: &str) {
        let req = BookingRequest {
            account_id: to,
            amount: usd(amount),
            description: None,
            idempotency_key: self.key(),
        };
        self.bank
            .money()
            .deposit(&Actor::system(), req)
            .await
            .unwrap();
    }

    async fn transfer_ctx(
        &self,
        from: AccountId,
        to: AccountId,
        amount: &str,
        ctx: RequestContext,
    ) -> BankResult<Transaction> {
        let item = TransferItem {
            from_account_id: from,
            to: Destination::Account(to),
            amount: usd(amount),
            description: None,
        };
        self.bank
            .money()
            .transfer(
                &Actor::system(),
                TransferRequest {
                    item,
                    idempotency_key: self.key(),
                    context: ctx,
                },
            )
            .await
    }

    async fn transfer(&self, amount: &str) -> BankResult<Transaction> {
        self.transfer_ctx(self.a, self.b, amount, RequestContext::default())
            .await
    }

    async fn last_txn(&self, account: AccountId) -> Transaction {
        let q = TransactionQuery {
            account_id: Some(account),
            limit: 1,
            ..Default::default()
        };
        self.bank
            .money()
            .history(&Actor::system(), &q)
            .await
            .unwrap()
            .remove(0)
    }

    async fn available(&self, id: AccountId) -> Decimal {
        self.bank
            .money()
            .balance(&Actor::system(), id)
            .await
            .unwrap()
            .available_balance
            .amount()
    }

    async fn rule(
        &self,
        name: &str,
        ty: RuleType,
        conditions: serde_json::Value,
        action: FraudAction,
    ) -> FraudRule {
        let r = NewFraudRule {
            rule_name: name.into(),
            rule_type: ty,
            conditions,
            action,
            priority: 0,
            is_active: true,
        };
        self.bank
            .fraud()
            .create_fraud_rule(&self.admin, r)
            .await
            .unwrap()
    }
}

pub async fn without_rules_everything_is_allowed_and_nothing_recorded(store: Arc<dyn Store>) {
    let t = setup(store).await;
    let txn = t.transfer("150000.00").await.unwrap();
    assert_eq!(txn.status, TransactionStatus::Completed);
    assert_eq!(
        refusal_code(t.bank.fraud().fraud_score(&t.admin, txn.id).await),
        "not_found"
    );
    assert_eq!(
        t.bank
            .fraud()
            .install_default_fraud_rules(&t.admin)
            .await
            .unwrap(),
        7
    );
    assert_eq!(
        t.bank
            .fraud()
            .install_default_fraud_rules(&t.admin)
            .await
            .unwrap(),
        0
    );
    let rules = t.bank.fraud().fraud_rules(&t.admin, true).await.unwrap();
    assert_eq!(
        rules[0].rule_type,
        RuleType::BlacklistHit,
        "highest priority first"
    );
    let small = t.transfer("10.00").await.unwrap();
    let score = t
        .bank
        .fraud()
        .fraud_score(&t.admin, small.id)
        .await
        .unwrap();
    assert_eq!((score.score, score.action), (0, FraudAction::Allow));
}

pub async fn blacklist_blocks_and_whitelist_vouches_only_against_the_score(store: Arc<dyn Store>) {
    let t = setup(store).await;
    t.bank
        .fraud()
        .install_default_fraud_rules(&t.admin)
        .await
        .unwrap();
    t.bank
        .fraud()
        .add_list_entry(
            &t.admin,
            ListKind::Black,
            ListEntryType::Ip,
            " 203.0.113.66 ",
            Some("botnet"),
        )
        .await
        .unwrap();
    assert_eq!(
        t.bank
            .fraud()
            .add_list_entry(
                &t.admin,
                ListKind::Black,
                ListEntryType::Ip,
                "203.0.113.66",
                None
            )
            .await
            .unwrap_err(),
        BankError::Duplicate("list entry")
    );
    let before = t.available(t.a).await;
    let ctx = RequestContext {
        ip: Some("203.0.113.66".into()),
        device_id: Some("dev-1".into()),
        ..Default::default()
    };
    let err = t
        .transfer_ctx(t.a, t.b, "25.00", ctx.clone())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "fraud_blocked");
    // The customer is not told which rule or list fired (issue #16, finding 3).
    assert_eq!(err.to_string(), crate::fraud_port::FRAUD_REFUSAL);
    let failed = t.last_txn(t.a).await;
    assert_eq!(failed.status, TransactionStatus::Failed);
    assert_eq!(failed.failure_code.as_deref(), Some("fraud_blocked"));
    assert_eq!(
        failed.reason.as_deref(),
        Some(crate::fraud_port::FRAUD_REFUSAL)
    );
    assert_eq!(t.available(t.a).await, before, "nothing moved");
    let types = t.event_types(failed.id.0).await;
    assert!(
        types.contains(&EventType::FraudDetected) && types.contains(&EventType::TransactionFailed)
    );
    let score = t
        .bank
        .fraud()
        .fraud_score(&t.admin, failed.id)
        .await
        .unwrap();
    assert_eq!((score.score, score.action), (100, FraudAction::Block));
    assert!(score.flags[0].contains("IP"));

    // A whitelisted device never beats the blacklist (issue #16, finding 2)...
    let w = t
        .bank
        .fraud()
        .add_list_entry(
            &t.admin,
            ListKind::White,
            ListEntryType::Device,
            "dev-1",
            None,
        )
        .await
        .unwrap();
    assert_eq!(
        refusal_code(t.transfer_ctx(t.a, t.b, "25.00", ctx.clone()).await),
        "fraud_blocked"
    );
    let still = t.last_txn(t.a).await;
    assert!(t
        .bank
        .fraud()
        .fraud_score(&t.admin, still.id)
        .await
        .unwrap()
        .flags[0]
        .contains("IP"));
    // ... but it vouches against the score and REVIEW rules: "very large amount" holds
    // others for review, not this device.
    let trusted = RequestContext {
        device_id: Some("dev-1".into()),
        ..Default::default()
    };
    let ok = t
        .transfer_ctx(t.a, t.b, "60000.00", trusted.clone())
        .await
        .unwrap();
    assert_eq!(ok.status, TransactionStatus::Completed);
    assert_eq!(
        t.bank
            .fraud()
            .fraud_score(&t.admin, ok.id)
            .await
            .unwrap()
            .flags,
        vec!["whitelist:DEVICE".to_string()]
    );
    // ... and never beats a rule that blocks.
    let block = t
        .bank
        .fraud()
        .create_fraud_rule(
            &t.admin,
            NewFraudRule {
                rule_name: "block huge".into(),
                rule_type: RuleType::AmountThreshold,
                conditions: json!({"min_amount": "70000.00", "score": 10}),
                action: FraudAction::Block,
                priority: 950,
                is_active: true,
            },
        )
        .await
        .unwrap();
    assert_eq!(
        refusal_code(t.transfer_ctx(t.a, t.b, "70000.00", trusted).await),
        "fraud_blocked"
    );
    t.bank
        .fraud()
        .update_fraud_rule(
            &t.admin,
            block.id,
            FraudRulePatch {
                is_active: Some(false),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    t.bank
        .fraud()
        .remove_list_entry(&t.admin, w.id)
        .await
        .unwrap();
    assert_eq!(
        refusal_code(t.bank.fraud().remove_list_entry(&t.admin, w.id).await),
        "not_found"
    );
    assert!(t.transfer_ctx(t.a, t.b, "25.00", ctx).await.is_err());

    // Email domains and counterparties are list keys too.
    t.bank
        .fraud()
        .add_list_entry(
            &t.admin,
            ListKind::Black,
            ListEntryType::EmailDomain,
            "@Evil.Example",
            None,
        )
        .await
        .unwrap();
    let ctx = RequestContext {
        email: Some("Mallory@evil.example".into()),
        ..Default::default()
    };
    assert_eq!(
        refusal_code(t.transfer_ctx(t.a, t.b, "5.00", ctx).await),
        "fraud_blocked"
    );
    let entries = t
        .bank
        .fraud()
        .list_entries(&t.admin, Some(ListKind::Black), None, 10)
        .await
        .unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(
        entries
            .iter()
            .find(|e| e.entry_type == ListEntryType::EmailDomain)
            .unwrap()
            .value,
        "evil.example"
    );
}

pub async fn review_holds_funds_opens_a_case_and_admin_resolves_it(store: Arc<dyn Store>) {
    let t = setup(store).await;
    t.bank
        .fraud()
        .install_default_fraud_rules(&t.admin)
        .await
        .unwrap();
    let avail_a = t.available(t.a).await;
    let bal_b = t.available(t.b).await;
    let held = t.transfer("60000.00").await.unwrap();
    assert_eq!(held.status, TransactionStatus::Review);
    assert_eq!(
        t.available(t.a).await,
        avail_a - Decimal::from(60000),
        "funds held"
    );
    assert_eq!(t.available(t.b).await, bal_b);
    let cases = t
        .bank
        .fraud()
        .fraud_cases(&t.admin, Some(CaseStatus::Open), None, 10)
        .await
        .unwrap();
    assert_eq!(cases.len(), 1);
    let case = &cases[0];
    assert_eq!((case.transaction_id, case.account_id), (held.id, t.a));
    assert!(case.fraud_score >= 60);
    let case_events = t.event_types(case.id.0).await;
    assert_eq!(case_events, vec![EventType::FraudHighRisk]);

    // Only admins decide; then the transfer completes.
    let cust = Actor::customer(
        UserId(uuid::Uuid::from_u128(9)),
        Some(CustomerId(uuid::Uuid::from_u128(1))),
    );
    assert_eq!(
        refusal_code(
            t.bank
                .fraud()
                .resolve_fraud_case(&cust, case.id, CaseDecision::Release, None)
                .await
        ),
        "forbidden"
    );
    let (c, txn) = t
        .bank
        .fraud()
        .resolve_fraud_case(
            &t.admin,
            case.id,
            CaseDecision::Release,
            Some("customer confirmed"),
        )
        .await
        .unwrap();
    assert_eq!(c.status, CaseStatus::Released);
    assert_eq!(c.resolved_by, t.admin.user_id);
    assert_eq!(txn.status, TransactionStatus::Completed);
    assert_eq!(t.available(t.b).await, bal_b + Decimal::from(60000));
    assert_eq!(
        refusal_code(
            t.bank
                .fraud()
                .resolve_fraud_case(&t.admin, case.id, CaseDecision::Reject, None)
                .await
        ),
        "invalid_state"
    );

    // Reject: the hold is voided, the transaction FAILED, nothing moved.
    let avail_a = t.available(t.a).await;
    let held = t.transfer("70000.00").await.unwrap();
    let case = t
        .bank
        .fraud()
        .fraud_cases(&t.admin, Some(CaseStatus::Open), None, 10)
        .await
        .unwrap()
        .remove(0);
    let (c, txn) = t
        .bank
        .fraud()
        .resolve_fraud_case(&t.admin, case.id, CaseDecision::Reject, None)
        .await
        .unwrap();
    assert_eq!(
        (c.status, txn.id, txn.status),
        (CaseStatus::Rejected, held.id, TransactionStatus::Failed)
    );
    assert_eq!(t.available(t.a).await, avail_a);
    assert_eq!(
        t.bank
            .money()
            .verify_ledger()
            .await
            .unwrap()
            .accounts_checked,
        2
    );
    let log = t.bank.audit().audit_log(&t.admin, None, 100).await.unwrap();
    assert!(
        log.iter().any(|e| e.action == "fraud.case.release")
            && log.iter().any(|e| e.action == "fraud.case.reject")
    );
}

pub async fn repeated_cases_mark_the_account_suspicious(store: Arc<dyn Store>) {
    let t = setup(store).await;
    t.bank
        .fraud()
        .install_default_fraud_rules(&t.admin)
        .await
        .unwrap();
    for i in 0..3 {
        let txn = t.transfer("55000.00").await.unwrap();
        assert_eq!(txn.status, TransactionStatus::Review, "case {i}");
    }
    let account_events = t.event_types(t.a.0).await;
    assert_eq!(
        account_events
            .iter()
            .filter(|e| **e == EventType::AccountSuspicious)
            .count(),
        1
    );
    // A review that cannot hold (not enough funds) is refused and opens no case.
    let before = t
        .bank
        .fraud()
        .fraud_cases(&t.admin, None, None, 100)
        .await
        .unwrap()
        .len();
    assert_eq!(
        t.transfer("55000.00").await.unwrap_err().code(),
        "insufficient_funds"
    );
    assert_eq!(
        t.bank
            .fraud()
            .fraud_cases(&t.admin, None, None, 100)
            .await
            .unwrap()
            .len(),
        before
    );
}

pub async fn velocity_rules_count_the_window(store: Arc<dyn Store>) {
    let t = setup(store).await;
    t.rule(
        "four per hour",
        RuleType::VelocityCount,
        json!({"max_count": 3, "window_minutes": 60, "score": 90}),
        FraudAction::Block,
    )
    .await;
    for _ in 0..3 {
        t.transfer("10.00").await.unwrap();
    }
    assert_eq!(
        t.transfer("10.00").await.unwrap_err().code(),
        "fraud_blocked"
    );
    // Blocked attempts do not count; after the window, transfers flow again.
    t.clock.advance(Duration::minutes(61));
    t.transfer("10.00").await.unwrap();
}

pub async fn velocity_amount_rules_sum_the_window(store: Arc<dyn Store>) {
    let t = setup(store).await;
    t.rule(
        "daily cap",
        RuleType::VelocityAmount,
        json!({"max_amount": "1000.00", "window_minutes": 1440}),
        FraudAction::Block,
    )
    .await;
    t.transfer("600.00").await.unwrap();
    assert_eq!(
        t.transfer("400.01").await.unwrap_err().code(),
        "fraud_blocked"
    );
    t.transfer("400.00").await.unwrap();
}

pub async fn new_account_and_first_time_payee_rules_and_analyze_only(store: Arc<dyn Store>) {
    let t = setup(store).await;
    t.rule(
        "young account",
        RuleType::NewAccountLargeTransfer,
        json!({"max_account_age_days": 7, "min_amount": "2000.00", "score": 40}),
        FraudAction::Allow,
    )
    .await;
    t.rule(
        "new payee",
        RuleType::FirstTimePayeeLargeTransfer,
        json!({"min_amount": "5000.00", "score": 35}),
        FraudAction::Allow,
    )
    .await;
    let fresh = t
        .bank
        .money()
        .open_account(
            &Actor::system(),
            OpenAccountRequest {
                customer_id: CustomerId(uuid::Uuid::from_u128(3)),
                account_type: AccountType::Checking,
                currency: Currency::USD,
                overdraft_limit: None,
                daily_limit: None,
            },
        )
        .await
        .unwrap()
        .id;
    t.deposit(fresh, "10000.00").await;
    let analyze = |from: AccountId, amount: &str| FraudProposal {
        from_account_id: from,
        to: Some(Destination::Account(t.b)),
        amount: usd(amount),
        context: RequestContext::default(),
    };
    let d = t
        .bank
        .fraud()
        .analyze_transaction(&t.admin, &analyze(fresh, "6000.00"))
        .await
        .unwrap();
    let mut flags = d.flags.clone();
    flags.sort();
    assert_eq!(
        flags,
        vec!["new payee".to_string(), "young account".to_string()]
    );
    // 1 − (1 − 0.40)(1 − 0.35) = 0.61
    assert_eq!(
        (d.score, d.risk_level, d.action),
        (61, RiskLevel::High, FraudAction::Review)
    );
    assert_eq!(
        t.bank
            .fraud()
            .analyze_transaction(&t.admin, &analyze(t.a, "6000.00"))
            .await
            .unwrap()
            .flags,
        vec!["new payee".to_string()]
    );
    assert_eq!(
        t.bank
            .fraud()
            .analyze_transaction(&t.admin, &analyze(t.a, "100.00"))
            .await
            .unwrap()
            .action,
        FraudAction::Allow
    );
    // Analyze-only moved and recorded nothing; a real payment makes the payee known.
    assert!(t
        .bank
        .fraud()
        .fraud_cases(&t.admin, None, None, 10)
        .await
        .unwrap()
        .is_empty());
    t.transfer("100.00").await.unwrap();
    t.clock.advance(Duration::seconds(1));
    assert!(t
        .bank
        .fraud()
        .analyze_transaction(&t.admin, &analyze(t.a, "6000.00"))
        .await
        .unwrap()
        .flags
        .is_empty());
    // Analysis is for staff (issue #16, finding 3): a customer is refused before any lookup,
    // so the answer is the same for an account that exists and one that does not.
    let customer = Actor::customer(
        UserId(uuid::Uuid::from_u128(77)),
        Some(CustomerId(uuid::Uuid::from_u128(77))),
    );
    for account in [t.a, AccountId(uuid::Uuid::from_u128(78))] {
        assert_eq!(
            refusal_code(
                t.bank
                    .fraud()
                    .analyze_transaction(&customer, &analyze(account, "1.00"))
                    .await
            ),
            "forbidden"
        );
    }
    t.clock.advance(Duration::days(8));
    assert!(t
        .bank
        .fraud()
        .analyze_transaction(&t.admin, &analyze(fresh, "3000.00"))
        .await
        .unwrap()
        .flags
        .is_empty());
}

pub async fn rules_are_validated_admin_only_and_audited(store: Arc<dyn Store>) {
    let t = setup(store).await;
    let r = |conditions: serde_json::Value, ty: RuleType| NewFraudRule {
        rule_name: "r".into(),
        rule_type: ty,
        conditions,
        action: FraudAction::Review,
        priority: 1,
        is_active: true,
    };
    for (c, ty) in [
        (
            json!({"min_amount": "100", "scor": 5}),
            RuleType::AmountThreshold,
        ),
        (json!({"min_amount": "-1"}), RuleType::AmountThreshold),
        (
            json!({"max_count": 0, "window_minutes": 5}),
            RuleType::VelocityCount,
        ),
        (
            json!({"max_count": 3, "window_minutes": 999999}),
            RuleType::VelocityCount,
        ),
        (json!({"score": 101}), RuleType::BlacklistHit),
        (json!([1, 2]), RuleType::BlacklistHit),
    ] {
        assert_eq!(
            refusal_code(
                t.bank
                    .fraud()
                    .create_fraud_rule(&t.admin, r(c.clone(), ty))
                    .await
            ),
            "validation_error",
            "{c}"
        );
    }
    let cust = Actor::customer(UserId(uuid::Uuid::from_u128(5)), None);
    assert_eq!(
        t.bank
            .fraud()
            .create_fraud_rule(&cust, r(json!({"score": 10}), RuleType::BlacklistHit))
            .await
            .unwrap_err()
            .code(),
        "forbidden"
    );
    assert_eq!(
        refusal_code(t.bank.fraud().fraud_rules(&cust, false).await),
        "forbidden"
    );
    let rule = t
        .rule(
            "big",
            RuleType::AmountThreshold,
            json!({"min_amount": 1000, "score": 10}),
            FraudAction::Block,
        )
        .await;
    assert_eq!(
        t.bank
            .fraud()
            .create_fraud_rule(
                &t.admin,
                NewFraudRule {
                    rule_name: "big".into(),
                    ..r(json!({"score": 1}), RuleType::BlacklistHit)
                }
            )
            .await
            .unwrap_err(),
        BankError::Duplicate("fraud rule")
    );
    assert_eq!(
        t.transfer("1000.00").await.unwrap_err().code(),
        "fraud_blocked"
    );
    let off = t
        .bank
        .fraud()
        .update_fraud_rule(
            &t.admin,
            rule.id,
            FraudRulePatch {
                is_active: Some(false),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(!off.is_active);
    t.transfer("1000.00").await.unwrap();
    let bad = FraudRulePatch {
        conditions: Some(json!({"max_count": 1})),
        ..Default::default()
    };
    assert_eq!(
        refusal_code(
            t.bank
                .fraud()
                .update_fraud_rule(&t.admin, rule.id, bad)
                .await
        ),
        "validation_error"
    );
    let log = t.bank.audit().audit_log(&t.admin, None, 100).await.unwrap();
    assert!(
        log.iter().any(|e| e.action == "fraud.rule.create")
            && log.iter().any(|e| e.action == "fraud.rule.update")
    );
}

pub async fn fraud_outcomes_survive_group_commit(store: Arc<dyn Store>) {
    // Same pipeline with concurrent commands coalesced into one store transaction: each
    // command's fraud writes (assessment, case, events) live and die with its savepoint.
    let config = BankConfig {
        group_commit: Some(true),
        ..BankConfig::default()
    };
    let bank = bank_with(store.clone(), config, None).bank;
    let sys = Actor::system();
    for (name, ty, conditions, action) in [
        (
            "huge",
            RuleType::AmountThreshold,
            json!({"min_amount": "50000.00", "score": 70}),
            FraudAction::Review,
        ),
        (
            "listed",
            RuleType::BlacklistHit,
            json!({"score": 100}),
            FraudAction::Block,
        ),
    ] {
        let r = NewFraudRule {
            rule_name: name.into(),
            rule_type: ty,
            conditions,
            action,
            priority: 1,
            is_active: true,
        };
        bank.fraud().create_fraud_rule(&sys, r).await.unwrap();
    }
    let a = open(&bank, 1, AccountType::Checking).await.id;
    let b = open(&bank, 2, AccountType::Checking).await.id;
    let fund = BookingRequest {
        account_id: a,
        amount: usd("500000.00"),
        description: None,
        idempotency_key: IdempotencyKey::parse("f").unwrap(),
    };
    bank.money().deposit(&sys, fund).await.unwrap();
    bank.fraud()
        .add_list_entry(
            &sys,
            ListKind::Black,
            ListEntryType::Device,
            "stolen-phone",
            None,
        )
        .await
        .unwrap();
    let mut jobs = Vec::new();
    for i in 0..12 {
        let bank = bank.clone();
        let sys = sys.clone();
        jobs.push(tokio::spawn(async move {
            let (amount, device) = match i % 3 {
                0 => ("60000.00", None),
                1 => ("10.00", Some("stolen-phone".to_string())),
                _ => ("10.00", None),
            };
            let item = TransferItem {
                from_account_id: a,
                to: Destination::Account(b),
                amount: usd(amount),
                description: None,
            };
            let ctx = RequestContext {
                device_id: device,
                ..Default::default()
            };
            let key = IdempotencyKey::parse(&format!("g-{i}")).unwrap();
            bank.money()
                .transfer(
                    &sys,
                    TransferRequest {
                        item,
                        idempotency_key: key,
                        context: ctx,
                    },
                )
                .await
        }));
    }
    let mut review = 0;
    let mut blocked = 0;
    let mut done = 0;
    for j in jobs {
        match j.await.unwrap() {
            Ok(t) if t.status == TransactionStatus::Review => review += 1,
            Ok(t) if t.status == TransactionStatus::Completed => done += 1,
            Err(e) if e.code() == "fraud_blocked" => blocked += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!((review, blocked, done), (4, 4, 4));
    let cases = bank
        .fraud()
        .fraud_cases(&sys, Some(CaseStatus::Open), None, 100)
        .await
        .unwrap();
    assert_eq!(cases.len(), 4, "one case per REVIEW, none for refusals");
    for c in &cases {
        let mut uow = store.begin(TxMode::Read).await.unwrap();
        let t = uow.transaction(c.transaction_id).await.unwrap().unwrap();
        assert_eq!(t.status, TransactionStatus::Review);
        let types: Vec<EventType> = uow
            .events_of_aggregate(c.id.0, EVENTS_OF_AGGREGATE_MAX)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.event.event_type)
            .collect();
        assert_eq!(types, vec![EventType::FraudHighRisk]);
    }
    bank.money().verify_ledger().await.unwrap();
}
