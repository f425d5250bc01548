//! `/api/v1/notifications`: the caller's history, read marks, preferences, templates, the
//! live stream (SSE) and admin direct sends.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use bankflow_core::ids::NotificationId;
use bankflow_core::notify::{Channel, NotificationRecord, TEMPLATES};
use bankflow_core::{Actor, Bank, BankError, UserId};
use chrono::{DateTime, Utc};
use futures::Stream;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::dto::{decode_cursor, encode_cursor, page_limit, Page};
use crate::error::ApiResult;
use crate::routes::{detached, CommonErrors};
use crate::schema::{Cursor, MessageBody, MessageSubject, PageLimit};
use crate::state::{AppState, Auth, Json, PathId, Query, StreamAuth};

/// Notifications fetched per stream poll.
pub const STREAM_BATCH_MAX: u32 = 50;
/// Longest wait between polls when nothing signals new notifications (covers notifications
/// created by another replica).
pub const STREAM_POLL_MAX_MS: u64 = 2_000;
/// Longest life of one stream: the client reconnects (with a fresh token) after it.
pub const STREAM_LIFETIME_MAX_S: i64 = 15 * 60;

/// A notification.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct NotificationDto {
    /// Id (time-ordered).
    pub id: Uuid,
    /// Recipient.
    pub user_id: Uuid,
    /// Template / kind, e.g. `transaction_completed`.
    #[serde(rename = "type")]
    pub type_: String,
    /// email, sms, push, in_app.
    pub channel: String,
    /// Subject.
    pub subject: Option<String>,
    /// Body (secrets redacted).
    pub body: String,
    /// pending, sent, failed.
    pub status: String,
    /// When the user read it.
    pub read_at: Option<DateTime<Utc>>,
    /// When it was delivered.
    pub sent_at: Option<DateTime<Utc>>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Template variables (never secrets).
    #[schema(value_type = Object)]
    pub metadata: serde_json::Value,
}

impl From<NotificationRecord> for NotificationDto {
    fn from(n: NotificationRecord) -> NotificationDto {
        NotificationDto {
            id: n.id.0,
            user_id: n.user_id.0,
            type_: n.template_id,
            channel: n.channel.as_str().into(),
            subject: n.subject,
            body: n.body,
            status: n.status.as_str().into(),
            read_at: n.read_at,
            sent_at: n.sent_at,
            created_at: n.created_at,
            metadata: n.metadata,
        }
    }
}

/// Channel switches: a channel is on when every optional category is on for it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PreferencesDto {
    /// Email.
    pub email_enabled: bool,
    /// SMS.
    pub sms_enabled: bool,
    /// Push.
    pub push_enabled: bool,
    /// In-app feed.
    pub in_app_enabled: bool,
}

/// New channel switches (absent: unchanged). Security messages are always sent.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct PreferencesBody {
    /// Email.
    pub email_enabled: Option<bool>,
    /// SMS.
    pub sms_enabled: Option<bool>,
    /// Push.
    pub push_enabled: Option<bool>,
    /// In-app feed.
    pub in_app_enabled: Option<bool>,
}

/// A notification template.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TemplateDto {
    /// Id.
    pub id: String,
    /// Preference category.
    pub category: String,
    /// Always sent.
    pub security: bool,
    /// Channels.
    pub channels: Vec<String>,
    /// Subject.
    pub subject: String,
    /// Body with `{{variables}}`.
    pub body: String,
}

/// A direct message (admin).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DirectBody {
    /// Recipient user.
    pub user_id: Uuid,
    /// Subject / title.
    #[schema(value_type = Option<MessageSubject>)]
    pub subject: Option<String>,
    /// Text.
    #[schema(value_type = MessageBody)]
    pub body: String,
}

/// Paging (newest first).
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NotificationParams {
    /// Page size 1..=100.
    #[param(value_type = Option<PageLimit>)]
    pub limit: Option<u32>,
    /// Opaque cursor.
    #[param(value_type = Option<Cursor>)]
    pub cursor: Option<String>,
}

/// The stream's ticket (EventSource cannot send headers).
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StreamParams {
    /// A stream ticket from `POST /notifications/stream/ticket`, when no Authorization
    /// header is sent. Access tokens are never accepted in the URL.
    pub ticket: Option<String>,
}

/// A ticket that opens the caller's notification stream.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StreamTicketDto {
    /// Pass as `?ticket=` to `GET /notifications/stream`; opens nothing else.
    pub ticket: String,
    /// Seconds the ticket stays valid for opening a stream.
    pub expires_in: i64,
}

async fn history(
    s: &AppState,
    actor: &Actor,
    p: NotificationParams,
) -> ApiResult<Page<NotificationDto>> {
    let limit = page_limit(p.limit)?;
    let before = match p.cursor.as_deref() {
        None | Some("") => None,
        Some(c) => Some(NotificationId(
            Uuid::parse_str(&decode_cursor(c)?)
                .map_err(|_| BankError::validation("cursor", "malformed cursor"))?,
        )),
    };
    let items = s.bank.notifications().list(actor, before, limit).await?;
    let next_cursor = (items.len() as u32 == limit)
        .then(|| items.last().map(|n| encode_cursor(&n.id.to_string())))
        .flatten();
    Ok(Page {
        items: items.into_iter().map(NotificationDto::from).collect(),
        next_cursor,
    })
}

/// The caller's notifications, newest first.
#[utoipa::path(get, path = "/api/v1/notifications", tag = "notifications", params(NotificationParams),
    responses((status = 200, description = "Notifications", body = Page<NotificationDto>), CommonErrors), security(("bearer" = [])))]
pub async fn mine(
    State(s): State<AppState>,
    auth: Auth,
    Query(p): Query<NotificationParams>,
) -> ApiResult<axum::Json<Page<NotificationDto>>> {
    Ok(axum::Json(history(&s, &auth.actor, p).await?))
}

/// A user's notifications (the caller's own; anyone else's is 404).
#[utoipa::path(get, path = "/api/v1/notifications/user/{user_id}", operation_id = "notifications_of_user", tag = "notifications",
    params(("user_id" = Uuid, Path, description = "User id"), NotificationParams),
    responses((status = 200, description = "Notifications", body = Page<NotificationDto>), CommonErrors), security(("bearer" = [])))]
pub async fn of_user(
    State(s): State<AppState>,
    auth: Auth,
    PathId(user): PathId<UserId>,
    Query(p): Query<NotificationParams>,
) -> ApiResult<axum::Json<Page<NotificationDto>>> {
    if auth.actor.user_id != Some(user) {
        return Err(BankError::NotFound { resource: "user" }.into());
    }
    Ok(axum::Json(history(&s, &auth.actor, p).await?))
}

/// Marks one of the caller's notifications read.
#[utoipa::path(post, path = "/api/v1/notifications/{id}/read", tag = "notifications", params(("id" = Uuid, Path, description = "Notification id")),
    responses((status = 204, description = "Marked"), CommonErrors), security(("bearer" = [])))]
pub async fn read(
    State(s): State<AppState>,
    auth: Auth,
    PathId(id): PathId<Uuid>,
) -> ApiResult<StatusCode> {
    let bank = s.bank.clone();
    detached(async move {
        bank.notifications()
            .mark_notification_read(&auth.actor, NotificationId(id))
            .await
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

fn optional_categories() -> Vec<&'static str> {
    let mut seen: Vec<&'static str> = Vec::new();
    for t in TEMPLATES.iter().filter(|t| !t.security) {
        if !seen.contains(&t.category) {
            seen.push(t.category);
        }
    }
    seen
}

async fn preferences_of(bank: &Bank, actor: &Actor) -> ApiResult<PreferencesDto> {
    let prefs = bank.notifications().notification_preferences(actor).await?;
    let on = |ch: Channel| !prefs.iter().any(|p| p.channel == ch && !p.enabled);
    Ok(PreferencesDto {
        email_enabled: on(Channel::Email),
        sms_enabled: on(Channel::Sms),
        push_enabled: on(Channel::Push),
        in_app_enabled: on(Channel::InApp),
    })
}

/// The caller's channel switches.
#[utoipa::path(get, path = "/api/v1/notifications/preferences", tag = "notifications",
    responses((status = 200, description = "Preferences", body = PreferencesDto), CommonErrors), security(("bearer" = [])))]
pub async fn preferences(
    State(s): State<AppState>,
    auth: Auth,
) -> ApiResult<axum::Json<PreferencesDto>> {
    Ok(axum::Json(preferences_of(&s.bank, &auth.actor).await?))
}

/// Turns channels on or off for every optional category.
#[utoipa::path(put, path = "/api/v1/notifications/preferences", tag = "notifications", request_body = PreferencesBody,
    responses((status = 200, description = "Preferences", body = PreferencesDto), CommonErrors), security(("bearer" = [])))]
pub async fn set_preferences(
    State(s): State<AppState>,
    auth: Auth,
    Json(b): Json<PreferencesBody>,
) -> ApiResult<axum::Json<PreferencesDto>> {
    let changes: Vec<(Channel, bool)> = [
        (Channel::Email, b.email_enabled),
        (Channel::Sms, b.sms_enabled),
        (Channel::Push, b.push_enabled),
        (Channel::InApp, b.in_app_enabled),
    ]
    .into_iter()
    .filter_map(|(c, v)| v.map(|v| (c, v)))
    .collect();
    let bank = s.bank.clone();
    let actor = auth.actor.clone();
    detached(async move {
        for (channel, enabled) in changes {
            for category in optional_categories() {
                bank.notifications()
                    .set_notification_preference(&actor, category, channel, enabled)
                    .await?;
            }
        }
        Ok(())
    })
    .await?;
    Ok(axum::Json(preferences_of(&s.bank, &auth.actor).await?))
}

/// Every template the engine ships.
#[utoipa::path(get, path = "/api/v1/notifications/templates", tag = "notifications",
    responses((status = 200, description = "Templates", body = Page<TemplateDto>), CommonErrors), security(("bearer" = [])))]
pub async fn templates(State(s): State<AppState>, _auth: Auth) -> axum::Json<Page<TemplateDto>> {
    let items = s
        .bank
        .notifications()
        .notification_templates()
        .iter()
        .map(|t| TemplateDto {
            id: t.id.into(),
            category: t.category.into(),
            security: t.security,
            channels: t.channels.iter().map(|c| c.as_str().to_string()).collect(),
            subject: t.subject.into(),
            body: t.body.into(),
        })
        .collect();
    axum::Json(Page {
        items,
        next_cursor: None,
    })
}

async fn direct(s: AppState, auth: Auth, channel: Channel, b: DirectBody) -> ApiResult<Response> {
    let bank = s.bank.clone();
    let n = detached(async move {
        bank.notifications()
            .send_direct_notification(
                &auth.actor,
                UserId(b.user_id),
                channel,
                b.subject.as_deref().unwrap_or(""),
                &b.body,
            )
            .await
    })
    .await?;
    s.feed.bump();
    Ok((StatusCode::CREATED, axum::Json(NotificationDto::from(n))).into_response())
}

/// Sends an email to a user (admin).
#[utoipa::path(post, path = "/api/v1/notifications/email", tag = "notifications", request_body = DirectBody,
    responses((status = 201, description = "Queued", body = NotificationDto), CommonErrors), security(("bearer" = [])))]
pub async fn send_email(
    State(s): State<AppState>,
    auth: Auth,
    Json(b): Json<DirectBody>,
) -> ApiResult<Response> {
    direct(s, auth, Channel::Email, b).await
}

/// Sends an SMS to a user (admin).
#[utoipa::path(post, path = "/api/v1/notifications/sms", tag = "notifications", request_body = DirectBody,
    responses((status = 201, description = "Queued", body = NotificationDto), CommonErrors), security(("bearer" = [])))]
pub async fn send_sms(
    State(s): State<AppState>,
    auth: Auth,
    Json(b): Json<DirectBody>,
) -> ApiResult<Response> {
    direct(s, auth, Channel::Sms, b).await
}

/// Sends a push notification to a user (admin).
#[utoipa::path(post, path = "/api/v1/notifications/push", tag = "notifications", request_body = DirectBody,
    responses((status = 201, description = "Queued", body = NotificationDto), CommonErrors), security(("bearer" = [])))]
pub async fn send_push(
    State(s): State<AppState>,
    auth: Auth,
    Json(b): Json<DirectBody>,
) -> ApiResult<Response> {
    direct(s, auth, Channel::Push, b).await
}

/// Sends an in-app message to a user (admin).
#[utoipa::path(post, path = "/api/v1/notifications/in_app", tag = "notifications", request_body = DirectBody,
    responses((status = 201, description = "Stored", body = NotificationDto), CommonErrors), security(("bearer" = [])))]
pub async fn send_in_app(
    State(s): State<AppState>,
    auth: Auth,
    Json(b): Json<DirectBody>,
) -> ApiResult<Response> {
    direct(s, auth, Channel::InApp, b).await
}

/// A short-lived ticket for opening the notification stream from a browser: EventSource
/// cannot send an Authorization header, and an access token must never travel in a URL
/// (proxy logs, browser history). The ticket names the caller's session and opens only the
/// stream, for [`crate::jwt::STREAM_TICKET_TTL_S`] seconds.
#[utoipa::path(post, path = "/api/v1/notifications/stream/ticket", tag = "notifications",
    responses((status = 200, description = "A stream ticket", body = StreamTicketDto), CommonErrors),
    security(("bearer" = [])))]
pub async fn stream_ticket(
    State(s): State<AppState>,
    auth: Auth,
) -> ApiResult<axum::Json<StreamTicketDto>> {
    Ok(axum::Json(StreamTicketDto {
        ticket: s.jwt.issue_stream_ticket(&auth.claims, Utc::now())?,
        expires_in: crate::jwt::STREAM_TICKET_TTL_S,
    }))
}

/// Server-Sent Events of the caller's in-app notifications as they arrive (`event:
/// notification`, `id` = notification id; `Last-Event-ID` resumes). Authenticated by the
/// Authorization header or, for browsers' EventSource, `?ticket=` (see `stream/ticket`). The
/// stream ends with its session (checked every poll), at the access token's expiry, or after
/// at most 15 minutes; clients reconnect.
#[utoipa::path(get, path = "/api/v1/notifications/stream", tag = "notifications", params(StreamParams),
    responses((status = 200, description = "text/event-stream of Notification JSON", body = String, content_type = "text/event-stream"), CommonErrors),
    security(("bearer" = [])))]
pub async fn stream(
    State(s): State<AppState>,
    StreamAuth(auth): StreamAuth,
    headers: HeaderMap,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let resume = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| Uuid::parse_str(v.trim()).ok())
        .map(NotificationId);
    let start = match resume {
        Some(id) => Some(id),
        // Only what arrives from now on: the newest existing notification is the start.
        None => s
            .bank
            .notifications()
            .list(&auth.actor, None, 1)
            .await?
            .first()
            .map(|n| n.id),
    };
    // A ticket only opens the stream; the stream's own bound is then the maximum lifetime.
    let lifetime_s = if auth.claims.aud == crate::jwt::STREAM_AUDIENCE {
        STREAM_LIFETIME_MAX_S
    } else {
        (auth.claims.exp - Utc::now().timestamp()).clamp(1, STREAM_LIFETIME_MAX_S)
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(lifetime_s as u64);
    let mut wake = s.feed.subscribe();
    let mut shutdown = s.shutdown.clone();
    let bank = s.bank.clone();
    let sessions = s.sessions.clone();
    let session = (auth.actor.user_id, auth.claims.session_id());
    let actor = auth.actor;
    let events = async_stream(move |tx| async move {
        let mut after = start;
        loop {
            // The stream ends with its session: a logout or revocation closes it within one
            // poll, not at the token's expiry (the extractor checked it only at open).
            if let (Some(user), Some(sid)) = session {
                if let Err(BankError::Unauthorized(_)) = sessions.live(&bank, user, sid).await {
                    return;
                }
            }
            match bank
                .notifications()
                .in_app_feed(&actor, after, STREAM_BATCH_MAX)
                .await
            {
                Ok(items) => {
                    for n in items {
                        after = Some(n.id);
                        let id = n.id.to_string();
                        let data =
                            serde_json::to_string(&NotificationDto::from(n)).unwrap_or_default();
                        if tx
                            .send(Event::default().event("notification").id(id).data(data))
                            .await
                            .is_err()
                        {
                            return;
                        }
                    }
                }
                Err(e) => tracing::warn!(error = %e, "notification stream poll failed"),
            }
            tokio::select! {
                _ = wake.changed() => {}
                _ = tokio::time::sleep(Duration::from_millis(STREAM_POLL_MAX_MS)) => {}
                _ = tokio::time::sleep_until(deadline) => return,
                _ = shutdown.changed() => return,
                _ = tx.closed() => return,
            }
        }
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

/// A stream fed by a task through a small channel; the task ends when the client goes away.
fn async_stream<F, Fut>(f: F) -> impl Stream<Item = Result<Event, Infallible>>
where
    F: FnOnce(tokio::sync::mpsc::Sender<Event>) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    tokio::spawn(f(tx));
    futures::StreamExt::map(tokio_stream::wrappers::ReceiverStream::new(rx), Ok)
}
