//! The audit key and the chain-head anchor.
//!
//! Entries are MACed with a key derived from the engine's [`KeyProvider`] (the database holds
//! no key), and after every committed unit that audited, a MACed checkpoint of the chain head
//! is handed to the [`AuditAnchor`] port, which keeps it outside the audit table (a file, a
//! KMS, a WORM bucket...). Deleting the newest entries then leaves the anchor beyond the
//! table's end, which `verify_audit` reports as `missing`.
//!
//! The anchor only ever moves forward and only after commit, so it is never ahead of the
//! table for a rolled-back unit; it may lag a little (a crash between commit and anchoring),
//! which costs detection of at most those last entries, never a false alarm.

use std::cell::RefCell;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use async_trait::async_trait;

use super::model::{AuditCheckpoint, AuditRecord, AUDIT_KEY_PURPOSE};
use crate::bank::Inner;
use crate::crypto::{derive_key, KeyProvider, KEY_LEN};
use crate::error::{BankError, BankResult};
use crate::ports::TxMode;

/// Port: where the signed checkpoint of the audit chain head is kept, outside the audit
/// table (and ideally outside the database's backups).
#[async_trait]
pub trait AuditAnchor: Send + Sync + 'static {
    /// Replaces the stored checkpoint.
    async fn store(&self, checkpoint: &AuditCheckpoint) -> BankResult<()>;
    /// The stored checkpoint; `None` before the first.
    async fn load(&self) -> BankResult<Option<AuditCheckpoint>>;
}

/// The default anchor: in this process's memory. It detects truncation while the process
/// lives; deployments pass a durable one (`bankflow serve` keeps a file).
#[derive(Debug, Default)]
pub struct MemoryAuditAnchor(Mutex<Option<AuditCheckpoint>>);

#[async_trait]
impl AuditAnchor for MemoryAuditAnchor {
    async fn store(&self, checkpoint: &AuditCheckpoint) -> BankResult<()> {
        let mut slot = self
            .0
            .lock()
            .map_err(|_| BankError::internal("audit anchor poisoned"))?;
        *slot = Some(checkpoint.clone());
        Ok(())
    }

    async fn load(&self) -> BankResult<Option<AuditCheckpoint>> {
        let slot = self
            .0
            .lock()
            .map_err(|_| BankError::internal("audit anchor poisoned"))?;
        Ok(slot.clone())
    }
}

/// What one unit appended to the chain: its first entry's `(seq, prev_hash)` and its last
/// entry's `(seq, hash)`.
#[derive(Clone, Debug)]
pub(crate) struct Head {
    first: (i64, String),
    last: (i64, String),
}

/// Where the anchor stands in this process.
#[derive(Default)]
struct Progress {
    /// The stored checkpoint was checked against the table (once per process).
    checked: bool,
    /// The stored checkpoint disagrees with the table: never overwrite that evidence.
    frozen: bool,
    /// The anchored head `(seq, hash)`: the stored one once checked, then this process's.
    at: (i64, String),
}

/// The audit context's engine state: the anchor port, derived keys, anchor progress.
pub(crate) struct AuditState {
    pub(crate) anchor: Arc<dyn AuditAnchor>,
    /// Derived audit keys by data-key id: derived once per key per engine.
    derived: Mutex<HashMap<String, [u8; KEY_LEN]>>,
    /// Serialises anchor writes so a slower, older head never overwrites a newer one.
    progress: tokio::sync::Mutex<Progress>,
}

impl AuditState {
    pub(crate) fn new(anchor: Arc<dyn AuditAnchor>) -> Self {
        AuditState {
            anchor,
            derived: Mutex::new(HashMap::new()),
            progress: tokio::sync::Mutex::new(Progress::default()),
        }
    }

    /// The audit key derived from data key `key_id` (the current one when `None`).
    pub(crate) fn key(
        &self,
        keys: &dyn KeyProvider,
        key_id: Option<&str>,
    ) -> BankResult<Option<(String, [u8; KEY_LEN])>> {
        let current;
        let id = match key_id {
            Some(id) => id,
            None => {
                current = keys.current()?.0;
                &current
            }
        };
        let mut cache = self
            .derived
            .lock()
            .map_err(|_| BankError::internal("audit key cache poisoned"))?;
        if let Some(k) = cache.get(id) {
            return Ok(Some((id.to_string(), *k)));
        }
        let Some((id, k)) = derive_key(keys, Some(id), AUDIT_KEY_PURPOSE)? else {
            return Ok(None);
        };
        cache.insert(id.clone(), k);
        Ok(Some((id, k)))
    }
}

impl Inner {
    /// Moves the anchor to `head`, the last entry a just-committed unit appended. Never fails
    /// the caller (its unit is committed): a failure is logged and the anchor lags.
    pub(crate) async fn advance_audit_anchor(&self, head: Option<Head>) {
        let Some(head) = head else { return };
        if let Err(e) = self.try_advance_anchor(head).await {
            tracing::warn!(error = %e, "audit anchor not advanced");
        }
    }

    async fn try_advance_anchor(&self, head: Head) -> BankResult<()> {
        let state = &self.audit_state;
        let mut p = state.progress.lock().await;
        if !p.checked {
            match self.stored_anchor_in_table().await? {
                Ok(at) => p.at = at,
                Err(()) => p.frozen = true,
            }
            p.checked = true;
        }
        if p.frozen || head.last.0 <= p.at.0 {
            // Frozen, or an older unit whose successor was anchored first.
            return Ok(());
        }
        if !self.continues_anchored_chain(&p.at, &head).await? {
            p.frozen = true;
            tracing::error!(
                seq = head.first.0,
                "SECURITY: the audit log no longer continues the anchored chain head (entries \
                 were deleted or rewritten); the anchor is kept as evidence and no longer advanced"
            );
            return Ok(());
        }
        let (key_id, key) = state
            .key(&*self.keys, None)?
            .ok_or_else(|| BankError::internal("current data key unknown"))?;
        let (seq, hash) = head.last;
        let cp = AuditCheckpoint::signed(seq, hash.clone(), self.now_us(), &key_id, &key);
        state.anchor.store(&cp).await?;
        p.at = (seq, hash);
        Ok(())
    }

    /// Whether `head`'s entries follow the anchored `at`: its first entry links to it (no
    /// store access), or, when other entries lie between, `at` is still in the table. A unit
    /// starting at or below the anchored seq can only follow a truncation.
    async fn continues_anchored_chain(&self, at: &(i64, String), head: &Head) -> BankResult<bool> {
        let (first_seq, prev_hash) = &head.first;
        if *first_seq <= at.0 {
            return Ok(false);
        }
        if *first_seq == at.0 + 1 {
            return Ok(at.0 == 0 || *prev_hash == at.1);
        }
        self.entry_has_hash(at).await
    }

    /// The stored checkpoint's head when it is authentic and its entry is in the table with
    /// the same hash (so moving it forward hides nothing), `(0, "")` when there is none;
    /// `Err(())` when it disagrees with the table: that evidence is never overwritten.
    async fn stored_anchor_in_table(&self) -> BankResult<Result<(i64, String), ()>> {
        let Some(cp) = self.audit_state.anchor.load().await? else {
            return Ok(Ok((0, String::new())));
        };
        let at = (cp.seq, cp.hash.clone());
        if self.checkpoint_is_authentic(&cp)? && self.entry_has_hash(&at).await? {
            return Ok(Ok(at));
        }
        tracing::error!(
            seq = cp.seq,
            "SECURITY: the stored audit anchor does not match the audit log; it is kept as \
             evidence and no longer advanced (run the audit verification)"
        );
        Ok(Err(()))
    }

    /// The table's entry `seq` exists with `hash` (one read; `seq` 0 is the empty chain).
    async fn entry_has_hash(&self, (seq, hash): &(i64, String)) -> BankResult<bool> {
        if *seq == 0 {
            return Ok(true);
        }
        let mut uow = self.store.begin(TxMode::Read).await?;
        let entry = uow.audit_entries(Some(seq - 1), 1).await?;
        Ok(entry
            .first()
            .is_some_and(|e| e.seq == *seq && e.hash == *hash))
    }

    /// The checkpoint's MAC is right under the key it names.
    pub(crate) fn checkpoint_is_authentic(&self, cp: &AuditCheckpoint) -> BankResult<bool> {
        let Some((_, key)) = self.audit_state.key(&*self.keys, Some(&cp.key_id))? else {
            return Ok(false);
        };
        Ok(crate::crypto::constant_time_eq(
            cp.compute_mac(&key).as_bytes(),
            cp.mac.as_bytes(),
        ))
    }
}

thread_local! {
    /// The trail of the unit whose body is being polled on this thread (see [`UnitTrail`]).
    static TRAIL: RefCell<Option<Arc<Mutex<Option<Head>>>>> = const { RefCell::new(None) };
}

/// The last audit entry one unit of work appended, so the executor can anchor it after the
/// commit without asking the store again. `Inner::audit` records into the trail installed
/// while the unit's body is polled (a thread-local, set for each poll only, like the request
/// context), so no use case has to pass it along.
#[derive(Clone, Default)]
pub(crate) struct UnitTrail(Arc<Mutex<Option<Head>>>);

impl UnitTrail {
    /// Runs `fut` with this trail installed.
    pub(crate) fn scope<F: Future>(&self, fut: F) -> Scoped<F> {
        Scoped {
            trail: self.0.clone(),
            fut: Box::pin(fut),
        }
    }

    /// The last head recorded.
    pub(crate) fn last(&self) -> Option<Head> {
        self.0.lock().ok().and_then(|h| h.clone())
    }

    /// Puts back a head taken with [`UnitTrail::last`] (a savepoint rolled back).
    pub(crate) fn reset(&self, head: Option<Head>) {
        if let Ok(mut h) = self.0.lock() {
            *h = head;
        }
    }

    /// Records the appended `entry` in the trail of the unit being polled, if any.
    pub(crate) fn record(entry: &AuditRecord) {
        TRAIL.with(|t| {
            if let Some(trail) = t.borrow().as_ref() {
                if let Ok(mut h) = trail.lock() {
                    let last = (entry.seq, entry.hash.clone());
                    match h.as_mut() {
                        Some(head) => head.last = last,
                        None => {
                            *h = Some(Head {
                                first: (entry.seq, entry.prev_hash.clone()),
                                last,
                            })
                        }
                    }
                }
            }
        });
    }
}

/// A future running with a [`UnitTrail`] installed.
pub(crate) struct Scoped<F: Future> {
    trail: Arc<Mutex<Option<Head>>>,
    fut: Pin<Box<F>>,
}

impl<F: Future> Future for Scoped<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let prev = TRAIL.with(|t| t.replace(Some(self.trail.clone())));
        struct Restore(Option<Arc<Mutex<Option<Head>>>>);
        impl Drop for Restore {
            fn drop(&mut self) {
                let prev = self.0.take();
                TRAIL.with(|t| *t.borrow_mut() = prev);
            }
        }
        let _restore = Restore(prev);
        self.fut.as_mut().poll(cx)
    }
}
