//! The events log: event store and outbox in one.

use super::*;

impl MemoryState {
    pub(super) fn events_of(&self, aggregate: Uuid, limit: usize) -> Vec<StoredEvent> {
        self.events_by_aggregate
            .rows(aggregate, |i| self.events[i].prev_of_aggregate)
            .into_iter()
            .filter_map(|i| self.stored_event(i))
            .take(limit)
            .collect()
    }

    /// The event at log index `i`, decoded.
    pub(super) fn stored_event(&self, i: usize) -> Option<StoredEvent> {
        use crate::events::{BalanceEventData, EventData, TransactionEventData};
        let row = &self.events[i];
        let data = match &row.data {
            StoredData::Transaction {
                base,
                status,
                hold_id,
                text,
            } => {
                let b = &self.txn_event_bases[*base];
                EventData::Transaction(TransactionEventData {
                    transaction_id: b.transaction_id,
                    transaction_type: b.transaction_type,
                    from_account_id: b.from_account_id,
                    to_account_id: b.to_account_id,
                    amount: b.amount,
                    status: *status,
                    reason: text.as_ref().and_then(|t| t.reason.clone()),
                    failure_code: text.as_ref().and_then(|t| t.failure_code.clone()),
                    description: text.as_ref().and_then(|t| t.description.clone()),
                    parent_id: b.parent_id,
                    hold_id: *hold_id,
                    initiated_by: text.as_ref().and_then(|t| t.initiated_by),
                    approved_by: text.as_ref().and_then(|t| t.approved_by),
                })
            }
            StoredData::Balance {
                balance,
                available,
                transaction_id,
            } => EventData::Balance(BalanceEventData {
                account_id: AccountId(row.aggregate_id),
                balance: *balance,
                available_balance: *available,
                transaction_id: *transaction_id,
            }),
            StoredData::Other(d) => (**d).clone(),
            StoredData::Purged => return None,
        };
        Some(StoredEvent {
            seq: i as i64 + 1,
            event: DomainEvent {
                id: row.id,
                event_type: row.event_type,
                aggregate_id: row.aggregate_id,
                time: row.time,
                data,
            },
            published_at: match row.relay {
                Relay::Published(at) => Some(at),
                Relay::Pending | Relay::Leased(_) => None,
            },
        })
    }

    /// Encodes an event for the log. `prev` is the aggregate's previous event, whose base a
    /// transaction event shares when nothing in it changed.
    pub(super) fn compact(&mut self, e: &DomainEvent, prev: usize) -> StoredData {
        use crate::events::EventData;
        match &e.data {
            EventData::Transaction(d) => {
                let base = TxnEventBase {
                    transaction_id: d.transaction_id,
                    transaction_type: d.transaction_type,
                    from_account_id: d.from_account_id,
                    to_account_id: d.to_account_id,
                    amount: d.amount,
                    parent_id: d.parent_id,
                };
                let shared = match self.events.get(prev).map(|r| &r.data) {
                    Some(StoredData::Transaction { base: b, .. })
                        if self.txn_event_bases[*b] == base =>
                    {
                        Some(*b)
                    }
                    _ => None,
                };
                let base = shared.unwrap_or_else(|| {
                    self.txn_event_bases.push(base);
                    self.txn_event_bases.len() - 1
                });
                let text = (d.reason.is_some()
                    || d.failure_code.is_some()
                    || d.description.is_some()
                    || d.initiated_by.is_some()
                    || d.approved_by.is_some())
                .then(|| {
                    Box::new(TxnEventText {
                        reason: d.reason.clone(),
                        failure_code: d.failure_code.clone(),
                        description: d.description.clone(),
                        initiated_by: d.initiated_by,
                        approved_by: d.approved_by,
                    })
                });
                StoredData::Transaction {
                    base,
                    status: d.status,
                    hold_id: d.hold_id,
                    text,
                }
            }
            EventData::Balance(b) if b.account_id.0 == e.aggregate_id => StoredData::Balance {
                balance: b.balance,
                available: b.available_balance,
                transaction_id: b.transaction_id,
            },
            other => StoredData::Other(Box::new(other.clone())),
        }
    }
}

#[async_trait]
impl EventRepo for MemoryUow {
    async fn append_events(&mut self, events: &[DomainEvent]) -> BankResult<()> {
        let st = self.st_mut()?;
        let len = st.events.len();
        let bases_len = st.txn_event_bases.len();
        for e in events {
            let i = st.events.len();
            let prev_of_aggregate = st.events_by_aggregate.link(e.aggregate_id, i);
            let data = st.compact(e, prev_of_aggregate);
            st.events.push(EventRow {
                id: e.id,
                event_type: e.event_type,
                aggregate_id: e.aggregate_id,
                time: e.time,
                data,
                relay: Relay::Pending,
                prev_of_aggregate,
            });
        }
        self.undo.push(Undo::Events {
            events_len: len,
            bases_len,
        });
        Ok(())
    }

    async fn events_of_aggregate(
        &mut self,
        aggregate_id: Uuid,
        limit: u32,
    ) -> BankResult<Vec<StoredEvent>> {
        let limit = limit.min(crate::ports::EVENTS_OF_AGGREGATE_MAX) as usize;
        Ok(self.st().events_of(aggregate_id, limit))
    }

    async fn claim_events(
        &mut self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> BankResult<Vec<StoredEvent>> {
        let st = self.st_mut()?;
        let mut blocked: std::collections::HashSet<Uuid> = Default::default();
        let mut claimed = Vec::new();
        let mut undo = Vec::new();
        for i in st.events_published_below..st.events.len() {
            if claimed.len() >= limit as usize {
                break;
            }
            let row = &mut st.events[i];
            if matches!(row.relay, Relay::Published(_)) {
                continue;
            }
            let agg = row.aggregate_id;
            // An earlier unpublished event of this aggregate blocks the later ones.
            if !blocked.insert(agg) {
                continue;
            }
            if matches!(row.relay, Relay::Leased(l) if l > now) {
                continue;
            }
            undo.push(Undo::EventRelay(i, row.relay));
            row.relay = Relay::Leased(lease_until);
            // Purged rows are published, so never reach here; skipping them keeps it so.
            claimed.extend(st.stored_event(i));
        }
        self.undo.extend(undo);
        Ok(claimed)
    }

    async fn oldest_unpublished_event_time(&mut self) -> BankResult<Option<DateTime<Utc>>> {
        let st = self.st();
        // Everything below `events_published_below` is published; scan on from there.
        Ok((st.events_published_below..st.events.len())
            .filter_map(|i| st.events.get(i))
            .find(|r| !matches!(r.relay, Relay::Published(_)))
            .map(|r| r.time))
    }

    async fn mark_published(&mut self, seqs: &[i64], at: DateTime<Utc>) -> BankResult<()> {
        let st = self.st_mut()?;
        let mut undo = Vec::with_capacity(seqs.len());
        for seq in seqs {
            let i =
                usize::try_from(*seq - 1).map_err(|_| BankError::NotFound { resource: "event" })?;
            let row = st
                .events
                .get_mut(i)
                .ok_or(BankError::NotFound { resource: "event" })?;
            undo.push(Undo::EventRelay(i, row.relay));
            row.relay = Relay::Published(at);
        }
        while st
            .events
            .get(st.events_published_below)
            .is_some_and(|r| matches!(r.relay, Relay::Published(_)))
        {
            st.events_published_below += 1;
        }
        self.undo.extend(undo);
        Ok(())
    }

    async fn purge_published_events(
        &mut self,
        before: DateTime<Utc>,
        limit: u32,
    ) -> BankResult<u64> {
        let limit = limit.min(crate::ports::PURGE_BATCH_MAX) as usize;
        let st = self.st_mut()?;
        let mut undo = Vec::new();
        for i in st.events_purged_below..st.events.len() {
            if undo.len() >= limit {
                break;
            }
            let row = &mut st.events[i];
            let purgeable = matches!(row.relay, Relay::Published(_))
                && row.time < before
                && !matches!(row.data, StoredData::Purged);
            if purgeable {
                undo.push(Undo::EventPurge(
                    i,
                    std::mem::replace(&mut row.data, StoredData::Purged),
                ));
            }
        }
        while st
            .events
            .get(st.events_purged_below)
            .is_some_and(|r| matches!(r.data, StoredData::Purged))
        {
            st.events_purged_below += 1;
        }
        let n = undo.len() as u64;
        self.undo.extend(undo);
        Ok(n)
    }
}
