//! Money: exact decimal amounts tagged with an ISO 4217 currency.
//!
//! Parse, don't validate: a [`Currency`] can only hold a code from the table below, and a
//! [`Money`] never carries more decimal places than its currency has minor units. Amounts
//! cross every boundary as decimal strings (`"100.00"`), never as floats.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{BankError, BankResult};

/// ISO 4217 currencies the engine accepts, with their minor units (decimal places).
/// Kept as a table rather than an enum so that adding a currency is one line.
const CURRENCIES: &[(&str, u8)] = &[
    ("USD", 2),
    ("EUR", 2),
    ("GBP", 2),
    ("CHF", 2),
    ("CAD", 2),
    ("AUD", 2),
    ("NZD", 2),
    ("SEK", 2),
    ("NOK", 2),
    ("DKK", 2),
    ("PLN", 2),
    ("CZK", 2),
    ("MXN", 2),
    ("BRL", 2),
    ("INR", 2),
    ("CNY", 2),
    ("HKD", 2),
    ("SGD", 2),
    ("ZAR", 2),
    ("JPY", 0),
    ("KRW", 0),
    ("ISK", 0),
    ("CLP", 0),
    ("VND", 0),
    ("BHD", 3),
    ("KWD", 3),
    ("OMR", 3),
    ("JOD", 3),
    ("TND", 3),
];

/// Largest absolute amount the engine accepts in one command: 10^15 major units.
/// Matches the seed schema's DECIMAL(15,2) headroom and keeps sums far from Decimal's limits.
pub const AMOUNT_ABS_MAX: Decimal = Decimal::from_parts(0xA4C6_8000, 0x3_8D7E, 0, false, 0); // 1e15
/// Largest absolute balance (and held amount) of one account: the same bound as one
/// amount, so every balance is itself a valid [`Money`]. A movement that would cross it is
/// refused with `limit_exceeded` and changes nothing.
pub const BALANCE_ABS_MAX: Decimal = AMOUNT_ABS_MAX;

/// An ISO 4217 currency code known to the engine.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency {
    code: [u8; 3],
    minor_units: u8,
}

impl Currency {
    /// US dollar, the seed's default currency.
    pub const USD: Currency = Currency {
        code: *b"USD",
        minor_units: 2,
    };
    /// Euro.
    pub const EUR: Currency = Currency {
        code: *b"EUR",
        minor_units: 2,
    };
    /// Japanese yen (no minor units).
    pub const JPY: Currency = Currency {
        code: *b"JPY",
        minor_units: 0,
    };

    /// Parses an upper-case ISO 4217 code such as `"USD"`.
    pub fn parse(code: &str) -> BankResult<Currency> {
        CURRENCIES
            .iter()
            .find(|(c, _)| *c == code)
            .map(|(c, minor)| {
                let b = c.as_bytes();
                Currency {
                    code: [b[0], b[1], b[2]],
                    minor_units: *minor,
                }
            })
            .ok_or_else(|| {
                BankError::validation(
                    "currency",
                    format!("unknown ISO 4217 currency code {code:?}"),
                )
            })
    }

    /// The three-letter code.
    pub fn code(&self) -> &str {
        // The bytes always come from the ASCII table above.
        std::str::from_utf8(&self.code).unwrap_or("XXX")
    }

    /// Number of decimal places of the currency's minor unit (USD 2, JPY 0, KWD 3).
    pub fn minor_units(&self) -> u32 {
        u32::from(self.minor_units)
    }

    /// Every currency the engine accepts.
    pub fn all() -> impl Iterator<Item = Currency> {
        CURRENCIES
            .iter()
            .filter_map(|(c, _)| Currency::parse(c).ok())
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Currency {
    type Err = BankError;
    fn from_str(s: &str) -> BankResult<Self> {
        Currency::parse(s)
    }
}

impl Serialize for Currency {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Currency::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// An exact amount in one currency. Never holds more decimals than the currency allows,
/// nor an absolute value above [`AMOUNT_ABS_MAX`].
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Money {
    amount: Decimal,
    currency: Currency,
}

impl Money {
    /// A stored amount already checked on its way in (account balances, which
    /// `Account::assert_invariants` bounds by [`BALANCE_ABS_MAX`] on every write and read):
    /// rescaled to the currency, never refused, so reading a balance cannot fail or panic.
    pub(crate) fn stored(amount: Decimal, currency: Currency) -> Money {
        let mut amount = amount;
        amount.rescale(currency.minor_units());
        Money { amount, currency }
    }

    /// Builds an amount, refusing excess precision and out-of-range values.
    pub fn new(amount: Decimal, currency: Currency) -> BankResult<Money> {
        let amount = amount.normalize();
        if amount.scale() > currency.minor_units() {
            return Err(BankError::validation(
                "amount",
                format!(
                    "{} allows at most {} decimal places, got {amount}",
                    currency,
                    currency.minor_units()
                ),
            ));
        }
        if amount.abs() > AMOUNT_ABS_MAX {
            return Err(BankError::validation(
                "amount",
                "amount exceeds the engine's maximum",
            ));
        }
        let mut amount = amount;
        amount.rescale(currency.minor_units());
        Ok(Money { amount, currency })
    }

    /// Parses a decimal string such as `"100.50"` (no exponent, no thousands separators).
    pub fn parse(amount: &str, currency: Currency) -> BankResult<Money> {
        let trimmed = amount.trim();
        let valid_chars = !trimmed.is_empty()
            && trimmed.len() <= 40
            && trimmed
                .chars()
                .enumerate()
                .all(|(i, c)| c.is_ascii_digit() || c == '.' || (i == 0 && c == '-'));
        if !valid_chars {
            return Err(BankError::validation(
                "amount",
                format!("{amount:?} is not a decimal amount"),
            ));
        }
        let d = Decimal::from_str_exact(trimmed).map_err(|_| {
            BankError::validation("amount", format!("{amount:?} is not a decimal amount"))
        })?;
        Money::new(d, currency)
    }

    /// Parses an amount that must be strictly positive (every transfer, deposit, hold...).
    pub fn parse_positive(amount: &str, currency: Currency) -> BankResult<Money> {
        Money::parse(amount, currency)?.positive()
    }

    /// Returns self if strictly positive, else a validation error.
    pub fn positive(self) -> BankResult<Money> {
        if self.amount <= Decimal::ZERO {
            return Err(BankError::validation(
                "amount",
                "amount must be greater than zero",
            ));
        }
        Ok(self)
    }

    /// Zero in `currency`.
    pub fn zero(currency: Currency) -> Money {
        let mut amount = Decimal::ZERO;
        amount.rescale(currency.minor_units());
        Money { amount, currency }
    }

    /// Builds an amount from integer minor units (cents for USD).
    pub fn from_minor(amount_minor: i64, currency: Currency) -> BankResult<Money> {
        Money::new(Decimal::new(amount_minor, currency.minor_units()), currency)
    }

    /// The amount in integer minor units (cents for USD). Exact: the scale is the currency's.
    pub fn amount_minor(&self) -> i64 {
        let mut d = self.amount;
        d.rescale(self.currency.minor_units());
        // |amount| <= AMOUNT_ABS_MAX = BALANCE_ABS_MAX (1e15) with at most 3 decimals: the
        // mantissa is below 1e18 < i64::MAX for every Money the engine can build.
        #[allow(clippy::expect_used)]
        i64::try_from(d.mantissa()).expect("bounded by AMOUNT_ABS_MAX")
    }

    /// The decimal amount, scaled to the currency's minor units.
    pub fn amount(&self) -> Decimal {
        self.amount
    }

    /// The currency.
    pub fn currency(&self) -> Currency {
        self.currency
    }

    /// True when the amount is zero.
    pub fn is_zero(&self) -> bool {
        self.amount.is_zero()
    }

    /// True when the amount is below zero.
    pub fn is_negative(&self) -> bool {
        self.amount.is_sign_negative() && !self.amount.is_zero()
    }

    fn same_currency(&self, other: &Money) -> BankResult<()> {
        if self.currency != other.currency {
            return Err(BankError::CurrencyMismatch {
                expected: self.currency,
                got: other.currency,
            });
        }
        Ok(())
    }

    /// `self + other`, refusing mixed currencies.
    pub fn checked_add(&self, other: &Money) -> BankResult<Money> {
        self.same_currency(other)?;
        Money::new(self.amount + other.amount, self.currency)
    }

    /// `self - other`, refusing mixed currencies.
    pub fn checked_sub(&self, other: &Money) -> BankResult<Money> {
        self.same_currency(other)?;
        Money::new(self.amount - other.amount, self.currency)
    }

    /// The negated amount.
    pub fn negate(&self) -> Money {
        Money {
            amount: -self.amount,
            currency: self.currency,
        }
    }

    /// Compares amounts of the same currency.
    pub fn cmp_amount(&self, other: &Money) -> BankResult<std::cmp::Ordering> {
        self.same_currency(other)?;
        Ok(self.amount.cmp(&other.amount))
    }
}

impl fmt::Debug for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount, self.currency)
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount, self.currency)
    }
}

/// Serialized as `{"amount": "100.00", "currency": "USD"}`.
impl Serialize for Money {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Money", 2)?;
        st.serialize_field("amount", &self.amount.to_string())?;
        st.serialize_field("currency", self.currency.code())?;
        st.end()
    }
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Raw {
            amount: String,
            currency: String,
        }
        let raw = Raw::deserialize(d)?;
        let currency = Currency::parse(&raw.currency).map_err(serde::de::Error::custom)?;
        Money::parse(&raw.amount, currency).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_formats_with_currency_scale() {
        assert_eq!(
            Money::parse("100", Currency::USD)
                .unwrap()
                .amount()
                .to_string(),
            "100.00"
        );
        assert_eq!(
            Money::parse("0.5", Currency::USD)
                .unwrap()
                .amount()
                .to_string(),
            "0.50"
        );
        assert_eq!(
            Money::parse("1500", Currency::JPY)
                .unwrap()
                .amount()
                .to_string(),
            "1500"
        );
        let kwd = Currency::parse("KWD").unwrap();
        assert_eq!(Money::parse("1.234", kwd).unwrap().amount_minor(), 1234);
    }

    #[test]
    fn rejects_excess_precision_and_garbage() {
        assert_eq!(
            Money::parse("1.001", Currency::USD).unwrap_err().code(),
            "validation_error"
        );
        assert!(Money::parse("1.5", Currency::JPY).is_err());
        for bad in [
            "", "abc", "1e5", "1,000.00", "+5", "--1", "1.2.3", "NaN", "inf", " ",
        ] {
            assert!(
                Money::parse(bad, Currency::USD).is_err(),
                "{bad:?} must be refused"
            );
        }
        assert!(Money::parse("10000000000000000", Currency::USD).is_err());
    }

    #[test]
    fn trailing_zeros_beyond_scale_are_fine() {
        assert_eq!(
            Money::parse("1.5000", Currency::USD)
                .unwrap()
                .amount_minor(),
            150
        );
        assert_eq!(
            Money::parse("7.000", Currency::JPY).unwrap().amount_minor(),
            7
        );
    }

    #[test]
    fn positive_amounts_only_where_required() {
        assert!(Money::parse_positive("0", Currency::USD).is_err());
        assert!(Money::parse_positive("-1", Currency::USD).is_err());
        assert!(Money::parse_positive("0.01", Currency::USD).is_ok());
    }

    #[test]
    fn currency_mismatch_is_typed() {
        let a = Money::parse("1", Currency::USD).unwrap();
        let b = Money::parse("1", Currency::EUR).unwrap();
        assert_eq!(a.checked_add(&b).unwrap_err().code(), "currency_mismatch");
    }

    #[test]
    fn unknown_currency_refused() {
        assert!(Currency::parse("usd").is_err());
        assert!(Currency::parse("XYZ").is_err());
        assert_eq!(Currency::parse("JPY").unwrap().minor_units(), 0);
    }

    #[test]
    fn serializes_amount_as_string() {
        let m = Money::parse("12.3", Currency::USD).unwrap();
        let json = serde_json::to_string(&m).unwrap();
        assert_eq!(json, r#"{"amount":"12.30","currency":"USD"}"#);
        let back: Money = serde_json::from_str(&json).unwrap();
        assert_eq!(back, m);
        assert!(serde_json::from_str::<Money>(r#"{"amount":"1.234","currency":"USD"}"#).is_err());
    }

    #[test]
    fn max_constant_is_one_quadrillion() {
        assert_eq!(AMOUNT_ABS_MAX, Decimal::from(1_000_000_000_000_000_i64));
    }
}
