//! The audit log.

use super::*;

#[async_trait]
impl AuditRepo for MemoryUow {
    async fn lock_audit_head(&mut self) -> BankResult<Option<(i64, String)>> {
        Ok(self.st().audit.last().map(|e| (e.seq, e.hash.clone())))
    }

    async fn append_audit(&mut self, entry: &AuditRecord) -> BankResult<()> {
        let st = self.st_mut()?;
        if st.audit.last().map_or(0, |e| e.seq) >= entry.seq {
            return Err(BankError::Duplicate("audit entry"));
        }
        st.audit.push(entry.clone());
        self.push_undo(CtxUndo::AuditPop);
        Ok(())
    }

    async fn audit_entries(
        &mut self,
        after_seq: Option<i64>,
        limit: u32,
    ) -> BankResult<Vec<AuditRecord>> {
        let st = self.st();
        let start = st
            .audit
            .partition_point(|e| after_seq.is_some_and(|a| e.seq <= a));
        Ok(st.audit[start..]
            .iter()
            .take(limit as usize)
            .cloned()
            .collect())
    }
}
