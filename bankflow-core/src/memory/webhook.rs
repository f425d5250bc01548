//! Webhook subscriptions and deliveries (webhook context).

use super::*;
use crate::ids::EventId;
use crate::webhook::{DeliveryStatus, WebhookDelivery, WebhookRepo, WebhookSubscription};

/// The webhook context's rows.
#[derive(Clone, Debug, Default)]
pub(super) struct WebhookState {
    subs: HashMap<Uuid, WebhookSubscription>,
    deliveries: HashMap<Uuid, WebhookDelivery>,
    /// The `(subscription, event)` uniqueness the SQL stores get from an index.
    by_pair: HashMap<(Uuid, EventId), Uuid>,
}

/// How to undo one webhook write: the row's previous value (`None`: it did not exist).
pub(super) enum WebhookUndo {
    Sub(Uuid, Option<Box<WebhookSubscription>>),
    Delivery(Uuid, Option<Box<WebhookDelivery>>),
}

impl WebhookState {
    fn put_delivery(&mut self, d: WebhookDelivery) {
        self.by_pair.insert((d.subscription_id, d.event_id), d.id);
        self.deliveries.insert(d.id, d);
    }

    fn drop_delivery(&mut self, id: Uuid) -> Option<WebhookDelivery> {
        let d = self.deliveries.remove(&id)?;
        self.by_pair.remove(&(d.subscription_id, d.event_id));
        Some(d)
    }
}

impl WebhookUndo {
    pub(super) fn apply(self, st: &mut MemoryState) {
        let w = &mut st.webhooks;
        match self {
            WebhookUndo::Sub(id, Some(prev)) => {
                w.subs.insert(id, *prev);
            }
            WebhookUndo::Sub(id, None) => {
                w.subs.remove(&id);
            }
            WebhookUndo::Delivery(id, prev) => {
                w.drop_delivery(id);
                if let Some(d) = prev {
                    w.put_delivery(*d);
                }
            }
        }
    }
}

impl MemoryUow {
    fn log_webhook(&mut self, u: WebhookUndo) {
        self.undo.push(Undo::Webhook(u));
    }
}

#[async_trait]
impl WebhookRepo for MemoryUow {
    async fn insert_webhook(&mut self, w: &WebhookSubscription) -> BankResult<()> {
        let st = self.st_mut()?;
        if st.webhooks.subs.contains_key(&w.id) {
            return Err(BankError::Duplicate("webhook"));
        }
        st.webhooks.subs.insert(w.id, w.clone());
        self.log_webhook(WebhookUndo::Sub(w.id, None));
        Ok(())
    }

    async fn webhook(&mut self, id: Uuid) -> BankResult<Option<WebhookSubscription>> {
        Ok(self.st().webhooks.subs.get(&id).cloned())
    }

    async fn update_webhook(&mut self, w: &WebhookSubscription) -> BankResult<()> {
        let st = self.st_mut()?;
        let slot = st.webhooks.subs.get_mut(&w.id).ok_or(BankError::NotFound {
            resource: "webhook",
        })?;
        let prev = std::mem::replace(slot, w.clone());
        self.log_webhook(WebhookUndo::Sub(w.id, Some(Box::new(prev))));
        Ok(())
    }

    async fn delete_webhook(&mut self, id: Uuid) -> BankResult<bool> {
        let st = self.st_mut()?;
        let Some(prev) = st.webhooks.subs.remove(&id) else {
            return Ok(false);
        };
        let owned: Vec<Uuid> = st
            .webhooks
            .deliveries
            .values()
            .filter(|d| d.subscription_id == id)
            .map(|d| d.id)
            .collect();
        let mut undo = vec![WebhookUndo::Sub(id, Some(Box::new(prev)))];
        for d in owned {
            if let Some(row) = st.webhooks.drop_delivery(d) {
                undo.push(WebhookUndo::Delivery(d, Some(Box::new(row))));
            }
        }
        for u in undo {
            self.log_webhook(u);
        }
        Ok(true)
    }

    async fn list_webhooks(&mut self, limit: u32) -> BankResult<Vec<WebhookSubscription>> {
        let mut v: Vec<_> = self.st().webhooks.subs.values().cloned().collect();
        v.sort_by_key(|w| (w.created_at, w.id));
        v.truncate(limit as usize);
        Ok(v)
    }

    async fn insert_delivery(&mut self, d: &WebhookDelivery) -> BankResult<bool> {
        let st = self.st_mut()?;
        let w = &mut st.webhooks;
        if w.by_pair.contains_key(&(d.subscription_id, d.event_id)) {
            return Ok(false);
        }
        if w.deliveries.contains_key(&d.id) {
            return Err(BankError::Duplicate("webhook delivery"));
        }
        w.put_delivery(d.clone());
        self.log_webhook(WebhookUndo::Delivery(d.id, None));
        Ok(true)
    }

    async fn delivery(&mut self, id: Uuid) -> BankResult<Option<WebhookDelivery>> {
        Ok(self.st().webhooks.deliveries.get(&id).cloned())
    }

    async fn update_delivery(&mut self, d: &WebhookDelivery) -> BankResult<()> {
        let st = self.st_mut()?;
        let prev = st.webhooks.drop_delivery(d.id).ok_or(BankError::NotFound {
            resource: "webhook delivery",
        })?;
        st.webhooks.put_delivery(d.clone());
        self.log_webhook(WebhookUndo::Delivery(d.id, Some(Box::new(prev))));
        Ok(())
    }

    async fn deliveries_of_webhook(
        &mut self,
        subscription: Uuid,
        before: Option<Uuid>,
        limit: u32,
    ) -> BankResult<Vec<WebhookDelivery>> {
        let w = &self.st().webhooks;
        let cursor = match before {
            None => None,
            Some(c) => match w.deliveries.get(&c) {
                Some(d) if d.subscription_id == subscription => Some((d.created_at, d.id)),
                _ => return Ok(Vec::new()),
            },
        };
        let mut v: Vec<_> = w
            .deliveries
            .values()
            .filter(|d| d.subscription_id == subscription)
            .filter(|d| cursor.is_none_or(|c| (d.created_at, d.id) < c))
            .cloned()
            .collect();
        v.sort_by_key(|d| std::cmp::Reverse((d.created_at, d.id)));
        v.truncate(limit as usize);
        Ok(v)
    }

    async fn claim_due_deliveries(
        &mut self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> BankResult<Vec<WebhookDelivery>> {
        let mut due: Vec<_> = self
            .st()
            .webhooks
            .deliveries
            .values()
            .filter(|d| {
                d.status == DeliveryStatus::Pending
                    && d.next_attempt_at <= now
                    && d.lease_until.is_none_or(|l| l <= now)
            })
            .cloned()
            .collect();
        due.sort_by_key(|d| (d.next_attempt_at, d.id));
        due.truncate(limit as usize);
        for d in &mut due {
            d.lease_until = Some(lease_until);
            self.update_delivery(d).await?;
        }
        Ok(due)
    }

    async fn purge_deliveries(&mut self, before: DateTime<Utc>, limit: u32) -> BankResult<u64> {
        let w = &mut self.st_mut()?.webhooks;
        let old = oldest_first(
            w.deliveries
                .values()
                .filter(|d| d.created_at < before && d.status != DeliveryStatus::Pending)
                .map(|d| (d.created_at, d.id)),
            limit,
        );
        let mut undo = Vec::with_capacity(old.len());
        for id in &old {
            if let Some(row) = w.drop_delivery(*id) {
                undo.push(WebhookUndo::Delivery(*id, Some(Box::new(row))));
            }
        }
        let purged = undo.len() as u64;
        for u in undo {
            self.log_webhook(u);
        }
        Ok(purged)
    }
}
