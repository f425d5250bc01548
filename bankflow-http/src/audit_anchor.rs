//! `FileAuditAnchor`: the signed checkpoint of the audit chain head, kept in a file outside
//! the database (issue #16 finding 8). Whoever can rewrite the audit table still cannot move
//! this file back without the audit key, so deleting the newest entries shows up in
//! `/api/v1/admin/audit/verify` as `missing`. It belongs on another volume than the
//! database and outside its backups (`--audit-anchor-file`); `bankflow doctor` warns when
//! it sits in the data dir.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use bankflow_core::audit::{AuditAnchor, AuditCheckpoint};
use bankflow_core::{BankError, BankResult};

/// The anchor's file name in the data dir when `--audit-anchor-file` is not given.
pub const AUDIT_ANCHOR_FILE: &str = "audit-anchor.json";
/// Largest anchor file read (a checkpoint is a few hundred bytes).
pub const ANCHOR_BYTES_MAX: u64 = 4 * 1024;

/// An [`AuditAnchor`] in one JSON file, replaced atomically (temporary file, fsync,
/// rename), mode 0600.
///
/// The commit path never waits for the disk: `store` hands the checkpoint to one writer
/// task and returns; the writer keeps only the newest pending checkpoint (latest wins), so
/// under load many commits cost one fsync. The file may lag the last commit by the writes in
/// flight: after a crash the anchor is a little behind, which costs detection of those last
/// entries, never a false alarm.
pub struct FileAuditAnchor {
    path: PathBuf,
    shared: Arc<Mutex<Pending>>,
}

/// What the writer has to do.
#[derive(Default)]
struct Pending {
    /// The newest checkpoint handed over, once it is not yet on disk.
    latest: Option<AuditCheckpoint>,
    /// A writer task is running (it exits when nothing is left to write).
    writing: bool,
}

/// Polls of [`FileAuditAnchor::flush`], 1 ms apart, at most.
const FLUSH_POLLS_MAX: u32 = 5_000;

impl FileAuditAnchor {
    /// The anchor kept at `path` (created on the first audited write).
    pub fn new(path: PathBuf) -> Self {
        FileAuditAnchor {
            path,
            shared: Arc::new(Mutex::new(Pending::default())),
        }
    }

    /// Where the file is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Waits (boundedly) until every checkpoint handed over is on disk.
    pub async fn flush(&self) {
        for _ in 0..FLUSH_POLLS_MAX {
            if !self.shared.lock().map(|p| p.writing).unwrap_or(false) {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
    }

    /// Writes pending checkpoints until none is left, then marks the writer gone.
    async fn write_pending(path: PathBuf, shared: Arc<Mutex<Pending>>) {
        loop {
            let next = match shared.lock() {
                Ok(mut p) => match p.latest.take() {
                    Some(cp) => cp,
                    None => {
                        p.writing = false;
                        return;
                    }
                },
                Err(_) => return,
            };
            let path = path.clone();
            let done = tokio::task::spawn_blocking(move || {
                let bytes = serde_json::to_vec(&next).map_err(std::io::Error::other)?;
                write_atomic(&path, &bytes)
            })
            .await;
            match done {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::warn!(error = %e, "audit anchor not written"),
                Err(e) => tracing::warn!(error = %e, "audit anchor writer failed"),
            }
        }
    }
}

fn io_err(what: &str, e: impl std::fmt::Display) -> BankError {
    BankError::internal(format!("audit anchor {what}: {e}"))
}

/// Writes `bytes` to a temporary file beside `path`, syncs it and renames it over `path`,
/// so a reader (or a crash) sees the old checkpoint or the new one, never half of one.
fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    drop(f);
    std::fs::rename(&tmp, path)
}

/// The checkpoint in the file; `None` when there is none yet. A file that is not a
/// checkpoint reads as one that fails authentication (verify reports `anchor_invalid`):
/// a damaged anchor must not look like an absent one.
fn read(path: &Path) -> BankResult<Option<AuditCheckpoint>> {
    use std::io::Read;
    let f = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_err("read", e)),
    };
    let mut text = String::new();
    f.take(ANCHOR_BYTES_MAX)
        .read_to_string(&mut text)
        .map_err(|e| io_err("read", e))?;
    Ok(Some(serde_json::from_str(&text).unwrap_or_else(|_| {
        AuditCheckpoint {
            seq: 0,
            hash: String::new(),
            at: chrono::DateTime::UNIX_EPOCH,
            key_id: String::new(),
            mac: String::new(),
        }
    })))
}

#[async_trait]
impl AuditAnchor for FileAuditAnchor {
    async fn store(&self, checkpoint: &AuditCheckpoint) -> BankResult<()> {
        let start = {
            let mut p = self
                .shared
                .lock()
                .map_err(|_| io_err("state", "poisoned"))?;
            p.latest = Some(checkpoint.clone());
            !std::mem::replace(&mut p.writing, true)
        };
        if start {
            tokio::spawn(Self::write_pending(self.path.clone(), self.shared.clone()));
        }
        Ok(())
    }

    /// The checkpoint not yet written, else the file's (so an edit of the file is seen).
    async fn load(&self) -> BankResult<Option<AuditCheckpoint>> {
        if let Some(cp) = self
            .shared
            .lock()
            .map_err(|_| io_err("state", "poisoned"))?
            .latest
            .clone()
        {
            return Ok(Some(cp));
        }
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || read(&path))
            .await
            .map_err(|e| io_err("read", e))?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn round_trips_atomically_with_mode_0600_and_damage_is_not_absence() {
        let dir = tempfile::tempdir().unwrap();
        let a = FileAuditAnchor::new(dir.path().join(AUDIT_ANCHOR_FILE));
        assert_eq!(a.load().await.unwrap(), None);
        let cp = AuditCheckpoint::signed(7, "v2:k:ab".into(), chrono::Utc::now(), "k", &[1; 32]);
        a.store(&cp).await.unwrap();
        assert_eq!(a.load().await.unwrap(), Some(cp.clone()), "pending");
        a.flush().await;
        assert_eq!(a.load().await.unwrap(), Some(cp), "from the file");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(a.path()).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(a.path(), "not json").unwrap();
        assert_eq!(a.load().await.unwrap().map(|c| c.mac), Some(String::new()));
    }
}
