//! Account context: customer accounts, account numbers, statuses, limits and holds.

use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::error::{BankError, BankResult};
use crate::ids::{AccountId, CustomerId, HoldId, TransactionId};
use crate::money::{Currency, Money, BALANCE_ABS_MAX};

/// Digits in an account number, check digit included.
pub const ACCOUNT_NUMBER_LEN: usize = 12;

/// A 12-digit account number whose last digit is a Luhn check digit, so a mistyped digit
/// or a swap of two adjacent digits is caught before any lookup.
///
/// Held inline (12 ASCII digits, no heap): an [`Account`] is copied on every lock and write
/// back, and a heap string here was two allocations per transfer.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AccountNumber([u8; ACCOUNT_NUMBER_LEN]);

fn luhn_check_digit(body: &[u8]) -> u8 {
    // Double every second digit starting from the rightmost digit of the body.
    let sum: u32 = body
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| {
            let d = u32::from(d - b'0');
            if i % 2 == 0 {
                let x = d * 2;
                if x > 9 {
                    x - 9
                } else {
                    x
                }
            } else {
                d
            }
        })
        .sum();
    ((10 - (sum % 10)) % 10) as u8
}

impl AccountNumber {
    /// Parses and validates an account number (12 digits, valid check digit). Spaces and
    /// dashes that people type for readability are ignored.
    pub fn parse(s: &str) -> BankResult<AccountNumber> {
        let digits: String = s.chars().filter(|c| *c != ' ' && *c != '-').collect();
        if digits.len() != ACCOUNT_NUMBER_LEN || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(BankError::validation(
                "account_number",
                "an account number has 12 digits",
            ));
        }
        let bytes = digits.as_bytes();
        let expected = luhn_check_digit(&bytes[..ACCOUNT_NUMBER_LEN - 1]);
        if bytes[ACCOUNT_NUMBER_LEN - 1] - b'0' != expected {
            return Err(BankError::validation(
                "account_number",
                "check digit does not match",
            ));
        }
        let mut n = [0u8; ACCOUNT_NUMBER_LEN];
        n.copy_from_slice(bytes);
        Ok(AccountNumber(n))
    }

    /// Builds an account number from an 11-digit body value, appending the check digit.
    pub fn from_body(body: u64) -> AccountNumber {
        // Keep 11 digits with a non-zero first digit (numbers never lose a leading zero).
        let body = 10_000_000_000 + body % 90_000_000_000;
        let mut n = [0u8; ACCOUNT_NUMBER_LEN];
        n[..ACCOUNT_NUMBER_LEN - 1].copy_from_slice(body.to_string().as_bytes());
        n[ACCOUNT_NUMBER_LEN - 1] = b'0' + luhn_check_digit(&n[..ACCOUNT_NUMBER_LEN - 1]);
        let n = AccountNumber(n);
        debug_assert!(AccountNumber::parse(n.as_str()).is_ok());
        n
    }

    /// The digits.
    pub fn as_str(&self) -> &str {
        // Only `parse` and `from_body` build the array, and both fill it with ASCII digits.
        #[allow(clippy::expect_used)]
        std::str::from_utf8(&self.0).expect("account numbers are ASCII digits")
    }

    /// The number with all but the last four digits masked, for display and logs.
    pub fn masked(&self) -> String {
        format!("********{}", &self.as_str()[ACCOUNT_NUMBER_LEN - 4..])
    }
}

impl TryFrom<String> for AccountNumber {
    type Error = BankError;
    fn try_from(s: String) -> BankResult<Self> {
        AccountNumber::parse(&s)
    }
}

impl From<AccountNumber> for String {
    fn from(n: AccountNumber) -> String {
        n.as_str().to_string()
    }
}

impl fmt::Display for AccountNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for AccountNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AccountNumber({})", self.masked())
    }
}

macro_rules! string_enum {
    ($(#[$doc:meta])* $name:ident, $what:literal { $($(#[$vdoc:meta])* $variant:ident = $s:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, ::serde::Serialize, ::serde::Deserialize)]
        pub enum $name {
            $($(#[$vdoc])* #[serde(rename = $s)] $variant),+
        }
        impl $name {
            /// Every value, in declaration order (API documents list them from here, so a
            /// new variant is documented where it is declared).
            pub const ALL: &'static [Self] = &[$($name::$variant),+];

            /// The wire/storage spelling.
            pub fn as_str(&self) -> &'static str {
                match self { $($name::$variant => $s),+ }
            }
            /// Parses the wire/storage spelling.
            pub fn parse(s: &str) -> $crate::error::BankResult<Self> {
                match s {
                    $($s => Ok($name::$variant),)+
                    _ => Err($crate::error::BankError::validation($what, format!("unknown value {s:?}"))),
                }
            }
        }
        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result { f.write_str(self.as_str()) }
        }
        impl std::str::FromStr for $name {
            type Err = $crate::error::BankError;
            fn from_str(s: &str) -> $crate::error::BankResult<Self> { Self::parse(s) }
        }
    };
}
pub(crate) use string_enum;

string_enum!(
    /// Kind of customer account.
    AccountType, "account_type" {
        /// Everyday account; may have an overdraft.
        Checking = "CHECKING",
        /// Savings account; never overdrawn.
        Savings = "SAVINGS",
    }
);

string_enum!(
    /// Lifecycle status of an account.
    AccountStatus, "account_status" {
        /// Open for debits and credits.
        Active = "ACTIVE",
        /// Refuses every movement until unfrozen.
        Frozen = "FROZEN",
        /// Closed for good.
        Closed = "CLOSED",
    }
);

string_enum!(
    /// Status of a hold.
    HoldStatus, "hold_status" {
        /// Funds reserved.
        Active = "ACTIVE",
        /// Converted into postings.
        Posted = "POSTED",
        /// Released without moving money.
        Voided = "VOIDED",
        /// Released because it passed its expiry.
        Expired = "EXPIRED",
    }
);

/// A customer account. `balance` is a cache of the sum of the account's postings and
/// `held` a cache of its active holds; the engine asserts both on every write.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// Id.
    pub id: AccountId,
    /// Human-facing number with check digit.
    pub account_number: AccountNumber,
    /// Owner.
    pub customer_id: CustomerId,
    /// CHECKING or SAVINGS.
    pub account_type: AccountType,
    /// Currency of every posting on this account.
    pub currency: Currency,
    /// Ledger balance: sum of postings.
    pub balance: Decimal,
    /// Sum of active holds.
    pub held: Decimal,
    /// How far `available_balance` may go below zero (checking only; 0 by default).
    pub overdraft_limit: Decimal,
    /// Maximum total of outgoing movements per UTC day; `None` means no limit.
    pub daily_limit: Option<Decimal>,
    /// The UTC day `daily_out_total` counts.
    pub daily_out_date: NaiveDate,
    /// Outgoing total on `daily_out_date`.
    pub daily_out_total: Decimal,
    /// ACTIVE / FROZEN / CLOSED.
    pub status: AccountStatus,
    /// When it opened.
    pub opened_at: DateTime<Utc>,
    /// When it closed.
    pub closed_at: Option<DateTime<Utc>>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Optimistic version, bumped on every write (lets stores detect lost updates).
    pub version: i64,
}

impl Account {
    /// balance − active holds. May be negative down to −overdraft_limit.
    pub fn available_balance(&self) -> Decimal {
        self.balance - self.held
    }

    /// What may still be taken out: available + overdraft.
    pub fn spendable(&self) -> Decimal {
        self.available_balance() + self.overdraft_limit
    }

    /// Balance as money.
    pub fn balance_money(&self) -> Money {
        Money::stored(self.balance, self.currency)
    }

    /// Available balance as money.
    pub fn available_money(&self) -> Money {
        Money::stored(self.available_balance(), self.currency)
    }

    /// Adds `delta` to the balance, refusing (`limit_exceeded`, nothing changed) a result
    /// beyond [`BALANCE_ABS_MAX`].
    pub fn add_to_balance(&mut self, delta: Decimal) -> BankResult<()> {
        self.balance = self.bounded(self.balance, delta, "balance")?;
        Ok(())
    }

    /// Adds `delta` to the held amount, bounded like [`Account::add_to_balance`].
    pub fn add_to_held(&mut self, delta: Decimal) -> BankResult<()> {
        self.held = self.bounded(self.held, delta, "held amount")?;
        Ok(())
    }

    fn bounded(&self, value: Decimal, delta: Decimal, what: &str) -> BankResult<Decimal> {
        match value.checked_add(delta) {
            Some(v) if v.abs() <= BALANCE_ABS_MAX => Ok(v),
            _ => Err(BankError::LimitExceeded(format!(
                "the {what} of account {} would exceed {BALANCE_ABS_MAX}",
                self.account_number.masked()
            ))),
        }
    }

    /// Refuses any movement on a frozen or closed account.
    pub fn ensure_open_for_movement(&self) -> BankResult<()> {
        match self.status {
            AccountStatus::Active => Ok(()),
            AccountStatus::Frozen => Err(BankError::AccountFrozen(format!(
                "account {} is frozen",
                self.account_number.masked()
            ))),
            AccountStatus::Closed => Err(BankError::AccountClosed(format!(
                "account {} is closed",
                self.account_number.masked()
            ))),
        }
    }

    /// Outgoing total already used today (resets at UTC midnight).
    pub fn daily_out_used(&self, today: NaiveDate) -> Decimal {
        if self.daily_out_date == today {
            self.daily_out_total
        } else {
            Decimal::ZERO
        }
    }

    /// Checks that `amount` may leave this account now: open, within the daily limit and
    /// within spendable funds.
    pub fn check_debit(&self, amount: Decimal, today: NaiveDate) -> BankResult<()> {
        self.ensure_open_for_movement()?;
        if let Some(limit) = self.daily_limit {
            if self.daily_out_used(today) + amount > limit {
                return Err(BankError::DailyLimitExceeded);
            }
        }
        if amount > self.spendable() {
            return Err(BankError::InsufficientFunds);
        }
        Ok(())
    }

    /// Records `amount` against today's outgoing limit.
    pub fn count_outgoing(&mut self, amount: Decimal, today: NaiveDate) {
        let used = self.daily_out_used(today);
        self.daily_out_date = today;
        self.daily_out_total = used + amount;
    }

    /// The invariants every stored account satisfies. Checked by the engine before each
    /// write and by stores' conformance tests after each read.
    pub fn assert_invariants(&self) -> BankResult<()> {
        let fail = |m: &str| Err(BankError::Invariant(format!("account {}: {m}", self.id)));
        if self.held < Decimal::ZERO {
            return fail("negative held amount");
        }
        if self.overdraft_limit < Decimal::ZERO {
            return fail("negative overdraft limit");
        }
        if self.account_type == AccountType::Savings && !self.overdraft_limit.is_zero() {
            return fail("savings accounts cannot have an overdraft");
        }
        if self.available_balance() < -self.overdraft_limit {
            return fail("available balance below the overdraft floor");
        }
        if self.status == AccountStatus::Closed && (!self.balance.is_zero() || !self.held.is_zero())
        {
            return fail("closed with money or holds");
        }
        if self.balance.abs() > BALANCE_ABS_MAX || self.held > BALANCE_ABS_MAX {
            return fail("balance or held amount beyond BALANCE_ABS_MAX");
        }
        if self.balance.scale() > self.currency.minor_units()
            || self.held.scale() > self.currency.minor_units()
        {
            return fail("amount with more decimals than the currency");
        }
        Ok(())
    }
}

/// Reserved funds of a pending (two-phase) transfer or of a transfer under fraud review.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hold {
    /// Id.
    pub id: HoldId,
    /// The account whose funds are reserved.
    pub account_id: AccountId,
    /// The transaction the hold belongs to.
    pub transaction_id: TransactionId,
    /// Reserved amount (positive).
    pub amount: Money,
    /// Lifecycle.
    pub status: HoldStatus,
    /// After this instant the hold expires and the funds are released.
    pub expires_at: DateTime<Utc>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// When it left ACTIVE.
    pub resolved_at: Option<DateTime<Utc>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_numbers_carry_a_luhn_digit() {
        for body in [0u64, 1, 12_345_678_901, 99_999_999_999, u64::MAX] {
            let n = AccountNumber::from_body(body);
            assert_eq!(n.as_str().len(), 12);
            assert_eq!(AccountNumber::parse(n.as_str()).unwrap(), n);
        }
    }

    #[test]
    fn account_numbers_catch_typos() {
        let n = AccountNumber::from_body(42_424_242_424);
        let s = n.as_str().to_string();
        // Change any single digit: always refused.
        for i in 0..12 {
            let mut b = s.clone().into_bytes();
            b[i] = if b[i] == b'9' { b'0' } else { b[i] + 1 };
            assert!(
                AccountNumber::parse(std::str::from_utf8(&b).unwrap()).is_err(),
                "typo at {i}"
            );
        }
        assert!(AccountNumber::parse("12345").is_err());
        assert!(AccountNumber::parse("abcdefghijkl").is_err());
        let spaced = format!("{} {}-{}", &s[..4], &s[4..8], &s[8..]);
        assert_eq!(AccountNumber::parse(&spaced).unwrap(), n);
        assert!(n.masked().ends_with(&s[8..]) && !n.masked().contains(&s[..8]));
    }

    #[test]
    fn enums_round_trip() {
        assert_eq!(AccountType::parse("SAVINGS").unwrap(), AccountType::Savings);
        assert_eq!(AccountStatus::Frozen.as_str(), "FROZEN");
        assert!(AccountType::parse("savings").is_err());
    }
}
