//! The S3 document store against a real S3-compatible server (moto, started here): round
//! trips, bounds, error mapping, and the engine's encryption seen from an independent client.

use std::sync::Arc;

use bankflow_core::crypto::{DataKey, StaticKeyRing};
use bankflow_core::customer::{DocumentStore, EncryptedDocuments, DOCUMENT_OBJECT_SIZE_MAX_BYTES};
use bankflow_s3::moto::{MotoServer, MOTO_ACCESS_KEY_ID, MOTO_SECRET_ACCESS_KEY};
use bankflow_s3::{S3Config, S3DocumentStore};

const PNG: &[u8] =
    b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR a passport scan that must never be stored in clear";

fn moto_with_bucket(bucket: &str) -> MotoServer {
    let moto = MotoServer::start().expect("moto must start: this suite fails rather than skips");
    moto.create_bucket(bucket).unwrap();
    moto
}

fn store(moto: &MotoServer, bucket_and_prefix: &str) -> S3DocumentStore {
    let mut config = S3Config::from_url(&moto.documents_url(bucket_and_prefix)).unwrap();
    config.access_key_id = Some(MOTO_ACCESS_KEY_ID.into());
    config.secret_access_key = Some(MOTO_SECRET_ACCESS_KEY.into());
    S3DocumentStore::new(&config).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn put_get_delete_round_trip_on_a_real_s3_server() {
    let moto = moto_with_bucket("docs");
    let s = store(&moto, "docs/tenant-a");
    s.put("kyc/c1/d1", b"first").await.unwrap();
    s.put("kyc/c1/d1", b"second").await.unwrap();
    assert_eq!(s.get("kyc/c1/d1").await.unwrap().unwrap(), b"second");
    assert!(s.get("kyc/c1/none").await.unwrap().is_none());
    // The prefix is where the object really is, as another client sees it.
    let objects = moto.objects("docs").unwrap();
    assert_eq!(
        objects,
        vec![("tenant-a/kyc/c1/d1".to_string(), b"second".to_vec())]
    );
    s.delete("kyc/c1/d1").await.unwrap();
    assert!(s.get("kyc/c1/d1").await.unwrap().is_none());
    s.delete("kyc/c1/d1").await.unwrap();
    assert!(moto.objects("docs").unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn sizes_are_bounded_both_ways() {
    let moto = moto_with_bucket("docs");
    let s = store(&moto, "docs");
    let big = vec![7u8; DOCUMENT_OBJECT_SIZE_MAX_BYTES + 1];
    let e = s.put("kyc/c/big", &big).await.unwrap_err();
    assert_eq!(e.code(), "limit_exceeded");
    // An oversized object put there by someone else is refused on read, not buffered.
    moto.put_object("docs", "kyc/c/big", &big).unwrap();
    let e = s.get("kyc/c/big").await.unwrap_err();
    assert_eq!(e.code(), "internal_error", "{e}");
    assert!(e.to_string().contains("larger than"), "{e}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_server_is_transient_and_a_missing_bucket_internal() {
    let moto = moto_with_bucket("docs");
    let missing = store(&moto, "no-such-bucket");
    let e = missing.put("kyc/c/d", b"x").await.unwrap_err();
    assert_eq!(e.code(), "internal_error", "{e}");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut config = S3Config::from_url(&format!(
        "s3://docs?endpoint=http://127.0.0.1:{port}&allow_http=true&timeout_ms=500&connect_timeout_ms=200"
    ))
    .unwrap();
    config.access_key_id = Some(MOTO_ACCESS_KEY_ID.into());
    config.secret_access_key = Some(MOTO_SECRET_ACCESS_KEY.into());
    let down = S3DocumentStore::new(&config).unwrap();
    let e = down.get("kyc/c/d").await.unwrap_err();
    assert_eq!(e.code(), "transient", "{e}");
    assert!(!e.to_string().contains(MOTO_SECRET_ACCESS_KEY));
}

#[tokio::test(flavor = "multi_thread")]
async fn behind_the_engine_s_encryption_the_bucket_holds_ciphertext_and_tampering_is_refused() {
    let moto = moto_with_bucket("docs");
    let keys = Arc::new(StaticKeyRing::new("k1", DataKey::random().unwrap()).unwrap());
    let enc = EncryptedDocuments::new(Arc::new(store(&moto, "docs")), keys);
    enc.put("kyc/c/d", PNG).await.unwrap();
    let objects = moto.objects("docs").unwrap();
    let (key, object) = &objects[0];
    assert_eq!(key, "kyc/c/d");
    assert!(object.starts_with(b"BFDOC"));
    assert!(!object.windows(12).any(|w| PNG.windows(12).any(|p| p == w)));
    assert_eq!(enc.get("kyc/c/d").await.unwrap().unwrap(), PNG);
    let mut flipped = object.clone();
    let last = flipped.len() - 20;
    flipped[last] ^= 0x80;
    moto.put_object("docs", "kyc/c/d", &flipped).unwrap();
    let e = enc.get("kyc/c/d").await.unwrap_err();
    assert_eq!(e.code(), "internal_error");
    assert!(e.to_string().contains("failed authentication"), "{e}");
    moto.put_object("docs", "kyc/c/d", &object[..object.len() / 2])
        .unwrap();
    assert!(
        enc.get("kyc/c/d").await.is_err(),
        "a truncated object is refused"
    );
}
