//! Notification templates: one per event or security message, with `{{variable}}`
//! placeholders. Security templates ignore user preferences (they cannot be opted out of).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::error::{BankError, BankResult};
use crate::notify::Channel;

/// Placeholder that stands in for a secret in stored bodies.
pub const REDACTED: &str = "[redacted]";

/// A message template.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Template {
    /// Id (the history's `templateId`).
    pub id: &'static str,
    /// Preference category: the event type it answers, or `security`.
    pub category: &'static str,
    /// Security messages are always sent, whatever the preferences.
    pub security: bool,
    /// Channels it goes out on (SMS only when the user has a phone).
    pub channels: &'static [Channel],
    /// Subject / push title.
    pub subject: &'static str,
    /// Body with `{{variable}}` placeholders.
    pub body: &'static str,
    /// The variable holding a secret (stored redacted, never retried from storage).
    pub secret_var: Option<&'static str>,
}

const E: Channel = Channel::Email;
const S: Channel = Channel::Sms;
const P: Channel = Channel::Push;
const I: Channel = Channel::InApp;

/// Every template the engine ships.
pub const TEMPLATES: &[Template] = &[
    Template {
        id: "welcome",
        category: "user.registered",
        security: false,
        channels: &[E, I],
        subject: "Welcome to BankFlow",
        body: "Hello {{email}}, welcome to BankFlow. Complete your profile to open your first account.",
        secret_var: None,
    },
    Template {
        id: "transaction_completed",
        category: "transaction.completed",
        security: false,
        channels: &[E, P, I],
        subject: "Transaction completed",
        body: "Your {{transaction_type}} of {{amount}} {{currency}} ({{direction}}) was completed. Reference {{transaction_ref}}.",
        secret_var: None,
    },
    Template {
        id: "kyc_approved",
        category: "kyc.approved",
        security: false,
        channels: &[E, I],
        subject: "Your identity is verified",
        body: "Good news {{first_name}}: your identity verification was approved. Your accounts are ready to use.",
        secret_var: None,
    },
    Template {
        id: "account_created",
        category: "account.created",
        security: false,
        channels: &[E, I],
        subject: "Your new account",
        body: "Your {{account_type}} account {{account_number}} ({{currency}}) is open.",
        secret_var: None,
    },
    Template {
        id: "verify_email",
        category: "security",
        security: true,
        channels: &[E],
        subject: "Your BankFlow verification code",
        body: "Your email verification code is {{code}}. It expires in {{minutes}} minutes.",
        secret_var: Some("code"),
    },
    Template {
        id: "verify_phone",
        category: "security",
        security: true,
        channels: &[S],
        subject: "BankFlow code",
        body: "BankFlow code: {{code}} (expires in {{minutes}} min)",
        secret_var: Some("code"),
    },
    Template {
        id: "password_reset",
        category: "security",
        security: true,
        channels: &[E],
        subject: "Reset your BankFlow password",
        body: "Use this token to reset your password within {{minutes}} minutes: {{token}}. If you did not ask, ignore this message.",
        secret_var: Some("token"),
    },
    Template {
        id: "new_login",
        category: "security",
        security: true,
        channels: &[E, I],
        subject: "New sign-in to your account",
        body: "A new sign-in to your account happened at {{time}} from {{ip}}. If this was not you, reset your password.",
        secret_var: None,
    },
    Template {
        id: "mfa_changed",
        category: "security",
        security: true,
        channels: &[E, I],
        subject: "Two-factor authentication {{state}}",
        body: "Two-factor authentication was {{state}} on your account at {{time}}.",
        secret_var: None,
    },
    Template {
        id: "password_changed",
        category: "security",
        security: true,
        channels: &[E, I],
        subject: "Your password was changed",
        body: "Your password was changed at {{time}} and every session was signed out.",
        secret_var: None,
    },
    Template {
        id: "account_locked",
        category: "security",
        security: true,
        channels: &[E, I],
        subject: "Your account is locked",
        body: "After repeated failed sign-ins your account is locked until {{until}}. Nobody got in. To sign in now, reset your password at {{reset_path}}.",
        secret_var: None,
    },
    Template {
        id: "signup_attempt",
        category: "security",
        security: true,
        channels: &[E, I],
        subject: "Someone tried to sign up with your {{contact}}",
        body: "At {{time}} someone tried to open a new account with your {{contact}}, which already belongs to your account. Nothing changed. If it was you, sign in instead or reset your password at {{reset_path}}.",
        secret_var: None,
    },
];

/// A template by id.
pub fn template(id: &str) -> BankResult<&'static Template> {
    TEMPLATES
        .iter()
        .find(|t| t.id == id)
        .ok_or_else(|| BankError::internal(format!("unknown template {id}")))
}

/// Fills `{{name}}` placeholders; unknown placeholders are left as they are so a missing
/// variable is visible rather than silently empty.
pub fn render(text: &str, vars: &BTreeMap<String, String>) -> String {
    let mut out = String::with_capacity(text.len() + 32);
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find("}}") {
            Some(end) => {
                let name = after[..end].trim();
                match vars.get(name) {
                    Some(v) => out.push_str(v),
                    None => out.push_str(&rest[start..start + 2 + end + 2]),
                }
                rest = &after[end + 2..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_variables_and_keeps_unknown_ones() {
        let mut v = BTreeMap::new();
        v.insert("a".to_string(), "1".to_string());
        assert_eq!(render("x {{a}} y {{ b }} z {{", &v), "x 1 y {{ b }} z {{");
        assert!(template("welcome").is_ok());
        assert!(template("nope").is_err());
        for t in TEMPLATES {
            assert_eq!(t.security, t.category == "security", "{}", t.id);
        }
    }
}
