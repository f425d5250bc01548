//! Group commit: concurrent commands coalesce into one store transaction.
//!
//! The first caller to find no leader becomes the leader: it drains the queue (up to
//! `group_size_max` commands), runs each command under its own savepoint — so a refused or
//! failed command rolls back alone and never fails its neighbours — and commits once. Every
//! caller is answered only after the commit covering its command returned, so an
//! acknowledgement always means durable. No background task and no runtime dependency: plain
//! futures.
//!
//! Bounds: the queue holds at most `group_queue_max` commands (a caller finding it full gets
//! `overloaded`, which the retry policy backs off from a bounded number of times); a leader
//! serves at most [`LEADER_GROUPS_MAX`] groups, then hands leadership to the caller at the
//! head of the queue and returns to its own caller. A group is tried once: its callers retry
//! under the executor's one policy, so retries never nest.

use std::collections::VecDeque;
use std::sync::Mutex;

use futures::channel::oneshot;

use crate::audit::UnitTrail;
use crate::auth::Actor;
use crate::bank::Inner;
use crate::banking::{Command, Outcome};
use crate::clock::YieldNow;
use crate::error::{BankError, BankResult};
use crate::executor::RetryPolicy;
use crate::ports::TxMode;

/// Groups one leader serves before it hands leadership on and answers its own caller.
pub const LEADER_GROUPS_MAX: usize = 4;

/// What a queued caller is told. Sent once per command through a oneshot; the result is
/// moved, never copied around, so the size difference to `Lead` costs nothing.
#[allow(clippy::large_enum_variant)]
enum Reply {
    /// Its command ran (committed, or failed as a whole group).
    Done(BankResult<Outcome>),
    /// The previous leader stepped down: this caller leads now (its job was taken off the
    /// queue to tell it; it goes back at the head).
    Lead,
}

struct Job {
    actor: Actor,
    cmd: Command,
    reply: oneshot::Sender<Reply>,
}

struct Queue {
    pending: VecDeque<Job>,
    leader: bool,
}

/// The coalescing queue of one engine.
pub(crate) struct GroupCommitter {
    queue: Mutex<Queue>,
    group_size_max: usize,
    queue_max: usize,
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
    pub(crate) fn new(group_size_max: usize, queue_max: usize) -> Self {
        GroupCommitter {
            queue: Mutex::new(Queue {
                pending: VecDeque::new(),
                leader: false,
            }),
            group_size_max: group_size_max.max(1),
            queue_max: queue_max.max(1),
        }
    }

    pub(crate) async fn submit(
        &self,
        k: &Inner,
        actor: Actor,
        cmd: Command,
    ) -> BankResult<Outcome> {
        let mut attempt = 0;
        let mut handed = false;
        loop {
            if !handed {
                attempt += 1;
            }
            let (reply, rx) = oneshot::channel();
            let lead = self.enqueue(
                Job {
                    actor: actor.clone(),
                    cmd: cmd.clone(),
                    reply,
                },
                std::mem::take(&mut handed),
            );
            let result = match lead {
                Ok(lead) => {
                    if lead {
                        self.lead(k).await;
                    }
                    match rx.await {
                        Ok(Reply::Done(r)) => r,
                        Ok(Reply::Lead) => {
                            handed = true;
                            continue;
                        }
                        Err(_) => Err(BankError::Transient("group leader cancelled".into())),
                    }
                }
                Err(e) => Err(e),
            };
            match result {
                Err(e) if RetryPolicy::again(attempt, &e) => k.back_off(attempt).await,
                other => return other,
            }
        }
    }

    /// Queues `job`; true when its caller must lead. A caller handed leadership goes back at
    /// the head and keeps the leader flag it was given; anyone else finding the queue full is
    /// refused.
    fn enqueue(&self, job: Job, handed: bool) -> BankResult<bool> {
        let mut q = self
            .queue
            .lock()
            .map_err(|_| BankError::internal("group queue poisoned"))?;
        if handed {
            q.pending.push_front(job);
            return Ok(true);
        }
        if q.pending.len() >= self.queue_max {
            return Err(BankError::Overloaded(format!(
                "commit queue full ({} commands)",
                self.queue_max
            )));
        }
        q.pending.push_back(job);
        Ok(!std::mem::replace(&mut q.leader, true))
    }

    async fn lead(&self, k: &Inner) {
        let guard = LeaderGuard(self);
        for served in 0.. {
            if served > 0 {
                // The callers just answered are ready to submit their next command but have
                // not run yet; draining now would start a group without them (groups averaged
                // ~11 of 32 callers on PostgreSQL). One turn of the scheduler lets them queue.
                YieldNow(false).await;
            }
            let jobs: Vec<Job> = {
                let Ok(mut q) = self.queue.lock() else { return };
                if q.pending.is_empty() {
                    q.leader = false;
                    std::mem::forget(guard);
                    return;
                }
                if served >= LEADER_GROUPS_MAX {
                    // Hand on: the first caller still waiting leads from here; the flag stays
                    // set. A caller that went away cannot take it, so try the next.
                    while let Some(next) = q.pending.pop_front() {
                        if next.reply.send(Reply::Lead).is_ok() {
                            std::mem::forget(guard);
                            return;
                        }
                    }
                    q.leader = false;
                    std::mem::forget(guard);
                    return;
                }
                let n = q.pending.len().min(self.group_size_max);
                q.pending.drain(..n).collect()
            };
            run_group(k, jobs).await;
        }
    }
}

/// Runs one group once and answers its callers.
async fn run_group(k: &Inner, jobs: Vec<Job>) {
    match exec_in_one_unit(k, jobs.iter().map(|j| (&j.actor, &j.cmd))).await {
        Ok((results, events)) => {
            k.publish(&events).await;
            for (job, r) in jobs.into_iter().zip(results) {
                let _ = job.reply.send(Reply::Done(r));
            }
        }
        Err(e) => {
            for job in jobs {
                let _ = job.reply.send(Reply::Done(Err(e.clone())));
            }
        }
    }
}

type GroupResult = (Vec<BankResult<Outcome>>, Vec<crate::events::DomainEvent>);

/// Runs independent commands in one store transaction, each under its own savepoint (a
/// refused or failed command rolls back alone), appends all their events and commits once.
/// Shared by the group committer and [`Bank::submit_transfers`]. An `Err` means nothing was
/// committed.
pub(crate) async fn exec_in_one_unit<'a>(
    k: &Inner,
    commands: impl Iterator<Item = (&'a Actor, &'a Command)>,
) -> BankResult<GroupResult> {
    let commands: Vec<(&Actor, &Command)> = commands.collect();
    let mut uow = k.store.begin(TxMode::Write).await?;
    if commands.len() > 1 {
        // One round trip for every command's idempotency lookup instead of one each.
        let keys: Vec<_> = commands
            .iter()
            .filter_map(|(a, c)| {
                c.idempotency_key()
                    .map(|k| (a.idempotency_scope(), k.clone()))
            })
            .collect();
        if !keys.is_empty() {
            uow.prefetch_idempotency(&keys).await?;
        }
    }
    let len = commands.len();
    let mut results = Vec::with_capacity(len);
    let mut events = Vec::with_capacity(len * crate::banking::EVENTS_PER_COMMAND_TYPICAL);
    // The audit entries the group appends; the anchor moves once, to the last of them.
    let trail = UnitTrail::default();
    let money = k.money();
    for (actor, cmd) in commands {
        uow.savepoint().await?;
        let mark = (events.len(), trail.last());
        let run = trail.scope(money.exec(&mut *uow, actor, cmd, &mut events));
        match run.await {
            Ok(out) => {
                uow.release_savepoint().await?;
                results.push(Ok(out));
            }
            Err(e) => {
                uow.rollback_to_savepoint().await?;
                events.truncate(mark.0);
                trail.reset(mark.1);
                results.push(Err(e));
            }
        }
    }
    if !events.is_empty() {
        uow.append_events(&events).await?;
    }
    crate::telemetry::timed_commit(k.store.kind(), &*k.clock, uow.commit()).await?;
    crate::telemetry::group_commit(len);
    k.advance_audit_anchor(trail.last()).await;
    Ok((results, events))
}
