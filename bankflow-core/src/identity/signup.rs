//! Public sign-up that tells nobody which addresses have accounts (finding 6), and the
//! notice a lockout sends its owner.
//!
//! [`IdentityService::sign_up`] answers a taken email or phone exactly like a new sign-up:
//! the same receipt shape (with an id that names nobody), the same Argon2 work, one write
//! unit either way, and the messages sent after the answer. The owner of the taken address
//! is told instead. [`IdentityService::register`] stays the embedder's call and refuses a
//! taken address with `conflict`.

use serde_json::json;

use crate::audit::{AuditEvent, AuditOutcome};
use crate::auth::{Actor, Role};
use crate::bank::Inner;
use crate::error::{BankError, BankResult};
use crate::events::{DomainEvent, EventType};
use crate::fraud_port::RequestContext;
use crate::identity::service::{IdentityService, RegisterRequest, UserView, VerifyChannel};
use crate::identity::{Email, Password, PasswordHash, Phone, UserRecord};
use crate::ids::UserId;
use crate::notify::{vars, Delivery};
use crate::ports::UnitOfWork;

/// Where the web app starts a password reset: named in lockout and sign-up notices, since
/// a reset (proof of the mailbox) lifts a lockout at once.
pub const RESET_START_PATH: &str = "/forgot-password";
/// Tries of a sign-up unit: a second one only when another sign-up took the address between
/// the check and the insert (the retry then finds the owner and answers alike).
const SIGN_UP_ATTEMPTS_MAX: usize = 2;

/// What [`IdentityService::sign_up`] answers: the receipt to show the caller (the same shape
/// whether the address was new or taken) and the messages to send after answering.
pub struct SignUp {
    /// The new user, or for a taken address a look-alike whose id names nobody.
    pub receipt: UserView,
    /// Welcome and verification messages, or the owner's notice; see
    /// [`IdentityService::send_queued`].
    pub messages: QueuedMessages,
}

impl std::fmt::Debug for SignUp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "SignUp({:?}, {} messages)",
            self.receipt,
            self.messages.0.len()
        )
    }
}

/// Messages committed to the notification queue and not sent yet (they may carry codes).
#[must_use = "send them with IdentityService::send_queued"]
pub struct QueuedMessages(Vec<Delivery>);

/// A taken contact and its owner.
struct Taken {
    owner: UserRecord,
    contact: &'static str,
}

impl IdentityService<'_> {
    /// Public registration: like [`IdentityService::register`] for a new email and phone;
    /// for a taken one it creates nothing, notifies the owner ("someone tried to sign up
    /// with your address", audited) and answers the same way. Send
    /// [`SignUp::messages`] after answering, so delivery time tells nothing either.
    pub async fn sign_up(&self, req: RegisterRequest, ctx: &RequestContext) -> BankResult<SignUp> {
        let (email, phone, password) = parse_request(&req)?;
        // Argon2 on both paths: a taken address must cost what a new one does.
        let hash = self.hash_off_worker(&password).await?;
        let mut last = None;
        for _ in 0..SIGN_UP_ATTEMPTS_MAX {
            match self.sign_up_unit(&email, phone.as_ref(), &hash, ctx).await {
                Err(e @ BankError::Duplicate(_)) => last = Some(e),
                other => {
                    return other.map(|(receipt, out)| SignUp {
                        receipt,
                        messages: QueuedMessages(out),
                    })
                }
            }
        }
        Err(last.unwrap_or_else(|| BankError::internal("sign-up was not tried")))
    }

    /// Sends the messages a [`SignUp`] queued (best effort; what fails is retried later).
    pub async fn send_queued(&self, messages: QueuedMessages) {
        self.deliver(messages.0).await;
    }

    async fn sign_up_unit(
        &self,
        email: &Email,
        phone: Option<&Phone>,
        hash: &PasswordHash,
        ctx: &RequestContext,
    ) -> BankResult<(UserView, Vec<Delivery>)> {
        self.write(|uow, events, _| {
            Box::pin(async {
                let (uow, events) = (uow, events);
                let taken = Self::taken_contacts(uow, email, phone).await?;
                if taken.is_empty() {
                    let (user, out) = self
                        .insert_customer_user(uow, events, (email, phone, hash), ctx)
                        .await?;
                    return Ok((Inner::user_view(&user, None), out));
                }
                let out = self.tell_owners(uow, &taken, ctx).await?;
                Ok((self.look_alike_receipt(email, phone), out))
            })
        })
        .await
    }

    async fn taken_contacts(
        uow: &mut dyn UnitOfWork,
        email: &Email,
        phone: Option<&Phone>,
    ) -> BankResult<Vec<Taken>> {
        let mut taken = Vec::new();
        if let Some(owner) = uow.user_by_email(email).await? {
            taken.push(Taken {
                owner,
                contact: "email address",
            });
        }
        if let Some(p) = phone {
            if let Some(owner) = uow.user_by_phone(p).await? {
                taken.push(Taken {
                    owner,
                    contact: "phone number",
                });
            }
        }
        Ok(taken)
    }

    /// The owner of each taken contact gets a security notice; the attempt is audited.
    async fn tell_owners(
        &self,
        uow: &mut dyn UnitOfWork,
        taken: &[Taken],
        ctx: &RequestContext,
    ) -> BankResult<Vec<Delivery>> {
        let now = self.now_us();
        let mut out = Vec::new();
        for t in taken {
            let v = vars([
                ("contact", t.contact.to_string()),
                ("time", now.to_rfc3339()),
                ("reset_path", RESET_START_PATH.to_string()),
            ]);
            out.extend(
                self.enqueue_notification(uow, &t.owner, "signup_attempt", &v, None)
                    .await?,
            );
            let ev = AuditEvent::new("auth.register", "user", t.owner.id)
                .outcome(AuditOutcome::Failure)
                .detail(json!({"reason": "contact taken", "contact": t.contact}))
                .ctx(ctx);
            // Nobody is signed in: the actor is anonymous, as for an unknown login.
            let anon = Actor {
                user_id: None,
                customer_id: None,
                roles: Vec::new(),
                system: false,
            };
            self.audit(uow, &anon, ev).await?;
        }
        Ok(out)
    }

    /// What a new sign-up answers, for an address that was taken: a fresh id that names no
    /// user, so the receipt looks like any other.
    fn look_alike_receipt(&self, email: &Email, phone: Option<&Phone>) -> UserView {
        let now = self.now_us();
        UserView {
            id: UserId(self.new_uuid()),
            email: email.to_string(),
            phone: phone.map(|p| p.to_string()),
            roles: vec![Role::Customer],
            customer_id: None,
            is_verified: false,
            phone_verified: false,
            mfa_enabled: false,
            last_login: None,
            created_at: now,
        }
    }
}

pub(super) fn parse_request(req: &RegisterRequest) -> BankResult<(Email, Option<Phone>, Password)> {
    let email = Email::parse(&req.email)?;
    let phone = req
        .phone
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(Phone::parse)
        .transpose()?;
    Ok((email, phone, Password::parse(&req.password)?))
}

impl Inner {
    /// Inserts a new customer user inside `uow`: emits `user.registered`, queues the welcome
    /// message and the verification code(s), audits. Returns the user and the messages.
    pub(super) async fn insert_customer_user(
        &self,
        uow: &mut dyn UnitOfWork,
        events: &mut Vec<DomainEvent>,
        (email, phone, hash): (&Email, Option<&Phone>, &PasswordHash),
        ctx: &RequestContext,
    ) -> BankResult<(UserRecord, Vec<Delivery>)> {
        let now = self.now_us();
        let user = UserRecord::new_active(
            UserId(self.new_uuid()),
            email.clone(),
            phone.cloned(),
            hash.clone(),
            vec![Role::Customer],
            false,
            now,
        );
        uow.insert_user(&user).await?;
        let ev = self.json_event(
            EventType::UserRegistered,
            user.id.0,
            json!({"userId": user.id.to_string(), "email": user.email.as_str(), "roles": ["customer"]}),
        );
        let ev_id = ev.id;
        events.push(ev);
        let welcome = vars([("email", user.email.to_string())]);
        let mut out = self
            .enqueue_notification(uow, &user, "welcome", &welcome, Some(ev_id))
            .await?;
        out.extend(
            self.send_verification(uow, &user, VerifyChannel::Email)
                .await?,
        );
        if user.phone.is_some() {
            out.extend(
                self.send_verification(uow, &user, VerifyChannel::Phone)
                    .await?,
            );
        }
        let who = Actor::customer(user.id, None);
        let ev = AuditEvent::new("auth.register", "user", user.id).ctx(ctx);
        self.audit(uow, &who, ev).await?;
        Ok((user, out))
    }

    /// Tells the owner of a just-locked account (once per lock: it is sent when the lock
    /// begins): until when, and that a password reset lifts it now. Not secret, so the
    /// notification worker delivers it after commit (the in-app copy is there at once).
    pub(super) async fn notify_locked(
        &self,
        uow: &mut dyn UnitOfWork,
        user: &UserRecord,
    ) -> BankResult<()> {
        let until = user
            .locked_until
            .map_or_else(String::new, |t| t.to_rfc3339());
        let v = vars([
            ("until", until),
            ("reset_path", RESET_START_PATH.to_string()),
        ]);
        // The deliveries stay queued as pending; `retry_notifications` sends them.
        let _queued = self
            .enqueue_notification(uow, user, "account_locked", &v, None)
            .await?;
        Ok(())
    }
}
