//! The OpenAPI 3.1 document, generated from the handlers' and DTOs' annotations.

use serde_json::{json, Map, Value};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::dto;
use crate::error::Problem;
use crate::routes::{
    accounts, admin, approvals, auth, customers, devices, fraud, notifications, oauth, scheduled,
    system, transactions, webhooks,
};
use crate::schema;

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
        auth::resend, auth::mfa_setup, auth::mfa_enable, auth::mfa_disable, auth::mfa_recovery_codes, auth::sessions, auth::revoke_session,
        customers::create, customers::search, customers::get, customers::update, customers::upload, customers::documents,
        customers::document_content, customers::submit_kyc, customers::kyc_status, customers::approve_kyc,
        customers::reject_kyc, customers::kyc_queue,
        admin::overview, admin::audit, admin::verify_audit, admin::set_roles, admin::deactivate_user, admin::reactivate_user,
        oauth::token, oauth::create, oauth::list, oauth::get, oauth::rotate, oauth::deactivate, oauth::reactivate,
        approvals::list, approvals::get, approvals::approve, approvals::reject,
        webhooks::create, webhooks::list, webhooks::get, webhooks::update, webhooks::remove, webhooks::rotate,
        webhooks::deliveries, webhooks::redeliver,
        notifications::mine, notifications::of_user, notifications::read, notifications::preferences,
        notifications::set_preferences, notifications::templates, notifications::stream, notifications::stream_ticket, notifications::send_email,
        notifications::send_sms, notifications::send_push, notifications::send_in_app,
        devices::register_device, devices::devices, devices::unregister_device,
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
        approvals::ApprovalDto, approvals::RejectBody,
        // Schemas only query parameters use (bodies' schemas are collected from the DTOs).
        schema::PageLimit, schema::Cursor, schema::DayOrInstant, schema::TransactionTypeName,
        schema::TransactionStatusName, schema::AmountFilter, schema::TransactionRef,
        schema::StatementFormat, schema::CustomerQuery, schema::SearchName, schema::EmailAddress,
        schema::PhoneNumber, schema::KycStatusName, schema::CaseStatusName,
    )),
    tags(
        (name = "auth", description = "Registration, login, tokens, MFA"),
        (name = "customers", description = "Customer profiles, documents and KYC"),
        (name = "accounts", description = "Accounts, balances, statements"),
        (name = "transactions", description = "Deposits, transfers, payments, reversals, history"),
        (name = "admin", description = "KYC decisions, audit log, roles, webhooks"),
        (name = "notifications", description = "Notification history, preferences, live stream"),
        (name = "fraud", description = "Fraud rules, lists, cases and scores"),
        (name = "system", description = "Health, readiness, metrics"),
    )
)]
pub struct ApiDoc;

/// One OpenAPI link: a response value feeds a parameter of another operation, so clients and
/// stateful fuzzers can follow a created resource to the operations that take its id.
struct LinkSpec {
    /// Link name.
    name: &'static str,
    /// Target `operationId`.
    target: &'static str,
    /// Target parameter name and its value: a runtime expression or a constant.
    parameters: &'static [(&'static str, &'static str)],
}

const fn link(
    name: &'static str,
    target: &'static str,
    parameters: &'static [(&'static str, &'static str)],
) -> LinkSpec {
    LinkSpec {
        name,
        target,
        parameters,
    }
}

const BODY_ID: &str = "$response.body#/id";
const FIRST_ITEM_ID: &str = "$response.body#/items/0/id";

/// From an account to everything that takes its id. A statement also needs a range: one
/// covering any account opened this century is given.
const ACCOUNT_LINKS: &[LinkSpec] = &[
    link("GetAccount", "get_account", &[("id", BODY_ID)]),
    link("GetBalance", "balance", &[("id", BODY_ID)]),
    link(
        "GetStatement",
        "statement",
        &[
            ("id", BODY_ID),
            ("from", "2000-01-01"),
            ("to", "2099-12-31"),
        ],
    ),
    link("GetHistory", "of_account", &[("account_id", BODY_ID)]),
    link(
        "SearchTransactions",
        "search_transactions",
        &[("account_id", BODY_ID)],
    ),
    link("FreezeAccount", "freeze", &[("id", BODY_ID)]),
    link("UnfreezeAccount", "unfreeze", &[("id", BODY_ID)]),
    link("SetLimits", "limits", &[("id", BODY_ID)]),
    link("CloseAccount", "close", &[("id", BODY_ID)]),
];

/// From a customer profile to everything that takes its id, and to its default account.
const CUSTOMER_LINKS: &[LinkSpec] = &[
    link("GetCustomer", "get_customer", &[("id", BODY_ID)]),
    link("UpdateCustomer", "update", &[("id", BODY_ID)]),
    link("UploadDocument", "upload", &[("id", BODY_ID)]),
    link("ListDocuments", "documents", &[("id", BODY_ID)]),
    link("SubmitKyc", "submit_kyc", &[("id", BODY_ID)]),
    link("GetKycStatus", "kyc_status", &[("id", BODY_ID)]),
    link("ApproveKyc", "approve_kyc", &[("id", BODY_ID)]),
    link("RejectKyc", "reject_kyc", &[("id", BODY_ID)]),
    link("ListAccounts", "of_customer", &[("customer_id", BODY_ID)]),
    link(
        "ListScheduledTransfers",
        "list_scheduled_transfers",
        &[("customer_id", BODY_ID)],
    ),
    link(
        "GetDefaultAccount",
        "get_account",
        &[("id", "$response.body#/default_account_id")],
    ),
];

/// From a transaction to everything that takes its id.
const TRANSACTION_LINKS: &[LinkSpec] = &[
    link("GetTransaction", "get_transaction", &[("id", BODY_ID)]),
    link("PostPending", "post_pending", &[("id", BODY_ID)]),
    link("VoidPending", "void_pending", &[("id", BODY_ID)]),
    link("ReverseTransaction", "reverse", &[("id", BODY_ID)]),
    link("GetFraudScore", "score", &[("txn_id", BODY_ID)]),
];

/// From a scheduled transfer to its reads and its cancellation.
const SCHEDULE_LINKS: &[LinkSpec] = &[
    link(
        "GetScheduledTransfer",
        "get_scheduled_transfer",
        &[("id", BODY_ID)],
    ),
    link("CancelScheduledTransfer", "cancel", &[("id", BODY_ID)]),
];

/// From a user to what is addressed by user id.
const USER_LINKS: &[LinkSpec] = &[
    link("ListAccounts", "accounts_of_user", &[("user_id", BODY_ID)]),
    link(
        "ListNotifications",
        "notifications_of_user",
        &[("user_id", BODY_ID)],
    ),
    link("SetRoles", "set_roles", &[("id", BODY_ID)]),
    link("DeactivateUser", "deactivate_user", &[("id", BODY_ID)]),
    link("ReactivateUser", "reactivate_user", &[("id", BODY_ID)]),
];

/// From a created webhook (its id is under `webhook`) to everything that takes the id.
const WEBHOOK_LINKS: &[LinkSpec] = &[
    link("GetWebhook", "get_webhook", &[("id", WEBHOOK_ID)]),
    link("UpdateWebhook", "update_webhook", &[("id", WEBHOOK_ID)]),
    link(
        "RotateWebhookSecret",
        "rotate_webhook_secret",
        &[("id", WEBHOOK_ID)],
    ),
    link(
        "ListWebhookDeliveries",
        "list_webhook_deliveries",
        &[("id", WEBHOOK_ID)],
    ),
    link("DeleteWebhook", "delete_webhook", &[("id", WEBHOOK_ID)]),
];
const WEBHOOK_ID: &str = "$response.body#/webhook/id";

/// Which operations' success responses carry which links.
const LINKS: &[(&[&str], &[LinkSpec])] = &[
    (&["open"], ACCOUNT_LINKS),
    (&["create_customer"], CUSTOMER_LINKS),
    (
        &[
            "deposit", "withdraw", "transfer", "pending", "payment", "external",
        ],
        TRANSACTION_LINKS,
    ),
    (&["create_scheduled_transfer"], SCHEDULE_LINKS),
    (&["create_webhook"], WEBHOOK_LINKS),
    (&["register", "me"], USER_LINKS),
    (
        &["me"],
        &[link(
            "GetCustomer",
            "get_customer",
            &[("id", "$response.body#/customer_id")],
        )],
    ),
    (
        &["sessions"],
        &[link(
            "RevokeSession",
            "revoke_session",
            &[("id", FIRST_ITEM_ID)],
        )],
    ),
    (
        &["upload"],
        &[link(
            "GetDocumentContent",
            "document_content",
            &[("id", "$request.path.id"), ("doc_id", BODY_ID)],
        )],
    ),
    (
        &["create_rule"],
        &[link("UpdateRule", "update_rule", &[("id", BODY_ID)])],
    ),
    (
        &["add_whitelist", "add_blacklist"],
        &[link("RemoveEntry", "remove_entry", &[("id", BODY_ID)])],
    ),
    (
        &["send_email", "send_sms", "send_push", "send_in_app"],
        &[link("MarkRead", "read", &[("id", BODY_ID)])],
    ),
    (
        &["mine"],
        &[link("MarkRead", "read", &[("id", FIRST_ITEM_ID)])],
    ),
    (
        &["register_device"],
        &[link(
            "UnregisterDevice",
            "unregister_device",
            &[("id", BODY_ID)],
        )],
    ),
    (
        &["cases"],
        &[
            link("GetCase", "case", &[("id", FIRST_ITEM_ID)]),
            link("ResolveCase", "resolve", &[("id", FIRST_ITEM_ID)]),
        ],
    ),
];

/// The served document: [`ApiDoc`] with [`LINKS`] added to the 2xx responses of their source
/// operations.
///
/// Links are added to the rendered JSON rather than through utoipa because utoipa 5.5's
/// `Link` serialises its fields in snake_case (`operation_id`, `request_body`), which is not
/// an OpenAPI Link Object; and one table rather than `links(...)` in each `#[utoipa::path]`
/// because the same link sets hang off many responses.
pub fn document() -> Value {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).expect("the OpenAPI document is JSON");
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return doc;
    };
    for op in paths
        .values_mut()
        .filter_map(Value::as_object_mut)
        .flat_map(|item| item.values_mut())
    {
        let Some(id) = op.get("operationId").and_then(Value::as_str) else {
            continue;
        };
        let links: Map<String, Value> = LINKS
            .iter()
            .filter(|(sources, _)| sources.contains(&id))
            .flat_map(|(_, specs)| specs.iter())
            .map(|spec| {
                let parameters: Map<String, Value> = spec
                    .parameters
                    .iter()
                    .map(|(k, v)| (k.to_string(), json!(v)))
                    .collect();
                (
                    spec.name.to_string(),
                    json!({"operationId": spec.target, "parameters": parameters}),
                )
            })
            .collect();
        if links.is_empty() {
            continue;
        }
        let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else {
            continue;
        };
        for (_, response) in responses.iter_mut().filter(|(s, _)| s.starts_with('2')) {
            if let Some(response) = response.as_object_mut() {
                response.insert("links".into(), Value::Object(links.clone()));
            }
        }
    }
    doc
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use super::*;

    fn doc() -> Value {
        document()
    }

    fn operations(doc: &Value) -> BTreeMap<String, Value> {
        let mut ops = BTreeMap::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                let id = op["operationId"].as_str().unwrap().to_string();
                let previous = ops.insert(id.clone(), op.clone());
                assert!(
                    previous.is_none(),
                    "operationId {id} repeats ({method} {path})"
                );
            }
        }
        ops
    }

    #[test]
    fn every_link_source_and_target_exists_with_its_parameters() {
        let doc = doc();
        let ops = operations(&doc);
        for (sources, specs) in LINKS {
            for source in *sources {
                assert!(ops.contains_key(*source), "no operation {source}");
                for spec in *specs {
                    let target = ops
                        .get(spec.target)
                        .unwrap_or_else(|| panic!("no operation {}", spec.target));
                    let names: BTreeSet<&str> = target["parameters"]
                        .as_array()
                        .map(|ps| ps.iter().filter_map(|p| p["name"].as_str()).collect())
                        .unwrap_or_default();
                    for (param, _) in spec.parameters {
                        assert!(
                            names.contains(param),
                            "{} has no parameter {param}",
                            spec.target
                        );
                    }
                }
            }
        }
        let open = &ops["open"]["responses"]["201"]["links"]["GetAccount"];
        assert_eq!(open["operationId"], "get_account");
        assert_eq!(open["parameters"]["id"], BODY_ID);
    }

    #[test]
    fn every_schema_reference_resolves() {
        fn walk(v: &Value, schemas: &serde_json::Map<String, Value>) {
            match v {
                Value::Object(m) => {
                    if let Some(Value::String(r)) = m.get("$ref") {
                        let name = r.trim_start_matches("#/components/schemas/");
                        assert!(schemas.contains_key(name), "dangling {r}");
                    }
                    m.values().for_each(|x| walk(x, schemas));
                }
                Value::Array(a) => a.iter().for_each(|x| walk(x, schemas)),
                _ => {}
            }
        }
        let doc = doc();
        walk(&doc, doc["components"]["schemas"].as_object().unwrap());
    }

    #[test]
    fn documented_limits_are_the_engines() {
        let doc = doc();
        let s = &doc["components"]["schemas"];
        assert_eq!(
            s["BatchBody"]["properties"]["transfers"]["maxItems"],
            bankflow_core::BATCH_LEN_MAX
        );
        assert_eq!(
            s["Description"]["maxLength"],
            bankflow_core::DESCRIPTION_LEN_MAX
        );
        assert_eq!(s["PageLimit"]["maximum"], dto::PAGE_LIMIT_MAX);
        let currencies = s["CurrencyCode"]["enum"].as_array().unwrap();
        assert_eq!(currencies.len(), bankflow_core::Currency::all().count());
    }
}
