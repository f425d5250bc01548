//! Users (identity) and customers (profiles, KYC documents, KYC decisions): the issue-3 use
//! cases of `bankflow-core`, translated. Secrets (passwords, refresh tokens, MFA codes, SSNs)
//! pass through as `str` and are never kept or printed by the binding.

use bankflow_core::customer::{CustomerView, DocumentRecord, DocumentType, KycView, NewCustomer};
use bankflow_core::identity::{
    AuthTokens, LoginRequest, MfaSetup as CoreMfaSetup, RegisterRequest, UserView,
};
use bankflow_core::ids::DocumentId;
use bankflow_core::{CustomerId, UserId};
use chrono::{DateTime, NaiveDate, Utc};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

use crate::bank::Bank;
use crate::convert::{self, ok};

fn ids<T: ToString>(v: Option<T>) -> Option<String> {
    v.map(|i| i.to_string())
}

/// A user (never its password hash or secrets).
#[pyclass(frozen, get_all, module = "bankflow")]
#[derive(Clone)]
pub struct User {
    id: String,
    email: String,
    phone: Option<String>,
    roles: Vec<String>,
    customer_id: Option<String>,
    is_verified: bool,
    phone_verified: bool,
    mfa_enabled: bool,
    last_login: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
}

impl From<UserView> for User {
    fn from(u: UserView) -> Self {
        User {
            id: u.id.to_string(),
            email: u.email,
            phone: u.phone,
            roles: u.roles.iter().map(|r| r.as_str().to_string()).collect(),
            customer_id: ids(u.customer_id),
            is_verified: u.is_verified,
            phone_verified: u.phone_verified,
            mfa_enabled: u.mfa_enabled,
            last_login: u.last_login,
            created_at: u.created_at,
        }
    }
}

#[pymethods]
impl User {
    fn __repr__(&self) -> String {
        format!(
            "User(id='{}', email='{}', roles={:?})",
            self.id, self.email, self.roles
        )
    }
}

/// A successful login: the access-token claims plus the rotating refresh token.
#[pyclass(frozen, get_all, module = "bankflow")]
pub struct Login {
    user_id: String,
    email: String,
    roles: Vec<String>,
    customer_id: Option<String>,
    refresh_token: String,
    refresh_expires_at: DateTime<Utc>,
    session_id: String,
}

impl From<AuthTokens> for Login {
    fn from(t: AuthTokens) -> Self {
        Login {
            user_id: t.claims.sub.to_string(),
            email: t.claims.email,
            roles: t
                .claims
                .roles
                .iter()
                .map(|r| r.as_str().to_string())
                .collect(),
            customer_id: ids(t.claims.customer_id),
            refresh_token: t.refresh_token,
            refresh_expires_at: t.refresh_expires_at,
            session_id: t.session_id.to_string(),
        }
    }
}

#[pymethods]
impl Login {
    fn __repr__(&self) -> String {
        // The refresh token is a secret: never in a repr.
        format!(
            "Login(user_id='{}', roles={:?}, session_id='{}')",
            self.user_id, self.roles, self.session_id
        )
    }
}

/// TOTP enrolment: give `secret` (or `otpauth_url` as a QR code) to an authenticator app.
#[pyclass(frozen, get_all, module = "bankflow")]
pub struct MfaSetup {
    secret: String,
    otpauth_url: String,
}

#[pymethods]
impl MfaSetup {
    fn __repr__(&self) -> &'static str {
        "MfaSetup(<secret>)"
    }
}

/// A customer profile (the SSN only as its last four digits).
#[pyclass(frozen, get_all, module = "bankflow")]
pub struct Customer {
    id: String,
    user_id: String,
    first_name: String,
    last_name: String,
    date_of_birth: NaiveDate,
    ssn_last4: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    address_line1: String,
    address_line2: Option<String>,
    city: String,
    state: String,
    zip_code: String,
    country: String,
    kyc_status: String,
    kyc_rejection_reason: Option<String>,
    kyc_verified_at: Option<DateTime<Utc>>,
    default_account_id: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<CustomerView> for Customer {
    fn from(c: CustomerView) -> Self {
        Customer {
            id: c.id.to_string(),
            user_id: c.user_id.to_string(),
            first_name: c.first_name,
            last_name: c.last_name,
            date_of_birth: c.date_of_birth,
            ssn_last4: c.ssn_last4,
            email: c.email,
            phone: c.phone,
            address_line1: c.address_line1,
            address_line2: c.address_line2,
            city: c.city,
            state: c.state,
            zip_code: c.zip_code,
            country: c.country,
            kyc_status: c.kyc_status.as_str().to_string(),
            kyc_rejection_reason: c.kyc_rejection_reason,
            kyc_verified_at: c.kyc_verified_at,
            default_account_id: ids(c.default_account_id),
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

#[pymethods]
impl Customer {
    fn __repr__(&self) -> String {
        format!(
            "Customer(id='{}', name='{} {}', kyc={})",
            self.id, self.first_name, self.last_name, self.kyc_status
        )
    }
}

/// A KYC document's metadata (the bytes stay in the document store).
#[pyclass(frozen, get_all, module = "bankflow")]
pub struct Document {
    id: String,
    customer_id: String,
    document_type: String,
    content_type: String,
    size_bytes: u64,
    sha256: String,
    status: String,
    uploaded_at: DateTime<Utc>,
    verified_at: Option<DateTime<Utc>>,
}

impl From<DocumentRecord> for Document {
    fn from(d: DocumentRecord) -> Self {
        Document {
            id: d.id.to_string(),
            customer_id: d.customer_id.to_string(),
            document_type: d.document_type.as_str().to_string(),
            content_type: d.content_type,
            size_bytes: d.size_bytes,
            sha256: d.sha256,
            status: d.status.as_str().to_string(),
            uploaded_at: d.uploaded_at,
            verified_at: d.verified_at,
        }
    }
}

#[pymethods]
impl Document {
    fn __repr__(&self) -> String {
        format!(
            "Document(id='{}', type={}, status={}, {} bytes)",
            self.id, self.document_type, self.status, self.size_bytes
        )
    }
}

/// A customer's KYC state.
#[pyclass(frozen, get_all, module = "bankflow")]
pub struct Kyc {
    kyc_status: String,
    rejection_reason: Option<String>,
    submitted_at: Option<DateTime<Utc>>,
    verified_at: Option<DateTime<Utc>>,
    documents: usize,
}

impl From<KycView> for Kyc {
    fn from(k: KycView) -> Self {
        Kyc {
            kyc_status: k.kyc_status.as_str().to_string(),
            rejection_reason: k.rejection_reason,
            submitted_at: k.submitted_at,
            verified_at: k.verified_at,
            documents: k.documents,
        }
    }
}

#[pymethods]
impl Kyc {
    fn __repr__(&self) -> String {
        format!(
            "Kyc(status={}, documents={})",
            self.kyc_status, self.documents
        )
    }
}

fn user_id(py: Python<'_>, s: &str) -> PyResult<UserId> {
    ok(py, UserId::parse(s))
}

fn customer_id(py: Python<'_>, s: &str) -> PyResult<CustomerId> {
    ok(py, CustomerId::parse(s))
}

#[pymethods]
impl Bank {
    // ------------------------------------------------------------------ identity

    /// Registers a customer user (password policy and uniqueness are the engine's).
    #[pyo3(signature = (email, password, *, phone=None, context=None))]
    fn register(
        &self,
        py: Python<'_>,
        email: String,
        password: String,
        phone: Option<String>,
        context: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<User> {
        let ctx = convert::context(py, context)?;
        let req = RegisterRequest {
            email,
            password,
            phone,
        };
        self.run(
            py,
            |b, _| async move { b.identity().register(req, &ctx).await },
        )
        .map(User::from)
    }

    /// Logs in; returns the claims and a refresh token. Raises `MfaRequired` when TOTP is
    /// enabled and no `mfa_code` was given (a recovery code works too); `Unauthorized` also
    /// while locked out after repeated failures, as for an unknown email.
    #[pyo3(signature = (email, password, *, mfa_code=None, context=None))]
    fn login(
        &self,
        py: Python<'_>,
        email: String,
        password: String,
        mfa_code: Option<String>,
        context: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Login> {
        let ctx = convert::context(py, context)?;
        let req = LoginRequest {
            email,
            password,
            mfa_code,
        };
        self.run(
            py,
            |b, _| async move { b.identity().login(req, &ctx).await },
        )
        .map(Login::from)
    }

    /// Rotates a refresh token: returns a new login (reuse of an old token revokes the family).
    #[pyo3(signature = (refresh_token, *, context=None))]
    fn refresh(
        &self,
        py: Python<'_>,
        refresh_token: String,
        context: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Login> {
        let ctx = convert::context(py, context)?;
        self.run(py, |b, _| async move {
            b.identity().refresh(&refresh_token, &ctx).await
        })
        .map(Login::from)
    }

    /// Ends the session of a refresh token.
    #[pyo3(signature = (refresh_token, *, context=None))]
    fn logout(
        &self,
        py: Python<'_>,
        refresh_token: String,
        context: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<()> {
        let ctx = convert::context(py, context)?;
        self.run(py, |b, _| async move {
            b.identity().logout(&refresh_token, &ctx).await
        })
    }

    /// A handle acting as `user_id`, with the roles and customer profile stored now.
    fn as_user(&self, py: Python<'_>, user_id: &str) -> PyResult<Bank> {
        let uid = self::user_id(py, user_id)?;
        let actor = self.run(
            py,
            |b, _| async move { b.identity().actor_for_user(uid).await },
        )?;
        Ok(Bank {
            bank: self.bank.clone(),
            actor,
        })
    }

    /// The acting user.
    fn me(&self, py: Python<'_>) -> PyResult<User> {
        self.run(py, |b, a| async move { b.identity().me(&a).await })
            .map(User::from)
    }

    /// Starts TOTP enrolment for the acting user (needs the current password).
    #[pyo3(signature = (password, *, context=None))]
    fn mfa_setup(
        &self,
        py: Python<'_>,
        password: String,
        context: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<MfaSetup> {
        let ctx = convert::context(py, context)?;
        let s: CoreMfaSetup = self.run(py, |b, a| async move {
            b.identity().mfa_setup(&a, &password, &ctx).await
        })?;
        Ok(MfaSetup {
            secret: s.secret,
            otpauth_url: s.otpauth_url,
        })
    }

    /// Confirms TOTP enrolment with the current password and a current code; logins then
    /// need a code. Returns the recovery codes (shown once; each works once at login
    /// instead of a TOTP code).
    #[pyo3(signature = (password, code, *, context=None))]
    fn mfa_enable(
        &self,
        py: Python<'_>,
        password: String,
        code: String,
        context: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Vec<String>> {
        let ctx = convert::context(py, context)?;
        self.run(py, |b, a| async move {
            b.identity().mfa_enable(&a, &password, &code, &ctx).await
        })
    }

    /// Turns TOTP off (needs the current password and a current code).
    #[pyo3(signature = (password, code, *, context=None))]
    fn mfa_disable(
        &self,
        py: Python<'_>,
        password: String,
        code: String,
        context: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<()> {
        let ctx = convert::context(py, context)?;
        self.run(py, |b, a| async move {
            b.identity().mfa_disable(&a, &password, &code, &ctx).await
        })
    }

    // ------------------------------------------------------------------ customers & KYC

    /// Creates a customer profile and runs onboarding (a default checking account, frozen
    /// until KYC approval when KYC is required). `user_id`: whose profile (default: the
    /// acting user; staff may name anyone).
    #[pyo3(signature = (*, first_name, last_name, date_of_birth, address_line1, city, state, zip_code, country, address_line2=None, ssn=None, user_id=None))]
    #[allow(clippy::too_many_arguments)]
    fn create_customer(
        &self,
        py: Python<'_>,
        first_name: String,
        last_name: String,
        date_of_birth: &Bound<'_, PyAny>,
        address_line1: String,
        city: String,
        state: String,
        zip_code: String,
        country: String,
        address_line2: Option<String>,
        ssn: Option<String>,
        user_id: Option<&str>,
    ) -> PyResult<Customer> {
        let owner = user_id.map(|u| self::user_id(py, u)).transpose()?;
        let req = NewCustomer {
            first_name,
            last_name,
            date_of_birth: convert::date(date_of_birth)?,
            ssn,
            address_line1,
            address_line2,
            city,
            state,
            zip_code,
            country,
        };
        self.run(py, |b, a| async move {
            b.customers().create_customer(&a, owner, req).await
        })
        .map(Customer::from)
    }

    /// A customer profile.
    fn customer(&self, py: Python<'_>, customer_id: &str) -> PyResult<Customer> {
        let id = self::customer_id(py, customer_id)?;
        self.run(
            py,
            |b, a| async move { b.customers().customer(&a, id).await },
        )
        .map(Customer::from)
    }

    /// The customer profile of a user.
    fn customer_of_user(&self, py: Python<'_>, user_id: &str) -> PyResult<Customer> {
        let id = self::user_id(py, user_id)?;
        self.run(py, |b, a| async move {
            b.customers().customer_of_user(&a, id).await
        })
        .map(Customer::from)
    }

    /// Whether `candidate` is the customer's SSN (staff; the SSN itself never leaves the
    /// engine). Needs the `data_key` the SSN was sealed with.
    fn verify_customer_ssn(
        &self,
        py: Python<'_>,
        customer_id: &str,
        candidate: String,
    ) -> PyResult<bool> {
        let id = self::customer_id(py, customer_id)?;
        self.run(py, |b, a| async move {
            b.customers().verify_customer_ssn(&a, id, &candidate).await
        })
    }

    /// Uploads a KYC document (`content`: the file's bytes; type sniffed from them).
    fn upload_document(
        &self,
        py: Python<'_>,
        customer_id: &str,
        document_type: &str,
        content: &Bound<'_, PyBytes>,
    ) -> PyResult<Document> {
        let id = self::customer_id(py, customer_id)?;
        let kind = ok(py, DocumentType::parse(document_type))?;
        let bytes = content.as_bytes().to_vec();
        self.run(py, |b, a| async move {
            b.customers().upload_document(&a, id, kind, &bytes).await
        })
        .map(Document::from)
    }

    /// A document's bytes, as uploaded (decrypted and checked by the engine).
    fn document_content<'py>(
        &self,
        py: Python<'py>,
        customer_id: &str,
        document_id: &str,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let id = self::customer_id(py, customer_id)?;
        let doc = ok(py, DocumentId::parse(document_id))?;
        let (_, bytes) = self.run(py, |b, a| async move {
            b.customers().document_content(&a, id, doc).await
        })?;
        Ok(PyBytes::new(py, &bytes))
    }

    /// A customer's documents.
    fn documents(&self, py: Python<'_>, customer_id: &str) -> PyResult<Vec<Document>> {
        let id = self::customer_id(py, customer_id)?;
        let list = self.run(
            py,
            |b, a| async move { b.customers().documents(&a, id).await },
        )?;
        Ok(list.into_iter().map(Document::from).collect())
    }

    /// Submits KYC for review (needs an identity document).
    fn submit_kyc(&self, py: Python<'_>, customer_id: &str) -> PyResult<Kyc> {
        let id = self::customer_id(py, customer_id)?;
        self.run(
            py,
            |b, a| async move { b.customers().submit_kyc(&a, id).await },
        )
        .map(Kyc::from)
    }

    /// Approves KYC (admin): unfreezes the onboarding account.
    fn approve_kyc(&self, py: Python<'_>, customer_id: &str) -> PyResult<Kyc> {
        let id = self::customer_id(py, customer_id)?;
        self.run(
            py,
            |b, a| async move { b.customers().approve_kyc(&a, id).await },
        )
        .map(Kyc::from)
    }

    /// Rejects KYC (admin) with a reason the customer sees.
    #[pyo3(signature = (customer_id, *, reason))]
    fn reject_kyc(&self, py: Python<'_>, customer_id: &str, reason: String) -> PyResult<Kyc> {
        let id = self::customer_id(py, customer_id)?;
        self.run(py, |b, a| async move {
            b.customers().reject_kyc(&a, id, &reason).await
        })
        .map(Kyc::from)
    }

    /// A customer's KYC state.
    fn kyc_status(&self, py: Python<'_>, customer_id: &str) -> PyResult<Kyc> {
        let id = self::customer_id(py, customer_id)?;
        self.run(
            py,
            |b, a| async move { b.customers().kyc_status(&a, id).await },
        )
        .map(Kyc::from)
    }
}
