//! Identity, customer, fraud, notification and audit repositories. Rows keep the record as
//! exact JSON text (`doc`) plus the columns queries need; see the second migration.

use async_trait::async_trait;
use bankflow_core::audit::AuditRecord;
use bankflow_core::customer::{CustomerRecord, CustomerSearch, DocumentRecord};
use bankflow_core::fraud::{
    Assessment, CaseStatus, FraudCase, FraudRule, ListEntry, ListEntryType, ListKind, VelocityStats,
};
use bankflow_core::identity::{CodePurpose, Email, OneTimeCode, SessionRecord, UserRecord};
use bankflow_core::ids::{
    AccountId, CaseId, CustomerId, DocumentId, ListEntryId, NotificationId, RuleId, ScheduleId,
    SessionId, TransactionId, UserId,
};
use bankflow_core::notify::{Channel, NotificationRecord, NotificationStatus, Preference};
use bankflow_core::ports::{
    self, AuditRepo, CustomerRepo, FraudRepo, IdentityRepo, NotificationRepo,
};
use bankflow_core::schedule::{ScheduleRepo, ScheduleStatus, ScheduledTransfer};
use bankflow_core::{BankError, BankResult, FraudAction, Role};
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::Serialize;
use sqlx::postgres::PgRow;
use uuid::Uuid;

use crate::error::{corrupt, db_err};
use crate::rows::{self, get};
use crate::uow::{PgUow, RANK_AUDIT_HEAD, RANK_SCHEDULE};

/// A `doc` column: a versioned document (see `bankflow_core::store_support`).
fn to_doc<T: Serialize>(v: &T) -> BankResult<String> {
    store_support::encode_doc(v)
}

/// Decodes the document in column `col`, written by this version or an earlier one.
fn doc_at<T: DeserializeOwned>(row: &PgRow, col: usize) -> BankResult<T> {
    store_support::decode_doc(&get::<String>(row, col)?)
        .map_err(|e| e.unwrap_or_else(|| corrupt("record")))
}

fn from_doc<T: DeserializeOwned>(row: &PgRow) -> BankResult<T> {
    doc_at(row, 0)
}

fn docs<T: DeserializeOwned>(rows: &[PgRow]) -> BankResult<Vec<T>> {
    rows.iter().map(from_doc).collect()
}

/// The serde spelling of a unit enum variant (the form stored in the filter columns).
fn enum_str<T: Serialize>(v: &T) -> BankResult<String> {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => Ok(s),
        _ => Err(BankError::internal("enum without a string form")),
    }
}

use bankflow_core::store_support::{self, found};

fn count(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

// ------------------------------------------------------------------ identity context

impl PgUow {
    async fn upsert_session_docs(&mut self, sessions: &[SessionRecord]) -> BankResult<()> {
        for s in sessions {
            self.update_session(s).await?;
        }
        Ok(())
    }

    async fn upsert_code_docs(&mut self, codes: &[OneTimeCode]) -> BankResult<()> {
        for c in codes {
            self.update_code(c).await?;
        }
        Ok(())
    }
}

#[async_trait]
impl IdentityRepo for PgUow {
    async fn insert_user(&mut self, u: &UserRecord) -> BankResult<()> {
        self.before_write().await?;
        let roles: Vec<String> = u.roles.iter().map(enum_str).collect::<BankResult<_>>()?;
        self.exec_guarded(sqlx::query("INSERT INTO users (id, email, phone, roles, created_at, doc) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(u.id.0)
            .bind(u.email.as_str())
            .bind(u.phone.as_ref().map(|p| p.as_str()))
            .bind(&roles)
            .bind(u.created_at)
            .bind(to_doc(u)?)
            )
        .await?;
        Ok(())
    }

    async fn user(&mut self, id: UserId) -> BankResult<Option<UserRecord>> {
        let row = sqlx::query("SELECT doc FROM users WHERE id = $1")
            .bind(id.0)
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(db_err)?;
        row.as_ref().map(from_doc).transpose()
    }

    async fn user_by_email(&mut self, email: &Email) -> BankResult<Option<UserRecord>> {
        let row = sqlx::query("SELECT doc FROM users WHERE email = $1")
            .bind(email.as_str())
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(db_err)?;
        row.as_ref().map(from_doc).transpose()
    }

    async fn update_user(&mut self, u: &UserRecord) -> BankResult<()> {
        self.before_write().await?;
        let roles: Vec<String> = u.roles.iter().map(enum_str).collect::<BankResult<_>>()?;
        let done = self.exec_guarded(sqlx::query("UPDATE users SET email = $2, phone = $3, roles = $4, created_at = $5, doc = $6 WHERE id = $1")
            .bind(u.id.0)
            .bind(u.email.as_str())
            .bind(u.phone.as_ref().map(|p| p.as_str()))
            .bind(&roles)
            .bind(u.created_at)
            .bind(to_doc(u)?)
            )
        .await?;
        found(done.rows_affected(), "user")
    }

    async fn any_user_with_role(&mut self, role: Role) -> BankResult<bool> {
        let row = sqlx::query("SELECT EXISTS (SELECT 1 FROM users WHERE $1 = ANY(roles))")
            .bind(enum_str(&role)?)
            .fetch_one(&mut *self.tx)
            .await
            .map_err(db_err)?;
        get(&row, 0)
    }

    async fn insert_session(&mut self, s: &SessionRecord) -> BankResult<()> {
        self.before_write().await?;
        self.exec_guarded(sqlx::query(
            "INSERT INTO sessions (id, user_id, family_id, token_hash, created_at, expires_at, rotated_at, revoked_at, doc) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(s.id.0)
        .bind(s.user_id.0)
        .bind(s.family_id.0)
        .bind(&s.token_hash)
        .bind(s.created_at)
        .bind(s.expires_at)
        .bind(s.rotated_at)
        .bind(s.revoked_at)
        .bind(to_doc(s)?)
        )
        .await?;
        Ok(())
    }

    async fn session_by_token_hash(
        &mut self,
        token_hash: &str,
    ) -> BankResult<Option<SessionRecord>> {
        let row = sqlx::query("SELECT doc FROM sessions WHERE token_hash = $1")
            .bind(token_hash)
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(db_err)?;
        row.as_ref().map(from_doc).transpose()
    }

    async fn update_session(&mut self, s: &SessionRecord) -> BankResult<()> {
        self.before_write().await?;
        let done = self.exec_guarded(sqlx::query(
            "UPDATE sessions SET user_id = $2, family_id = $3, token_hash = $4, created_at = $5, expires_at = $6, \
             rotated_at = $7, revoked_at = $8, doc = $9 WHERE id = $1",
        )
        .bind(s.id.0)
        .bind(s.user_id.0)
        .bind(s.family_id.0)
        .bind(&s.token_hash)
        .bind(s.created_at)
        .bind(s.expires_at)
        .bind(s.rotated_at)
        .bind(s.revoked_at)
        .bind(to_doc(s)?)
        )
        .await?;
        found(done.rows_affected(), "session")
    }

    async fn revoke_session_family(
        &mut self,
        user: UserId,
        family: SessionId,
        at: DateTime<Utc>,
    ) -> BankResult<u32> {
        self.before_write().await?;
        let rows = sqlx::query(
            "SELECT doc FROM sessions WHERE user_id = $1 AND family_id = $2 AND revoked_at IS NULL ORDER BY id FOR UPDATE",
        )
        .bind(user.0)
        .bind(family.0)
        .fetch_all(&mut *self.tx)
        .await
        .map_err(db_err)?;
        let mut sessions: Vec<SessionRecord> = docs(&rows)?;
        sessions.iter_mut().for_each(|s| s.revoked_at = Some(at));
        self.upsert_session_docs(&sessions).await?;
        Ok(count(sessions.len() as u64))
    }

    async fn revoke_user_sessions(&mut self, user: UserId, at: DateTime<Utc>) -> BankResult<u32> {
        self.before_write().await?;
        let rows =
            sqlx::query("SELECT doc FROM sessions WHERE user_id = $1 AND revoked_at IS NULL ORDER BY id FOR UPDATE")
                .bind(user.0)
                .fetch_all(&mut *self.tx)
                .await
                .map_err(db_err)?;
        let mut sessions: Vec<SessionRecord> = docs(&rows)?;
        sessions.iter_mut().for_each(|s| s.revoked_at = Some(at));
        self.upsert_session_docs(&sessions).await?;
        Ok(count(sessions.len() as u64))
    }

    async fn active_sessions(
        &mut self,
        user: UserId,
        now: DateTime<Utc>,
        limit: u32,
    ) -> BankResult<Vec<SessionRecord>> {
        let rows = sqlx::query(
            "SELECT doc FROM sessions WHERE user_id = $1 AND revoked_at IS NULL AND rotated_at IS NULL AND expires_at > $2 \
             ORDER BY created_at DESC, id DESC LIMIT $3",
        )
        .bind(user.0)
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(&mut *self.tx)
        .await
        .map_err(db_err)?;
        docs(&rows)
    }

    async fn insert_code(&mut self, c: &OneTimeCode) -> BankResult<()> {
        self.before_write().await?;
        self.exec_guarded(sqlx::query(
            "INSERT INTO one_time_codes (id, user_id, purpose, code_hash, used_at, created_at, doc) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(c.id.0)
        .bind(c.user_id.0)
        .bind(enum_str(&c.purpose)?)
        .bind(&c.code_hash)
        .bind(c.used_at)
        .bind(c.created_at)
        .bind(to_doc(c)?)
        )
        .await?;
        Ok(())
    }

    async fn latest_code(
        &mut self,
        user: UserId,
        purpose: CodePurpose,
    ) -> BankResult<Option<OneTimeCode>> {
        let row = sqlx::query(
            "SELECT doc FROM one_time_codes WHERE user_id = $1 AND purpose = $2 ORDER BY created_at DESC, id DESC LIMIT 1",
        )
        .bind(user.0)
        .bind(enum_str(&purpose)?)
        .fetch_optional(&mut *self.tx)
        .await
        .map_err(db_err)?;
        row.as_ref().map(from_doc).transpose()
    }

    async fn code_by_hash(
        &mut self,
        purpose: CodePurpose,
        code_hash: &str,
    ) -> BankResult<Option<OneTimeCode>> {
        let row = sqlx::query(
            "SELECT doc FROM one_time_codes WHERE purpose = $1 AND code_hash = $2 ORDER BY created_at DESC, id DESC LIMIT 1",
        )
        .bind(enum_str(&purpose)?)
        .bind(code_hash)
        .fetch_optional(&mut *self.tx)
        .await
        .map_err(db_err)?;
        row.as_ref().map(from_doc).transpose()
    }

    async fn update_code(&mut self, c: &OneTimeCode) -> BankResult<()> {
        self.before_write().await?;
        let done = self.exec_guarded(sqlx::query(
            "UPDATE one_time_codes SET user_id = $2, purpose = $3, code_hash = $4, used_at = $5, created_at = $6, doc = $7 \
             WHERE id = $1",
        )
        .bind(c.id.0)
        .bind(c.user_id.0)
        .bind(enum_str(&c.purpose)?)
        .bind(&c.code_hash)
        .bind(c.used_at)
        .bind(c.created_at)
        .bind(to_doc(c)?)
        )
        .await?;
        found(done.rows_affected(), "one-time code")
    }

    async fn consume_codes(
        &mut self,
        user: UserId,
        purpose: CodePurpose,
        at: DateTime<Utc>,
    ) -> BankResult<u32> {
        self.before_write().await?;
        let rows = sqlx::query(
            "SELECT doc FROM one_time_codes WHERE user_id = $1 AND purpose = $2 AND used_at IS NULL ORDER BY id FOR UPDATE",
        )
        .bind(user.0)
        .bind(enum_str(&purpose)?)
        .fetch_all(&mut *self.tx)
        .await
        .map_err(db_err)?;
        let mut codes: Vec<OneTimeCode> = docs(&rows)?;
        codes.iter_mut().for_each(|c| c.used_at = Some(at));
        self.upsert_code_docs(&codes).await?;
        Ok(count(codes.len() as u64))
    }
}

// ------------------------------------------------------------------ customer context

#[async_trait]
impl CustomerRepo for PgUow {
    async fn insert_customer(&mut self, c: &CustomerRecord) -> BankResult<()> {
        self.before_write().await?;
        self.exec_guarded(sqlx::query(
            "INSERT INTO customers (id, user_id, first_name, last_name, email, phone, kyc_status, doc) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(c.id.0)
        .bind(c.user_id.0)
        .bind(&c.first_name)
        .bind(&c.last_name)
        .bind(c.email.as_deref())
        .bind(c.phone.as_deref())
        .bind(enum_str(&c.kyc_status)?)
        .bind(to_doc(c)?)
        )
        .await?;
        Ok(())
    }

    async fn customer(&mut self, id: CustomerId) -> BankResult<Option<CustomerRecord>> {
        let row = sqlx::query("SELECT doc FROM customers WHERE id = $1")
            .bind(id.0)
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(db_err)?;
        row.as_ref().map(from_doc).transpose()
    }

    async fn customer_by_user(&mut self, user: UserId) -> BankResult<Option<CustomerRecord>> {
        let row = sqlx::query("SELECT doc FROM customers WHERE user_id = $1")
            .bind(user.0)
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(db_err)?;
        row.as_ref().map(from_doc).transpose()
    }

    async fn update_customer(&mut self, c: &CustomerRecord) -> BankResult<()> {
        self.before_write().await?;
        let done = self.exec_guarded(sqlx::query(
            "UPDATE customers SET user_id = $2, first_name = $3, last_name = $4, email = $5, phone = $6, kyc_status = $7, \
             doc = $8 WHERE id = $1",
        )
        .bind(c.id.0)
        .bind(c.user_id.0)
        .bind(&c.first_name)
        .bind(&c.last_name)
        .bind(c.email.as_deref())
        .bind(c.phone.as_deref())
        .bind(enum_str(&c.kyc_status)?)
        .bind(to_doc(c)?)
        )
        .await?;
        found(done.rows_affected(), "customer")
    }

    async fn delete_customer(&mut self, id: CustomerId) -> BankResult<()> {
        self.before_write().await?;
        let done = self.exec_guarded(sqlx::query(
            "WITH docs AS (DELETE FROM kyc_documents WHERE customer_id = $1) DELETE FROM customers WHERE id = $1",
        )
        .bind(id.0)
        )
        .await?;
        // Both deletes are one statement: if the customer was missing, its (absent) documents
        // were untouched too.
        found(done.rows_affected(), "customer")
    }

    async fn search_customers(&mut self, s: &CustomerSearch) -> BankResult<Vec<CustomerRecord>> {
        // ASCII-only case folding, as the memory store does (`lower` would fold non-ASCII too).
        let rows = sqlx::query(
            "SELECT doc FROM customers \
             WHERE ($1::uuid IS NULL OR id > $1) \
             AND ($2::text IS NULL OR strpos(translate(first_name || ' ' || last_name, \
                  'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz'), \
                  translate($2, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')) > 0) \
             AND ($3::text IS NULL OR email = $3) AND ($4::text IS NULL OR phone = $4) \
             AND ($5::text IS NULL OR kyc_status = $5) \
             ORDER BY id LIMIT $6",
        )
        .bind(s.after.map(|a| a.0))
        .bind(s.name.as_deref())
        .bind(s.email.as_deref())
        .bind(s.phone.as_deref())
        .bind(s.kyc_status.as_ref().map(enum_str).transpose()?)
        .bind(i64::from(s.limit))
        .fetch_all(&mut *self.tx)
        .await
        .map_err(db_err)?;
        docs(&rows)
    }

    async fn insert_document(&mut self, d: &DocumentRecord) -> BankResult<()> {
        self.before_write().await?;
        self.exec_guarded(sqlx::query(
            "INSERT INTO kyc_documents (id, customer_id, uploaded_at, doc) VALUES ($1, $2, $3, $4)",
        )
        .bind(d.id.0)
        .bind(d.customer_id.0)
        .bind(d.uploaded_at)
        .bind(to_doc(d)?)
        )
        .await?;
        Ok(())
    }

    async fn document(&mut self, id: DocumentId) -> BankResult<Option<DocumentRecord>> {
        let row = sqlx::query("SELECT doc FROM kyc_documents WHERE id = $1")
            .bind(id.0)
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(db_err)?;
        row.as_ref().map(from_doc).transpose()
    }

    async fn documents_of_customer(
        &mut self,
        customer: CustomerId,
        limit: u32,
    ) -> BankResult<Vec<DocumentRecord>> {
        let rows = sqlx::query("SELECT doc FROM kyc_documents WHERE customer_id = $1 ORDER BY uploaded_at, id LIMIT $2")
            .bind(customer.0)
            .bind(i64::from(limit))
            .fetch_all(&mut *self.tx)
            .await
            .map_err(db_err)?;
        docs(&rows)
    }

    async fn update_document(&mut self, d: &DocumentRecord) -> BankResult<()> {
        self.before_write().await?;
        let done = self.exec_guarded(sqlx::query(
            "UPDATE kyc_documents SET customer_id = $2, uploaded_at = $3, doc = $4 WHERE id = $1",
        )
        .bind(d.id.0)
        .bind(d.customer_id.0)
        .bind(d.uploaded_at)
        .bind(to_doc(d)?)
        )
        .await?;
        found(done.rows_affected(), "document")
    }
}

// ------------------------------------------------------------------ fraud context

#[async_trait]
impl FraudRepo for PgUow {
    async fn insert_rule(&mut self, r: &FraudRule) -> BankResult<()> {
        self.before_write().await?;
        self.rules_cache = None;
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
        self.rules_cache = None;
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
        if let Some((k, rules)) = &self.rules_cache {
            if *k == (active_only, limit) {
                return Ok(rules.clone());
            }
        }
        let rows =
            sqlx::query("SELECT doc FROM fraud_rules WHERE (NOT $1 OR is_active) ORDER BY priority DESC, id LIMIT $2")
                .bind(active_only)
                .bind(i64::from(limit))
                .fetch_all(&mut *self.tx)
                .await
                .map_err(db_err)?;
        let rules: Vec<FraudRule> = docs(&rows)?;
        self.rules_cache = Some(((active_only, limit), rules.clone()));
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

// ------------------------------------------------------------------ notification context

#[async_trait]
impl NotificationRepo for PgUow {
    async fn insert_notification(&mut self, n: &NotificationRecord) -> BankResult<()> {
        self.before_write().await?;
        self.exec_guarded(sqlx::query(
            "INSERT INTO notifications (id, user_id, channel, status, next_attempt_at, source_event_id, doc, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(n.id.0)
        .bind(n.user_id.0)
        .bind(n.channel.as_str())
        .bind(n.status.as_str())
        .bind(n.next_attempt_at)
        .bind(n.source_event_id.map(|e| e.0))
        .bind(to_doc(n)?)
            .bind(n.created_at)
        )
        .await?;
        Ok(())
    }

    async fn notification(&mut self, id: NotificationId) -> BankResult<Option<NotificationRecord>> {
        let row = sqlx::query("SELECT doc FROM notifications WHERE id = $1")
            .bind(id.0)
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(db_err)?;
        row.as_ref().map(from_doc).transpose()
    }

    async fn update_notification(&mut self, n: &NotificationRecord) -> BankResult<()> {
        self.before_write().await?;
        let done = self.exec_guarded(sqlx::query(
            "UPDATE notifications SET user_id = $2, channel = $3, status = $4, next_attempt_at = $5, source_event_id = $6, \
             doc = $7, created_at = $8 WHERE id = $1",
        )
        .bind(n.id.0)
        .bind(n.user_id.0)
        .bind(n.channel.as_str())
        .bind(n.status.as_str())
        .bind(n.next_attempt_at)
        .bind(n.source_event_id.map(|e| e.0))
        .bind(to_doc(n)?)
            .bind(n.created_at)
        )
        .await?;
        found(done.rows_affected(), "notification")
    }

    async fn notifications_of_user(
        &mut self,
        user: UserId,
        before: Option<NotificationId>,
        limit: u32,
    ) -> BankResult<Vec<NotificationRecord>> {
        // Newest first by (created_at, id); the cursor must be one of the user's own rows.
        let rows = match before {
            None => {
                sqlx::query(
                    "SELECT doc FROM notifications WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2",
                )
                .bind(user.0)
                .bind(i64::from(limit))
                .fetch_all(&mut *self.tx)
                .await
            }
            Some(b) => {
                sqlx::query(
                    "WITH c AS (SELECT created_at, id FROM notifications WHERE id = $2 AND user_id = $1) \
                     SELECT n.doc FROM notifications n, c WHERE n.user_id = $1 \
                     AND (n.created_at, n.id) < (c.created_at, c.id) ORDER BY n.created_at DESC, n.id DESC LIMIT $3",
                )
                .bind(user.0)
                .bind(b.0)
                .bind(i64::from(limit))
                .fetch_all(&mut *self.tx)
                .await
            }
        }
        .map_err(db_err)?;
        docs(&rows)
    }

    async fn in_app_feed(
        &mut self,
        user: UserId,
        after: Option<NotificationId>,
        limit: u32,
    ) -> BankResult<Vec<NotificationRecord>> {
        // Oldest first by (created_at, id); the cursor must be one of the user's own rows.
        let rows = match after {
            None => {
                sqlx::query(
                    "SELECT doc FROM notifications WHERE user_id = $1 AND channel = $2 \
                     ORDER BY created_at, id LIMIT $3",
                )
                .bind(user.0)
                .bind(Channel::InApp.as_str())
                .bind(i64::from(limit))
                .fetch_all(&mut *self.tx)
                .await
            }
            Some(a) => {
                sqlx::query(
                    "WITH c AS (SELECT created_at, id FROM notifications WHERE id = $3 AND user_id = $1) \
                     SELECT n.doc FROM notifications n, c WHERE n.user_id = $1 AND n.channel = $2 \
                     AND (n.created_at, n.id) > (c.created_at, c.id) ORDER BY n.created_at, n.id LIMIT $4",
                )
                .bind(user.0)
                .bind(Channel::InApp.as_str())
                .bind(a.0)
                .bind(i64::from(limit))
                .fetch_all(&mut *self.tx)
                .await
            }
        }
        .map_err(db_err)?;
        docs(&rows)
    }

    async fn due_notifications(
        &mut self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> BankResult<Vec<NotificationRecord>> {
        let rows = sqlx::query(
            "SELECT doc FROM notifications WHERE status = $1 AND next_attempt_at <= $2 ORDER BY next_attempt_at, id LIMIT $3",
        )
        .bind(NotificationStatus::Pending.as_str())
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(&mut *self.tx)
        .await
        .map_err(db_err)?;
        docs(&rows)
    }

    async fn set_preference(&mut self, p: &Preference) -> BankResult<()> {
        self.before_write().await?;
        self.exec_guarded(sqlx::query(
            "INSERT INTO notification_preferences (user_id, category, channel, doc) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (user_id, category, channel) DO UPDATE SET doc = EXCLUDED.doc",
        )
        .bind(p.user_id.0)
        .bind(&p.category)
        .bind(p.channel.as_str())
        .bind(to_doc(p)?)
        )
        .await?;
        Ok(())
    }

    async fn preferences_of_user(&mut self, user: UserId) -> BankResult<Vec<Preference>> {
        let rows = sqlx::query("SELECT doc FROM notification_preferences WHERE user_id = $1")
            .bind(user.0)
            .fetch_all(&mut *self.tx)
            .await
            .map_err(db_err)?;
        let mut prefs: Vec<Preference> = docs(&rows)?;
        // The memory store's order: category, then channel in declaration order.
        prefs.sort_by(|a, b| (&a.category, a.channel).cmp(&(&b.category, b.channel)));
        Ok(prefs)
    }

    async fn purge_notifications(&mut self, before: DateTime<Utc>, limit: u32) -> BankResult<u64> {
        self.before_write().await?;
        let done = sqlx::query(
            "DELETE FROM notifications WHERE id IN (SELECT id FROM notifications \
             WHERE created_at < $1 AND status <> $2 ORDER BY created_at, id LIMIT $3 FOR UPDATE SKIP LOCKED)",
        )
        .bind(before)
        .bind(NotificationStatus::Pending.as_str())
        .bind(i64::from(limit.min(ports::PURGE_BATCH_MAX)))
        .execute(&mut *self.tx)
        .await
        .map_err(db_err)?;
        Ok(done.rows_affected())
    }
}

// ------------------------------------------------------------------ audit log

#[async_trait]
impl AuditRepo for PgUow {
    async fn lock_audit_head(&mut self) -> BankResult<Option<(i64, String)>> {
        let rows = self
            .lock_rows(
                RANK_AUDIT_HEAD,
                &[Uuid::nil()],
                "SELECT id, seq, hash FROM audit_head WHERE id = ANY($1) ORDER BY id FOR UPDATE",
                "SELECT id, seq, hash FROM audit_head WHERE id = ANY($1) ORDER BY id FOR UPDATE SKIP LOCKED",
                "SELECT id, seq, hash FROM audit_head WHERE id = ANY($1) ORDER BY id",
            )
            .await?;
        let Some(r) = rows.first() else {
            return Err(corrupt("audit head"));
        };
        let seq: i64 = get(r, 1)?;
        Ok((seq > 0)
            .then(|| get::<String>(r, 2))
            .transpose()?
            .map(|h| (seq, h)))
    }

    async fn append_audit(&mut self, e: &AuditRecord) -> BankResult<()> {
        self.before_write().await?;
        // Advances the head and appends in one statement; a stale seq appends nothing.
        let done = self.exec_guarded(sqlx::query(
            "WITH head AS (UPDATE audit_head SET seq = $1, hash = $2 WHERE id = '00000000-0000-0000-0000-000000000000' \
             AND seq < $1 RETURNING 1) \
             INSERT INTO audit_log (seq, id, at, doc) SELECT $1, $3, $4, $5 FROM head",
        )
        .bind(e.seq)
        .bind(&e.hash)
        .bind(e.id.0)
        .bind(e.at)
        .bind(to_doc(e)?)
        )
        .await?;
        if done.rows_affected() == 0 {
            return Err(BankError::Duplicate("audit entry"));
        }
        Ok(())
    }

    async fn audit_entries(
        &mut self,
        after_seq: Option<i64>,
        limit: u32,
    ) -> BankResult<Vec<AuditRecord>> {
        let rows = sqlx::query("SELECT doc FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2")
            .bind(after_seq.unwrap_or(i64::MIN))
            .bind(i64::from(limit))
            .fetch_all(&mut *self.tx)
            .await
            .map_err(db_err)?;
        docs(&rows)
    }
}

// ------------------------------------------------------------------ scheduled transfers

#[async_trait]
impl ScheduleRepo for PgUow {
    async fn insert_schedule(&mut self, s: &ScheduledTransfer) -> BankResult<()> {
        self.before_write().await?;
        self.exec_guarded(sqlx::query(
            "INSERT INTO scheduled_transfers (id, customer_id, status, next_run_at, lease_until, created_at, doc) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(s.id.0)
        .bind(s.customer_id.0)
        .bind(enum_str(&s.status)?)
        .bind(s.next_run_at)
        .bind(s.lease_until)
        .bind(s.created_at)
        .bind(to_doc(s)?)
        )
        .await?;
        Ok(())
    }

    async fn schedule(&mut self, id: ScheduleId) -> BankResult<Option<ScheduledTransfer>> {
        let row = sqlx::query("SELECT doc FROM scheduled_transfers WHERE id = $1")
            .bind(id.0)
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(db_err)?;
        row.as_ref().map(from_doc).transpose()
    }

    async fn lock_schedule(&mut self, id: ScheduleId) -> BankResult<Option<ScheduledTransfer>> {
        let rows = self
            .lock_rows(
                RANK_SCHEDULE,
                &[id.0],
                "SELECT id, doc FROM scheduled_transfers WHERE id = ANY($1) ORDER BY id FOR UPDATE",
                "SELECT id, doc FROM scheduled_transfers WHERE id = ANY($1) ORDER BY id FOR UPDATE SKIP LOCKED",
                "SELECT id, doc FROM scheduled_transfers WHERE id = ANY($1) ORDER BY id",
            )
            .await?;
        rows.first().map(|r| doc_at(r, 1)).transpose()
    }

    async fn update_schedule(&mut self, s: &ScheduledTransfer) -> BankResult<()> {
        self.before_write().await?;
        let done = self.exec_guarded(sqlx::query(
            "UPDATE scheduled_transfers SET customer_id = $2, status = $3, next_run_at = $4, lease_until = $5, \
             created_at = $6, doc = $7 WHERE id = $1",
        )
        .bind(s.id.0)
        .bind(s.customer_id.0)
        .bind(enum_str(&s.status)?)
        .bind(s.next_run_at)
        .bind(s.lease_until)
        .bind(s.created_at)
        .bind(to_doc(s)?)
        )
        .await?;
        found(done.rows_affected(), "scheduled transfer")
    }

    async fn schedules_of_customer(
        &mut self,
        customer: CustomerId,
        limit: u32,
    ) -> BankResult<Vec<ScheduledTransfer>> {
        let rows = sqlx::query(
            "SELECT doc FROM scheduled_transfers WHERE customer_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2",
        )
        .bind(customer.0)
        .bind(i64::from(limit))
        .fetch_all(&mut *self.tx)
        .await
        .map_err(db_err)?;
        docs(&rows)
    }

    async fn claim_due_schedules(
        &mut self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> BankResult<Vec<ScheduledTransfer>> {
        self.before_write().await?;
        // SKIP LOCKED: schedulers in several processes split the due work instead of queueing
        // behind each other, and a schedule leased by one is not run by another.
        let rows = sqlx::query(
            "SELECT doc FROM scheduled_transfers WHERE status = $1 AND next_run_at <= $2 \
             AND (lease_until IS NULL OR lease_until <= $2) ORDER BY next_run_at, id LIMIT $3 FOR UPDATE SKIP LOCKED",
        )
        .bind(enum_str(&ScheduleStatus::Active)?)
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(&mut *self.tx)
        .await
        .map_err(db_err)?;
        let mut due: Vec<ScheduledTransfer> = docs(&rows)?;
        for s in &mut due {
            s.lease_until = Some(lease_until);
            self.update_schedule(s).await?;
        }
        Ok(due)
    }
}
