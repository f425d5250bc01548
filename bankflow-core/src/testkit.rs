//! Test kit shared by every store (cargo feature `testkit`): ONE conformance suite that the
//! memory, SQLite and PostgreSQL stores all run, the property model, and the concurrency
//! hammer used by the SQL stores' proofs. Same code for every store, never copies.
//!
//! A store crate runs the suite with one line, `bankflow_core::conformance_tests!(factory)`,
//! which expands to one `#[tokio::test]` per case (a failure names its case and hides no
//! other; `cargo test <case>` runs one). The case list lives only in that macro. The
//! identity, customer, fraud, notification and audit engine cases run the same way through
//! `bankflow_core::engine_context_tests!(factory)`.

use std::sync::Arc;

use async_trait::async_trait;

use crate::ports::Store;

mod approvals;
mod at_rest;
mod clients;
mod ctx_fixtures;
mod ctx_identity;
mod ctx_other;
mod devices;
mod engine;
mod engine_audit;
mod engine_audit_anchor;
mod engine_ctx;
mod engine_customer;
mod engine_enumeration;
mod engine_fraud;
mod engine_identity;
mod engine_identity_hardening;
mod engine_notify;
mod fixtures;
mod hammer;
mod key_rotation;
mod limits;
mod model;
mod model_ops;
mod repos;
mod retention;
mod schedules;
mod security;
mod staff_controls;
mod store_proofs;
mod tamper;
mod webhooks;

pub use at_rest::{raw_dump, register_raw_dump, RawDump};
pub use ctx_fixtures::notification;
pub use engine::test_bank;
pub use engine_ctx::{bank_on, bank_with, profile, refusal_code, Ctx, WithAdmin, PW};
pub use hammer::{hammer, HammerReport};
pub use model_ops::run_model;
pub use store_proofs::{documents_read_across_versions, open_funded_accounts, RawNotificationDocs};
pub use tamper::{register_audit_tamper, AuditTamper, AuditTamperFn};

/// Makes a fresh, empty store for one test case.
#[async_trait]
pub trait StoreFactory: Send + Sync {
    /// A new empty store (its own database or schema).
    async fn fresh(&self) -> Arc<dyn Store>;
}

/// Every conformance case, as `async fn case(store: Arc<dyn Store>)`: what
/// [`conformance_tests!`](crate::conformance_tests) calls.
pub mod cases {
    pub use super::ctx_identity::*;
    pub use super::ctx_other::*;
    pub use super::devices::*;
    pub use super::engine::{
        engine_external_payments, engine_idempotency, engine_money_movements,
        engine_pending_and_expiry, engine_reversal_and_batch, engine_statement_and_history,
        engine_submitted_transfers,
    };
    pub use super::limits::*;
    pub use super::repos::*;
    pub use super::retention::*;
    pub use super::schedules::{engine_scheduled_transfers, schedules_round_trip_and_claims};
    pub use super::webhooks::*;
}

/// Every engine case of the identity, customer, fraud, notification and audit contexts, as
/// `async fn case(store: Arc<dyn Store>)`: what
/// [`engine_context_tests!`](crate::engine_context_tests) calls.
pub mod engine_cases {
    pub use super::approvals::*;
    pub use super::clients::*;
    pub use super::engine_audit::*;
    pub use super::engine_audit_anchor::*;
    pub use super::engine_customer::*;
    pub use super::engine_enumeration::*;
    pub use super::engine_fraud::*;
    pub use super::engine_identity::*;
    pub use super::engine_identity_hardening::*;
    pub use super::engine_notify::*;
    pub use super::key_rotation::*;
    pub use super::security::*;
    pub use super::staff_controls::*;
    pub use super::webhooks::webhook_secrets_are_sealed_in_the_raw_store;
}

/// One `#[tokio::test]` per conformance case, each on a fresh store from `$factory` (an
/// expression of a type implementing [`StoreFactory`], evaluated once per test and dropped
/// when the test ends, so a factory that owns databases or directories cleans them up).
/// The calling crate needs `tokio` with the `macros` and `rt-multi-thread` features.
#[macro_export]
macro_rules! conformance_tests {
    ($factory:expr) => {
        $crate::conformance_tests!(@cases $factory;
            // ledger, transactions and their repositories
            accounts_round_trip,
            account_numbers_unique,
            lock_accounts_in_order,
            accounts_paging,
            holds_round_trip,
            journals_and_postings,
            transactions_round_trip_and_query,
            idempotency_records,
            events_append_and_read,
            outbox_claims_in_aggregate_order,
            outbox_oldest_unpublished_counts_leased_events,
            rollback_discards_everything,
            savepoints_nest,
            // the money context through the engine
            engine_money_movements,
            engine_pending_and_expiry,
            engine_reversal_and_batch,
            engine_idempotency,
            engine_submitted_transfers,
            engine_statement_and_history,
            engine_external_payments,
            schedules_round_trip_and_claims,
            engine_scheduled_transfers,
            // the other contexts' repositories
            users_unique_and_lookups,
            sessions_rotation_queries,
            one_time_codes,
            customers_and_documents,
            customer_search,
            fraud_rules_and_lists,
            fraud_assessments_and_cases,
            notifications_feed_and_retries,
            audit_chain_storage,
            context_writes_roll_back,
            // the engine's bounds
            group_commit_flood_is_answered,
            balance_overflow_is_refused,
            // bounded lists and retention
            lists_honour_their_limit,
            purge_published_events_only,
            purge_idempotency_before_cutoff,
            purge_notifications_no_longer_pending,
            webhook_delivery_retention_keeps_pending,
            // outgoing webhooks
            webhook_deliveries_unique_paged_and_leased,
            webhook_management_is_validated_admin_only_and_audited,
            webhooks_deliver_filtered_signed_and_retry,
            webhook_rotation_signs_with_both_secrets_during_the_overlap,
            // push devices
            push_devices_round_trip_unique_and_ordered,
            device_registry_validates_caps_moves_and_hides_others,
            push_fans_out_per_device_and_drops_gone_tokens,
        );
    };
    (@cases $factory:expr; $($case:ident),+ $(,)?) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let factory = $factory;
                let store = $crate::testkit::StoreFactory::fresh(&factory).await;
                $crate::testkit::cases::$case(store).await;
            }
        )+
    };
}

/// The property model (`testkit/model_ops.rs`) as one `#[tokio::test]` named
/// `engine_matches_reference_model`: `$cases` cases of `$ops` operations, each case on a
/// fresh store from `$factory`. Asserts at least 10,000 operations ran (unless
/// `BANKFLOW_MODEL_SEED` picks one case to reproduce).
#[macro_export]
macro_rules! model_test {
    ($factory:expr, $cases:expr, $ops:expr) => {
        #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn engine_matches_reference_model() {
            let factory = $factory;
            let repro = concat!(
                "cargo test -p ",
                env!("CARGO_PKG_NAME"),
                " --test ",
                env!("CARGO_CRATE_NAME"),
                " engine_matches_reference_model"
            );
            let started = ::std::time::Instant::now();
            let ops = $crate::testkit::run_model(&factory, $cases, $ops, repro).await;
            println!("model: {ops} operations in {:?}", started.elapsed());
            if ::std::env::var("BANKFLOW_MODEL_SEED").is_err() {
                assert!(ops >= 10_000, "only {ops} operations ran");
            }
        }
    };
}

/// One `#[tokio::test]` per engine case of the identity, customer, fraud, notification and
/// audit contexts ([`engine_cases`]), each on a fresh store from `$factory`, like
/// [`conformance_tests!`](crate::conformance_tests).
#[macro_export]
macro_rules! engine_context_tests {
    ($factory:expr) => {
        $crate::engine_context_tests!(@cases $factory;
            // identity
            register_normalises_and_enforces_uniqueness_and_policy,
            verification_codes_are_single_use_and_expire,
            login_errors_are_generic_and_lockout_lasts_lockout_minutes,
            totp_mfa_setup_enable_login_replay_and_disable,
            refresh_rotates_and_reuse_revokes_the_family,
            logout_and_session_revocation,
            forgot_and_reset_password,
            admin_bootstrap_roles_and_claims,
            no_plaintext_password_in_stored_state,
            racing_refreshes_of_one_token_cannot_both_win,
            finding_7_data_key_rotation_reseals_every_sealed_value,
            finding_9_lockout_lasts_thirty_minutes,
            finding_9_idle_refresh_token_ends_the_session,
            finding_9_mfa_changes_need_the_current_password,
            finding_10_totp_guesses_lock_the_user_out,
            finding_10_resend_gives_no_fresh_guesses,
            finding_6_sign_up_answers_alike_for_taken_and_new_addresses,
            finding_6_locked_login_answers_like_an_unknown_email,
            finding_6_password_reset_lifts_a_lockout,
            mfa_recovery_codes_work_once_instead_of_totp,
            mfa_recovery_codes_regenerate_with_the_password_and_are_audited,
            mfa_recovery_code_guesses_count_toward_the_lockout,
            // customers and KYC
            profile_rules_sealed_ssn_and_saga_account,
            ssn_keys_rotate_and_old_ciphertexts_still_open,
            documents_and_the_kyc_state_machine,
            accounts_open_only_after_kyc_approval,
            updates_are_allow_listed_and_bola_is_not_found,
            staff_search_with_cursor_paging,
            // fraud
            without_rules_everything_is_allowed_and_nothing_recorded,
            blacklist_blocks_and_whitelist_vouches_only_against_the_score,
            review_holds_funds_opens_a_case_and_admin_resolves_it,
            repeated_cases_mark_the_account_suspicious,
            velocity_rules_count_the_window,
            velocity_amount_rules_sum_the_window,
            new_account_and_first_time_payee_rules_and_analyze_only,
            rules_are_validated_admin_only_and_audited,
            fraud_outcomes_survive_group_commit,
            // notifications
            events_become_templated_notifications_once,
            preferences_opt_out_but_not_of_security_messages,
            failed_sends_retry_with_backoff_then_fail,
            in_app_feed_pages_and_marks_read,
            // audit
            admin_actions_are_recorded_and_chained,
            admin_actions_record_the_adapters_request_context,
            concurrent_admin_actions_keep_one_unbroken_chain,
            finding_8_deleting_the_newest_audit_entries_is_reported_missing,
            finding_8_an_entry_altered_without_the_key_is_reported_altered,
            finding_8_a_forged_anchor_is_reported_anchor_invalid,
            finding_8_unkeyed_entries_of_an_existing_log_still_verify,
            finding_8_a_restarted_engine_continues_the_stored_anchor,
            // webhooks
            webhook_secrets_are_sealed_in_the_raw_store,
            // issue #16's service clients (OAuth2 client credentials)
            service_client_secret_is_shown_once_and_stored_only_as_a_hash,
            service_client_failed_authentication_answers_alike,
            service_client_rotated_secret_works_for_the_grace_period_only,
            service_clients_are_admin_only_and_bounded,
            // issue #16's engine findings
            finding_1_staff_money_above_the_threshold_waits_for_a_second_admin,
            finding_1_staff_money_below_the_threshold_moves_at_once_with_its_initiator,
            finding_1_an_approved_movement_the_engine_refuses_is_failed_with_its_code,
            finding_4_kyc_verified_legal_name_is_locked_and_profile_edits_are_audited,
            finding_12_accounts_per_customer_are_capped,
            finding_12_customer_cannot_close_an_account_the_bank_froze,
            finding_12_customer_money_movements_are_audited_in_their_unit,
            // issue #16's staff controls
            finding_9_staff_must_enrol_totp_before_any_staff_function,
            finding_12_unverified_email_blocks_kyc_submission,
            staff_deactivation_revokes_sessions_and_blocks_sign_in,
        );
    };
    (@cases $factory:expr; $($case:ident),+ $(,)?) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let factory = $factory;
                let store = $crate::testkit::StoreFactory::fresh(&factory).await;
                $crate::testkit::engine_cases::$case(store).await;
            }
        )+
    };
}
