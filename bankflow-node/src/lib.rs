//! Node.js bindings for BankFlow (npm package `bankflow`).
//!
//! Architecture invariant: this crate converts types and errors and nothing else; every
//! rule is `bankflow-core`'s. Every engine call returns a Promise and runs on napi's tokio
//! runtime, never on the JS thread.
#![deny(clippy::all)]

mod adapters;
mod convert;
mod error;
mod ops;
mod people;
mod store;
mod types;

use std::future::Future;

use bankflow_core::{
    self as core, AccountType, Actor, BankConfig, BankResult, BookingRequest, OpenAccountRequest,
    Role, TransactionQuery, TransactionStatus, TransactionType, TransferItem, TransferRequest,
    UserId,
};
use napi::bindgen_prelude::*;
use napi::Env;
use napi_derive::napi;

use crate::convert as cv;
use crate::types::*;

/// Default page size of list calls (the engine caps pages at 100).
pub(crate) const PAGE_LIMIT_DEFAULT: u32 = 50;

/// Runs `fut` on the tokio runtime and settles a Promise on the JS thread: resolved with
/// `map(value)`, or rejected with the engine error mapped by [`error::to_js`].
pub(crate) fn settle<'env, T, V, F>(
    env: &'env Env,
    fut: F,
    map: fn(T) -> V,
) -> Result<PromiseRaw<'env, V>>
where
    F: Future<Output = BankResult<T>> + Send + 'static,
    T: Send + 'static,
    V: ToNapiValue + 'static,
{
    env.spawn_future_with_callback(
        async move { Ok(fut.await) },
        move |env, r: BankResult<T>| r.map(map).map_err(|e| error::to_js(env, &e)),
    )
}

pub(crate) fn list<T, V: From<T>>(v: Vec<T>) -> Vec<V> {
    v.into_iter().map(V::from).collect()
}

fn item(
    from: &str,
    to: &str,
    amount: &str,
    currency: Option<&str>,
    description: Option<String>,
) -> BankResult<TransferItem> {
    Ok(TransferItem {
        from_account_id: cv::account_id(from)?,
        to: cv::destination(to)?,
        amount: cv::money(amount, currency)?,
        description,
    })
}

fn booking(account_id: &str, amount: &str, o: BookingOptions) -> BankResult<BookingRequest> {
    Ok(BookingRequest {
        account_id: cv::account_id(account_id)?,
        amount: cv::money(amount, o.currency.as_deref())?,
        description: o.description,
        idempotency_key: cv::key(&o.idempotency_key)?,
    })
}

/// A BankFlow engine handle, acting as one principal (the embedding program by default).
#[napi]
pub struct Bank {
    pub(crate) bank: core::Bank,
    pub(crate) actor: Actor,
}

#[napi]
impl Bank {
    /// Opens an engine: `null`/`":memory:"` in memory, a path for SQLite, a `postgres://`
    /// URL for PostgreSQL (migrations are applied). See `OpenOptions.dataKey` for sealed fields.
    #[napi(ts_return_type = "Promise<Bank>")]
    pub fn open<'env>(
        env: &'env Env,
        path: Option<String>,
        options: Option<OpenOptions>,
    ) -> Result<PromiseRaw<'env, Bank>> {
        let (require_kyc, data_key, smtp, documents_url) = options
            .map(|o| (o.require_kyc, o.data_key, o.smtp, o.documents_url))
            .unwrap_or_default();
        let fut = async move {
            let keys = store::data_keys(data_key.as_deref())?;
            let smtp = smtp.map(adapters::smtp_options).transpose()?;
            // On the runtime: the adapters' connection pools need it.
            let notifier = smtp.as_ref().map(adapters::email_notifier).transpose()?;
            let documents = documents_url
                .as_deref()
                .map(adapters::document_store)
                .transpose()?;
            let store = store::open(path).await?;
            let config = BankConfig {
                require_kyc: require_kyc.unwrap_or(true),
                // The bindings expose no email verification call yet: the embedding
                // program verifies its users' contacts itself.
                require_verified_email: false,
                ..BankConfig::default()
            };
            let mut builder = core::Bank::builder(store)
                .config(config)
                .runtime(std::sync::Arc::new(core::TokioRuntime));
            if let Some(keys) = keys {
                builder = builder.keys(keys);
            }
            if let Some(n) = notifier {
                builder = builder.notifier(n);
            }
            if let Some(d) = documents {
                builder = builder.documents(d);
            }
            Ok((builder.build(), Actor::system()))
        };
        settle(env, fut, |(bank, actor)| Bank { bank, actor })
    }

    /// A handle on the same engine acting as a user (authorisation is the engine's).
    #[napi]
    pub fn acting_as(&self, env: Env, who: ActorOptions) -> Result<Bank> {
        let parse = || -> BankResult<Actor> {
            let roles = who.roles.unwrap_or_else(|| vec!["customer".into()]);
            Ok(Actor {
                user_id: who.user_id.as_deref().map(UserId::parse).transpose()?,
                customer_id: who
                    .customer_id
                    .as_deref()
                    .map(cv::customer_id)
                    .transpose()?,
                roles: roles
                    .iter()
                    .map(|r| Role::parse(r))
                    .collect::<BankResult<_>>()?,
                system: false,
            })
        };
        let actor = parse().map_err(|e| error::to_js(&env, &e))?;
        Ok(Bank {
            bank: self.bank.clone(),
            actor,
        })
    }

    pub(crate) fn ctx(&self) -> (core::Bank, Actor) {
        (self.bank.clone(), self.actor.clone())
    }

    // ------------------------------------------------------------------ accounts

    /// Opens a CHECKING (default) or SAVINGS account.
    #[napi]
    pub fn open_account<'env>(
        &self,
        env: &'env Env,
        customer_id: String,
        options: Option<OpenAccountOptions>,
    ) -> Result<PromiseRaw<'env, Account>> {
        let (b, a) = self.ctx();
        let o = options.unwrap_or(OpenAccountOptions {
            account_type: None,
            currency: None,
            overdraft_limit: None,
            daily_limit: None,
        });
        let req = (|| -> BankResult<OpenAccountRequest> {
            Ok(OpenAccountRequest {
                customer_id: cv::customer_id(&customer_id)?,
                account_type: AccountType::parse(o.account_type.as_deref().unwrap_or("CHECKING"))?,
                currency: core::Currency::parse(o.currency.as_deref().unwrap_or("USD"))?,
                overdraft_limit: cv::opt_decimal("overdraft_limit", o.overdraft_limit.as_deref())?,
                daily_limit: cv::opt_decimal("daily_limit", o.daily_limit.as_deref())?,
            })
        })();
        settle(
            env,
            async move { b.money().open_account(&a, req?).await },
            Account::from,
        )
    }

    /// An account.
    #[napi]
    pub fn account<'env>(
        &self,
        env: &'env Env,
        account_id: String,
    ) -> Result<PromiseRaw<'env, Account>> {
        let (b, a) = self.ctx();
        settle(
            env,
            async move { b.money().account(&a, cv::account_id(&account_id)?).await },
            Account::from,
        )
    }

    /// Ledger and available balance.
    #[napi]
    pub fn balance<'env>(
        &self,
        env: &'env Env,
        account_id: String,
    ) -> Result<PromiseRaw<'env, Balance>> {
        let (b, a) = self.ctx();
        settle(
            env,
            async move { b.money().balance(&a, cv::account_id(&account_id)?).await },
            Balance::from,
        )
    }

    /// A customer's accounts.
    #[napi]
    pub fn accounts_of_customer<'env>(
        &self,
        env: &'env Env,
        customer_id: String,
    ) -> Result<PromiseRaw<'env, Vec<Account>>> {
        let (b, a) = self.ctx();
        settle(
            env,
            async move {
                b.money()
                    .accounts_of_customer(&a, cv::customer_id(&customer_id)?)
                    .await
            },
            list,
        )
    }

    /// Every account by id, paged (staff only).
    #[napi]
    pub fn list_accounts<'env>(
        &self,
        env: &'env Env,
        options: Option<ListOptions>,
    ) -> Result<PromiseRaw<'env, Vec<Account>>> {
        let (b, a) = self.ctx();
        let (after, limit) = options.map(|o| (o.after, o.limit)).unwrap_or((None, None));
        let fut = async move {
            let after = after.as_deref().map(cv::account_id).transpose()?;
            b.money()
                .list_accounts(&a, after, limit.unwrap_or(PAGE_LIMIT_DEFAULT))
                .await
        };
        settle(env, fut, list)
    }

    /// Freezes an account (admin).
    #[napi]
    pub fn freeze_account<'env>(
        &self,
        env: &'env Env,
        account_id: String,
    ) -> Result<PromiseRaw<'env, Account>> {
        let (b, a) = self.ctx();
        settle(
            env,
            async move {
                b.money()
                    .freeze_account(&a, cv::account_id(&account_id)?)
                    .await
            },
            Account::from,
        )
    }

    /// Unfreezes an account (admin).
    #[napi]
    pub fn unfreeze_account<'env>(
        &self,
        env: &'env Env,
        account_id: String,
    ) -> Result<PromiseRaw<'env, Account>> {
        let (b, a) = self.ctx();
        settle(
            env,
            async move {
                b.money()
                    .unfreeze_account(&a, cv::account_id(&account_id)?)
                    .await
            },
            Account::from,
        )
    }

    /// Closes an account (zero balance, no open holds).
    #[napi]
    pub fn close_account<'env>(
        &self,
        env: &'env Env,
        account_id: String,
    ) -> Result<PromiseRaw<'env, Account>> {
        let (b, a) = self.ctx();
        settle(
            env,
            async move {
                b.money()
                    .close_account(&a, cv::account_id(&account_id)?)
                    .await
            },
            Account::from,
        )
    }

    /// Sets the overdraft and daily limits (admin).
    #[napi]
    pub fn set_limits<'env>(
        &self,
        env: &'env Env,
        account_id: String,
        limits: LimitsOptions,
    ) -> Result<PromiseRaw<'env, Account>> {
        let (b, a) = self.ctx();
        let fut = async move {
            let id = cv::account_id(&account_id)?;
            let overdraft = cv::decimal("overdraft_limit", &limits.overdraft_limit)?;
            let daily = cv::opt_decimal("daily_limit", limits.daily_limit.as_deref())?;
            b.money().set_limits(&a, id, overdraft, daily).await
        };
        settle(env, fut, Account::from)
    }

    // ------------------------------------------------------------------ money movement

    /// Teller deposit (admin).
    #[napi]
    pub fn deposit<'env>(
        &self,
        env: &'env Env,
        account_id: String,
        amount: String,
        options: BookingOptions,
    ) -> Result<PromiseRaw<'env, Transaction>> {
        let (b, a) = self.ctx();
        let req = booking(&account_id, &amount, options);
        settle(
            env,
            async move { b.money().deposit(&a, req?).await },
            Transaction::from,
        )
    }

    /// Teller withdrawal (admin).
    #[napi]
    pub fn withdraw<'env>(
        &self,
        env: &'env Env,
        account_id: String,
        amount: String,
        options: BookingOptions,
    ) -> Result<PromiseRaw<'env, Transaction>> {
        let (b, a) = self.ctx();
        let req = booking(&account_id, &amount, options);
        settle(
            env,
            async move { b.money().withdraw(&a, req?).await },
            Transaction::from,
        )
    }

    /// Internal transfer; `to` is an account id or an account number.
    #[napi]
    pub fn transfer<'env>(
        &self,
        env: &'env Env,
        from_account_id: String,
        to: String,
        amount: String,
        options: TransferOptions,
    ) -> Result<PromiseRaw<'env, Transaction>> {
        let (b, a) = self.ctx();
        let req = (|| -> BankResult<TransferRequest> {
            Ok(TransferRequest {
                item: item(
                    &from_account_id,
                    &to,
                    &amount,
                    options.currency.as_deref(),
                    options.description,
                )?,
                idempotency_key: cv::key(&options.idempotency_key)?,
                context: cv::context(options.context),
            })
        })();
        settle(
            env,
            async move { b.money().transfer(&a, req?).await },
            Transaction::from,
        )
    }

    /// Two-phase transfer, phase one: reserves the funds (status PENDING) until
    /// `options.expiresAt` (default: the engine's hold TTL).
    #[napi]
    pub fn transfer_pending<'env>(
        &self,
        env: &'env Env,
        from_account_id: String,
        to: String,
        amount: String,
        options: TransferOptions,
    ) -> Result<PromiseRaw<'env, Transaction>> {
        let (b, a) = self.ctx();
        let parsed = (|| -> BankResult<_> {
            let until = cv::opt_utc("expires_at", options.expires_at.as_deref())?;
            let req = TransferRequest {
                item: item(
                    &from_account_id,
                    &to,
                    &amount,
                    options.currency.as_deref(),
                    options.description,
                )?,
                idempotency_key: cv::key(&options.idempotency_key)?,
                context: cv::context(options.context),
            };
            Ok((req, until))
        })();
        let fut = async move {
            let (req, until) = parsed?;
            b.money().transfer_pending(&a, req, until).await
        };
        settle(env, fut, Transaction::from)
    }

    /// Posts a PENDING transfer for its reserved amount or less.
    #[napi]
    pub fn post_pending<'env>(
        &self,
        env: &'env Env,
        transaction_id: String,
        options: PostOptions,
    ) -> Result<PromiseRaw<'env, Transaction>> {
        let (b, a) = self.ctx();
        let fut = async move {
            let id = cv::transaction_id(&transaction_id)?;
            let amount = options
                .amount
                .as_deref()
                .map(|m| cv::money(m, options.currency.as_deref()))
                .transpose()?;
            b.money()
                .post_pending(&a, id, amount, cv::key(&options.idempotency_key)?)
                .await
        };
        settle(env, fut, Transaction::from)
    }

    /// Voids a PENDING transfer: the funds are released.
    #[napi]
    pub fn void_pending<'env>(
        &self,
        env: &'env Env,
        transaction_id: String,
        options: KeyOptions,
    ) -> Result<PromiseRaw<'env, Transaction>> {
        let (b, a) = self.ctx();
        let fut = async move {
            b.money()
                .void_pending(
                    &a,
                    cv::transaction_id(&transaction_id)?,
                    cv::key(&options.idempotency_key)?,
                )
                .await
        };
        settle(env, fut, Transaction::from)
    }

    /// Reverses a COMPLETED transaction (admin); resolves to the original, now REVERSED.
    #[napi]
    pub fn reverse<'env>(
        &self,
        env: &'env Env,
        transaction_id: String,
        options: ReverseOptions,
    ) -> Result<PromiseRaw<'env, Transaction>> {
        let (b, a) = self.ctx();
        let fut = async move {
            let id = cv::transaction_id(&transaction_id)?;
            b.money()
                .reverse(&a, id, &options.reason, cv::key(&options.idempotency_key)?)
                .await
        };
        settle(env, fut, Transaction::from)
    }

    /// A linked batch: every transfer succeeds or none does.
    #[napi]
    pub fn transfer_batch<'env>(
        &self,
        env: &'env Env,
        items: Vec<BatchItem>,
        options: BatchOptions,
    ) -> Result<PromiseRaw<'env, Vec<Transaction>>> {
        let (b, a) = self.ctx();
        let parsed = items
            .into_iter()
            .map(|i| {
                item(
                    &i.from_account_id,
                    &i.to,
                    &i.amount,
                    i.currency.as_deref(),
                    i.description,
                )
            })
            .collect::<BankResult<Vec<_>>>();
        let key = cv::key(&options.idempotency_key);
        let context = cv::context(options.context);
        settle(
            env,
            async move { b.money().transfer_batch(&a, parsed?, key?, context).await },
            list,
        )
    }

    /// Many independent transfers in one commit, each with its own idempotency key. Resolves
    /// to one outcome per item, in order: a refused transfer fails alone (its `error` is set)
    /// and does not reject the promise; the promise rejects only when the call as a whole is
    /// refused (e.g. no items).
    #[napi]
    pub fn submit_transfers<'env>(
        &self,
        env: &'env Env,
        items: Vec<SubmitItem>,
    ) -> Result<PromiseRaw<'env, Vec<TransferOutcome>>> {
        let (b, a) = self.ctx();
        let reqs = items
            .into_iter()
            .map(|i| {
                Ok(TransferRequest {
                    item: item(
                        &i.from_account_id,
                        &i.to,
                        &i.amount,
                        i.currency.as_deref(),
                        i.description,
                    )?,
                    idempotency_key: cv::key(&i.idempotency_key)?,
                    context: Default::default(),
                })
            })
            .collect::<BankResult<Vec<_>>>();
        settle(
            env,
            async move { b.money().submit_transfers(&a, reqs?).await },
            list,
        )
    }

    /// Expires due holds; resolves to how many.
    #[napi]
    pub fn expire_holds<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, u32>> {
        let b = self.bank.clone();
        settle(
            env,
            async move { b.maintenance().expire_holds().await },
            |n| u32::try_from(n).unwrap_or(u32::MAX),
        )
    }

    // ------------------------------------------------------------------ queries

    /// A transaction.
    #[napi]
    pub fn transaction<'env>(
        &self,
        env: &'env Env,
        transaction_id: String,
    ) -> Result<PromiseRaw<'env, Transaction>> {
        let (b, a) = self.ctx();
        settle(
            env,
            async move {
                b.money()
                    .transaction(&a, cv::transaction_id(&transaction_id)?)
                    .await
            },
            Transaction::from,
        )
    }

    /// Transaction history, newest first. Page with `after: <last transaction of the page>`.
    #[napi]
    pub fn history<'env>(
        &self,
        env: &'env Env,
        query: Option<HistoryQuery>,
    ) -> Result<PromiseRaw<'env, Vec<Transaction>>> {
        let (b, a) = self.ctx();
        let parsed = query.map(|q| -> BankResult<TransactionQuery> {
            Ok(TransactionQuery {
                account_id: q.account_id.as_deref().map(cv::account_id).transpose()?,
                from: cv::opt_utc("since", q.since.as_deref())?,
                to: cv::opt_utc("until", q.until.as_deref())?,
                transaction_type: q
                    .transaction_type
                    .as_deref()
                    .map(TransactionType::parse)
                    .transpose()?,
                status: q
                    .status
                    .as_deref()
                    .map(TransactionStatus::parse)
                    .transpose()?,
                min_amount: cv::opt_decimal("min_amount", q.min_amount.as_deref())?,
                max_amount: cv::opt_decimal("max_amount", q.max_amount.as_deref())?,
                after: q
                    .after
                    .map(|c| {
                        Ok::<_, core::BankError>((
                            cv::utc("after", &c.created_at)?,
                            cv::transaction_id(&c.id)?,
                        ))
                    })
                    .transpose()?,
                limit: q.limit.unwrap_or(PAGE_LIMIT_DEFAULT),
            })
        });
        let parsed = parsed.unwrap_or_else(|| {
            Ok(TransactionQuery {
                limit: PAGE_LIMIT_DEFAULT,
                ..TransactionQuery::default()
            })
        });
        settle(
            env,
            async move { b.money().history(&a, &parsed?).await },
            list,
        )
    }

    /// A statement for `fromDate..=toDate` (UTC days, `YYYY-MM-DD`).
    #[napi]
    pub fn statement<'env>(
        &self,
        env: &'env Env,
        account_id: String,
        from_date: String,
        to_date: String,
    ) -> Result<PromiseRaw<'env, Statement>> {
        let (b, a) = self.ctx();
        let fut = async move {
            let id = cv::account_id(&account_id)?;
            b.money()
                .statement(
                    &a,
                    id,
                    cv::date("from_date", &from_date)?,
                    cv::date("to_date", &to_date)?,
                )
                .await
        };
        settle(env, fut, Statement::from)
    }

    /// Audits the whole ledger (balances = postings, postings sum to zero).
    #[napi]
    pub fn verify_ledger<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, LedgerReport>> {
        let b = self.bank.clone();
        settle(
            env,
            async move { b.money().verify_ledger().await },
            LedgerReport::from,
        )
    }
}

/// Every stable error code the engine can put on an error's `code`.
#[napi]
pub fn error_codes() -> Vec<&'static str> {
    core::BankError::ALL_CODES.to_vec()
}
