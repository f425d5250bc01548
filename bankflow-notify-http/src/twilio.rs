//! SMS through the Twilio Messages API:
//! `POST {base}/2010-04-01/Accounts/{AccountSid}/Messages.json`, form-encoded `To`, `From`
//! (or `MessagingServiceSid`) and `Body`, HTTP basic auth `AccountSid:AuthToken`; 201 = queued.

use async_trait::async_trait;
use bankflow_core::{BankError, BankResult, Channel, Notifier, OutgoingMessage};

use crate::{client, read_bounded, trim_base, DeliveryError, DeliveryErrorKind};

/// Who the SMS is sent from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TwilioSender {
    /// A Twilio phone number (E.164) or alphanumeric sender id: the `From` field.
    From(String),
    /// A Messaging Service (`MG...`): the `MessagingServiceSid` field.
    MessagingService(String),
}

/// Twilio configuration.
#[derive(Clone)]
pub struct TwilioConfig {
    /// API base, `https://api.twilio.com` in production.
    pub base_url: String,
    /// Account SID (`AC...`).
    pub account_sid: String,
    /// Auth token (a secret).
    pub auth_token: String,
    /// Sender.
    pub sender: TwilioSender,
    /// Whole-request timeout.
    pub request_timeout_ms: u64,
}

impl std::fmt::Debug for TwilioConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TwilioConfig")
            .field("base_url", &self.base_url)
            .field("account_sid", &self.account_sid)
            .field("auth_token", &"<redacted>")
            .field("sender", &self.sender)
            .field("request_timeout_ms", &self.request_timeout_ms)
            .finish()
    }
}

/// The SMS notifier.
#[derive(Debug)]
pub struct TwilioNotifier {
    config: TwilioConfig,
    http: reqwest::Client,
}

impl TwilioNotifier {
    /// A notifier for `config`.
    pub fn new(config: TwilioConfig) -> BankResult<Self> {
        if config.account_sid.is_empty() || config.auth_token.is_empty() {
            return Err(BankError::validation(
                "twilio",
                "an account SID and an auth token are required",
            ));
        }
        let http = client(config.request_timeout_ms)?;
        Ok(TwilioNotifier { config, http })
    }

    /// Sends one SMS; the classified outcome.
    pub async fn send_sms(&self, to: &str, body: &str) -> Result<(), DeliveryError> {
        let c = &self.config;
        let url = format!(
            "{}/2010-04-01/Accounts/{}/Messages.json",
            trim_base(&c.base_url),
            c.account_sid
        );
        let sender = match &c.sender {
            TwilioSender::From(f) => ("From", f.as_str()),
            TwilioSender::MessagingService(s) => ("MessagingServiceSid", s.as_str()),
        };
        let form = [("To", to), sender, ("Body", body)];
        let resp = self
            .http
            .post(url)
            .basic_auth(&c.account_sid, Some(&c.auth_token))
            .form(&form)
            .send()
            .await
            .map_err(|e| DeliveryError::network("twilio", &e))?;
        let status = resp.status().as_u16();
        if status == 201 || status == 200 {
            return Ok(());
        }
        let body = read_bounded("twilio", resp).await?;
        Err(DeliveryError::from_status(
            "twilio",
            status,
            &twilio_detail(&body),
        ))
    }
}

/// Twilio's error body: `{"code": 21211, "message": "...", "status": 400}`.
fn twilio_detail(body: &[u8]) -> String {
    let v: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    match (v.get("code"), v.get("message").and_then(|m| m.as_str())) {
        (Some(code), Some(m)) => format!("error {code}: {m}"),
        (None, Some(m)) => m.to_string(),
        _ => "no error detail".to_string(),
    }
}

#[async_trait]
impl Notifier for TwilioNotifier {
    async fn send(&self, message: &OutgoingMessage) -> BankResult<()> {
        if message.channel != Channel::Sms {
            return Err(BankError::validation("channel", "twilio delivers sms only"));
        }
        let r = self.send_sms(&message.recipient, &message.body).await;
        if let Err(e) = &r {
            // Never the number or the body: the status and Twilio's reason only.
            tracing::warn!(status = ?e.status, retryable = e.kind == DeliveryErrorKind::Retryable, "twilio sms refused");
        }
        r.map_err(BankError::from)
    }
}
