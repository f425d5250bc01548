//! Operational endpoints: liveness, readiness, metrics, the OpenAPI document.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use bankflow_core::TxMode;

use crate::dto::HealthDto;
use crate::state::AppState;

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "system", responses((status = 200, description = "Alive", body = HealthDto)))]
pub async fn healthz() -> axum::Json<HealthDto> {
    axum::Json(HealthDto {
        status: "ok".into(),
    })
}

/// Readiness: the store answers a read transaction.
#[utoipa::path(get, path = "/readyz", tag = "system", responses(
    (status = 200, description = "Ready", body = HealthDto),
    (status = 503, description = "Store unreachable", body = HealthDto)))]
pub async fn readyz(State(s): State<AppState>) -> impl IntoResponse {
    let ok = match tokio::time::timeout(
        std::time::Duration::from_secs(2),
        s.bank.store().begin(TxMode::Read),
    )
    .await
    {
        Ok(Ok(uow)) => {
            let _ = uow.rollback().await;
            true
        }
        _ => false,
    };
    let (code, status) = if ok {
        (StatusCode::OK, "ok")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "unavailable")
    };
    (
        code,
        axum::Json(HealthDto {
            status: status.into(),
        }),
    )
}

/// Prometheus metrics.
#[utoipa::path(get, path = "/metrics", tag = "system", responses((status = 200, description = "Prometheus text format", body = String, content_type = "text/plain")))]
pub async fn metrics(State(s): State<AppState>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        s.metrics.render(),
    )
}
