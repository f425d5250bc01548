//! Scheduled (standing) transfers: a customer asks for money to move later, once or on a
//! recurring basis. The transaction context owns them (`scheduled_transfers` table).
//!
//! Exactly-once without distributed locks: occurrence `k` of schedule `s` runs as an ordinary
//! transfer whose idempotency key is derived from `(s, k)`, so a worker that crashes after the
//! transfer committed, or two replicas racing on the same due schedule, can only replay it.
//! Claims with a lease keep replicas from doing the same work twice in the common case.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Months, Utc};
use serde::{Deserialize, Serialize};

use crate::account::string_enum;
use crate::auth::Actor;
use crate::bank::Inner;
use crate::banking::{Destination, TransferItem, TransferRequest, DESCRIPTION_LEN_MAX};
use crate::error::{BankError, BankResult};
use crate::fraud_port::RequestContext;
use crate::idempotency::{fingerprint, IdempotencyKey, IdempotencyRecord, IdempotentResponse};
use crate::ids::{AccountId, CustomerId, ScheduleId, TransactionId, UserId};
use crate::money::Money;
use crate::ports::TxMode;
use crate::transaction::{check_page_limit, TransactionStatus};

crate::bank::context_service!(
    /// Scheduled (standing) transfers: `bank.schedules()`.
    ScheduleService,
    schedules
);

/// Schedules claimed per worker pass, at most.
pub const SCHEDULES_PER_PASS_MAX: u32 = 100;
/// How far ahead a first run may be scheduled.
pub const SCHEDULE_HORIZON_DAYS_MAX: i64 = 5 * 366;
/// How long a worker owns a claimed schedule before another may take it.
pub const SCHEDULE_LEASE_SECONDS: i64 = 60;

string_enum!(
    /// How often a scheduled transfer runs.
    Frequency, "frequency" {
        /// One run, then COMPLETED.
        Once = "ONCE",
        /// Every day at the same time.
        Daily = "DAILY",
        /// Every 7 days.
        Weekly = "WEEKLY",
        /// Every month on the same day (clamped to the month's last day).
        Monthly = "MONTHLY",
    }
);

string_enum!(
    /// Lifecycle of a scheduled transfer.
    ScheduleStatus, "schedule_status" {
        /// Will run at `next_run_at`.
        Active = "ACTIVE",
        /// Cancelled by its owner or staff.
        Cancelled = "CANCELLED",
        /// Ran its last occurrence.
        Completed = "COMPLETED",
    }
);

/// A scheduled transfer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduledTransfer {
    /// Id.
    pub id: ScheduleId,
    /// Owner of the debited account.
    pub customer_id: CustomerId,
    /// The user who created it (runs act as this user).
    pub created_by: Option<UserId>,
    /// Debited account.
    pub from_account_id: AccountId,
    /// Credited account.
    pub to_account_id: AccountId,
    /// Amount per run.
    pub amount: Money,
    /// Description copied to each transfer.
    pub description: Option<String>,
    /// Recurrence.
    pub frequency: Frequency,
    /// First run.
    pub start_at: DateTime<Utc>,
    /// No run after this instant.
    pub end_at: Option<DateTime<Utc>>,
    /// Next run (the `occurrence`-th after `start_at`).
    pub next_run_at: DateTime<Utc>,
    /// Runs already done (0-based index of the next run).
    pub occurrence: i64,
    /// Lifecycle.
    pub status: ScheduleStatus,
    /// Transaction of the last run.
    pub last_transaction_id: Option<TransactionId>,
    /// Status of the last run's transaction.
    pub last_status: Option<TransactionStatus>,
    /// Refusal of the last run, if it failed.
    pub last_error: Option<String>,
    /// A worker owns the schedule until then.
    pub lease_until: Option<DateTime<Utc>>,
    /// Creation.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl ScheduledTransfer {
    /// When occurrence `k` (0-based) is due, or `None` past the end or for ONCE after the first.
    pub fn run_at(&self, k: i64) -> Option<DateTime<Utc>> {
        let at = match self.frequency {
            Frequency::Once if k == 0 => Some(self.start_at),
            Frequency::Once => None,
            Frequency::Daily => self.start_at.checked_add_signed(Duration::days(k)),
            Frequency::Weekly => self.start_at.checked_add_signed(Duration::weeks(k)),
            Frequency::Monthly => u32::try_from(k)
                .ok()
                .and_then(|k| self.start_at.checked_add_months(Months::new(k))),
        }?;
        match self.end_at {
            Some(end) if at > end => None,
            _ => Some(at),
        }
    }

    fn occurrence_key(&self) -> BankResult<IdempotencyKey> {
        IdempotencyKey::parse(&format!("schedule:{}:{}", self.id, self.occurrence))
    }
}

/// Transaction context: scheduled transfers.
#[async_trait]
pub trait ScheduleRepo: Send {
    /// Inserts a schedule; `Duplicate("scheduled transfer")` if the id exists.
    async fn insert_schedule(&mut self, s: &ScheduledTransfer) -> BankResult<()>;
    /// Reads a schedule.
    async fn schedule(&mut self, id: ScheduleId) -> BankResult<Option<ScheduledTransfer>>;
    /// Reads and locks a schedule (`FOR UPDATE`).
    async fn lock_schedule(&mut self, id: ScheduleId) -> BankResult<Option<ScheduledTransfer>>;
    /// Overwrites a schedule; `NotFound{resource:"scheduled transfer"}` if absent.
    async fn update_schedule(&mut self, s: &ScheduledTransfer) -> BankResult<()>;
    /// A customer's schedules, newest first (`created_at DESC, id DESC`), at most `limit`.
    async fn schedules_of_customer(
        &mut self,
        customer: CustomerId,
        limit: u32,
    ) -> BankResult<Vec<ScheduledTransfer>>;
    /// Claims due schedules: ACTIVE, `next_run_at <= now`, lease free or expired
    /// (`lease_until IS NULL OR lease_until <= now`), ordered by `next_run_at, id`, at most
    /// `limit`; sets `lease_until` on each (Postgres: `FOR UPDATE SKIP LOCKED`).
    async fn claim_due_schedules(
        &mut self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> BankResult<Vec<ScheduledTransfer>>;
}

/// Creates a scheduled transfer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreateSchedule {
    /// Debited account (the actor's own unless staff).
    pub from_account_id: AccountId,
    /// Credited account.
    pub to: Destination,
    /// Positive amount in the accounts' currency.
    pub amount: Money,
    /// Free text.
    pub description: Option<String>,
    /// Recurrence.
    pub frequency: Frequency,
    /// First run (now or later).
    pub start_at: DateTime<Utc>,
    /// Last possible run.
    pub end_at: Option<DateTime<Utc>>,
    /// Idempotency key of the creation request.
    pub idempotency_key: IdempotencyKey,
}

/// What one worker pass did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleRunReport {
    /// Runs whose transfer completed (or went to review).
    pub completed: usize,
    /// Runs refused (insufficient funds, frozen...): the schedule moves on.
    pub failed: usize,
}

impl ScheduleService<'_> {
    /// Creates a scheduled transfer. Checked now (ownership, currency, destination); funds are
    /// checked at each run.
    pub async fn create_scheduled_transfer(
        &self,
        actor: &Actor,
        req: CreateSchedule,
    ) -> BankResult<ScheduledTransfer> {
        let now = self.now();
        if req
            .description
            .as_ref()
            .is_some_and(|d| d.chars().count() > DESCRIPTION_LEN_MAX)
        {
            return Err(BankError::validation(
                "description",
                "at most 500 characters",
            ));
        }
        let amount = req.amount.positive()?;
        if req.start_at < now - Duration::minutes(1)
            || req.start_at > now + Duration::days(SCHEDULE_HORIZON_DAYS_MAX)
        {
            return Err(BankError::validation(
                "start_at",
                "must be between now and five years ahead",
            ));
        }
        if req.end_at.is_some_and(|e| e < req.start_at) {
            return Err(BankError::validation(
                "end_at",
                "must not be before start_at",
            ));
        }
        let scope = actor.idempotency_scope();
        let fp = fingerprint(&[
            "schedule",
            &req.from_account_id.to_string(),
            &format!("{:?}", req.to),
            &amount.to_string(),
            req.description.as_deref().unwrap_or(""),
            req.frequency.as_str(),
            &req.start_at.to_rfc3339(),
            &req.end_at.map(|e| e.to_rfc3339()).unwrap_or_default(),
        ]);
        let mut uow = self.store.begin(TxMode::Write).await?;
        match uow.idempotency(&scope, &req.idempotency_key).await? {
            Some(rec) if rec.fingerprint != fp => return Err(BankError::IdempotencyConflict),
            Some(IdempotencyRecord {
                response: IdempotentResponse::Schedule(s),
                ..
            }) => return Ok(s),
            Some(_) => return Err(BankError::IdempotencyConflict),
            None => {}
        }
        let from = uow
            .account(req.from_account_id)
            .await?
            .ok_or(BankError::NotFound {
                resource: "account",
            })?;
        actor.check_act(&from)?;
        let to = match &req.to {
            Destination::Account(id) => uow.account(*id).await?,
            Destination::Number(n) => uow.account_by_number(n).await?,
            Destination::External(_) => {
                return Err(BankError::validation(
                    "to",
                    "scheduled transfers go to accounts of this bank",
                ))
            }
        }
        .ok_or(BankError::NotFound {
            resource: "account",
        })?;
        if to.id == from.id {
            return Err(BankError::validation(
                "to_account_id",
                "cannot move money to the same account",
            ));
        }
        for a in [&from, &to] {
            if a.currency != amount.currency() {
                return Err(BankError::CurrencyMismatch {
                    expected: a.currency,
                    got: amount.currency(),
                });
            }
        }
        from.ensure_open_for_movement()?;
        let s = ScheduledTransfer {
            id: ScheduleId(self.new_uuid()),
            customer_id: from.customer_id,
            created_by: actor.user_id,
            from_account_id: from.id,
            to_account_id: to.id,
            amount,
            description: req.description,
            frequency: req.frequency,
            start_at: req.start_at,
            end_at: req.end_at,
            next_run_at: req.start_at,
            occurrence: 0,
            status: ScheduleStatus::Active,
            last_transaction_id: None,
            last_status: None,
            last_error: None,
            lease_until: None,
            created_at: now,
            updated_at: now,
        };
        uow.insert_schedule(&s).await?;
        let rec = IdempotencyRecord {
            scope,
            key: req.idempotency_key,
            fingerprint: fp,
            response: IdempotentResponse::Schedule(s.clone()),
            created_at: now,
        };
        uow.insert_idempotency(&rec).await?;
        uow.commit().await?;
        Ok(s)
    }

    /// A customer's scheduled transfers, newest first.
    pub async fn scheduled_transfers(
        &self,
        actor: &Actor,
        customer: CustomerId,
        limit: u32,
    ) -> BankResult<Vec<ScheduledTransfer>> {
        if !actor.may_read_customer(customer) {
            return Err(actor.refuse_foreign("customer", customer));
        }
        check_page_limit(limit)?;
        self.k
            .store
            .begin(TxMode::Read)
            .await?
            .schedules_of_customer(customer, limit)
            .await
    }

    /// One scheduled transfer the actor may see.
    pub async fn scheduled_transfer(
        &self,
        actor: &Actor,
        id: ScheduleId,
    ) -> BankResult<ScheduledTransfer> {
        let s = self.store.begin(TxMode::Read).await?.schedule(id).await?;
        s.filter(|s| actor.may_read_customer(s.customer_id))
            .ok_or(BankError::NotFound {
                resource: "scheduled transfer",
            })
    }

    /// Cancels an ACTIVE scheduled transfer (owner or admin).
    pub async fn cancel_scheduled_transfer(
        &self,
        actor: &Actor,
        id: ScheduleId,
    ) -> BankResult<ScheduledTransfer> {
        let mut uow = self.store.begin(TxMode::Write).await?;
        let mut s = uow
            .lock_schedule(id)
            .await?
            .filter(|s| actor.may_act_for_customer(s.customer_id))
            .ok_or(BankError::NotFound {
                resource: "scheduled transfer",
            })?;
        if s.status != ScheduleStatus::Active {
            return Err(BankError::InvalidState(format!(
                "scheduled transfer is {}",
                s.status
            )));
        }
        s.status = ScheduleStatus::Cancelled;
        s.updated_at = self.now();
        uow.update_schedule(&s).await?;
        uow.commit().await?;
        Ok(s)
    }

    /// Runs every due occurrence (one pass, at most [`SCHEDULES_PER_PASS_MAX`] schedules).
    /// Safe to call from several processes at once: see the module docs.
    pub async fn run_due_scheduled_transfers(&self) -> BankResult<ScheduleRunReport> {
        let now = self.now();
        let mut uow = self.store.begin(TxMode::Write).await?;
        let due = uow
            .claim_due_schedules(
                now,
                now + Duration::seconds(SCHEDULE_LEASE_SECONDS),
                SCHEDULES_PER_PASS_MAX,
            )
            .await?;
        uow.commit().await?;
        let mut report = ScheduleRunReport::default();
        for s in due {
            let actor = match s.created_by {
                Some(u) => Actor::customer(u, Some(s.customer_id)),
                None => Actor::system(),
            };
            let req = TransferRequest {
                item: TransferItem {
                    from_account_id: s.from_account_id,
                    to: Destination::Account(s.to_account_id),
                    amount: s.amount,
                    description: s.description.clone(),
                },
                idempotency_key: s.occurrence_key()?,
                context: RequestContext::default(),
            };
            let result = self.money().transfer(&actor, req).await;
            let (txn_id, status, error) = match &result {
                Ok(t) => (Some(t.id), Some(t.status), None),
                Err(e) if e.is_business_refusal() => {
                    (None, Some(TransactionStatus::Failed), Some(e.to_string()))
                }
                // Bad state (account closed since, not found): the schedule stops here.
                Err(e) => (None, None, Some(e.to_string())),
            };
            if result.is_ok() {
                report.completed += 1;
            } else {
                report.failed += 1;
            }
            self.advance_schedule(s.id, s.occurrence, txn_id, status, error)
                .await?;
        }
        Ok(report)
    }
}

impl Inner {
    async fn advance_schedule(
        &self,
        id: ScheduleId,
        ran: i64,
        txn: Option<TransactionId>,
        status: Option<TransactionStatus>,
        error: Option<String>,
    ) -> BankResult<()> {
        let mut uow = self.store.begin(TxMode::Write).await?;
        let Some(mut s) = uow.lock_schedule(id).await? else {
            return Ok(());
        };
        if s.occurrence != ran || s.status != ScheduleStatus::Active {
            // Another worker already advanced it (its transfer was an idempotent replay of ours).
            return Ok(());
        }
        let stop = status.is_none();
        s.occurrence += 1;
        s.last_transaction_id = txn.or(s.last_transaction_id);
        s.last_status = status;
        s.last_error = error;
        s.lease_until = None;
        s.updated_at = self.now();
        match s.run_at(s.occurrence) {
            Some(next) if !stop => s.next_run_at = next,
            _ => {
                s.status = if stop {
                    ScheduleStatus::Cancelled
                } else {
                    ScheduleStatus::Completed
                }
            }
        }
        uow.update_schedule(&s).await?;
        uow.commit().await
    }
}
