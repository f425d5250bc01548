//! `SandboxBank`: the whole engine over the in-memory store, in the browser or an edge
//! runtime. Every method returns a Promise; bad input and refusals reject it with the same
//! `code` the server would answer with.
//!
//! The sandbox acts as the bank's own operator (an admin actor) because it has no users: it
//! can open accounts for any customer id, deposit, and reverse. KYC is off (there is no
//! customer onboarding in the sandbox), every other rule — limits, holds, idempotency,
//! overdrafts, double entry — is the engine's.

use std::future::Future;
use std::sync::Arc;

use bankflow_core::ids::{AccountId, CustomerId, UserId};
use bankflow_core::{
    Actor, Bank, BankConfig, BankError, BankResult, Clock, IdGenerator, ManualClock, MemoryStore,
    RequestContext, TransferRequest,
};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::dto::{self, from_json};
use crate::ports::{id_generator, SandboxClock};
use crate::{js_error, json_of, to_js};

/// Longest single `advanceTime` step: ten years. Keeps the frozen clock far from chrono's
/// range limits.
const ADVANCE_SECONDS_MAX: f64 = 10.0 * 366.0 * 24.0 * 3600.0;

/// Engine state shared by the promises of one sandbox.
#[derive(Clone)]
struct Engine {
    bank: Bank,
    actor: Actor,
    /// The engine's id port, also used for the customer ids the sandbox makes up.
    ids: Arc<dyn IdGenerator>,
}

/// An in-memory bank running the real engine.
#[wasm_bindgen]
pub struct SandboxBank {
    engine: Engine,
    clock: SandboxClock,
}

/// Runs `work` on the engine and settles a Promise with its JSON result or its JS error.
/// Input parsing happens inside `work` too, so every failure is a rejection (never a
/// synchronous throw from an async method).
fn promise<T, F, Fut>(engine: &Engine, work: F) -> js_sys::Promise
where
    T: Serialize,
    F: FnOnce(Engine) -> Fut + 'static,
    Fut: Future<Output = BankResult<T>> + 'static,
{
    let engine = engine.clone();
    wasm_bindgen_futures::future_to_promise(async move {
        match work(engine).await {
            Ok(v) => to_js(&v),
            Err(e) => Err(js_error(&e)),
        }
    })
}

/// A `transfer` body as an immediate transfer (an `expires_at` belongs to pending ones).
fn immediate_transfer(body: dto::TransferBody) -> BankResult<TransferRequest> {
    let (item, idempotency_key, expires_at) = body.into_domain()?;
    if expires_at.is_some() {
        return Err(BankError::validation(
            "expires_at",
            "only pending transfers expire",
        ));
    }
    Ok(TransferRequest {
        item,
        idempotency_key,
        context: RequestContext::default(),
    })
}

/// Reads a JS argument as JSON text (so numbers where decimal strings are expected are
/// refused, like the server refuses them).
fn arg(v: &JsValue) -> BankResult<String> {
    json_of(v)
}

#[wasm_bindgen]
impl SandboxBank {
    /// `new SandboxBank({ seed?, start_time? })`. `seed` (a non-negative integer) makes ids
    /// and account numbers reproducible; `start_time` (RFC 3339) freezes the clock there.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_optional_param_type = "SandboxOptions")] options: JsValue,
    ) -> Result<SandboxBank, JsValue> {
        let options: dto::SandboxOptions = if options.is_undefined() || options.is_null() {
            dto::SandboxOptions::default()
        } else {
            json_of(&options)
                .and_then(|j| from_json("options", &j))
                .map_err(|e| js_error(&e))?
        };
        SandboxBank::build(options).map_err(|e| js_error(&e))
    }

    fn build(options: dto::SandboxOptions) -> BankResult<SandboxBank> {
        let clock = match options.start_time.as_deref() {
            None => SandboxClock::Live,
            Some(s) => {
                let at = DateTime::parse_from_rfc3339(s)
                    .map_err(|_| BankError::validation("start_time", "expected an RFC 3339 time"))?
                    .with_timezone(&Utc);
                SandboxClock::Manual(Arc::new(ManualClock::new(at)))
            }
        };
        let ids = id_generator(options.seed);
        let operator = UserId(ids.next_uuid());
        let config = BankConfig {
            require_kyc: false,
            // In memory the check is cheap, and a sandbox is where a broken invariant
            // should shout.
            verify_balances_on_write: true,
            // One operator, no second person: maker-checker (issue #16 finding 1) has no one
            // to ask here. Servers keep it on.
            staff_approval_threshold: None,
            ..BankConfig::default()
        };
        let bank = Bank::builder(Arc::new(MemoryStore::new()))
            .clock(clock.port())
            .ids(ids.clone())
            .config(config)
            .build();
        Ok(SandboxBank {
            engine: Engine {
                bank,
                actor: Actor::admin(operator),
                ids,
            },
            clock,
        })
    }

    /// The sandbox's current time (RFC 3339).
    pub fn now(&self) -> String {
        self.engine.bank.clock().now().to_rfc3339()
    }

    /// Moves a frozen clock forward by `seconds` (holds expire, days roll over). Throws
    /// `invalid_state` on a live clock.
    #[wasm_bindgen(js_name = advanceTime)]
    pub fn advance_time(&self, seconds: f64) -> Result<String, JsValue> {
        self.advance(seconds).map_err(|e| js_error(&e))
    }

    fn advance(&self, seconds: f64) -> BankResult<String> {
        let SandboxClock::Manual(clock) = &self.clock else {
            return Err(BankError::InvalidState(
                "the clock is live; create the sandbox with start_time".into(),
            ));
        };
        if !(0.0..=ADVANCE_SECONDS_MAX).contains(&seconds) || seconds.fract() != 0.0 {
            return Err(BankError::validation(
                "seconds",
                "a whole number of seconds, 0 to ten years",
            ));
        }
        clock.advance(Duration::seconds(seconds as i64));
        Ok(clock.as_ref().now().to_rfc3339())
    }

    /// Opens an account: `{ account_type, currency?, customer_id?, overdraft_limit?,
    /// daily_limit? }` → account.
    #[wasm_bindgen(js_name = openAccount, unchecked_return_type = "Promise<Account>")]
    pub fn open_account(
        &self,
        #[wasm_bindgen(unchecked_param_type = "OpenAccountBody")] body: JsValue,
    ) -> js_sys::Promise {
        let body = arg(&body);
        promise(&self.engine, |e| async move {
            let body: dto::OpenAccountBody = from_json("body", &body?)?;
            let req = body.into_domain(CustomerId(e.ids.next_uuid()))?;
            e.bank
                .money()
                .open_account(&e.actor, req)
                .await
                .map(dto::AccountDto::from)
        })
    }

    /// Teller deposit: `{ account_id, amount, currency, description?, idempotency_key }` →
    /// transaction.
    #[wasm_bindgen(unchecked_return_type = "Promise<Transaction>")]
    pub fn deposit(
        &self,
        #[wasm_bindgen(unchecked_param_type = "BookingBody")] body: JsValue,
    ) -> js_sys::Promise {
        let body = arg(&body);
        promise(&self.engine, |e| async move {
            let req = from_json::<dto::BookingBody>("body", &body?)?.into_domain()?;
            e.bank
                .money()
                .deposit(&e.actor, req)
                .await
                .map(dto::TransactionDto::from)
        })
    }

    /// Teller withdrawal, same body as `deposit`.
    #[wasm_bindgen(unchecked_return_type = "Promise<Transaction>")]
    pub fn withdraw(
        &self,
        #[wasm_bindgen(unchecked_param_type = "BookingBody")] body: JsValue,
    ) -> js_sys::Promise {
        let body = arg(&body);
        promise(&self.engine, |e| async move {
            let req = from_json::<dto::BookingBody>("body", &body?)?.into_domain()?;
            e.bank
                .money()
                .withdraw(&e.actor, req)
                .await
                .map(dto::TransactionDto::from)
        })
    }

    /// Transfer: `{ from_account_id, to_account_id | to_account_number, amount, currency,
    /// description?, idempotency_key }` → transaction. Replaying a key returns the first
    /// result; reusing it for another request rejects with `idempotency_conflict`.
    #[wasm_bindgen(unchecked_return_type = "Promise<Transaction>")]
    pub fn transfer(
        &self,
        #[wasm_bindgen(unchecked_param_type = "TransferBody")] body: JsValue,
    ) -> js_sys::Promise {
        let body = arg(&body);
        promise(&self.engine, |e| async move {
            let req = immediate_transfer(from_json::<dto::TransferBody>("body", &body?)?)?;
            e.bank
                .money()
                .transfer(&e.actor, req)
                .await
                .map(dto::TransactionDto::from)
        })
    }

    /// Up to 8,190 independent transfers (each a `transfer` body with its own key) in one
    /// commit → one outcome per item, in order: `{ transaction }` or `{ error: { code,
    /// message, field? } }`. A refused item does not fail the others; a malformed item (or
    /// too many) rejects the whole call and nothing moves.
    #[wasm_bindgen(js_name = submitTransfers, unchecked_return_type = "Promise<SubmitOutcome[]>")]
    pub fn submit_transfers(
        &self,
        #[wasm_bindgen(unchecked_param_type = "TransferBody[]")] bodies: JsValue,
    ) -> js_sys::Promise {
        let bodies = arg(&bodies);
        promise(&self.engine, |e| async move {
            let reqs = from_json::<Vec<dto::TransferBody>>("bodies", &bodies?)?
                .into_iter()
                .map(immediate_transfer)
                .collect::<BankResult<Vec<_>>>()?;
            let outcomes = e.bank.money().submit_transfers(&e.actor, reqs).await?;
            Ok(outcomes
                .into_iter()
                .map(dto::SubmitOutcomeDto::from)
                .collect::<Vec<_>>())
        })
    }

    /// Two-phase transfer, phase one: the `transfer` body plus `expires_at?` → a PENDING
    /// transaction holding the funds.
    #[wasm_bindgen(js_name = transferPending, unchecked_return_type = "Promise<Transaction>")]
    pub fn transfer_pending(
        &self,
        #[wasm_bindgen(unchecked_param_type = "PendingTransferBody")] body: JsValue,
    ) -> js_sys::Promise {
        let body = arg(&body);
        promise(&self.engine, |e| async move {
            let (item, idempotency_key, expires_at) =
                from_json::<dto::TransferBody>("body", &body?)?.into_domain()?;
            let req = TransferRequest {
                item,
                idempotency_key,
                context: RequestContext::default(),
            };
            e.bank
                .money()
                .transfer_pending(&e.actor, req, expires_at)
                .await
                .map(dto::TransactionDto::from)
        })
    }

    /// Posts a PENDING transfer: `{ transaction_id, amount?, currency?, idempotency_key }`.
    #[wasm_bindgen(js_name = postPending, unchecked_return_type = "Promise<Transaction>")]
    pub fn post_pending(
        &self,
        #[wasm_bindgen(unchecked_param_type = "PostPendingBody")] body: JsValue,
    ) -> js_sys::Promise {
        let body = arg(&body);
        promise(&self.engine, |e| async move {
            let (id, amount, key) =
                from_json::<dto::PostPendingBody>("body", &body?)?.into_domain()?;
            e.bank
                .money()
                .post_pending(&e.actor, id, amount, key)
                .await
                .map(dto::TransactionDto::from)
        })
    }

    /// Voids a PENDING transfer: `{ transaction_id, idempotency_key }`.
    #[wasm_bindgen(js_name = voidPending, unchecked_return_type = "Promise<Transaction>")]
    pub fn void_pending(
        &self,
        #[wasm_bindgen(unchecked_param_type = "VoidPendingBody")] body: JsValue,
    ) -> js_sys::Promise {
        let body = arg(&body);
        promise(&self.engine, |e| async move {
            let (id, key) = from_json::<dto::VoidPendingBody>("body", &body?)?.into_domain()?;
            e.bank
                .money()
                .void_pending(&e.actor, id, key)
                .await
                .map(dto::TransactionDto::from)
        })
    }

    /// Reverses a COMPLETED transaction: `{ transaction_id, reason, idempotency_key }` → the
    /// original, now REVERSED.
    #[wasm_bindgen(unchecked_return_type = "Promise<Transaction>")]
    pub fn reverse(
        &self,
        #[wasm_bindgen(unchecked_param_type = "ReverseBody")] body: JsValue,
    ) -> js_sys::Promise {
        let body = arg(&body);
        promise(&self.engine, |e| async move {
            let (id, reason, key) = from_json::<dto::ReverseBody>("body", &body?)?.into_domain()?;
            e.bank
                .money()
                .reverse(&e.actor, id, &reason, key)
                .await
                .map(dto::TransactionDto::from)
        })
    }

    /// Freezes an account: it refuses every debit and credit until unfrozen.
    #[wasm_bindgen(js_name = freezeAccount, unchecked_return_type = "Promise<Account>")]
    pub fn freeze_account(&self, account_id: String) -> js_sys::Promise {
        promise(&self.engine, |e| async move {
            let id = AccountId::parse(&account_id)?;
            e.bank
                .money()
                .freeze_account(&e.actor, id)
                .await
                .map(dto::AccountDto::from)
        })
    }

    /// Unfreezes an account.
    #[wasm_bindgen(js_name = unfreezeAccount, unchecked_return_type = "Promise<Account>")]
    pub fn unfreeze_account(&self, account_id: String) -> js_sys::Promise {
        promise(&self.engine, |e| async move {
            let id = AccountId::parse(&account_id)?;
            e.bank
                .money()
                .unfreeze_account(&e.actor, id)
                .await
                .map(dto::AccountDto::from)
        })
    }

    /// Closes an account; only at zero balance with no open holds (`account_not_empty`).
    #[wasm_bindgen(js_name = closeAccount, unchecked_return_type = "Promise<Account>")]
    pub fn close_account(&self, account_id: String) -> js_sys::Promise {
        promise(&self.engine, |e| async move {
            let id = AccountId::parse(&account_id)?;
            e.bank
                .money()
                .close_account(&e.actor, id)
                .await
                .map(dto::AccountDto::from)
        })
    }

    /// Expires due holds (after `advanceTime`); resolves to how many.
    #[wasm_bindgen(js_name = expireHolds, unchecked_return_type = "Promise<number>")]
    pub fn expire_holds(&self) -> js_sys::Promise {
        promise(&self.engine, |e| async move {
            e.bank.maintenance().expire_holds().await
        })
    }

    /// One account by id.
    #[wasm_bindgen(unchecked_return_type = "Promise<Account>")]
    pub fn account(&self, account_id: String) -> js_sys::Promise {
        promise(&self.engine, |e| async move {
            let id = AccountId::parse(&account_id)?;
            e.bank
                .money()
                .account(&e.actor, id)
                .await
                .map(dto::AccountDto::from)
        })
    }

    /// Ledger and available balance of an account.
    #[wasm_bindgen(unchecked_return_type = "Promise<Balance>")]
    pub fn balance(&self, account_id: String) -> js_sys::Promise {
        promise(&self.engine, |e| async move {
            let id = AccountId::parse(&account_id)?;
            e.bank
                .money()
                .balance(&e.actor, id)
                .await
                .map(dto::BalanceDto::from)
        })
    }

    /// History, newest first: `{ account_id?, from?, to?, type?, status?, min_amount?,
    /// max_amount?, limit?, cursor? }` → `{ items, next_cursor }`.
    #[wasm_bindgen(unchecked_return_type = "Promise<TransactionPage>")]
    pub fn history(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "HistoryParams")] params: JsValue,
    ) -> js_sys::Promise {
        let params = if params.is_undefined() || params.is_null() {
            Ok("{}".to_string())
        } else {
            arg(&params)
        };
        promise(&self.engine, |e| async move {
            let query = from_json::<dto::HistoryParams>("params", &params?)?.into_domain()?;
            let items = e.bank.money().history(&e.actor, &query).await?;
            Ok(dto::TransactionPage::new(items, query.limit))
        })
    }

    /// Statement of `account_id` for the UTC days `from..=to` (`YYYY-MM-DD`).
    #[wasm_bindgen(unchecked_return_type = "Promise<Statement>")]
    pub fn statement(&self, account_id: String, from: String, to: String) -> js_sys::Promise {
        promise(&self.engine, |e| async move {
            let id = AccountId::parse(&account_id)?;
            let from = dto::parse_day("from", &from)?;
            let to = dto::parse_day("to", &to)?;
            e.bank
                .money()
                .statement(&e.actor, id, from, to)
                .await
                .map(dto::StatementDto::from)
        })
    }

    /// Audits the whole ledger (balances = sum of postings, postings sum to zero per
    /// currency); rejects with `invariant_violated` if anything is off.
    #[wasm_bindgen(js_name = verifyLedger, unchecked_return_type = "Promise<LedgerReport>")]
    pub fn verify_ledger(&self) -> js_sys::Promise {
        promise(&self.engine, |e| async move {
            e.bank
                .money()
                .verify_ledger()
                .await
                .map(dto::LedgerReportDto::from)
        })
    }

    // ---------------------------------------------------------------- fraud preview

    /// Installs the engine's default fraud rules not installed yet; resolves to how many.
    /// Until a rule exists every transfer is allowed.
    #[wasm_bindgen(js_name = installDefaultFraudRules, unchecked_return_type = "Promise<number>")]
    pub fn install_default_fraud_rules(&self) -> js_sys::Promise {
        promise(&self.engine, |e| async move {
            e.bank.fraud().install_default_fraud_rules(&e.actor).await
        })
    }

    /// Adds a rule: `{ rule_name, rule_type, conditions, action, priority?, is_active? }`.
    #[wasm_bindgen(js_name = createFraudRule, unchecked_return_type = "Promise<FraudRule>")]
    pub fn create_fraud_rule(
        &self,
        #[wasm_bindgen(unchecked_param_type = "NewFraudRule")] body: JsValue,
    ) -> js_sys::Promise {
        let body = arg(&body);
        promise(&self.engine, |e| async move {
            let rule = from_json::<dto::NewRuleBody>("body", &body?)?.into_domain()?;
            e.bank
                .fraud()
                .create_fraud_rule(&e.actor, rule)
                .await
                .map(dto::RuleDto::from)
        })
    }

    /// The rules (all, or only the active ones), highest priority first.
    #[wasm_bindgen(js_name = fraudRules, unchecked_return_type = "Promise<FraudRule[]>")]
    pub fn fraud_rules(&self, active_only: bool) -> js_sys::Promise {
        promise(&self.engine, move |e| async move {
            let rules = e.bank.fraud().fraud_rules(&e.actor, active_only).await?;
            Ok(rules
                .into_iter()
                .map(dto::RuleDto::from)
                .collect::<Vec<_>>())
        })
    }

    /// Black- or whitelists a value: `{ list: "BLACK" | "WHITE", list_type, value, reason? }`.
    #[wasm_bindgen(js_name = addListEntry, unchecked_return_type = "Promise<ListEntry>")]
    pub fn add_list_entry(
        &self,
        #[wasm_bindgen(unchecked_param_type = "ListEntryBody")] body: JsValue,
    ) -> js_sys::Promise {
        let body = arg(&body);
        promise(&self.engine, |e| async move {
            let (list, ty, value, reason) =
                from_json::<dto::ListEntryBody>("body", &body?)?.into_domain()?;
            let entry = e
                .bank
                .fraud()
                .add_list_entry(&e.actor, list, ty, &value, reason.as_deref())
                .await?;
            Ok(dto::ListEntryDto::from(entry))
        })
    }

    /// Fraud-rule preview: scores a proposed transfer with the installed rules, without
    /// moving money or recording anything. `{ from_account_id, to_account_id? |
    /// to_account_number?, counterparty?, amount, currency, ip?, device_id?, user_agent?,
    /// email? }` → `{ score, risk_level, action, flags }`.
    #[wasm_bindgen(js_name = analyzeTransaction, unchecked_return_type = "Promise<FraudDecision>")]
    pub fn analyze_transaction(
        &self,
        #[wasm_bindgen(unchecked_param_type = "AnalyzeBody")] body: JsValue,
    ) -> js_sys::Promise {
        let body = arg(&body);
        promise(&self.engine, |e| async move {
            let proposal = from_json::<dto::AnalyzeBody>("body", &body?)?.into_domain()?;
            e.bank
                .fraud()
                .analyze_transaction(&e.actor, &proposal)
                .await
                .map(dto::DecisionDto::from)
        })
    }
}
