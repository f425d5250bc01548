//! Verification of the audit log: every entry's hash or MAC and link, the seq sequence, and
//! the table's end against the anchored checkpoint.

use serde::{Deserialize, Serialize};

use super::model::{AuditCheckpoint, AuditFault, AuditRecord, GENESIS_HASH};
use super::{AuditService, AUDIT_VERIFY_PAGE};
use crate::crypto::constant_time_eq;
use crate::error::BankResult;
use crate::ports::TxMode;

/// Result of [`AuditService::verify_audit`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditVerification {
    /// Entries checked.
    pub entries_checked: u64,
    /// The first entry that is altered, inserted, reordered or missing (`None`: the chain is
    /// intact). For an `anchor_invalid` fault: the seq the forged anchor claims.
    pub first_tampered_seq: Option<i64>,
    /// The chain is intact and ends where the anchor says (or beyond it).
    #[serde(default)]
    pub valid: bool,
    /// Why it is not valid.
    #[serde(default)]
    pub fault: Option<AuditFault>,
    /// The seq of the anchored checkpoint, when there is one.
    #[serde(default)]
    pub anchored_seq: Option<i64>,
}

/// Where the walk over the table stands.
struct Walk {
    checked: u64,
    prev_seq: i64,
    prev_hash: String,
    /// A keyed entry was seen: from then on an unkeyed one is a downgrade (a forgery).
    keyed: bool,
    /// The hash of the entry at the anchor's seq, once reached.
    at_anchor: Option<String>,
}

impl AuditService<'_> {
    /// Re-computes the whole chain and reports the first entry that was altered, inserted,
    /// reordered or deleted: a gap in `seq`, a broken `prev_hash` link, a MAC that does not
    /// match (only the audit key makes one), and the newest entries gone (the anchored
    /// checkpoint lies beyond the table's end).
    pub async fn verify_audit(&self) -> BankResult<AuditVerification> {
        // The anchor first: it only moves after a commit, so every later read of the table
        // reaches at least as far (reading it last could see an anchor for entries the
        // table read had not included yet).
        let anchor = self.audit_state.anchor.load().await?;
        let anchored_seq = anchor.as_ref().map(|a| a.seq);
        let report =
            |checked: u64, seq: Option<i64>, fault: Option<AuditFault>| AuditVerification {
                entries_checked: checked,
                first_tampered_seq: seq,
                valid: fault.is_none(),
                fault,
                anchored_seq,
            };
        if let Some(cp) = &anchor {
            if !self.checkpoint_is_authentic(cp)? {
                return Ok(report(0, Some(cp.seq), Some(AuditFault::AnchorInvalid)));
            }
        }
        let mut w = Walk {
            checked: 0,
            prev_seq: 0,
            prev_hash: GENESIS_HASH.to_string(),
            keyed: false,
            at_anchor: None,
        };
        let mut uow = self.store.begin(TxMode::Read).await?;
        loop {
            let page = uow
                .audit_entries(Some(w.prev_seq), AUDIT_VERIFY_PAGE)
                .await?;
            if page.is_empty() {
                break;
            }
            for e in page {
                w.checked += 1;
                if let Some((seq, fault)) = self.check_entry(&mut w, &e, anchor.as_ref())? {
                    return Ok(report(w.checked, Some(seq), Some(fault)));
                }
            }
        }
        Ok(match &anchor {
            // The newest entries are gone: the first missing one is right after the end.
            Some(cp) if cp.seq > w.prev_seq => {
                report(w.checked, Some(w.prev_seq + 1), Some(AuditFault::Missing))
            }
            // The anchored entry was replaced (deleted, then the chain grew again).
            Some(cp) if w.at_anchor.as_deref() != Some(cp.hash.as_str()) && cp.seq > 0 => {
                report(w.checked, Some(cp.seq), Some(AuditFault::Altered))
            }
            _ => report(w.checked, None, None),
        })
    }

    /// The fault at `e`, if any, and moves the walk past it.
    fn check_entry(
        &self,
        w: &mut Walk,
        e: &AuditRecord,
        anchor: Option<&AuditCheckpoint>,
    ) -> BankResult<Option<(i64, AuditFault)>> {
        if e.seq != w.prev_seq + 1 {
            // A deleted entry shows up at the entry after the gap.
            return Ok(Some((e.seq.min(w.prev_seq + 1), AuditFault::Missing)));
        }
        if e.prev_hash != w.prev_hash || !self.hash_is_right(w, e)? {
            return Ok(Some((e.seq, AuditFault::Altered)));
        }
        if anchor.is_some_and(|a| a.seq == e.seq) {
            w.at_anchor = Some(e.hash.clone());
        }
        w.prev_seq = e.seq;
        w.prev_hash = e.hash.clone();
        Ok(None)
    }

    /// The entry's keyed MAC (or, before the first keyed entry, its plain hash) matches.
    fn hash_is_right(&self, w: &mut Walk, e: &AuditRecord) -> BankResult<bool> {
        let Some(key_id) = e.hash_key_id() else {
            return Ok(!w.keyed && e.compute_hash() == e.hash);
        };
        w.keyed = true;
        let Some((_, key)) = self.audit_state.key(&*self.keys, Some(key_id))? else {
            // A key the provider does not know cannot vouch for anything.
            return Ok(false);
        };
        Ok(constant_time_eq(
            e.keyed_hash(key_id, &key).as_bytes(),
            e.hash.as_bytes(),
        ))
    }
}
