//! Customer context: profiles with a sealed SSN, KYC documents and the KYC state machine,
//! staff search, and the onboarding saga.

mod documents;
mod envelope;
mod kyc;
mod model;
mod service;

pub use documents::{
    sniff_content_type, DocumentStore, MemoryDocumentStore, DOCUMENT_SIZE_MAX_BYTES,
};
pub use envelope::{
    EncryptedDocuments, DOCUMENT_ENVELOPE_MAGIC, DOCUMENT_ENVELOPE_OVERHEAD_MAX_BYTES,
    DOCUMENT_ENVELOPE_VERSION, DOCUMENT_OBJECT_SIZE_MAX_BYTES,
};
pub use model::*;
pub(crate) use service::ssn_aad;
pub use service::{
    CustomerPatch, CustomerService, CustomerView, KycView, NewCustomer, ADDRESS_LINE_LEN_MAX,
    CITY_LEN_MAX, CUSTOMER_AGE_MIN_YEARS, DOCUMENTS_PER_CUSTOMER_MAX, KYC_REASON_LEN_MAX,
    PERSON_NAME_LEN_MAX, REGION_LEN_MAX, SEARCH_NAME_LEN_MAX,
};

use crate::auth::Actor;
use crate::bank::Inner;
use crate::error::{BankError, BankResult};
use crate::ids::CustomerId;
use crate::ports::UnitOfWork;

impl Inner {
    /// Whether `actor` may open an account for `customer`, when `BankConfig::require_kyc` is
    /// on: a person (customer, admin or support user) needs the customer record to exist with
    /// KYC APPROVED. The system actor — the embedding program itself and the engine's own
    /// onboarding saga — is trusted like a core-banking batch job and is not checked (the
    /// saga's default account is opened FROZEN and unfrozen by the KYC approval).
    pub(crate) async fn customer_may_open(
        &self,
        uow: &mut dyn UnitOfWork,
        actor: &Actor,
        customer: CustomerId,
    ) -> BankResult<()> {
        if !self.config.require_kyc || actor.system {
            return Ok(());
        }
        match uow.customer(customer).await? {
            Some(c) if c.kyc_status == KycStatus::Approved => Ok(()),
            _ => Err(BankError::KycRequired),
        }
    }
}
