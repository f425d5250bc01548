//! `/api/v1/accounts`.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use bankflow_core::{AccountId, CustomerId, UserId};

use crate::dto::{
    decode_cursor, encode_cursor, page_limit, AccountDto, BalanceDto, LimitsBody, OpenAccountBody,
    Page, PageParams, StatementDto, StatementParams,
};
use crate::error::{ApiError, ApiResult};
use crate::render::{statement_csv, statement_pdf};
use crate::routes::{detached, CommonErrors};
use crate::state::{AppState, Auth, Json, PathId, Query};

/// Opens an account for the caller's customer profile (staff may name a customer).
#[utoipa::path(post, path = "/api/v1/accounts", tag = "accounts", request_body = OpenAccountBody,
    responses((status = 201, description = "Account opened", body = AccountDto), CommonErrors),
    security(("bearer" = [])))]
pub async fn open(
    State(s): State<AppState>,
    auth: Auth,
    Json(body): Json<OpenAccountBody>,
) -> ApiResult<Response> {
    let req = body.try_into_domain(auth.actor.customer_id)?;
    let bank = s.bank.clone();
    let a = detached(async move { bank.money().open_account(&auth.actor, req).await }).await?;
    Ok((StatusCode::CREATED, axum::Json(AccountDto::from(a))).into_response())
}

/// Every account, by id (staff only).
#[utoipa::path(get, path = "/api/v1/accounts", operation_id = "list_accounts", tag = "accounts", params(PageParams),
    responses((status = 200, description = "A page of accounts", body = Page<AccountDto>), CommonErrors),
    security(("bearer" = [])))]
pub async fn list(
    State(s): State<AppState>,
    auth: Auth,
    Query(p): Query<PageParams>,
) -> ApiResult<axum::Json<Page<AccountDto>>> {
    // Staff only: refuse others before reading their query (403, not a 400 on a bad cursor).
    auth.actor.require_staff()?;
    let limit = page_limit(p.limit)?;
    let after = account_cursor(&p)?;
    let items = s
        .bank
        .money()
        .list_accounts(&auth.actor, after, limit)
        .await?;
    Ok(axum::Json(account_page(items, limit)))
}

/// One account.
#[utoipa::path(get, path = "/api/v1/accounts/{id}", operation_id = "get_account", tag = "accounts", params(("id" = Uuid, Path, description = "Account id")),
    responses((status = 200, description = "The account", body = AccountDto), CommonErrors),
    security(("bearer" = [])))]
pub async fn get(
    State(s): State<AppState>,
    auth: Auth,
    PathId(id): PathId<AccountId>,
) -> ApiResult<axum::Json<AccountDto>> {
    Ok(axum::Json(
        s.bank.money().account(&auth.actor, id).await?.into(),
    ))
}

/// The accounts of a user: the caller's own (`{userId}` = the caller's id); staff may list
/// any user's.
#[utoipa::path(get, path = "/api/v1/accounts/user/{user_id}", operation_id = "accounts_of_user", tag = "accounts", params(("user_id" = Uuid, Path, description = "User id"), PageParams),
    responses((status = 200, description = "The user's accounts", body = Page<AccountDto>), CommonErrors),
    security(("bearer" = [])))]
pub async fn of_user(
    State(s): State<AppState>,
    auth: Auth,
    PathId(user): PathId<UserId>,
    Query(p): Query<PageParams>,
) -> ApiResult<axum::Json<Page<AccountDto>>> {
    let customer = crate::identity::customer_of_user(&s, &auth, user).await?;
    customer_page(&s, &auth, customer, p).await
}

/// One page of a customer's accounts (id order; the cursor is the last id of a page).
async fn customer_page(
    s: &AppState,
    auth: &Auth,
    customer: CustomerId,
    p: PageParams,
) -> ApiResult<axum::Json<Page<AccountDto>>> {
    let limit = page_limit(p.limit)?;
    let after = account_cursor(&p)?;
    let items = s
        .bank
        .money()
        .accounts_of_customer_page(&auth.actor, customer, after, limit)
        .await?;
    Ok(axum::Json(account_page(items, limit)))
}

/// The accounts of a customer.
#[utoipa::path(get, path = "/api/v1/accounts/customer/{customer_id}", tag = "accounts", params(("customer_id" = Uuid, Path, description = "Customer id"), PageParams),
    responses((status = 200, description = "The customer's accounts", body = Page<AccountDto>), CommonErrors),
    security(("bearer" = [])))]
pub async fn of_customer(
    State(s): State<AppState>,
    auth: Auth,
    PathId(customer): PathId<CustomerId>,
    Query(p): Query<PageParams>,
) -> ApiResult<axum::Json<Page<AccountDto>>> {
    customer_page(&s, &auth, customer, p).await
}

/// The account a page's cursor points after.
fn account_cursor(p: &PageParams) -> ApiResult<Option<AccountId>> {
    Ok(match p.cursor.as_deref() {
        None | Some("") => None,
        Some(c) => Some(AccountId::parse(&decode_cursor(c)?)?),
    })
}

/// A page of accounts; a full page has a cursor to the next.
fn account_page(items: Vec<bankflow_core::Account>, limit: u32) -> Page<AccountDto> {
    let next_cursor = (items.len() as u32 == limit)
        .then(|| items.last().map(|a| encode_cursor(&a.id.to_string())))
        .flatten();
    Page {
        items: items.into_iter().map(AccountDto::from).collect(),
        next_cursor,
    }
}

/// Ledger and available balance.
#[utoipa::path(get, path = "/api/v1/accounts/{id}/balance", tag = "accounts", params(("id" = Uuid, Path, description = "Account id")),
    responses((status = 200, description = "Balance", body = BalanceDto), CommonErrors),
    security(("bearer" = [])))]
pub async fn balance(
    State(s): State<AppState>,
    auth: Auth,
    PathId(id): PathId<AccountId>,
) -> ApiResult<axum::Json<BalanceDto>> {
    Ok(axum::Json(
        s.bank.money().balance(&auth.actor, id).await?.into(),
    ))
}

/// A statement for `from..=to` as JSON, CSV or PDF.
#[utoipa::path(get, path = "/api/v1/accounts/{id}/statement", tag = "accounts",
    params(("id" = Uuid, Path, description = "Account id"), StatementParams),
    responses(
        (status = 200, description = "The statement", content(
            (StatementDto = "application/json"),
            (String = "text/csv"),
            (Vec<u8> = "application/pdf"),
        )),
        CommonErrors),
    security(("bearer" = [])))]
pub async fn statement(
    State(s): State<AppState>,
    auth: Auth,
    PathId(id): PathId<AccountId>,
    Query(p): Query<StatementParams>,
) -> ApiResult<Response> {
    let format = p.format.as_deref().unwrap_or("json");
    if !matches!(format, "json" | "csv" | "pdf") {
        return Err(ApiError::validation(
            "format",
            "format must be json, csv or pdf",
        ));
    }
    let st: StatementDto = s
        .bank
        .money()
        .statement(&auth.actor, id, p.from, p.to)
        .await?
        .into();
    let name = format!("statement-{}-{}-{}", st.account_number, st.from, st.to);
    Ok(match format {
        "csv" => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{name}.csv\""),
                ),
            ],
            statement_csv(&st),
        )
            .into_response(),
        "pdf" => (
            [
                (header::CONTENT_TYPE, "application/pdf".to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{name}.pdf\""),
                ),
            ],
            statement_pdf(&st),
        )
            .into_response(),
        _ => axum::Json(st).into_response(),
    })
}

/// Freezes an account (admin).
#[utoipa::path(post, path = "/api/v1/accounts/{id}/freeze", tag = "accounts", params(("id" = Uuid, Path, description = "Account id")),
    responses((status = 200, description = "The account, FROZEN", body = AccountDto), CommonErrors),
    security(("bearer" = [])))]
pub async fn freeze(
    State(s): State<AppState>,
    auth: Auth,
    PathId(id): PathId<AccountId>,
) -> ApiResult<axum::Json<AccountDto>> {
    let bank = s.bank.clone();
    Ok(axum::Json(
        detached(async move { bank.money().freeze_account(&auth.actor, id).await })
            .await?
            .into(),
    ))
}

/// Unfreezes an account (admin).
#[utoipa::path(post, path = "/api/v1/accounts/{id}/unfreeze", tag = "accounts", params(("id" = Uuid, Path, description = "Account id")),
    responses((status = 200, description = "The account, ACTIVE", body = AccountDto), CommonErrors),
    security(("bearer" = [])))]
pub async fn unfreeze(
    State(s): State<AppState>,
    auth: Auth,
    PathId(id): PathId<AccountId>,
) -> ApiResult<axum::Json<AccountDto>> {
    let bank = s.bank.clone();
    Ok(axum::Json(
        detached(async move { bank.money().unfreeze_account(&auth.actor, id).await })
            .await?
            .into(),
    ))
}

/// Sets overdraft and daily limits (admin).
#[utoipa::path(put, path = "/api/v1/accounts/{id}/limits", tag = "accounts", params(("id" = Uuid, Path, description = "Account id")),
    request_body = LimitsBody,
    responses((status = 200, description = "The account", body = AccountDto),
        (status = 202, description = "Parked for a second staff member (staff, a limit above the approval threshold)", body = crate::routes::approvals::ApprovalDto),
        CommonErrors),
    security(("bearer" = [])))]
pub async fn limits(
    State(s): State<AppState>,
    auth: Auth,
    PathId(id): PathId<AccountId>,
    Json(body): Json<LimitsBody>,
) -> ApiResult<Response> {
    let (overdraft, daily) = body.try_into_domain()?;
    let bank = s.bank.clone();
    let done = detached(async move {
        let money = bank.money();
        match money.set_limits(&auth.actor, id, overdraft, daily).await {
            Ok(a) => Ok(Ok(a)),
            // Parked for a second admin: answer with the request, as the money endpoints do.
            Err(bankflow_core::BankError::ApprovalRequired(p)) => {
                money.approval(&auth.actor, p).await.map(Err)
            }
            Err(e) => Err(e),
        }
    })
    .await?;
    Ok(match done {
        Ok(a) => axum::Json(AccountDto::from(a)).into_response(),
        Err(parked) => crate::routes::approvals::parked(parked),
    })
}

/// Closes an account (zero balance, no open holds).
#[utoipa::path(delete, path = "/api/v1/accounts/{id}", tag = "accounts", params(("id" = Uuid, Path, description = "Account id")),
    responses((status = 200, description = "The account, CLOSED", body = AccountDto), CommonErrors),
    security(("bearer" = [])))]
pub async fn close(
    State(s): State<AppState>,
    auth: Auth,
    PathId(id): PathId<AccountId>,
) -> ApiResult<axum::Json<AccountDto>> {
    let bank = s.bank.clone();
    Ok(axum::Json(
        detached(async move { bank.money().close_account(&auth.actor, id).await })
            .await?
            .into(),
    ))
}
