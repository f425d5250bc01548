//! Finding 7 (keys): the data key comes from a key ring file outside the data dir, and a
//! rotation re-seals what the old key sealed, so a ring without the old key still opens it.

use std::path::Path;
use std::time::Duration;

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::journey::{register_customer, upload_document, PASSWORD, PNG};
use crate::{Client, Server};

const EMAIL: &str = "ring-olga@example.com";

fn write_ring(path: &Path, lines: &[(&str, &str)]) {
    let text: String = lines
        .iter()
        .map(|(id, hex)| format!("{id} {hex}\n"))
        .collect();
    std::fs::write(path, text).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
}

/// The customer's document bytes as this server serves them.
async fn document(c: &Client, customer: &str, doc: &str) -> (StatusCode, Vec<u8>) {
    let body = json!({"email": EMAIL, "password": PASSWORD});
    let t = c
        .call(Method::POST, "/api/v1/auth/login", None, Some(body), &[])
        .await;
    assert_eq!(t.status, StatusCode::OK, "{}", t.text());
    let token = t.json()["access_token"].as_str().unwrap().to_string();
    let path = format!("/api/v1/customers/{customer}/documents/{doc}/content");
    let r = c.call(Method::GET, &path, Some(&token), None, &[]).await;
    (r.status, r.body.to_vec())
}

fn wait_for_log(server: &Server, needle: &str) -> String {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let log = server.log_text();
        if log.contains(needle) || std::time::Instant::now() > deadline {
            return log;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[tokio::test]
async fn finding_7_a_rotated_key_ring_file_reseals_and_the_old_key_can_go() {
    let keys = tempfile::tempdir().unwrap();
    let ring = keys.path().join("data-keys");
    let ring_arg = [
        "--data-key-file",
        ring.to_str().unwrap(),
        "--log-format",
        "json",
    ];
    let (k1, k2) = ("a1".repeat(32), "b2".repeat(32));
    write_ring(&ring, &[("k1", &k1)]);
    let server = Server::start(&ring_arg, &[]);
    assert!(
        !server.log_text().contains("SECURITY: the data key"),
        "a key file outside the data dir is no warning:\n{}",
        server.log_text()
    );
    let c = Client { port: server.port };
    let (token, customer) = register_customer(&c, EMAIL).await;
    let doc = upload_document(&c, &token, &customer, PNG).await;
    let doc = doc["id"].as_str().unwrap().to_string();

    // Rotation: k2 first, k1 retired. The SSN is re-sealed in the background; the document
    // is re-wrapped when read.
    write_ring(&ring, &[("k2", &k2), ("k1", &k1)]);
    let server = server.restart(&ring_arg, &[]);
    let log = wait_for_log(&server, "re-sealed what retired keys sealed");
    assert!(log.contains(r#""ssns":1"#), "{log}");
    assert!(!log.contains(&k1) && !log.contains(&k2), "a key in the log");
    let c = Client { port: server.port };
    assert_eq!(
        document(&c, &customer, &doc).await,
        (StatusCode::OK, PNG.to_vec())
    );

    // The old key can go: everything opens under k2 alone.
    write_ring(&ring, &[("k2", &k2)]);
    let server = server.restart(&ring_arg, &[]);
    let c = Client { port: server.port };
    assert_eq!(
        document(&c, &customer, &doc).await,
        (StatusCode::OK, PNG.to_vec())
    );
}
