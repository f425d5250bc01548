//! Customer context data: profiles, the sealed SSN, KYC status and documents.

use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::account::string_enum;
use crate::crypto::Sealed;
use crate::error::{BankError, BankResult};
use crate::ids::{AccountId, CustomerId, DocumentId, UserId};

string_enum!(
    /// Where a customer stands in the KYC workflow.
    KycStatus, "kyc_status" {
        /// Created, nothing submitted yet.
        Pending = "PENDING",
        /// Documents submitted, awaiting a decision.
        Submitted = "SUBMITTED",
        /// Approved: the customer may hold accounts.
        Approved = "APPROVED",
        /// Rejected (with a reason); the customer may resubmit.
        Rejected = "REJECTED",
    }
);

impl KycStatus {
    /// Whether the state machine allows `self → to`.
    pub fn can_go_to(self, to: KycStatus) -> bool {
        use KycStatus::*;
        matches!(
            (self, to),
            (Pending, Submitted)
                | (Rejected, Submitted)
                | (Submitted, Approved)
                | (Submitted, Rejected)
        )
    }
}

string_enum!(
    /// Kinds of KYC document.
    DocumentType, "document_type" {
        /// Passport (identity).
        Passport = "PASSPORT",
        /// Driver's license (identity).
        DriversLicense = "DRIVERS_LICENSE",
        /// National id card (identity).
        NationalId = "NATIONAL_ID",
        /// Utility bill (proof of address).
        UtilityBill = "UTILITY_BILL",
        /// Bank statement (proof of address).
        BankStatement = "BANK_STATEMENT",
    }
);

impl DocumentType {
    /// True for documents that prove identity (KYC submission needs at least one).
    pub fn proves_identity(self) -> bool {
        matches!(
            self,
            DocumentType::Passport | DocumentType::DriversLicense | DocumentType::NationalId
        )
    }
}

string_enum!(
    /// Review status of one document.
    DocumentStatus, "document_status" {
        /// Uploaded.
        Pending = "PENDING",
        /// Accepted with the KYC approval.
        Verified = "VERIFIED",
        /// Refused with the KYC rejection.
        Rejected = "REJECTED",
    }
);

/// A US Social Security number, validated. Never printed whole.
#[derive(Clone, PartialEq, Eq)]
pub struct Ssn(String);

impl Ssn {
    /// Parses `AAA-GG-SSSS` or nine digits: area not 000, 666 or 9xx; group not 00; serial
    /// not 0000 (the SSA's never-issued ranges).
    pub fn parse(s: &str) -> BankResult<Ssn> {
        let digits: String = s
            .trim()
            .chars()
            .filter(|c| *c != '-' && *c != ' ')
            .collect();
        let bad = || {
            BankError::validation(
                "ssn",
                "an SSN has 9 digits (AAA-GG-SSSS) in an issued range",
            )
        };
        if digits.len() != 9 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let (area, group, serial) = (&digits[..3], &digits[3..5], &digits[5..]);
        if area == "000"
            || area == "666"
            || area.starts_with('9')
            || group == "00"
            || serial == "0000"
        {
            return Err(bad());
        }
        Ok(Ssn(digits))
    }

    /// The nine digits (only for sealing).
    pub fn digits(&self) -> &str {
        &self.0
    }

    /// The last four digits: the only part that ever leaves the engine.
    pub fn last4(&self) -> String {
        self.0[5..].to_string()
    }
}

impl fmt::Debug for Ssn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Ssn(***-**-{})", &self.0[5..])
    }
}

/// The SSN as stored: AES-256-GCM ciphertext plus the last four digits for display.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealedSsn {
    /// Key id, nonce and ciphertext (AAD `ssn:<customer id>`).
    pub sealed: Sealed,
    /// Last four digits.
    pub last4: String,
}

/// A customer profile as stored (the seed's `customers` table).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerRecord {
    /// Id.
    pub id: CustomerId,
    /// The login identity; unique (one customer per user).
    pub user_id: UserId,
    /// Given name.
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// Date of birth (18+ at creation).
    pub date_of_birth: NaiveDate,
    /// Sealed SSN, if given.
    pub ssn: Option<SealedSsn>,
    /// Contact email copied from the user at creation (lower-case), for staff search.
    pub email: Option<String>,
    /// Contact phone (E.164) copied from the user at creation, for staff search.
    pub phone: Option<String>,
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
    /// Country (ISO 3166-1 alpha-2).
    pub country: String,
    /// KYC status.
    pub kyc_status: KycStatus,
    /// Why KYC was rejected (while REJECTED).
    pub kyc_rejection_reason: Option<String>,
    /// When KYC was submitted last.
    pub kyc_submitted_at: Option<DateTime<Utc>>,
    /// When KYC was approved.
    pub kyc_verified_at: Option<DateTime<Utc>>,
    /// The checking account the onboarding saga opened.
    pub default_account_id: Option<AccountId>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Bumped on every update.
    pub version: i64,
}

/// Staff search over customers. Filters are ANDed; results ordered by id ascending.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CustomerSearch {
    /// ASCII-case-insensitive substring of `first_name + " " + last_name`.
    pub name: Option<String>,
    /// Exact (lower-case) email.
    pub email: Option<String>,
    /// Exact E.164 phone.
    pub phone: Option<String>,
    /// KYC status.
    pub kyc_status: Option<KycStatus>,
    /// Cursor: only ids greater than this.
    pub after: Option<CustomerId>,
    /// 1..=100.
    pub limit: u32,
}

/// A KYC document as stored (the seed's `kyc_documents`; bytes live in the document store).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentRecord {
    /// Id.
    pub id: DocumentId,
    /// Owner.
    pub customer_id: CustomerId,
    /// Kind.
    pub document_type: DocumentType,
    /// MIME type detected from the content's magic bytes.
    pub content_type: String,
    /// Size.
    pub size_bytes: u64,
    /// Hex SHA-256 of the content.
    pub sha256: String,
    /// Key in the document store (the seed's `document_url`).
    pub storage_key: String,
    /// Review status.
    pub status: DocumentStatus,
    /// Uploaded.
    pub uploaded_at: DateTime<Utc>,
    /// Reviewed.
    pub verified_at: Option<DateTime<Utc>>,
}
