//! KYC documents through `bankflow serve` land encrypted wherever they are kept: in a real
//! S3-compatible server (moto, started here; read back with boto3, not with our adapter) and
//! in the data dir's files. They download intact; a tampered object is refused.

use axum::http::{Method, StatusCode};
use bankflow_s3::moto::{MotoServer, MOTO_ACCESS_KEY_ID, MOTO_REGION, MOTO_SECRET_ACCESS_KEY};

use crate::journey::{register_customer, upload_document};
use crate::{Client, Server};

const BUCKET: &str = "kyc-documents";

/// A PNG by its magic bytes, with a body no envelope byte run could match by chance.
fn passport_scan() -> Vec<u8> {
    let mut png = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    png.extend_from_slice(b"IHDR passport of Dora Docs, number X1234567, valid to 2031 ");
    png.extend((0..4096u32).map(|i| (i * 7 % 251) as u8));
    png
}

/// True when `haystack` holds any 16-byte run of `needle`.
fn leaks(haystack: &[u8], needle: &[u8]) -> bool {
    needle
        .windows(16)
        .any(|w| haystack.windows(16).any(|h| h == w))
}

/// Registers a customer and uploads `file`; (token, customer id, document id).
async fn upload(c: &Client, email: &str, file: &[u8]) -> (String, String, String) {
    let (token, customer) = register_customer(c, email).await;
    let doc = upload_document(c, &token, &customer, file).await;
    (token, customer, doc["id"].as_str().unwrap().to_string())
}

async fn download(c: &Client, token: &str, customer: &str, doc: &str) -> crate::Resp {
    let path = format!("/api/v1/customers/{customer}/documents/{doc}/content");
    c.call(Method::GET, &path, Some(token), None, &[]).await
}

#[tokio::test(flavor = "multi_thread")]
async fn an_uploaded_document_is_ciphertext_in_s3_downloads_intact_and_tampering_is_refused() {
    let moto = MotoServer::start().expect("moto must start: this test fails rather than skips");
    moto.create_bucket(BUCKET).unwrap();
    let url = moto.documents_url(&format!("{BUCKET}/bankflow"));
    let server = Server::start(
        &["--documents-url", &url],
        &[
            ("AWS_ACCESS_KEY_ID", MOTO_ACCESS_KEY_ID),
            ("AWS_SECRET_ACCESS_KEY", MOTO_SECRET_ACCESS_KEY),
            ("AWS_REGION", MOTO_REGION),
        ],
    );
    let c = Client { port: server.port };
    let scan = passport_scan();
    let (token, customer, doc) = upload(&c, "dora-s3@example.com", &scan).await;

    let objects = moto.objects(BUCKET).unwrap();
    assert_eq!(
        objects.len(),
        1,
        "one object per document: {:?}",
        objects.iter().map(|o| &o.0).collect::<Vec<_>>()
    );
    let (key, object) = &objects[0];
    assert!(
        key.starts_with(&format!("bankflow/kyc/{customer}/")),
        "{key}"
    );
    assert!(object.starts_with(b"BFDOC"), "an envelope");
    assert!(!leaks(object, &scan), "the bucket holds the uploaded bytes");
    assert!(
        !std::fs::read_dir(server.dir.path().join("data"))
            .unwrap()
            .any(|e| e.unwrap().file_name() == "documents"),
        "nothing went to the data dir"
    );

    let r = download(&c, &token, &customer, &doc).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.body.as_ref(), scan.as_slice(), "downloads intact");

    // One flipped ciphertext byte in the bucket: refused with a problem, never garbage bytes.
    let mut tampered = object.clone();
    let i = tampered.len() - 100;
    tampered[i] ^= 0x01;
    moto.put_object(BUCKET, key, &tampered).unwrap();
    let r = download(&c, &token, &customer, &doc).await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR, "{}", r.text());
    assert_eq!(r.json()["code"], "internal_error");
    assert!(!leaks(&r.body, &scan));
    assert!(
        server.log_text().contains("failed authentication"),
        "{}",
        server.log_text()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn documents_in_the_data_dir_are_ciphertext_too() {
    let server = Server::start(&[], &[]);
    let c = Client { port: server.port };
    let scan = passport_scan();
    let (token, customer, doc) = upload(&c, "dora-fs@example.com", &scan).await;
    let dir = server.dir.path().join("data").join("documents");
    let files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1);
    let stored = std::fs::read(&files[0]).unwrap();
    assert!(stored.starts_with(b"BFDOC"));
    assert!(!leaks(&stored, &scan), "the file holds the uploaded bytes");
    let r = download(&c, &token, &customer, &doc).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.body.as_ref(), scan.as_slice());
}
