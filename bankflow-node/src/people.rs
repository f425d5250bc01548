//! Users (identity) and customers (profiles, KYC documents, KYC decisions), translated.
//! Secrets (passwords, refresh tokens, MFA codes, SSNs) pass through and are never kept.

use bankflow_core::customer::{CustomerView, DocumentRecord, DocumentType, KycView, NewCustomer};
use bankflow_core::identity::{AuthTokens, LoginRequest, RegisterRequest, UserView};
use bankflow_core::{BankResult, UserId};
use napi::bindgen_prelude::*;
use napi::Env;
use napi_derive::napi;

use crate::convert::{self as cv, ts};
use crate::types::RequestContext;
use crate::{settle, Bank};

fn roles(r: &[bankflow_core::Role]) -> Vec<String> {
    r.iter().map(|r| r.as_str().to_string()).collect()
}

/// A user (never its password hash or secrets).
#[napi(object)]
pub struct User {
    pub id: String,
    pub email: String,
    pub phone: Option<String>,
    pub roles: Vec<String>,
    pub customer_id: Option<String>,
    pub is_verified: bool,
    pub phone_verified: bool,
    pub mfa_enabled: bool,
    pub last_login: Option<String>,
    pub created_at: String,
}

impl From<UserView> for User {
    fn from(u: UserView) -> Self {
        User {
            id: u.id.to_string(),
            email: u.email,
            phone: u.phone,
            roles: roles(&u.roles),
            customer_id: u.customer_id.map(|c| c.to_string()),
            is_verified: u.is_verified,
            phone_verified: u.phone_verified,
            mfa_enabled: u.mfa_enabled,
            last_login: u.last_login.map(ts),
            created_at: ts(u.created_at),
        }
    }
}

/// A successful login: the access-token claims plus the rotating refresh token.
#[napi(object)]
pub struct Login {
    pub user_id: String,
    pub email: String,
    pub roles: Vec<String>,
    pub customer_id: Option<String>,
    pub refresh_token: String,
    pub refresh_expires_at: String,
    pub session_id: String,
}

impl From<AuthTokens> for Login {
    fn from(t: AuthTokens) -> Self {
        Login {
            user_id: t.claims.sub.to_string(),
            email: t.claims.email,
            roles: roles(&t.claims.roles),
            customer_id: t.claims.customer_id.map(|c| c.to_string()),
            refresh_token: t.refresh_token,
            refresh_expires_at: ts(t.refresh_expires_at),
            session_id: t.session_id.to_string(),
        }
    }
}

/// TOTP enrolment: give `secret` (or `otpauthUrl` as a QR code) to an authenticator app.
#[napi(object)]
pub struct MfaSetup {
    pub secret: String,
    pub otpauth_url: String,
}

/// A customer profile (the SSN only as its last four digits).
#[napi(object)]
pub struct Customer {
    pub id: String,
    pub user_id: String,
    pub first_name: String,
    pub last_name: String,
    /// `YYYY-MM-DD`.
    pub date_of_birth: String,
    pub ssn_last4: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub address_line1: String,
    pub address_line2: Option<String>,
    pub city: String,
    pub state: String,
    pub zip_code: String,
    pub country: String,
    pub kyc_status: String,
    pub kyc_rejection_reason: Option<String>,
    pub kyc_verified_at: Option<String>,
    pub default_account_id: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<CustomerView> for Customer {
    fn from(c: CustomerView) -> Self {
        Customer {
            id: c.id.to_string(),
            user_id: c.user_id.to_string(),
            first_name: c.first_name,
            last_name: c.last_name,
            date_of_birth: c.date_of_birth.to_string(),
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
            kyc_verified_at: c.kyc_verified_at.map(ts),
            default_account_id: c.default_account_id.map(|a| a.to_string()),
            created_at: ts(c.created_at),
            updated_at: ts(c.updated_at),
        }
    }
}

/// A KYC document's metadata (the bytes stay in the document store).
#[napi(object)]
pub struct Document {
    pub id: String,
    pub customer_id: String,
    pub document_type: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub status: String,
    pub uploaded_at: String,
    pub verified_at: Option<String>,
}

impl From<DocumentRecord> for Document {
    fn from(d: DocumentRecord) -> Self {
        Document {
            id: d.id.to_string(),
            customer_id: d.customer_id.to_string(),
            document_type: d.document_type.as_str().to_string(),
            content_type: d.content_type,
            size_bytes: i64::try_from(d.size_bytes).unwrap_or(i64::MAX),
            sha256: d.sha256,
            status: d.status.as_str().to_string(),
            uploaded_at: ts(d.uploaded_at),
            verified_at: d.verified_at.map(ts),
        }
    }
}

/// A customer's KYC state.
#[napi(object)]
pub struct Kyc {
    pub kyc_status: String,
    pub rejection_reason: Option<String>,
    pub submitted_at: Option<String>,
    pub verified_at: Option<String>,
    pub documents: u32,
}

impl From<KycView> for Kyc {
    fn from(k: KycView) -> Self {
        Kyc {
            kyc_status: k.kyc_status.as_str().to_string(),
            rejection_reason: k.rejection_reason,
            submitted_at: k.submitted_at.map(ts),
            verified_at: k.verified_at.map(ts),
            documents: u32::try_from(k.documents).unwrap_or(u32::MAX),
        }
    }
}

/// Options of `register`.
#[napi(object)]
pub struct RegisterOptions {
    /// E.164 phone.
    pub phone: Option<String>,
    pub context: Option<RequestContext>,
}

/// Options of `login`.
#[napi(object)]
pub struct LoginOptions {
    /// TOTP code, when MFA is enabled.
    pub mfa_code: Option<String>,
    pub context: Option<RequestContext>,
}

/// A new customer profile.
#[napi(object)]
pub struct NewCustomerInput {
    pub first_name: String,
    pub last_name: String,
    /// `YYYY-MM-DD` (18+).
    pub date_of_birth: String,
    pub address_line1: String,
    pub address_line2: Option<String>,
    pub city: String,
    pub state: String,
    pub zip_code: String,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    /// `AAA-GG-SSSS`; stored sealed, shown only as its last four digits.
    pub ssn: Option<String>,
    /// Whose profile (default: the acting user; staff may name anyone).
    pub user_id: Option<String>,
}

fn uid(s: &str) -> BankResult<UserId> {
    UserId::parse(s)
}

#[napi]
impl Bank {
    /// Registers a customer user (password policy and uniqueness are the engine's).
    #[napi]
    pub fn register<'env>(
        &self,
        env: &'env Env,
        email: String,
        password: String,
        options: Option<RegisterOptions>,
    ) -> Result<PromiseRaw<'env, User>> {
        let b = self.bank.clone();
        let (phone, ctx) = options
            .map(|o| (o.phone, cv::context(o.context)))
            .unwrap_or_default();
        settle(
            env,
            async move {
                b.identity()
                    .register(
                        RegisterRequest {
                            email,
                            password,
                            phone,
                        },
                        &ctx,
                    )
                    .await
            },
            User::from,
        )
    }

    /// Logs in; resolves to the claims and a refresh token. Rejects with `mfa_required` when
    /// TOTP is on and no `mfaCode` was given (a recovery code works too); `unauthorized` also while
    /// locked out after repeated failures, as for an unknown email.
    #[napi]
    pub fn login<'env>(
        &self,
        env: &'env Env,
        email: String,
        password: String,
        options: Option<LoginOptions>,
    ) -> Result<PromiseRaw<'env, Login>> {
        let b = self.bank.clone();
        let (mfa_code, ctx) = options
            .map(|o| (o.mfa_code, cv::context(o.context)))
            .unwrap_or_default();
        settle(
            env,
            async move {
                b.identity()
                    .login(
                        LoginRequest {
                            email,
                            password,
                            mfa_code,
                        },
                        &ctx,
                    )
                    .await
            },
            Login::from,
        )
    }

    /// Rotates a refresh token (reuse of an old one revokes its whole family).
    #[napi]
    pub fn refresh<'env>(
        &self,
        env: &'env Env,
        refresh_token: String,
    ) -> Result<PromiseRaw<'env, Login>> {
        let b = self.bank.clone();
        settle(
            env,
            async move {
                b.identity()
                    .refresh(&refresh_token, &Default::default())
                    .await
            },
            Login::from,
        )
    }

    /// Ends the session of a refresh token.
    #[napi]
    pub fn logout<'env>(
        &self,
        env: &'env Env,
        refresh_token: String,
    ) -> Result<PromiseRaw<'env, ()>> {
        let b = self.bank.clone();
        settle(
            env,
            async move {
                b.identity()
                    .logout(&refresh_token, &Default::default())
                    .await
            },
            |()| (),
        )
    }

    /// A handle acting as `userId`, with the roles and customer profile stored now (take a
    /// new handle after the user gets a customer profile).
    #[napi(ts_return_type = "Promise<Bank>")]
    pub fn as_user<'env>(&self, env: &'env Env, user_id: String) -> Result<PromiseRaw<'env, Bank>> {
        let b = self.bank.clone();
        let fut = async move {
            let actor = b.identity().actor_for_user(uid(&user_id)?).await?;
            Ok(Bank { bank: b, actor })
        };
        settle(env, fut, |bank| bank)
    }

    /// The acting user.
    #[napi]
    pub fn me<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, User>> {
        let (b, a) = self.ctx();
        settle(env, async move { b.identity().me(&a).await }, User::from)
    }

    /// Starts TOTP enrolment for the acting user (needs the current password).
    #[napi]
    pub fn mfa_setup<'env>(
        &self,
        env: &'env Env,
        password: String,
    ) -> Result<PromiseRaw<'env, MfaSetup>> {
        let (b, a) = self.ctx();
        settle(
            env,
            async move {
                b.identity()
                    .mfa_setup(&a, &password, &Default::default())
                    .await
            },
            |s| MfaSetup {
                secret: s.secret,
                otpauth_url: s.otpauth_url,
            },
        )
    }

    /// Confirms TOTP enrolment with the current password and a current code; logins then
    /// need a code. Resolves to the recovery codes (shown once; each works once at login
    /// instead of a TOTP code).
    #[napi]
    pub fn mfa_enable<'env>(
        &self,
        env: &'env Env,
        password: String,
        code: String,
    ) -> Result<PromiseRaw<'env, Vec<String>>> {
        let (b, a) = self.ctx();
        settle(
            env,
            async move {
                b.identity()
                    .mfa_enable(&a, &password, &code, &Default::default())
                    .await
            },
            |codes| codes,
        )
    }

    /// Turns TOTP off (needs the current password and a current code).
    #[napi]
    pub fn mfa_disable<'env>(
        &self,
        env: &'env Env,
        password: String,
        code: String,
    ) -> Result<PromiseRaw<'env, ()>> {
        let (b, a) = self.ctx();
        settle(
            env,
            async move {
                b.identity()
                    .mfa_disable(&a, &password, &code, &Default::default())
                    .await
            },
            |()| (),
        )
    }

    /// Creates a customer profile and runs onboarding (a default checking account, frozen
    /// until KYC approval when KYC is required).
    #[napi]
    pub fn create_customer<'env>(
        &self,
        env: &'env Env,
        input: NewCustomerInput,
    ) -> Result<PromiseRaw<'env, Customer>> {
        let (b, a) = self.ctx();
        let fut = async move {
            let owner = input.user_id.as_deref().map(uid).transpose()?;
            let req = NewCustomer {
                first_name: input.first_name,
                last_name: input.last_name,
                date_of_birth: cv::date("date_of_birth", &input.date_of_birth)?,
                ssn: input.ssn,
                address_line1: input.address_line1,
                address_line2: input.address_line2,
                city: input.city,
                state: input.state,
                zip_code: input.zip_code,
                country: input.country,
            };
            b.customers().create_customer(&a, owner, req).await
        };
        settle(env, fut, Customer::from)
    }

    /// A customer profile.
    #[napi]
    pub fn customer<'env>(
        &self,
        env: &'env Env,
        customer_id: String,
    ) -> Result<PromiseRaw<'env, Customer>> {
        let (b, a) = self.ctx();
        settle(
            env,
            async move {
                b.customers()
                    .customer(&a, cv::customer_id(&customer_id)?)
                    .await
            },
            Customer::from,
        )
    }

    /// The customer profile of a user.
    #[napi]
    pub fn customer_of_user<'env>(
        &self,
        env: &'env Env,
        user_id: String,
    ) -> Result<PromiseRaw<'env, Customer>> {
        let (b, a) = self.ctx();
        settle(
            env,
            async move { b.customers().customer_of_user(&a, uid(&user_id)?).await },
            Customer::from,
        )
    }

    /// Whether `candidate` is the customer's SSN (staff; the SSN itself never leaves the
    /// engine). Needs the `dataKey` the SSN was sealed with.
    #[napi]
    pub fn verify_customer_ssn<'env>(
        &self,
        env: &'env Env,
        customer_id: String,
        candidate: String,
    ) -> Result<PromiseRaw<'env, bool>> {
        let (b, a) = self.ctx();
        let fut = async move {
            b.customers()
                .verify_customer_ssn(&a, cv::customer_id(&customer_id)?, &candidate)
                .await
        };
        settle(env, fut, |ok| ok)
    }

    /// Uploads a KYC document (`content`: the file's bytes; the type is sniffed from them).
    #[napi]
    pub fn upload_document<'env>(
        &self,
        env: &'env Env,
        customer_id: String,
        document_type: String,
        content: Buffer,
    ) -> Result<PromiseRaw<'env, Document>> {
        let (b, a) = self.ctx();
        let bytes = content.to_vec();
        let fut = async move {
            let kind = DocumentType::parse(&document_type)?;
            b.customers()
                .upload_document(&a, cv::customer_id(&customer_id)?, kind, &bytes)
                .await
        };
        settle(env, fut, Document::from)
    }

    /// A customer's documents.
    #[napi]
    pub fn documents<'env>(
        &self,
        env: &'env Env,
        customer_id: String,
    ) -> Result<PromiseRaw<'env, Vec<Document>>> {
        let (b, a) = self.ctx();
        settle(
            env,
            async move {
                b.customers()
                    .documents(&a, cv::customer_id(&customer_id)?)
                    .await
            },
            crate::list,
        )
    }

    /// A document's bytes, as uploaded (decrypted and checked by the engine).
    #[napi(ts_return_type = "Promise<Buffer>")]
    pub fn document_content<'env>(
        &self,
        env: &'env Env,
        customer_id: String,
        document_id: String,
    ) -> Result<PromiseRaw<'env, Buffer>> {
        let (b, a) = self.ctx();
        let fut = async move {
            let doc = bankflow_core::ids::DocumentId::parse(&document_id)?;
            b.customers()
                .document_content(&a, cv::customer_id(&customer_id)?, doc)
                .await
        };
        settle(env, fut, |(_, bytes)| Buffer::from(bytes))
    }

    /// Submits KYC for review (needs an identity document).
    #[napi]
    pub fn submit_kyc<'env>(
        &self,
        env: &'env Env,
        customer_id: String,
    ) -> Result<PromiseRaw<'env, Kyc>> {
        let (b, a) = self.ctx();
        settle(
            env,
            async move {
                b.customers()
                    .submit_kyc(&a, cv::customer_id(&customer_id)?)
                    .await
            },
            Kyc::from,
        )
    }

    /// Approves KYC (admin): unfreezes the onboarding account.
    #[napi]
    pub fn approve_kyc<'env>(
        &self,
        env: &'env Env,
        customer_id: String,
    ) -> Result<PromiseRaw<'env, Kyc>> {
        let (b, a) = self.ctx();
        settle(
            env,
            async move {
                b.customers()
                    .approve_kyc(&a, cv::customer_id(&customer_id)?)
                    .await
            },
            Kyc::from,
        )
    }

    /// Rejects KYC (admin) with a reason the customer sees.
    #[napi]
    pub fn reject_kyc<'env>(
        &self,
        env: &'env Env,
        customer_id: String,
        reason: String,
    ) -> Result<PromiseRaw<'env, Kyc>> {
        let (b, a) = self.ctx();
        settle(
            env,
            async move {
                b.customers()
                    .reject_kyc(&a, cv::customer_id(&customer_id)?, &reason)
                    .await
            },
            Kyc::from,
        )
    }

    /// A customer's KYC state.
    #[napi]
    pub fn kyc_status<'env>(
        &self,
        env: &'env Env,
        customer_id: String,
    ) -> Result<PromiseRaw<'env, Kyc>> {
        let (b, a) = self.ctx();
        settle(
            env,
            async move {
                b.customers()
                    .kyc_status(&a, cv::customer_id(&customer_id)?)
                    .await
            },
            Kyc::from,
        )
    }
}
