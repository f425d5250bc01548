//! Notification use cases: enqueue from templates (in the caller's unit of work), deliver
//! after commit, retry with backoff, consume domain events, preferences and the feed.

use std::collections::BTreeMap;

use chrono::Duration;
use serde_json::json;

use crate::audit::AuditEvent;
use crate::auth::Actor;
use crate::bank::Inner;
use crate::error::{BankError, BankResult};
use crate::events::{DomainEvent, EventData, EventType};
use crate::identity::UserRecord;
use crate::ids::{AccountId, CustomerId, DeviceId, EventId, NotificationId, UserId};
use crate::notify::templates::{render, template, Template, REDACTED, TEMPLATES};
use crate::notify::{is_token_gone, DEVICES_PER_USER_MAX};
use crate::notify::{Channel, NotificationRecord, NotificationStatus, OutgoingMessage, Preference};
use crate::ports::{TxMode, UnitOfWork};
use crate::transaction::{check_page_limit, Transaction};

crate::bank::context_service!(
    /// The notification context's use cases: `bank.notifications()`.
    NotificationService,
    notifications
);

/// Delivery attempts before a notification is marked failed.
pub const NOTIFY_ATTEMPTS_MAX: u32 = 5;
/// First retry delay; doubles with every failed attempt.
pub const NOTIFY_BACKOFF_BASE_SECONDS: i64 = 30;
/// Notifications retried per [`Bank::retry_notifications`] call.
pub const NOTIFY_RETRY_BATCH_MAX: u32 = 100;
/// How long a retrying worker owns a claimed notification.
pub const NOTIFY_LEASE_SECONDS: i64 = 300;
/// Events consumed per [`Bank::notify_for_events`] call.
pub const NOTIFY_EVENTS_MAX: usize = 500;
/// Longest subject and body of a direct (admin) notification.
pub const DIRECT_BODY_LEN_MAX: usize = 2000;
/// Longest subject of a direct message.
pub const DIRECT_SUBJECT_LEN_MAX: usize = 200;

/// A message to deliver once the unit of work that created its record has committed.
#[derive(Debug)]
pub(crate) struct Delivery {
    id: NotificationId,
    user: UserId,
    message: OutgoingMessage,
    secret: bool,
}

/// Metadata key of a push notification: the devices an earlier attempt already reached, so
/// a retry sends only to the others (one delivery per device).
const PUSH_DELIVERED_KEY: &str = "push_delivered_devices";
/// `last_error` of a push skipped because the user has no registered device.
const SKIPPED_NO_DEVICE: &str = "skipped: no registered push device";
/// `last_error` of a push skipped because the provider reported every token gone.
const SKIPPED_TOKENS_GONE: &str = "skipped: every push device token was unregistered";

/// What one delivery attempt of one notification did.
struct Attempt {
    id: NotificationId,
    secret: bool,
    outcome: Outcome,
    /// Push: the devices this attempt reached.
    delivered: Vec<DeviceId>,
    /// Push: the devices whose token the provider reported gone (deleted when recorded).
    gone: Vec<DeviceId>,
}

enum Outcome {
    Sent,
    /// Retried with backoff (unless secret or out of attempts).
    Failed(String),
    /// Nothing to deliver to: final.
    Skipped(&'static str),
}

/// The recipient a push notification is recorded with: the user's registered devices,
/// resolved to tokens at each attempt (so a device registered or dropped since is honoured).
fn push_recipient(user: UserId) -> String {
    format!("user:{user}")
}

fn delivered_devices(metadata: &serde_json::Value) -> Vec<DeviceId> {
    metadata
        .get(PUSH_DELIVERED_KEY)
        .and_then(|v| v.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str())
                .filter_map(|s| DeviceId::parse(s).ok())
                .collect()
        })
        .unwrap_or_default()
}

/// Template variables.
pub(crate) type Vars = BTreeMap<String, String>;

pub(crate) fn vars<const N: usize>(pairs: [(&str, String); N]) -> Vars {
    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

fn backoff(attempts: u32) -> Duration {
    Duration::seconds(NOTIFY_BACKOFF_BASE_SECONDS << attempts.saturating_sub(1).min(10))
}

pub(super) fn user_id_of(actor: &Actor) -> BankResult<UserId> {
    actor
        .user_id
        .ok_or_else(|| BankError::Unauthorized("a user is required".into()))
}

impl NotificationService<'_> {
    /// Worker step: re-sends due pending notifications (up to 100), with exponential backoff
    /// (30 s, 60 s, 120 s, 240 s) and at most 5 attempts before `failed`. Claims each one
    /// with a lease first, so several workers never send the same notification at once.
    /// Returns how many were sent.
    pub async fn retry_notifications(&self) -> BankResult<usize> {
        let claimed: Vec<NotificationRecord> = self
            .write(|uow, _ev, _| {
                Box::pin(async {
                    let (uow, _ev) = (uow, _ev);
                    let now = self.now_us();
                    let due = uow.due_notifications(now, NOTIFY_RETRY_BATCH_MAX).await?;
                    for n in &due {
                        let mut c = n.clone();
                        c.next_attempt_at = Some(now + Duration::seconds(NOTIFY_LEASE_SECONDS));
                        uow.update_notification(&c).await?;
                    }
                    Ok(due)
                })
            })
            .await?;
        let mut results = Vec::with_capacity(claimed.len());
        for n in claimed {
            let msg = OutgoingMessage {
                channel: n.channel,
                recipient: n.recipient.clone(),
                subject: n.subject.clone(),
                body: n.body.clone(),
            };
            let already = delivered_devices(&n.metadata);
            results.push(self.attempt(n.id, n.user_id, false, &msg, &already).await);
        }
        self.record_deliveries(&results).await
    }

    /// Turns domain events into notifications (the seed's consumed events: user.registered,
    /// transaction.completed, kyc.approved, account.created) and delivers them. Idempotent per
    /// event: feeding the same events twice notifies once. For an outbox relay or sink to call
    /// with committed events (at most 500 per call). Returns how many notifications were made.
    pub async fn notify_for_events(&self, events: &[DomainEvent]) -> BankResult<usize> {
        if events.len() > NOTIFY_EVENTS_MAX {
            return Err(BankError::LimitExceeded(format!(
                "at most {NOTIFY_EVENTS_MAX} events per call"
            )));
        }
        let deliveries: Vec<Delivery> = self
            .write(|uow, _ev, _| {
                Box::pin(async {
                    let (uow, _ev) = (uow, _ev);
                    let mut out = Vec::new();
                    for e in events {
                        out.extend(self.notifications_for_event(uow, e).await?);
                    }
                    Ok(out)
                })
            })
            .await?;
        let n = deliveries.len();
        self.deliver(deliveries).await;
        Ok(n)
    }

    /// The caller's notification history, every channel, newest first.
    pub async fn list(
        &self,
        actor: &Actor,
        before: Option<NotificationId>,
        limit: u32,
    ) -> BankResult<Vec<NotificationRecord>> {
        let user = user_id_of(actor)?;
        check_page_limit(limit)?;
        self.k
            .store
            .begin(TxMode::Read)
            .await?
            .notifications_of_user(user, before, limit)
            .await
    }

    /// The caller's in-app feed after a cursor, oldest first (for the real-time stream: poll
    /// with the last id seen).
    pub async fn in_app_feed(
        &self,
        actor: &Actor,
        after: Option<NotificationId>,
        limit: u32,
    ) -> BankResult<Vec<NotificationRecord>> {
        let user = user_id_of(actor)?;
        check_page_limit(limit)?;
        self.k
            .store
            .begin(TxMode::Read)
            .await?
            .in_app_feed(user, after, limit)
            .await
    }

    /// Marks one of the caller's notifications read.
    pub async fn mark_notification_read(
        &self,
        actor: &Actor,
        id: NotificationId,
    ) -> BankResult<NotificationRecord> {
        let user = user_id_of(actor)?;
        self.write(|uow, _ev, _| {
            Box::pin(async {
                let (uow, _ev) = (uow, _ev);
                let mut n = uow
                    .notification(id)
                    .await?
                    .filter(|n| n.user_id == user)
                    .ok_or(BankError::NotFound {
                        resource: "notification",
                    })?;
                if n.read_at.is_none() {
                    n.read_at = Some(self.now_us());
                    uow.update_notification(&n).await?;
                }
                Ok(n)
            })
        })
        .await
    }

    /// Sets whether the caller wants `category` (a non-security template category, e.g.
    /// `transaction.completed`) on `channel`. Security messages cannot be turned off.
    pub async fn set_notification_preference(
        &self,
        actor: &Actor,
        category: &str,
        channel: Channel,
        enabled: bool,
    ) -> BankResult<Preference> {
        let user = user_id_of(actor)?;
        let Some(t) = TEMPLATES.iter().find(|t| t.category == category) else {
            return Err(BankError::validation(
                "category",
                "unknown notification category",
            ));
        };
        if t.security {
            return Err(BankError::validation(
                "category",
                "security messages cannot be turned off",
            ));
        }
        let pref = Preference {
            user_id: user,
            category: t.category.to_string(),
            channel,
            enabled,
            updated_at: self.now_us(),
        };
        let p = &pref;
        self.write(|uow, _ev, _| {
            Box::pin(async {
                let (uow, _ev) = (uow, _ev);
                uow.set_preference(p).await
            })
        })
        .await?;
        Ok(pref)
    }

    /// The caller's stored preferences (anything absent is enabled).
    pub async fn notification_preferences(&self, actor: &Actor) -> BankResult<Vec<Preference>> {
        let user = user_id_of(actor)?;
        self.k
            .store
            .begin(TxMode::Read)
            .await?
            .preferences_of_user(user)
            .await
    }

    /// Every template the engine ships.
    pub fn notification_templates(&self) -> &'static [Template] {
        TEMPLATES
    }

    /// Sends a free-text message to a user on one channel (admin; the seed's
    /// `POST /notifications/email|sms|push`). Returns the notification as recorded.
    pub async fn send_direct_notification(
        &self,
        actor: &Actor,
        user_id: UserId,
        channel: Channel,
        subject: &str,
        body: &str,
    ) -> BankResult<NotificationRecord> {
        actor.require_admin()?;
        let subject = subject.trim();
        let body = body.trim();
        if subject.chars().count() > DIRECT_SUBJECT_LEN_MAX
            || body.is_empty()
            || body.chars().count() > DIRECT_BODY_LEN_MAX
        {
            return Err(BankError::validation(
                "body",
                "a body of 1 to 2000 characters and a subject of at most 200",
            ));
        }
        let (record, delivery) = self
            .write(|uow, _ev, _| {
                Box::pin(async {
                    let (uow, _ev) = (uow, _ev);
                    let user = uow
                        .user(user_id)
                        .await?
                        .ok_or(BankError::NotFound { resource: "user" })?;
                    let recipient = match channel {
                        Channel::Email => user.email.to_string(),
                        Channel::Sms => {
                            user.phone.as_ref().map(|p| p.to_string()).ok_or_else(|| {
                                BankError::validation("channel", "the user has no phone")
                            })?
                        }
                        Channel::Push => push_recipient(user.id),
                        Channel::InApp => user.id.to_string(),
                    };
                    let now = self.now_us();
                    let in_app = channel == Channel::InApp;
                    let record = NotificationRecord {
                        id: NotificationId(self.new_uuid()),
                        user_id,
                        channel,
                        recipient: recipient.clone(),
                        subject: (!subject.is_empty()).then(|| subject.to_string()),
                        body: body.to_string(),
                        template_id: "direct".to_string(),
                        status: if in_app {
                            NotificationStatus::Sent
                        } else {
                            NotificationStatus::Pending
                        },
                        metadata: json!({"sent_by": actor.user_id.map(|u| u.to_string())}),
                        source_event_id: None,
                        attempts: 0,
                        next_attempt_at: (!in_app).then_some(now),
                        last_error: None,
                        sent_at: in_app.then_some(now),
                        read_at: None,
                        created_at: now,
                    };
                    uow.insert_notification(&record).await?;
                    self.audit(
                        uow,
                        actor,
                        AuditEvent::new("notification.send", "user", user_id)
                            .detail(json!({"channel": channel.as_str()})),
                    )
                    .await?;
                    let delivery = (!in_app).then(|| Delivery {
                        id: record.id,
                        user: user_id,
                        message: OutgoingMessage {
                            channel,
                            recipient,
                            subject: record.subject.clone(),
                            body: record.body.clone(),
                        },
                        secret: false,
                    });
                    Ok((record, delivery))
                })
            })
            .await?;
        self.deliver(delivery.into_iter().collect()).await;
        let mut uow = self.store.begin(TxMode::Read).await?;
        Ok(uow.notification(record.id).await?.unwrap_or(record))
    }
}

impl Inner {
    /// Creates the notification rows of `template_id` for `user` inside `uow` (respecting
    /// preferences unless it is a security message) and returns what to deliver after commit.
    pub(crate) async fn enqueue_notification(
        &self,
        uow: &mut dyn UnitOfWork,
        user: &UserRecord,
        template_id: &str,
        vars: &Vars,
        source_event: Option<EventId>,
    ) -> BankResult<Vec<Delivery>> {
        let t: &Template = template(template_id)?;
        let prefs = if t.security {
            Vec::new()
        } else {
            uow.preferences_of_user(user.id).await?
        };
        let now = self.now_us();
        let mut stored_vars = vars.clone();
        if let Some(s) = t.secret_var {
            stored_vars.insert(s.to_string(), REDACTED.to_string());
        }
        let mut out = Vec::new();
        for &channel in t.channels {
            if prefs
                .iter()
                .any(|p| p.category == t.category && p.channel == channel && !p.enabled)
            {
                continue;
            }
            let recipient = match channel {
                Channel::Email => user.email.to_string(),
                Channel::Sms => match &user.phone {
                    Some(p) => p.to_string(),
                    None => continue,
                },
                Channel::Push => push_recipient(user.id),
                Channel::InApp => user.id.to_string(),
            };
            let in_app = channel == Channel::InApp;
            let record = NotificationRecord {
                id: NotificationId(self.new_uuid()),
                user_id: user.id,
                channel,
                recipient: recipient.clone(),
                subject: Some(render(t.subject, &stored_vars)),
                body: render(t.body, &stored_vars),
                template_id: t.id.to_string(),
                status: if in_app {
                    NotificationStatus::Sent
                } else {
                    NotificationStatus::Pending
                },
                metadata: json!(stored_vars),
                source_event_id: source_event,
                attempts: 0,
                // Secret-bearing messages are delivered once, right after commit, and never
                // from storage (which only has the redacted body).
                next_attempt_at: if in_app || t.secret_var.is_some() {
                    None
                } else {
                    Some(now)
                },
                last_error: None,
                sent_at: in_app.then_some(now),
                read_at: None,
                created_at: now,
            };
            uow.savepoint().await?;
            match uow.insert_notification(&record).await {
                Ok(()) => uow.release_savepoint().await?,
                Err(BankError::Duplicate(_)) => {
                    // This event was already turned into this notification.
                    uow.rollback_to_savepoint().await?;
                    continue;
                }
                Err(e) => return Err(e),
            }
            if !in_app {
                out.push(Delivery {
                    id: record.id,
                    user: user.id,
                    message: OutgoingMessage {
                        channel,
                        recipient,
                        subject: Some(render(t.subject, vars)),
                        body: render(t.body, vars),
                    },
                    secret: t.secret_var.is_some(),
                });
            }
        }
        Ok(out)
    }

    /// Sends deliveries created by a committed unit and records the outcome. Best effort:
    /// whatever is not recorded here stays pending and is retried by
    /// [`Bank::retry_notifications`] (secret-bearing messages excepted).
    pub(crate) async fn deliver(&self, deliveries: Vec<Delivery>) {
        if deliveries.is_empty() {
            return;
        }
        let mut results = Vec::with_capacity(deliveries.len());
        for d in deliveries {
            results.push(self.attempt(d.id, d.user, d.secret, &d.message, &[]).await);
        }
        let _ = self.record_deliveries(&results).await;
    }

    /// Sends one notification. A push goes to each of the user's registered devices (at most
    /// [`DEVICES_PER_USER_MAX`]) not in `already`, one message per device token; a device
    /// whose token the provider reports gone is noted for deletion, not retried. No device
    /// left to send to skips the push.
    async fn attempt(
        &self,
        id: NotificationId,
        user: UserId,
        secret: bool,
        message: &OutgoingMessage,
        already: &[DeviceId],
    ) -> Attempt {
        let mut a = Attempt {
            id,
            secret,
            outcome: Outcome::Sent,
            delivered: Vec::new(),
            gone: Vec::new(),
        };
        if message.channel != Channel::Push {
            if let Err(e) = self.notifier.send(message).await {
                a.outcome = Outcome::Failed(e.to_string());
            }
            return a;
        }
        let devices = match self.push_devices(user).await {
            Ok(d) => d,
            Err(e) => {
                a.outcome = Outcome::Failed(e.to_string());
                return a;
            }
        };
        let mut error = None;
        for d in devices.iter().filter(|d| !already.contains(&d.id)) {
            let m = OutgoingMessage {
                recipient: d.token.clone(),
                ..message.clone()
            };
            match self.notifier.send(&m).await {
                Ok(()) => a.delivered.push(d.id),
                Err(e) if is_token_gone(&e) => a.gone.push(d.id),
                Err(e) => {
                    error.get_or_insert_with(|| e.to_string());
                }
            }
        }
        let reached_before = devices.iter().any(|d| already.contains(&d.id));
        a.outcome = match error {
            Some(e) => Outcome::Failed(e),
            None if devices.is_empty() => Outcome::Skipped(SKIPPED_NO_DEVICE),
            None if a.delivered.is_empty() && !reached_before => {
                Outcome::Skipped(SKIPPED_TOKENS_GONE)
            }
            None => Outcome::Sent,
        };
        a
    }

    async fn push_devices(&self, user: UserId) -> BankResult<Vec<crate::notify::PushDevice>> {
        self.store
            .begin(TxMode::Read)
            .await?
            .devices_of_user(user, DEVICES_PER_USER_MAX)
            .await
    }

    async fn record_deliveries(&self, results: &[Attempt]) -> BankResult<usize> {
        let (sent, outcomes) = self.write(|uow, events, _| {
            Box::pin(async {
            let (uow, events) = (uow, events);
            let now = self.now_us();
            let mut sent = 0;
            // (channel, outcome) of each attempt recorded, reported once the unit committed.
            let mut outcomes: Vec<(&'static str, &'static str)> = Vec::with_capacity(results.len());
            for a in results {
                // A gone token is dropped whatever became of the notification meanwhile.
                for d in &a.gone {
                    uow.delete_device(*d).await?;
                }
                let Some(mut n) = uow.notification(a.id).await? else {
                    continue;
                };
                if n.status != NotificationStatus::Pending {
                    continue;
                }
                n.attempts += 1;
                let secret = a.secret;
                outcomes.push((
                    n.channel.as_str(),
                    match a.outcome {
                        Outcome::Sent => "sent",
                        Outcome::Skipped(_) => "skipped",
                        Outcome::Failed(_) if secret || n.attempts >= NOTIFY_ATTEMPTS_MAX => "failed",
                        Outcome::Failed(_) => "retry",
                    },
                ));
                if !a.delivered.is_empty() {
                    let mut reached = delivered_devices(&n.metadata);
                    reached.extend(a.delivered.iter().copied());
                    if let Some(m) = n.metadata.as_object_mut() {
                        m.insert(
                            PUSH_DELIVERED_KEY.to_string(),
                            json!(reached.iter().map(|d| d.to_string()).collect::<Vec<_>>()),
                        );
                    }
                }
                match &a.outcome {
                    Outcome::Skipped(why) => {
                        n.status = NotificationStatus::Skipped;
                        n.next_attempt_at = None;
                        n.last_error = Some((*why).to_string());
                    }
                    Outcome::Sent => {
                        n.status = NotificationStatus::Sent;
                        n.sent_at = Some(now);
                        n.next_attempt_at = None;
                        n.last_error = None;
                        sent += 1;
                        events.push(self.json_event(
                            EventType::NotificationSent,
                            n.id.0,
                            json!({"notificationId": n.id.to_string(), "userId": n.user_id.to_string(),
                                   "type": n.channel.as_str(), "templateId": n.template_id, "sentAt": now.to_rfc3339()}),
                        ));
                    }
                    Outcome::Failed(e) => {
                        n.last_error = Some(e.chars().take(500).collect());
                        if secret || n.attempts >= NOTIFY_ATTEMPTS_MAX {
                            n.status = NotificationStatus::Failed;
                            n.next_attempt_at = None;
                        } else {
                            n.next_attempt_at = Some(now + backoff(n.attempts));
                        }
                    }
                }
                uow.update_notification(&n).await?;
            }
            Ok((sent, outcomes))
        })
        })
        .await?;
        for (channel, outcome) in outcomes {
            crate::telemetry::notification_delivery(channel, outcome);
        }
        Ok(sent)
    }

    async fn user_of_customer(
        &self,
        uow: &mut dyn UnitOfWork,
        customer: CustomerId,
    ) -> BankResult<Option<UserRecord>> {
        match uow.customer(customer).await? {
            Some(c) => uow.user(c.user_id).await,
            None => Ok(None),
        }
    }

    async fn user_of_account(
        &self,
        uow: &mut dyn UnitOfWork,
        account: AccountId,
    ) -> BankResult<Option<(UserRecord, crate::account::Account)>> {
        let Some(a) = uow.account(account).await? else {
            return Ok(None);
        };
        Ok(self
            .user_of_customer(uow, a.customer_id)
            .await?
            .map(|u| (u, a)))
    }

    async fn notifications_for_event(
        &self,
        uow: &mut dyn UnitOfWork,
        e: &DomainEvent,
    ) -> BankResult<Vec<Delivery>> {
        let data = e.data_json();
        let text = |k: &str| {
            data.get(k)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_string()
        };
        let mut out = Vec::new();
        match e.event_type {
            EventType::UserRegistered => {
                if let Some(u) = uow.user(UserId(e.aggregate_id)).await? {
                    let v = vars([("email", u.email.to_string())]);
                    out.extend(
                        self.enqueue_notification(uow, &u, "welcome", &v, Some(e.id))
                            .await?,
                    );
                }
            }
            EventType::KycApproved => {
                if let Ok(c) = CustomerId::parse(&text("customerId")) {
                    if let Some(u) = self.user_of_customer(uow, c).await? {
                        let v = vars([("first_name", text("firstName"))]);
                        out.extend(
                            self.enqueue_notification(uow, &u, "kyc_approved", &v, Some(e.id))
                                .await?,
                        );
                    }
                }
            }
            EventType::AccountCreated => {
                if let Ok(c) = CustomerId::parse(&text("customerId")) {
                    if let Some(u) = self.user_of_customer(uow, c).await? {
                        let v = vars([
                            ("account_type", text("accountType").to_lowercase()),
                            ("account_number", text("accountNumber")),
                            ("currency", text("currency")),
                        ]);
                        out.extend(
                            self.enqueue_notification(uow, &u, "account_created", &v, Some(e.id))
                                .await?,
                        );
                    }
                }
            }
            EventType::TransactionCompleted => {
                let EventData::Transaction(t) = &e.data else {
                    return Ok(out);
                };
                let mut seen: Vec<UserId> = Vec::new();
                for (acc, direction) in [(t.from_account_id, "sent"), (t.to_account_id, "received")]
                {
                    let Some(acc) = acc else { continue };
                    let Some((u, _)) = self.user_of_account(uow, acc).await? else {
                        continue;
                    };
                    if seen.contains(&u.id) {
                        // A transfer between one user's own accounts: one message is enough.
                        continue;
                    }
                    seen.push(u.id);
                    let v = vars([
                        (
                            "transaction_type",
                            t.transaction_type.as_str().to_lowercase(),
                        ),
                        ("amount", t.amount.amount().to_string()),
                        ("currency", t.amount.currency().code().to_string()),
                        ("direction", direction.to_string()),
                        (
                            "transaction_ref",
                            Transaction::reference_for(t.transaction_id).to_string(),
                        ),
                    ]);
                    out.extend(
                        self.enqueue_notification(uow, &u, "transaction_completed", &v, Some(e.id))
                            .await?,
                    );
                }
            }
            _ => {}
        }
        Ok(out)
    }
}
