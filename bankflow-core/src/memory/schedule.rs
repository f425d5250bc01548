//! Scheduled transfers (transaction context).

use super::*;

#[async_trait]
impl crate::schedule::ScheduleRepo for MemoryUow {
    async fn insert_schedule(&mut self, s: &crate::schedule::ScheduledTransfer) -> BankResult<()> {
        let st = self.st_mut()?;
        if st.schedules.contains_key(&s.id) {
            return Err(BankError::Duplicate("scheduled transfer"));
        }
        st.schedules.insert(s.id, s.clone());
        self.undo.push(Undo::Schedule(s.id, None));
        Ok(())
    }

    async fn schedule(
        &mut self,
        id: crate::ids::ScheduleId,
    ) -> BankResult<Option<crate::schedule::ScheduledTransfer>> {
        Ok(self.st().schedules.get(&id).cloned())
    }

    async fn lock_schedule(
        &mut self,
        id: crate::ids::ScheduleId,
    ) -> BankResult<Option<crate::schedule::ScheduledTransfer>> {
        Ok(self.st().schedules.get(&id).cloned())
    }

    async fn update_schedule(&mut self, s: &crate::schedule::ScheduledTransfer) -> BankResult<()> {
        let st = self.st_mut()?;
        let slot = st.schedules.get_mut(&s.id).ok_or(BankError::NotFound {
            resource: "scheduled transfer",
        })?;
        let prev = std::mem::replace(slot, s.clone());
        self.undo.push(Undo::Schedule(s.id, Some(Box::new(prev))));
        Ok(())
    }

    async fn schedules_of_customer(
        &mut self,
        customer: CustomerId,
        limit: u32,
    ) -> BankResult<Vec<crate::schedule::ScheduledTransfer>> {
        let mut v: Vec<_> = self
            .st()
            .schedules
            .values()
            .filter(|s| s.customer_id == customer)
            .cloned()
            .collect();
        v.sort_by_key(|s| std::cmp::Reverse((s.created_at, s.id)));
        v.truncate(limit as usize);
        Ok(v)
    }

    async fn claim_due_schedules(
        &mut self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> BankResult<Vec<crate::schedule::ScheduledTransfer>> {
        let mut due: Vec<_> = self
            .st()
            .schedules
            .values()
            .filter(|s| {
                s.status == crate::schedule::ScheduleStatus::Active
                    && s.next_run_at <= now
                    && s.lease_until.is_none_or(|l| l <= now)
            })
            .cloned()
            .collect();
        due.sort_by_key(|s| (s.next_run_at, s.id));
        due.truncate(limit as usize);
        for s in &mut due {
            s.lease_until = Some(lease_until);
            self.update_schedule(s).await?;
        }
        Ok(due)
    }
}
