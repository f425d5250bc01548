//! Identity context: users, sessions and one-time codes.

use super::*;

#[async_trait]
impl IdentityRepo for MemoryUow {
    async fn insert_user(&mut self, user: &UserRecord) -> BankResult<()> {
        let st = &mut self.st_mut()?.identity;
        if st.by_email.contains_key(&user.email) {
            return Err(BankError::Duplicate("email"));
        }
        if user
            .phone
            .as_ref()
            .is_some_and(|p| st.by_phone.contains_key(p))
        {
            return Err(BankError::Duplicate("phone"));
        }
        if st.users.contains_key(&user.id) {
            return Err(BankError::Duplicate("user"));
        }
        set_user(st, user.id, Some(user.clone()));
        self.push_undo(CtxUndo::User(user.id, None));
        Ok(())
    }

    async fn user(&mut self, id: UserId) -> BankResult<Option<UserRecord>> {
        Ok(self.st().identity.users.get(&id).cloned())
    }

    async fn user_by_email(&mut self, email: &Email) -> BankResult<Option<UserRecord>> {
        let st = &self.st().identity;
        Ok(st
            .by_email
            .get(email)
            .and_then(|id| st.users.get(id))
            .cloned())
    }

    async fn user_by_phone(&mut self, phone: &Phone) -> BankResult<Option<UserRecord>> {
        let st = &self.st().identity;
        Ok(st
            .by_phone
            .get(phone)
            .and_then(|id| st.users.get(id))
            .cloned())
    }

    async fn update_user(&mut self, user: &UserRecord) -> BankResult<()> {
        let st = &mut self.st_mut()?.identity;
        if !st.users.contains_key(&user.id) {
            return Err(BankError::NotFound { resource: "user" });
        }
        if let Some(p) = &user.phone {
            if st.by_phone.get(p).is_some_and(|owner| *owner != user.id) {
                return Err(BankError::Duplicate("phone"));
            }
        }
        if st
            .by_email
            .get(&user.email)
            .is_some_and(|owner| *owner != user.id)
        {
            return Err(BankError::Duplicate("email"));
        }
        let prev = set_user(st, user.id, Some(user.clone()));
        self.push_undo(CtxUndo::User(user.id, prev.map(Box::new)));
        Ok(())
    }

    async fn any_user_with_role(&mut self, role: Role) -> BankResult<bool> {
        Ok(self
            .st()
            .identity
            .users
            .values()
            .any(|u| u.roles.contains(&role)))
    }

    async fn users_after(
        &mut self,
        after: Option<UserId>,
        limit: u32,
    ) -> BankResult<Vec<UserRecord>> {
        let mut page: Vec<UserRecord> = self
            .st()
            .identity
            .users
            .values()
            .filter(|u| after.is_none_or(|a| u.id > a))
            .cloned()
            .collect();
        page.sort_by_key(|u| u.id);
        page.truncate(limit as usize);
        Ok(page)
    }

    async fn insert_session(&mut self, session: &SessionRecord) -> BankResult<()> {
        let st = &mut self.st_mut()?.identity;
        if st.sessions.contains_key(&session.id)
            || st.session_by_hash.contains_key(&session.token_hash)
        {
            return Err(BankError::Duplicate("session"));
        }
        set_session(st, session.id, Some(session.clone()));
        self.push_undo(CtxUndo::Session(session.id, None));
        Ok(())
    }

    async fn session_by_token_hash(
        &mut self,
        token_hash: &str,
    ) -> BankResult<Option<SessionRecord>> {
        let st = &self.st().identity;
        Ok(st
            .session_by_hash
            .get(token_hash)
            .and_then(|id| st.sessions.get(id))
            .cloned())
    }

    async fn update_session(&mut self, session: &SessionRecord) -> BankResult<()> {
        let st = &mut self.st_mut()?.identity;
        if !st.sessions.contains_key(&session.id) {
            return Err(BankError::NotFound {
                resource: "session",
            });
        }
        let prev = set_session(st, session.id, Some(session.clone()));
        self.push_undo(CtxUndo::Session(session.id, prev.map(Box::new)));
        Ok(())
    }

    async fn revoke_session_family(
        &mut self,
        user: UserId,
        family: SessionId,
        at: DateTime<Utc>,
    ) -> BankResult<u32> {
        let st = &mut self.st_mut()?.identity;
        let ids: Vec<SessionId> = st
            .sessions_by_user
            .get(&user)
            .map(|v| {
                v.iter()
                    .filter(|id| {
                        st.sessions
                            .get(id)
                            .is_some_and(|s| s.family_id == family && s.revoked_at.is_none())
                    })
                    .copied()
                    .collect()
            })
            .unwrap_or_default();
        self.revoke_ids(&ids, at)
    }

    async fn revoke_user_sessions(&mut self, user: UserId, at: DateTime<Utc>) -> BankResult<u32> {
        let st = &mut self.st_mut()?.identity;
        let ids: Vec<SessionId> = st
            .sessions_by_user
            .get(&user)
            .map(|v| {
                v.iter()
                    .filter(|id| st.sessions.get(id).is_some_and(|s| s.revoked_at.is_none()))
                    .copied()
                    .collect()
            })
            .unwrap_or_default();
        self.revoke_ids(&ids, at)
    }

    async fn active_sessions(
        &mut self,
        user: UserId,
        now: DateTime<Utc>,
        limit: u32,
    ) -> BankResult<Vec<SessionRecord>> {
        let st = &self.st().identity;
        let mut v: Vec<SessionRecord> = st
            .sessions_by_user
            .get(&user)
            .map(|ids| {
                ids.iter()
                    .filter_map(|id| st.sessions.get(id))
                    .filter(|s| {
                        s.revoked_at.is_none() && s.rotated_at.is_none() && s.expires_at > now
                    })
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        v.sort_by_key(|s| std::cmp::Reverse((s.created_at, s.id)));
        v.truncate(limit as usize);
        Ok(v)
    }

    async fn session_family_live(
        &mut self,
        user: UserId,
        family: SessionId,
        now: DateTime<Utc>,
    ) -> BankResult<bool> {
        let st = &self.st().identity;
        Ok(st.sessions_by_user.get(&user).is_some_and(|ids| {
            ids.iter()
                .filter_map(|id| st.sessions.get(id))
                .any(|s| s.family_id == family && s.revoked_at.is_none() && s.expires_at > now)
        }))
    }

    async fn insert_code(&mut self, code: &OneTimeCode) -> BankResult<()> {
        let st = &mut self.st_mut()?.identity;
        if st.codes.contains_key(&code.id) {
            return Err(BankError::Duplicate("one-time code"));
        }
        set_code(st, code.id, Some(code.clone()));
        self.push_undo(CtxUndo::Code(code.id, None));
        Ok(())
    }

    async fn latest_code(
        &mut self,
        user: UserId,
        purpose: CodePurpose,
    ) -> BankResult<Option<OneTimeCode>> {
        let st = &self.st().identity;
        Ok(st
            .codes_by_user
            .get(&user)
            .into_iter()
            .flatten()
            .filter_map(|id| st.codes.get(id))
            .filter(|c| c.purpose == purpose)
            .max_by_key(|c| (c.created_at, c.id))
            .cloned())
    }

    async fn code_by_hash(
        &mut self,
        purpose: CodePurpose,
        code_hash: &str,
    ) -> BankResult<Option<OneTimeCode>> {
        Ok(self
            .st()
            .identity
            .codes
            .values()
            .filter(|c| c.purpose == purpose && c.code_hash == code_hash)
            .max_by_key(|c| (c.created_at, c.id))
            .cloned())
    }

    async fn update_code(&mut self, code: &OneTimeCode) -> BankResult<()> {
        let st = &mut self.st_mut()?.identity;
        if !st.codes.contains_key(&code.id) {
            return Err(BankError::NotFound {
                resource: "one-time code",
            });
        }
        let prev = set_code(st, code.id, Some(code.clone()));
        self.push_undo(CtxUndo::Code(code.id, prev.map(Box::new)));
        Ok(())
    }

    async fn consume_codes(
        &mut self,
        user: UserId,
        purpose: CodePurpose,
        at: DateTime<Utc>,
    ) -> BankResult<u32> {
        let st = &mut self.st_mut()?.identity;
        let ids: Vec<CodeId> = st
            .codes_by_user
            .get(&user)
            .into_iter()
            .flatten()
            .filter(|id| {
                st.codes
                    .get(id)
                    .is_some_and(|c| c.purpose == purpose && c.used_at.is_none())
            })
            .copied()
            .collect();
        let mut undo = Vec::with_capacity(ids.len());
        for id in &ids {
            let Some(mut c) = st.codes.get(id).cloned() else {
                continue;
            };
            c.used_at = Some(at);
            let prev = set_code(st, *id, Some(c));
            undo.push(CtxUndo::Code(*id, prev.map(Box::new)));
        }
        for u in undo {
            self.push_undo(u);
        }
        Ok(ids.len() as u32)
    }
}
