//! Where the server's outgoing messages go: email over SMTP (`--smtp-host`, bankflow-smtp),
//! and, as an explicit development option only (`--mail-drop`), files in `<data>/mail` with
//! every secret (reset token, verification code) redacted. A channel with neither configured
//! refuses its messages, so they end `failed` in the history instead of vanishing.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use bankflow_core::notify::{
    render, ChannelRouter, Notifier, OutgoingMessage, REDACTED, TEMPLATES,
};
use bankflow_core::{BankError, BankResult};
use bankflow_smtp::{SmtpNotifier, SmtpOptions, TlsMode, SMTP_TIMEOUT_MS_DEFAULT};
use clap::Args;

use crate::jwt::write_private;
use crate::serve::CliError;

/// `bankflow serve` settings of the message channels.
#[derive(Debug, Clone, Args)]
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
        if self.mail_drop {
            tracing::warn!(
                "notifications: development mail drop in the data dir (secrets redacted)"
            );
            let drop: Arc<dyn Notifier> = Arc::new(MailDropNotifier::new(data_dir.join("mail"))?);
            router = router.or_else(&drop);
        }
        Ok(Arc::new(router))
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
