//! The pure heart of every money movement: given the locked accounts, decide and build the
//! postings, the hold, the balance changes and the transaction's events. No I/O here; the
//! engine loads and locks before and persists after.

use chrono::{DateTime, NaiveDate, Utc};

use crate::account::{Account, Hold, HoldStatus};
use crate::error::{BankError, BankResult};
use crate::events::{BalanceEventData, DomainEvent, EventData, EventType, TransactionEventData};
use crate::ids::{AccountId, EventId, HoldId, JournalId, TransactionId};
use crate::ledger::{JournalEntry, SystemAccount};
use crate::money::Money;
use crate::transaction::{Transaction, TransactionStatus, TransactionType};

/// One side of a movement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// A customer account.
    Customer(AccountId),
    /// A general-ledger account of the bank.
    System(SystemAccount),
}

impl Side {
    /// The customer account, if this side is one.
    pub fn customer(&self) -> Option<AccountId> {
        match self {
            Side::Customer(id) => Some(*id),
            Side::System(_) => None,
        }
    }

    fn ledger_id(&self, m: &Money) -> AccountId {
        match self {
            Side::Customer(id) => *id,
            Side::System(s) => s.id(m.currency()),
        }
    }
}

/// What is to move.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Movement {
    /// Kind.
    pub kind: TransactionType,
    /// Debited side.
    pub debit: Side,
    /// Credited side.
    pub credit: Side,
    /// Positive amount.
    pub amount: Money,
    /// Free text.
    pub description: Option<String>,
}

/// Ids and time the engine supplies for one movement.
pub struct Stamp<'a> {
    /// New transaction id.
    pub txn_id: TransactionId,
    /// Now.
    pub now: DateTime<Utc>,
    /// Where fresh ids for events, journals and holds come from.
    pub ids: &'a dyn crate::ids::IdGenerator,
}

impl Stamp<'_> {
    fn today(&self) -> NaiveDate {
        self.now.date_naive()
    }

    /// A fresh id, time-stamped with the movement's `now` (one clock read per command, not
    /// one per id: a transfer makes about ten).
    pub(crate) fn new_id(&self) -> uuid::Uuid {
        self.ids.next_uuid_at(self.now)
    }

    fn event(&self, event_type: EventType, data: EventData, aggregate: uuid::Uuid) -> DomainEvent {
        DomainEvent {
            id: EventId(self.new_id()),
            event_type,
            aggregate_id: aggregate,
            time: self.now,
            data,
        }
    }
}

/// Locked copies of the accounts a command touches; changed in place, written back after.
#[derive(Debug, Default)]
pub struct AccountSet {
    accounts: Vec<Account>,
    dirty: Vec<bool>,
}

impl AccountSet {
    /// Wraps locked accounts.
    pub fn new(accounts: Vec<Account>) -> Self {
        let dirty = vec![false; accounts.len()];
        AccountSet { accounts, dirty }
    }

    /// Looks an account up (`not_found` if it was not locked, i.e. does not exist).
    pub fn get(&self, id: AccountId) -> BankResult<&Account> {
        self.accounts
            .iter()
            .find(|a| a.id == id)
            .ok_or(BankError::NotFound {
                resource: "account",
            })
    }

    pub(crate) fn get_mut(&mut self, id: AccountId) -> BankResult<&mut Account> {
        let i = self
            .accounts
            .iter()
            .position(|a| a.id == id)
            .ok_or(BankError::NotFound {
                resource: "account",
            })?;
        self.dirty[i] = true;
        Ok(&mut self.accounts[i])
    }

    /// The accounts that changed, invariants asserted (pair assertion: stores assert on read).
    pub fn into_dirty(self) -> BankResult<Vec<Account>> {
        let AccountSet {
            mut accounts,
            dirty,
        } = self;
        // In place: the locked set's buffer becomes the result (no allocation per command).
        let mut flags = dirty.into_iter();
        accounts.retain(|_| flags.next().unwrap_or(false));
        for a in &accounts {
            a.assert_invariants()?;
        }
        Ok(accounts)
    }

    /// Snapshot used to undo a refused item of a linked batch.
    pub fn snapshot(&self) -> Vec<Account> {
        self.accounts.clone()
    }

    /// Restores a snapshot.
    pub fn restore(&mut self, snapshot: Vec<Account>) {
        self.accounts = snapshot;
    }
}

/// The result of planning one movement.
#[derive(Debug)]
pub struct Planned {
    /// The transaction read model (fold of `events`).
    pub txn: Transaction,
    /// Events, in order.
    pub events: Vec<DomainEvent>,
    /// The journal entry, when money moved.
    pub journal: Option<JournalEntry>,
    /// The hold, when funds were reserved instead.
    pub hold: Option<Hold>,
}

/// How the fraud step ended for this movement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FraudOutcome {
    /// No fraud step (deposits, internal bookings).
    NotChecked,
    /// Passed.
    Passed,
    /// Sent to review: reserve funds, do not post.
    Review,
}

/// When to reserve instead of posting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reserve {
    /// Post immediately.
    No,
    /// Two-phase: reserve until `expires_at`.
    Until(DateTime<Utc>),
}

pub(crate) fn txn_event(
    stamp: &Stamp<'_>,
    ty: EventType,
    m: &Movement,
    status: TransactionStatus,
    amount: Money,
) -> DomainEvent {
    let data = TransactionEventData {
        transaction_id: stamp.txn_id,
        transaction_type: m.kind,
        from_account_id: m.debit.customer(),
        to_account_id: m.credit.customer(),
        amount,
        status,
        reason: None,
        failure_code: None,
        description: if ty == EventType::TransactionInitiated {
            m.description.clone()
        } else {
            None
        },
        parent_id: None,
        hold_id: None,
        initiated_by: None,
        approved_by: None,
    };
    stamp.event(ty, EventData::Transaction(data), stamp.txn_id.0)
}

/// The events of a refused movement: initiated → failed.
pub fn refused(
    stamp: &Stamp<'_>,
    m: &Movement,
    fraud_passed: bool,
    err: &BankError,
) -> BankResult<Planned> {
    let mut events = vec![txn_event(
        stamp,
        EventType::TransactionInitiated,
        m,
        TransactionStatus::Pending,
        m.amount,
    )];
    if fraud_passed {
        events.push(txn_event(
            stamp,
            EventType::TransactionFraudCheckPassed,
            m,
            TransactionStatus::Pending,
            m.amount,
        ));
    }
    let mut failed = txn_event(
        stamp,
        EventType::TransactionFailed,
        m,
        TransactionStatus::Failed,
        m.amount,
    );
    if let EventData::Transaction(d) = &mut failed.data {
        d.failure_code = Some(err.code().to_string());
        d.reason = Some(err.to_string());
    }
    events.push(failed);
    let txn = Transaction::from_events(&events)?;
    Ok(Planned {
        txn,
        events,
        journal: None,
        hold: None,
    })
}

/// Checks a movement against the locked accounts (status, currency, limits, funds).
/// Validation errors (currency) and refusals (funds, frozen, limit) both come back as errors;
/// the caller decides which are recorded.
pub fn check(accounts: &AccountSet, m: &Movement, today: NaiveDate) -> BankResult<()> {
    validate_shape(accounts, m)?;
    // Status of both sides first: a frozen account is the clearer answer than missing funds.
    for side in [m.debit, m.credit] {
        if let Side::Customer(id) = side {
            accounts.get(id)?.ensure_open_for_movement()?;
        }
    }
    if let Side::Customer(id) = m.debit {
        accounts.get(id)?.check_debit(m.amount.amount(), today)?;
    }
    Ok(())
}

/// Checks what makes a request malformed rather than refused: same account on both sides,
/// unknown accounts, a currency other than the accounts'.
pub fn validate_shape(accounts: &AccountSet, m: &Movement) -> BankResult<()> {
    if m.debit == m.credit {
        return Err(BankError::validation(
            "to_account_id",
            "cannot move money to the same account",
        ));
    }
    for side in [m.debit, m.credit] {
        if let Side::Customer(id) = side {
            let a = accounts.get(id)?;
            if a.currency != m.amount.currency() {
                return Err(BankError::CurrencyMismatch {
                    expected: a.currency,
                    got: m.amount.currency(),
                });
            }
        }
    }
    Ok(())
}

pub(crate) fn balance_event(stamp: &Stamp<'_>, a: &Account) -> DomainEvent {
    stamp.event(
        EventType::AccountBalanceUpdated,
        EventData::Balance(BalanceEventData {
            account_id: a.id,
            balance: a.balance_money(),
            available_balance: a.available_money(),
            transaction_id: stamp.txn_id,
        }),
        a.id.0,
    )
}

/// Plans an accepted movement (call [`check`] first): posts it, or reserves funds with a hold
/// when `reserve` asks for two-phase or fraud sent it to review.
pub fn plan(
    accounts: &mut AccountSet,
    m: &Movement,
    stamp: &Stamp<'_>,
    fraud: FraudOutcome,
    reserve: Reserve,
    hold_ttl_default: chrono::Duration,
) -> BankResult<Planned> {
    let today = stamp.today();
    let mut events = Vec::with_capacity(crate::banking::EVENTS_PER_COMMAND_TYPICAL);
    events.push(txn_event(
        stamp,
        EventType::TransactionInitiated,
        m,
        TransactionStatus::Pending,
        m.amount,
    ));
    if fraud == FraudOutcome::Passed {
        events.push(txn_event(
            stamp,
            EventType::TransactionFraudCheckPassed,
            m,
            TransactionStatus::Pending,
            m.amount,
        ));
    }
    let hold_until = match (reserve, fraud) {
        (Reserve::Until(t), _) => Some(t),
        (Reserve::No, FraudOutcome::Review) => Some(stamp.now + hold_ttl_default),
        (Reserve::No, _) => None,
    };
    if let Some(expires_at) = hold_until {
        let Side::Customer(from) = m.debit else {
            return Err(BankError::validation(
                "from_account_id",
                "only customer accounts can reserve funds",
            ));
        };
        let status = if fraud == FraudOutcome::Review {
            TransactionStatus::Review
        } else {
            TransactionStatus::Pending
        };
        let hold = Hold {
            id: HoldId(stamp.new_id()),
            account_id: from,
            transaction_id: stamp.txn_id,
            amount: m.amount,
            status: HoldStatus::Active,
            expires_at,
            created_at: stamp.now,
            resolved_at: None,
        };
        let a = accounts.get_mut(from)?;
        a.add_to_held(m.amount.amount())?;
        a.count_outgoing(m.amount.amount(), today);
        a.updated_at = stamp.now;
        let mut reserved = txn_event(
            stamp,
            EventType::TransactionBalanceReserved,
            m,
            status,
            m.amount,
        );
        if let EventData::Transaction(d) = &mut reserved.data {
            d.hold_id = Some(hold.id);
        }
        events.push(reserved);
        let bal = balance_event(stamp, accounts.get(from)?);
        events.push(bal);
        let txn =
            Transaction::from_events(events.iter().filter(|e| e.aggregate_id == stamp.txn_id.0))?;
        return Ok(Planned {
            txn,
            events,
            journal: None,
            hold: Some(hold),
        });
    }
    events.push(txn_event(
        stamp,
        EventType::TransactionBalanceReserved,
        m,
        TransactionStatus::Pending,
        m.amount,
    ));
    if let Side::Customer(from) = m.debit {
        // Reserved movements were counted against the daily limit when reserved.
        accounts
            .get_mut(from)?
            .count_outgoing(m.amount.amount(), today);
    }
    let journal = post(accounts, m, m.amount, stamp, &mut events)?;
    events.push(txn_event(
        stamp,
        EventType::TransactionCompleted,
        m,
        TransactionStatus::Completed,
        m.amount,
    ));
    let txn = Transaction::from_events(events.iter().filter(|e| e.aggregate_id == stamp.txn_id.0))?;
    Ok(Planned {
        txn,
        events,
        journal: Some(journal),
        hold: None,
    })
}

/// Books `amount` from debit to credit: journal, balances, `processed` and balance events.
/// The debit side's daily counter is bumped unless the funds were already reserved.
pub fn post(
    accounts: &mut AccountSet,
    m: &Movement,
    amount: Money,
    stamp: &Stamp<'_>,
    events: &mut Vec<DomainEvent>,
) -> BankResult<JournalEntry> {
    let journal = JournalEntry::transfer(
        JournalId(stamp.new_id()),
        stamp.txn_id,
        m.debit.ledger_id(&amount),
        m.credit.ledger_id(&amount),
        amount,
        stamp.now,
        m.description.clone(),
    );
    journal.validate()?;
    events.push(txn_event(
        stamp,
        EventType::TransactionProcessed,
        m,
        TransactionStatus::Pending,
        amount,
    ));
    for (side, delta) in [(m.debit, -amount.amount()), (m.credit, amount.amount())] {
        if let Side::Customer(id) = side {
            let a = accounts.get_mut(id)?;
            a.add_to_balance(delta)?;
            a.updated_at = stamp.now;
            let ev = balance_event(stamp, a);
            events.push(ev);
        }
    }
    Ok(journal)
}
