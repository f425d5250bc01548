//! `/api/v1/transactions`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use bankflow_core::{
    AccountId, BankError, BookingRequest, MoneyMove, Submitted, TransactionId, TransactionStatus,
    TransactionType, TransferRequest,
};

use crate::dto::{
    transaction_id_of, transaction_page, BatchBody, DepositBody, ExternalTransferBody,
    HistoryParams, Page, PaymentBody, PendingTransferBody, PostPendingBody, ReverseBody,
    TransactionDto, TransferBody,
};
use crate::error::ApiResult;
use crate::routes::{detached, CommonErrors};
use crate::schema::IdempotencyKeyHeader;
use crate::state::{AppState, Auth, Ctx, IdemKey, Json, PathId, Query};

/// 201 for money that moved, 202 for a transfer parked in review or reserved (pending).
fn created(t: bankflow_core::Transaction) -> Response {
    let status = match t.status {
        TransactionStatus::Review | TransactionStatus::Pending => StatusCode::ACCEPTED,
        _ => StatusCode::CREATED,
    };
    (status, axum::Json(TransactionDto::from(t))).into_response()
}

/// As [`created`], or 202 with the approval request when a staff movement above the
/// threshold waits for a second staff member.
fn submitted(s: Submitted) -> Response {
    match s {
        Submitted::Done(t) => created(t),
        Submitted::AwaitingApproval(a) => crate::routes::approvals::parked(a),
    }
}

/// Teller deposit of cash into an account (admin).
#[utoipa::path(post, path = "/api/v1/transactions/deposit", tag = "transactions", request_body = DepositBody,
    params(IdempotencyKeyHeader),
    responses((status = 201, description = "Deposited", body = TransactionDto),
        (status = 202, description = "Parked for a second staff member (staff, above the approval threshold)", body = crate::routes::approvals::ApprovalDto), CommonErrors),
    security(("bearer" = [])))]
pub async fn deposit(
    State(s): State<AppState>,
    auth: Auth,
    IdemKey(key): IdemKey,
    Json(body): Json<DepositBody>,
) -> ApiResult<Response> {
    let (account_id, amount, description) = body.try_into_domain()?;
    let req = BookingRequest {
        account_id,
        amount,
        description,
        idempotency_key: key,
    };
    let bank = s.bank.clone();
    Ok(submitted(
        detached(async move {
            let m = MoneyMove::Book(TransactionType::Deposit, req);
            bank.money().submit(&auth.actor, m).await
        })
        .await?,
    ))
}

/// Teller withdrawal of cash from an account (admin).
#[utoipa::path(post, path = "/api/v1/transactions/withdraw", tag = "transactions", request_body = DepositBody,
    params(IdempotencyKeyHeader),
    responses((status = 201, description = "Withdrawn", body = TransactionDto),
        (status = 202, description = "Parked for a second staff member (staff, above the approval threshold)", body = crate::routes::approvals::ApprovalDto), CommonErrors),
    security(("bearer" = [])))]
pub async fn withdraw(
    State(s): State<AppState>,
    auth: Auth,
    IdemKey(key): IdemKey,
    Json(body): Json<DepositBody>,
) -> ApiResult<Response> {
    let (account_id, amount, description) = body.try_into_domain()?;
    let req = BookingRequest {
        account_id,
        amount,
        description,
        idempotency_key: key,
    };
    let bank = s.bank.clone();
    Ok(submitted(
        detached(async move {
            let m = MoneyMove::Book(TransactionType::Withdrawal, req);
            bank.money().submit(&auth.actor, m).await
        })
        .await?,
    ))
}

/// Internal transfer: 201 COMPLETED, or 202 REVIEW when fraud rules hold it.
#[utoipa::path(post, path = "/api/v1/transactions/transfer", tag = "transactions", request_body = TransferBody,
    params(IdempotencyKeyHeader),
    responses(
        (status = 201, description = "Completed", body = TransactionDto),
        (status = 202, description = "Held for fraud review; for staff above the approval threshold, an ApprovalDto parked for a second staff member", body = TransactionDto),
        CommonErrors),
    security(("bearer" = [])))]
pub async fn transfer(
    State(s): State<AppState>,
    auth: Auth,
    IdemKey(key): IdemKey,
    Ctx(context): Ctx,
    Json(body): Json<TransferBody>,
) -> ApiResult<Response> {
    let req = TransferRequest {
        item: body.try_into_domain()?,
        idempotency_key: key,
        context,
    };
    let bank = s.bank.clone();
    Ok(submitted(
        detached(async move {
            let m = MoneyMove::Transfer(req);
            bank.money().submit(&auth.actor, m).await
        })
        .await?,
    ))
}

/// Two-phase transfer, phase one: reserves the funds (202 PENDING).
#[utoipa::path(post, path = "/api/v1/transactions/pending", tag = "transactions", request_body = PendingTransferBody,
    params(IdempotencyKeyHeader),
    responses((status = 202, description = "Reserved; for staff above the approval threshold, an ApprovalDto parked for a second staff member", body = TransactionDto), CommonErrors),
    security(("bearer" = [])))]
pub async fn pending(
    State(s): State<AppState>,
    auth: Auth,
    IdemKey(key): IdemKey,
    Ctx(context): Ctx,
    Json(body): Json<PendingTransferBody>,
) -> ApiResult<Response> {
    let req = TransferRequest {
        item: body.transfer.try_into_domain()?,
        idempotency_key: key,
        context,
    };
    let bank = s.bank.clone();
    let expires_at = body.expires_at;
    Ok(submitted(
        detached(async move {
            let m = MoneyMove::Pending { req, expires_at };
            bank.money().submit(&auth.actor, m).await
        })
        .await?,
    ))
}

/// Two-phase transfer, phase two: posts the reserved funds (all or less).
#[utoipa::path(post, path = "/api/v1/transactions/{id}/post", tag = "transactions", request_body = PostPendingBody,
    params(("id" = Uuid, Path, description = "Pending transaction id"),
        IdempotencyKeyHeader),
    responses((status = 200, description = "Posted", body = TransactionDto), CommonErrors),
    security(("bearer" = [])))]
pub async fn post_pending(
    State(s): State<AppState>,
    auth: Auth,
    PathId(id): PathId<TransactionId>,
    IdemKey(key): IdemKey,
    Json(body): Json<PostPendingBody>,
) -> ApiResult<axum::Json<TransactionDto>> {
    let amount = body.try_into_domain()?;
    let bank = s.bank.clone();
    Ok(axum::Json(
        detached(async move {
            bank.money()
                .post_pending(&auth.actor, id, amount, key)
                .await
        })
        .await?
        .into(),
    ))
}

/// Two-phase transfer, phase two: voids the reservation.
#[utoipa::path(post, path = "/api/v1/transactions/{id}/void", tag = "transactions",
    params(("id" = Uuid, Path, description = "Pending transaction id"),
        IdempotencyKeyHeader),
    responses((status = 200, description = "Voided", body = TransactionDto), CommonErrors),
    security(("bearer" = [])))]
pub async fn void_pending(
    State(s): State<AppState>,
    auth: Auth,
    PathId(id): PathId<TransactionId>,
    IdemKey(key): IdemKey,
) -> ApiResult<axum::Json<TransactionDto>> {
    let bank = s.bank.clone();
    Ok(axum::Json(
        detached(async move { bank.money().void_pending(&auth.actor, id, key).await })
            .await?
            .into(),
    ))
}

/// A linked batch of transfers: every one succeeds or none does.
#[utoipa::path(post, path = "/api/v1/transactions/batch", tag = "transactions", request_body = BatchBody,
    params(IdempotencyKeyHeader),
    responses((status = 201, description = "All transfers", body = Page<TransactionDto>), CommonErrors),
    security(("bearer" = [])))]
pub async fn batch(
    State(s): State<AppState>,
    auth: Auth,
    IdemKey(key): IdemKey,
    Ctx(context): Ctx,
    Json(body): Json<BatchBody>,
) -> ApiResult<Response> {
    let items = body.try_into_domain()?;
    let bank = s.bank.clone();
    let txns = detached(async move {
        bank.money()
            .transfer_batch(&auth.actor, items, key, context)
            .await
    })
    .await?;
    let page = Page {
        items: txns.into_iter().map(TransactionDto::from).collect(),
        next_cursor: None,
    };
    Ok((StatusCode::CREATED, axum::Json(page)).into_response())
}

/// A payment to a payee outside the bank.
#[utoipa::path(post, path = "/api/v1/transactions/payment", tag = "transactions", request_body = PaymentBody,
    params(IdempotencyKeyHeader),
    responses((status = 201, description = "Paid", body = TransactionDto),
        (status = 202, description = "Held for fraud review; for staff above the approval threshold, an ApprovalDto parked for a second staff member", body = TransactionDto), CommonErrors),
    security(("bearer" = [])))]
pub async fn payment(
    State(s): State<AppState>,
    auth: Auth,
    IdemKey(key): IdemKey,
    Ctx(context): Ctx,
    Json(body): Json<PaymentBody>,
) -> ApiResult<Response> {
    let req = TransferRequest {
        item: body.try_into_domain()?,
        idempotency_key: key,
        context,
    };
    let bank = s.bank.clone();
    Ok(submitted(
        detached(async move {
            let m = MoneyMove::Transfer(req);
            bank.money().submit(&auth.actor, m).await
        })
        .await?,
    ))
}

/// An ACH transfer or a wire out of the bank, from the caller's account, through the same
/// pipeline as transfers (limits, fraud with the beneficiary account as counterparty).
#[utoipa::path(post, path = "/api/v1/transactions/external", tag = "transactions", request_body = ExternalTransferBody,
    params(IdempotencyKeyHeader),
    responses((status = 201, description = "Sent", body = TransactionDto),
        (status = 202, description = "Held for fraud review; for staff above the approval threshold, an ApprovalDto parked for a second staff member", body = TransactionDto), CommonErrors),
    security(("bearer" = [])))]
pub async fn external(
    State(s): State<AppState>,
    auth: Auth,
    IdemKey(key): IdemKey,
    Ctx(context): Ctx,
    Json(body): Json<ExternalTransferBody>,
) -> ApiResult<Response> {
    let req = TransferRequest {
        item: body.try_into_domain()?,
        idempotency_key: key,
        context,
    };
    let bank = s.bank.clone();
    Ok(submitted(
        detached(async move {
            let m = MoneyMove::Transfer(req);
            bank.money().submit(&auth.actor, m).await
        })
        .await?,
    ))
}

/// One transaction (as sender or receiver).
#[utoipa::path(get, path = "/api/v1/transactions/{id}", operation_id = "get_transaction", tag = "transactions", params(("id" = Uuid, Path, description = "Transaction id")),
    responses((status = 200, description = "The transaction", body = TransactionDto), CommonErrors),
    security(("bearer" = [])))]
pub async fn get(
    State(s): State<AppState>,
    auth: Auth,
    PathId(id): PathId<TransactionId>,
) -> ApiResult<axum::Json<TransactionDto>> {
    Ok(axum::Json(
        s.bank.money().transaction(&auth.actor, id).await?.into(),
    ))
}

/// One account's transactions, newest first, filtered and paged.
#[utoipa::path(get, path = "/api/v1/transactions/account/{account_id}", tag = "transactions",
    params(("account_id" = Uuid, Path, description = "Account id"), HistoryParams),
    responses((status = 200, description = "A page of transactions", body = Page<TransactionDto>), CommonErrors),
    security(("bearer" = [])))]
pub async fn of_account(
    State(s): State<AppState>,
    auth: Auth,
    PathId(account): PathId<AccountId>,
    Query(p): Query<HistoryParams>,
) -> ApiResult<axum::Json<Page<TransactionDto>>> {
    let q = p.try_into_domain(Some(account))?;
    let items = s.bank.money().history(&auth.actor, &q).await?;
    Ok(axum::Json(transaction_page(items, q.limit)))
}

/// Searches transactions: staff across the bank; customers within one of their accounts
/// (`account_id` required).
#[utoipa::path(get, path = "/api/v1/transactions/search", operation_id = "search_transactions", tag = "transactions", params(HistoryParams),
    responses((status = 200, description = "A page of transactions", body = Page<TransactionDto>), CommonErrors),
    security(("bearer" = [])))]
pub async fn search(
    State(s): State<AppState>,
    auth: Auth,
    Query(p): Query<HistoryParams>,
) -> ApiResult<axum::Json<Page<TransactionDto>>> {
    let text = p.q.clone().filter(|t| !t.trim().is_empty());
    let q = p.try_into_domain(None)?;
    let items = match text {
        // A reference names at most one transaction; the other filters still apply.
        Some(t) => {
            let id = transaction_id_of(&t)?;
            q.validate()?;
            match s.bank.money().transaction(&auth.actor, id).await {
                Ok(txn) if q.matches(&txn) => vec![txn],
                Ok(_) | Err(BankError::NotFound { .. }) => Vec::new(),
                Err(e) => return Err(e.into()),
            }
        }
        None => s.bank.money().history(&auth.actor, &q).await?,
    };
    Ok(axum::Json(transaction_page(items, q.limit)))
}

/// Reverses a completed transaction (admin); a second reversal is 409 `already_reversed`.
#[utoipa::path(post, path = "/api/v1/transactions/{id}/reverse", tag = "transactions", request_body = ReverseBody,
    params(("id" = Uuid, Path, description = "Transaction id"),
        IdempotencyKeyHeader),
    responses((status = 200, description = "The original, now REVERSED", body = TransactionDto),
        (status = 202, description = "Parked for a second staff member (staff, above the approval threshold)", body = crate::routes::approvals::ApprovalDto), CommonErrors),
    security(("bearer" = [])))]
pub async fn reverse(
    State(s): State<AppState>,
    auth: Auth,
    PathId(id): PathId<TransactionId>,
    IdemKey(key): IdemKey,
    Json(body): Json<ReverseBody>,
) -> ApiResult<Response> {
    let bank = s.bank.clone();
    let done = detached(async move {
        let m = MoneyMove::Reverse {
            id,
            reason: body.reason,
            key,
        };
        bank.money().submit(&auth.actor, m).await
    })
    .await?;
    Ok(match done {
        Submitted::Done(t) => axum::Json(TransactionDto::from(t)).into_response(),
        Submitted::AwaitingApproval(a) => crate::routes::approvals::parked(a),
    })
}
