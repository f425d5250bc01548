//! What the server accepts in a request field, as named OpenAPI schemas.
//!
//! Each rule is written once here, from the engine's own constants and value tables wherever
//! the engine exports them, and DTOs refer to it with `#[schema(value_type = ...)]` or
//! `#[param(value_type = ...)]`. The document then tells clients and API fuzzers what the
//! handlers really take (decimal strings, ISO codes, 12-digit account numbers, length limits,
//! enums), so generated requests reach the engine instead of bouncing off validation.
//!
//! A schema may only be as strict as the engine's check or stricter on inputs the engine
//! merely tolerates (separators in account numbers, surrounding spaces): the canonical form
//! is what is documented. Rules across fields (exactly one destination, `from` ≤ `to`,
//! decimals allowed by the chosen currency) stay in the descriptions.

use std::borrow::Cow;

use bankflow_core::customer::DocumentType;
use bankflow_core::fraud::{CaseStatus, ListEntryType, RuleType};
use bankflow_core::identity::{EMAIL_LEN_MAX, PASSWORD_LEN_MAX, PASSWORD_LEN_MIN};
use bankflow_core::{
    AccountType, Currency, FraudAction, Frequency, KycStatus, Role, TransactionStatus,
    TransactionType,
};
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{AnyOfBuilder, ArrayBuilder, ObjectBuilder, SchemaFormat, Type};
use utoipa::openapi::{KnownFormat, RefOr, Required, Schema};
use utoipa::PartialSchema;

use crate::dto::{PAGE_LIMIT_DEFAULT, PAGE_LIMIT_MAX};

// The engine's limits, documented as they are enforced (one definition each, in core).
use bankflow_core::customer::{
    ADDRESS_LINE_LEN_MAX, CITY_LEN_MAX, PERSON_NAME_LEN_MAX, REGION_LEN_MAX,
};
use bankflow_core::notify::DIRECT_SUBJECT_LEN_MAX;
use bankflow_core::PAYEE_TEXT_LEN_MAX;
/// Digits of an email or phone verification code and of a TOTP code.
pub const CODE_DIGITS: usize = 6;

/// Characters `char::is_control` refuses (C0, DEL, C1), as a regex class body.
const CONTROL: &str = r"\x00-\x1F\x7F-\x9F";

/// Text of 0..=max characters without control characters.
fn plain_text(max: usize) -> ObjectBuilder {
    string()
        .pattern(Some(format!("^[^{CONTROL}]*$")))
        .max_length(Some(max))
}

/// Text the engine trims and then wants 1..=max printable characters of: documented in its
/// canonical form (no surrounding whitespace), so the trimmed length is the length.
fn required_text(max: usize) -> ObjectBuilder {
    let edge = format!(r"[^\s{CONTROL}]");
    string()
        .pattern(Some(format!("^{edge}(?:[^{CONTROL}]*{edge})?$")))
        .min_length(Some(1))
        .max_length(Some(max))
}

fn string() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String)
}

fn enumeration<V: Into<serde_json::Value>>(values: impl IntoIterator<Item = V>) -> ObjectBuilder {
    string().enum_values(Some(values))
}

fn formatted(format: KnownFormat) -> ObjectBuilder {
    string().format(Some(SchemaFormat::KnownFormat(format)))
}

/// Most decimal places any accepted currency has (KWD and friends: 3).
fn max_minor_units() -> u32 {
    Currency::all().map(|c| c.minor_units()).max().unwrap_or(0)
}

/// Digits of the integer part below the engine's amount cap (10^15).
const AMOUNT_INT_DIGITS_MAX: usize = 15;

/// A non-negative decimal string with at most `max_minor_units()` decimals.
fn non_negative_decimal_pattern() -> String {
    let int = AMOUNT_INT_DIGITS_MAX - 1;
    let frac = max_minor_units();
    format!(r"^(?:0|[1-9][0-9]{{0,{int}}})(?:\.[0-9]{{1,{frac}}})?$")
}

/// A strictly positive decimal string: a non-zero integer part, or `0.` and a fraction with a
/// non-zero digit (spelt out by the count of leading zeros, as a regex without look-ahead).
fn positive_decimal_pattern() -> String {
    let int = AMOUNT_INT_DIGITS_MAX - 1;
    let frac = max_minor_units() as usize;
    let fractions: Vec<String> = (0..frac)
        .map(|zeros| {
            let rest = frac - zeros - 1;
            let tail = if rest == 0 {
                String::new()
            } else {
                format!("[0-9]{{0,{rest}}}")
            };
            format!("{}[1-9]{tail}", "0".repeat(zeros))
        })
        .collect();
    format!(
        r"^(?:[1-9][0-9]{{0,{int}}}(?:\.[0-9]{{1,{frac}}})?|0\.(?:{}))$",
        fractions.join("|")
    )
}

/// Declares a unit type whose OpenAPI schema is a named component built by `$build`.
macro_rules! wire_schema {
    ($($(#[$doc:meta])* $name:ident => $build:expr;)+) => {$(
        $(#[$doc])*
        pub struct $name;

        impl utoipa::PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                let built: ObjectBuilder = $build;
                built.into()
            }
        }

        impl utoipa::ToSchema for $name {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed(stringify!($name))
            }
        }
    )+};
}

wire_schema! {
    /// A positive amount.
    Amount => string()
        .pattern(Some(positive_decimal_pattern()))
        .description(Some(
            "Positive decimal string such as \"12.50\" (never a number): at most as many decimals \
             as the currency has minor units (USD 2, JPY 0, KWD 3), below 10^15.",
        ))
        .examples(["25.00"]);
    /// An overdraft or daily limit.
    LimitAmount => string()
        .pattern(Some(non_negative_decimal_pattern()))
        .description(Some(
            "Non-negative decimal string: at most as many decimals as the account's currency has \
             minor units; savings accounts take no overdraft.",
        ))
        .examples(["500.00"]);
    /// A bound of an amount filter.
    AmountFilter => string()
        .pattern(Some(format!(r"^-?[0-9]{{1,{AMOUNT_INT_DIGITS_MAX}}}(?:\.[0-9]{{1,10}})?$")))
        .description(Some("Decimal string; `min_amount` must not exceed `max_amount`."))
        .examples(["10.00"]);
    /// An ISO 4217 code the engine knows.
    CurrencyCode => enumeration(Currency::all().map(|c| c.code().to_string()))
        .description(Some("ISO 4217 code."))
        .examples(["USD"]);
    /// An account number.
    AccountNumberText => string()
        .pattern(Some(format!("^[0-9]{{{}}}$", bankflow_core::account::ACCOUNT_NUMBER_LEN)))
        .description(Some(
            "12 digits, the last a Luhn check digit (spaces and dashes typed for readability are \
             ignored).",
        ))
        .examples(["100000000008"]);
    /// Free text on a money movement.
    Description => string()
        .pattern(Some(r"^[^\x00-\x09\x0B-\x1F\x7F-\x9F]*$"))
        .max_length(Some(bankflow_core::DESCRIPTION_LEN_MAX))
        .description(Some("Free text: at most 500 characters, no control characters but newlines."));
    /// Why a transaction is reversed.
    ReversalReason => required_text(bankflow_core::DESCRIPTION_LEN_MAX)
        .description(Some("1 to 500 printable characters."));
    /// A page size.
    PageLimit => ObjectBuilder::new()
        .schema_type(Type::Integer)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int32)))
        .minimum(Some(1))
        .maximum(Some(PAGE_LIMIT_MAX))
        .default(Some(PAGE_LIMIT_DEFAULT.into()))
        .description(Some("Page size, 1 to 100 (default 20)."));
    /// A page cursor.
    Cursor => string()
        .pattern(Some("^(?:[0-9A-Fa-f]{2})*$"))
        .description(Some(
            "Opaque cursor: pass back a previous page's `next_cursor` unchanged (hex text).",
        ));
    /// A transaction reference or id.
    TransactionRef => string()
        .pattern(Some(
            "^(?:(?:TXN|txn)-)?(?:[0-9A-Fa-f]{32}|[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})$",
        ))
        .description(Some("A transaction reference (`TXN-` and 32 hex digits) or a transaction id."))
        .examples(["TXN-0190F0E2A1B2C3D4E5F60718293A4B5C"]);
    /// Kind of account.
    AccountTypeName => enumeration(AccountType::ALL.iter().map(|v| v.as_str()))
        .examples(["CHECKING"]);
    /// Kind of transaction.
    TransactionTypeName => enumeration(TransactionType::ALL.iter().map(|v| v.as_str()));
    /// Status of a transaction.
    TransactionStatusName => enumeration(TransactionStatus::ALL.iter().map(|v| v.as_str()));
    /// Statement rendering.
    StatementFormat => enumeration(["json", "csv", "pdf"])
        .default(Some("json".into()));
    /// How often a scheduled transfer runs.
    FrequencyName => enumeration(Frequency::ALL.iter().map(|v| v.as_str()))
    .examples(["MONTHLY"]);
    /// A beneficiary's name.
    PayeeName => required_text(PAYEE_TEXT_LEN_MAX)
        .description(Some("1 to 140 printable characters."))
        .examples(["ACME Utilities"]);
    /// A beneficiary's account.
    PayeeAccount => string()
        .pattern(Some("^[A-Za-z0-9/-]{4,34}$"))
        .description(Some("IBAN, account number or routing/account: 4 to 34 letters, digits, `-`, `/`."))
        .examples(["DE89370400440532013000"]);
    /// A reference for the beneficiary.
    PayeeReference => plain_text(PAYEE_TEXT_LEN_MAX)
        .description(Some("At most 140 printable characters (an invoice number...)."));
    /// An email address.
    EmailAddress => formatted(KnownFormat::Email)
        .max_length(Some(EMAIL_LEN_MAX))
        .examples(["alice@example.com"]);
    /// A password.
    Password => plain_text(PASSWORD_LEN_MAX)
        .min_length(Some(PASSWORD_LEN_MIN))
        .description(Some(
            "12 to 128 characters, no control characters, not a common password.",
        ))
        .examples(["correct horse battery staple"]);
    /// A phone number.
    PhoneNumber => string()
        .pattern(Some(r"^\+[1-9][0-9]{7,14}$"))
        .description(Some("E.164: `+` and 8 to 15 digits (spaces, dashes, dots, parentheses are ignored)."))
        .examples(["+14155550100"]);
    /// A one-time code.
    OneTimeCode => string()
        .pattern(Some(format!("^[0-9]{{{CODE_DIGITS}}}$")))
        .description(Some("6 digits."))
        .examples(["123456"]);
    /// Which contact a code is for.
    VerifyChannelName => enumeration(["email", "phone"]).default(Some("email".into()));
    /// A first or last name.
    PersonName => required_text(PERSON_NAME_LEN_MAX).examples(["Alice"]);
    /// A line of a postal address.
    AddressLine => required_text(ADDRESS_LINE_LEN_MAX).examples(["1 Main Street"]);
    /// An optional line of a postal address (blank: none).
    OptionalAddressLine => plain_text(ADDRESS_LINE_LEN_MAX);
    /// A city.
    City => required_text(CITY_LEN_MAX).examples(["Springfield"]);
    /// A state or region.
    Region => required_text(REGION_LEN_MAX).examples(["IL"]);
    /// A postal code.
    ZipCode => string()
        .pattern(Some("^[A-Za-z0-9-][A-Za-z0-9 -]{1,8}[A-Za-z0-9-]$"))
        .description(Some("3 to 10 letters, digits, spaces or dashes."))
        .examples(["62701"]);
    /// A country.
    CountryCode => string()
        .pattern(Some("^[A-Za-z]{2}$"))
        .description(Some("ISO 3166-1 alpha-2 code."))
        .examples(["US"]);
    /// A date of birth.
    DateOfBirth => string()
        .pattern(Some("^(?:19|20)[0-9]{2}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])$"))
        .description(Some("YYYY-MM-DD, from 1900; the customer must be 18 or older."))
        .examples(["1990-04-01"]);
    /// A US social security number.
    SsnText => string()
        .pattern(Some(
            "^(?:00[1-9]|0[1-9][0-9]|[1-578][0-9]{2}|6[0-57-9][0-9]|66[0-57-9])-?(?:0[1-9]|[1-9][0-9])-?(?:000[1-9]|00[1-9][0-9]|0[1-9][0-9]{2}|[1-9][0-9]{3})$",
        ))
        .description(Some("9 digits (AAA-GG-SSSS) in an issued range: area not 000, 666 or 9xx, group not 00, serial not 0000."))
        .examples(["123-45-6789"]);
    /// KYC status.
    KycStatusName => enumeration(KycStatus::ALL.iter().map(|v| v.as_str()));
    /// Kind of KYC document.
    DocumentTypeName => enumeration(DocumentType::ALL.iter().map(|v| v.as_str()))
    .examples(["PASSPORT"]);
    /// Why KYC was rejected.
    KycReason => required_text(bankflow_core::customer::KYC_REASON_LEN_MAX)
        .description(Some("1 to 500 printable characters (shown to the customer)."));
    /// Part of a name, for search.
    SearchName => plain_text(bankflow_core::customer::SEARCH_NAME_LEN_MAX);
    /// Free-text customer search.
    CustomerQuery => string()
        .pattern(Some(format!(r"^[^@+{CONTROL}][^@{CONTROL}]*$")))
        .max_length(Some(bankflow_core::customer::SEARCH_NAME_LEN_MAX))
        .description(Some(
            "Part of a name; or an email (contains `@`) or an E.164 phone (starts with `+`), \
             which must then be valid.",
        ));
    /// A user role.
    RoleName => enumeration(Role::ALL.iter().map(|v| v.as_str()));
    /// A fraud rule kind.
    RuleTypeName => enumeration(RuleType::ALL.iter().map(|v| v.as_str()))
    .examples(["AMOUNT_THRESHOLD"]);
    /// What a fraud rule does when it fires.
    FraudActionName => enumeration(FraudAction::ALL.iter().map(|v| v.as_str()))
        .examples(["REVIEW"]);
    /// A fraud rule's name.
    RuleName => required_text(bankflow_core::fraud::RULE_NAME_LEN_MAX).examples(["large transfer"]);
    /// Kind of black/white-list entry.
    ListEntryTypeName => enumeration(ListEntryType::ALL.iter().map(|v| v.as_str()))
    .examples(["IP"]);
    /// A black/white-list value.
    ListValue => required_text(bankflow_core::fraud::LIST_VALUE_LEN_MAX)
        .description(Some("1 to 255 printable characters; an account id for ACCOUNT, an email for EMAIL."))
        .examples(["203.0.113.7"]);
    /// Status of a fraud case.
    CaseStatusName => enumeration(CaseStatus::ALL.iter().map(|v| v.as_str()));
    /// A decision on a fraud case.
    CaseDecisionName => enumeration(["RELEASE", "REJECT"]).examples(["RELEASE"]);
    /// A note on a decision.
    Note => plain_text(bankflow_core::fraud::NOTE_LEN_MAX);
    /// The subject of a direct message.
    MessageSubject => plain_text(DIRECT_SUBJECT_LEN_MAX);
    /// The text of a direct message.
    MessageBody => required_text(bankflow_core::notify::DIRECT_BODY_LEN_MAX);
}

/// A day or an instant, for history filters: either format is taken.
pub struct DayOrInstant;

impl PartialSchema for DayOrInstant {
    fn schema() -> RefOr<Schema> {
        AnyOfBuilder::new()
            .item(formatted(KnownFormat::Date))
            .item(formatted(KnownFormat::DateTime))
            .description(Some("A day (YYYY-MM-DD, UTC) or an RFC 3339 instant."))
            .into()
    }
}

impl utoipa::ToSchema for DayOrInstant {}

/// New roles: one or more distinct role names.
pub struct Roles;

impl PartialSchema for Roles {
    fn schema() -> RefOr<Schema> {
        ArrayBuilder::new()
            .items(RoleName::schema())
            .min_items(Some(1))
            .unique_items(true)
            .into()
    }
}

impl utoipa::ToSchema for Roles {}

/// The `Idempotency-Key` header every money-moving POST requires (1 to 255 printable ASCII
/// characters without spaces, as `IdempotencyKey::parse` wants).
pub struct IdempotencyKeyHeader;

impl utoipa::IntoParams for IdempotencyKeyHeader {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        let max = bankflow_core::idempotency::IDEMPOTENCY_KEY_LEN_MAX;
        vec![ParameterBuilder::new()
            .name("Idempotency-Key")
            .parameter_in(ParameterIn::Header)
            .required(Required::True)
            .description(Some(
                "Client-chosen key (1-255 printable ASCII, no spaces); a replay returns the first response",
            ))
            .schema(Some(
                string()
                    .pattern(Some(format!("^[!-~]{{1,{max}}}$")))
                    .min_length(Some(1))
                    .max_length(Some(max)),
            ))
            .build()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bankflow_core::{AccountNumber, IdempotencyKey, Money};

    #[test]
    fn positive_decimal_pattern_spells_every_fraction_length() {
        assert_eq!(
            positive_decimal_pattern(),
            r"^(?:[1-9][0-9]{0,14}(?:\.[0-9]{1,3})?|0\.(?:[1-9][0-9]{0,2}|0[1-9][0-9]{0,1}|00[1-9]))$"
        );
    }

    #[test]
    fn documented_examples_are_accepted_by_the_engine() {
        for c in Currency::all() {
            Money::parse_positive("1", c).unwrap();
        }
        Money::parse_positive("0.001", Currency::parse("KWD").unwrap()).unwrap();
        Money::parse_positive("999999999999999.99", Currency::USD).unwrap();
        AccountNumber::parse("100000000008").unwrap();
        IdempotencyKey::parse(&"~".repeat(255)).unwrap();
        bankflow_core::identity::Email::parse("alice@example.com").unwrap();
        bankflow_core::identity::Phone::parse("+14155550100").unwrap();
        bankflow_core::identity::Password::parse("correct horse battery staple").unwrap();
        bankflow_core::customer::Ssn::parse("123-45-6789").unwrap();
    }
}
