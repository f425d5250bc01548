//! Fraud, notification and audit repository cases, and rollback of context writes.

#![allow(missing_docs)] // A case is named by what it checks; the names are the docs.

use std::sync::Arc;

use chrono::Duration;
use serde_json::json;
use uuid::Uuid;

use crate::audit::GENESIS_HASH;
use crate::error::BankError;
use crate::fraud::{CaseStatus, FraudCase, FraudRule, ListEntryType, ListKind};
use crate::fraud_port::FraudAction;
use crate::identity::CodePurpose;
use crate::ids::{AccountId, CustomerId, EventId, NotificationId};
use crate::notify::{Channel, NotificationRecord, NotificationStatus, Preference};
use crate::ports::Store;

use super::ctx_fixtures::*;

pub async fn fraud_rules_and_lists(store: Arc<dyn Store>) {
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

pub async fn fraud_assessments_and_cases(store: Arc<dyn Store>) {
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

pub async fn notifications_feed_and_retries(store: Arc<dyn Store>) {
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

pub async fn audit_chain_storage(store: Arc<dyn Store>) {
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

pub async fn context_writes_roll_back(store: Arc<dyn Store>) {
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
