//! Identity context: `users`, `sessions`, `one_time_codes`. No other module touches them.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use bankflow_core::auth::Role;
use bankflow_core::identity::{CodePurpose, Email, OneTimeCode, Phone, SessionRecord, UserRecord};
use bankflow_core::ids::{SessionId, UserId};
use bankflow_core::ports::IdentityRepo;
use bankflow_core::{BankError, BankResult};

use crate::codec::{self, id, opt_ts, record, records, to_doc, ts};
use crate::uow::SqliteUow;
use bankflow_core::store_support::found;

/// `,customer,admin,`: a role matches with `LIKE '%,admin,%'` and never by prefix.
fn roles_col(roles: &[Role]) -> String {
    let mut s = String::from(",");
    for r in roles {
        s.push_str(r.as_str());
        s.push(',');
    }
    s
}

impl SqliteUow {
    async fn count(&mut self, sql: &'static str, binds: &[String]) -> BankResult<i64> {
        let mut q = sqlx::query_scalar(sql);
        for b in binds {
            q = q.bind(b.clone());
        }
        q.fetch_one(self.unbuffered()?)
            .await
            .map_err(codec::err(None))
    }

    /// The port's order of duplicate checks: email, then phone (then the id, by the
    /// primary key). An update only checks that the phone is not another user's.
    async fn user_conflict(&mut self, u: &UserRecord, update: bool) -> BankResult<()> {
        let me = id(u.id.0);
        if !update
            && self
                .count(
                    "SELECT COUNT(*) FROM users WHERE email = ?",
                    &[u.email.as_str().into()],
                )
                .await?
                > 0
        {
            return Err(BankError::Duplicate("email"));
        }
        if let Some(p) = &u.phone {
            let taken = if update {
                self.count(
                    "SELECT COUNT(*) FROM users WHERE phone = ? AND id <> ?",
                    &[p.as_str().into(), me],
                )
                .await?
            } else {
                self.count(
                    "SELECT COUNT(*) FROM users WHERE phone = ?",
                    &[p.as_str().into()],
                )
                .await?
            };
            if taken > 0 {
                return Err(BankError::Duplicate("phone"));
            }
        }
        Ok(())
    }
}

#[async_trait]
impl IdentityRepo for SqliteUow {
    async fn insert_user(&mut self, u: &UserRecord) -> BankResult<()> {
        self.w().await?;
        self.user_conflict(u, false).await?;
        sqlx::query(
            "INSERT INTO users (id, email, phone, roles, is_active, created_at, updated_at, record) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(id(u.id.0))
        .bind(u.email.as_str().to_string())
        .bind(u.phone.as_ref().map(|p| p.as_str().to_string()))
        .bind(roles_col(&u.roles))
        .bind(u.is_active)
        .bind(ts(&u.created_at))
        .bind(ts(&u.updated_at))
        .bind(to_doc(u)?)
        .execute(self.w().await?)
        .await
        .map_err(codec::err(Some("user")))?;
        Ok(())
    }

    async fn user(&mut self, user: UserId) -> BankResult<Option<UserRecord>> {
        let row = sqlx::query("SELECT record FROM users WHERE id = ?")
            .bind(id(user.0))
            .fetch_optional(self.unbuffered()?)
            .await
            .map_err(codec::err(None))?;
        row.as_ref().map(record).transpose()
    }

    async fn user_by_email(&mut self, email: &Email) -> BankResult<Option<UserRecord>> {
        let row = sqlx::query("SELECT record FROM users WHERE email = ?")
            .bind(email.as_str().to_string())
            .fetch_optional(self.unbuffered()?)
            .await
            .map_err(codec::err(None))?;
        row.as_ref().map(record).transpose()
    }

    async fn user_by_phone(&mut self, phone: &Phone) -> BankResult<Option<UserRecord>> {
        let row = sqlx::query("SELECT record FROM users WHERE phone = ?")
            .bind(phone.as_str().to_string())
            .fetch_optional(self.unbuffered()?)
            .await
            .map_err(codec::err(None))?;
        row.as_ref().map(record).transpose()
    }

    async fn update_user(&mut self, u: &UserRecord) -> BankResult<()> {
        self.w().await?;
        // The reference store's order: unknown user, then phone, then email conflicts.
        if self
            .count("SELECT COUNT(*) FROM users WHERE id = ?", &[id(u.id.0)])
            .await?
            == 0
        {
            return Err(BankError::NotFound { resource: "user" });
        }
        self.user_conflict(u, true).await?;
        let done = sqlx::query(
            "UPDATE users SET email = ?, phone = ?, roles = ?, is_active = ?, created_at = ?, updated_at = ?, \
             record = ? WHERE id = ?",
        )
        .bind(u.email.as_str().to_string())
        .bind(u.phone.as_ref().map(|p| p.as_str().to_string()))
        .bind(roles_col(&u.roles))
        .bind(u.is_active)
        .bind(ts(&u.created_at))
        .bind(ts(&u.updated_at))
        .bind(to_doc(u)?)
        .bind(id(u.id.0))
        .execute(self.w().await?)
        .await
        .map_err(codec::err(Some("email")))?;
        found(done.rows_affected(), "user")?;
        Ok(())
    }

    async fn any_user_with_role(&mut self, role: Role) -> BankResult<bool> {
        let pattern = format!("%,{},%", role.as_str());
        Ok(self
            .count(
                "SELECT COUNT(*) FROM (SELECT 1 FROM users WHERE roles LIKE ? LIMIT 1)",
                &[pattern],
            )
            .await?
            > 0)
    }

    async fn users_after(
        &mut self,
        after: Option<UserId>,
        limit: u32,
    ) -> BankResult<Vec<UserRecord>> {
        // Ids are stored as hyphenated lower-case UUID text: text order is id order, and
        // every id sorts after the empty string.
        let rows = sqlx::query("SELECT record FROM users WHERE id > ? ORDER BY id LIMIT ?")
            .bind(after.map(|a| id(a.0)).unwrap_or_default())
            .bind(i64::from(limit))
            .fetch_all(self.unbuffered()?)
            .await
            .map_err(codec::err(None))?;
        rows.iter().map(record).collect()
    }

    async fn insert_session(&mut self, s: &SessionRecord) -> BankResult<()> {
        sqlx::query(
            "INSERT INTO sessions (id, user_id, family_id, token_hash, created_at, expires_at, rotated_at, \
             revoked_at, record) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(id(s.id.0))
        .bind(id(s.user_id.0))
        .bind(id(s.family_id.0))
        .bind(s.token_hash.clone())
        .bind(ts(&s.created_at))
        .bind(ts(&s.expires_at))
        .bind(opt_ts(&s.rotated_at))
        .bind(opt_ts(&s.revoked_at))
        .bind(to_doc(s)?)
        .execute(self.w().await?)
        .await
        .map_err(codec::err(Some("session")))?;
        Ok(())
    }

    async fn session_by_token_hash(
        &mut self,
        token_hash: &str,
    ) -> BankResult<Option<SessionRecord>> {
        let row = sqlx::query("SELECT record FROM sessions WHERE token_hash = ?")
            .bind(token_hash.to_string())
            .fetch_optional(self.unbuffered()?)
            .await
            .map_err(codec::err(None))?;
        row.as_ref().map(record).transpose()
    }

    async fn update_session(&mut self, s: &SessionRecord) -> BankResult<()> {
        let done = sqlx::query(
            "UPDATE sessions SET user_id = ?, family_id = ?, token_hash = ?, created_at = ?, expires_at = ?, \
             rotated_at = ?, revoked_at = ?, record = ? WHERE id = ?",
        )
        .bind(id(s.user_id.0))
        .bind(id(s.family_id.0))
        .bind(s.token_hash.clone())
        .bind(ts(&s.created_at))
        .bind(ts(&s.expires_at))
        .bind(opt_ts(&s.rotated_at))
        .bind(opt_ts(&s.revoked_at))
        .bind(to_doc(s)?)
        .bind(id(s.id.0))
        .execute(self.w().await?)
        .await
        .map_err(codec::err(Some("session")))?;
        found(done.rows_affected(), "session")?;
        Ok(())
    }

    async fn revoke_session_family(
        &mut self,
        user: UserId,
        family: SessionId,
        at: DateTime<Utc>,
    ) -> BankResult<u32> {
        let rows = sqlx::query("SELECT record FROM sessions WHERE family_id = ? AND user_id = ? AND revoked_at IS NULL")
            .bind(id(family.0))
            .bind(id(user.0))
            .fetch_all(self.w().await?)
            .await
            .map_err(codec::err(None))?;
        self.revoke(records(&rows)?, at).await
    }

    async fn revoke_user_sessions(&mut self, user: UserId, at: DateTime<Utc>) -> BankResult<u32> {
        let rows =
            sqlx::query("SELECT record FROM sessions WHERE user_id = ? AND revoked_at IS NULL")
                .bind(id(user.0))
                .fetch_all(self.w().await?)
                .await
                .map_err(codec::err(None))?;
        self.revoke(records(&rows)?, at).await
    }

    async fn active_sessions(
        &mut self,
        user: UserId,
        now: DateTime<Utc>,
        limit: u32,
    ) -> BankResult<Vec<SessionRecord>> {
        let rows = sqlx::query(
            "SELECT record FROM sessions WHERE user_id = ? AND revoked_at IS NULL AND rotated_at IS NULL \
             AND expires_at > ? ORDER BY created_at DESC, id DESC LIMIT ?",
        )
        .bind(id(user.0))
        .bind(ts(&now))
        .bind(i64::from(limit))
        .fetch_all(self.unbuffered()?)
        .await
        .map_err(codec::err(None))?;
        records(&rows)
    }

    async fn session_family_live(
        &mut self,
        user: UserId,
        family: SessionId,
        now: DateTime<Utc>,
    ) -> BankResult<bool> {
        // idx_sessions_family serves the lookup.
        let row = sqlx::query(
            "SELECT 1 FROM sessions WHERE family_id = ? AND user_id = ? AND revoked_at IS NULL \
             AND expires_at > ? LIMIT 1",
        )
        .bind(id(family.0))
        .bind(id(user.0))
        .bind(ts(&now))
        .fetch_optional(self.unbuffered()?)
        .await
        .map_err(codec::err(None))?;
        Ok(row.is_some())
    }

    async fn insert_code(&mut self, code: &OneTimeCode) -> BankResult<()> {
        sqlx::query(
            "INSERT INTO one_time_codes (id, user_id, purpose, code_hash, used_at, created_at, record) \
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(id(code.id.0))
        .bind(id(code.user_id.0))
        .bind(code.purpose.as_str())
        .bind(code.code_hash.clone())
        .bind(opt_ts(&code.used_at))
        .bind(ts(&code.created_at))
        .bind(to_doc(code)?)
        .execute(self.w().await?)
        .await
        .map_err(codec::err(Some("one-time code")))?;
        Ok(())
    }

    async fn latest_code(
        &mut self,
        user: UserId,
        purpose: CodePurpose,
    ) -> BankResult<Option<OneTimeCode>> {
        let row = sqlx::query(
            "SELECT record FROM one_time_codes WHERE user_id = ? AND purpose = ? ORDER BY created_at DESC, id DESC LIMIT 1",
        )
        .bind(id(user.0))
        .bind(purpose.as_str())
        .fetch_optional(self.unbuffered()?)
        .await
        .map_err(codec::err(None))?;
        row.as_ref().map(record).transpose()
    }

    async fn code_by_hash(
        &mut self,
        purpose: CodePurpose,
        code_hash: &str,
    ) -> BankResult<Option<OneTimeCode>> {
        let row = sqlx::query(
            "SELECT record FROM one_time_codes WHERE purpose = ? AND code_hash = ? ORDER BY created_at DESC, id DESC LIMIT 1",
        )
        .bind(purpose.as_str())
        .bind(code_hash.to_string())
        .fetch_optional(self.unbuffered()?)
        .await
        .map_err(codec::err(None))?;
        row.as_ref().map(record).transpose()
    }

    async fn update_code(&mut self, code: &OneTimeCode) -> BankResult<()> {
        let done = sqlx::query(
            "UPDATE one_time_codes SET user_id = ?, purpose = ?, code_hash = ?, used_at = ?, created_at = ?, record = ? \
             WHERE id = ?",
        )
        .bind(id(code.user_id.0))
        .bind(code.purpose.as_str())
        .bind(code.code_hash.clone())
        .bind(opt_ts(&code.used_at))
        .bind(ts(&code.created_at))
        .bind(to_doc(code)?)
        .bind(id(code.id.0))
        .execute(self.w().await?)
        .await
        .map_err(codec::err(None))?;
        found(done.rows_affected(), "one-time code")?;
        Ok(())
    }

    async fn consume_codes(
        &mut self,
        user: UserId,
        purpose: CodePurpose,
        at: DateTime<Utc>,
    ) -> BankResult<u32> {
        let rows = sqlx::query("SELECT record FROM one_time_codes WHERE user_id = ? AND purpose = ? AND used_at IS NULL")
            .bind(id(user.0))
            .bind(purpose.as_str())
            .fetch_all(self.w().await?)
            .await
            .map_err(codec::err(None))?;
        let codes: Vec<OneTimeCode> = records(&rows)?;
        for mut c in codes.iter().cloned() {
            c.used_at = Some(at);
            self.update_code(&c).await?;
        }
        Ok(codes.len() as u32)
    }
}

impl SqliteUow {
    /// Revokes each session through `update_session`, so column and record stay equal.
    async fn revoke(&mut self, sessions: Vec<SessionRecord>, at: DateTime<Utc>) -> BankResult<u32> {
        let n = sessions.len() as u32;
        for mut s in sessions {
            s.revoked_at = Some(at);
            self.update_session(&s).await?;
        }
        Ok(n)
    }
}
