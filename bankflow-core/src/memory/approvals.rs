//! Parked staff money movements (money context, maker-checker).

use super::*;
use crate::banking::{ApprovalQuery, ApprovalRepo, ApprovalRequest};
use crate::ids::ApprovalId;

/// How to undo one approval write: the row's previous value (`None`: it did not exist).
pub(super) struct ApprovalUndo(ApprovalId, Option<Box<ApprovalRequest>>);

impl ApprovalUndo {
    pub(super) fn apply(self, st: &mut MemoryState) {
        let ApprovalUndo(id, prev) = self;
        match prev {
            Some(a) => {
                st.approvals.insert(id, *a);
            }
            None => {
                st.approvals.remove(&id);
            }
        }
    }
}

#[async_trait]
impl ApprovalRepo for MemoryUow {
    async fn insert_approval(&mut self, a: &ApprovalRequest) -> BankResult<()> {
        let st = self.st_mut()?;
        if st.approvals.contains_key(&a.id) {
            return Err(BankError::Duplicate("approval request"));
        }
        st.approvals.insert(a.id, a.clone());
        self.undo.push(Undo::Approval(ApprovalUndo(a.id, None)));
        Ok(())
    }

    async fn approval(&mut self, id: ApprovalId) -> BankResult<Option<ApprovalRequest>> {
        Ok(self.st().approvals.get(&id).cloned())
    }

    async fn lock_approval(&mut self, id: ApprovalId) -> BankResult<Option<ApprovalRequest>> {
        // Write units are serial: nothing else can change the row until this unit ends.
        Ok(self.st().approvals.get(&id).cloned())
    }

    async fn update_approval(&mut self, a: &ApprovalRequest) -> BankResult<()> {
        let st = self.st_mut()?;
        let prev = st
            .approvals
            .insert(a.id, a.clone())
            .ok_or(BankError::NotFound {
                resource: "approval request",
            });
        match prev {
            Ok(p) => {
                self.undo
                    .push(Undo::Approval(ApprovalUndo(a.id, Some(Box::new(p)))));
                Ok(())
            }
            Err(e) => {
                st.approvals.remove(&a.id);
                Err(e)
            }
        }
    }

    async fn list_approvals(&mut self, q: &ApprovalQuery) -> BankResult<Vec<ApprovalRequest>> {
        q.validate()?;
        let mut v: Vec<ApprovalRequest> = self
            .st()
            .approvals
            .values()
            .filter(|a| q.matches(a))
            .cloned()
            .collect();
        v.sort_by_key(|a| std::cmp::Reverse((a.created_at, a.id)));
        v.truncate(q.limit as usize);
        Ok(v)
    }
}
