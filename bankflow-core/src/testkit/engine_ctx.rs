//! The engine the identity, customer, fraud, notification and audit cases run on: one
//! `Bank` over the given store with a manual clock, an in-memory notifier and event sink,
//! plus the few steps every context case starts with (a user, an admin, an aggregate's
//! events). One setup for all five suites, so they differ only in what they check.

use std::ops::Deref;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use uuid::Uuid;

use crate::ports::{Store, TxMode, EVENTS_OF_AGGREGATE_MAX};
use crate::{
    Actor, Bank, BankConfig, EventType, KeyProvider, LoginRequest, ManualClock, MemoryNotifier,
    MemorySink, NewCustomer, RegisterRequest, RequestContext, StoredEvent, UserView,
};

/// The password every case's users sign up with.
pub const PW: &str = "violet-harbor-lantern-42";

/// The passphrase of the bootstrap admins.
pub(crate) const ADMIN_PW: &str = "bootstrap-admin-passphrase";

/// The instant every case's clock starts at (a Monday morning).
pub fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap()
}

/// A bank over a store and the test doubles it was built with.
pub struct Ctx {
    /// The engine.
    pub bank: Bank,
    /// The store under test, inspected through its ports only.
    pub store: Arc<dyn Store>,
    /// The engine's clock, starting at [`start`].
    pub clock: Arc<ManualClock>,
    /// Every message the engine sent.
    pub notifier: Arc<MemoryNotifier>,
    /// Every event the engine published.
    pub sink: Arc<MemorySink>,
}

/// A bank over `store` with the default configuration and keys.
pub fn bank_on(store: Arc<dyn Store>) -> Ctx {
    bank_with(store, BankConfig::default(), None)
}

/// A bank over `store` with `config`, and `keys` when given (else the builder's default).
pub fn bank_with(
    store: Arc<dyn Store>,
    config: BankConfig,
    keys: Option<Arc<dyn KeyProvider>>,
) -> Ctx {
    let clock = Arc::new(ManualClock::new(start()));
    let notifier = Arc::new(MemoryNotifier::default());
    let sink = Arc::new(MemorySink::default());
    let mut b = Bank::builder(store.clone())
        .clock(clock.clone())
        .notifier(notifier.clone())
        .sink(sink.clone())
        .config(config);
    if let Some(k) = keys {
        b = b.keys(k);
    }
    Ctx {
        bank: b.build(),
        store,
        clock,
        notifier,
        sink,
    }
}

impl Ctx {
    /// Signs up `email` (optionally with a phone) with [`PW`].
    pub async fn register(&self, email: &str, phone: Option<&str>) -> UserView {
        let req = RegisterRequest {
            email: email.into(),
            password: PW.into(),
            phone: phone.map(Into::into),
        };
        self.bank
            .identity()
            .register(req, &RequestContext::default())
            .await
            .unwrap()
    }

    /// Signs up `email` and answers its actor.
    pub async fn user(&self, email: &str) -> Actor {
        let u = self.register(email, None).await;
        self.bank.identity().actor_for_user(u.id).await.unwrap()
    }

    /// Signs up `email`, verifies it with the code mailed to it (KYC submission needs a
    /// verified email, finding 12) and answers its actor.
    pub async fn verified_user(&self, email: &str) -> Actor {
        let me = self.user(email).await;
        let code = crate::testkit::staff_controls::last_code(self, email);
        self.bank
            .identity()
            .verify_contact(
                &me,
                crate::identity::VerifyChannel::Email,
                &code,
                &RequestContext::default(),
            )
            .await
            .unwrap();
        me
    }

    /// The bootstrap admin `email`: created on an empty store, else logged in (a second bank
    /// over the same store finds the first one's admin).
    pub async fn admin(&self, email: &str) -> Actor {
        let identity = self.bank.identity();
        let id = match identity.ensure_admin(email, ADMIN_PW).await.unwrap() {
            Some(id) => id,
            None => {
                let req = LoginRequest {
                    email: email.into(),
                    password: ADMIN_PW.into(),
                    mfa_code: None,
                };
                let tokens = identity.login(req, &RequestContext::default()).await;
                tokens.unwrap().claims.sub
            }
        };
        identity.actor_for_user(id).await.unwrap()
    }

    /// An aggregate's stored events, oldest first, read through the store's port.
    pub async fn events(&self, aggregate: Uuid) -> Vec<StoredEvent> {
        let mut uow = self.store.begin(TxMode::Read).await.unwrap();
        uow.events_of_aggregate(aggregate, EVENTS_OF_AGGREGATE_MAX)
            .await
            .unwrap()
    }

    /// The types of an aggregate's stored events, oldest first.
    pub async fn event_types(&self, aggregate: Uuid) -> Vec<EventType> {
        let events = self.events(aggregate).await;
        events.into_iter().map(|e| e.event.event_type).collect()
    }
}

/// An adult customer profile named `first` Doe, with `ssn` when given.
pub fn profile(first: &str, ssn: Option<&str>) -> NewCustomer {
    NewCustomer {
        first_name: first.into(),
        last_name: "Doe".into(),
        date_of_birth: NaiveDate::from_ymd_opt(1990, 5, 17).unwrap(),
        ssn: ssn.map(Into::into),
        address_line1: "1 Main St".into(),
        address_line2: None,
        city: "Springfield".into(),
        state: "IL".into(),
        zip_code: "62701".into(),
        country: "us".into(),
    }
}

/// A bank and its bootstrap admin (the customer and audit cases act as staff).
pub struct WithAdmin {
    /// The bank.
    pub ctx: Ctx,
    /// Its bootstrap admin.
    pub admin: Actor,
}

impl WithAdmin {
    /// `ctx` and its admin `email`.
    pub async fn new(ctx: Ctx, email: &str) -> WithAdmin {
        let admin = ctx.admin(email).await;
        WithAdmin { ctx, admin }
    }
}

impl Deref for WithAdmin {
    type Target = Ctx;
    fn deref(&self) -> &Ctx {
        &self.ctx
    }
}

/// The stable code of a call that must be refused; panics (naming the call's success) when
/// it was not, so a case reads `assert_eq!(refusal_code(call.await), "not_found")`.
pub fn refusal_code<T: std::fmt::Debug>(result: crate::BankResult<T>) -> &'static str {
    match result {
        Ok(v) => panic!("expected a refusal, the call succeeded with {v:?}"),
        Err(e) => e.code(),
    }
}
