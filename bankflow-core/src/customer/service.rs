//! Customer use cases: onboarding (the saga that opens the first account), profiles, the
//! sealed SSN and staff search.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::account::{AccountStatus, AccountType};
use crate::audit::{AuditEvent, AuditOutcome};
use crate::auth::Actor;
use crate::bank::Inner;
use crate::banking::{Command, OpenAccountRequest};
use crate::crypto::{open, seal};
use crate::customer::{CustomerRecord, CustomerSearch, KycStatus, SealedSsn, Ssn};
use crate::error::{BankError, BankResult};
use crate::events::{DomainEvent, EventType};
use crate::identity::{Email, Phone};
use crate::ids::{AccountId, CustomerId, UserId};
use crate::money::Currency;
use crate::ports::{TxMode, UnitOfWork};
use crate::transaction::check_page_limit;

crate::bank::context_service!(
    /// The customer context's use cases (customers, KYC, documents): `bank.customers()`.
    CustomerService,
    customers
);

/// Youngest age at which a customer may onboard.
pub const CUSTOMER_AGE_MIN_YEARS: u32 = 18;
/// Most documents one customer may upload.
pub const DOCUMENTS_PER_CUSTOMER_MAX: u32 = 20;
/// Longest KYC rejection reason.
pub const KYC_REASON_LEN_MAX: usize = 500;
/// Longest name-search term.
pub const SEARCH_NAME_LEN_MAX: usize = 100;
/// Longest first or last name.
pub const PERSON_NAME_LEN_MAX: usize = 100;
/// Longest address line.
pub const ADDRESS_LINE_LEN_MAX: usize = 255;
/// Longest city.
pub const CITY_LEN_MAX: usize = 100;
/// Longest state / region.
pub const REGION_LEN_MAX: usize = 50;

/// `POST /customers`.
#[derive(Clone, PartialEq, Eq)]
pub struct NewCustomer {
    /// Given name.
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// Date of birth (18+).
    pub date_of_birth: NaiveDate,
    /// SSN (`AAA-GG-SSSS`), optional.
    pub ssn: Option<String>,
    /// Address line 1.
    pub address_line1: String,
    /// Address line 2.
    pub address_line2: Option<String>,
    /// City.
    pub city: String,
    /// State / region.
    pub state: String,
    /// Postal code.
    pub zip_code: String,
    /// ISO 3166-1 alpha-2 country.
    pub country: String,
}

impl std::fmt::Debug for NewCustomer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the SSN (nor the rest of the PII).
        write!(
            f,
            "NewCustomer({} {}, ssn: {})",
            self.first_name,
            self.last_name,
            if self.ssn.is_some() {
                "<redacted>"
            } else {
                "none"
            }
        )
    }
}

/// `PUT /customers/:id`: the only fields a profile update may change (no mass assignment of
/// KYC status, SSN, date of birth or owner). `None` keeps a field; `address_line2:
/// Some(None)` clears it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CustomerPatch {
    /// Given name.
    pub first_name: Option<String>,
    /// Family name.
    pub last_name: Option<String>,
    /// Address line 1.
    pub address_line1: Option<String>,
    /// Address line 2.
    pub address_line2: Option<Option<String>>,
    /// City.
    pub city: Option<String>,
    /// State.
    pub state: Option<String>,
    /// Postal code.
    pub zip_code: Option<String>,
    /// Country.
    pub country: Option<String>,
}

/// Profile fields that are identity data verified by KYC (date of birth and SSN are not
/// patchable at all).
const LEGAL_NAME_FIELDS: [&str; 2] = ["first_name", "last_name"];

fn legal_name_locked() -> BankError {
    BankError::InvalidState(
        "the legal name was verified by KYC: contact support to change it".into(),
    )
}

/// The audit entry of a profile edit that changes `changed` on `c`, and the refusal when a
/// customer tries to change the legal name KYC verified (or is verifying).
fn judge_edit(
    actor: &Actor,
    c: &CustomerRecord,
    changed: &[&str],
) -> (AuditEvent<'static>, Option<BankError>) {
    let legal = changed.iter().any(|f| LEGAL_NAME_FIELDS.contains(f));
    let locked = matches!(c.kyc_status, KycStatus::Submitted | KycStatus::Approved);
    let mut detail = json!({"fields": changed, "kyc_status": c.kyc_status.as_str()});
    if legal && locked {
        detail["legal_name_change"] = json!(true);
    }
    let ev = AuditEvent::new("customer.update", "customer", c.id).detail(detail);
    if legal && locked && !actor.is_staff() {
        return (ev.outcome(AuditOutcome::Denied), Some(legal_name_locked()));
    }
    (ev, None)
}

/// A [`CustomerPatch`] whose fields passed validation (normalised; an empty line 2 clears it).
struct CleanPatch {
    first_name: Option<String>,
    last_name: Option<String>,
    address_line1: Option<String>,
    address_line2: Option<Option<String>>,
    city: Option<String>,
    state: Option<String>,
    zip_code: Option<String>,
    country: Option<String>,
}

impl CustomerPatch {
    fn clean(&self) -> BankResult<CleanPatch> {
        let field = |name: &str, v: &Option<String>, max: usize| {
            v.as_deref().map(|v| text(name, v, max)).transpose()
        };
        let address_line2 = match &self.address_line2 {
            None => None,
            Some(None) => Some(None),
            Some(Some(v)) if v.trim().is_empty() => Some(None),
            Some(Some(v)) => Some(Some(text("address_line2", v, ADDRESS_LINE_LEN_MAX)?)),
        };
        Ok(CleanPatch {
            first_name: field("first_name", &self.first_name, PERSON_NAME_LEN_MAX)?,
            last_name: field("last_name", &self.last_name, PERSON_NAME_LEN_MAX)?,
            address_line1: field("address_line1", &self.address_line1, ADDRESS_LINE_LEN_MAX)?,
            address_line2,
            city: field("city", &self.city, CITY_LEN_MAX)?,
            state: field("state", &self.state, REGION_LEN_MAX)?,
            zip_code: self.zip_code.as_deref().map(zip).transpose()?,
            country: self.country.as_deref().map(country).transpose()?,
        })
    }
}

impl CleanPatch {
    /// Sets the fields that differ on `c`; answers their names, in field order.
    fn apply(&self, c: &mut CustomerRecord) -> Vec<&'static str> {
        let mut changed = Vec::new();
        macro_rules! set {
            ($($field:ident),+) => {$(
                if let Some(v) = &self.$field {
                    if c.$field != *v {
                        c.$field = v.clone();
                        changed.push(stringify!($field));
                    }
                }
            )+};
        }
        set!(
            first_name,
            last_name,
            address_line1,
            address_line2,
            city,
            state,
            zip_code,
            country
        );
        changed
    }
}

/// A customer as shown outside the engine: the SSN only as its last four digits.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerView {
    /// Id.
    pub id: CustomerId,
    /// Owner.
    pub user_id: UserId,
    /// Given name.
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// Date of birth.
    pub date_of_birth: NaiveDate,
    /// Last four SSN digits.
    pub ssn_last4: Option<String>,
    /// Contact email.
    pub email: Option<String>,
    /// Contact phone.
    pub phone: Option<String>,
    /// Address line 1.
    pub address_line1: String,
    /// Address line 2.
    pub address_line2: Option<String>,
    /// City.
    pub city: String,
    /// State.
    pub state: String,
    /// Postal code.
    pub zip_code: String,
    /// Country.
    pub country: String,
    /// KYC status.
    pub kyc_status: KycStatus,
    /// Why KYC was rejected.
    pub kyc_rejection_reason: Option<String>,
    /// Approved at.
    pub kyc_verified_at: Option<DateTime<Utc>>,
    /// The checking account opened at onboarding.
    pub default_account_id: Option<AccountId>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl From<&CustomerRecord> for CustomerView {
    fn from(c: &CustomerRecord) -> Self {
        CustomerView {
            id: c.id,
            user_id: c.user_id,
            first_name: c.first_name.clone(),
            last_name: c.last_name.clone(),
            date_of_birth: c.date_of_birth,
            ssn_last4: c.ssn.as_ref().map(|s| s.last4.clone()),
            email: c.email.clone(),
            phone: c.phone.clone(),
            address_line1: c.address_line1.clone(),
            address_line2: c.address_line2.clone(),
            city: c.city.clone(),
            state: c.state.clone(),
            zip_code: c.zip_code.clone(),
            country: c.country.clone(),
            kyc_status: c.kyc_status,
            kyc_rejection_reason: c.kyc_rejection_reason.clone(),
            kyc_verified_at: c.kyc_verified_at,
            default_account_id: c.default_account_id,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

/// `GET /customers/:id/kyc/status`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KycView {
    /// Status.
    pub kyc_status: KycStatus,
    /// Why it was rejected.
    pub rejection_reason: Option<String>,
    /// Last submitted.
    pub submitted_at: Option<DateTime<Utc>>,
    /// Approved.
    pub verified_at: Option<DateTime<Utc>>,
    /// Documents on file.
    pub documents: usize,
}

pub(super) fn text(field: &str, v: &str, max: usize) -> BankResult<String> {
    let t = v.trim();
    if t.is_empty() || t.chars().count() > max || t.chars().any(char::is_control) {
        return Err(BankError::validation(
            field,
            format!("1 to {max} printable characters"),
        ));
    }
    Ok(t.to_string())
}

pub(super) fn country(v: &str) -> BankResult<String> {
    let c = v.trim().to_ascii_uppercase();
    if c.len() != 2 || !c.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(BankError::validation(
            "country",
            "an ISO 3166-1 alpha-2 code such as US",
        ));
    }
    Ok(c)
}

pub(super) fn zip(v: &str) -> BankResult<String> {
    let z = v.trim();
    if !(3..=10).contains(&z.len())
        || !z
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == ' ' || c == '-')
    {
        return Err(BankError::validation(
            "zip_code",
            "3 to 10 letters, digits, spaces or dashes",
        ));
    }
    Ok(z.to_string())
}

pub(crate) fn ssn_aad(c: CustomerId) -> String {
    format!("ssn:{c}")
}

pub(super) fn not_found() -> BankError {
    BankError::NotFound {
        resource: "customer",
    }
}

impl CustomerService<'_> {
    /// Creates the customer profile of a user and runs the onboarding saga: step 1 commits
    /// the customer (`customer.created`); step 2 opens the default checking account (frozen
    /// until KYC approval when KYC is required); if step 2 fails, the compensation deletes
    /// the customer and emits `account.creation.failed`, and the step's error is returned.
    ///
    /// A customer creates their own profile (`user_id` must be `None` or their own id);
    /// admins and the system may create one for any user.
    pub async fn create_customer(
        &self,
        actor: &Actor,
        user_id: Option<UserId>,
        req: NewCustomer,
    ) -> BankResult<CustomerView> {
        let owner = match (user_id, actor.user_id) {
            (Some(u), _) if actor.is_admin() => u,
            (Some(u), Some(me)) if u == me => me,
            (None, Some(me)) => me,
            _ => {
                return Err(BankError::Forbidden(
                    "customers create only their own profile".into(),
                ))
            }
        };
        let first_name = text("first_name", &req.first_name, PERSON_NAME_LEN_MAX)?;
        let last_name = text("last_name", &req.last_name, PERSON_NAME_LEN_MAX)?;
        let today = self.now().date_naive();
        if req.date_of_birth > today
            || req
                .date_of_birth
                .years_since(NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or(today))
                .is_none()
        {
            return Err(BankError::validation(
                "date_of_birth",
                "not a plausible date of birth",
            ));
        }
        if today.years_since(req.date_of_birth).unwrap_or(0) < CUSTOMER_AGE_MIN_YEARS {
            return Err(BankError::validation(
                "date_of_birth",
                format!("customers must be {CUSTOMER_AGE_MIN_YEARS} or older"),
            ));
        }
        let ssn = req
            .ssn
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(Ssn::parse)
            .transpose()?;
        let address_line1 = text("address_line1", &req.address_line1, ADDRESS_LINE_LEN_MAX)?;
        let address_line2 = req
            .address_line2
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| text("address_line2", s, ADDRESS_LINE_LEN_MAX))
            .transpose()?;
        let city = text("city", &req.city, CITY_LEN_MAX)?;
        let state = text("state", &req.state, REGION_LEN_MAX)?;
        let zip_code = zip(&req.zip_code)?;
        let country = country(&req.country)?;
        let id = CustomerId(self.new_uuid());
        let sealed = match &ssn {
            Some(s) => Some(SealedSsn {
                sealed: seal(&*self.keys, s.digits().as_bytes(), &ssn_aad(id))?,
                last4: s.last4(),
            }),
            None => None,
        };
        // Step 1: the customer.
        let created = self
            .write(|uow, events, _| {
                Box::pin(async {
                    let (uow, events) = (uow, events);
                    let user = uow
                        .user(owner)
                        .await?
                        .ok_or(BankError::NotFound { resource: "user" })?;
                    let now = self.now_us();
                    let c = CustomerRecord {
                        id,
                        user_id: owner,
                        first_name: first_name.clone(),
                        last_name: last_name.clone(),
                        date_of_birth: req.date_of_birth,
                        ssn: sealed.clone(),
                        email: Some(user.email.to_string()),
                        phone: user.phone.as_ref().map(|p| p.to_string()),
                        address_line1: address_line1.clone(),
                        address_line2: address_line2.clone(),
                        city: city.clone(),
                        state: state.clone(),
                        zip_code: zip_code.clone(),
                        country: country.clone(),
                        kyc_status: KycStatus::Pending,
                        kyc_rejection_reason: None,
                        kyc_submitted_at: None,
                        kyc_verified_at: None,
                        default_account_id: None,
                        created_at: now,
                        updated_at: now,
                        version: 1,
                    };
                    uow.insert_customer(&c).await?;
                    events.push(self.customer_event(EventType::CustomerCreated, &c, json!({})));
                    self.audit(
                        uow,
                        actor,
                        AuditEvent::new("customer.create", "customer", c.id),
                    )
                    .await?;
                    Ok(c)
                })
            })
            .await?;
        // Step 2: the default account.
        match self.open_default_account(&created).await {
            Ok(c) => Ok(CustomerView::from(&c)),
            Err(step_error) => {
                self.compensate_onboarding(&created, &step_error).await?;
                Err(step_error)
            }
        }
    }

    /// A customer the actor may see.
    pub async fn customer(&self, actor: &Actor, id: CustomerId) -> BankResult<CustomerView> {
        let mut uow = self.store.begin(TxMode::Read).await?;
        Ok(CustomerView::from(
            &self.readable_customer(&mut *uow, actor, id).await?,
        ))
    }

    /// The customer profile of a user (the caller's own, or any for staff).
    pub async fn customer_of_user(&self, actor: &Actor, user: UserId) -> BankResult<CustomerView> {
        if actor.user_id != Some(user) && !actor.is_staff() {
            return Err(not_found());
        }
        let mut uow = self.store.begin(TxMode::Read).await?;
        let c = uow.customer_by_user(user).await?.ok_or_else(not_found)?;
        Ok(CustomerView::from(&c))
    }

    /// Updates allow-listed profile fields; emits `customer.updated` naming the changed fields.
    /// Every edit is audited, whoever makes it. The legal name is identity data KYC verified:
    /// once KYC is submitted or approved only staff may change it (a customer is refused with
    /// `invalid_state` and the attempt is audited as denied).
    pub async fn update_customer(
        &self,
        actor: &Actor,
        id: CustomerId,
        patch: CustomerPatch,
    ) -> BankResult<CustomerView> {
        let p = patch.clean()?;
        let c = self
            .write(|uow, events, _| {
                Box::pin(async {
                    let (uow, events) = (uow, events);
                    let mut c = self.actable_customer(uow, actor, id).await?;
                    let changed = p.apply(&mut c);
                    if changed.is_empty() {
                        return Ok(Ok(c));
                    }
                    let (ev, refusal) = judge_edit(actor, &c, &changed);
                    if let Some(refusal) = refusal {
                        // Committed on purpose (nothing else is written): an attempt to
                        // change verified identity data is a security event.
                        self.audit(uow, actor, ev).await?;
                        return Ok(Err(refusal));
                    }
                    c.updated_at = self.now_us();
                    c.version += 1;
                    uow.update_customer(&c).await?;
                    events.push(self.customer_event(
                        EventType::CustomerUpdated,
                        &c,
                        json!({"changedFields": changed}),
                    ));
                    self.audit(uow, actor, ev).await?;
                    Ok(Ok(c))
                })
            })
            .await??;
        Ok(CustomerView::from(&c))
    }

    /// Staff search by name / email / phone / KYC status, paged by id (`after` = the last id
    /// of the previous page).
    pub async fn search_customers(
        &self,
        actor: &Actor,
        search: CustomerSearch,
    ) -> BankResult<Vec<CustomerView>> {
        actor.require_staff()?;
        check_page_limit(search.limit)?;
        let mut s = search;
        s.name = s
            .name
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(|n| text("name", n, SEARCH_NAME_LEN_MAX))
            .transpose()?;
        s.email = s
            .email
            .as_deref()
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .map(|e| Email::parse(e).map(String::from))
            .transpose()?;
        s.phone = s
            .phone
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| Phone::parse(p).map(String::from))
            .transpose()?;
        let rows = self
            .store
            .begin(TxMode::Read)
            .await?
            .search_customers(&s)
            .await?;
        Ok(rows.iter().map(CustomerView::from).collect())
    }

    /// True when `candidate` is the customer's SSN (staff identity check over the phone).
    /// The SSN itself never leaves the engine.
    pub async fn verify_customer_ssn(
        &self,
        actor: &Actor,
        id: CustomerId,
        candidate: &str,
    ) -> BankResult<bool> {
        actor.require_staff()?;
        let c = self
            .store
            .begin(TxMode::Read)
            .await?
            .customer(id)
            .await?
            .ok_or_else(not_found)?;
        let Some(s) = c.ssn else { return Ok(false) };
        let Ok(candidate) = Ssn::parse(candidate) else {
            return Ok(false);
        };
        let stored = open(&*self.keys, &s.sealed, &ssn_aad(id))?;
        let matched = crate::crypto::constant_time_eq(&stored, candidate.digits().as_bytes());
        self.write(|uow, _ev, _| {
            Box::pin(async {
                let (uow, _ev) = (uow, _ev);
                self.audit(
                    uow,
                    actor,
                    AuditEvent::new("customer.ssn_check", "customer", id)
                        .detail(json!({"matched": matched})),
                )
                .await
            })
        })
        .await?;
        Ok(matched)
    }

    /// Re-encrypts a customer's SSN under the current key (admin; for key rotation).
    /// Returns the key id now in use.
    pub async fn reseal_customer_ssn(
        &self,
        actor: &Actor,
        id: CustomerId,
    ) -> BankResult<Option<String>> {
        actor.require_admin()?;
        self.write(|uow, _ev, _| {
            Box::pin(async {
                let (uow, _ev) = (uow, _ev);
                let mut c = uow.customer(id).await?.ok_or_else(not_found)?;
                let Some(s) = c.ssn.clone() else {
                    return Ok(None);
                };
                let plain = open(&*self.keys, &s.sealed, &ssn_aad(id))?;
                let sealed = seal(&*self.keys, &plain, &ssn_aad(id))?;
                let key_id = sealed.key_id.clone();
                c.ssn = Some(SealedSsn {
                    sealed,
                    last4: s.last4,
                });
                c.updated_at = self.now_us();
                c.version += 1;
                uow.update_customer(&c).await?;
                self.audit(
                    uow,
                    actor,
                    AuditEvent::new("customer.ssn_reseal", "customer", id)
                        .detail(json!({"key_id": key_id})),
                )
                .await?;
                Ok(Some(key_id))
            })
        })
        .await
    }
}

impl Inner {
    pub(super) fn customer_event(
        &self,
        ty: EventType,
        c: &CustomerRecord,
        extra: serde_json::Value,
    ) -> DomainEvent {
        let mut data = json!({
            "customerId": c.id.to_string(),
            "userId": c.user_id.to_string(),
            "kycStatus": c.kyc_status.as_str(),
        });
        if let (Some(m), Some(e)) = (data.as_object_mut(), extra.as_object()) {
            m.extend(e.clone());
        }
        self.json_event(ty, c.id.0, data)
    }

    /// Loads a customer the actor may read (`not_found` otherwise: no BOLA).
    pub(super) async fn readable_customer(
        &self,
        uow: &mut dyn UnitOfWork,
        actor: &Actor,
        id: CustomerId,
    ) -> BankResult<CustomerRecord> {
        let c = uow.customer(id).await?.ok_or_else(not_found)?;
        if !actor.may_read_customer(id) && actor.user_id != Some(c.user_id) {
            return Err(actor.refuse_foreign("customer", id));
        }
        Ok(c)
    }

    /// Loads a customer the actor may act for.
    pub(super) async fn actable_customer(
        &self,
        uow: &mut dyn UnitOfWork,
        actor: &Actor,
        id: CustomerId,
    ) -> BankResult<CustomerRecord> {
        let c = uow.customer(id).await?.ok_or_else(not_found)?;
        if !actor.may_act_for_customer(id) && actor.user_id != Some(c.user_id) {
            return Err(actor.refuse_foreign("customer", id));
        }
        Ok(c)
    }

    pub(super) async fn open_default_account(
        &self,
        c: &CustomerRecord,
    ) -> BankResult<CustomerRecord> {
        let system = Actor::system();
        self.write(|uow, events, _| {
            Box::pin(async {
                let (uow, events) = (uow, events);
                let req = OpenAccountRequest {
                    customer_id: c.id,
                    account_type: AccountType::Checking,
                    currency: Currency::USD,
                    overdraft_limit: None,
                    daily_limit: None,
                };
                let account = self
                    .money()
                    .exec(uow, &system, &Command::OpenAccount(req), events)
                    .await?;
                let crate::banking::Outcome::Account(account) = account else {
                    return Err(BankError::internal("unexpected outcome"));
                };
                if self.config.require_kyc {
                    // Usable only once KYC is approved (the approval unfreezes it).
                    self.money()
                        .exec(
                            uow,
                            &system,
                            &Command::SetStatus {
                                id: account.id,
                                status: AccountStatus::Frozen,
                            },
                            events,
                        )
                        .await?;
                }
                let mut c = uow.customer(c.id).await?.ok_or_else(not_found)?;
                c.default_account_id = Some(account.id);
                uow.update_customer(&c).await?;
                Ok(c)
            })
        })
        .await
    }

    pub(super) async fn compensate_onboarding(
        &self,
        c: &CustomerRecord,
        why: &BankError,
    ) -> BankResult<()> {
        self.write(|uow, events, _| {
            Box::pin(async {
                let (uow, events) = (uow, events);
                uow.delete_customer(c.id).await?;
                events.push(self.customer_event(
                    EventType::AccountCreationFailed,
                    c,
                    json!({"reason": why.code(), "compensation": "customer removed"}),
                ));
                let ev = AuditEvent::new("customer.onboarding_compensated", "customer", c.id)
                    .outcome(crate::audit::AuditOutcome::Failure)
                    .detail(json!({"reason": why.code()}));
                self.audit(uow, &Actor::system(), ev).await
            })
        })
        .await
    }
}
