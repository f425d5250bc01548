//! `/api/v1/customers` and the admin KYC decisions.

use axum::extract::{Multipart, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use bankflow_core::customer::{
    CustomerPatch, CustomerSearch, CustomerView, DocumentRecord, DocumentType, KycStatus, KycView,
    NewCustomer,
};
use bankflow_core::ids::DocumentId;
use bankflow_core::{BankError, BankResult, CustomerId, UserId};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::dto::{decode_cursor, encode_cursor, page_limit, Page};
use crate::error::{ApiError, ApiResult};
use crate::routes::{detached, CommonErrors};
use crate::schema::{
    AddressLine, City, CountryCode, Cursor, CustomerQuery, DateOfBirth, DocumentTypeName,
    EmailAddress, KycReason, KycStatusName, OptionalAddressLine, PageLimit, PersonName,
    PhoneNumber, Region, SearchName, SsnText, ZipCode,
};
use crate::state::{AppState, Auth, Json, PathId, Query};

/// A customer profile (the SSN never leaves the engine; only its last four digits).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CustomerDto {
    /// Id.
    pub id: Uuid,
    /// Owning user.
    pub user_id: Uuid,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Date of birth.
    pub date_of_birth: NaiveDate,
    /// Last four SSN digits.
    pub ssn_last4: Option<String>,
    /// The user's email.
    pub email: Option<String>,
    /// The user's phone.
    pub phone: Option<String>,
    /// Address.
    pub address_line1: String,
    /// Address, second line.
    pub address_line2: Option<String>,
    /// City.
    pub city: String,
    /// State / region.
    pub state: String,
    /// Postal code.
    pub zip_code: String,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    /// PENDING, SUBMITTED, APPROVED, REJECTED.
    #[schema(example = "PENDING")]
    pub kyc_status: String,
    /// Why KYC was rejected.
    pub kyc_rejection_reason: Option<String>,
    /// When KYC was approved.
    pub kyc_verified_at: Option<DateTime<Utc>>,
    /// The checking account opened at onboarding.
    pub default_account_id: Option<Uuid>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl From<CustomerView> for CustomerDto {
    fn from(c: CustomerView) -> CustomerDto {
        CustomerDto {
            id: c.id.0,
            user_id: c.user_id.0,
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
            kyc_status: c.kyc_status.as_str().into(),
            kyc_rejection_reason: c.kyc_rejection_reason,
            kyc_verified_at: c.kyc_verified_at,
            default_account_id: c.default_account_id.map(|a| a.0),
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

/// A new customer profile.
#[derive(Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCustomerBody {
    /// First name.
    #[schema(value_type = PersonName)]
    pub first_name: String,
    /// Last name.
    #[schema(value_type = PersonName, example = "Smith")]
    pub last_name: String,
    /// YYYY-MM-DD; 18 or older.
    #[schema(value_type = DateOfBirth)]
    pub date_of_birth: NaiveDate,
    /// US SSN (encrypted at rest; only the last four digits are ever shown).
    #[schema(value_type = Option<SsnText>)]
    pub ssn: Option<String>,
    /// Address.
    #[schema(value_type = AddressLine)]
    pub address_line1: String,
    /// Address, second line.
    #[schema(value_type = Option<OptionalAddressLine>)]
    pub address_line2: Option<String>,
    /// City.
    #[schema(value_type = City)]
    pub city: String,
    /// State / region.
    #[schema(value_type = Region)]
    pub state: String,
    /// Postal code.
    #[schema(value_type = ZipCode)]
    pub zip_code: String,
    /// ISO 3166-1 alpha-2.
    #[schema(value_type = CountryCode)]
    pub country: String,
    /// The owning user (admins only; default: the caller).
    pub user_id: Option<Uuid>,
}

impl std::fmt::Debug for NewCustomerBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "NewCustomerBody({} {}, ssn: <redacted>)",
            self.first_name, self.last_name
        )
    }
}

impl NewCustomerBody {
    /// The engine request and the named owner.
    pub fn try_into_domain(self) -> (Option<UserId>, NewCustomer) {
        (
            self.user_id.map(UserId),
            NewCustomer {
                first_name: self.first_name,
                last_name: self.last_name,
                date_of_birth: self.date_of_birth,
                ssn: self.ssn,
                address_line1: self.address_line1,
                address_line2: self.address_line2,
                city: self.city,
                state: self.state,
                zip_code: self.zip_code,
                country: self.country,
            },
        )
    }
}

fn some<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

/// Changes to a profile (absent fields are kept; name, birth date and SSN are KYC data).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct CustomerPatchBody {
    /// First name.
    #[schema(value_type = Option<PersonName>)]
    pub first_name: Option<String>,
    /// Last name.
    #[schema(value_type = Option<PersonName>)]
    pub last_name: Option<String>,
    /// Address.
    #[schema(value_type = Option<AddressLine>)]
    pub address_line1: Option<String>,
    /// Address, second line (null or blank clears it).
    #[serde(default, deserialize_with = "some")]
    #[schema(value_type = Option<OptionalAddressLine>)]
    pub address_line2: Option<Option<String>>,
    /// City.
    #[schema(value_type = Option<City>)]
    pub city: Option<String>,
    /// State / region.
    #[schema(value_type = Option<Region>)]
    pub state: Option<String>,
    /// Postal code.
    #[schema(value_type = Option<ZipCode>)]
    pub zip_code: Option<String>,
    /// ISO 3166-1 alpha-2.
    #[schema(value_type = Option<CountryCode>)]
    pub country: Option<String>,
    /// Ignored (cannot change here).
    #[schema(value_type = Option<String>)]
    pub date_of_birth: Option<serde_json::Value>,
}

/// KYC state.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct KycDto {
    /// PENDING, SUBMITTED, APPROVED, REJECTED.
    #[schema(example = "SUBMITTED")]
    pub kyc_status: String,
    /// Rejection reason.
    pub reason: Option<String>,
    /// When submitted.
    pub submitted_at: Option<DateTime<Utc>>,
    /// When approved.
    pub kyc_verified_at: Option<DateTime<Utc>>,
    /// Documents on file.
    pub documents: usize,
}

impl From<KycView> for KycDto {
    fn from(k: KycView) -> KycDto {
        KycDto {
            kyc_status: k.kyc_status.as_str().into(),
            reason: k.rejection_reason,
            submitted_at: k.submitted_at,
            kyc_verified_at: k.verified_at,
            documents: k.documents,
        }
    }
}

/// A KYC document's metadata.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DocumentDto {
    /// Id.
    pub id: Uuid,
    /// PASSPORT, DRIVERS_LICENSE, NATIONAL_ID, UTILITY_BILL, BANK_STATEMENT.
    pub document_type: String,
    /// PENDING, VERIFIED, REJECTED.
    pub status: String,
    /// MIME type detected from the content.
    pub content_type: String,
    /// Size.
    pub size_bytes: u64,
    /// Hex SHA-256 of the content.
    pub sha256: String,
    /// Uploaded.
    pub uploaded_at: DateTime<Utc>,
    /// Reviewed.
    pub verified_at: Option<DateTime<Utc>>,
}

impl From<DocumentRecord> for DocumentDto {
    fn from(d: DocumentRecord) -> DocumentDto {
        DocumentDto {
            id: d.id.0,
            document_type: d.document_type.as_str().into(),
            status: d.status.as_str().into(),
            content_type: d.content_type,
            size_bytes: d.size_bytes,
            sha256: d.sha256,
            uploaded_at: d.uploaded_at,
            verified_at: d.verified_at,
        }
    }
}

/// Multipart upload form (documented shape).
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct DocumentForm {
    /// PASSPORT, DRIVERS_LICENSE, NATIONAL_ID, UTILITY_BILL, BANK_STATEMENT.
    #[schema(value_type = DocumentTypeName)]
    document_type: String,
    /// PDF, JPEG or PNG, at most 10 MB.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// KYC rejection.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RejectBody {
    /// Why (shown to the customer).
    #[schema(value_type = KycReason)]
    pub reason: String,
}

/// Customer search.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// Free text: an email (contains `@`), an E.164 phone (starts with `+`) or part of a name.
    #[param(value_type = Option<CustomerQuery>)]
    pub q: Option<String>,
    /// Part of the name.
    #[param(value_type = Option<SearchName>)]
    pub name: Option<String>,
    /// Exact email.
    #[param(value_type = Option<EmailAddress>)]
    pub email: Option<String>,
    /// Exact E.164 phone.
    #[param(value_type = Option<PhoneNumber>)]
    pub phone: Option<String>,
    /// KYC status.
    #[param(value_type = Option<KycStatusName>)]
    pub kyc_status: Option<String>,
    /// Page size 1..=100.
    #[param(value_type = Option<PageLimit>)]
    pub limit: Option<u32>,
    /// Opaque cursor.
    #[param(value_type = Option<Cursor>)]
    pub cursor: Option<String>,
}

impl SearchParams {
    fn try_into_domain(self, forced_status: Option<KycStatus>) -> BankResult<CustomerSearch> {
        let mut s = CustomerSearch {
            name: self.name,
            email: self.email,
            phone: self.phone,
            kyc_status: match forced_status {
                Some(k) => Some(k),
                None => self
                    .kyc_status
                    .as_deref()
                    .map(KycStatus::parse)
                    .transpose()?,
            },
            after: match self.cursor.as_deref() {
                None | Some("") => None,
                Some(c) => Some(
                    CustomerId::parse(&decode_cursor(c)?)
                        .map_err(|_| BankError::validation("cursor", "malformed cursor"))?,
                ),
            },
            limit: page_limit(self.limit)?,
        };
        if let Some(q) = self.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
            if q.contains('@') {
                s.email = Some(q.to_string());
            } else if q.starts_with('+') {
                s.phone = Some(q.to_string());
            } else {
                s.name = Some(q.to_string());
            }
        }
        Ok(s)
    }
}

fn customer_page(items: Vec<CustomerView>, limit: u32) -> Page<CustomerDto> {
    let next_cursor = (items.len() as u32 == limit)
        .then(|| items.last().map(|c| encode_cursor(&c.id.to_string())))
        .flatten();
    Page {
        items: items.into_iter().map(CustomerDto::from).collect(),
        next_cursor,
    }
}

/// Creates the caller's customer profile (KYC PENDING); a second one is 409.
#[utoipa::path(post, path = "/api/v1/customers", operation_id = "create_customer", tag = "customers", request_body = NewCustomerBody,
    responses((status = 201, description = "Created", body = CustomerDto), CommonErrors), security(("bearer" = [])))]
pub async fn create(
    State(s): State<AppState>,
    auth: Auth,
    Json(b): Json<NewCustomerBody>,
) -> ApiResult<Response> {
    let (user, req) = b.try_into_domain();
    let bank = s.bank.clone();
    let c = detached(async move {
        bank.customers()
            .create_customer(&auth.actor, user, req)
            .await
    })
    .await?;
    Ok((StatusCode::CREATED, axum::Json(CustomerDto::from(c))).into_response())
}

/// Searches customers (staff).
#[utoipa::path(get, path = "/api/v1/customers/search", operation_id = "search_customers", tag = "customers", params(SearchParams),
    responses((status = 200, description = "Customers", body = Page<CustomerDto>), CommonErrors), security(("bearer" = [])))]
pub async fn search(
    State(s): State<AppState>,
    auth: Auth,
    Query(p): Query<SearchParams>,
) -> ApiResult<axum::Json<Page<CustomerDto>>> {
    // Staff only: refuse others before reading their query (403, not a 400 on a bad cursor).
    auth.actor.require_staff()?;
    let q = p.try_into_domain(None)?;
    let limit = q.limit;
    Ok(axum::Json(customer_page(
        s.bank.customers().search_customers(&auth.actor, q).await?,
        limit,
    )))
}

/// One customer (owner or staff).
#[utoipa::path(get, path = "/api/v1/customers/{id}", operation_id = "get_customer", tag = "customers", params(("id" = Uuid, Path, description = "Customer id")),
    responses((status = 200, description = "The customer", body = CustomerDto), CommonErrors), security(("bearer" = [])))]
pub async fn get(
    State(s): State<AppState>,
    auth: Auth,
    PathId(id): PathId<CustomerId>,
) -> ApiResult<axum::Json<CustomerDto>> {
    Ok(axum::Json(
        s.bank.customers().customer(&auth.actor, id).await?.into(),
    ))
}

/// Updates contact and address fields.
#[utoipa::path(put, path = "/api/v1/customers/{id}", tag = "customers", params(("id" = Uuid, Path, description = "Customer id")),
    request_body = CustomerPatchBody,
    responses((status = 200, description = "The customer", body = CustomerDto), CommonErrors), security(("bearer" = [])))]
pub async fn update(
    State(s): State<AppState>,
    auth: Auth,
    PathId(id): PathId<CustomerId>,
    Json(b): Json<CustomerPatchBody>,
) -> ApiResult<axum::Json<CustomerDto>> {
    let patch = CustomerPatch {
        first_name: b.first_name,
        last_name: b.last_name,
        address_line1: b.address_line1,
        address_line2: b.address_line2,
        city: b.city,
        state: b.state,
        zip_code: b.zip_code,
        country: b.country,
    };
    let bank = s.bank.clone();
    Ok(axum::Json(
        detached(async move {
            bank.customers()
                .update_customer(&auth.actor, id, patch)
                .await
        })
        .await?
        .into(),
    ))
}

/// Uploads a KYC document (multipart: `document_type`, `file`).
#[utoipa::path(post, path = "/api/v1/customers/{id}/documents", tag = "customers", params(("id" = Uuid, Path, description = "Customer id")),
    request_body(content = DocumentForm, content_type = "multipart/form-data"),
    responses((status = 201, description = "Stored", body = DocumentDto),
        (status = 413, description = "Upload too large", body = crate::error::Problem, content_type = "application/problem+json"), CommonErrors),
    security(("bearer" = [])))]
pub async fn upload(
    State(s): State<AppState>,
    auth: Auth,
    PathId(id): PathId<CustomerId>,
    form: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> ApiResult<Response> {
    let mut form = form.map_err(|e| ApiError::bad_request("body", e.body_text()))?;
    let mut kind = None;
    let mut bytes = None;
    // Two fields at most are read; anything else is refused rather than skipped unbounded.
    for _ in 0..4 {
        let Some(field) = form.next_field().await.map_err(multipart_err)? else {
            break;
        };
        match field.name() {
            Some("document_type") => kind = Some(field.text().await.map_err(multipart_err)?),
            Some("file") => bytes = Some(field.bytes().await.map_err(multipart_err)?),
            _ => {
                return Err(ApiError::bad_request(
                    "body",
                    "only the fields document_type and file are accepted",
                ))
            }
        }
    }
    let kind = DocumentType::parse(kind.as_deref().unwrap_or_default().trim())?;
    let bytes = bytes.ok_or_else(|| ApiError::bad_request("file", "the file field is required"))?;
    let bank = s.bank.clone();
    let d = detached(async move {
        bank.customers()
            .upload_document(&auth.actor, id, kind, &bytes)
            .await
    })
    .await?;
    Ok((StatusCode::CREATED, axum::Json(DocumentDto::from(d))).into_response())
}

fn multipart_err(e: axum::extract::multipart::MultipartError) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::payload_too_large(crate::UPLOAD_LIMIT_BYTES)
    } else {
        ApiError::bad_request("body", e.body_text())
    }
}

/// The customer's documents.
#[utoipa::path(get, path = "/api/v1/customers/{id}/documents", tag = "customers", params(("id" = Uuid, Path, description = "Customer id")),
    responses((status = 200, description = "Documents", body = Page<DocumentDto>), CommonErrors), security(("bearer" = [])))]
pub async fn documents(
    State(s): State<AppState>,
    auth: Auth,
    PathId(id): PathId<CustomerId>,
) -> ApiResult<axum::Json<Page<DocumentDto>>> {
    let items = s.bank.customers().documents(&auth.actor, id).await?;
    Ok(axum::Json(Page {
        items: items.into_iter().map(DocumentDto::from).collect(),
        next_cursor: None,
    }))
}

/// A document's bytes (owner or staff).
#[utoipa::path(get, path = "/api/v1/customers/{id}/documents/{doc_id}/content", tag = "customers",
    params(("id" = Uuid, Path, description = "Customer id"), ("doc_id" = Uuid, Path, description = "Document id")),
    responses((status = 200, description = "The file", content(
        (Vec<u8> = "application/pdf"), (Vec<u8> = "image/jpeg"), (Vec<u8> = "image/png"))), CommonErrors),
    security(("bearer" = [])))]
pub async fn document_content(
    State(s): State<AppState>,
    auth: Auth,
    axum::extract::Path((id, doc)): axum::extract::Path<(String, String)>,
) -> ApiResult<Response> {
    let (Ok(id), Ok(doc)) = (CustomerId::parse(&id), Uuid::parse_str(&doc)) else {
        return Err(ApiError::not_found("document"));
    };
    let (d, bytes) = s
        .bank
        .customers()
        .document_content(&auth.actor, id, DocumentId(doc))
        .await?;
    Ok((
        [
            (header::CONTENT_TYPE, d.content_type.clone()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}\"", d.id),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// Submits KYC for review (needs an identity document).
#[utoipa::path(post, path = "/api/v1/customers/{id}/kyc", tag = "customers", params(("id" = Uuid, Path, description = "Customer id")),
    responses((status = 200, description = "Submitted", body = KycDto), CommonErrors), security(("bearer" = [])))]
pub async fn submit_kyc(
    State(s): State<AppState>,
    auth: Auth,
    PathId(id): PathId<CustomerId>,
) -> ApiResult<axum::Json<KycDto>> {
    let bank = s.bank.clone();
    Ok(axum::Json(
        detached(async move { bank.customers().submit_kyc(&auth.actor, id).await })
            .await?
            .into(),
    ))
}

/// KYC status.
#[utoipa::path(get, path = "/api/v1/customers/{id}/kyc/status", tag = "customers", params(("id" = Uuid, Path, description = "Customer id")),
    responses((status = 200, description = "KYC status", body = KycDto), CommonErrors), security(("bearer" = [])))]
pub async fn kyc_status(
    State(s): State<AppState>,
    auth: Auth,
    PathId(id): PathId<CustomerId>,
) -> ApiResult<axum::Json<KycDto>> {
    Ok(axum::Json(
        s.bank.customers().kyc_status(&auth.actor, id).await?.into(),
    ))
}

/// Approves KYC (admin); returns the customer.
#[utoipa::path(post, path = "/api/v1/admin/customers/{id}/kyc/approve", tag = "admin", params(("id" = Uuid, Path, description = "Customer id")),
    responses((status = 200, description = "The customer, APPROVED", body = CustomerDto), CommonErrors), security(("bearer" = [])))]
pub async fn approve_kyc(
    State(s): State<AppState>,
    auth: Auth,
    PathId(id): PathId<CustomerId>,
) -> ApiResult<axum::Json<CustomerDto>> {
    let bank = s.bank.clone();
    let actor = auth.actor.clone();
    detached(async move { bank.customers().approve_kyc(&actor, id).await }).await?;
    Ok(axum::Json(
        s.bank.customers().customer(&auth.actor, id).await?.into(),
    ))
}

/// Rejects KYC with a reason (admin); returns the customer.
#[utoipa::path(post, path = "/api/v1/admin/customers/{id}/kyc/reject", tag = "admin", params(("id" = Uuid, Path, description = "Customer id")),
    request_body = RejectBody,
    responses((status = 200, description = "The customer, REJECTED", body = CustomerDto), CommonErrors), security(("bearer" = [])))]
pub async fn reject_kyc(
    State(s): State<AppState>,
    auth: Auth,
    PathId(id): PathId<CustomerId>,
    Json(b): Json<RejectBody>,
) -> ApiResult<axum::Json<CustomerDto>> {
    let bank = s.bank.clone();
    let actor = auth.actor.clone();
    detached(async move { bank.customers().reject_kyc(&actor, id, &b.reason).await }).await?;
    Ok(axum::Json(
        s.bank.customers().customer(&auth.actor, id).await?.into(),
    ))
}

/// Customers waiting for a KYC decision (staff).
#[utoipa::path(get, path = "/api/v1/admin/kyc/queue", tag = "admin", params(SearchParams),
    responses((status = 200, description = "Customers with KYC SUBMITTED", body = Page<CustomerDto>), CommonErrors), security(("bearer" = [])))]
pub async fn kyc_queue(
    State(s): State<AppState>,
    auth: Auth,
    Query(p): Query<SearchParams>,
) -> ApiResult<axum::Json<Page<CustomerDto>>> {
    auth.actor.require_staff()?;
    let q = p.try_into_domain(Some(KycStatus::Submitted))?;
    let limit = q.limit;
    Ok(axum::Json(customer_page(
        s.bank.customers().search_customers(&auth.actor, q).await?,
        limit,
    )))
}
