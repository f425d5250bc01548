//! Group commit: concurrent commands coalesce into one store transaction.
//!
//! The first caller to find no leader becomes the leader: it drains the queue (up to
//! `group_size_max` commands), runs each command under its own savepoint — so a refused or
//! failed command rolls back alone and never fails its neighbours — and commits once. Every
//! caller is answered only after the commit covering its command returned, so an
//! acknowledgement always means durable. Then the leader serves the next group, until the
//! queue is empty. No background task and no runtime dependency: plain futures.

use std::collections::VecDeque;
use std::sync::Mutex;

use futures::channel::oneshot;

use crate::auth::Actor;
use crate::bank::{Bank, Command, Outcome, WRITE_RETRIES_MAX};
use crate::error::{BankError, BankResult};
use crate::ports::TxMode;

struct Job {
    actor: Actor,
    cmd: Command,
    reply: oneshot::Sender<BankResult<Outcome>>,
}

struct Queue {
    pending: VecDeque<Job>,
    leader: bool,
}

/// The coalescing queue of one engine.
pub(crate) struct GroupCommitter {
    queue: Mutex<Queue>,
    group_size_max: usize,
}

/// Clears leadership if the leader's future is dropped mid-group, failing the queued jobs
/// with a transient error (their callers retry; idempotency keys make that safe).
struct LeaderGuard<'a>(&'a GroupCommitter);

impl Drop for LeaderGuard<'_> {
    fn drop(&mut self) {
        if let Ok(mut q) = self.0.queue.lock() {
            q.leader = false;
            q.pending.clear();
        }
    }
}

impl GroupCommitter {
    pub(crate) fn new(group_size_max: usize) -> Self {
        GroupCommitter {
            queue: Mutex::new(Queue {
                pending: VecDeque::new(),
                leader: false,
            }),
            group_size_max: group_size_max.max(1),
        }
    }

    pub(crate) async fn submit(
        &self,
        bank: &Bank,
        actor: Actor,
        cmd: Command,
    ) -> BankResult<Outcome> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let (reply, rx) = oneshot::channel();
            let lead = {
                let mut q = self
                    .queue
                    .lock()
                    .map_err(|_| BankError::internal("group queue poisoned"))?;
                q.pending.push_back(Job {
                    actor: actor.clone(),
                    cmd: cmd.clone(),
                    reply,
                });
                !std::mem::replace(&mut q.leader, true)
            };
            if lead {
                self.lead(bank).await;
            }
            let result = rx
                .await
                .unwrap_or_else(|_| Err(BankError::Transient("group leader cancelled".into())));
            match result {
                Err(e) if Bank::retryable(&e) && attempt < WRITE_RETRIES_MAX => continue,
                other => return other,
            }
        }
    }

    async fn lead(&self, bank: &Bank) {
        let guard = LeaderGuard(self);
        loop {
            let jobs: Vec<Job> = {
                let Ok(mut q) = self.queue.lock() else { return };
                if q.pending.is_empty() {
                    q.leader = false;
                    std::mem::forget(guard);
                    return;
                }
                let n = q.pending.len().min(self.group_size_max);
                q.pending.drain(..n).collect()
            };
            run_group(bank, jobs).await;
        }
    }
}

async fn run_group(bank: &Bank, jobs: Vec<Job>) {
    let mut attempt = 0;
    loop {
        attempt += 1;
        match try_group(bank, &jobs).await {
            Ok((results, events)) => {
                bank.publish(&events).await;
                for (job, r) in jobs.into_iter().zip(results) {
                    let _ = job.reply.send(r);
                }
                return;
            }
            Err(e) if Bank::retryable(&e) && attempt < WRITE_RETRIES_MAX => continue,
            Err(e) => {
                for job in jobs {
                    let _ = job.reply.send(Err(e.clone()));
                }
                return;
            }
        }
    }
}

type GroupResult = (Vec<BankResult<Outcome>>, Vec<crate::events::DomainEvent>);

async fn try_group(bank: &Bank, jobs: &[Job]) -> BankResult<GroupResult> {
    let mut uow = bank.inner.store.begin(TxMode::Write).await?;
    let mut results = Vec::with_capacity(jobs.len());
    let mut events = Vec::new();
    for job in jobs {
        uow.savepoint().await?;
        let mut ev = Vec::new();
        match bank.exec(&mut *uow, &job.actor, &job.cmd, &mut ev).await {
            Ok(out) => {
                uow.release_savepoint().await?;
                events.extend(ev);
                results.push(Ok(out));
            }
            Err(e) => {
                uow.rollback_to_savepoint().await?;
                results.push(Err(e));
            }
        }
    }
    if !events.is_empty() {
        uow.append_events(&events).await?;
    }
    uow.commit().await?;
    Ok((results, events))
}
