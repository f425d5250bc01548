//! The SMTP notifier against a real SMTP server (PyPI aiosmtpd) started by each test: text +
//! HTML mail with a login, STARTTLS and implicit TLS with a private CA, and a refusing relay
//! driving the engine's retries with backoff to `failed`.

use std::sync::Arc;
use std::time::Duration;

use bankflow_core::notify::{NotificationStatus, NOTIFY_ATTEMPTS_MAX};
use bankflow_core::*;
use bankflow_smtp::testserver::{ServerConfig, SmtpTestServer};
use bankflow_smtp::{SmtpNotifier, SmtpOptions, TlsMode};
use chrono::{TimeZone, Utc};

const FROM: &str = "BankFlow <no-reply@bank.example>";

fn options(server: &SmtpTestServer, tls: TlsMode) -> SmtpOptions {
    let mut o = SmtpOptions::new("127.0.0.1", tls, FROM);
    o.port = Some(server.port);
    o.timeout_ms = 5_000;
    o
}

fn email(to: &str, subject: &str, body: &str) -> OutgoingMessage {
    OutgoingMessage {
        channel: Channel::Email,
        recipient: to.into(),
        subject: Some(subject.into()),
        body: body.into(),
    }
}

#[tokio::test]
async fn sends_text_and_html_with_a_login() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    let server = SmtpTestServer::start(
        &ServerConfig {
            login: Some(("bankflow".into(), "relay-pass-1".into())),
            ..ServerConfig::default()
        },
        &dir,
    )
    .unwrap();
    let mut o = options(&server, TlsMode::None);
    o.username = Some("bankflow".into());
    o.password = Some("relay-pass-1".into());
    let n = SmtpNotifier::new(&o).unwrap();
    let body = "Your transfer of 12.50 USD <to Bob & co> was completed.";
    n.send(&email("alice@example.com", "Transaction completed", body))
        .await
        .unwrap();
    let got = server.wait_for(1, Duration::from_secs(5)).await;
    assert_eq!(got.len(), 1);
    let m = &got[0];
    assert_eq!(m.field("content_type"), "multipart/alternative");
    assert_eq!(m.field("subject"), "Transaction completed");
    assert_eq!(m.field("from"), FROM);
    assert_eq!(m.field("to"), "alice@example.com");
    assert_eq!(m.field("mail_from"), "no-reply@bank.example");
    assert_eq!(m.meta["rcpt_tos"][0], "alice@example.com");
    assert_eq!(
        m.field("login"),
        "bankflow",
        "authenticated as the configured user"
    );
    assert_eq!(m.field("text").trim_end(), body);
    assert!(m
        .field("html")
        .contains("<p>Your transfer of 12.50 USD &lt;to Bob &amp; co&gt; was completed.</p>"));

    // A wrong password is refused by the server: an error, nothing delivered.
    o.password = Some("wrong".into());
    let bad = SmtpNotifier::new(&o).unwrap();
    assert!(bad.send(&email("a@example.com", "s", "b")).await.is_err());
    assert_eq!(server.received().len(), 1);
    // Other channels are not this adapter's.
    let sms = OutgoingMessage {
        channel: Channel::Sms,
        ..email("+15550100", "s", "b")
    };
    assert!(n.send(&sms).await.is_err());
}

#[tokio::test]
async fn starttls_and_implicit_tls_check_the_relay_certificate() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).unwrap();
    let (cert_path, key_path) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert_path, cert.cert.pem()).unwrap();
    std::fs::write(&key_path, cert.signing_key.serialize_pem()).unwrap();
    for (mode, tls) in [
        ("starttls", TlsMode::StartTls),
        ("implicit", TlsMode::Implicit),
    ] {
        let server = SmtpTestServer::start(
            &ServerConfig {
                tls: Some((mode, cert_path.clone(), key_path.clone())),
                login: Some(("u".into(), "p".into())),
                ..ServerConfig::default()
            },
            &dir.join(mode),
        )
        .unwrap();
        let mut o = options(&server, tls);
        (o.username, o.password) = (Some("u".into()), Some("p".into()));
        // Without the private CA the certificate is refused: nothing is sent in the clear.
        let untrusted = SmtpNotifier::new(&o).unwrap();
        assert!(untrusted
            .send(&email("a@example.com", "s", "b"))
            .await
            .is_err());
        o.ca_pem = Some(cert.cert.pem().into_bytes());
        let n = SmtpNotifier::new(&o).unwrap();
        n.send(&email("a@example.com", "Over TLS", "hello"))
            .await
            .unwrap_or_else(|e| panic!("{mode}: {e}"));
        let got = server.wait_for(1, Duration::from_secs(5)).await;
        assert_eq!(got.len(), 1, "{mode}");
        assert_eq!(got[0].meta["tls"], true, "{mode}");
        assert_eq!(got[0].field("login"), "u");
    }
    // A plain-text client is refused by a relay that requires STARTTLS.
    let server = SmtpTestServer::start(
        &ServerConfig {
            tls: Some(("starttls", cert_path.clone(), key_path.clone())),
            ..ServerConfig::default()
        },
        &dir.join("plain-refused"),
    )
    .unwrap();
    let plain = SmtpNotifier::new(&options(&server, TlsMode::None)).unwrap();
    assert!(plain.send(&email("a@example.com", "s", "b")).await.is_err());
}

#[tokio::test]
async fn unreachable_relay_is_a_transient_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut o = SmtpOptions::new("127.0.0.1", TlsMode::None, FROM);
    o.port = Some(port);
    let e = SmtpNotifier::new(&o)
        .unwrap()
        .send(&email("a@example.com", "s", "b"))
        .await
        .unwrap_err();
    assert_eq!(e.code(), "transient", "{e}");
}

#[tokio::test]
async fn a_refusing_relay_is_retried_with_backoff_then_failed() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    let server = SmtpTestServer::start(
        &ServerConfig {
            refuse: Some("451 4.3.0 mailbox busy, try later".into()),
            ..ServerConfig::default()
        },
        &dir,
    )
    .unwrap();
    let clock = Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap(),
    ));
    let notifier = SmtpNotifier::new(&options(&server, TlsMode::None)).unwrap();
    let bank = Bank::builder(Arc::new(MemoryStore::new()))
        .runtime(Arc::new(TokioRuntime))
        .clock(clock.clone())
        .notifier(Arc::new(notifier))
        .build();
    let identity = bank.identity();
    let admin_id = identity
        .ensure_admin("ops@bank.example", "bootstrap-admin-passphrase")
        .await
        .unwrap()
        .unwrap();
    let admin = identity.actor_for_user(admin_id).await.unwrap();
    let n = bank
        .notifications()
        .send_direct_notification(
            &admin,
            admin_id,
            Channel::Email,
            "Maintenance",
            "The bank is closed on Sunday.",
        )
        .await
        .unwrap();
    let history = || async {
        bank.notifications()
            .list(&admin, None, 10)
            .await
            .unwrap()
            .into_iter()
            .find(|r| r.id == n.id)
            .unwrap()
    };
    let mut delay_s = 30;
    for attempt in 1..=NOTIFY_ATTEMPTS_MAX {
        let r = history().await;
        assert_eq!(r.attempts, attempt);
        assert!(
            r.last_error.as_deref().unwrap_or_default().contains("451"),
            "{:?}",
            r.last_error
        );
        if attempt == NOTIFY_ATTEMPTS_MAX {
            assert_eq!(
                (r.status, r.next_attempt_at),
                (NotificationStatus::Failed, None)
            );
            break;
        }
        assert_eq!(r.status, NotificationStatus::Pending);
        // Backoff: not retried before its time, then retried once it has come.
        assert_eq!(
            r.next_attempt_at,
            Some(clock.now() + chrono::Duration::seconds(delay_s))
        );
        clock.advance(chrono::Duration::seconds(delay_s - 1));
        bank.notifications().retry_notifications().await.unwrap();
        assert_eq!(
            history().await.attempts,
            attempt,
            "retried before its backoff"
        );
        clock.advance(chrono::Duration::seconds(1));
        assert_eq!(bank.notifications().retry_notifications().await.unwrap(), 0);
        delay_s *= 2;
    }
    assert!(server.received().is_empty());
    clock.advance(chrono::Duration::hours(2));
    bank.notifications().retry_notifications().await.unwrap();
    assert_eq!(
        history().await.attempts,
        NOTIFY_ATTEMPTS_MAX,
        "failed is final"
    );
}
