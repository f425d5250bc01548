//! The reference model of the property test (`model_test!`): accounts in integer minor units
//! and the engine's refusal rules, in the order the engine applies them. `model_ops.rs`
//! draws operations, runs them on the engine and on this model, and compares.
//!
//! Every prediction names the error code the engine must answer, and whether the refusal is
//! recorded (a FAILED transaction and an idempotency record: replays return it) or leaves
//! nothing behind (an error before or after the business checks).

use rust_decimal::Decimal;

use crate::ids::{AccountId, TransactionId};
use crate::money::{Currency, Money, BALANCE_ABS_MAX};

/// Minutes from midnight to the test clock's start (`fixtures::t0`, 09:30 UTC).
pub(crate) const T0_MINUTE_OF_DAY: i64 = 9 * 60 + 30;

/// Who acts: the embedding program (admin rights) or a customer (only its own accounts).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Who {
    System,
    Customer(u128),
    /// The customer owning the operation's (first) account; drawn before accounts are
    /// known, resolved by `Model::resolve` before any prediction.
    Owner,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Status {
    Active,
    Frozen,
    Closed,
}

/// What the engine must answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Pred {
    Ok,
    /// A business refusal: a FAILED transaction and an idempotency record.
    Recorded(&'static str),
    /// An error that writes nothing.
    Err(&'static str),
}

impl Pred {
    pub(crate) fn code(self) -> Option<&'static str> {
        match self {
            Pred::Ok => None,
            Pred::Recorded(c) | Pred::Err(c) => Some(c),
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) struct MAcc {
    pub id: AccountId,
    pub owner: u128,
    pub currency: Currency,
    pub balance: i128,
    pub held: i128,
    pub overdraft: i128,
    pub daily_limit: Option<i128>,
    pub daily_day: i64,
    pub daily_total: i128,
    pub status: Status,
}

#[derive(Clone, Debug)]
pub(crate) struct MPending {
    pub id: TransactionId,
    pub from: usize,
    pub to: usize,
    pub amount: i128,
    pub created_day: i64,
    pub expires_min: i64,
    pub open: bool,
}

/// A completed movement that may be reversed: from, to (`None`: an external payment).
#[derive(Clone, Debug)]
pub(crate) struct MDone {
    pub id: TransactionId,
    pub from: usize,
    pub to: Option<usize>,
    pub amount: i128,
    pub reversed: bool,
}

#[derive(Default)]
pub(crate) struct Model {
    pub accs: Vec<MAcc>,
    pub pendings: Vec<MPending>,
    pub done: Vec<MDone>,
    pub now_min: i64,
    pub acknowledged: Vec<TransactionId>,
}

/// The largest amount (and balance) of `currency` in minor units: BALANCE_ABS_MAX.
pub(crate) fn max_minor(currency: Currency) -> i128 {
    let mut d = BALANCE_ABS_MAX;
    d.rescale(currency.minor_units());
    d.mantissa()
}

/// `minor` units of `currency` as money (the model only draws amounts within the bounds).
pub(crate) fn money(currency: Currency, minor: i128) -> Money {
    let minor = i64::try_from(minor).expect("model amounts fit i64");
    Money::from_minor(minor, currency)
        .unwrap_or_else(|e| panic!("model amount {minor} {currency} out of range: {e:?}"))
}

/// `minor` units of `currency` as a decimal; unbounded (a sum of balances may pass the
/// bound of one amount).
pub(crate) fn decimal(currency: Currency, minor: i128) -> Decimal {
    Decimal::from_i128_with_scale(minor, currency.minor_units())
}

impl MAcc {
    pub(crate) fn spendable(&self) -> i128 {
        self.balance - self.held + self.overdraft
    }

    fn open_check(&self) -> Result<(), &'static str> {
        match self.status {
            Status::Active => Ok(()),
            Status::Frozen => Err("account_frozen"),
            Status::Closed => Err("account_closed"),
        }
    }

    pub(crate) fn used_on(&self, day: i64) -> i128 {
        if self.daily_day == day {
            self.daily_total
        } else {
            0
        }
    }

    /// `Account::check_debit`: open, within today's limit, within spendable funds.
    fn debit_check(&self, amount: i128, day: i64) -> Result<(), &'static str> {
        self.open_check()?;
        if let Some(limit) = self.daily_limit {
            if self.used_on(day) + amount > limit {
                return Err("daily_limit_exceeded");
            }
        }
        if amount > self.spendable() {
            return Err("insufficient_funds");
        }
        Ok(())
    }

    fn credit_fits(&self, amount: i128) -> bool {
        (self.balance + amount).abs() <= max_minor(self.currency)
    }

    fn count_out(&mut self, amount: i128, day: i64) {
        self.daily_total = self.used_on(day) + amount;
        self.daily_day = day;
    }

    /// A resolved hold gives back its unused share of the limit of the day it was made.
    fn release_daily(&mut self, unused: i128, created_day: i64) {
        if self.daily_day == created_day {
            self.daily_total = (self.daily_total - unused).max(0);
        }
    }
}

impl Model {
    pub(crate) fn today(&self) -> i64 {
        (T0_MINUTE_OF_DAY + self.now_min).div_euclid(24 * 60)
    }

    pub(crate) fn resolve(&self, who: Who, i: usize) -> Who {
        match who {
            Who::Owner => Who::Customer(self.accs[i].owner),
            w => w,
        }
    }

    pub(crate) fn acts_for(&self, who: Who, i: usize) -> bool {
        match self.resolve(who, i) {
            Who::System | Who::Owner => true,
            Who::Customer(c) => self.accs[i].owner == c,
        }
    }

    /// A transfer (or pending transfer when `reserve`) from `i` to account `to`
    /// (`None`: an external payee).
    pub(crate) fn predict_transfer(
        &self,
        who: Who,
        i: usize,
        to: Option<usize>,
        amount: i128,
        reserve: bool,
    ) -> Pred {
        if !self.acts_for(who, i) {
            return Pred::Err("not_found");
        }
        let from = &self.accs[i];
        if let Some(j) = to {
            if i == j {
                return Pred::Err("validation_error");
            }
            if self.accs[j].currency != from.currency {
                return Pred::Err("currency_mismatch");
            }
        }
        let opened = from
            .open_check()
            .and_then(|()| to.map_or(Ok(()), |j| self.accs[j].open_check()))
            .and_then(|()| from.debit_check(amount, self.today()));
        if let Err(code) = opened {
            return Pred::Recorded(code);
        }
        match to {
            Some(j) if !reserve && !self.accs[j].credit_fits(amount) => Pred::Err("limit_exceeded"),
            _ => Pred::Ok,
        }
    }

    /// Books an accepted transfer (a reserve holds instead of moving).
    pub(crate) fn apply_transfer(
        &mut self,
        i: usize,
        to: Option<usize>,
        amount: i128,
        reserve: bool,
    ) {
        let day = self.today();
        self.accs[i].count_out(amount, day);
        if reserve {
            self.accs[i].held += amount;
            return;
        }
        self.accs[i].balance -= amount;
        if let Some(j) = to {
            self.accs[j].balance += amount;
        }
    }

    /// A teller deposit (or withdrawal) of `amount` on account `i`.
    pub(crate) fn predict_booking(&self, who: Who, i: usize, amount: i128, deposit: bool) -> Pred {
        if who != Who::System {
            return Pred::Err("forbidden");
        }
        let a = &self.accs[i];
        let checked = if deposit {
            a.open_check()
        } else {
            a.debit_check(amount, self.today())
        };
        if let Err(code) = checked {
            return Pred::Recorded(code);
        }
        if deposit && !a.credit_fits(amount) {
            return Pred::Err("limit_exceeded");
        }
        Pred::Ok
    }

    pub(crate) fn apply_booking(&mut self, i: usize, amount: i128, deposit: bool) {
        let day = self.today();
        let a = &mut self.accs[i];
        if deposit {
            a.balance += amount;
        } else {
            a.count_out(amount, day);
            a.balance -= amount;
        }
    }

    /// Posting `amount` of pending `k` (`None`: voiding it).
    pub(crate) fn predict_resolve(&self, who: Who, k: usize, amount: Option<i128>) -> Pred {
        let p = &self.pendings[k];
        if !self.acts_for(who, p.from) {
            return Pred::Err("not_found");
        }
        if !p.open {
            return Pred::Err("invalid_state");
        }
        let Some(amount) = amount else {
            return Pred::Ok;
        };
        let (from, to) = (&self.accs[p.from], &self.accs[p.to]);
        if let Err(code) = from.open_check().and_then(|()| to.open_check()) {
            return Pred::Err(code);
        }
        if !to.credit_fits(amount) {
            return Pred::Err("limit_exceeded");
        }
        Pred::Ok
    }

    pub(crate) fn apply_resolve(&mut self, k: usize, amount: Option<i128>) {
        let p = self.pendings[k].clone();
        let posted = amount.unwrap_or(0);
        let from = &mut self.accs[p.from];
        from.held -= p.amount;
        from.release_daily(p.amount - posted, p.created_day);
        from.balance -= posted;
        self.accs[p.to].balance += posted;
        self.pendings[k].open = false;
        if amount.is_some() {
            self.done.push(MDone {
                id: p.id,
                from: p.from,
                to: Some(p.to),
                amount: posted,
                reversed: false,
            });
        }
    }

    /// Expires every open pending due by now; returns how many.
    pub(crate) fn expire(&mut self) -> usize {
        let now = self.now_min;
        let due: Vec<usize> = (0..self.pendings.len())
            .filter(|k| self.pendings[*k].open && self.pendings[*k].expires_min <= now)
            .collect();
        for k in &due {
            let p = self.pendings[*k].clone();
            let from = &mut self.accs[p.from];
            from.held -= p.amount;
            from.release_daily(p.amount, p.created_day);
            self.pendings[*k].open = false;
        }
        due.len()
    }

    /// Reversal of done movement `k`, posting by posting in journal order (the original
    /// debit gets the money back first, then the original credit gives it up).
    pub(crate) fn predict_reverse(&self, k: usize) -> Pred {
        let d = &self.done[k];
        if d.reversed {
            return Pred::Err("already_reversed");
        }
        let from = &self.accs[d.from];
        if from.status == Status::Closed {
            return Pred::Err("account_closed");
        }
        if !from.credit_fits(d.amount) {
            return Pred::Err("limit_exceeded");
        }
        if let Some(j) = d.to {
            let to = &self.accs[j];
            if to.status == Status::Closed {
                return Pred::Err("account_closed");
            }
            if d.amount > to.spendable() {
                return Pred::Err("insufficient_funds");
            }
        }
        Pred::Ok
    }

    pub(crate) fn apply_reverse(&mut self, k: usize) {
        let d = self.done[k].clone();
        self.accs[d.from].balance += d.amount;
        if let Some(j) = d.to {
            self.accs[j].balance -= d.amount;
        }
        self.done[k].reversed = true;
    }

    /// Freeze (or unfreeze, when frozen) account `i`.
    pub(crate) fn predict_freeze(&self, who: Who, i: usize) -> Pred {
        if !self.acts_for(who, i) {
            return Pred::Err("not_found");
        }
        match (self.accs[i].status, who) {
            (Status::Closed, _) => Pred::Err("invalid_state"),
            (_, Who::Customer(_) | Who::Owner) => Pred::Err("forbidden"),
            (_, Who::System) => Pred::Ok,
        }
    }

    pub(crate) fn predict_close(&self, who: Who, i: usize) -> Pred {
        if !self.acts_for(who, i) {
            return Pred::Err("not_found");
        }
        let a = &self.accs[i];
        if a.status == Status::Closed {
            return Pred::Err("invalid_state");
        }
        if a.status == Status::Frozen && self.resolve(who, i) != Who::System {
            // Only the bank closes an account it froze (issue #16, finding 12).
            return Pred::Err("account_frozen");
        }
        if a.balance != 0 || a.held != 0 {
            return Pred::Err("account_not_empty");
        }
        Pred::Ok
    }

    /// Customer money per currency, as the ledger report lists it (zero totals left out).
    pub(crate) fn totals(&self) -> Vec<(Currency, Decimal)> {
        let mut totals: std::collections::BTreeMap<Currency, Decimal> = Default::default();
        for a in &self.accs {
            *totals.entry(a.currency).or_default() += decimal(a.currency, a.balance);
        }
        totals.into_iter().filter(|(_, t)| !t.is_zero()).collect()
    }
}
