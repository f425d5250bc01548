//! The document-store port: KYC document bytes by key (a filesystem or S3/MinIO adapter
//! lives outside core), and content checks by magic bytes.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;

use crate::error::{BankError, BankResult};

/// Largest document accepted.
pub const DOCUMENT_SIZE_MAX_BYTES: usize = 10 * 1024 * 1024;
/// Most bytes a [`MemoryDocumentStore`] holds in total.
pub const MEMORY_DOCUMENTS_TOTAL_MAX_BYTES: usize = 512 * 1024 * 1024;

/// Port: stores document bytes.
#[async_trait]
pub trait DocumentStore: Send + Sync + 'static {
    /// Stores `bytes` under `key` (overwrites).
    async fn put(&self, key: &str, bytes: &[u8]) -> BankResult<()>;
    /// Reads the bytes under `key`.
    async fn get(&self, key: &str) -> BankResult<Option<Vec<u8>>>;
    /// Removes `key` (no error if absent).
    async fn delete(&self, key: &str) -> BankResult<()>;
}

/// Documents held in memory (default; tests and embedded use).
#[derive(Default)]
pub struct MemoryDocumentStore {
    docs: Mutex<HashMap<String, Vec<u8>>>,
}

#[async_trait]
impl DocumentStore for MemoryDocumentStore {
    async fn put(&self, key: &str, bytes: &[u8]) -> BankResult<()> {
        let mut d = self
            .docs
            .lock()
            .map_err(|_| BankError::internal("document store lock poisoned"))?;
        let total: usize = d
            .iter()
            .filter(|(k, _)| k.as_str() != key)
            .map(|(_, v)| v.len())
            .sum();
        if total + bytes.len() > MEMORY_DOCUMENTS_TOTAL_MAX_BYTES {
            return Err(BankError::LimitExceeded(
                "in-memory document store is full".into(),
            ));
        }
        d.insert(key.to_string(), bytes.to_vec());
        Ok(())
    }

    async fn get(&self, key: &str) -> BankResult<Option<Vec<u8>>> {
        Ok(self
            .docs
            .lock()
            .map_err(|_| BankError::internal("document store lock poisoned"))?
            .get(key)
            .cloned())
    }

    async fn delete(&self, key: &str) -> BankResult<()> {
        self.docs
            .lock()
            .map_err(|_| BankError::internal("document store lock poisoned"))?
            .remove(key);
        Ok(())
    }
}

/// The MIME type of a PDF, JPEG or PNG, recognised by its magic bytes; anything else is
/// refused (the client's declared content type is never trusted).
pub fn sniff_content_type(bytes: &[u8]) -> BankResult<&'static str> {
    if bytes.starts_with(b"%PDF-") {
        Ok("application/pdf")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Ok("image/jpeg")
    } else if bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        Ok("image/png")
    } else {
        Err(BankError::validation(
            "file",
            "only PDF, JPEG and PNG documents are accepted",
        ))
    }
}
