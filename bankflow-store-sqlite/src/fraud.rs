//! Fraud context: rules, lists, assessments (velocity history) and cases. Runs inside the
//! transfer's unit of work, so every query here is an index range scan.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use bankflow_core::fraud::{
    Assessment, CaseStatus, FraudCase, FraudRule, ListEntry, ListEntryType, ListKind, VelocityStats,
};
use bankflow_core::ids::{AccountId, CaseId, ListEntryId, RuleId, TransactionId};
use bankflow_core::ports::FraudRepo;
use bankflow_core::{BankError, BankResult, FraudAction};

use crate::codec::{self, id, opt_id, opt_ts, record, records, to_doc, ts, Col};
use crate::uow::SqliteUow;
use bankflow_core::store_support::found;

/// Keys one `find_list_entries` call may name (the port promises at most 16).
const LIST_KEYS_MAX: usize = 64;

#[async_trait]
impl FraudRepo for SqliteUow {
    async fn insert_rule(&mut self, r: &FraudRule) -> BankResult<()> {
        sqlx::query(
            "INSERT INTO fraud_rules (id, rule_name, rule_type, priority, is_active, created_at, updated_at, record) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(id(r.id.0))
        .bind(r.rule_name.clone())
        .bind(r.rule_type.as_str())
        .bind(r.priority)
        .bind(r.is_active)
        .bind(ts(&r.created_at))
        .bind(ts(&r.updated_at))
        .bind(to_doc(r)?)
        .execute(self.w().await?)
        .await
        .map_err(codec::err(Some("fraud rule")))?;
        self.rules_cache().clear();
        Ok(())
    }

    async fn update_rule(&mut self, r: &FraudRule) -> BankResult<()> {
        let done = sqlx::query(
            "UPDATE fraud_rules SET rule_name = ?, rule_type = ?, priority = ?, is_active = ?, created_at = ?, \
             updated_at = ?, record = ? WHERE id = ?",
        )
        .bind(r.rule_name.clone())
        .bind(r.rule_type.as_str())
        .bind(r.priority)
        .bind(r.is_active)
        .bind(ts(&r.created_at))
        .bind(ts(&r.updated_at))
        .bind(to_doc(r)?)
        .bind(id(r.id.0))
        .execute(self.w().await?)
        .await
        .map_err(codec::err(Some("fraud rule")))?;
        self.rules_cache().clear();
        found(done.rows_affected(), "fraud rule")?;
        Ok(())
    }

    async fn rule(&mut self, rule: RuleId) -> BankResult<Option<FraudRule>> {
        let row = sqlx::query("SELECT record FROM fraud_rules WHERE id = ?")
            .bind(id(rule.0))
            .fetch_optional(self.unbuffered()?)
            .await
            .map_err(codec::err(None))?;
        row.as_ref().map(record).transpose()
    }

    async fn list_rules(&mut self, active_only: bool, limit: u32) -> BankResult<Vec<FraudRule>> {
        // Every transfer reads the active rules; a group's commands share one read.
        if let Some(rules) = self.rules_cache().get(active_only, limit) {
            return Ok(rules);
        }
        let rows = sqlx::query(
            "SELECT record FROM fraud_rules WHERE (? = 0 OR is_active = 1) ORDER BY priority DESC, id LIMIT ?",
        )
        .bind(active_only)
        .bind(i64::from(limit))
        .fetch_all(self.unbuffered()?)
        .await
        .map_err(codec::err(None))?;
        let rules: Vec<FraudRule> = records(&rows)?;
        self.rules_cache().put(active_only, limit, rules.clone());
        Ok(rules)
    }

    async fn insert_list_entry(&mut self, e: &ListEntry) -> BankResult<()> {
        sqlx::query(
            "INSERT INTO fraud_list_entries (id, list, entry_type, value, created_at, record) VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(id(e.id.0))
        .bind(e.list.as_str())
        .bind(e.entry_type.as_str())
        .bind(e.value.clone())
        .bind(ts(&e.created_at))
        .bind(to_doc(e)?)
        .execute(self.w().await?)
        .await
        .map_err(codec::err(Some("list entry")))?;
        Ok(())
    }

    async fn delete_list_entry(&mut self, entry: ListEntryId) -> BankResult<bool> {
        let done = sqlx::query("DELETE FROM fraud_list_entries WHERE id = ?")
            .bind(id(entry.0))
            .execute(self.w().await?)
            .await
            .map_err(codec::err(None))?;
        Ok(done.rows_affected() > 0)
    }

    async fn list_entries(
        &mut self,
        list: Option<ListKind>,
        after: Option<ListEntryId>,
        limit: u32,
    ) -> BankResult<Vec<ListEntry>> {
        let rows = sqlx::query(
            "SELECT record FROM fraud_list_entries WHERE (?1 IS NULL OR list = ?1) AND id > ?2 ORDER BY id LIMIT ?3",
        )
        .bind(list.map(|l| l.as_str()))
        .bind(after.map(|a| id(a.0)).unwrap_or_default())
        .bind(i64::from(limit))
        .fetch_all(self.unbuffered()?)
        .await
        .map_err(codec::err(None))?;
        records(&rows)
    }

    async fn find_list_entries(
        &mut self,
        keys: &[(ListEntryType, String)],
    ) -> BankResult<Vec<ListEntry>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        if keys.len() > LIST_KEYS_MAX {
            return Err(BankError::LimitExceeded(format!(
                "at most {LIST_KEYS_MAX} list keys per lookup"
            )));
        }
        let mut qb =
            sqlx::QueryBuilder::<sqlx::Sqlite>::new("SELECT record FROM fraud_list_entries WHERE ");
        for (i, (ty, value)) in keys.iter().enumerate() {
            if i > 0 {
                qb.push(" OR ");
            }
            qb.push("(entry_type = ")
                .push_bind(ty.as_str())
                .push(" AND value = ")
                .push_bind(value.clone())
                .push(")");
        }
        qb.push(" ORDER BY id");
        let rows = qb
            .build()
            .fetch_all(self.unbuffered()?)
            .await
            .map_err(codec::err(None))?;
        records(&rows)
    }

    async fn insert_assessment(&mut self, a: &Assessment) -> BankResult<()> {
        sqlx::query(
            "INSERT INTO fraud_assessments (transaction_id, from_account_id, payee, amount_minor, currency, action, \
             created_at, record) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(id(a.transaction_id.0))
        .bind(opt_id(a.from_account_id.map(|x| x.0)))
        .bind(a.payee.clone())
        .bind(a.amount.amount_minor())
        .bind(a.amount.currency().code().to_string())
        .bind(a.action.as_str())
        .bind(ts(&a.created_at))
        .bind(to_doc(a)?)
        .execute(self.w().await?)
        .await
        .map_err(codec::err(Some("fraud assessment")))?;
        Ok(())
    }

    async fn assessment(&mut self, txn: TransactionId) -> BankResult<Option<Assessment>> {
        let row = sqlx::query("SELECT record FROM fraud_assessments WHERE transaction_id = ?")
            .bind(id(txn.0))
            .fetch_optional(self.unbuffered()?)
            .await
            .map_err(codec::err(None))?;
        row.as_ref().map(record).transpose()
    }

    async fn velocity(
        &mut self,
        account: AccountId,
        since: DateTime<Utc>,
    ) -> BankResult<VelocityStats> {
        // Integer minor units summed per currency: exact, never floating point.
        let rows = sqlx::query(
            "SELECT currency, COUNT(*) AS n, SUM(amount_minor) AS total FROM fraud_assessments \
             WHERE from_account_id = ? AND created_at >= ? AND action <> ? GROUP BY currency",
        )
        .bind(id(account.0))
        .bind(ts(&since))
        .bind(FraudAction::Block.as_str())
        .fetch_all(self.unbuffered()?)
        .await
        .map_err(codec::err(None))?;
        let mut stats = VelocityStats {
            count: 0,
            total: Decimal::ZERO,
        };
        for r in &rows {
            let currency = r.currency("currency")?;
            stats.count += u32::try_from(r.int("n")?).map_err(|_| codec::corrupt("n"))?;
            stats.total += Decimal::new(r.int("total")?, currency.minor_units());
        }
        Ok(stats)
    }

    async fn has_paid_before(
        &mut self,
        account: AccountId,
        payee: &str,
        before: DateTime<Utc>,
    ) -> BankResult<bool> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM (SELECT 1 FROM fraud_assessments WHERE from_account_id = ? AND payee = ? \
             AND created_at < ? AND action <> ? LIMIT 1)",
        )
        .bind(id(account.0))
        .bind(payee.to_string())
        .bind(ts(&before))
        .bind(FraudAction::Block.as_str())
        .fetch_one(self.unbuffered()?)
        .await
        .map_err(codec::err(None))?;
        Ok(n > 0)
    }

    async fn insert_case(&mut self, c: &FraudCase) -> BankResult<()> {
        sqlx::query(
            "INSERT INTO fraud_cases (id, transaction_id, account_id, status, created_at, resolved_at, record) \
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(id(c.id.0))
        .bind(id(c.transaction_id.0))
        .bind(id(c.account_id.0))
        .bind(c.status.as_str())
        .bind(ts(&c.created_at))
        .bind(opt_ts(&c.resolved_at))
        .bind(to_doc(c)?)
        .execute(self.w().await?)
        .await
        .map_err(codec::err(Some("fraud case")))?;
        Ok(())
    }

    async fn case(&mut self, case: CaseId) -> BankResult<Option<FraudCase>> {
        let row = sqlx::query("SELECT record FROM fraud_cases WHERE id = ?")
            .bind(id(case.0))
            .fetch_optional(self.unbuffered()?)
            .await
            .map_err(codec::err(None))?;
        row.as_ref().map(record).transpose()
    }

    async fn case_by_transaction(&mut self, txn: TransactionId) -> BankResult<Option<FraudCase>> {
        let row = sqlx::query("SELECT record FROM fraud_cases WHERE transaction_id = ?")
            .bind(id(txn.0))
            .fetch_optional(self.unbuffered()?)
            .await
            .map_err(codec::err(None))?;
        row.as_ref().map(record).transpose()
    }

    async fn update_case(&mut self, c: &FraudCase) -> BankResult<()> {
        let done = sqlx::query(
            "UPDATE fraud_cases SET transaction_id = ?, account_id = ?, status = ?, created_at = ?, resolved_at = ?, \
             record = ? WHERE id = ?",
        )
        .bind(id(c.transaction_id.0))
        .bind(id(c.account_id.0))
        .bind(c.status.as_str())
        .bind(ts(&c.created_at))
        .bind(opt_ts(&c.resolved_at))
        .bind(to_doc(c)?)
        .bind(id(c.id.0))
        .execute(self.w().await?)
        .await
        .map_err(codec::err(Some("fraud case")))?;
        found(done.rows_affected(), "fraud case")?;
        Ok(())
    }

    async fn list_cases(
        &mut self,
        status: Option<CaseStatus>,
        after: Option<CaseId>,
        limit: u32,
    ) -> BankResult<Vec<FraudCase>> {
        let rows = sqlx::query(
            "SELECT record FROM fraud_cases WHERE (?1 IS NULL OR status = ?1) AND id > ?2 ORDER BY id LIMIT ?3",
        )
        .bind(status.map(|s| s.as_str()))
        .bind(after.map(|a| id(a.0)).unwrap_or_default())
        .bind(i64::from(limit))
        .fetch_all(self.unbuffered()?)
        .await
        .map_err(codec::err(None))?;
        records(&rows)
    }

    async fn count_cases_of_account(
        &mut self,
        account: AccountId,
        since: DateTime<Utc>,
    ) -> BankResult<u32> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM fraud_cases WHERE account_id = ? AND created_at >= ?",
        )
        .bind(id(account.0))
        .bind(ts(&since))
        .fetch_one(self.unbuffered()?)
        .await
        .map_err(codec::err(None))?;
        u32::try_from(n).map_err(|_| codec::corrupt("count"))
    }
}
