//! Where `bankflow serve` keeps KYC documents: files in the data dir (the default) or an
//! S3-compatible bucket. Either way the engine encrypts each document before the store sees
//! it (`EncryptedDocuments`, under the data key), so neither holds a plaintext document.

use std::path::Path;
use std::sync::Arc;

use bankflow_core::customer::DocumentStore;
use bankflow_s3::{S3Config, S3DocumentStore};
use clap::Args;

use crate::serve::CliError;

/// `--documents-url`.
#[derive(Debug, Clone, Args)]
pub struct DocumentArgs {
    /// Where KYC documents go: unset, files under the data dir's `documents/`;
    /// `s3://BUCKET[/PREFIX]?endpoint=URL&region=R&allow_http=true&timeout_ms=N` an
    /// S3-compatible bucket (AWS S3, MinIO…), credentials from AWS_ACCESS_KEY_ID and
    /// AWS_SECRET_ACCESS_KEY. Documents are encrypted under the data key either way.
    #[arg(long, env = "BANKFLOW_DOCUMENTS_URL")]
    pub documents_url: Option<String>,
}

impl DocumentArgs {
    /// The configured store (not yet encrypted: `Bank::builder` wraps it).
    pub fn store(&self, data_dir: &Path) -> Result<Arc<dyn DocumentStore>, CliError> {
        match self.documents_url.as_deref().map(str::trim) {
            None | Some("") => {
                tracing::info!("documents: files in the data dir, encrypted");
                Ok(Arc::new(crate::adapters::FsDocumentStore::new(
                    data_dir.join("documents"),
                )?))
            }
            Some(url) => {
                let config = S3Config::from_url(url)?;
                tracing::info!(bucket = %config.bucket, prefix = %config.prefix,
                    endpoint = config.endpoint.as_deref().unwrap_or("AWS"), "documents: S3, encrypted");
                Ok(Arc::new(S3DocumentStore::new(&config)?))
            }
        }
    }
}
