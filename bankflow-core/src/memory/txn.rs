//! Transaction context: the transaction read model.

use super::*;

impl TxnState {
    pub(super) fn get(&self, id: TransactionId) -> Option<&Transaction> {
        self.txns
            .get(&id)
            .and_then(|i| self.rows.get(*i))
            .map(|t| &**t)
    }

    /// The row's shared snapshot when it is exactly `t` (see `rows`).
    pub(super) fn shared(&self, t: &Transaction) -> Option<Arc<Transaction>> {
        let row = self.rows.get(*self.txns.get(&t.id)?)?;
        (**row == *t).then(|| row.clone())
    }
}

#[async_trait]
impl TransactionRepo for MemoryUow {
    async fn insert_transaction(&mut self, txn: &Transaction) -> BankResult<()> {
        let st = self.st_mut()?;
        if st.txn.txns.contains_key(&txn.id) {
            return Err(BankError::Duplicate("transaction"));
        }
        st.txn.txns.insert(txn.id, st.txn.rows.len());
        st.txn.rows.push(Arc::new(txn.clone()));
        for a in [txn.from_account_id, txn.to_account_id]
            .into_iter()
            .flatten()
        {
            st.txn.by_account.entry(a).or_default().push(txn.id);
        }
        st.txn.all.push(txn.id);
        self.undo.push(Undo::Txn(txn.id, None));
        Ok(())
    }

    async fn update_transaction(&mut self, txn: &Transaction) -> BankResult<()> {
        let st = self.st_mut()?;
        let i = *st.txn.txns.get(&txn.id).ok_or(BankError::NotFound {
            resource: "transaction",
        })?;
        let slot = &mut st.txn.rows[i];
        let prev = std::mem::replace(slot, Arc::new(txn.clone()));
        self.undo.push(Undo::Txn(txn.id, Some(prev)));
        Ok(())
    }

    async fn transaction(&mut self, id: TransactionId) -> BankResult<Option<Transaction>> {
        Ok(self.st().txn.get(id).cloned())
    }

    async fn lock_transaction(&mut self, id: TransactionId) -> BankResult<Option<Transaction>> {
        Ok(self.st().txn.get(id).cloned())
    }

    async fn list_transactions(
        &mut self,
        query: &TransactionQuery,
    ) -> BankResult<Vec<Transaction>> {
        query.validate()?;
        let st = self.st();
        let ids: &[TransactionId] = match query.account_id {
            Some(a) => st.txn.by_account.get(&a).map(Vec::as_slice).unwrap_or(&[]),
            None => &st.txn.all,
        };
        let mut v: Vec<&Transaction> = ids
            .iter()
            .filter_map(|id| st.txn.get(*id))
            .filter(|t| query.matches(t))
            .collect();
        v.sort_by_key(|t| std::cmp::Reverse((t.created_at, t.id)));
        v.dedup_by_key(|t| t.id);
        Ok(v.into_iter().take(query.limit as usize).cloned().collect())
    }
}
