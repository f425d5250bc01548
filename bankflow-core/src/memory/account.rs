//! Account context: accounts and holds.

use super::*;

#[async_trait]
impl AccountRepo for MemoryUow {
    async fn insert_account(&mut self, account: &Account) -> BankResult<()> {
        self.fault(FaultPoint::InsertAccount)?;
        let st = self.st_mut()?;
        if st.account.accounts.contains_key(&account.id)
            || st.account.by_number.contains_key(&account.account_number)
        {
            return Err(BankError::Duplicate("account"));
        }
        st.account.accounts.insert(account.id, account.clone());
        st.account
            .by_number
            .insert(account.account_number, account.id);
        st.account
            .by_customer
            .entry(account.customer_id)
            .or_default()
            .push(account.id);
        self.undo.push(Undo::Account(account.id, None));
        Ok(())
    }

    async fn account(&mut self, id: AccountId) -> BankResult<Option<Account>> {
        Ok(self.st().account.accounts.get(&id).cloned())
    }

    async fn account_by_number(&mut self, number: &AccountNumber) -> BankResult<Option<Account>> {
        let st = self.st();
        Ok(st
            .account
            .by_number
            .get(number)
            .and_then(|id| st.account.accounts.get(id))
            .cloned())
    }

    async fn lock_accounts(&mut self, ids: &[AccountId]) -> BankResult<Vec<Account>> {
        debug_assert!(
            ids.windows(2).all(|w| w[0] < w[1]),
            "lock order: sorted, distinct ids"
        );
        let st = self.st();
        Ok(ids
            .iter()
            .filter_map(|id| st.account.accounts.get(id).cloned())
            .collect())
    }

    async fn update_account(&mut self, account: &Account) -> BankResult<()> {
        let st = self.st_mut()?;
        let slot = st
            .account
            .accounts
            .get_mut(&account.id)
            .ok_or(BankError::NotFound {
                resource: "account",
            })?;
        let prev = std::mem::replace(slot, account.clone());
        self.undo.push(Undo::Account(account.id, Some(prev)));
        Ok(())
    }

    async fn accounts_of_customer(
        &mut self,
        customer: CustomerId,
        limit: u32,
    ) -> BankResult<Vec<Account>> {
        let st = self.st();
        let limit = limit.min(crate::ports::ACCOUNTS_OF_CUSTOMER_MAX) as usize;
        Ok(st
            .account
            .by_customer
            .get(&customer)
            .map(|ids| {
                ids.iter()
                    .filter_map(|id| st.account.accounts.get(id).cloned())
                    .take(limit)
                    .collect()
            })
            .unwrap_or_default())
    }

    async fn list_accounts(
        &mut self,
        after: Option<AccountId>,
        limit: u32,
    ) -> BankResult<Vec<Account>> {
        let mut all: Vec<&Account> = self
            .st()
            .account
            .accounts
            .values()
            .filter(|a| after.is_none_or(|x| a.id > x))
            .collect();
        all.sort_by_key(|a| a.id);
        Ok(all.into_iter().take(limit as usize).cloned().collect())
    }

    async fn insert_hold(&mut self, hold: &Hold) -> BankResult<()> {
        let st = self.st_mut()?;
        if st.account.holds.insert(hold.id, hold.clone()).is_some() {
            return Err(BankError::Duplicate("hold"));
        }
        self.undo.push(Undo::Hold(hold.id, None));
        Ok(())
    }

    async fn hold(&mut self, id: HoldId) -> BankResult<Option<Hold>> {
        Ok(self.st().account.holds.get(&id).cloned())
    }

    async fn update_hold(&mut self, hold: &Hold) -> BankResult<()> {
        let st = self.st_mut()?;
        let slot = st
            .account
            .holds
            .get_mut(&hold.id)
            .ok_or(BankError::NotFound { resource: "hold" })?;
        let prev = std::mem::replace(slot, hold.clone());
        self.undo.push(Undo::Hold(hold.id, Some(Box::new(prev))));
        Ok(())
    }

    async fn active_holds(&mut self, account: AccountId, limit: u32) -> BankResult<Vec<Hold>> {
        let mut v: Vec<Hold> = self
            .st()
            .account
            .holds
            .values()
            .filter(|h| h.account_id == account && h.status == HoldStatus::Active)
            .cloned()
            .collect();
        v.sort_by_key(|h| (h.created_at, h.id));
        v.truncate(limit.min(crate::ports::ACTIVE_HOLDS_MAX) as usize);
        Ok(v)
    }

    async fn expired_holds(&mut self, now: DateTime<Utc>, limit: u32) -> BankResult<Vec<Hold>> {
        let mut v: Vec<Hold> = self
            .st()
            .account
            .holds
            .values()
            .filter(|h| h.status == HoldStatus::Active && h.expires_at <= now)
            .cloned()
            .collect();
        v.sort_by_key(|h| (h.expires_at, h.id));
        v.truncate(limit as usize);
        Ok(v)
    }
}
