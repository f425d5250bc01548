//! The server's port adapters: document bytes on the filesystem and the data encryption key
//! kept in the data directory (outgoing messages: [`crate::notifiers`]).

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use bankflow_core::crypto::{DataKey, StaticKeyRing};
use bankflow_core::customer::{DocumentStore, DOCUMENT_OBJECT_SIZE_MAX_BYTES};
use bankflow_core::{BankError, BankResult};

use crate::jwt::write_private;

/// Id of the key generated on first start.
pub const DATA_KEY_ID: &str = "k1";
/// File in the data dir holding the generated data key (hex).
pub const DATA_KEY_FILE: &str = "data_key";

/// Keys a key ring file holds at most.
pub const KEY_RING_KEYS_MAX: usize = 16;
/// Largest key ring file read, in bytes.
pub const KEY_RING_FILE_BYTES_MAX: u64 = 16 * 1024;

/// The key ring sealing sensitive fields (SSNs, TOTP and webhook secrets, document keys):
/// `BANKFLOW_DATA_KEY` (64 hex digits), a key ring file (`--data-key-file`, see
/// [`read_key_ring`]), or a key generated once into the data dir (mode 0600, development
/// only). Losing it makes sealed data unreadable.
pub fn load_or_create_keys(
    env_key: Option<&str>,
    key_file: Option<&Path>,
    data_dir: &Path,
) -> std::io::Result<StaticKeyRing> {
    if let Some(file) = key_file {
        return read_key_ring(file);
    }
    let invalid =
        |e: BankError| std::io::Error::new(std::io::ErrorKind::InvalidInput, e.to_string());
    let key = match env_key {
        Some(hex) => DataKey::from_hex(hex.trim()).map_err(invalid)?,
        None => {
            let path = data_dir.join(DATA_KEY_FILE);
            match std::fs::read_to_string(&path) {
                Ok(hex) => DataKey::from_hex(hex.trim()).map_err(invalid)?,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    let mut bytes = [0u8; 32];
                    getrandom::fill(&mut bytes)
                        .map_err(|e| std::io::Error::other(e.to_string()))?;
                    write_private(&path, hex::encode(bytes).as_bytes())?;
                    DataKey::from_bytes(bytes)
                }
                Err(e) => return Err(e),
            }
        }
    };
    StaticKeyRing::new(DATA_KEY_ID, key).map_err(invalid)
}

/// A key ring file: one `KEY_ID HEX64` per line (`#` comments and blank lines skipped), the
/// first key current, the rest retired. Refused whole, naming the line, when a line is
/// malformed, an id repeats, or there are none or more than [`KEY_RING_KEYS_MAX`]; errors
/// never echo key material.
pub fn read_key_ring(file: &Path) -> std::io::Result<StaticKeyRing> {
    let bad = |msg: String| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("{}: {msg}", file.display()),
        )
    };
    if std::fs::metadata(file)?.len() > KEY_RING_FILE_BYTES_MAX {
        return Err(bad(format!("larger than {KEY_RING_FILE_BYTES_MAX} bytes")));
    }
    warn_if_readable_by_others(file);
    let text = std::fs::read_to_string(file)?;
    let mut ring: Option<StaticKeyRing> = None;
    let mut count = 0;
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let at = |what: &str| bad(format!("line {}: {what}", n + 1));
        let (id, hex) = line
            .split_once(char::is_whitespace)
            .ok_or_else(|| at("expected `KEY_ID HEX64`"))?;
        let key = DataKey::from_hex(hex.trim()).map_err(|_| at("the key is not 64 hex digits"))?;
        count += 1;
        if count > KEY_RING_KEYS_MAX {
            return Err(at(&format!("more than {KEY_RING_KEYS_MAX} keys")));
        }
        ring = Some(
            match ring {
                None => StaticKeyRing::new(id, key),
                Some(r) => r.with_retired(id, key),
            }
            .map_err(|e| at(&e.to_string()))?,
        );
    }
    ring.ok_or_else(|| bad("no key".into()))
}

fn warn_if_readable_by_others(file: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(m) = std::fs::metadata(file) {
            if m.permissions().mode() & 0o077 != 0 {
                tracing::warn!(
                    file = %file.display(),
                    "SECURITY: the data key file is readable by group or others: chmod 600 it"
                );
            }
        }
    }
}

/// True when `path` lies under `dir` (compared after resolving both when they exist).
pub fn inside(path: &Path, dir: &Path) -> bool {
    let resolve = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    resolve(path).starts_with(resolve(dir))
}

/// After a key rotation: re-seals, in the background, what the retired keys sealed, and logs
/// what it did (counts only). A failure is logged; the next start walks again.
pub async fn reseal_after_rotation(bank: bankflow_core::Bank) {
    match bank.maintenance().reseal_all().await {
        Ok(r) => tracing::info!(
            totp_secrets = r.totp_secrets,
            ssns = r.ssns,
            webhook_secrets = r.webhook_secrets,
            "data key rotation: re-sealed what retired keys sealed"
        ),
        Err(e) => tracing::warn!(error = %e, "data key rotation: re-sealing failed"),
    }
}

/// Document bytes as files under one directory. Keys are hex-encoded into file names, so no
/// key can name a path outside the directory.
#[derive(Debug, Clone)]
pub struct FsDocumentStore {
    dir: PathBuf,
}

impl FsDocumentStore {
    /// A store under `dir` (created if missing).
    pub fn new(dir: PathBuf) -> std::io::Result<FsDocumentStore> {
        std::fs::create_dir_all(&dir)?;
        Ok(FsDocumentStore { dir })
    }

    fn path(&self, key: &str) -> PathBuf {
        self.dir.join(hex::encode(key.as_bytes()))
    }
}

fn io_err(e: std::io::Error) -> BankError {
    BankError::internal(format!("document store: {}", e.kind()))
}

#[async_trait]
impl DocumentStore for FsDocumentStore {
    async fn put(&self, key: &str, bytes: &[u8]) -> BankResult<()> {
        let path = self.path(key);
        let tmp = path.with_extension("tmp");
        let bytes = bytes.to_vec();
        tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            // Write then rename: a crash never leaves a half-written document under the key.
            let _ = std::fs::remove_file(&tmp);
            write_private(&tmp, &bytes)?;
            std::fs::rename(&tmp, &path)
        })
        .await
        .map_err(BankError::internal)?
        .map_err(io_err)
    }

    async fn get(&self, key: &str) -> BankResult<Option<Vec<u8>>> {
        use tokio::io::AsyncReadExt;
        let file = match tokio::fs::File::open(self.path(key)).await {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_err(e)),
        };
        // Bounded read: a file grown past the largest document plus its envelope is refused,
        // never buffered whole.
        let limit = DOCUMENT_OBJECT_SIZE_MAX_BYTES as u64;
        let mut bytes = Vec::new();
        file.take(limit + 1)
            .read_to_end(&mut bytes)
            .await
            .map_err(io_err)?;
        if bytes.len() as u64 > limit {
            return Err(BankError::internal(format!(
                "document file {key} is larger than {limit} bytes"
            )));
        }
        Ok(Some(bytes))
    }

    async fn delete(&self, key: &str) -> BankResult<()> {
        match tokio::fs::remove_file(self.path(key)).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_err(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp() -> PathBuf {
        let d = std::env::temp_dir().join(format!("bankflow-adapters-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[tokio::test]
    async fn documents_round_trip_and_stay_inside_their_dir() {
        let d = tmp();
        let s = FsDocumentStore::new(d.join("docs")).unwrap();
        s.put("../../etc/passwd", b"%PDF-1.4 x").await.unwrap();
        assert_eq!(
            s.get("../../etc/passwd").await.unwrap().unwrap(),
            b"%PDF-1.4 x"
        );
        assert_eq!(std::fs::read_dir(d.join("docs")).unwrap().count(), 1);
        s.delete("../../etc/passwd").await.unwrap();
        assert!(s.get("../../etc/passwd").await.unwrap().is_none());
        s.delete("never-there").await.unwrap();
        std::fs::remove_dir_all(d).ok();
    }

    #[tokio::test]
    async fn behind_the_engine_s_encryption_the_files_are_ciphertext() {
        use bankflow_core::customer::EncryptedDocuments;
        let d = tmp();
        let keys = load_or_create_keys(None, None, &d).unwrap();
        let png = b"\x89PNG\r\n\x1a\n a scanned licence, never on disk in clear";
        let fs = std::sync::Arc::new(FsDocumentStore::new(d.join("docs")).unwrap());
        let s = EncryptedDocuments::new(fs, std::sync::Arc::new(keys));
        s.put("kyc/c/d", png).await.unwrap();
        let file = std::fs::read_dir(d.join("docs"))
            .unwrap()
            .next()
            .unwrap()
            .unwrap();
        let stored = std::fs::read(file.path()).unwrap();
        assert!(stored.starts_with(b"BFDOC"));
        assert!(!stored.windows(10).any(|w| png.windows(10).any(|p| p == w)));
        assert_eq!(s.get("kyc/c/d").await.unwrap().unwrap(), png);
        // A flipped byte on disk is refused, not served.
        let mut flipped = stored.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        std::fs::write(file.path(), &flipped).unwrap();
        assert_eq!(s.get("kyc/c/d").await.unwrap_err().code(), "internal_error");
        // So is a file grown past any document's size.
        std::fs::write(file.path(), vec![0u8; DOCUMENT_OBJECT_SIZE_MAX_BYTES + 1]).unwrap();
        let e = s.get("kyc/c/d").await.unwrap_err();
        assert!(e.to_string().contains("larger than"), "{e}");
        std::fs::remove_dir_all(d).ok();
    }

    #[test]
    fn data_key_is_created_once() {
        let d = tmp();
        load_or_create_keys(None, None, &d).unwrap();
        let first = std::fs::read_to_string(d.join(DATA_KEY_FILE)).unwrap();
        load_or_create_keys(None, None, &d).unwrap();
        assert_eq!(
            std::fs::read_to_string(d.join(DATA_KEY_FILE)).unwrap(),
            first
        );
        assert!(load_or_create_keys(Some("zz"), None, &d).is_err());
        std::fs::remove_dir_all(d).ok();
    }

    #[test]
    fn a_key_ring_file_names_its_current_key_first_and_refuses_bad_lines_by_number() {
        use bankflow_core::crypto::KeyProvider;
        let d = tmp();
        let (k1, k2) = ("11".repeat(32), "22".repeat(32));
        let file = d.join("ring");
        std::fs::write(&file, format!("# rotated 2026-12-04\nk2 {k2}\n\nk1 {k1}\n")).unwrap();
        let ring = read_key_ring(&file).unwrap();
        assert_eq!(ring.current().unwrap().0, "k2");
        assert!(
            ring.key("k1").unwrap().is_some(),
            "a retired key still opens"
        );
        assert_eq!(ring.retired_key_count(), 1);
        for (text, needle) in [
            (format!("k2 {k2}\nk1 nothex\n"), "line 2"),
            (format!("k2 {k2}\nk2 {k1}\n"), "line 2"),
            (format!("k2{k2}\n"), "line 1"),
            ("# nothing\n".to_string(), "no key"),
        ] {
            std::fs::write(&file, &text).unwrap();
            let e = read_key_ring(&file).unwrap_err().to_string();
            assert!(e.contains(needle), "{e}");
            assert!(
                !e.contains(&k1) && !e.contains(&k2),
                "an error never echoes a key"
            );
        }
        std::fs::remove_dir_all(d).ok();
    }
}
