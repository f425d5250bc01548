//! The email channel over SMTP: an adapter of core's [`Notifier`] port built on lettre's
//! async transport (tokio, rustls with ring).
//!
//! One message per send, as `multipart/alternative`: the template's rendered text and an HTML
//! version of the same words ([`html_body`]). A refusal (4xx/5xx), a refused connection or a
//! timeout is an `Err`, which the engine's notification retry turns into backoff and, after
//! its bound, `failed` in the history. The password never reaches a log: [`SmtpOptions`]'s
//! `Debug` redacts it, and errors name the SMTP reply, never the message body.

#![deny(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use async_trait::async_trait;
use bankflow_core::notify::{Channel, Notifier, OutgoingMessage};
use bankflow_core::{BankError, BankResult};
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

mod html;
#[cfg(feature = "testserver")]
pub mod testserver;

pub use html::html_body;

/// Default bound on one whole delivery (connect, TLS, auth, data).
pub const SMTP_TIMEOUT_MS_DEFAULT: u64 = 10_000;
/// Longest accepted `timeout_ms` (a stuck relay must not hold a worker longer).
pub const SMTP_TIMEOUT_MS_MAX: u64 = 300_000;

/// How the connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    /// Plain text (a relay on localhost or a test server only). Default port 25.
    None,
    /// Connect in plain text, then upgrade with STARTTLS, refusing to go on without it
    /// (no downgrade: credentials and mail are never sent in the clear). Default port 587.
    StartTls,
    /// TLS from the first byte (SMTPS). Default port 465.
    Implicit,
}

impl TlsMode {
    /// The port a provider listens on for this mode.
    pub fn default_port(self) -> u16 {
        match self {
            TlsMode::None => 25,
            TlsMode::StartTls => 587,
            TlsMode::Implicit => 465,
        }
    }

    /// `none`, `starttls` or `implicit`.
    pub fn parse(s: &str) -> Result<TlsMode, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "none" => Ok(TlsMode::None),
            "starttls" => Ok(TlsMode::StartTls),
            "implicit" | "tls" | "smtps" => Ok(TlsMode::Implicit),
            other => Err(format!(
                "SMTP TLS mode `{other}`: expected none, starttls or implicit"
            )),
        }
    }
}

/// Where and how to send.
#[derive(Clone)]
pub struct SmtpOptions {
    /// Relay host name (also the name its certificate must carry).
    pub host: String,
    /// Port; default from the TLS mode.
    pub port: Option<u16>,
    /// Connection protection.
    pub tls: TlsMode,
    /// Login, when the relay requires authentication.
    pub username: Option<String>,
    /// Password of `username` (never logged).
    pub password: Option<String>,
    /// The `From:` mailbox, e.g. `BankFlow <no-reply@bank.example>`.
    pub from: String,
    /// Bound on one whole delivery, in milliseconds.
    pub timeout_ms: u64,
    /// Extra root certificate (PEM) to trust, for a relay with a private CA; public relays
    /// are checked against the webpki roots.
    pub ca_pem: Option<Vec<u8>>,
}

impl std::fmt::Debug for SmtpOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpOptions")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "[redacted]"))
            .field("from", &self.from)
            .field("timeout_ms", &self.timeout_ms)
            .field("ca_pem", &self.ca_pem.as_ref().map(|p| p.len()))
            .finish()
    }
}

impl SmtpOptions {
    /// Options for `host` with the given mode and sender; no login, default port and timeout.
    pub fn new(host: impl Into<String>, tls: TlsMode, from: impl Into<String>) -> SmtpOptions {
        SmtpOptions {
            host: host.into(),
            port: None,
            tls,
            username: None,
            password: None,
            from: from.into(),
            timeout_ms: SMTP_TIMEOUT_MS_DEFAULT,
            ca_pem: None,
        }
    }
}

/// Delivers [`Channel::Email`] messages through one SMTP relay.
pub struct SmtpNotifier {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    timeout: Duration,
}

impl std::fmt::Debug for SmtpNotifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SmtpNotifier(from {})", self.from)
    }
}

fn config_error(what: impl std::fmt::Display) -> BankError {
    BankError::validation("smtp", what.to_string())
}

impl SmtpNotifier {
    /// A notifier for these options. Checks them (sender address, TLS parameters, timeout)
    /// without connecting: the relay may come up later, and sends retry. Needs a tokio
    /// runtime (the connection pool runs a task that closes idle connections).
    pub fn new(options: &SmtpOptions) -> BankResult<SmtpNotifier> {
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(BankError::internal(
                "the SMTP notifier needs a tokio runtime",
            ));
        }
        if options.timeout_ms == 0 || options.timeout_ms > SMTP_TIMEOUT_MS_MAX {
            return Err(config_error(format!(
                "timeout_ms must be 1 to {SMTP_TIMEOUT_MS_MAX}"
            )));
        }
        let from: Mailbox = options
            .from
            .parse()
            .map_err(|e| config_error(format!("from address: {e}")))?;
        let timeout = Duration::from_millis(options.timeout_ms);
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&options.host)
            .port(options.port.unwrap_or(options.tls.default_port()))
            .timeout(Some(timeout))
            .tls(tls(options)?);
        match (&options.username, &options.password) {
            (Some(user), Some(password)) => {
                builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
            }
            (None, None) => {}
            _ => return Err(config_error("username and password go together")),
        }
        Ok(SmtpNotifier {
            transport: builder.build(),
            from,
            timeout,
        })
    }

    fn message(&self, m: &OutgoingMessage) -> BankResult<Message> {
        let to: Mailbox = m
            .recipient
            .parse()
            .map_err(|_| BankError::validation("recipient", "not an email address"))?;
        let subject = m.subject.as_deref().unwrap_or("BankFlow");
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .multipart(
                MultiPart::alternative()
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_PLAIN)
                            .body(m.body.clone()),
                    )
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_HTML)
                            .body(html_body(subject, &m.body)),
                    ),
            )
            .map_err(BankError::internal)
    }
}

/// lettre's TLS setting for the options: the host's name is checked against its certificate.
fn tls(options: &SmtpOptions) -> BankResult<Tls> {
    if options.tls == TlsMode::None {
        return Ok(Tls::None);
    }
    let mut params = TlsParameters::builder(options.host.clone());
    if let Some(pem) = &options.ca_pem {
        let cert = Certificate::from_pem(pem).map_err(|e| config_error(format!("CA: {e}")))?;
        params = params.add_root_certificate(cert);
    }
    let params = params.build_rustls().map_err(config_error)?;
    Ok(match options.tls {
        TlsMode::StartTls => Tls::Required(params),
        _ => Tls::Wrapper(params),
    })
}

/// A failed delivery as the engine's error: a temporary refusal (4xx), a network failure or
/// a timeout is `transient`; a permanent refusal (5xx) is `internal`. Both are retried by the
/// engine's bounded notification backoff, then recorded `failed`.
fn delivery_error(e: &lettre::transport::smtp::Error) -> BankError {
    let reply = e
        .status()
        .map(|c| format!("smtp reply {c}"))
        .unwrap_or_else(|| "smtp".to_string());
    let text = format!("{reply}: {e}");
    if e.is_permanent() {
        BankError::Internal(text)
    } else {
        BankError::Transient(text)
    }
}

#[async_trait]
impl Notifier for SmtpNotifier {
    async fn send(&self, m: &OutgoingMessage) -> BankResult<()> {
        if m.channel != Channel::Email {
            return Err(BankError::internal(format!(
                "the SMTP notifier delivers email, not {}",
                m.channel
            )));
        }
        let message = self.message(m)?;
        // lettre bounds each command; this bounds the whole exchange.
        match tokio::time::timeout(self.timeout, self.transport.send(message)).await {
            Ok(Ok(_)) => {
                tracing::info!(channel = %m.channel, "notification delivered over SMTP");
                Ok(())
            }
            Ok(Err(e)) => {
                let err = delivery_error(&e);
                tracing::warn!(error = %err, "SMTP delivery failed");
                Err(err)
            }
            Err(_) => Err(BankError::Transient(format!(
                "smtp: no answer within {} ms",
                self.timeout.as_millis()
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_password() {
        let mut o = SmtpOptions::new("smtp.example.com", TlsMode::StartTls, "a@b.example");
        o.username = Some("apikey".into());
        o.password = Some("hunter2-very-secret".into());
        let shown = format!("{o:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("[redacted]") && shown.contains("apikey"));
    }

    #[tokio::test]
    async fn options_are_checked_before_any_connection() {
        let ok = SmtpOptions::new(
            "localhost",
            TlsMode::None,
            "BankFlow <no-reply@bank.example>",
        );
        assert!(SmtpNotifier::new(&ok).is_ok());
        let bad_from = SmtpOptions::new("localhost", TlsMode::None, "not an address");
        assert_eq!(
            SmtpNotifier::new(&bad_from).unwrap_err().code(),
            "validation_error"
        );
        let mut half_login = ok.clone();
        half_login.username = Some("u".into());
        assert!(SmtpNotifier::new(&half_login).is_err());
        let mut no_time = ok.clone();
        no_time.timeout_ms = 0;
        assert!(SmtpNotifier::new(&no_time).is_err());
        assert_eq!(TlsMode::parse("STARTTLS"), Ok(TlsMode::StartTls));
        assert_eq!(
            TlsMode::parse("implicit").map(TlsMode::default_port),
            Ok(465)
        );
        assert!(TlsMode::parse("ssl3").is_err());
    }
}
