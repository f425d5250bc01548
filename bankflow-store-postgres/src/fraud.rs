//! Fraud context: rules, lists, assessments and cases.

use async_trait::async_trait;
use bankflow_core::fraud::{
    Assessment, CaseStatus, FraudCase, FraudRule, ListEntry, ListEntryType, ListKind, VelocityStats,
};
use bankflow_core::ids::{AccountId, CaseId, ListEntryId, RuleId, TransactionId};
use bankflow_core::ports::FraudRepo;
use bankflow_core::{BankResult, FraudAction};
use chrono::{DateTime, Utc};

use crate::error::db_err;
use crate::rows::{self, get};
use crate::rows::{count, docs, enum_str, from_doc, to_doc};
use crate::uow::PgUow;
use bankflow_core::store_support::found;

#[async_trait]
impl FraudRepo for PgUow {
    async fn insert_rule(&mut self, r: &FraudRule) -> BankResult<()> {
        self.before_write().await?;
        self.rules_cache.clear();
        self.exec_guarded(sqlx::query("INSERT INTO fraud_rules (id, rule_name, priority, is_active, doc) VALUES ($1, $2, $3, $4, $5)")
            .bind(r.id.0)
            .bind(&r.rule_name)
            .bind(r.priority)
            .bind(r.is_active)
            .bind(to_doc(r)?)
            )
        .await?;
        Ok(())
    }

    async fn update_rule(&mut self, r: &FraudRule) -> BankResult<()> {
        self.before_write().await?;
        self.rules_cache.clear();
        let done =
            self.exec_guarded(sqlx::query("UPDATE fraud_rules SET rule_name = $2, priority = $3, is_active = $4, doc = $5 WHERE id = $1")
                .bind(r.id.0)
                .bind(&r.rule_name)
                .bind(r.priority)
                .bind(r.is_active)
                .bind(to_doc(r)?)
                )
        .await?;
        found(done.rows_affected(), "fraud rule")
    }

    async fn rule(&mut self, id: RuleId) -> BankResult<Option<FraudRule>> {
        let row = sqlx::query("SELECT doc FROM fraud_rules WHERE id = $1")
            .bind(id.0)
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(db_err)?;
        row.as_ref().map(from_doc).transpose()
    }

    async fn list_rules(&mut self, active_only: bool, limit: u32) -> BankResult<Vec<FraudRule>> {
        if let Some(rules) = self.rules_cache.get(active_only, limit) {
            return Ok(rules);
        }
        let rows =
            sqlx::query("SELECT doc FROM fraud_rules WHERE (NOT $1 OR is_active) ORDER BY priority DESC, id LIMIT $2")
                .bind(active_only)
                .bind(i64::from(limit))
                .fetch_all(&mut *self.tx)
                .await
                .map_err(db_err)?;
        let rules: Vec<FraudRule> = docs(&rows)?;
        self.rules_cache.put(active_only, limit, rules.clone());
        Ok(rules)
    }

    async fn insert_list_entry(&mut self, e: &ListEntry) -> BankResult<()> {
        self.before_write().await?;
        self.exec_guarded(sqlx::query("INSERT INTO fraud_list_entries (id, list, entry_type, value, doc) VALUES ($1, $2, $3, $4, $5)")
            .bind(e.id.0)
            .bind(enum_str(&e.list)?)
            .bind(enum_str(&e.entry_type)?)
            .bind(&e.value)
            .bind(to_doc(e)?)
            )
        .await?;
        Ok(())
    }

    async fn delete_list_entry(&mut self, id: ListEntryId) -> BankResult<bool> {
        self.before_write().await?;
        let done = self
            .exec_guarded(sqlx::query("DELETE FROM fraud_list_entries WHERE id = $1").bind(id.0))
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn list_entries(
        &mut self,
        list: Option<ListKind>,
        after: Option<ListEntryId>,
        limit: u32,
    ) -> BankResult<Vec<ListEntry>> {
        let rows = sqlx::query(
            "SELECT doc FROM fraud_list_entries WHERE ($1::text IS NULL OR list = $1) AND ($2::uuid IS NULL OR id > $2) \
             ORDER BY id LIMIT $3",
        )
        .bind(list.as_ref().map(enum_str).transpose()?)
        .bind(after.map(|a| a.0))
        .bind(i64::from(limit))
        .fetch_all(&mut *self.tx)
        .await
        .map_err(db_err)?;
        docs(&rows)
    }

    async fn find_list_entries(
        &mut self,
        keys: &[(ListEntryType, String)],
    ) -> BankResult<Vec<ListEntry>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let types: Vec<String> = keys
            .iter()
            .map(|(t, _)| enum_str(t))
            .collect::<BankResult<_>>()?;
        let values: Vec<&str> = keys.iter().map(|(_, v)| v.as_str()).collect();
        let rows = sqlx::query(
            "SELECT doc FROM fraud_list_entries WHERE (entry_type, value) IN \
             (SELECT * FROM UNNEST($1::text[], $2::text[])) ORDER BY id",
        )
        .bind(&types)
        .bind(&values)
        .fetch_all(&mut *self.tx)
        .await
        .map_err(db_err)?;
        docs(&rows)
    }

    async fn insert_assessment(&mut self, a: &Assessment) -> BankResult<()> {
        self.before_write().await?;
        self.exec_guarded(sqlx::query(
            "INSERT INTO fraud_assessments (transaction_id, from_account_id, payee, amount, action, created_at, doc) \
             VALUES ($1, $2, $3, $4::numeric, $5, $6, $7)",
        )
        .bind(a.transaction_id.0)
        .bind(a.from_account_id.map(|x| x.0))
        .bind(a.payee.as_deref())
        .bind(a.amount.amount().to_string())
        .bind(enum_str(&a.action)?)
        .bind(a.created_at)
        .bind(to_doc(a)?)
        )
        .await?;
        Ok(())
    }

    async fn assessment(&mut self, txn: TransactionId) -> BankResult<Option<Assessment>> {
        let row = sqlx::query("SELECT doc FROM fraud_assessments WHERE transaction_id = $1")
            .bind(txn.0)
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(db_err)?;
        row.as_ref().map(from_doc).transpose()
    }

    async fn velocity(
        &mut self,
        account: AccountId,
        since: DateTime<Utc>,
    ) -> BankResult<VelocityStats> {
        let row = sqlx::query(
            "SELECT count(*), COALESCE(SUM(amount), 0)::text FROM fraud_assessments \
             WHERE from_account_id = $1 AND created_at >= $2 AND action <> $3",
        )
        .bind(account.0)
        .bind(since)
        .bind(enum_str(&FraudAction::Block)?)
        .fetch_one(&mut *self.tx)
        .await
        .map_err(db_err)?;
        Ok(VelocityStats {
            count: count(u64::try_from(get::<i64>(&row, 0)?).unwrap_or(0)),
            total: rows::decimal(&get::<String>(&row, 1)?)?,
        })
    }

    async fn has_paid_before(
        &mut self,
        account: AccountId,
        payee: &str,
        before: DateTime<Utc>,
    ) -> BankResult<bool> {
        let row = sqlx::query(
            "SELECT EXISTS (SELECT 1 FROM fraud_assessments WHERE from_account_id = $1 AND payee = $2 \
             AND action <> $3 AND created_at < $4)",
        )
        .bind(account.0)
        .bind(payee)
        .bind(enum_str(&FraudAction::Block)?)
        .bind(before)
        .fetch_one(&mut *self.tx)
        .await
        .map_err(db_err)?;
        get(&row, 0)
    }

    async fn insert_case(&mut self, c: &FraudCase) -> BankResult<()> {
        self.before_write().await?;
        self.exec_guarded(sqlx::query(
            "INSERT INTO fraud_cases (id, transaction_id, account_id, status, created_at, doc) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(c.id.0)
        .bind(c.transaction_id.0)
        .bind(c.account_id.0)
        .bind(enum_str(&c.status)?)
        .bind(c.created_at)
        .bind(to_doc(c)?)
        )
        .await?;
        Ok(())
    }

    async fn case(&mut self, id: CaseId) -> BankResult<Option<FraudCase>> {
        let row = sqlx::query("SELECT doc FROM fraud_cases WHERE id = $1")
            .bind(id.0)
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(db_err)?;
        row.as_ref().map(from_doc).transpose()
    }

    async fn case_by_transaction(&mut self, txn: TransactionId) -> BankResult<Option<FraudCase>> {
        let row = sqlx::query("SELECT doc FROM fraud_cases WHERE transaction_id = $1")
            .bind(txn.0)
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(db_err)?;
        row.as_ref().map(from_doc).transpose()
    }

    async fn update_case(&mut self, c: &FraudCase) -> BankResult<()> {
        self.before_write().await?;
        let done = self.exec_guarded(sqlx::query(
            "UPDATE fraud_cases SET transaction_id = $2, account_id = $3, status = $4, created_at = $5, doc = $6 WHERE id = $1",
        )
        .bind(c.id.0)
        .bind(c.transaction_id.0)
        .bind(c.account_id.0)
        .bind(enum_str(&c.status)?)
        .bind(c.created_at)
        .bind(to_doc(c)?)
        )
        .await?;
        found(done.rows_affected(), "fraud case")
    }

    async fn list_cases(
        &mut self,
        status: Option<CaseStatus>,
        after: Option<CaseId>,
        limit: u32,
    ) -> BankResult<Vec<FraudCase>> {
        let rows = sqlx::query(
            "SELECT doc FROM fraud_cases WHERE ($1::text IS NULL OR status = $1) AND ($2::uuid IS NULL OR id > $2) \
             ORDER BY id LIMIT $3",
        )
        .bind(status.as_ref().map(enum_str).transpose()?)
        .bind(after.map(|a| a.0))
        .bind(i64::from(limit))
        .fetch_all(&mut *self.tx)
        .await
        .map_err(db_err)?;
        docs(&rows)
    }

    async fn count_cases_of_account(
        &mut self,
        account: AccountId,
        since: DateTime<Utc>,
    ) -> BankResult<u32> {
        let row = sqlx::query(
            "SELECT count(*) FROM fraud_cases WHERE account_id = $1 AND created_at >= $2",
        )
        .bind(account.0)
        .bind(since)
        .fetch_one(&mut *self.tx)
        .await
        .map_err(db_err)?;
        Ok(count(u64::try_from(get::<i64>(&row, 0)?).unwrap_or(0)))
    }
}
