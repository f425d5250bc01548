//! Idempotency records.

use super::*;

impl MemoryState {
    pub(super) fn idem_hash(&self, scope: &str, key: &IdempotencyKey) -> u64 {
        use std::hash::BuildHasher;
        self.idem_hasher.hash_one((scope, key.as_str()))
    }

    pub(super) fn idem_find(&self, scope: &str, key: &IdempotencyKey) -> Option<usize> {
        let scope = *self.idem_scope_ids.get(scope)?;
        let recs = &self.idem_records;
        let hash = self.idem_hash(&self.idem_scopes[scope as usize], key);
        self.idem
            .find(hash, |&i| recs[i].scope == scope && recs[i].key == *key)
            .copied()
    }

    pub(super) fn idem_record(&self, i: usize) -> Option<IdempotencyRecord> {
        let r = &self.idem_records[i];
        Some(IdempotencyRecord {
            scope: self.idem_scopes[r.scope as usize].clone(),
            key: r.key.clone(),
            fingerprint: r.fingerprint.text(),
            response: match &r.response {
                StoredResponse::Transaction(t) => {
                    crate::idempotency::IdempotentResponse::Transaction((**t).clone())
                }
                StoredResponse::Other(o) => (**o).clone(),
                StoredResponse::Purged => return None,
            },
            created_at: r.created_at,
        })
    }

    /// Adds record `i` to the lookup table (an insert, or undoing its purge).
    pub(super) fn idem_index(&mut self, i: usize) {
        let r = &self.idem_records[i];
        let hash = self.idem_hash(&self.idem_scopes[r.scope as usize], &r.key);
        let (recs, scopes, hasher) = (&self.idem_records, &self.idem_scopes, &self.idem_hasher);
        self.idem.insert_unique(hash, i, |&j| {
            use std::hash::BuildHasher;
            let r = &recs[j];
            hasher.hash_one((scopes[r.scope as usize].as_str(), r.key.as_str()))
        });
    }

    /// Removes record `i` from the lookup table (undoing its insert, or purging it).
    pub(super) fn idem_unindex(&mut self, i: usize) {
        let r = &self.idem_records[i];
        let hash = self.idem_hash(&self.idem_scopes[r.scope as usize], &r.key);
        if let Ok(e) = self.idem.find_entry(hash, |&j| j == i) {
            e.remove();
        }
    }

    pub(super) fn idem_scope_id(&mut self, scope: &str) -> u32 {
        if let Some(id) = self.idem_scope_ids.get(scope) {
            return *id;
        }
        // One scope per caller (user or system): 2^32 of them do not fit in memory anyway.
        #[allow(clippy::expect_used)]
        let id = u32::try_from(self.idem_scopes.len()).expect("fewer than 2^32 callers");
        self.idem_scopes.push(scope.to_string());
        self.idem_scope_ids.insert(scope.to_string(), id);
        id
    }
}

#[async_trait]
impl IdempotencyRepo for MemoryUow {
    async fn idempotency(
        &mut self,
        scope: &str,
        key: &IdempotencyKey,
    ) -> BankResult<Option<IdempotencyRecord>> {
        let st = self.st();
        Ok(st.idem_find(scope, key).and_then(|i| st.idem_record(i)))
    }

    async fn insert_idempotency(&mut self, record: &IdempotencyRecord) -> BankResult<()> {
        let st = self.st_mut()?;
        if st.idem_find(&record.scope, &record.key).is_some() {
            return Err(BankError::Duplicate("idempotency key"));
        }
        let response = match &record.response {
            crate::idempotency::IdempotentResponse::Transaction(t) => {
                StoredResponse::Transaction(st.txn.shared(t).unwrap_or_else(|| Arc::new(t.clone())))
            }
            other => StoredResponse::Other(Box::new(other.clone())),
        };
        let row = IdemRow {
            scope: st.idem_scope_id(&record.scope),
            key: record.key.clone(),
            fingerprint: StoredFingerprint::of(&record.fingerprint),
            response,
            created_at: record.created_at,
        };
        let i = st.idem_records.len();
        st.idem_records.push(row);
        st.idem_index(i);
        self.undo.push(Undo::Idem);
        Ok(())
    }

    async fn purge_idempotency(&mut self, before: DateTime<Utc>, limit: u32) -> BankResult<u64> {
        let limit = limit.min(crate::ports::PURGE_BATCH_MAX) as usize;
        let st = self.st_mut()?;
        let mut undo = Vec::new();
        for i in st.idem_purged_below..st.idem_records.len() {
            if undo.len() >= limit {
                break;
            }
            let r = &st.idem_records[i];
            if matches!(r.response, StoredResponse::Purged) || r.created_at >= before {
                continue;
            }
            st.idem_unindex(i);
            let response =
                std::mem::replace(&mut st.idem_records[i].response, StoredResponse::Purged);
            undo.push(Undo::IdemPurge(i, response));
        }
        while st.idem_purged_below < st.idem_records.len()
            && matches!(
                st.idem_records[st.idem_purged_below].response,
                StoredResponse::Purged
            )
        {
            st.idem_purged_below += 1;
        }
        let n = undo.len() as u64;
        self.undo.extend(undo);
        Ok(n)
    }
}
