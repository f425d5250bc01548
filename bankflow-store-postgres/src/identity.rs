//! Identity context: `users`, `sessions` and `one_time_codes`.

use async_trait::async_trait;
use bankflow_core::identity::{CodePurpose, Email, OneTimeCode, Phone, SessionRecord, UserRecord};
use bankflow_core::ids::{SessionId, UserId};
use bankflow_core::ports::IdentityRepo;
use bankflow_core::{BankResult, Role};
use chrono::{DateTime, Utc};

use crate::error::db_err;
use crate::rows::get;
use crate::rows::{count, docs, enum_str, from_doc, to_doc};
use crate::uow::PgUow;
use bankflow_core::store_support::found;

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

    async fn user_by_phone(&mut self, phone: &Phone) -> BankResult<Option<UserRecord>> {
        let row = sqlx::query("SELECT doc FROM users WHERE phone = $1")
            .bind(phone.as_str())
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

    async fn users_after(
        &mut self,
        after: Option<UserId>,
        limit: u32,
    ) -> BankResult<Vec<UserRecord>> {
        let rows = sqlx::query("SELECT doc FROM users WHERE id > $1 ORDER BY id LIMIT $2")
            .bind(after.map_or(uuid::Uuid::nil(), |a| a.0))
            .bind(i64::from(limit))
            .fetch_all(&mut *self.tx)
            .await
            .map_err(db_err)?;
        rows.iter().map(from_doc).collect()
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
        // In a write unit the row stays locked until the unit ends: two refreshes of one
        // token under READ COMMITTED would otherwise both see it unrotated and both win. The
        // second waits, then reads the rotated row and takes the reuse path.
        let sql = if self.is_write() {
            "SELECT doc FROM sessions WHERE token_hash = $1 FOR UPDATE"
        } else {
            "SELECT doc FROM sessions WHERE token_hash = $1"
        };
        let row = sqlx::query(sql)
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

    async fn session_family_live(
        &mut self,
        user: UserId,
        family: SessionId,
        now: DateTime<Utc>,
    ) -> BankResult<bool> {
        // idx_sessions_user narrows to the user's few rows; no family index is needed.
        let row = sqlx::query(
            "SELECT 1 FROM sessions WHERE user_id = $1 AND family_id = $2 AND revoked_at IS NULL \
             AND expires_at > $3 LIMIT 1",
        )
        .bind(user.0)
        .bind(family.0)
        .bind(now)
        .fetch_optional(&mut *self.tx)
        .await
        .map_err(db_err)?;
        Ok(row.is_some())
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
