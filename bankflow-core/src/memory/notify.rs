//! Notification context: history, feed and preferences.

use super::*;

#[async_trait]
impl NotificationRepo for MemoryUow {
    async fn insert_notification(&mut self, n: &NotificationRecord) -> BankResult<()> {
        let st = &mut self.st_mut()?.notify;
        if st.notifications.contains_key(&n.id)
            || n.source_event_id
                .is_some_and(|e| st.by_source.contains(&(e, n.user_id, n.channel)))
        {
            return Err(BankError::Duplicate("notification"));
        }
        set_notification(st, n.id, Some(n.clone()));
        self.push_undo(CtxUndo::Notification(n.id, None));
        Ok(())
    }

    async fn notification(&mut self, id: NotificationId) -> BankResult<Option<NotificationRecord>> {
        Ok(self.st().notify.notifications.get(&id).cloned())
    }

    async fn update_notification(&mut self, n: &NotificationRecord) -> BankResult<()> {
        let st = &mut self.st_mut()?.notify;
        if !st.notifications.contains_key(&n.id) {
            return Err(BankError::NotFound {
                resource: "notification",
            });
        }
        let prev = set_notification(st, n.id, Some(n.clone()));
        self.push_undo(CtxUndo::Notification(n.id, prev.map(Box::new)));
        Ok(())
    }

    async fn notifications_of_user(
        &mut self,
        user: UserId,
        before: Option<NotificationId>,
        limit: u32,
    ) -> BankResult<Vec<NotificationRecord>> {
        let mut v = self.user_notifications(user, before, |_| true)?;
        v.reverse();
        let cut = match before {
            Some(b) => match self
                .st()
                .notify
                .notifications
                .get(&b)
                .filter(|n| n.user_id == user)
            {
                Some(c) => (c.created_at, c.id),
                None => return Ok(Vec::new()),
            },
            None => return Ok(v.into_iter().take(limit as usize).collect()),
        };
        Ok(v.into_iter()
            .filter(|n| (n.created_at, n.id) < cut)
            .take(limit as usize)
            .collect())
    }

    async fn in_app_feed(
        &mut self,
        user: UserId,
        after: Option<NotificationId>,
        limit: u32,
    ) -> BankResult<Vec<NotificationRecord>> {
        let v = self.user_notifications(user, after, |n| n.channel == Channel::InApp)?;
        let cut = match after {
            Some(a) => match self
                .st()
                .notify
                .notifications
                .get(&a)
                .filter(|n| n.user_id == user)
            {
                Some(c) => Some((c.created_at, c.id)),
                None => return Ok(Vec::new()),
            },
            None => None,
        };
        Ok(v.into_iter()
            .filter(|n| cut.is_none_or(|c| (n.created_at, n.id) > c))
            .take(limit as usize)
            .collect())
    }

    async fn due_notifications(
        &mut self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> BankResult<Vec<NotificationRecord>> {
        let mut v: Vec<&NotificationRecord> = self
            .st()
            .notify
            .notifications
            .values()
            .filter(|n| {
                n.status == NotificationStatus::Pending
                    && n.next_attempt_at.is_some_and(|t| t <= now)
            })
            .collect();
        v.sort_by_key(|n| (n.next_attempt_at, n.id));
        Ok(v.into_iter().take(limit as usize).cloned().collect())
    }

    async fn set_preference(&mut self, pref: &Preference) -> BankResult<()> {
        let st = &mut self.st_mut()?.notify;
        let k = (pref.user_id, pref.category.clone(), pref.channel);
        let prev = st.preferences.insert(k.clone(), pref.clone());
        self.push_undo(CtxUndo::Preference(k, prev.map(Box::new)));
        Ok(())
    }

    async fn preferences_of_user(&mut self, user: UserId) -> BankResult<Vec<Preference>> {
        Ok(self
            .st()
            .notify
            .preferences
            .values()
            .filter(|p| p.user_id == user)
            .cloned()
            .collect())
    }

    async fn purge_notifications(&mut self, before: DateTime<Utc>, limit: u32) -> BankResult<u64> {
        let st = &mut self.st_mut()?.notify;
        let old = oldest_first(
            st.notifications
                .values()
                .filter(|n| n.created_at < before && n.status != NotificationStatus::Pending)
                .map(|n| (n.created_at, n.id)),
            limit,
        );
        let mut undo = Vec::with_capacity(old.len());
        for id in &old {
            let prev = set_notification(st, *id, None);
            undo.push(CtxUndo::Notification(*id, prev.map(Box::new)));
        }
        for u in undo {
            self.push_undo(u);
        }
        Ok(old.len() as u64)
    }
}
