//! `/api/v1/transactions/scheduled`: standing (one-off or recurring) transfers. The engine
//! runs them from the background worker; each occurrence is an ordinary transfer.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use bankflow_core::ids::ScheduleId;
use bankflow_core::{
    AccountId, AccountNumber, BankError, CreateSchedule, CustomerId, Destination, Frequency,
    ScheduledTransfer,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::dto::{page_limit, positive_money, Page};
use crate::error::ApiResult;
use crate::routes::{detached, CommonErrors};
use crate::schema::{
    AccountNumberText, Amount, CurrencyCode, Description, FrequencyName, IdempotencyKeyHeader,
    PageLimit,
};
use crate::state::{AppState, Auth, IdemKey, Json, PathId, Query};

/// Asks for a transfer to run later, once or on a recurring basis.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleBody {
    /// Debited account (yours).
    pub from_account_id: Uuid,
    /// Credited account by id (exactly one of `to_account_id` and `to_account_number`).
    pub to_account_id: Option<Uuid>,
    /// Credited account by number.
    #[schema(value_type = Option<AccountNumberText>)]
    pub to_account_number: Option<String>,
    /// Positive decimal string, per occurrence.
    #[schema(value_type = Amount)]
    pub amount: String,
    /// ISO 4217 code.
    #[schema(value_type = CurrencyCode)]
    pub currency: String,
    /// Free text (at most 500 characters).
    #[schema(value_type = Option<Description>)]
    pub description: Option<String>,
    /// `ONCE`, `DAILY`, `WEEKLY` or `MONTHLY`.
    #[schema(value_type = FrequencyName)]
    pub frequency: String,
    /// First run (RFC 3339), from now to five years ahead.
    pub start_at: DateTime<Utc>,
    /// No run after this instant (RFC 3339).
    pub end_at: Option<DateTime<Utc>>,
}

impl ScheduleBody {
    fn try_into_domain(
        self,
        key: bankflow_core::IdempotencyKey,
    ) -> bankflow_core::BankResult<CreateSchedule> {
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
        Ok(CreateSchedule {
            from_account_id: AccountId(self.from_account_id),
            to,
            amount: positive_money(&self.amount, &self.currency)?,
            description: self.description,
            frequency: self.frequency.parse::<Frequency>()?,
            start_at: self.start_at,
            end_at: self.end_at,
            idempotency_key: key,
        })
    }
}

/// A scheduled transfer.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ScheduleDto {
    /// Id.
    pub id: Uuid,
    /// Owner.
    pub customer_id: Uuid,
    /// Debited account.
    pub from_account_id: Uuid,
    /// Credited account.
    pub to_account_id: Uuid,
    /// Amount per occurrence.
    pub amount: String,
    /// ISO 4217 code.
    pub currency: String,
    /// Free text.
    pub description: Option<String>,
    /// `ONCE`, `DAILY`, `WEEKLY` or `MONTHLY`.
    pub frequency: String,
    /// First run.
    pub start_at: DateTime<Utc>,
    /// Last possible run.
    pub end_at: Option<DateTime<Utc>>,
    /// Next run (meaningful while ACTIVE).
    pub next_run_at: DateTime<Utc>,
    /// Occurrences run so far.
    pub occurrence: i64,
    /// `ACTIVE`, `CANCELLED` or `COMPLETED`.
    pub status: String,
    /// Transaction of the last run.
    pub last_transaction_id: Option<Uuid>,
    /// Status of the last run's transaction.
    pub last_status: Option<String>,
    /// Why the last run was refused (insufficient funds...).
    pub last_error: Option<String>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl From<ScheduledTransfer> for ScheduleDto {
    fn from(s: ScheduledTransfer) -> Self {
        ScheduleDto {
            id: s.id.0,
            customer_id: s.customer_id.0,
            from_account_id: s.from_account_id.0,
            to_account_id: s.to_account_id.0,
            amount: s.amount.amount().to_string(),
            currency: s.amount.currency().to_string(),
            description: s.description,
            frequency: s.frequency.to_string(),
            start_at: s.start_at,
            end_at: s.end_at,
            next_run_at: s.next_run_at,
            occurrence: s.occurrence,
            status: s.status.to_string(),
            last_transaction_id: s.last_transaction_id.map(|t| t.0),
            last_status: s.last_status.map(|t| t.to_string()),
            last_error: s.last_error,
            created_at: s.created_at,
            updated_at: s.updated_at,
        }
    }
}

/// Whose schedules to list.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ScheduleListParams {
    /// Page size, 1..=100 (default 20).
    #[param(value_type = Option<PageLimit>)]
    pub limit: Option<u32>,
    /// The customer (staff only; a customer always sees their own).
    pub customer_id: Option<Uuid>,
}

/// Creates a scheduled transfer (checked now; funds are checked at each run).
#[utoipa::path(post, path = "/api/v1/transactions/scheduled", operation_id = "create_scheduled_transfer", tag = "transactions", request_body = ScheduleBody,
    params(IdempotencyKeyHeader),
    responses((status = 201, description = "Scheduled", body = ScheduleDto), CommonErrors),
    security(("bearer" = [])))]
pub async fn create(
    State(s): State<AppState>,
    auth: Auth,
    IdemKey(key): IdemKey,
    Json(body): Json<ScheduleBody>,
) -> ApiResult<Response> {
    let req = body.try_into_domain(key)?;
    let bank = s.bank.clone();
    let created = detached(async move {
        bank.schedules()
            .create_scheduled_transfer(&auth.actor, req)
            .await
    })
    .await?;
    Ok((StatusCode::CREATED, axum::Json(ScheduleDto::from(created))).into_response())
}

/// The caller's scheduled transfers (staff: `customer_id`'s), newest first.
#[utoipa::path(get, path = "/api/v1/transactions/scheduled", operation_id = "list_scheduled_transfers", tag = "transactions", params(ScheduleListParams),
    responses((status = 200, description = "Scheduled transfers", body = Page<ScheduleDto>), CommonErrors),
    security(("bearer" = [])))]
pub async fn list(
    State(s): State<AppState>,
    auth: Auth,
    Query(p): Query<ScheduleListParams>,
) -> ApiResult<axum::Json<Page<ScheduleDto>>> {
    let limit = page_limit(p.limit)?;
    let customer = match p.customer_id.map(CustomerId).or(auth.actor.customer_id) {
        Some(c) => c,
        None => {
            return Err(BankError::validation(
                "customer_id",
                "customer_id is required for callers without a customer profile",
            )
            .into())
        }
    };
    let items = s
        .bank
        .schedules()
        .scheduled_transfers(&auth.actor, customer, limit)
        .await?;
    // The engine returns at most one page (newest first); older schedules are not paged.
    Ok(axum::Json(Page {
        items: items.into_iter().map(ScheduleDto::from).collect(),
        next_cursor: None,
    }))
}

/// One scheduled transfer.
#[utoipa::path(get, path = "/api/v1/transactions/scheduled/{id}", operation_id = "get_scheduled_transfer", tag = "transactions",
    params(("id" = Uuid, Path, description = "Scheduled transfer id")),
    responses((status = 200, description = "The scheduled transfer", body = ScheduleDto), CommonErrors),
    security(("bearer" = [])))]
pub async fn get(
    State(s): State<AppState>,
    auth: Auth,
    PathId(id): PathId<ScheduleId>,
) -> ApiResult<axum::Json<ScheduleDto>> {
    Ok(axum::Json(
        s.bank
            .schedules()
            .scheduled_transfer(&auth.actor, id)
            .await?
            .into(),
    ))
}

/// Cancels an ACTIVE scheduled transfer; 200 with status CANCELLED (twice → 409).
#[utoipa::path(delete, path = "/api/v1/transactions/scheduled/{id}", tag = "transactions",
    params(("id" = Uuid, Path, description = "Scheduled transfer id")),
    responses((status = 200, description = "Cancelled", body = ScheduleDto), CommonErrors),
    security(("bearer" = [])))]
pub async fn cancel(
    State(s): State<AppState>,
    auth: Auth,
    PathId(id): PathId<ScheduleId>,
) -> ApiResult<axum::Json<ScheduleDto>> {
    let bank = s.bank.clone();
    Ok(axum::Json(
        detached(async move {
            bank.schedules()
                .cancel_scheduled_transfer(&auth.actor, id)
                .await
        })
        .await?
        .into(),
    ))
}
