//! Ledger context: journal entries and postings.

use super::*;

#[async_trait]
impl LedgerRepo for MemoryUow {
    async fn insert_journal(&mut self, journal: &JournalEntry) -> BankResult<()> {
        journal.validate()?;
        let st = self.st_mut()?;
        let idx = st.ledger.journals.len();
        let first_posting = st.ledger.postings.len();
        for p in &journal.postings {
            let seq = st.ledger.postings.len() as i64 + 1;
            st.ledger
                .postings_by_account
                .entry(p.account_id)
                .or_default()
                .push(st.ledger.postings.len());
            st.ledger.postings.push(PostingRow {
                seq,
                journal: idx,
                account_id: p.account_id,
                amount: p.amount,
            });
        }
        let prev_of_transaction = st.ledger.journals_by_txn.link(journal.transaction_id, idx);
        st.ledger.journals.push(JournalRow {
            id: journal.id,
            transaction_id: journal.transaction_id,
            posted_at: journal.posted_at,
            description: journal.description.clone(),
            first_posting,
            postings_len: journal.postings.len(),
            prev_of_transaction,
        });
        self.undo.push(Undo::Journal);
        Ok(())
    }

    async fn journals_of_transaction(
        &mut self,
        txn: TransactionId,
        limit: u32,
    ) -> BankResult<Vec<JournalEntry>> {
        let st = self.st();
        let journals = &st.ledger.journals;
        let rows = st
            .ledger
            .journals_by_txn
            .rows(txn, |i| journals[i].prev_of_transaction);
        Ok(rows
            .into_iter()
            .take(limit.min(crate::ports::JOURNALS_OF_TRANSACTION_MAX) as usize)
            .map(|i| {
                let j = &journals[i];
                JournalEntry {
                    id: j.id,
                    transaction_id: j.transaction_id,
                    postings: (j.first_posting..j.first_posting + j.postings_len)
                        .map(|p| {
                            let p = &st.ledger.postings[p];
                            crate::ledger::Posting {
                                account_id: p.account_id,
                                amount: p.amount,
                            }
                        })
                        .collect(),
                    posted_at: j.posted_at,
                    description: j.description.clone(),
                }
            })
            .collect())
    }

    async fn posting_sum(
        &mut self,
        account: AccountId,
        before: Option<DateTime<Utc>>,
    ) -> BankResult<Decimal> {
        let st = self.st();
        let Some(idx) = st.ledger.postings_by_account.get(&account) else {
            return Ok(Decimal::ZERO);
        };
        Ok(idx
            .iter()
            .map(|i| &st.ledger.postings[*i])
            .filter(|p| before.is_none_or(|b| st.ledger.journals[p.journal].posted_at < b))
            .map(|p| p.amount.amount())
            .sum())
    }

    async fn postings(
        &mut self,
        account: AccountId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        after_seq: Option<i64>,
        limit: u32,
    ) -> BankResult<Vec<PostingLine>> {
        let st = self.st();
        let Some(idx) = st.ledger.postings_by_account.get(&account) else {
            return Ok(Vec::new());
        };
        Ok(idx
            .iter()
            .map(|i| &st.ledger.postings[*i])
            .filter(|p| after_seq.is_none_or(|s| p.seq > s))
            .filter(|p| {
                let at = st.ledger.journals[p.journal].posted_at;
                at >= from && at < to
            })
            .take(limit as usize)
            .map(|p| {
                let j = &st.ledger.journals[p.journal];
                PostingLine {
                    seq: p.seq,
                    journal_id: j.id,
                    transaction_id: j.transaction_id,
                    account_id: p.account_id,
                    amount: p.amount,
                    posted_at: j.posted_at,
                    description: j.description.clone(),
                }
            })
            .collect())
    }

    async fn ledger_totals(&mut self) -> BankResult<Vec<(Currency, Decimal)>> {
        let mut sums: std::collections::BTreeMap<Currency, Decimal> = Default::default();
        for p in self.st().ledger.postings.iter() {
            *sums.entry(p.amount.currency()).or_default() += p.amount.amount();
        }
        Ok(sums.into_iter().collect())
    }
}
