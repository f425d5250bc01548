//! Fraud context: rules, lists, assessments and cases.

use super::*;

#[async_trait]
impl FraudRepo for MemoryUow {
    async fn insert_rule(&mut self, rule: &FraudRule) -> BankResult<()> {
        let st = &mut self.st_mut()?.fraud;
        if st.rules.contains_key(&rule.id)
            || st.rules.values().any(|r| r.rule_name == rule.rule_name)
        {
            return Err(BankError::Duplicate("fraud rule"));
        }
        st.rules.insert(rule.id, rule.clone());
        self.push_undo(CtxUndo::Rule(rule.id, None));
        Ok(())
    }

    async fn update_rule(&mut self, rule: &FraudRule) -> BankResult<()> {
        let st = &mut self.st_mut()?.fraud;
        if !st.rules.contains_key(&rule.id) {
            return Err(BankError::NotFound {
                resource: "fraud rule",
            });
        }
        if st
            .rules
            .values()
            .any(|r| r.rule_name == rule.rule_name && r.id != rule.id)
        {
            return Err(BankError::Duplicate("fraud rule"));
        }
        let prev = st.rules.insert(rule.id, rule.clone());
        self.push_undo(CtxUndo::Rule(rule.id, prev.map(Box::new)));
        Ok(())
    }

    async fn rule(&mut self, id: RuleId) -> BankResult<Option<FraudRule>> {
        Ok(self.st().fraud.rules.get(&id).cloned())
    }

    async fn list_rules(&mut self, active_only: bool, limit: u32) -> BankResult<Vec<FraudRule>> {
        let mut v: Vec<&FraudRule> = self
            .st()
            .fraud
            .rules
            .values()
            .filter(|r| !active_only || r.is_active)
            .collect();
        v.sort_by_key(|r| (std::cmp::Reverse(r.priority), r.id));
        Ok(v.into_iter().take(limit as usize).cloned().collect())
    }

    async fn insert_list_entry(&mut self, entry: &ListEntry) -> BankResult<()> {
        let st = &mut self.st_mut()?.fraud;
        if st.lists.contains_key(&entry.id)
            || st.lists.values().any(|e| {
                e.list == entry.list && e.entry_type == entry.entry_type && e.value == entry.value
            })
        {
            return Err(BankError::Duplicate("list entry"));
        }
        st.lists.insert(entry.id, entry.clone());
        self.push_undo(CtxUndo::List(entry.id, None));
        Ok(())
    }

    async fn delete_list_entry(&mut self, id: ListEntryId) -> BankResult<bool> {
        let st = &mut self.st_mut()?.fraud;
        let prev = st.lists.remove(&id);
        let found = prev.is_some();
        if found {
            self.push_undo(CtxUndo::List(id, prev.map(Box::new)));
        }
        Ok(found)
    }

    async fn list_entries(
        &mut self,
        list: Option<ListKind>,
        after: Option<ListEntryId>,
        limit: u32,
    ) -> BankResult<Vec<ListEntry>> {
        let mut v: Vec<&ListEntry> = self
            .st()
            .fraud
            .lists
            .values()
            .filter(|e| list.is_none_or(|l| e.list == l) && after.is_none_or(|a| e.id > a))
            .collect();
        v.sort_by_key(|e| e.id);
        Ok(v.into_iter().take(limit as usize).cloned().collect())
    }

    async fn find_list_entries(
        &mut self,
        keys: &[(ListEntryType, String)],
    ) -> BankResult<Vec<ListEntry>> {
        let mut v: Vec<&ListEntry> = self
            .st()
            .fraud
            .lists
            .values()
            .filter(|e| {
                keys.iter()
                    .any(|(t, val)| e.entry_type == *t && e.value == *val)
            })
            .collect();
        v.sort_by_key(|e| e.id);
        Ok(v.into_iter().cloned().collect())
    }

    async fn insert_assessment(&mut self, a: &Assessment) -> BankResult<()> {
        let st = &mut self.st_mut()?.fraud;
        if st.assessments.contains_key(&a.transaction_id) {
            return Err(BankError::Duplicate("fraud assessment"));
        }
        set_assessment(st, a.transaction_id, Some(a.clone()));
        self.push_undo(CtxUndo::Assessment(a.transaction_id, None));
        Ok(())
    }

    async fn assessment(&mut self, txn: TransactionId) -> BankResult<Option<Assessment>> {
        Ok(self.st().fraud.assessments.get(&txn).cloned())
    }

    async fn velocity(
        &mut self,
        account: AccountId,
        since: DateTime<Utc>,
    ) -> BankResult<VelocityStats> {
        let mut out = VelocityStats::default();
        for r in self
            .st()
            .fraud
            .assessments_by_account
            .get(&account)
            .into_iter()
            .flatten()
        {
            if r.counts && r.at >= since {
                out.count += 1;
                out.total += r.amount;
            }
        }
        Ok(out)
    }

    async fn has_paid_before(
        &mut self,
        account: AccountId,
        payee: &str,
        before: DateTime<Utc>,
    ) -> BankResult<bool> {
        let st = &self.st().fraud;
        Ok(st
            .assessments_by_account
            .get(&account)
            .into_iter()
            .flatten()
            .filter(|r| r.counts && r.at < before)
            .filter_map(|r| st.assessments.get(&r.txn))
            .any(|a| a.payee.as_deref() == Some(payee)))
    }

    async fn insert_case(&mut self, case: &FraudCase) -> BankResult<()> {
        let st = &mut self.st_mut()?.fraud;
        if st.cases.contains_key(&case.id) || st.case_by_txn.contains_key(&case.transaction_id) {
            return Err(BankError::Duplicate("fraud case"));
        }
        set_case(st, case.id, Some(case.clone()));
        self.push_undo(CtxUndo::Case(case.id, None));
        Ok(())
    }

    async fn case(&mut self, id: CaseId) -> BankResult<Option<FraudCase>> {
        Ok(self.st().fraud.cases.get(&id).cloned())
    }

    async fn case_by_transaction(&mut self, txn: TransactionId) -> BankResult<Option<FraudCase>> {
        let st = &self.st().fraud;
        Ok(st
            .case_by_txn
            .get(&txn)
            .and_then(|id| st.cases.get(id))
            .cloned())
    }

    async fn update_case(&mut self, case: &FraudCase) -> BankResult<()> {
        let st = &mut self.st_mut()?.fraud;
        if !st.cases.contains_key(&case.id) {
            return Err(BankError::NotFound {
                resource: "fraud case",
            });
        }
        let prev = set_case(st, case.id, Some(case.clone()));
        self.push_undo(CtxUndo::Case(case.id, prev.map(Box::new)));
        Ok(())
    }

    async fn list_cases(
        &mut self,
        status: Option<CaseStatus>,
        after: Option<CaseId>,
        limit: u32,
    ) -> BankResult<Vec<FraudCase>> {
        let mut v: Vec<&FraudCase> = self
            .st()
            .fraud
            .cases
            .values()
            .filter(|c| status.is_none_or(|s| c.status == s) && after.is_none_or(|a| c.id > a))
            .collect();
        v.sort_by_key(|c| c.id);
        Ok(v.into_iter().take(limit as usize).cloned().collect())
    }

    async fn count_cases_of_account(
        &mut self,
        account: AccountId,
        since: DateTime<Utc>,
    ) -> BankResult<u32> {
        Ok(self
            .st()
            .fraud
            .cases
            .values()
            .filter(|c| c.account_id == account && c.created_at >= since)
            .count() as u32)
    }
}
