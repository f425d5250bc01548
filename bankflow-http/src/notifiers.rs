//! Where the server's outgoing messages go: email over SMTP (`--smtp-host`, bankflow-smtp),
//! SMS over the Twilio Messages API (`--twilio-account-sid`) and push over FCM HTTP v1
//! (`--fcm-project-id`, bankflow-notify-http), and, as an explicit development option only
//! (`--mail-drop`), files in `<data>/mail` with every secret (reset token, verification code)
//! redacted. A channel with none configured refuses its messages, so they end `failed` in
//! the history instead of vanishing.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use bankflow_core::notify::{
    render, ChannelRouter, Notifier, OutgoingMessage, REDACTED, TEMPLATES,
};
use bankflow_core::{BankError, BankResult};
use bankflow_notify_http::{
    FcmAuth, FcmConfig, FcmNotifier, TwilioConfig, TwilioNotifier, TwilioSender,
    DEFAULT_REQUEST_TIMEOUT_MS,
};
use bankflow_smtp::{SmtpNotifier, SmtpOptions, TlsMode, SMTP_TIMEOUT_MS_DEFAULT};
use clap::Args;

use crate::jwt::write_private;
use crate::serve::CliError;

/// The Twilio API every SMS goes to unless `--twilio-base-url` says otherwise.
pub const TWILIO_BASE_URL_DEFAULT: &str = "https://api.twilio.com";
/// The FCM API every push goes to unless `--fcm-base-url` says otherwise.
pub const FCM_BASE_URL_DEFAULT: &str = "https://fcm.googleapis.com";

/// `bankflow serve` settings of the message channels. `Debug` shows whether each secret is
/// set, never its value (the arguments end up in startup diagnostics).
#[derive(Clone, Args)]
pub struct NotifyArgs {
    /// SMTP relay host: selects SMTP for the email channel (e.g. smtp.sendgrid.net).
    #[arg(long, env = "BANKFLOW_SMTP_HOST", requires = "smtp_from")]
    pub smtp_host: Option<String>,
    /// SMTP port (default: 25 for none, 587 for starttls, 465 for implicit).
    #[arg(long, env = "BANKFLOW_SMTP_PORT")]
    pub smtp_port: Option<u16>,
    /// SMTP connection protection: none, starttls (required, no downgrade) or implicit (SMTPS).
    #[arg(long, env = "BANKFLOW_SMTP_TLS", default_value = "starttls", value_parser = TlsMode::parse)]
    pub smtp_tls: TlsMode,
    /// SMTP login (with --smtp-password).
    #[arg(long, env = "BANKFLOW_SMTP_USERNAME", requires = "smtp_password")]
    pub smtp_username: Option<String>,
    /// SMTP password (environment or secret store only; never logged).
    #[arg(
        long,
        env = "BANKFLOW_SMTP_PASSWORD",
        hide_env_values = true,
        requires = "smtp_username"
    )]
    pub smtp_password: Option<String>,
    /// The From: mailbox of every email, e.g. "BankFlow <no-reply@bank.example>".
    #[arg(long, env = "BANKFLOW_SMTP_FROM")]
    pub smtp_from: Option<String>,
    /// Bound on one email delivery (connect, TLS, login, data), in milliseconds.
    #[arg(long, env = "BANKFLOW_SMTP_TIMEOUT_MS", default_value_t = SMTP_TIMEOUT_MS_DEFAULT)]
    pub smtp_timeout_ms: u64,
    /// Extra root certificate (PEM) to trust for the relay (a private CA).
    #[arg(long, env = "BANKFLOW_SMTP_CA_FILE")]
    pub smtp_ca_file: Option<PathBuf>,
    /// Twilio account SID (AC...): selects Twilio for the SMS channel.
    #[arg(
        long,
        env = "BANKFLOW_TWILIO_ACCOUNT_SID",
        requires = "twilio_auth_token"
    )]
    pub twilio_account_sid: Option<String>,
    /// Twilio auth token (environment or secret store only; never logged).
    #[arg(
        long,
        env = "BANKFLOW_TWILIO_AUTH_TOKEN",
        hide_env_values = true,
        requires = "twilio_account_sid"
    )]
    pub twilio_auth_token: Option<String>,
    /// The sender of every SMS: a Twilio phone number (E.164) or alphanumeric sender id.
    #[arg(
        long,
        env = "BANKFLOW_TWILIO_FROM",
        conflicts_with = "twilio_messaging_service_sid"
    )]
    pub twilio_from: Option<String>,
    /// A Twilio Messaging Service (MG...) to send from instead of --twilio-from.
    #[arg(long, env = "BANKFLOW_TWILIO_MESSAGING_SERVICE_SID")]
    pub twilio_messaging_service_sid: Option<String>,
    /// Twilio API base URL (a test double or a regional edge).
    #[arg(long, env = "BANKFLOW_TWILIO_BASE_URL", default_value = TWILIO_BASE_URL_DEFAULT)]
    pub twilio_base_url: String,
    /// Bound on one Twilio request, in milliseconds.
    #[arg(long, env = "BANKFLOW_TWILIO_TIMEOUT_MS", default_value_t = DEFAULT_REQUEST_TIMEOUT_MS)]
    pub twilio_timeout_ms: u64,
    /// Firebase project id: selects FCM for the push channel (with a service-account file
    /// or an access token).
    #[arg(long, env = "BANKFLOW_FCM_PROJECT_ID")]
    pub fcm_project_id: Option<String>,
    /// Google service-account key (JSON) with the Firebase Cloud Messaging role; its access
    /// tokens are fetched and refreshed as needed.
    #[arg(
        long,
        env = "BANKFLOW_FCM_SERVICE_ACCOUNT_FILE",
        conflicts_with = "fcm_access_token"
    )]
    pub fcm_service_account_file: Option<PathBuf>,
    /// A ready OAuth access token for FCM instead of a key file (it expires: short runs and
    /// tests only; environment only, never logged).
    #[arg(long, env = "BANKFLOW_FCM_ACCESS_TOKEN", hide_env_values = true)]
    pub fcm_access_token: Option<String>,
    /// FCM API base URL (a test double).
    #[arg(long, env = "BANKFLOW_FCM_BASE_URL", default_value = FCM_BASE_URL_DEFAULT)]
    pub fcm_base_url: String,
    /// Where service-account assertions are exchanged for access tokens (default: the key
    /// file's `token_uri`).
    #[arg(long, env = "BANKFLOW_FCM_TOKEN_URL")]
    pub fcm_token_url: Option<String>,
    /// Bound on one FCM request (send or token exchange), in milliseconds.
    #[arg(long, env = "BANKFLOW_FCM_TIMEOUT_MS", default_value_t = DEFAULT_REQUEST_TIMEOUT_MS)]
    pub fcm_timeout_ms: u64,
    /// Development only: write messages of channels without a provider to <data-dir>/mail,
    /// secrets redacted. Off: such messages fail and show `failed` in the history.
    #[arg(long, env = "BANKFLOW_MAIL_DROP")]
    pub mail_drop: bool,
}

impl NotifyArgs {
    /// The server's notifier: the engine's [`ChannelRouter`] with SMTP for email when a host is
    /// set and the mail drop (when asked for) for every channel still without a provider; a
    /// channel with neither fails its sends, so a missing configuration shows in the history.
    pub fn notifier(&self, data_dir: &Path) -> Result<Arc<dyn Notifier>, CliError> {
        let mut router = ChannelRouter::default();
        if let Some(options) = self.smtp_options()? {
            tracing::info!(host = %options.host, tls = ?options.tls, "email: SMTP");
            router.email = Some(Arc::new(SmtpNotifier::new(&options)?));
        }
        if let Some(config) = self.twilio_config()? {
            tracing::info!(base_url = %config.base_url, "sms: Twilio");
            router.sms = Some(Arc::new(TwilioNotifier::new(config)?));
        }
        if let Some(config) = self.fcm_config()? {
            tracing::info!(base_url = %config.base_url, project = %config.project_id, "push: FCM");
            router.push = Some(Arc::new(FcmNotifier::new(config)?));
        }
        if self.mail_drop {
            tracing::warn!(
                "notifications: development mail drop in the data dir (secrets redacted)"
            );
            let drop: Arc<dyn Notifier> = Arc::new(MailDropNotifier::new(data_dir.join("mail"))?);
            router = router.or_else(&drop);
        }
        Ok(Arc::new(router))
    }

    fn twilio_config(&self) -> Result<Option<TwilioConfig>, CliError> {
        let (Some(account_sid), Some(auth_token)) =
            (&self.twilio_account_sid, &self.twilio_auth_token)
        else {
            return Ok(None);
        };
        let sender =
            match (&self.twilio_from, &self.twilio_messaging_service_sid) {
                (Some(from), None) => TwilioSender::From(from.clone()),
                (None, Some(service)) => TwilioSender::MessagingService(service.clone()),
                _ => return Err(
                    "--twilio-account-sid needs --twilio-from or --twilio-messaging-service-sid"
                        .into(),
                ),
            };
        Ok(Some(TwilioConfig {
            base_url: self.twilio_base_url.clone(),
            account_sid: account_sid.clone(),
            auth_token: auth_token.clone(),
            sender,
            request_timeout_ms: self.twilio_timeout_ms,
        }))
    }

    fn fcm_config(&self) -> Result<Option<FcmConfig>, CliError> {
        let Some(project_id) = &self.fcm_project_id else {
            return Ok(None);
        };
        let mut auth = match (&self.fcm_service_account_file, &self.fcm_access_token) {
            (Some(path), None) => FcmAuth::from_service_account_file(path)?,
            (None, Some(token)) => FcmAuth::Static(token.clone()),
            _ => {
                return Err(
                    "--fcm-project-id needs --fcm-service-account-file or --fcm-access-token"
                        .into(),
                )
            }
        };
        if let (FcmAuth::ServiceAccount(key), Some(url)) = (&mut auth, &self.fcm_token_url) {
            key.token_uri = url.clone();
        }
        Ok(Some(FcmConfig {
            base_url: self.fcm_base_url.clone(),
            project_id: project_id.clone(),
            auth,
            request_timeout_ms: self.fcm_timeout_ms,
        }))
    }

    fn smtp_options(&self) -> Result<Option<SmtpOptions>, CliError> {
        let Some(host) = &self.smtp_host else {
            return Ok(None);
        };
        let from = self
            .smtp_from
            .clone()
            .ok_or("--smtp-host needs --smtp-from")?;
        let mut o = SmtpOptions::new(host.clone(), self.smtp_tls, from);
        o.port = self.smtp_port;
        o.username = self.smtp_username.clone();
        o.password = self.smtp_password.clone();
        o.timeout_ms = self.smtp_timeout_ms;
        o.ca_pem = match &self.smtp_ca_file {
            Some(p) => {
                Some(std::fs::read(p).map_err(|e| format!("--smtp-ca-file {}: {e}", p.display()))?)
            }
            None => None,
        };
        Ok(Some(o))
    }
}

impl std::fmt::Debug for NotifyArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Secrets show as set or not, nothing more.
        let set = |s: &Option<String>| if s.is_some() { "<set>" } else { "<unset>" };
        f.debug_struct("NotifyArgs")
            .field("smtp_host", &self.smtp_host)
            .field("smtp_port", &self.smtp_port)
            .field("smtp_tls", &self.smtp_tls)
            .field("smtp_username", &self.smtp_username)
            .field("smtp_password", &set(&self.smtp_password))
            .field("smtp_from", &self.smtp_from)
            .field("smtp_timeout_ms", &self.smtp_timeout_ms)
            .field("smtp_ca_file", &self.smtp_ca_file)
            .field("twilio_account_sid", &self.twilio_account_sid)
            .field("twilio_auth_token", &set(&self.twilio_auth_token))
            .field("twilio_from", &self.twilio_from)
            .field(
                "twilio_messaging_service_sid",
                &self.twilio_messaging_service_sid,
            )
            .field("twilio_base_url", &self.twilio_base_url)
            .field("twilio_timeout_ms", &self.twilio_timeout_ms)
            .field("fcm_project_id", &self.fcm_project_id)
            .field("fcm_service_account_file", &self.fcm_service_account_file)
            .field("fcm_access_token", &set(&self.fcm_access_token))
            .field("fcm_base_url", &self.fcm_base_url)
            .field("fcm_token_url", &self.fcm_token_url)
            .field("fcm_timeout_ms", &self.fcm_timeout_ms)
            .field("mail_drop", &self.mail_drop)
            .finish()
    }
}

/// Most messages kept in the mail drop; older files are removed first.
pub const MAIL_DROP_KEEP_MAX: usize = 10_000;

/// Delivers messages as files in a mail-drop directory (one file per message, mode 0600),
/// the way development mail backends do. Secrets never reach the disk: the secret variable of
/// a secret-bearing template is written `[redacted]` (see [`redact_secrets`]).
#[derive(Debug, Clone)]
pub struct MailDropNotifier {
    dir: PathBuf,
}

impl MailDropNotifier {
    /// A mail drop under `dir` (created if missing).
    pub fn new(dir: PathBuf) -> std::io::Result<MailDropNotifier> {
        std::fs::create_dir_all(&dir)?;
        Ok(MailDropNotifier { dir })
    }
}

#[async_trait]
impl Notifier for MailDropNotifier {
    async fn send(&self, m: &OutgoingMessage) -> BankResult<()> {
        let name = format!(
            "{}-{}.txt",
            chrono::Utc::now().format("%Y%m%dT%H%M%S%.6fZ"),
            uuid::Uuid::new_v4().simple()
        );
        let text = format!(
            "Channel: {}\nTo: {}\nSubject: {}\n\n{}\n",
            m.channel,
            m.recipient,
            m.subject.as_deref().unwrap_or(""),
            redact_secrets(m)
        );
        let dir = self.dir.clone();
        tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            let mut files: Vec<_> = std::fs::read_dir(&dir)?
                .filter_map(|e| e.ok())
                .map(|e| e.path())
                .collect();
            if files.len() >= MAIL_DROP_KEEP_MAX {
                files.sort();
                for old in files.iter().take(files.len() + 1 - MAIL_DROP_KEEP_MAX) {
                    let _ = std::fs::remove_file(old);
                }
            }
            write_private(&dir.join(name), text.as_bytes())
        })
        .await
        .map_err(BankError::internal)?
        .map_err(|e| BankError::internal(format!("mail drop: {}", e.kind())))?;
        tracing::info!(channel = %m.channel, "notification delivered to the mail drop");
        Ok(())
    }
}

/// The body of `m` fit for disk: when it is a secret-bearing template's message (known by
/// its subject), that template's secret variable is replaced by `[redacted]`; a body that
/// carries such a subject but not the template's wording is replaced whole (when unsure,
/// keep nothing). Other bodies are returned as they are.
pub fn redact_secrets(m: &OutgoingMessage) -> String {
    let subject = m.subject.as_deref().unwrap_or_default();
    for t in TEMPLATES {
        let Some(secret) = t.secret_var else { continue };
        if render(t.subject, &Default::default()) != subject {
            continue;
        }
        return redact_var(t.body, secret, &m.body).unwrap_or_else(|| REDACTED.to_string());
    }
    m.body.clone()
}

/// Matches `text` against `template` (`{{name}}` placeholders, each value running up to the
/// next literal part) and returns it with the value of `secret` replaced; `None` when the
/// text does not follow the template.
fn redact_var(template: &str, secret: &str, text: &str) -> Option<String> {
    // Alternating literal / variable parts: lit, var, lit, var, ..., lit.
    let mut parts: Vec<&str> = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        let end = rest[start..].find("}}")? + start;
        parts.push(&rest[..start]);
        parts.push(rest[start + 2..end].trim());
        rest = &rest[end + 2..];
    }
    parts.push(rest);
    let mut out = String::with_capacity(text.len());
    let mut pos = 0;
    for (i, part) in parts.iter().enumerate() {
        if i % 2 == 0 {
            if !text[pos..].starts_with(part) {
                return None;
            }
            out.push_str(part);
            pos += part.len();
            continue;
        }
        let next = parts.get(i + 1).copied().unwrap_or_default();
        let len = if next.is_empty() && i + 2 >= parts.len() {
            text.len() - pos
        } else {
            text[pos..].find(next)?
        };
        out.push_str(if *part == secret {
            REDACTED
        } else {
            &text[pos..pos + len]
        });
        pos += len;
    }
    (pos == text.len()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bankflow_core::notify::Channel;

    fn msg(subject: &str, body: &str) -> OutgoingMessage {
        OutgoingMessage {
            channel: Channel::Email,
            recipient: "a@example.com".into(),
            subject: Some(subject.into()),
            body: body.into(),
        }
    }

    #[derive(clap::Parser)]
    struct Cli {
        #[command(flatten)]
        notify: NotifyArgs,
    }

    fn args(argv: &[&str]) -> NotifyArgs {
        <Cli as clap::Parser>::try_parse_from(std::iter::once("serve").chain(argv.iter().copied()))
            .map(|c| c.notify)
            .unwrap_or_else(|e| panic!("{argv:?}: {e}"))
    }

    #[test]
    fn provider_flags_select_twilio_and_fcm_and_debug_hides_their_secrets() {
        let dir = tempfile::tempdir().unwrap();
        let a = args(&[
            "--twilio-account-sid",
            "AC123",
            "--twilio-auth-token",
            "twilio-secret-9",
            "--twilio-messaging-service-sid",
            "MG1",
            "--fcm-project-id",
            "p-1",
            "--fcm-access-token",
            "ya29.fcm-secret-9",
            "--smtp-password",
            "smtp-secret-9",
            "--smtp-username",
            "u",
        ]);
        let shown = format!("{a:?}");
        for secret in ["twilio-secret-9", "ya29.fcm-secret-9", "smtp-secret-9"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert!(
            shown.contains("AC123") && shown.contains("<set>"),
            "{shown}"
        );
        let twilio = a.twilio_config().unwrap().unwrap();
        assert_eq!(twilio.sender, TwilioSender::MessagingService("MG1".into()));
        assert_eq!(twilio.base_url, TWILIO_BASE_URL_DEFAULT);
        let fcm = a.fcm_config().unwrap().unwrap();
        assert_eq!(fcm.base_url, FCM_BASE_URL_DEFAULT);
        assert!(!format!("{fcm:?}").contains("fcm-secret"));
        assert!(a.notifier(dir.path()).is_ok());
    }

    #[test]
    fn a_provider_without_its_sender_or_credentials_is_refused() {
        let no_sender = args(&["--twilio-account-sid", "AC1", "--twilio-auth-token", "t"]);
        assert!(no_sender.twilio_config().is_err());
        let no_auth = args(&["--fcm-project-id", "p-1"]);
        assert!(no_auth.fcm_config().is_err());
        assert!(args(&[]).twilio_config().unwrap().is_none());
        assert!(args(&[]).fcm_config().unwrap().is_none());
        let both = <Cli as clap::Parser>::try_parse_from([
            "serve",
            "--twilio-from",
            "+15550001111",
            "--twilio-messaging-service-sid",
            "MG1",
        ]);
        assert!(both.is_err(), "one sender only");
    }

    #[test]
    fn the_token_url_flag_overrides_the_key_files() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("sa.json");
        let json = serde_json::json!({"client_email": "a@p.iam.gserviceaccount.com",
            "private_key": bankflow_notify_http::testing::rsa_private_key_pem(),
            "token_uri": "https://oauth2.googleapis.com/token"});
        std::fs::write(&file, json.to_string()).unwrap();
        let path = file.to_str().unwrap();
        let a = args(&[
            "--fcm-project-id",
            "p-1",
            "--fcm-service-account-file",
            path,
            "--fcm-token-url",
            "http://127.0.0.1:9/token",
        ]);
        match a.fcm_config().unwrap().unwrap().auth {
            FcmAuth::ServiceAccount(k) => assert_eq!(k.token_uri, "http://127.0.0.1:9/token"),
            FcmAuth::Static(_) => panic!("a key file is a service account"),
        }
    }

    #[test]
    fn every_secret_template_is_redacted() {
        for t in TEMPLATES.iter().filter(|t| t.secret_var.is_some()) {
            let vars = [
                ("code", "493817"),
                ("token", "tok_Zq8.secret-value"),
                ("minutes", "30"),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
            let m = msg(&render(t.subject, &vars), &render(t.body, &vars));
            let kept = redact_secrets(&m);
            assert!(kept.contains(REDACTED), "{}: {kept}", t.id);
            let secret = if t.secret_var == Some("code") {
                "493817"
            } else {
                "tok_Zq8"
            };
            assert!(!kept.contains(secret), "{}: {kept}", t.id);
            assert!(kept.contains("30"), "the rest stays readable: {kept}");
        }
    }

    #[test]
    fn unknown_wording_under_a_secret_subject_is_dropped_whole() {
        let m = msg("Reset your BankFlow password", "token 1234 somewhere");
        assert_eq!(redact_secrets(&m), REDACTED);
        let plain = msg("Welcome to BankFlow", "Hello a@example.com");
        assert_eq!(redact_secrets(&plain), "Hello a@example.com");
    }

    #[tokio::test]
    async fn the_mail_drop_writes_no_secret() {
        let dir = tempfile::tempdir().unwrap();
        let drop = MailDropNotifier::new(dir.path().join("mail")).unwrap();
        let t = bankflow_core::notify::template("password_reset").unwrap();
        let vars = [("token", "s3cr3t-reset-token"), ("minutes", "30")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        drop.send(&msg(t.subject, &render(t.body, &vars)))
            .await
            .unwrap();
        let files: Vec<_> = std::fs::read_dir(dir.path().join("mail"))
            .unwrap()
            .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
            .collect();
        assert_eq!(files.len(), 1);
        assert!(!files[0].contains("s3cr3t-reset-token"), "{}", files[0]);
        assert!(files[0].contains(REDACTED));
    }
}
