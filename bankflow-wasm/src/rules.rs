//! The engine's validation rules as plain functions over strings: what the JS exports call,
//! and what the native unit tests exercise. No rule is written here; each is bankflow-core's.

use bankflow_core::account::AccountNumber;
use bankflow_core::idempotency::IdempotencyKey;
use bankflow_core::{BankError, BankResult, Currency, Money};

use crate::dto::CurrencyDto;

/// Longest integer string accepted for minor units: i64 has 19 digits, plus a sign.
const MINOR_UNITS_LEN_MAX: usize = 20;

/// Parses a decimal amount in `currency` with the engine's rules and returns it normalized
/// to the currency's minor units (`"5"` USD → `"5.00"`, `"1500"` JPY → `"1500"`).
pub fn parse_money(amount: &str, currency: &str) -> BankResult<String> {
    Ok(Money::parse(amount, Currency::parse(currency)?)?
        .amount()
        .to_string())
}

/// Like [`parse_money`], and the amount must be strictly positive (what every deposit,
/// transfer and hold requires).
pub fn parse_positive_money(amount: &str, currency: &str) -> BankResult<String> {
    Ok(Money::parse_positive(amount, Currency::parse(currency)?)?
        .amount()
        .to_string())
}

/// The amount in integer minor units, as a string (`"12.34"` USD → `"1234"`): JS numbers
/// lose integers above 2^53, strings do not.
pub fn to_minor_units(amount: &str, currency: &str) -> BankResult<String> {
    Ok(Money::parse(amount, Currency::parse(currency)?)?
        .amount_minor()
        .to_string())
}

/// Formats integer minor units as a decimal amount (`"1234"` USD → `"12.34"`).
pub fn format_minor_units(amount_minor: &str, currency: &str) -> BankResult<String> {
    let currency = Currency::parse(currency)?;
    let s = amount_minor.trim();
    let digits = s.strip_prefix('-').unwrap_or(s);
    if digits.is_empty()
        || s.len() > MINOR_UNITS_LEN_MAX
        || !digits.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(BankError::validation(
            "amount_minor",
            format!("{amount_minor:?} is not an integer"),
        ));
    }
    let n: i64 = s.parse().map_err(|_| {
        BankError::validation("amount_minor", format!("{amount_minor:?} is out of range"))
    })?;
    Ok(Money::from_minor(n, currency)?.amount().to_string())
}

/// Decimal places of `currency`'s minor unit.
pub fn currency_minor_units(currency: &str) -> BankResult<u32> {
    Ok(Currency::parse(currency)?.minor_units())
}

/// Every currency the engine accepts.
pub fn currencies() -> Vec<CurrencyDto> {
    Currency::all()
        .map(|c| CurrencyDto {
            code: c.code().to_string(),
            minor_units: c.minor_units(),
        })
        .collect()
}

/// Validates an account number (12 digits, Luhn check digit; spaces and dashes ignored)
/// and returns its digits.
pub fn validate_account_number(s: &str) -> BankResult<String> {
    Ok(AccountNumber::parse(s)?.as_str().to_string())
}

/// Validates an idempotency key (1..=255 printable ASCII characters, no spaces).
pub fn validate_idempotency_key(s: &str) -> BankResult<String> {
    Ok(IdempotencyKey::parse(s)?.as_str().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code<T: std::fmt::Debug>(r: BankResult<T>) -> &'static str {
        r.unwrap_err().code()
    }

    #[test]
    fn money_is_normalized_to_the_currency_scale() {
        assert_eq!(parse_money("5", "USD").unwrap(), "5.00");
        assert_eq!(parse_money(" 0.5 ", "EUR").unwrap(), "0.50");
        assert_eq!(parse_money("1500", "JPY").unwrap(), "1500");
        assert_eq!(parse_money("1.5000", "USD").unwrap(), "1.50");
        assert_eq!(parse_money("-3", "KWD").unwrap(), "-3.000");
    }

    #[test]
    fn money_refusals_carry_engine_codes() {
        assert_eq!(code(parse_money("1.001", "USD")), "validation_error");
        assert_eq!(code(parse_money("1.5", "JPY")), "validation_error");
        assert_eq!(code(parse_money("1e5", "USD")), "validation_error");
        assert_eq!(code(parse_money("10", "usd")), "validation_error");
        assert_eq!(code(parse_positive_money("0", "USD")), "validation_error");
        assert_eq!(parse_positive_money("0.01", "USD").unwrap(), "0.01");
    }

    #[test]
    fn minor_units_round_trip() {
        assert_eq!(to_minor_units("12.34", "USD").unwrap(), "1234");
        assert_eq!(format_minor_units("1234", "USD").unwrap(), "12.34");
        assert_eq!(format_minor_units("-5", "KWD").unwrap(), "-0.005");
        assert_eq!(format_minor_units("1500", "JPY").unwrap(), "1500");
        for bad in ["", "-", "1.5", "12a", "+3", "99999999999999999999"] {
            assert_eq!(
                code(format_minor_units(bad, "USD")),
                "validation_error",
                "{bad:?}"
            );
        }
        // Beyond the engine's maximum amount (10^15 major units).
        assert_eq!(
            code(format_minor_units("100000000000000001", "USD")),
            "validation_error"
        );
    }

    #[test]
    fn currency_table_is_the_engines() {
        assert_eq!(currency_minor_units("JPY").unwrap(), 0);
        assert_eq!(currency_minor_units("BHD").unwrap(), 3);
        assert_eq!(code(currency_minor_units("XYZ")), "validation_error");
        let all = currencies();
        assert!(all.iter().any(|c| c.code == "USD" && c.minor_units == 2));
        assert_eq!(all.len(), Currency::all().count());
    }

    #[test]
    fn account_numbers_check_their_digit() {
        let good = AccountNumber::from_body(123_456_789).as_str().to_string();
        assert_eq!(validate_account_number(&good).unwrap(), good);
        let spaced = format!("{} {}-{}", &good[..4], &good[4..8], &good[8..]);
        assert_eq!(validate_account_number(&spaced).unwrap(), good);
        let last = good.as_bytes()[11] - b'0';
        let typo = format!("{}{}", &good[..11], (last + 1) % 10);
        assert_eq!(code(validate_account_number(&typo)), "validation_error");
        assert_eq!(code(validate_account_number("1234")), "validation_error");
    }

    #[test]
    fn idempotency_keys_follow_the_engine() {
        assert_eq!(validate_idempotency_key("order-42").unwrap(), "order-42");
        assert_eq!(
            code(validate_idempotency_key("has space")),
            "validation_error"
        );
        assert_eq!(code(validate_idempotency_key("")), "validation_error");
    }
}
