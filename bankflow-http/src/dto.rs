//! Wire shapes (snake_case JSON, ids as UUID strings, amounts as decimal strings) and their
//! conversions: requests become validated engine types through `try_into_domain()`, engine
//! values become responses through `From`.

use bankflow_core::{
    Account, AccountId, AccountNumber, AccountType, Balance, BankError, BankResult, Currency,
    CustomerId, Destination, ExternalPayee, Money, PaymentRail, Statement, StatementLine,
    Transaction, TransactionId, TransactionQuery, TransactionStatus, TransactionType, TransferItem,
};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::schema::{
    AccountNumberText, AccountTypeName, Amount, AmountFilter, CurrencyCode, Cursor, DayOrInstant,
    Description, LimitAmount, PageLimit, PayeeAccount, PayeeName, PayeeReference, ReversalReason,
    StatementFormat, TransactionRef, TransactionStatusName, TransactionTypeName,
};

/// Default page size when `limit` is absent.
pub const PAGE_LIMIT_DEFAULT: u32 = 20;
/// Largest page size.
pub const PAGE_LIMIT_MAX: u32 = bankflow_core::transaction::PAGE_LIMIT_MAX;

/// A page of a list.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Page<T> {
    /// Items of this page.
    pub items: Vec<T>,
    /// Opaque cursor of the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// Paging parameters of every list.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Page size, 1..=100 (default 20).
    #[param(value_type = Option<PageLimit>)]
    pub limit: Option<u32>,
    /// Opaque cursor from a previous page's `next_cursor`.
    #[param(value_type = Option<Cursor>)]
    pub cursor: Option<String>,
}

/// Validated page size.
pub fn page_limit(limit: Option<u32>) -> BankResult<u32> {
    match limit.unwrap_or(PAGE_LIMIT_DEFAULT) {
        n @ 1..=PAGE_LIMIT_MAX => Ok(n),
        _ => Err(BankError::validation(
            "limit",
            format!("limit must be 1..={PAGE_LIMIT_MAX}"),
        )),
    }
}

/// Cursors are opaque to clients: hex of an internal position, so clients cannot build or
/// depend on them.
pub fn encode_cursor(position: &str) -> String {
    hex::encode(position.as_bytes())
}

/// Decodes a cursor made by [`encode_cursor`].
pub fn decode_cursor(cursor: &str) -> BankResult<String> {
    let bytes =
        hex::decode(cursor).map_err(|_| BankError::validation("cursor", "malformed cursor"))?;
    String::from_utf8(bytes).map_err(|_| BankError::validation("cursor", "malformed cursor"))
}

fn money_str(m: &Money) -> String {
    m.amount().to_string()
}

fn currency(code: Option<&str>) -> BankResult<Currency> {
    match code {
        Some(c) => Currency::parse(c),
        None => Ok(Currency::USD),
    }
}

/// A positive amount in a known currency, from its wire strings.
pub fn positive_money(amount: &str, code: &str) -> BankResult<Money> {
    Money::parse_positive(amount, Currency::parse(code)?)
}

fn parse_decimal(field: &str, s: &str) -> BankResult<Decimal> {
    let d = Decimal::from_str_exact(s.trim())
        .map_err(|_| BankError::validation(field, format!("{s:?} is not a decimal")))?;
    Ok(d)
}

// ------------------------------------------------------------------------- accounts

/// A customer account.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AccountDto {
    /// Account id.
    pub id: Uuid,
    /// 12-digit account number (last digit is a Luhn check digit).
    #[schema(example = "100000000008")]
    pub account_number: String,
    /// Owner.
    pub customer_id: Uuid,
    /// CHECKING or SAVINGS.
    #[schema(example = "CHECKING")]
    pub account_type: String,
    /// ISO 4217 code.
    #[schema(example = "USD")]
    pub currency: String,
    /// Ledger balance (sum of postings).
    #[schema(example = "100.00")]
    pub balance: String,
    /// Balance minus active holds.
    #[schema(example = "100.00")]
    pub available_balance: String,
    /// Overdraft allowed below zero.
    #[schema(example = "0.00")]
    pub overdraft_limit: String,
    /// Daily outgoing limit, if any.
    pub daily_limit: Option<String>,
    /// ACTIVE, FROZEN or CLOSED.
    #[schema(example = "ACTIVE")]
    pub status: String,
    /// Opening time.
    pub opened_at: DateTime<Utc>,
    /// Closing time.
    pub closed_at: Option<DateTime<Utc>>,
}

impl From<Account> for AccountDto {
    fn from(a: Account) -> AccountDto {
        AccountDto {
            id: a.id.0,
            account_number: a.account_number.to_string(),
            customer_id: a.customer_id.0,
            account_type: a.account_type.as_str().to_string(),
            currency: a.currency.code().to_string(),
            balance: money_str(&a.balance_money()),
            available_balance: money_str(&a.available_money()),
            overdraft_limit: a.overdraft_limit.to_string(),
            daily_limit: a.daily_limit.map(|d| d.to_string()),
            status: a.status.as_str().to_string(),
            opened_at: a.opened_at,
            closed_at: a.closed_at,
        }
    }
}

/// Opens an account.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenAccountBody {
    /// CHECKING or SAVINGS.
    #[schema(value_type = AccountTypeName)]
    pub account_type: String,
    /// ISO 4217 code (default USD).
    #[schema(value_type = Option<CurrencyCode>)]
    pub currency: Option<String>,
    /// Owner; defaults to the caller's customer profile (staff may name another).
    pub customer_id: Option<Uuid>,
    /// Overdraft (checking only; admin only).
    #[schema(value_type = Option<LimitAmount>)]
    pub overdraft_limit: Option<String>,
    /// Daily outgoing limit.
    #[schema(value_type = Option<LimitAmount>)]
    pub daily_limit: Option<String>,
}

impl OpenAccountBody {
    /// Validated engine request; `caller_customer` is used when no customer is named.
    pub fn try_into_domain(
        self,
        caller_customer: Option<CustomerId>,
    ) -> BankResult<bankflow_core::OpenAccountRequest> {
        let customer_id = match (self.customer_id, caller_customer) {
            (Some(c), _) => CustomerId(c),
            (None, Some(c)) => c,
            (None, None) => {
                return Err(BankError::InvalidState(
                    "create your customer profile before opening an account".into(),
                ))
            }
        };
        Ok(bankflow_core::OpenAccountRequest {
            customer_id,
            account_type: AccountType::parse(&self.account_type)?,
            currency: currency(self.currency.as_deref())?,
            overdraft_limit: self
                .overdraft_limit
                .as_deref()
                .map(|s| parse_decimal("overdraft_limit", s))
                .transpose()?,
            daily_limit: self
                .daily_limit
                .as_deref()
                .map(|s| parse_decimal("daily_limit", s))
                .transpose()?,
        })
    }
}

/// Sets an account's limits (admin).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LimitsBody {
    /// Overdraft allowed below zero.
    #[schema(value_type = LimitAmount)]
    pub overdraft_limit: String,
    /// Daily outgoing limit (null: none).
    #[schema(value_type = Option<LimitAmount>)]
    pub daily_limit: Option<String>,
}

impl LimitsBody {
    /// Validated (overdraft, daily) pair.
    pub fn try_into_domain(self) -> BankResult<(Decimal, Option<Decimal>)> {
        Ok((
            parse_decimal("overdraft_limit", &self.overdraft_limit)?,
            self.daily_limit
                .as_deref()
                .map(|s| parse_decimal("daily_limit", s))
                .transpose()?,
        ))
    }
}

/// Ledger and available balance read together.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct BalanceDto {
    /// Account.
    pub account_id: Uuid,
    /// Ledger balance.
    #[schema(example = "100.00")]
    pub balance: String,
    /// Balance minus holds.
    #[schema(example = "100.00")]
    pub available_balance: String,
    /// ISO 4217 code.
    #[schema(example = "USD")]
    pub currency: String,
}

impl From<Balance> for BalanceDto {
    fn from(b: Balance) -> BalanceDto {
        BalanceDto {
            account_id: b.account_id.0,
            balance: money_str(&b.balance),
            available_balance: money_str(&b.available_balance),
            currency: b.balance.currency().code().to_string(),
        }
    }
}

// ------------------------------------------------------------------------- transactions

/// A transaction.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TransactionDto {
    /// Id.
    pub id: Uuid,
    /// Human-facing reference.
    #[schema(example = "TXN-0190F0E2A1B2C3D4E5F60718293A4B5C")]
    pub transaction_ref: String,
    /// Debited account.
    pub from_account_id: Option<Uuid>,
    /// Credited account.
    pub to_account_id: Option<Uuid>,
    /// Amount.
    #[schema(example = "25.00")]
    pub amount: String,
    /// ISO 4217 code.
    #[schema(example = "USD")]
    pub currency: String,
    /// DEPOSIT, WITHDRAWAL, TRANSFER, PAYMENT, EXTERNAL_TRANSFER, EXTERNAL_DEPOSIT, REVERSAL, FEE, INTEREST.
    #[schema(example = "TRANSFER")]
    pub transaction_type: String,
    /// PENDING, REVIEW, COMPLETED, FAILED, REVERSED, VOIDED, EXPIRED.
    #[schema(example = "COMPLETED")]
    pub status: String,
    /// Free text.
    pub description: Option<String>,
    /// Stable error code when FAILED.
    pub failure_code: Option<String>,
    /// Failure, void or reversal reason.
    pub reason: Option<String>,
    /// Reversal ↔ reversed transaction link.
    pub parent_id: Option<Uuid>,
    /// Creation.
    pub created_at: DateTime<Utc>,
    /// When money moved or the refusal was decided.
    pub processed_at: Option<DateTime<Utc>>,
    /// When it was reversed.
    pub reversed_at: Option<DateTime<Utc>>,
    /// The user who asked for the movement (none for the bank's own jobs).
    pub initiated_by: Option<Uuid>,
    /// The second staff member who approved it (staff movements above the threshold).
    pub approved_by: Option<Uuid>,
}

impl From<Transaction> for TransactionDto {
    fn from(t: Transaction) -> TransactionDto {
        TransactionDto {
            id: t.id.0,
            transaction_ref: t.transaction_ref.to_string(),
            from_account_id: t.from_account_id.map(|a| a.0),
            to_account_id: t.to_account_id.map(|a| a.0),
            amount: money_str(&t.amount),
            currency: t.amount.currency().code().to_string(),
            transaction_type: t.transaction_type.as_str().to_string(),
            status: t.status.as_str().to_string(),
            description: t.description,
            failure_code: t.failure_code,
            reason: t.reason,
            parent_id: t.parent_id.map(|p| p.0),
            created_at: t.created_at,
            processed_at: t.processed_at,
            reversed_at: t.reversed_at,
            initiated_by: t.initiated_by.map(|u| u.0),
            approved_by: t.approved_by.map(|u| u.0),
        }
    }
}

/// A teller deposit (admin).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DepositBody {
    /// Credited account.
    pub account_id: Uuid,
    /// Positive decimal string.
    #[schema(value_type = Amount)]
    pub amount: String,
    /// ISO 4217 code.
    #[schema(value_type = CurrencyCode)]
    pub currency: String,
    /// Free text.
    #[schema(value_type = Option<Description>)]
    pub description: Option<String>,
}

impl DepositBody {
    /// Validated (account, amount, description).
    pub fn try_into_domain(self) -> BankResult<(AccountId, Money, Option<String>)> {
        Ok((
            AccountId(self.account_id),
            positive_money(&self.amount, &self.currency)?,
            self.description,
        ))
    }
}

/// An internal transfer.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferBody {
    /// Debited account (yours).
    pub from_account_id: Uuid,
    /// Credited account by id …
    pub to_account_id: Option<Uuid>,
    /// … or by account number (exactly one of the two).
    #[schema(value_type = Option<AccountNumberText>)]
    pub to_account_number: Option<String>,
    /// Positive decimal string.
    #[schema(value_type = Amount)]
    pub amount: String,
    /// ISO 4217 code.
    #[schema(value_type = CurrencyCode)]
    pub currency: String,
    /// Free text.
    #[schema(value_type = Option<Description>)]
    pub description: Option<String>,
}

impl TransferBody {
    /// The validated transfer.
    pub fn try_into_domain(self) -> BankResult<TransferItem> {
        let to = match (self.to_account_id, self.to_account_number.as_deref()) {
            (Some(id), None) => Destination::Account(AccountId(id)),
            (None, Some(n)) => Destination::Number(AccountNumber::parse(n)?),
            _ => {
                return Err(BankError::validation(
                    "to_account_id",
                    "give exactly one of to_account_id and to_account_number",
                ))
            }
        };
        Ok(TransferItem {
            from_account_id: AccountId(self.from_account_id),
            to,
            amount: positive_money(&self.amount, &self.currency)?,
            description: self.description,
        })
    }
}

/// A two-phase transfer: reserve now, post or void later.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PendingTransferBody {
    /// The transfer.
    #[serde(flatten)]
    pub transfer: TransferBody,
    /// When the reservation lapses (default: the engine's hold TTL).
    pub expires_at: Option<DateTime<Utc>>,
}

/// Posts a pending transfer, optionally for less than reserved.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PostPendingBody {
    /// Amount to post (≤ reserved); default all of it. Give it with `currency` or not at all.
    #[schema(value_type = Option<Amount>)]
    pub amount: Option<String>,
    /// ISO 4217 code of `amount`.
    #[schema(value_type = Option<CurrencyCode>)]
    pub currency: Option<String>,
}

impl PostPendingBody {
    /// The validated optional amount.
    pub fn try_into_domain(self) -> BankResult<Option<Money>> {
        match (self.amount, self.currency) {
            (None, None) => Ok(None),
            (Some(a), Some(c)) => positive_money(&a, &c).map(Some),
            _ => Err(BankError::validation(
                "amount",
                "give amount and currency together",
            )),
        }
    }
}

/// A linked batch of transfers: all or none.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchBody {
    /// 1..=100 transfers.
    #[schema(min_items = 1, max_items = 100)]
    pub transfers: Vec<TransferBody>,
}

impl BatchBody {
    /// The validated items.
    pub fn try_into_domain(self) -> BankResult<Vec<TransferItem>> {
        if self.transfers.is_empty() || self.transfers.len() > bankflow_core::BATCH_LEN_MAX {
            return Err(BankError::validation(
                "transfers",
                format!("1 to {} transfers", bankflow_core::BATCH_LEN_MAX),
            ));
        }
        self.transfers
            .into_iter()
            .map(TransferBody::try_into_domain)
            .collect()
    }
}

/// A payment to a payee outside the bank.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentBody {
    /// Debited account (yours).
    pub from_account_id: Uuid,
    /// Payee name.
    #[schema(value_type = PayeeName)]
    pub payee_name: String,
    /// Payee account (IBAN, account number, biller id).
    #[schema(value_type = PayeeAccount)]
    pub payee_account_number: String,
    /// Reference the payee sees (invoice number).
    #[schema(value_type = Option<PayeeReference>)]
    pub payee_reference: Option<String>,
    /// Positive decimal string.
    #[schema(value_type = Amount)]
    pub amount: String,
    /// ISO 4217 code.
    #[schema(value_type = CurrencyCode)]
    pub currency: String,
    /// Free text.
    #[schema(value_type = Option<Description>)]
    pub description: Option<String>,
}

/// How money leaves the bank for `POST /transactions/external`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RailDto {
    /// Outgoing ACH transfer.
    Ach,
    /// Outgoing wire.
    Wire,
}

impl From<RailDto> for PaymentRail {
    fn from(r: RailDto) -> Self {
        match r {
            RailDto::Ach => PaymentRail::Ach,
            RailDto::Wire => PaymentRail::Wire,
        }
    }
}

/// An ACH transfer or a wire to a beneficiary outside the bank.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExternalTransferBody {
    /// `ACH` or `WIRE`.
    pub rail: RailDto,
    /// Debited account (yours).
    pub from_account_id: Uuid,
    /// Beneficiary name (1 to 140 characters).
    #[schema(value_type = PayeeName)]
    pub payee_name: String,
    /// Beneficiary account: IBAN, account number or routing/account (4 to 34 letters, digits, `-`, `/`).
    #[schema(value_type = PayeeAccount)]
    pub payee_account_number: String,
    /// Reference the beneficiary sees (at most 140 characters).
    #[schema(value_type = Option<PayeeReference>)]
    pub payee_reference: Option<String>,
    /// Positive decimal string.
    #[schema(value_type = Amount)]
    pub amount: String,
    /// ISO 4217 code.
    #[schema(value_type = CurrencyCode)]
    pub currency: String,
    /// Free text.
    #[schema(value_type = Option<Description>)]
    pub description: Option<String>,
}

/// The transfer item of a payment out of the bank; the engine validates the payee
/// (one rule set for every rail) and shows the payee account to fraud as the counterparty.
fn external_item(
    from_account_id: Uuid,
    payee: ExternalPayee,
    amount: &str,
    currency: &str,
    description: Option<String>,
) -> BankResult<TransferItem> {
    let payee = ExternalPayee {
        name: payee.name.trim().to_string(),
        account: payee.account.trim().to_string(),
        ..payee
    };
    let description = description.or_else(|| {
        Some(match &payee.reference {
            Some(r) => format!("Payment to {} ({r})", payee.name),
            None => format!("Payment to {}", payee.name),
        })
    });
    Ok(TransferItem {
        from_account_id: AccountId(from_account_id),
        amount: positive_money(amount, currency)?,
        to: Destination::External(payee),
        description,
    })
}

impl PaymentBody {
    /// The transfer item: a bill payment out of the bank.
    pub fn try_into_domain(self) -> BankResult<TransferItem> {
        let payee = ExternalPayee {
            rail: PaymentRail::Payment,
            name: self.payee_name,
            account: self.payee_account_number,
            reference: self.payee_reference,
        };
        external_item(
            self.from_account_id,
            payee,
            &self.amount,
            &self.currency,
            self.description,
        )
    }
}

impl ExternalTransferBody {
    /// The transfer item: an ACH transfer or wire out of the bank.
    pub fn try_into_domain(self) -> BankResult<TransferItem> {
        let payee = ExternalPayee {
            rail: self.rail.into(),
            name: self.payee_name,
            account: self.payee_account_number,
            reference: self.payee_reference,
        };
        external_item(
            self.from_account_id,
            payee,
            &self.amount,
            &self.currency,
            self.description,
        )
    }
}

/// Reverses a completed transaction (admin).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReverseBody {
    /// Why (kept on the transaction and in the audit log).
    #[schema(value_type = ReversalReason, example = "customer dispute upheld")]
    pub reason: String,
}

/// History filters.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryParams {
    /// Created on or after (YYYY-MM-DD or RFC 3339).
    #[param(value_type = Option<DayOrInstant>)]
    pub from: Option<String>,
    /// Created before (YYYY-MM-DD: through the end of that day; or RFC 3339, exclusive).
    #[param(value_type = Option<DayOrInstant>)]
    pub to: Option<String>,
    /// Transaction type.
    #[serde(rename = "type")]
    #[param(rename = "type", value_type = Option<TransactionTypeName>)]
    pub transaction_type: Option<String>,
    /// Status.
    #[param(value_type = Option<TransactionStatusName>)]
    pub status: Option<String>,
    /// Amount at least.
    #[param(value_type = Option<AmountFilter>)]
    pub min_amount: Option<String>,
    /// Amount at most.
    #[param(value_type = Option<AmountFilter>)]
    pub max_amount: Option<String>,
    /// Only transactions of this account (search only; required for customers).
    pub account_id: Option<Uuid>,
    /// A transaction reference (`TXN-…`) or id (search only).
    #[param(value_type = Option<TransactionRef>)]
    pub q: Option<String>,
    /// Page size, 1..=100.
    #[param(value_type = Option<PageLimit>)]
    pub limit: Option<u32>,
    /// Opaque cursor.
    #[param(value_type = Option<Cursor>)]
    pub cursor: Option<String>,
}

fn parse_instant(field: &str, s: &str, end_of_day: bool) -> BankResult<DateTime<Utc>> {
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        let day = if end_of_day {
            d.succ_opt()
                .ok_or_else(|| BankError::validation(field, "out of range"))?
        } else {
            d
        };
        return Ok(day.and_hms_opt(0, 0, 0).expect("midnight").and_utc());
    }
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| BankError::validation(field, "expected YYYY-MM-DD or an RFC 3339 time"))
}

impl HistoryParams {
    /// The validated engine query.
    pub fn try_into_domain(self, account: Option<AccountId>) -> BankResult<TransactionQuery> {
        let after = match self.cursor.as_deref() {
            None | Some("") => None,
            Some(c) => {
                let pos = decode_cursor(c)?;
                let (at, id) = pos
                    .split_once('|')
                    .ok_or_else(|| BankError::validation("cursor", "malformed cursor"))?;
                let at = DateTime::parse_from_rfc3339(at)
                    .map_err(|_| BankError::validation("cursor", "malformed cursor"))?
                    .with_timezone(&Utc);
                Some((
                    at,
                    TransactionId::parse(id)
                        .map_err(|_| BankError::validation("cursor", "malformed cursor"))?,
                ))
            }
        };
        Ok(TransactionQuery {
            account_id: account.or(self.account_id.map(AccountId)),
            from: self
                .from
                .as_deref()
                .map(|s| parse_instant("from", s, false))
                .transpose()?,
            to: self
                .to
                .as_deref()
                .map(|s| parse_instant("to", s, true))
                .transpose()?,
            transaction_type: self
                .transaction_type
                .as_deref()
                .map(TransactionType::parse)
                .transpose()?,
            status: self
                .status
                .as_deref()
                .map(TransactionStatus::parse)
                .transpose()?,
            min_amount: self
                .min_amount
                .as_deref()
                .map(|s| parse_decimal("min_amount", s))
                .transpose()?,
            max_amount: self
                .max_amount
                .as_deref()
                .map(|s| parse_decimal("max_amount", s))
                .transpose()?,
            after,
            limit: page_limit(self.limit)?,
        })
    }
}

/// The transaction a search text names: its reference (`TXN-` + 32 hex digits, as the
/// engine derives it from the id) or its id.
pub fn transaction_id_of(text: &str) -> BankResult<TransactionId> {
    let t = text.trim();
    let raw = t
        .strip_prefix("TXN-")
        .or_else(|| t.strip_prefix("txn-"))
        .unwrap_or(t);
    TransactionId::parse(raw)
        .map_err(|_| BankError::validation("q", "a transaction reference (TXN-…) or id"))
}

/// A page of transactions with the cursor of the next one.
pub fn transaction_page(items: Vec<Transaction>, limit: u32) -> Page<TransactionDto> {
    let next_cursor = if items.len() as u32 == limit {
        items
            .last()
            .map(|t| encode_cursor(&format!("{}|{}", t.created_at.to_rfc3339(), t.id)))
    } else {
        None
    };
    Page {
        items: items.into_iter().map(TransactionDto::from).collect(),
        next_cursor,
    }
}

// ------------------------------------------------------------------------- statements

/// Statement parameters.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatementParams {
    /// First day (YYYY-MM-DD, UTC).
    pub from: NaiveDate,
    /// Last day, inclusive (not before `from`).
    pub to: NaiveDate,
    /// json (default), csv or pdf.
    #[param(value_type = Option<StatementFormat>)]
    pub format: Option<String>,
}

/// One statement line.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StatementLineDto {
    /// Transaction.
    pub transaction_id: Uuid,
    /// Booking time.
    pub posted_at: DateTime<Utc>,
    /// Description.
    pub description: Option<String>,
    /// Signed from the account's view.
    #[schema(example = "-25.00")]
    pub amount: String,
    /// Balance after this line.
    #[schema(example = "75.00")]
    pub balance_after: String,
}

/// An account statement.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StatementDto {
    /// Account.
    pub account_id: Uuid,
    /// Account number.
    pub account_number: String,
    /// ISO 4217 code.
    pub currency: String,
    /// First day.
    pub from: NaiveDate,
    /// Last day (inclusive).
    pub to: NaiveDate,
    /// Balance at the start of `from`.
    pub opening_balance: String,
    /// Balance at the end of `to`.
    pub closing_balance: String,
    /// Lines in booking order.
    pub entries: Vec<StatementLineDto>,
}

impl From<Statement> for StatementDto {
    fn from(s: Statement) -> StatementDto {
        StatementDto {
            account_id: s.account_id.0,
            account_number: s.account_number.to_string(),
            currency: s.opening_balance.currency().code().to_string(),
            from: s.from,
            to: s.to,
            opening_balance: money_str(&s.opening_balance),
            closing_balance: money_str(&s.closing_balance),
            entries: s.entries.into_iter().map(StatementLineDto::from).collect(),
        }
    }
}

impl From<StatementLine> for StatementLineDto {
    fn from(l: StatementLine) -> StatementLineDto {
        StatementLineDto {
            transaction_id: l.transaction_id.0,
            posted_at: l.posted_at,
            description: l.description,
            amount: money_str(&l.amount),
            balance_after: money_str(&l.balance_after),
        }
    }
}

/// Liveness / readiness answer.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct HealthDto {
    /// "ok" or "unavailable".
    pub status: String,
}
