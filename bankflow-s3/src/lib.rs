//! KYC document bytes on S3-compatible object storage (AWS S3, MinIO, Ceph RGW, moto), through
//! the `object_store` crate.
//!
//! The store keeps whatever the engine hands it; the engine hands it only envelope-encrypted
//! objects (`bankflow_core::customer::EncryptedDocuments`, applied by `Bank::builder`), so the
//! bucket never holds a plaintext document. Every request is bounded: a per-request timeout,
//! a connect timeout, a bounded number of retries within a bounded time, and objects larger
//! than the largest document plus its envelope are refused both ways.

mod config;
pub mod moto;

use async_trait::async_trait;
use bankflow_core::customer::{DocumentStore, DOCUMENT_OBJECT_SIZE_MAX_BYTES};
use bankflow_core::{BankError, BankResult};
use futures::StreamExt;
use object_store::aws::AmazonS3;
use object_store::client::{HttpError, HttpErrorKind};
use object_store::path::Path;
use object_store::{ObjectStoreExt, PutPayload};

pub use config::{
    S3Config, S3_CONNECT_TIMEOUT_MS_DEFAULT, S3_REQUEST_TIMEOUT_MS_DEFAULT, S3_RETRIES_MAX,
    S3_RETRY_TIMEOUT_MS,
};

/// A [`DocumentStore`] over one bucket (and an optional key prefix inside it).
#[derive(Debug)]
pub struct S3DocumentStore {
    store: AmazonS3,
    prefix: String,
}

impl S3DocumentStore {
    /// A store for `config`. Builds the client only: nothing is sent until the first request.
    pub fn new(config: &S3Config) -> BankResult<S3DocumentStore> {
        let store = config
            .builder()
            .build()
            .map_err(|e| BankError::validation("documents_url", e.to_string()))?;
        Ok(S3DocumentStore {
            store,
            prefix: config.prefix.clone(),
        })
    }

    /// The object path of a document key. `Path::parse` refuses empty, `.` and `..`
    /// segments, so no key can name an object outside the prefix.
    fn path(&self, key: &str) -> BankResult<Path> {
        let full = if self.prefix.is_empty() {
            key.to_string()
        } else {
            format!("{}/{key}", self.prefix)
        };
        Path::parse(&full).map_err(|e| BankError::internal(format!("document key {key}: {e}")))
    }
}

#[async_trait]
impl DocumentStore for S3DocumentStore {
    async fn put(&self, key: &str, bytes: &[u8]) -> BankResult<()> {
        if bytes.len() > DOCUMENT_OBJECT_SIZE_MAX_BYTES {
            return Err(BankError::LimitExceeded(format!(
                "a stored document has at most {DOCUMENT_OBJECT_SIZE_MAX_BYTES} bytes"
            )));
        }
        let path = self.path(key)?;
        self.store
            .put(&path, PutPayload::from(bytes.to_vec()))
            .await
            .map_err(|e| s3_error("put", e))?;
        Ok(())
    }

    async fn get(&self, key: &str) -> BankResult<Option<Vec<u8>>> {
        let path = self.path(key)?;
        let got = match self.store.get(&path).await {
            Ok(g) => g,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(s3_error("get", e)),
        };
        let too_big = || {
            BankError::internal(format!(
                "document object {key} is larger than {DOCUMENT_OBJECT_SIZE_MAX_BYTES} bytes"
            ))
        };
        let size = usize::try_from(got.meta.size).map_err(|_| too_big())?;
        if size > DOCUMENT_OBJECT_SIZE_MAX_BYTES {
            return Err(too_big());
        }
        // Read chunk by chunk under the bound: a server that sends more than it announced
        // cannot make us buffer without limit.
        let mut out = Vec::with_capacity(size);
        let mut chunks = got.into_stream();
        while let Some(chunk) = chunks.next().await {
            let chunk = chunk.map_err(|e| s3_error("get", e))?;
            if out.len() + chunk.len() > DOCUMENT_OBJECT_SIZE_MAX_BYTES {
                return Err(too_big());
            }
            out.extend_from_slice(&chunk);
        }
        Ok(Some(out))
    }

    async fn delete(&self, key: &str) -> BankResult<()> {
        let path = self.path(key)?;
        match self.store.delete(&path).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(s3_error("delete", e)),
        }
    }
}

/// The one mapping of object-store failures to engine errors: a network failure (connect,
/// timeout, interrupted request) that outlived the client's own retries is `transient` — a
/// later attempt may succeed; anything else (credentials, permissions, a missing bucket, a
/// malformed answer) is `internal`: retrying will not cure it. Messages carry no credentials.
fn s3_error(op: &str, e: object_store::Error) -> BankError {
    if is_network_failure(&e) {
        BankError::Transient(format!("document store {op}: S3 unreachable: {e}"))
    } else {
        BankError::internal(format!("document store {op}: {e}"))
    }
}

fn is_network_failure(e: &object_store::Error) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(h) = err.downcast_ref::<HttpError>() {
            return matches!(
                h.kind(),
                HttpErrorKind::Connect
                    | HttpErrorKind::Request
                    | HttpErrorKind::Timeout
                    | HttpErrorKind::Interrupted
            );
        }
        cur = err.source();
    }
    false
}

impl std::fmt::Display for S3DocumentStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (prefix {:?})", self.store, self.prefix)
    }
}
