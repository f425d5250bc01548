//! Notifications through the `Bank` facade on any store: templates from events,
//! preferences (security messages cannot be opted out of), retries with backoff, redaction
//! of secrets, the in-app feed and admin messages.

#![allow(missing_docs)] // A case is named by what it checks; the names are the docs.

use std::sync::Arc;

use crate::notify::{NotificationStatus, NOTIFY_ATTEMPTS_MAX, REDACTED};
use crate::ports::Store;
use crate::*;
use chrono::{Duration, NaiveDate};

use super::engine_ctx::{bank_with, refusal_code, Ctx};

type T = Ctx;

fn setup(store: Arc<dyn Store>) -> T {
    let config = BankConfig {
        require_kyc: false,
        ..BankConfig::default()
    };
    bank_with(store, config, None)
}

async fn customer(t: &T, me: &Actor) -> (Actor, AccountId) {
    let p = NewCustomer {
        first_name: "Nia".into(),
        last_name: "Lind".into(),
        date_of_birth: NaiveDate::from_ymd_opt(1985, 1, 1).unwrap(),
        ssn: None,
        address_line1: "2 Elm St".into(),
        address_line2: None,
        city: "Austin".into(),
        state: "TX".into(),
        zip_code: "73301".into(),
        country: "US".into(),
    };
    let c = t
        .bank
        .customers()
        .create_customer(me, None, p)
        .await
        .unwrap();
    (
        t.bank
            .identity()
            .actor_for_user(me.user_id.unwrap())
            .await
            .unwrap(),
        c.default_account_id.unwrap(),
    )
}

async fn history(t: &T, me: &Actor) -> Vec<notify::NotificationRecord> {
    t.bank.notifications().list(me, None, 100).await.unwrap()
}

pub async fn events_become_templated_notifications_once(store: Arc<dyn Store>) {
    let t = setup(store);
    let alice = t.user("alice@example.com").await;
    let bob = t.user("bob@example.com").await;
    let (alice, a) = customer(&t, &alice).await;
    let (bob, b) = customer(&t, &bob).await;
    let key = |k: &str| IdempotencyKey::parse(k).unwrap();
    let usd = |s: &str| Money::parse(s, Currency::USD).unwrap();
    t.bank
        .money()
        .deposit(
            &Actor::system(),
            BookingRequest {
                account_id: a,
                amount: usd("100.00"),
                description: None,
                idempotency_key: key("d1"),
            },
        )
        .await
        .unwrap();
    let item = TransferItem {
        from_account_id: a,
        to: Destination::Account(b),
        amount: usd("40.00"),
        description: None,
    };
    t.bank
        .money()
        .transfer(
            &alice,
            TransferRequest {
                item,
                idempotency_key: key("t1"),
                context: RequestContext::default(),
            },
        )
        .await
        .unwrap();

    let events = t.sink.events();
    let made = t
        .bank
        .notifications()
        .notify_for_events(&events)
        .await
        .unwrap();
    assert!(made > 0);
    // Feeding the same events again notifies nobody twice.
    assert_eq!(
        t.bank
            .notifications()
            .notify_for_events(&events)
            .await
            .unwrap(),
        0
    );

    let mails = t.notifier.sent_to("bob@example.com");
    assert!(mails
        .iter()
        .any(|m| m.subject.as_deref() == Some("Transaction completed")
            && m.body.contains("40.00 USD (received)")));
    assert!(mails
        .iter()
        .any(|m| m.subject.as_deref() == Some("Your new account")));
    let alice_mails = t.notifier.sent_to("alice@example.com");
    assert!(alice_mails.iter().any(|m| m.body.contains("(sent)")));
    assert!(
        alice_mails.iter().any(|m| m.body.contains("(received)")),
        "the deposit"
    );
    // The welcome message was made at registration; the user.registered event does not repeat it.
    assert_eq!(
        alice_mails
            .iter()
            .filter(|m| m.subject.as_deref() == Some("Welcome to BankFlow"))
            .count(),
        1
    );
    // History carries the seed's fields; the in-app copy is in the feed.
    let h = history(&t, &bob).await;
    let n = h
        .iter()
        .find(|n| n.template_id == "transaction_completed" && n.channel == Channel::Email)
        .unwrap();
    assert_eq!(n.status, NotificationStatus::Sent);
    assert_eq!(n.recipient, "bob@example.com");
    assert!(n.sent_at.is_some());
    assert_eq!(n.metadata["direction"], "received");
    assert!(h
        .iter()
        .any(|n| n.template_id == "transaction_completed" && n.channel == Channel::Push));
    let sent_events = t.events(n.id.0).await;
    assert_eq!(sent_events[0].event.event_type, EventType::NotificationSent);
}

pub async fn preferences_opt_out_but_not_of_security_messages(store: Arc<dyn Store>) {
    let t = setup(store);
    let me = t.user("carl@example.com").await;
    assert_eq!(
        refusal_code(
            t.bank
                .notifications()
                .set_notification_preference(&me, "security", Channel::Email, false)
                .await
        ),
        "validation_error"
    );
    assert_eq!(
        refusal_code(
            t.bank
                .notifications()
                .set_notification_preference(&me, "nope", Channel::Email, false)
                .await
        ),
        "validation_error"
    );
    t.bank
        .notifications()
        .set_notification_preference(&me, "account.created", Channel::Email, false)
        .await
        .unwrap();
    assert_eq!(
        t.bank
            .notifications()
            .notification_preferences(&me)
            .await
            .unwrap()
            .len(),
        1
    );
    let (me, _) = customer(&t, &me).await;
    t.bank
        .notifications()
        .notify_for_events(&t.sink.events())
        .await
        .unwrap();
    let h = history(&t, &me).await;
    assert!(!h
        .iter()
        .any(|n| n.template_id == "account_created" && n.channel == Channel::Email));
    assert!(h
        .iter()
        .any(|n| n.template_id == "account_created" && n.channel == Channel::InApp));
    // Security messages go out whatever the preferences say.
    t.bank
        .identity()
        .forgot_password("carl@example.com", &RequestContext::default())
        .await
        .unwrap();
    assert!(t
        .notifier
        .sent_to("carl@example.com")
        .iter()
        .any(|m| m.subject.as_deref() == Some("Reset your BankFlow password")));
    assert!(t
        .bank
        .notifications()
        .notification_templates()
        .iter()
        .any(|t| t.id == "new_login" && t.security));
}

pub async fn failed_sends_retry_with_backoff_then_fail(store: Arc<dyn Store>) {
    let t = setup(store);
    t.notifier.fail_next(100);
    let me = t.user("dora@example.com").await;
    let welcome = |h: &[notify::NotificationRecord]| {
        h.iter()
            .find(|n| n.template_id == "welcome" && n.channel == Channel::Email)
            .cloned()
            .unwrap()
    };
    let n = welcome(&history(&t, &me).await);
    assert_eq!((n.status, n.attempts), (NotificationStatus::Pending, 1));
    assert_eq!(
        n.next_attempt_at,
        Some(t.clock.now() + Duration::seconds(30))
    );
    assert!(n.last_error.is_some());
    // Secret-bearing messages are never retried from storage (which holds them redacted).
    let code = history(&t, &me)
        .await
        .into_iter()
        .find(|n| n.template_id == "verify_email")
        .unwrap();
    assert_eq!(code.status, NotificationStatus::Failed);
    assert!(code.body.contains(REDACTED));

    assert_eq!(
        t.bank.notifications().retry_notifications().await.unwrap(),
        0
    );
    let mut delay = 30;
    for attempt in 2..=NOTIFY_ATTEMPTS_MAX {
        t.clock.advance(Duration::seconds(delay));
        assert_eq!(
            t.bank.notifications().retry_notifications().await.unwrap(),
            0
        );
        let n = welcome(&history(&t, &me).await);
        assert_eq!(n.attempts, attempt);
        delay *= 2;
        if attempt < NOTIFY_ATTEMPTS_MAX {
            assert_eq!(
                (n.status, n.next_attempt_at),
                (
                    NotificationStatus::Pending,
                    Some(t.clock.now() + Duration::seconds(delay))
                )
            );
        } else {
            assert_eq!(
                (n.status, n.next_attempt_at),
                (NotificationStatus::Failed, None)
            );
        }
    }
    t.clock.advance(Duration::hours(1));
    assert_eq!(
        t.bank.notifications().retry_notifications().await.unwrap(),
        0
    );

    // A transient failure recovers on the next retry.
    t.notifier.fail_next(1);
    let admin_id = t
        .bank
        .identity()
        .ensure_admin("ops@bank.example", "bootstrap-admin-passphrase")
        .await
        .unwrap()
        .unwrap();
    let admin = t.bank.identity().actor_for_user(admin_id).await.unwrap();
    let n = t
        .bank
        .notifications()
        .send_direct_notification(
            &admin,
            me.user_id.unwrap(),
            Channel::Email,
            "Hello",
            "Planned maintenance tonight.",
        )
        .await
        .unwrap();
    assert_eq!(n.status, NotificationStatus::Pending);
    t.clock.advance(Duration::seconds(30));
    assert_eq!(
        t.bank.notifications().retry_notifications().await.unwrap(),
        1
    );
    let n = history(&t, &me)
        .await
        .into_iter()
        .find(|x| x.id == n.id)
        .unwrap();
    assert_eq!((n.status, n.attempts), (NotificationStatus::Sent, 2));
    assert!(t
        .notifier
        .sent_to("dora@example.com")
        .iter()
        .any(|m| m.body == "Planned maintenance tonight."));
    assert_eq!(
        refusal_code(
            t.bank
                .notifications()
                .send_direct_notification(&me, admin_id, Channel::Email, "x", "y")
                .await
        ),
        "forbidden"
    );
}

pub async fn in_app_feed_pages_and_marks_read(store: Arc<dyn Store>) {
    let t = setup(store);
    let me = t.user("eve@example.com").await;
    let other = t.user("finn@example.com").await;
    let admin_id = t
        .bank
        .identity()
        .ensure_admin("ops@bank.example", "bootstrap-admin-passphrase")
        .await
        .unwrap()
        .unwrap();
    let admin = t.bank.identity().actor_for_user(admin_id).await.unwrap();
    for i in 0..3 {
        t.clock.advance(Duration::seconds(1));
        t.bank
            .notifications()
            .send_direct_notification(
                &admin,
                me.user_id.unwrap(),
                Channel::InApp,
                "",
                &format!("note {i}"),
            )
            .await
            .unwrap();
    }
    let feed = t
        .bank
        .notifications()
        .in_app_feed(&me, None, 100)
        .await
        .unwrap();
    // Welcome (in-app copy) + 3 notes, oldest first.
    assert_eq!(feed.len(), 4);
    assert_eq!(feed[0].template_id, "welcome");
    assert_eq!(feed[3].body, "note 2");
    let page = t
        .bank
        .notifications()
        .in_app_feed(&me, Some(feed[1].id), 1)
        .await
        .unwrap();
    assert_eq!(page[0].id, feed[2].id);
    assert!(t
        .bank
        .notifications()
        .in_app_feed(&me, Some(feed[3].id), 10)
        .await
        .unwrap()
        .is_empty());
    let read = t
        .bank
        .notifications()
        .mark_notification_read(&me, feed[3].id)
        .await
        .unwrap();
    assert!(read.read_at.is_some());
    assert_eq!(
        refusal_code(
            t.bank
                .notifications()
                .mark_notification_read(&other, feed[3].id)
                .await
        ),
        "not_found"
    );
    assert_eq!(
        refusal_code(t.bank.notifications().in_app_feed(&me, None, 0).await),
        "validation_error"
    );
    assert_eq!(
        refusal_code(
            t.bank
                .notifications()
                .in_app_feed(&Actor::system(), None, 10)
                .await
        ),
        "unauthorized"
    );
}
