//! `bankflow.Bank`: the engine facade, one method per core use case.

use std::sync::Arc;

use bankflow_core::crypto::{DataKey, KeyProvider, StaticKeyRing};
use bankflow_core::{
    self as core, AccountType, Actor, BankConfig, BankError, BankResult, BookingRequest,
    CustomerId, MemoryStore, OpenAccountRequest, Role, Store, TransactionQuery, TransactionStatus,
    TransactionType, TransferItem, TransferRequest, UserId,
};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use crate::convert::{self, ok};
use crate::runtime::block_on;
use crate::types::{Account, Balance, LedgerReport, Statement, Transaction};

/// Opens the store `target` names: `None` or `":memory:"` is the in-memory store, a
/// `postgres://` / `postgresql://` URL is PostgreSQL, anything else is a SQLite path or
/// `sqlite:` URL.
pub(crate) async fn open_store(target: Option<&str>) -> BankResult<Arc<dyn Store>> {
    match target.map(str::trim) {
        None | Some(":memory:") => Ok(Arc::new(MemoryStore::new())),
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            open_postgres(url).await
        }
        Some("") => Err(BankError::validation(
            "path",
            "give a SQLite path, a postgres:// URL or \":memory:\"",
        )),
        Some(path) => open_sqlite(path).await,
    }
}

#[cfg(feature = "postgres")]
async fn open_postgres(url: &str) -> BankResult<Arc<dyn Store>> {
    use bankflow_store_postgres::{PgOptions, PgStore};
    Ok(Arc::new(PgStore::connect(url, PgOptions::default()).await?))
}

#[cfg(not(feature = "postgres"))]
async fn open_postgres(_url: &str) -> BankResult<Arc<dyn Store>> {
    Err(BankError::validation(
        "path",
        "this build of bankflow has no PostgreSQL support",
    ))
}

#[cfg(feature = "sqlite")]
async fn open_sqlite(path: &str) -> BankResult<Arc<dyn Store>> {
    use bankflow_store_sqlite::{SqliteOptions, SqliteStore};
    Ok(Arc::new(
        SqliteStore::open(path, SqliteOptions::default()).await?,
    ))
}

#[cfg(not(feature = "sqlite"))]
async fn open_sqlite(_path: &str) -> BankResult<Arc<dyn Store>> {
    Err(BankError::validation(
        "path",
        "this build of bankflow has no SQLite support",
    ))
}

/// Id of a key given as `data_key`: the one bankflow-http gives its key, so a database
/// written by the server reads back here with the same key.
const DATA_KEY_ID: &str = "k1";

fn data_keys(hex: Option<&str>) -> BankResult<Option<Arc<dyn KeyProvider>>> {
    let Some(hex) = hex else { return Ok(None) };
    let ring = StaticKeyRing::new(DATA_KEY_ID, DataKey::from_hex(hex.trim())?)?;
    Ok(Some(Arc::new(ring)))
}

/// A BankFlow engine handle, acting as one principal (the embedding program by default).
///
/// Every method runs the engine with the GIL released; a handle may be shared by threads.
#[pyclass(frozen, module = "bankflow")]
pub struct Bank {
    pub(crate) bank: core::Bank,
    pub(crate) actor: Actor,
}

impl Bank {
    pub(crate) fn run<T, F>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(core::Bank, Actor) -> F + Send,
    ) -> PyResult<T>
    where
        F: std::future::Future<Output = BankResult<T>>,
        T: Send,
    {
        let (bank, actor) = (self.bank.clone(), self.actor.clone());
        ok(py, block_on(py, move || f(bank, actor)))
    }

    fn item(
        py: Python<'_>,
        from_account_id: &str,
        to: &str,
        amount: &Bound<'_, PyAny>,
        currency: &str,
        description: Option<String>,
    ) -> PyResult<TransferItem> {
        Ok(TransferItem {
            from_account_id: convert::account_id(py, from_account_id)?,
            to: convert::destination(py, to)?,
            amount: convert::money(py, amount, currency)?,
            description,
        })
    }

    /// `transfer_batch` / `submit_transfers` item: a mapping with `from_account_id`, `to`,
    /// `amount` and optional `currency` (default USD) and `description`.
    fn dict_item(py: Python<'_>, item: &Bound<'_, PyDict>) -> PyResult<TransferItem> {
        let currency: String = match item.get_item("currency")? {
            Some(c) => c.extract()?,
            None => "USD".to_string(),
        };
        let description: Option<String> = match item.get_item("description")? {
            Some(d) => d.extract()?,
            None => None,
        };
        let from: String = Self::required(py, item, "from_account_id")?.extract()?;
        let to: String = Self::required(py, item, "to")?.extract()?;
        Self::item(
            py,
            &from,
            &to,
            &Self::required(py, item, "amount")?,
            &currency,
            description,
        )
    }

    fn required<'py>(
        py: Python<'_>,
        item: &Bound<'py, PyDict>,
        k: &str,
    ) -> PyResult<Bound<'py, PyAny>> {
        item.get_item(k)?.ok_or_else(|| {
            crate::error::to_py(
                py,
                BankError::validation(k, format!("batch item is missing {k:?}")),
            )
        })
    }

    fn booking(
        py: Python<'_>,
        account_id: &str,
        amount: &Bound<'_, PyAny>,
        currency: &str,
        idempotency_key: &str,
        description: Option<String>,
    ) -> PyResult<BookingRequest> {
        Ok(BookingRequest {
            account_id: convert::account_id(py, account_id)?,
            amount: convert::money(py, amount, currency)?,
            description,
            idempotency_key: convert::key(py, idempotency_key)?,
        })
    }
}

#[pymethods]
impl Bank {
    /// Opens an engine: `None`/`":memory:"` in memory, a path for SQLite, a
    /// `postgres://` URL for PostgreSQL (migrations are applied). `data_key` (64 hex digits)
    /// seals sensitive fields (SSNs) and KYC documents; without one a random key is made per
    /// process, and what it sealed is unreadable after a restart. `smtp` (a dict: host, from,
    /// port, tls, username, password, timeout_ms) delivers email over SMTP; `documents_url`
    /// (`s3://BUCKET[/PREFIX]?endpoint=…`) keeps KYC documents in an S3 bucket, encrypted.
    #[staticmethod]
    #[pyo3(signature = (path=None, *, require_kyc=true, data_key=None, smtp=None, documents_url=None))]
    fn open(
        py: Python<'_>,
        path: Option<String>,
        require_kyc: bool,
        data_key: Option<String>,
        smtp: Option<&Bound<'_, PyDict>>,
        documents_url: Option<String>,
    ) -> PyResult<Bank> {
        let keys = ok(py, data_keys(data_key.as_deref()))?;
        let smtp = ok(py, smtp.map(crate::adapters::smtp_options).transpose())?;
        let (store, notifier, documents) = ok(
            py,
            block_on(py, move || async move {
                // The adapters need the runtime (connection pools); build them on it.
                let notifier = crate::adapters::email_notifier(smtp)?;
                let documents = match documents_url.as_deref() {
                    Some(url) => Some(crate::adapters::document_store(url)?),
                    None => None,
                };
                Ok((open_store(path.as_deref()).await?, notifier, documents))
            }),
        )?;
        let config = BankConfig {
            require_kyc,
            // The bindings expose no email verification call yet: the embedding program
            // verifies its users' contacts itself.
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
        Ok(Bank {
            bank: builder.build(),
            actor: Actor::system(),
        })
    }

    /// A handle on the same engine acting as a user (authorisation is the engine's).
    #[pyo3(signature = (*, user_id=None, customer_id=None, roles=None))]
    fn acting_as(
        &self,
        py: Python<'_>,
        user_id: Option<&str>,
        customer_id: Option<&str>,
        roles: Option<Vec<String>>,
    ) -> PyResult<Bank> {
        let roles = roles.unwrap_or_else(|| vec!["customer".to_string()]);
        let roles = ok(
            py,
            roles
                .iter()
                .map(|r| Role::parse(r))
                .collect::<BankResult<Vec<_>>>(),
        )?;
        let actor = Actor {
            user_id: user_id.map(|u| ok(py, UserId::parse(u))).transpose()?,
            customer_id: customer_id
                .map(|c| ok(py, CustomerId::parse(c)))
                .transpose()?,
            roles,
            system: false,
        };
        Ok(Bank {
            bank: self.bank.clone(),
            actor,
        })
    }

    // ------------------------------------------------------------------ accounts

    /// Opens a CHECKING or SAVINGS account.
    #[pyo3(signature = (customer_id, account_type="CHECKING", currency="USD", *, overdraft_limit=None, daily_limit=None))]
    fn open_account(
        &self,
        py: Python<'_>,
        customer_id: &str,
        account_type: &str,
        currency: &str,
        overdraft_limit: Option<&Bound<'_, PyAny>>,
        daily_limit: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Account> {
        let req = OpenAccountRequest {
            customer_id: ok(py, CustomerId::parse(customer_id))?,
            account_type: ok(py, AccountType::parse(account_type))?,
            currency: ok(py, core::Currency::parse(currency))?,
            overdraft_limit: overdraft_limit
                .map(|d| convert::decimal(py, d, "overdraft_limit"))
                .transpose()?,
            daily_limit: daily_limit
                .map(|d| convert::decimal(py, d, "daily_limit"))
                .transpose()?,
        };
        self.run(
            py,
            |b, a| async move { b.money().open_account(&a, req).await },
        )
        .map(Account::from)
    }

    /// An account.
    fn account(&self, py: Python<'_>, account_id: &str) -> PyResult<Account> {
        let id = convert::account_id(py, account_id)?;
        self.run(py, |b, a| async move { b.money().account(&a, id).await })
            .map(Account::from)
    }

    /// Ledger and available balance.
    fn balance(&self, py: Python<'_>, account_id: &str) -> PyResult<Balance> {
        let id = convert::account_id(py, account_id)?;
        self.run(py, |b, a| async move { b.money().balance(&a, id).await })
            .map(Balance::from)
    }

    /// A customer's accounts.
    fn accounts_of_customer(&self, py: Python<'_>, customer_id: &str) -> PyResult<Vec<Account>> {
        let id = ok(py, CustomerId::parse(customer_id))?;
        let list = self.run(py, |b, a| async move {
            b.money().accounts_of_customer(&a, id).await
        })?;
        Ok(list.into_iter().map(Account::from).collect())
    }

    /// Every account by id, paged (staff only). Default page: 50 (the engine caps pages at 100;
    /// a literal in the signature so `help()` and the stubs show it).
    #[pyo3(signature = (*, after=None, limit=50))]
    fn list_accounts(
        &self,
        py: Python<'_>,
        after: Option<&str>,
        limit: u32,
    ) -> PyResult<Vec<Account>> {
        let after = after.map(|s| convert::account_id(py, s)).transpose()?;
        let list = self.run(py, |b, a| async move {
            b.money().list_accounts(&a, after, limit).await
        })?;
        Ok(list.into_iter().map(Account::from).collect())
    }

    /// Freezes an account (admin).
    fn freeze_account(&self, py: Python<'_>, account_id: &str) -> PyResult<Account> {
        let id = convert::account_id(py, account_id)?;
        self.run(
            py,
            |b, a| async move { b.money().freeze_account(&a, id).await },
        )
        .map(Account::from)
    }

    /// Unfreezes an account (admin).
    fn unfreeze_account(&self, py: Python<'_>, account_id: &str) -> PyResult<Account> {
        let id = convert::account_id(py, account_id)?;
        self.run(py, |b, a| async move {
            b.money().unfreeze_account(&a, id).await
        })
        .map(Account::from)
    }

    /// Closes an account (zero balance, no open holds).
    fn close_account(&self, py: Python<'_>, account_id: &str) -> PyResult<Account> {
        let id = convert::account_id(py, account_id)?;
        self.run(
            py,
            |b, a| async move { b.money().close_account(&a, id).await },
        )
        .map(Account::from)
    }

    /// Sets the overdraft and daily limits (admin).
    #[pyo3(signature = (account_id, *, overdraft_limit, daily_limit=None))]
    fn set_limits(
        &self,
        py: Python<'_>,
        account_id: &str,
        overdraft_limit: &Bound<'_, PyAny>,
        daily_limit: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Account> {
        let id = convert::account_id(py, account_id)?;
        let overdraft = convert::decimal(py, overdraft_limit, "overdraft_limit")?;
        let daily = daily_limit
            .map(|d| convert::decimal(py, d, "daily_limit"))
            .transpose()?;
        self.run(py, |b, a| async move {
            b.money().set_limits(&a, id, overdraft, daily).await
        })
        .map(Account::from)
    }

    // ------------------------------------------------------------------ money movement

    /// Teller deposit (admin).
    #[pyo3(signature = (account_id, amount, *, idempotency_key, currency="USD", description=None))]
    fn deposit(
        &self,
        py: Python<'_>,
        account_id: &str,
        amount: &Bound<'_, PyAny>,
        idempotency_key: &str,
        currency: &str,
        description: Option<String>,
    ) -> PyResult<Transaction> {
        let req = Self::booking(
            py,
            account_id,
            amount,
            currency,
            idempotency_key,
            description,
        )?;
        self.run(py, |b, a| async move { b.money().deposit(&a, req).await })
            .map(Transaction::from)
    }

    /// Teller withdrawal (admin).
    #[pyo3(signature = (account_id, amount, *, idempotency_key, currency="USD", description=None))]
    fn withdraw(
        &self,
        py: Python<'_>,
        account_id: &str,
        amount: &Bound<'_, PyAny>,
        idempotency_key: &str,
        currency: &str,
        description: Option<String>,
    ) -> PyResult<Transaction> {
        let req = Self::booking(
            py,
            account_id,
            amount,
            currency,
            idempotency_key,
            description,
        )?;
        self.run(py, |b, a| async move { b.money().withdraw(&a, req).await })
            .map(Transaction::from)
    }

    /// Internal transfer; `to` is an account id or an account number.
    #[pyo3(signature = (from_account_id, to, amount, *, idempotency_key, currency="USD", description=None, context=None))]
    #[allow(clippy::too_many_arguments)]
    fn transfer(
        &self,
        py: Python<'_>,
        from_account_id: &str,
        to: &str,
        amount: &Bound<'_, PyAny>,
        idempotency_key: &str,
        currency: &str,
        description: Option<String>,
        context: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Transaction> {
        let req = TransferRequest {
            item: Self::item(py, from_account_id, to, amount, currency, description)?,
            idempotency_key: convert::key(py, idempotency_key)?,
            context: convert::context(py, context)?,
        };
        self.run(py, |b, a| async move { b.money().transfer(&a, req).await })
            .map(Transaction::from)
    }

    /// Two-phase transfer, phase one: reserves the funds (status PENDING).
    #[pyo3(signature = (from_account_id, to, amount, *, idempotency_key, currency="USD", description=None, expires_at=None, context=None))]
    #[allow(clippy::too_many_arguments)]
    fn transfer_pending(
        &self,
        py: Python<'_>,
        from_account_id: &str,
        to: &str,
        amount: &Bound<'_, PyAny>,
        idempotency_key: &str,
        currency: &str,
        description: Option<String>,
        expires_at: Option<&Bound<'_, PyAny>>,
        context: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Transaction> {
        let req = TransferRequest {
            item: Self::item(py, from_account_id, to, amount, currency, description)?,
            idempotency_key: convert::key(py, idempotency_key)?,
            context: convert::context(py, context)?,
        };
        let until = convert::opt_utc(expires_at)?;
        self.run(py, |b, a| async move {
            b.money().transfer_pending(&a, req, until).await
        })
        .map(Transaction::from)
    }

    /// Posts a PENDING transfer for its reserved amount or less.
    #[pyo3(signature = (transaction_id, *, idempotency_key, amount=None, currency="USD"))]
    fn post_pending(
        &self,
        py: Python<'_>,
        transaction_id: &str,
        idempotency_key: &str,
        amount: Option<&Bound<'_, PyAny>>,
        currency: &str,
    ) -> PyResult<Transaction> {
        let id = convert::transaction_id(py, transaction_id)?;
        let amount = amount
            .map(|m| convert::money(py, m, currency))
            .transpose()?;
        let key = convert::key(py, idempotency_key)?;
        self.run(py, |b, a| async move {
            b.money().post_pending(&a, id, amount, key).await
        })
        .map(Transaction::from)
    }

    /// Voids a PENDING transfer: the funds are released.
    #[pyo3(signature = (transaction_id, *, idempotency_key))]
    fn void_pending(
        &self,
        py: Python<'_>,
        transaction_id: &str,
        idempotency_key: &str,
    ) -> PyResult<Transaction> {
        let id = convert::transaction_id(py, transaction_id)?;
        let key = convert::key(py, idempotency_key)?;
        self.run(py, |b, a| async move {
            b.money().void_pending(&a, id, key).await
        })
        .map(Transaction::from)
    }

    /// Reverses a COMPLETED transaction (admin); returns the original, now REVERSED.
    #[pyo3(signature = (transaction_id, *, reason, idempotency_key))]
    fn reverse(
        &self,
        py: Python<'_>,
        transaction_id: &str,
        reason: String,
        idempotency_key: &str,
    ) -> PyResult<Transaction> {
        let id = convert::transaction_id(py, transaction_id)?;
        let key = convert::key(py, idempotency_key)?;
        self.run(py, |b, a| async move {
            b.money().reverse(&a, id, &reason, key).await
        })
        .map(Transaction::from)
    }

    /// Many independent transfers in one commit. Each item is a mapping like a
    /// `transfer_batch` item plus its own `idempotency_key`. Returns, in order, a
    /// `Transaction` or the `BankflowError` (not raised) of each item: a refused transfer
    /// fails alone. Raises only when the call as a whole is refused (e.g. no items).
    fn submit_transfers(
        &self,
        py: Python<'_>,
        items: &Bound<'_, PyList>,
    ) -> PyResult<Vec<Py<PyAny>>> {
        if items.len() > core::SUBMIT_TRANSFERS_MAX {
            return ok(
                py,
                Err(BankError::LimitExceeded(format!(
                    "submit at most {} transfers",
                    core::SUBMIT_TRANSFERS_MAX
                ))),
            );
        }
        let mut reqs = Vec::with_capacity(items.len());
        for item in items.iter() {
            let item = item.cast::<PyDict>()?;
            let key: String = Self::required(py, item, "idempotency_key")?.extract()?;
            reqs.push(TransferRequest {
                item: Self::dict_item(py, item)?,
                idempotency_key: convert::key(py, &key)?,
                context: core::RequestContext::default(),
            });
        }
        let results = self.run(py, |b, a| async move {
            b.money().submit_transfers(&a, reqs).await
        })?;
        results
            .into_iter()
            .map(|r| match r {
                Ok(t) => Ok(Py::new(py, Transaction::from(t))?.into_any()),
                Err(e) => Ok(crate::error::to_py(py, e).into_value(py).into_any()),
            })
            .collect()
    }

    /// A linked batch: every transfer succeeds or none does. Each item is a mapping with
    /// `from_account_id`, `to`, `amount` and optional `currency`, `description`.
    #[pyo3(signature = (items, *, idempotency_key, context=None))]
    fn transfer_batch(
        &self,
        py: Python<'_>,
        items: &Bound<'_, PyList>,
        idempotency_key: &str,
        context: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Vec<Transaction>> {
        if items.len() > core::BATCH_LEN_MAX {
            return ok(
                py,
                Err(BankError::LimitExceeded(format!(
                    "a batch has at most {} transfers",
                    core::BATCH_LEN_MAX
                ))),
            );
        }
        let parsed = items
            .iter()
            .map(|item| Self::dict_item(py, item.cast::<PyDict>()?))
            .collect::<PyResult<Vec<_>>>()?;
        let key = convert::key(py, idempotency_key)?;
        let ctx = convert::context(py, context)?;
        let list = self.run(py, |b, a| async move {
            b.money().transfer_batch(&a, parsed, key, ctx).await
        })?;
        Ok(list.into_iter().map(Transaction::from).collect())
    }

    /// Expires due holds; returns how many.
    fn expire_holds(&self, py: Python<'_>) -> PyResult<usize> {
        self.run(
            py,
            |b, _| async move { b.maintenance().expire_holds().await },
        )
    }

    // ------------------------------------------------------------------ queries

    /// A transaction.
    fn transaction(&self, py: Python<'_>, transaction_id: &str) -> PyResult<Transaction> {
        let id = convert::transaction_id(py, transaction_id)?;
        self.run(
            py,
            |b, a| async move { b.money().transaction(&a, id).await },
        )
        .map(Transaction::from)
    }

    /// Transaction history, newest first. Page with `after=<last transaction of the page>`.
    #[pyo3(signature = (account_id=None, *, since=None, until=None, transaction_type=None, status=None, min_amount=None, max_amount=None, after=None, limit=50))]
    #[allow(clippy::too_many_arguments)]
    fn history(
        &self,
        py: Python<'_>,
        account_id: Option<&str>,
        since: Option<&Bound<'_, PyAny>>,
        until: Option<&Bound<'_, PyAny>>,
        transaction_type: Option<&str>,
        status: Option<&str>,
        min_amount: Option<&Bound<'_, PyAny>>,
        max_amount: Option<&Bound<'_, PyAny>>,
        after: Option<PyRef<'_, Transaction>>,
        limit: u32,
    ) -> PyResult<Vec<Transaction>> {
        let after = match after {
            Some(t) => {
                let (at, id) = t.cursor();
                Some((at, convert::transaction_id(py, id)?))
            }
            None => None,
        };
        let query = TransactionQuery {
            account_id: account_id.map(|s| convert::account_id(py, s)).transpose()?,
            from: convert::opt_utc(since)?,
            to: convert::opt_utc(until)?,
            transaction_type: transaction_type
                .map(|t| ok(py, TransactionType::parse(t)))
                .transpose()?,
            status: status
                .map(|s| ok(py, TransactionStatus::parse(s)))
                .transpose()?,
            min_amount: min_amount
                .map(|d| convert::decimal(py, d, "min_amount"))
                .transpose()?,
            max_amount: max_amount
                .map(|d| convert::decimal(py, d, "max_amount"))
                .transpose()?,
            after,
            limit,
        };
        let list = self.run(
            py,
            |b, a| async move { b.money().history(&a, &query).await },
        )?;
        Ok(list.into_iter().map(Transaction::from).collect())
    }

    /// A statement for `from_date..=to_date` (UTC days, `datetime.date`).
    fn statement(
        &self,
        py: Python<'_>,
        account_id: &str,
        from_date: &Bound<'_, PyAny>,
        to_date: &Bound<'_, PyAny>,
    ) -> PyResult<Statement> {
        let id = convert::account_id(py, account_id)?;
        let (from, to) = (convert::date(from_date)?, convert::date(to_date)?);
        self.run(py, |b, a| async move {
            b.money().statement(&a, id, from, to).await
        })
        .map(Statement::from)
    }

    /// Audits the whole ledger (balances = postings, postings sum to zero).
    fn verify_ledger(&self, py: Python<'_>) -> PyResult<LedgerReport> {
        self.run(py, |b, _| async move { b.money().verify_ledger().await })
            .map(LedgerReport::from)
    }

    fn __repr__(&self) -> String {
        if self.actor.system {
            "Bank(actor=system)".to_string()
        } else {
            format!(
                "Bank(actor=user {:?})",
                self.actor.user_id.map(|u| u.to_string())
            )
        }
    }
}
