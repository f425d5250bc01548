//! Service clients: machine principals that authenticate with OAuth2 client credentials
//! (RFC 6749 §4.4) for read-only integrations (reporting, reconciliation).
//!
//! A client holds a closed set of read scopes; money movement by machine clients is out of
//! scope, so a client never gets write access. Its secret is a 256-bit random token shown
//! once (on create and rotate) and stored only as a SHA-256 hash, compared in constant time.
//! Rotation keeps the previous secret working for [`CLIENT_SECRET_GRACE_HOURS`] so an
//! integration can switch without downtime; deactivation ends every token issued before it.

use async_trait::async_trait;
use chrono::{DateTime, Duration, SubsecRound, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::account::string_enum;
use crate::audit::{AuditEvent, AuditOutcome};
use crate::auth::{Actor, Role};
use crate::crypto::{constant_time_eq, random_token, sha256_hex};
use crate::error::{BankError, BankResult};
use crate::fraud_port::RequestContext;
use crate::ids::{ClientId, UserId};
use crate::ports::{TxMode, UnitOfWork};

use super::service::IdentityService;

/// Most service clients a bank keeps (and lists: the list is always complete).
pub const CLIENTS_MAX: u32 = 100;
/// How long a rotated-out secret keeps working.
pub const CLIENT_SECRET_GRACE_HOURS: i64 = 24;
/// Longest client name, in characters.
pub const CLIENT_NAME_LEN_MAX: usize = 100;

/// The one answer to every failed client authentication (unknown id, wrong or expired
/// secret, inactive client): nothing tells a prober which it was.
const INVALID_CLIENT: &str = "invalid client credentials";

string_enum!(
    /// What a service client may read. Closed and read-only: no scope moves money.
    ClientScope, "scope" {
        /// `GET /accounts…`.
        AccountsRead = "accounts:read",
        /// `GET /transactions…`.
        TransactionsRead = "transactions:read",
        /// `GET /customers…`.
        CustomersRead = "customers:read",
    }
);

/// A stored service client. Only hashes of its secrets are kept.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceClient {
    /// Id (the OAuth2 `client_id`).
    pub id: ClientId,
    /// Human name (which integration this is).
    pub name: String,
    /// Granted scopes (at least one, no duplicates).
    pub scopes: Vec<ClientScope>,
    /// Hash of the current secret ([`client_secret_hash`]).
    pub secret_hash: String,
    /// Hash of the secret before the last rotation, accepted until `previous_secret_until`.
    pub previous_secret_hash: Option<String>,
    /// End of the previous secret's grace period.
    pub previous_secret_until: Option<DateTime<Utc>>,
    /// When the current secret was issued.
    pub secret_rotated_at: DateTime<Utc>,
    /// Access tokens issued before this instant are refused: creation's whole second, then
    /// the whole second after the last deactivation (token issue times are whole seconds).
    pub tokens_valid_after: DateTime<Utc>,
    /// False once deactivated: it authenticates no more and its tokens are refused.
    pub active: bool,
    /// The admin who created it.
    pub created_by: Option<UserId>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

/// A client as admins see it (no hashes).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientView {
    /// Id (the OAuth2 `client_id`).
    pub id: ClientId,
    /// Name.
    pub name: String,
    /// Granted scopes.
    pub scopes: Vec<ClientScope>,
    /// Active.
    pub active: bool,
    /// When the current secret was issued.
    pub secret_rotated_at: DateTime<Utc>,
    /// Until when the previous secret still works, if it does.
    pub previous_secret_until: Option<DateTime<Utc>>,
    /// Creator.
    pub created_by: Option<UserId>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

/// A client with its new secret: the only time the secret is ever shown.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientWithSecret {
    /// The client.
    pub client: ClientView,
    /// The secret (256 bits, hex). Not stored; cannot be shown again.
    pub client_secret: String,
}

impl std::fmt::Debug for ClientWithSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ClientWithSecret({:?}, <redacted>)", self.client)
    }
}

/// What an authenticated (or still live) client may do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientGrant {
    /// The client.
    pub client_id: ClientId,
    /// Its scopes now.
    pub scopes: Vec<ClientScope>,
}

impl ClientGrant {
    /// The engine actor a client acts as: staff-read level (support role, no user). The
    /// adapter's scope table keeps it to the reads its scopes name; nothing it can reach
    /// writes.
    pub fn actor(&self) -> Actor {
        Actor {
            user_id: None,
            customer_id: None,
            roles: vec![Role::Support],
            system: false,
        }
    }

    /// True when the client holds `scope`.
    pub fn allows(&self, scope: ClientScope) -> bool {
        self.scopes.contains(&scope)
    }
}

/// `POST /admin/clients`.
#[derive(Clone, Debug)]
pub struct NewClient {
    /// Name (1..=[`CLIENT_NAME_LEN_MAX`] characters).
    pub name: String,
    /// Scopes (at least one).
    pub scopes: Vec<ClientScope>,
}

/// Storage of service clients.
#[async_trait]
pub trait ClientRepo: Send {
    /// Inserts a client; `Duplicate("service client")` if the id exists.
    async fn insert_client(&mut self, c: &ServiceClient) -> BankResult<()>;
    /// Reads a client.
    async fn client(&mut self, id: ClientId) -> BankResult<Option<ServiceClient>>;
    /// Overwrites a client; `NotFound("service client")` if absent.
    async fn update_client(&mut self, c: &ServiceClient) -> BankResult<()>;
    /// Clients ordered by `(created_at, id)` ascending, at most `limit`.
    async fn list_clients(&mut self, limit: u32) -> BankResult<Vec<ServiceClient>>;
}

/// The stored hash of a client secret (bound to the client id, like refresh tokens' hashes
/// are bound to their purpose). A 256-bit random secret needs no slow hash.
pub fn client_secret_hash(id: ClientId, secret: &str) -> String {
    sha256_hex(&[b"service-client", id.0.as_bytes(), secret.trim().as_bytes()])
}

impl ServiceClient {
    /// The admin view.
    pub fn view(&self) -> ClientView {
        ClientView {
            id: self.id,
            name: self.name.clone(),
            scopes: self.scopes.clone(),
            active: self.active,
            secret_rotated_at: self.secret_rotated_at,
            previous_secret_until: self.previous_secret_until,
            created_by: self.created_by,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }

    fn grant(&self) -> ClientGrant {
        ClientGrant {
            client_id: self.id,
            scopes: self.scopes.clone(),
        }
    }

    /// True when `secret` is the current one, or the previous one within its grace period.
    /// Both comparisons always run (constant time, no early exit on the first).
    fn secret_matches(&self, secret: &str, now: DateTime<Utc>) -> bool {
        let h = client_secret_hash(self.id, secret);
        let current = constant_time_eq(h.as_bytes(), self.secret_hash.as_bytes());
        let previous = match (&self.previous_secret_hash, self.previous_secret_until) {
            (Some(p), Some(until)) => constant_time_eq(h.as_bytes(), p.as_bytes()) && now < until,
            _ => false,
        };
        current | previous
    }
}

fn validate_new(req: &NewClient) -> BankResult<(String, Vec<ClientScope>)> {
    let name = req.name.trim().to_string();
    if name.is_empty() || name.chars().count() > CLIENT_NAME_LEN_MAX {
        return Err(BankError::validation(
            "name",
            format!("1 to {CLIENT_NAME_LEN_MAX} characters"),
        ));
    }
    let mut scopes = req.scopes.clone();
    scopes.sort_by_key(|s| s.as_str());
    scopes.dedup();
    if scopes.is_empty() {
        return Err(BankError::validation("scopes", "at least one scope"));
    }
    Ok((name, scopes))
}

/// `at` rounded up to a whole second. Access tokens carry their issue time in whole
/// seconds (`iat`): every token issued up to `at` has an `iat` below the result.
fn next_whole_second(at: DateTime<Utc>) -> DateTime<Utc> {
    let floor = at.trunc_subsecs(0);
    if floor == at {
        at
    } else {
        floor + Duration::seconds(1)
    }
}

async fn load_client(uow: &mut dyn UnitOfWork, id: ClientId) -> BankResult<ServiceClient> {
    uow.client(id).await?.ok_or(BankError::NotFound {
        resource: "service client",
    })
}

impl IdentityService<'_> {
    /// Creates a service client (admin). The answer carries its secret, shown only here.
    /// At most [`CLIENTS_MAX`] clients exist. Audited as `client.created`.
    pub async fn create_client(
        &self,
        actor: &Actor,
        req: NewClient,
        ctx: &RequestContext,
    ) -> BankResult<ClientWithSecret> {
        actor.require_admin()?;
        let (name, scopes) = validate_new(&req)?;
        let secret = random_token()?;
        let id = ClientId(self.new_uuid());
        let c = self
            .write(|uow, _ev, _| {
                let (name, scopes, secret) = (name.clone(), scopes.clone(), &secret);
                Box::pin(async move {
                    let existing = uow.list_clients(CLIENTS_MAX).await?;
                    if existing.len() >= CLIENTS_MAX as usize {
                        return Err(BankError::LimitExceeded(format!(
                            "at most {CLIENTS_MAX} service clients"
                        )));
                    }
                    let now = self.now_us();
                    let c = ServiceClient {
                        id,
                        name,
                        scopes,
                        secret_hash: client_secret_hash(id, secret),
                        previous_secret_hash: None,
                        previous_secret_until: None,
                        secret_rotated_at: now,
                        tokens_valid_after: now.trunc_subsecs(0),
                        active: true,
                        created_by: actor.user_id,
                        created_at: now,
                        updated_at: now,
                    };
                    uow.insert_client(&c).await?;
                    let scopes: Vec<&str> = c.scopes.iter().map(|s| s.as_str()).collect();
                    let ev = AuditEvent::new("client.created", "service_client", id)
                        .detail(json!({"name": c.name, "scopes": scopes}))
                        .ctx(ctx);
                    self.audit(uow, actor, ev).await?;
                    Ok(c)
                })
            })
            .await?;
        Ok(ClientWithSecret {
            client: c.view(),
            client_secret: secret,
        })
    }

    /// Every service client (admin), oldest first; complete, since at most [`CLIENTS_MAX`]
    /// exist.
    pub async fn list_clients(&self, actor: &Actor) -> BankResult<Vec<ClientView>> {
        actor.require_admin()?;
        let mut uow = self.store.begin(TxMode::Read).await?;
        let list = uow.list_clients(CLIENTS_MAX).await?;
        Ok(list.iter().map(ServiceClient::view).collect())
    }

    /// One service client (admin).
    pub async fn get_client(&self, actor: &Actor, id: ClientId) -> BankResult<ClientView> {
        actor.require_admin()?;
        let mut uow = self.store.begin(TxMode::Read).await?;
        Ok(load_client(&mut *uow, id).await?.view())
    }

    /// Issues a new secret (admin), shown only in the answer. The previous secret keeps
    /// working for [`CLIENT_SECRET_GRACE_HOURS`] (the one before it stops at once).
    /// Audited as `client.secret_rotated`.
    pub async fn rotate_client_secret(
        &self,
        actor: &Actor,
        id: ClientId,
        ctx: &RequestContext,
    ) -> BankResult<ClientWithSecret> {
        actor.require_admin()?;
        let secret = random_token()?;
        let grace = Duration::hours(CLIENT_SECRET_GRACE_HOURS);
        let c = self
            .write(|uow, _ev, _| {
                let secret = &secret;
                Box::pin(async move {
                    let now = self.now_us();
                    let mut c = load_client(uow, id).await?;
                    c.previous_secret_hash = Some(std::mem::replace(
                        &mut c.secret_hash,
                        client_secret_hash(id, secret),
                    ));
                    c.previous_secret_until = Some(now + grace);
                    c.secret_rotated_at = now;
                    c.updated_at = now;
                    uow.update_client(&c).await?;
                    let ev = AuditEvent::new("client.secret_rotated", "service_client", id)
                        .detail(json!({"previous_secret_until": c.previous_secret_until}))
                        .ctx(ctx);
                    self.audit(uow, actor, ev).await?;
                    Ok(c)
                })
            })
            .await?;
        Ok(ClientWithSecret {
            client: c.view(),
            client_secret: secret,
        })
    }

    /// Deactivates a client (admin): it authenticates no more and every token it holds is
    /// refused on the next request. Audited as `client.deactivated`.
    pub async fn deactivate_client(
        &self,
        actor: &Actor,
        id: ClientId,
        ctx: &RequestContext,
    ) -> BankResult<ClientView> {
        actor.require_admin()?;
        self.set_client_active(actor, id, false, ctx).await
    }

    /// Reactivates a client (admin): its secrets work again; tokens issued before the
    /// deactivation stay refused. Audited as `client.reactivated`.
    pub async fn reactivate_client(
        &self,
        actor: &Actor,
        id: ClientId,
        ctx: &RequestContext,
    ) -> BankResult<ClientView> {
        actor.require_admin()?;
        self.set_client_active(actor, id, true, ctx).await
    }

    async fn set_client_active(
        &self,
        actor: &Actor,
        id: ClientId,
        active: bool,
        ctx: &RequestContext,
    ) -> BankResult<ClientView> {
        let c = self
            .write(|uow, _ev, _| {
                Box::pin(async move {
                    let now = self.now_us();
                    let mut c = load_client(uow, id).await?;
                    if c.active == active {
                        let state = if active { "active" } else { "deactivated" };
                        return Err(BankError::InvalidState(format!(
                            "the client is already {state}"
                        )));
                    }
                    c.active = active;
                    if !active {
                        c.tokens_valid_after = next_whole_second(now);
                    }
                    c.updated_at = now;
                    uow.update_client(&c).await?;
                    let action = if active {
                        "client.reactivated"
                    } else {
                        "client.deactivated"
                    };
                    self.audit(
                        uow,
                        actor,
                        AuditEvent::new(action, "service_client", id).ctx(ctx),
                    )
                    .await?;
                    Ok(c)
                })
            })
            .await?;
        Ok(c.view())
    }

    /// Checks client credentials (the token endpoint). `Unauthorized` with one message for
    /// an unknown or malformed id, a wrong secret, an expired previous secret and an
    /// inactive client. A failure for a known client is audited as `client.auth_failed`.
    pub async fn authenticate_client(
        &self,
        client_id: &str,
        secret: &str,
        ctx: &RequestContext,
    ) -> BankResult<ClientGrant> {
        let refused = || BankError::Unauthorized(INVALID_CLIENT.into());
        let Ok(id) = client_id.trim().parse::<uuid::Uuid>().map(ClientId) else {
            return Err(refused());
        };
        let found = {
            let mut uow = self.store.begin(TxMode::Read).await?;
            uow.client(id).await?
        };
        let Some(c) = found else {
            return Err(refused());
        };
        if c.secret_matches(secret, self.now()) && c.active {
            return Ok(c.grant());
        }
        let ev = AuditEvent::new("client.auth_failed", "service_client", id)
            .outcome(AuditOutcome::Failure)
            .ctx(ctx);
        self.audit_now(&Actor::system(), ev).await?;
        Err(refused())
    }

    /// The client an access token issued at `issued_at` belongs to, as it is now:
    /// `Unauthorized` when it is gone, inactive, or was deactivated after the token was
    /// issued. One keyed read, so the adapter checks it on every request.
    pub async fn live_client(
        &self,
        id: ClientId,
        issued_at: DateTime<Utc>,
    ) -> BankResult<ClientGrant> {
        let mut uow = self.store.begin(TxMode::Read).await?;
        match uow.client(id).await? {
            Some(c) if c.active && issued_at >= c.tokens_valid_after => Ok(c.grant()),
            _ => Err(BankError::Unauthorized(
                "the client token is no longer valid".into(),
            )),
        }
    }
}
