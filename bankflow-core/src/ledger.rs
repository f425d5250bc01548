//! Double-entry ledger: journal entries of postings that sum to zero per currency.
//!
//! Sign convention: a posting's amount is positive when it credits the account (a customer's
//! deposit balance grows) and negative when it debits it. A customer account's balance is the
//! sum of its postings. System (general-ledger) accounts use the same convention, so the cash
//! account shows −100 after a 100 teller deposit: the bank holds 100 of cash (an asset) against
//! 100 owed to the customer (a liability). GL accounts keep no cached balance row — their
//! balance is always summed from postings, so no hot GL row serialises the bank.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::account::string_enum;
use crate::error::{BankError, BankResult};
use crate::ids::{AccountId, JournalId, TransactionId};
use crate::money::{Currency, Money};

/// Postings in one journal entry, at most. Bounds every batch the ledger writes.
pub const POSTINGS_PER_JOURNAL_MAX: usize = 256;

string_enum!(
    /// The bank's own general-ledger accounts, one per currency.
    SystemAccount, "system_account" {
        /// Cash at tellers / vault: the other side of teller deposits and withdrawals.
        Cash = "CASH",
        /// External clearing (ACH, wire): the other side of money entering or leaving the bank.
        ExternalClearing = "EXTERNAL_CLEARING",
        /// Fees the bank earns.
        FeesIncome = "FEES_INCOME",
        /// Interest the bank pays on savings.
        InterestExpense = "INTEREST_EXPENSE",
        /// Unidentified money parked until resolved.
        Suspense = "SUSPENSE",
    }
);

impl SystemAccount {
    // `ALL` (declaration order) numbers the kinds inside their ids: add new kinds at the end.

    /// The well-known id of this GL account in `currency`: `00000000-bf00-8<kind>00-8000-00000<ccy>`
    /// shaped, derived, never stored, identical in every store and process.
    pub fn id(&self, currency: Currency) -> AccountId {
        // `self` is one of `ALL` by construction (a test walks every kind).
        #[allow(clippy::expect_used)]
        let kind = SystemAccount::ALL
            .iter()
            .position(|s| s == self)
            .expect("listed") as u8;
        let c = currency.code().as_bytes();
        let bytes = [
            0, 0, 0, 0, 0xbf, 0, 0x80, kind, 0x80, 0, 0, 0, 0, c[0], c[1], c[2],
        ];
        AccountId(Uuid::from_bytes(bytes))
    }

    /// If `id` is a system account id, which one and in which currency.
    pub fn from_id(id: AccountId) -> Option<(SystemAccount, Currency)> {
        let b = id.0.as_bytes();
        if b[..7] != [0, 0, 0, 0, 0xbf, 0, 0x80] || b[8..13] != [0x80, 0, 0, 0, 0] {
            return None;
        }
        let kind = *SystemAccount::ALL.get(usize::from(b[7]))?;
        let code = std::str::from_utf8(&b[13..16]).ok()?;
        let currency = Currency::parse(code).ok()?;
        Some((kind, currency))
    }
}

/// One side of a journal entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Posting {
    /// Customer or system account.
    pub account_id: AccountId,
    /// Signed amount: + credit, − debit.
    pub amount: Money,
}

/// A balanced set of postings recording one money movement.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournalEntry {
    /// Id.
    pub id: JournalId,
    /// The transaction this entry books.
    pub transaction_id: TransactionId,
    /// The postings; they sum to zero per currency.
    pub postings: Vec<Posting>,
    /// Booking time.
    pub posted_at: DateTime<Utc>,
    /// Free text copied to statements.
    pub description: Option<String>,
}

impl JournalEntry {
    /// Checks the double-entry rule: at least two postings, none zero, at most
    /// [`POSTINGS_PER_JOURNAL_MAX`], summing to zero in every currency.
    pub fn validate(&self) -> BankResult<()> {
        let n = self.postings.len();
        if !(2..=POSTINGS_PER_JOURNAL_MAX).contains(&n) {
            return Err(BankError::Invariant(format!(
                "journal {} has {n} postings",
                self.id
            )));
        }
        if self.postings.iter().any(|p| p.amount.is_zero()) {
            return Err(BankError::Invariant(format!(
                "journal {} has a zero posting",
                self.id
            )));
        }
        // Per currency, summed at the currency's first posting: no map (this runs twice on
        // every transfer), quadratic only in the bounded posting count.
        for (i, first) in self.postings.iter().enumerate() {
            let c = first.amount.currency();
            if self.postings[..i].iter().any(|p| p.amount.currency() == c) {
                continue;
            }
            let sum: Decimal = self.postings[i..]
                .iter()
                .filter(|p| p.amount.currency() == c)
                .map(|p| p.amount.amount())
                .sum();
            if !sum.is_zero() {
                return Err(BankError::Invariant(format!(
                    "journal {} is unbalanced in {c} by {sum}",
                    self.id
                )));
            }
        }
        Ok(())
    }

    /// A two-posting entry moving `amount` from `debit` to `credit`.
    pub fn transfer(
        id: JournalId,
        transaction_id: TransactionId,
        debit: AccountId,
        credit: AccountId,
        amount: Money,
        posted_at: DateTime<Utc>,
        description: Option<String>,
    ) -> JournalEntry {
        JournalEntry {
            id,
            transaction_id,
            postings: vec![
                Posting {
                    account_id: debit,
                    amount: amount.negate(),
                },
                Posting {
                    account_id: credit,
                    amount,
                },
            ],
            posted_at,
            description,
        }
    }

    /// The compensating entry: every posting negated.
    pub fn reversed(
        &self,
        id: JournalId,
        transaction_id: TransactionId,
        posted_at: DateTime<Utc>,
    ) -> JournalEntry {
        JournalEntry {
            id,
            transaction_id,
            postings: self
                .postings
                .iter()
                .map(|p| Posting {
                    account_id: p.account_id,
                    amount: p.amount.negate(),
                })
                .collect(),
            posted_at,
            description: Some(format!("Reversal of {}", self.transaction_id)),
        }
    }
}

/// A posting as read back for statements, with its journal's context.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostingLine {
    /// Store-assigned, strictly increasing sequence: the order postings were written.
    pub seq: i64,
    /// Journal entry.
    pub journal_id: JournalId,
    /// Transaction booked.
    pub transaction_id: TransactionId,
    /// Account.
    pub account_id: AccountId,
    /// Signed amount.
    pub amount: Money,
    /// Booking time.
    pub posted_at: DateTime<Utc>,
    /// The journal's description.
    pub description: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_ids_round_trip_and_differ() {
        let mut seen = std::collections::HashSet::new();
        for c in [Currency::USD, Currency::EUR, Currency::JPY] {
            for &s in SystemAccount::ALL {
                let id = s.id(c);
                assert_eq!(SystemAccount::from_id(id), Some((s, c)));
                assert!(seen.insert(id));
            }
        }
        assert_eq!(SystemAccount::from_id(AccountId(Uuid::nil())), None);
    }

    #[test]
    fn unbalanced_journal_refused() {
        let usd = |s: &str| Money::parse(s, Currency::USD).unwrap();
        let mut j = JournalEntry::transfer(
            JournalId(Uuid::nil()),
            TransactionId(Uuid::nil()),
            SystemAccount::Cash.id(Currency::USD),
            AccountId(Uuid::from_u128(9)),
            usd("10"),
            Utc::now(),
            None,
        );
        assert!(j.validate().is_ok());
        j.postings[1].amount = usd("9.99");
        assert_eq!(j.validate().unwrap_err().code(), "invariant_violated");
        j.postings.truncate(1);
        assert!(j.validate().is_err());
        let r = JournalEntry::transfer(
            JournalId(Uuid::nil()),
            TransactionId(Uuid::nil()),
            AccountId(Uuid::from_u128(1)),
            AccountId(Uuid::from_u128(2)),
            usd("5"),
            Utc::now(),
            None,
        );
        let rev = r.reversed(
            JournalId(Uuid::nil()),
            TransactionId(Uuid::nil()),
            Utc::now(),
        );
        assert!(rev.validate().is_ok());
        assert_eq!(rev.postings[0].amount, usd("5"));
    }
}
