//! Acceptance (issue 14): a password reset through `bankflow serve` configured with SMTP
//! delivers a mail to a real SMTP server (aiosmtpd) whose token resets the password, and no
//! file under the data dir (nor the log) holds that token.

use std::path::Path;
use std::time::Duration;

use axum::http::{Method, StatusCode};
use bankflow_smtp::testserver::{ReceivedMail, ServerConfig, SmtpTestServer};
use serde_json::json;

use crate::{Client, Server};

const PASSWORD: &str = "correct horse battery staple smtp";
const NEW_PASSWORD: &str = "a brand new passphrase after reset";

/// The token of a password-reset mail's text body.
fn reset_token(m: &ReceivedMail) -> String {
    let text = m.field("text");
    let after = text
        .split("minutes: ")
        .nth(1)
        .unwrap_or_else(|| panic!("no token in {text:?}"));
    after.split('.').next().unwrap().trim().to_string()
}

/// Every file under `dir` whose bytes contain `needle`.
fn files_containing(dir: &Path, needle: &[u8]) -> Vec<String> {
    let mut hits = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if std::fs::read(&p)
                .unwrap()
                .windows(needle.len())
                .any(|w| w == needle)
            {
                hits.push(p.display().to_string());
            }
        }
    }
    hits
}

#[tokio::test]
async fn a_password_reset_is_mailed_over_smtp_and_no_file_keeps_the_token() {
    let mail = tempfile::tempdir().unwrap();
    let smtp = SmtpTestServer::start(
        &ServerConfig {
            login: Some(("bankflow".into(), "relay-secret-1".into())),
            ..ServerConfig::default()
        },
        mail.path(),
    )
    .unwrap();
    let port = smtp.port.to_string();
    // The development mail drop is on too: it must redact, never write the token.
    let server = Server::start(
        &["--smtp-tls", "none", "--mail-drop"],
        &[
            ("BANKFLOW_SMTP_HOST", "127.0.0.1"),
            ("BANKFLOW_SMTP_PORT", &port),
            ("BANKFLOW_SMTP_FROM", "BankFlow <no-reply@bank.example>"),
            ("BANKFLOW_SMTP_USERNAME", "bankflow"),
            ("BANKFLOW_SMTP_PASSWORD", "relay-secret-1"),
        ],
    );
    let c = Client { port: server.port };
    let email = "reset.me@example.com";
    let r = c
        .call(
            Method::POST,
            "/api/v1/auth/register",
            None,
            Some(json!({"email": email, "password": PASSWORD, "phone": "+15550100777"})),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let r = c
        .call(
            Method::POST,
            "/api/v1/auth/forgot",
            None,
            Some(json!({"email": email})),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text());

    let reset = loop_for_reset(&smtp).await;
    assert_eq!(reset.field("to"), email);
    assert_eq!(reset.field("login"), "bankflow");
    assert!(reset.field("html").contains("<html>"), "an HTML part too");
    let token = reset_token(&reset);
    assert_eq!(token.len(), 64, "{token}");

    let r = c
        .call(
            Method::POST,
            "/api/v1/auth/reset",
            None,
            Some(json!({"token": token, "password": NEW_PASSWORD})),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
    let login = |password: &'static str| {
        c.call(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"email": email, "password": password})),
            &[],
        )
    };
    assert_eq!(login(NEW_PASSWORD).await.status, StatusCode::OK);
    assert_eq!(login(PASSWORD).await.status, StatusCode::UNAUTHORIZED);

    let data = server.dir.path().join("data");
    // Email went over SMTP; the phone's verification code went to the mail drop, redacted.
    let drop: Vec<String> = std::fs::read_dir(data.join("mail"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    assert!(
        drop.iter()
            .any(|m| m.contains("Channel: sms") && m.contains("BankFlow code: [redacted]")),
        "{drop:?}"
    );
    assert!(
        drop.iter().all(|m| !m.contains("Channel: email")),
        "{drop:?}"
    );
    assert_eq!(
        files_containing(&data, token.as_bytes()),
        Vec::<String>::new()
    );
    assert!(
        !server.log_text().contains(&token),
        "the log holds the token"
    );
    assert!(!server.log_text().contains("relay-secret-1"));
}

/// The reset mail (registration also sends a verification-code mail first).
async fn loop_for_reset(smtp: &SmtpTestServer) -> ReceivedMail {
    for _ in 0..100 {
        if let Some(m) = smtp
            .received()
            .into_iter()
            .find(|m| m.field("subject") == "Reset your BankFlow password")
        {
            return m;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "no reset mail reached the SMTP server: {:?}",
        smtp.received()
    );
}
