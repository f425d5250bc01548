//! Push device registry cases: the repository (token unique across users, per-user order,
//! rollback), the use cases (validation, the per-user cap, a token moving to a new owner,
//! another user's device is `not_found`) and the push fan-out (one message per device, a
//! gone token dropped and not retried, a retry only to the devices not yet reached, no
//! device = skipped).

#![allow(missing_docs)] // A case is named by what it checks; the names are the docs.

use std::sync::Arc;

use chrono::Duration;
use uuid::Uuid;

use crate::ids::DeviceId;
use crate::notify::{
    NotificationStatus, Platform, PushDevice, DEVICES_PER_USER_MAX, DEVICE_TOKEN_LEN_MAX,
};
use crate::ports::{Store, TxMode};
use crate::*;

use super::engine_ctx::{bank_on, refusal_code, Ctx, WithAdmin};

fn device(n: u128, user: u128, token: &str, secs: i64) -> PushDevice {
    let at = super::fixtures::t0() + Duration::seconds(secs);
    PushDevice {
        id: DeviceId(Uuid::from_u128(n)),
        user_id: UserId(Uuid::from_u128(user)),
        platform: Platform::Android,
        token: token.to_string(),
        created_at: at,
        updated_at: at,
    }
}

fn ids(v: &[PushDevice]) -> Vec<u128> {
    v.iter().map(|d| d.id.0.as_u128()).collect()
}

pub async fn push_devices_round_trip_unique_and_ordered(store: Arc<dyn Store>) {
    let user = UserId(Uuid::from_u128(100));
    let mut u = store.begin(TxMode::Write).await.unwrap();
    u.insert_device(&device(3, 100, "tok-c", 2)).await.unwrap();
    u.insert_device(&device(1, 100, "tok-a", 1)).await.unwrap();
    u.insert_device(&device(2, 100, "tok-b", 1)).await.unwrap();
    u.insert_device(&device(9, 200, "tok-z", 0)).await.unwrap();
    assert_eq!(
        u.insert_device(&device(4, 200, "tok-a", 3))
            .await
            .unwrap_err(),
        BankError::Duplicate("push device"),
        "a token belongs to one device"
    );
    assert_eq!(
        u.insert_device(&device(1, 200, "tok-new", 3))
            .await
            .unwrap_err(),
        BankError::Duplicate("push device")
    );
    u.commit().await.unwrap();

    let mut u = store.begin(TxMode::Write).await.unwrap();
    // Oldest first, ties broken by id; bounded by the limit.
    assert_eq!(ids(&u.devices_of_user(user, 10).await.unwrap()), [1, 2, 3]);
    assert_eq!(ids(&u.devices_of_user(user, 2).await.unwrap()), [1, 2]);
    assert_eq!(
        u.device_by_token("tok-z").await.unwrap(),
        Some(device(9, 200, "tok-z", 0))
    );
    assert_eq!(u.device_by_token("tok-none").await.unwrap(), None);
    let mut moved = device(2, 200, "tok-b", 5);
    moved.platform = Platform::Ios;
    u.update_device(&moved).await.unwrap();
    assert_eq!(
        u.device(DeviceId(Uuid::from_u128(2))).await.unwrap(),
        Some(moved)
    );
    assert_eq!(
        u.update_device(&device(77, 100, "tok-77", 0))
            .await
            .unwrap_err(),
        BankError::NotFound {
            resource: "push device"
        }
    );
    assert!(u.delete_device(DeviceId(Uuid::from_u128(1))).await.unwrap());
    assert!(!u.delete_device(DeviceId(Uuid::from_u128(1))).await.unwrap());
    // The deleted token is free again.
    u.insert_device(&device(5, 100, "tok-a", 6)).await.unwrap();
    u.rollback().await.unwrap();

    let mut r = store.begin(TxMode::Read).await.unwrap();
    assert_eq!(
        ids(&r.devices_of_user(user, 10).await.unwrap()),
        [1, 2, 3],
        "a rolled-back unit leaves the registry as it was"
    );
}

/// A token an FCM client could hand out.
fn token(n: usize) -> String {
    format!("fcm:APA91b-{n:04}_xyz")
}

async fn register(t: &Ctx, who: &Actor, tok: &str) -> BankResult<PushDevice> {
    t.bank
        .notifications()
        .register_device(who, "android", tok)
        .await
}

pub async fn device_registry_validates_caps_moves_and_hides_others(store: Arc<dyn Store>) {
    let t = bank_on(store);
    let alice = t.user("alice@example.com").await;
    let bob = t.user("bob@example.com").await;
    let n = t.bank.notifications();

    for bad in [
        String::new(),
        "has space".into(),
        "tab\there".into(),
        "ünïcode".into(),
        "x".repeat(DEVICE_TOKEN_LEN_MAX + 1),
    ] {
        assert_eq!(
            refusal_code(register(&t, &alice, &bad).await),
            "validation_error"
        );
    }
    assert_eq!(
        refusal_code(n.register_device(&alice, "blackberry", &token(0)).await),
        "validation_error"
    );
    assert_eq!(
        refusal_code(register(&t, &Actor::system(), &token(0)).await),
        "unauthorized"
    );
    register(&t, &alice, &"y".repeat(DEVICE_TOKEN_LEN_MAX))
        .await
        .unwrap();

    // Re-registering the same token refreshes it: same device, no second row.
    t.clock.advance(Duration::seconds(1));
    let first = register(&t, &alice, &token(1)).await.unwrap();
    t.clock.advance(Duration::seconds(1));
    let again = n.register_device(&alice, "ios", &token(1)).await.unwrap();
    assert_eq!(again.id, first.id);
    assert_eq!(again.platform, Platform::Ios);
    assert!(again.updated_at > first.updated_at);
    assert_eq!(n.devices(&alice).await.unwrap().len(), 2);

    // The cap: a new token beyond it is refused, nothing evicted; a known one still refreshes.
    for i in 2..DEVICES_PER_USER_MAX as usize {
        register(&t, &alice, &token(i)).await.unwrap();
    }
    let before = n.devices(&alice).await.unwrap();
    assert_eq!(before.len(), DEVICES_PER_USER_MAX as usize);
    assert_eq!(
        refusal_code(register(&t, &alice, &token(99)).await),
        "limit_exceeded"
    );
    register(&t, &alice, &token(1)).await.unwrap();
    assert_eq!(ids(&n.devices(&alice).await.unwrap()), ids(&before));

    // Another user's device is not found, whether listing or deleting it.
    let bobs = register(&t, &bob, &token(50)).await.unwrap();
    assert!(!ids(&n.devices(&alice).await.unwrap()).contains(&bobs.id.0.as_u128()));
    assert_eq!(
        refusal_code(n.unregister_device(&alice, bobs.id).await),
        "not_found"
    );
    assert_eq!(n.devices(&bob).await.unwrap().len(), 1);

    // The phone changes hands: alice's token registered by bob moves to bob, under a new id.
    let moved = register(&t, &bob, &token(1)).await.unwrap();
    assert_ne!(moved.id, first.id);
    assert_eq!(moved.user_id, bob.user_id.unwrap());
    assert!(!n
        .devices(&alice)
        .await
        .unwrap()
        .iter()
        .any(|d| d.token == token(1)));
    assert_eq!(
        refusal_code(n.unregister_device(&alice, first.id).await),
        "not_found"
    );
    // Alice now has room again.
    register(&t, &alice, &token(99)).await.unwrap();

    n.unregister_device(&bob, bobs.id).await.unwrap();
    assert_eq!(
        refusal_code(n.unregister_device(&bob, bobs.id).await),
        "not_found"
    );
    assert_eq!(ids(&n.devices(&bob).await.unwrap()), [moved.id.0.as_u128()]);
}

pub async fn push_fans_out_per_device_and_drops_gone_tokens(store: Arc<dyn Store>) {
    let t = WithAdmin::new(bank_on(store), "admin@example.com").await;
    let me = t.user("carol@example.com").await;
    let uid = me.user_id.unwrap();
    let n = t.bank.notifications();
    let push = |body: &'static str| {
        let t = &t;
        async move {
            n.send_direct_notification(&t.admin, uid, Channel::Push, "Hi", body)
                .await
                .unwrap()
        }
    };

    // No device: skipped, final (never retried into `failed`).
    let none = push("nobody listens").await;
    assert_eq!(none.status, NotificationStatus::Skipped);
    assert!(t.notifier.sent_to(&token(1)).is_empty());

    let a = register(&t, &me, &token(1)).await.unwrap();
    t.clock.advance(Duration::seconds(1));
    let b = register(&t, &me, &token(2)).await.unwrap();
    t.clock.advance(Duration::seconds(1));
    let c = register(&t, &me, &token(3)).await.unwrap();

    // One message per device token.
    let sent = push("to all three").await;
    assert_eq!(sent.status, NotificationStatus::Sent);
    for i in 1..=3 {
        let got = t.notifier.sent_to(&token(i));
        assert_eq!(got.len(), 1, "device {i}");
        assert_eq!(got[0].channel, Channel::Push);
        assert_eq!(got[0].body, "to all three");
    }

    // The provider says device 2's token is gone: it is dropped, the push still counts as
    // sent (the others got it) and nothing retries the gone token.
    t.notifier.forget_token(&token(2));
    let partly = push("two left").await;
    assert_eq!(partly.status, NotificationStatus::Sent);
    assert_eq!(
        ids(&n.devices(&me).await.unwrap()),
        [a.id.0.as_u128(), c.id.0.as_u128()]
    );
    assert!(!n.devices(&me).await.unwrap().iter().any(|d| d.id == b.id));
    assert_eq!(
        t.notifier.sent_to(&token(2)).len(),
        1,
        "the gone token got nothing more"
    );

    // A transient failure on the first device: the push is retried later, to that device
    // only (the other already has it).
    t.notifier.fail_next(1);
    let retried = push("once each").await;
    assert_eq!(retried.status, NotificationStatus::Pending);
    assert_eq!(t.notifier.sent_to(&token(3)).len(), 3);
    t.clock.advance(Duration::seconds(60));
    assert_eq!(n.retry_notifications().await.unwrap(), 1);
    let once = |i| {
        t.notifier
            .sent_to(&token(i))
            .into_iter()
            .filter(|m| m.body == "once each")
            .count()
    };
    assert_eq!((once(1), once(3)), (1, 1), "one delivery per device");

    // Every token gone: the push is skipped and every device dropped.
    t.notifier.forget_token(&token(1));
    t.notifier.forget_token(&token(3));
    let gone = push("nobody left").await;
    assert_eq!(gone.status, NotificationStatus::Skipped);
    assert!(n.devices(&me).await.unwrap().is_empty());
    t.clock.advance(Duration::hours(1));
    assert_eq!(n.retry_notifications().await.unwrap(), 0);
    let history = n.list(&me, None, 100).await.unwrap();
    assert!(history
        .iter()
        .filter(|h| h.channel == Channel::Push)
        .all(|h| h.status != NotificationStatus::Pending));
}
