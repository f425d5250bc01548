//! Issue #16's service clients (OAuth2 client credentials) on any store: the secret is shown
//! once and kept only as a hash, every failed authentication answers alike, a rotated-out
//! secret works for the grace period only, deactivation ends issued tokens, and only admins
//! manage clients, of which there are at most `CLIENTS_MAX`.

#![allow(missing_docs)] // A case is named by what it checks; the names are the docs.

use std::sync::Arc;

use chrono::Duration;

use crate::identity::{
    client_secret_hash, ClientScope, NewClient, CLIENTS_MAX, CLIENT_SECRET_GRACE_HOURS,
};
use crate::ids::ClientId;
use crate::ports::{Store, TxMode};
use crate::*;

use super::at_rest::raw_dump;
use super::engine_ctx::{bank_on, refusal_code, WithAdmin};

const CTX: fn() -> RequestContext = RequestContext::default;

fn reporting() -> NewClient {
    NewClient {
        name: "nightly reporting".into(),
        scopes: vec![ClientScope::AccountsRead, ClientScope::TransactionsRead],
    }
}

/// The message of a refusal (the failed authentications must not differ even there).
fn refusal<T: std::fmt::Debug>(r: BankResult<T>) -> String {
    match r {
        Ok(v) => panic!("expected a refusal, got {v:?}"),
        Err(e) => format!("{} {e}", e.code()),
    }
}

pub async fn service_client_secret_is_shown_once_and_stored_only_as_a_hash(store: Arc<dyn Store>) {
    let t = WithAdmin::new(bank_on(store.clone()), "root@example.com").await;
    let id = t.bank.identity();
    let created = id
        .create_client(&t.admin, reporting(), &CTX())
        .await
        .unwrap();
    assert_eq!(created.client_secret.len(), 64, "256 bits, hex");
    assert!(!format!("{created:?}").contains(&created.client_secret));
    let cid = created.client.id;
    // Nothing the store holds, through its ports or raw, contains the secret; it holds the hash.
    let mut uow = store.begin(TxMode::Read).await.unwrap();
    let rows = uow.list_clients(CLIENTS_MAX).await.unwrap();
    let audit = uow.audit_entries(None, 1_000).await.unwrap();
    drop(uow);
    let mut dump = format!("{rows:?}{audit:?}");
    dump.push_str(&raw_dump(&store).await.unwrap_or_default());
    assert!(
        !dump.contains(&created.client_secret),
        "secret stored in clear"
    );
    assert!(dump.contains(&client_secret_hash(cid, &created.client_secret)));
    assert!(audit.iter().any(|e| e.action == "client.created"));
    // Reads show the client, never a secret.
    let got = id.get_client(&t.admin, cid).await.unwrap();
    assert_eq!(got, created.client);
    assert_eq!(id.list_clients(&t.admin).await.unwrap(), vec![got]);
}

pub async fn service_client_failed_authentication_answers_alike(store: Arc<dyn Store>) {
    let t = WithAdmin::new(bank_on(store), "root@example.com").await;
    let id = t.bank.identity();
    let c = id
        .create_client(&t.admin, reporting(), &CTX())
        .await
        .unwrap();
    let cid = c.client.id.to_string();
    let grant = id
        .authenticate_client(&cid, &c.client_secret, &CTX())
        .await
        .unwrap();
    assert_eq!(grant.client_id, c.client.id);
    assert!(grant.allows(ClientScope::AccountsRead));
    assert!(!grant.allows(ClientScope::CustomersRead));
    assert!(!grant.actor().is_admin(), "a client never acts as an admin");
    let wrong = refusal(id.authenticate_client(&cid, &"0".repeat(64), &CTX()).await);
    assert!(wrong.starts_with("unauthorized"), "{wrong}");
    let unknown = ClientId(uuid::Uuid::new_v4()).to_string();
    let unknown = refusal(
        id.authenticate_client(&unknown, &c.client_secret, &CTX())
            .await,
    );
    let malformed = refusal(
        id.authenticate_client("nope", &c.client_secret, &CTX())
            .await,
    );
    // A token issued before deactivation dies with it; the client no longer authenticates.
    let issued = t.clock.now();
    id.live_client(c.client.id, issued).await.unwrap();
    t.clock.advance(Duration::seconds(1));
    id.deactivate_client(&t.admin, c.client.id, &CTX())
        .await
        .unwrap();
    let inactive = refusal(id.authenticate_client(&cid, &c.client_secret, &CTX()).await);
    for other in [&unknown, &malformed, &inactive] {
        assert_eq!(other, &wrong, "failed authentications must answer alike");
    }
    assert_eq!(
        refusal_code(id.live_client(c.client.id, issued).await),
        "unauthorized"
    );
    // Reactivated: the secret works again, the old token stays dead.
    t.clock.advance(Duration::seconds(1));
    id.reactivate_client(&t.admin, c.client.id, &CTX())
        .await
        .unwrap();
    id.authenticate_client(&cid, &c.client_secret, &CTX())
        .await
        .unwrap();
    assert_eq!(
        refusal_code(id.live_client(c.client.id, issued).await),
        "unauthorized"
    );
    id.live_client(c.client.id, t.clock.now()).await.unwrap();
}

pub async fn service_client_rotated_secret_works_for_the_grace_period_only(store: Arc<dyn Store>) {
    let t = WithAdmin::new(bank_on(store.clone()), "root@example.com").await;
    let id = t.bank.identity();
    let c = id
        .create_client(&t.admin, reporting(), &CTX())
        .await
        .unwrap();
    let cid = c.client.id.to_string();
    let old = c.client_secret;
    let rotated = id
        .rotate_client_secret(&t.admin, c.client.id, &CTX())
        .await
        .unwrap();
    let new = rotated.client_secret;
    assert_ne!(old, new);
    let grace = Duration::hours(CLIENT_SECRET_GRACE_HOURS);
    assert_eq!(
        rotated.client.previous_secret_until,
        Some(t.clock.now() + grace)
    );
    // Within the grace period both work.
    t.clock.advance(grace - Duration::seconds(1));
    id.authenticate_client(&cid, &old, &CTX()).await.unwrap();
    id.authenticate_client(&cid, &new, &CTX()).await.unwrap();
    // After it only the new one does.
    t.clock.advance(Duration::seconds(1));
    assert_eq!(
        refusal_code(id.authenticate_client(&cid, &old, &CTX()).await),
        "unauthorized"
    );
    id.authenticate_client(&cid, &new, &CTX()).await.unwrap();
    // A second rotation keeps only the one before it: the oldest stops at once.
    let newest = id
        .rotate_client_secret(&t.admin, c.client.id, &CTX())
        .await
        .unwrap()
        .client_secret;
    id.authenticate_client(&cid, &new, &CTX()).await.unwrap();
    id.authenticate_client(&cid, &newest, &CTX()).await.unwrap();
    assert_eq!(
        refusal_code(id.authenticate_client(&cid, &old, &CTX()).await),
        "unauthorized"
    );
    let mut uow = store.begin(TxMode::Read).await.unwrap();
    let audit = uow.audit_entries(None, 1_000).await.unwrap();
    let rotations = audit
        .iter()
        .filter(|e| e.action == "client.secret_rotated")
        .count();
    assert_eq!(rotations, 2);
    assert!(audit.iter().any(|e| e.action == "client.auth_failed"));
}

pub async fn service_clients_are_admin_only_and_bounded(store: Arc<dyn Store>) {
    let t = WithAdmin::new(bank_on(store), "root@example.com").await;
    let id = t.bank.identity();
    let c = id
        .create_client(&t.admin, reporting(), &CTX())
        .await
        .unwrap();
    let cora = t.user("cora@example.com").await;
    let support = Actor {
        roles: vec![Role::Support],
        ..t.user("help@example.com").await
    };
    for who in [&cora, &support] {
        let cid = c.client.id;
        assert_eq!(
            refusal_code(id.create_client(who, reporting(), &CTX()).await),
            "forbidden"
        );
        assert_eq!(refusal_code(id.list_clients(who).await), "forbidden");
        assert_eq!(refusal_code(id.get_client(who, cid).await), "forbidden");
        let rotate = id.rotate_client_secret(who, cid, &CTX()).await;
        assert_eq!(refusal_code(rotate), "forbidden");
        let deactivate = id.deactivate_client(who, cid, &CTX()).await;
        assert_eq!(refusal_code(deactivate), "forbidden");
    }
    let no_scopes = NewClient {
        name: "empty".into(),
        scopes: vec![],
    };
    let refused = id.create_client(&t.admin, no_scopes, &CTX()).await;
    assert_eq!(refusal_code(refused), "validation_error");
    for _ in 1..CLIENTS_MAX {
        id.create_client(&t.admin, reporting(), &CTX())
            .await
            .unwrap();
    }
    let over = id.create_client(&t.admin, reporting(), &CTX()).await;
    assert_eq!(refusal_code(over), "limit_exceeded");
    let all = id.list_clients(&t.admin).await.unwrap();
    assert_eq!(all.len(), CLIENTS_MAX as usize);
    assert_eq!(all[0].id, c.client.id, "oldest first");
}
