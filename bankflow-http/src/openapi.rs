//! The OpenAPI 3.1 document, generated from the handlers' and DTOs' annotations.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::dto;
use crate::error::Problem;
use crate::routes::{
    accounts, admin, auth, customers, fraud, notifications, scheduled, system, transactions,
};

/// Adds the bearer-JWT security scheme.
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// The API description.
#[derive(OpenApi)]
#[openapi(
    info(title = "BankFlow API", version = "1", description = "BankFlow's REST API. Amounts are decimal strings with an ISO 4217 `currency`; errors are `application/problem+json` with a stable `code`; money-moving POSTs take an `Idempotency-Key` header."),
    modifiers(&BearerAuth),
    paths(
        auth::register, auth::login, auth::refresh, auth::logout, auth::me, auth::forgot, auth::reset, auth::verify,
        auth::resend, auth::mfa_setup, auth::mfa_enable, auth::mfa_disable, auth::sessions, auth::revoke_session,
        customers::create, customers::search, customers::get, customers::update, customers::upload, customers::documents,
        customers::document_content, customers::submit_kyc, customers::kyc_status, customers::approve_kyc,
        customers::reject_kyc, customers::kyc_queue,
        admin::overview, admin::audit, admin::verify_audit, admin::set_roles,
        notifications::mine, notifications::of_user, notifications::read, notifications::preferences,
        notifications::set_preferences, notifications::templates, notifications::stream, notifications::send_email,
        notifications::send_sms, notifications::send_push, notifications::send_in_app,
        system::healthz, system::readyz, system::metrics,
        accounts::open, accounts::list, accounts::get, accounts::of_user, accounts::of_customer, accounts::balance,
        accounts::statement, accounts::freeze, accounts::unfreeze, accounts::limits, accounts::close,
        transactions::deposit, transactions::withdraw, transactions::transfer, transactions::pending,
        transactions::post_pending, transactions::void_pending, transactions::batch, transactions::payment, transactions::external,
        scheduled::create, scheduled::list, scheduled::get, scheduled::cancel,
        transactions::get, transactions::of_account, transactions::search, transactions::reverse,
        fraud::analyze, fraud::score, fraud::create_rule, fraud::list_rules, fraud::update_rule, fraud::install_defaults,
        fraud::add_whitelist, fraud::add_blacklist, fraud::whitelist, fraud::blacklist, fraud::remove_entry,
        fraud::cases, fraud::case, fraud::resolve,
    ),
    components(schemas(
        Problem, dto::AccountDto, dto::BalanceDto, dto::TransactionDto, dto::StatementDto, dto::StatementLineDto,
        dto::OpenAccountBody, dto::LimitsBody, dto::DepositBody, dto::TransferBody, dto::PendingTransferBody,
        dto::PostPendingBody, dto::BatchBody, dto::PaymentBody, dto::ExternalTransferBody, dto::RailDto, scheduled::ScheduleBody, scheduled::ScheduleDto, dto::ReverseBody, dto::HealthDto,
    )),
    tags(
        (name = "auth", description = "Registration, login, tokens, MFA"),
        (name = "customers", description = "Customer profiles, documents and KYC"),
        (name = "accounts", description = "Accounts, balances, statements"),
        (name = "transactions", description = "Deposits, transfers, payments, reversals, history"),
        (name = "admin", description = "KYC decisions, audit log, roles"),
        (name = "notifications", description = "Notification history, preferences, live stream"),
        (name = "fraud", description = "Fraud rules, lists, cases and scores"),
        (name = "system", description = "Health, readiness, metrics"),
    )
)]
pub struct ApiDoc;
