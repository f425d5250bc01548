//! KYC: documents (upload, list, content) and the KYC state machine (submit, approve,
//! reject, status).

use serde_json::json;

use crate::account::AccountStatus;
use crate::audit::AuditEvent;
use crate::auth::Actor;
use crate::bank::Inner;
use crate::banking::Command;
use crate::crypto::sha256_hex_plain;
use crate::customer::documents::{sniff_content_type, DOCUMENT_SIZE_MAX_BYTES};
use crate::customer::{CustomerRecord, DocumentRecord, DocumentStatus, DocumentType, KycStatus};
use crate::error::{BankError, BankResult};
use crate::events::EventType;
use crate::ids::{CustomerId, DocumentId};
use crate::notify::vars;
use crate::ports::{TxMode, UnitOfWork};

use super::service::*;

impl CustomerService<'_> {
    /// Uploads a KYC document (owner or admin): PDF, JPEG or PNG by magic bytes, at most
    /// 10 MB, while KYC is PENDING or REJECTED.
    pub async fn upload_document(
        &self,
        actor: &Actor,
        customer: CustomerId,
        document_type: DocumentType,
        bytes: &[u8],
    ) -> BankResult<DocumentRecord> {
        if bytes.is_empty() || bytes.len() > DOCUMENT_SIZE_MAX_BYTES {
            return Err(BankError::validation(
                "file",
                "a document has 1 byte to 10 MB",
            ));
        }
        let content_type = sniff_content_type(bytes)?;
        {
            let mut uow = self.store.begin(TxMode::Read).await?;
            let c = self.actable_customer(&mut *uow, actor, customer).await?;
            if !matches!(c.kyc_status, KycStatus::Pending | KycStatus::Rejected) {
                return Err(BankError::InvalidState(format!(
                    "documents cannot be added while KYC is {}",
                    c.kyc_status
                )));
            }
        }
        let id = DocumentId(self.new_uuid());
        let key = format!("kyc/{customer}/{id}");
        // Bytes first: a row never points at missing bytes. If the row fails, remove them.
        self.documents.put(&key, bytes).await?;
        let doc = DocumentRecord {
            id,
            customer_id: customer,
            document_type,
            content_type: content_type.to_string(),
            size_bytes: bytes.len() as u64,
            sha256: sha256_hex_plain(bytes),
            storage_key: key.clone(),
            status: DocumentStatus::Pending,
            uploaded_at: self.now_us(),
            verified_at: None,
        };
        let d = &doc;
        let r = self
            .write(|uow, _ev, _| {
                Box::pin(async {
                    let (uow, _ev) = (uow, _ev);
                    let c = self.actable_customer(uow, actor, customer).await?;
                    if !matches!(c.kyc_status, KycStatus::Pending | KycStatus::Rejected) {
                        return Err(BankError::InvalidState(format!(
                            "documents cannot be added while KYC is {}",
                            c.kyc_status
                        )));
                    }
                    if uow
                        .documents_of_customer(customer, DOCUMENTS_PER_CUSTOMER_MAX)
                        .await?
                        .len()
                        >= DOCUMENTS_PER_CUSTOMER_MAX as usize
                    {
                        return Err(BankError::LimitExceeded(format!(
                            "at most {DOCUMENTS_PER_CUSTOMER_MAX} documents per customer"
                        )));
                    }
                    uow.insert_document(d).await
                })
            })
            .await;
        if let Err(e) = r {
            let _ = self.documents.delete(&key).await;
            return Err(e);
        }
        Ok(doc)
    }

    /// A customer's documents (owner or staff).
    pub async fn documents(
        &self,
        actor: &Actor,
        customer: CustomerId,
    ) -> BankResult<Vec<DocumentRecord>> {
        let mut uow = self.store.begin(TxMode::Read).await?;
        self.readable_customer(&mut *uow, actor, customer).await?;
        uow.documents_of_customer(customer, DOCUMENTS_PER_CUSTOMER_MAX)
            .await
    }

    /// A document's bytes (owner or staff; staff reads are audited).
    pub async fn document_content(
        &self,
        actor: &Actor,
        customer: CustomerId,
        id: DocumentId,
    ) -> BankResult<(DocumentRecord, Vec<u8>)> {
        let doc = {
            let mut uow = self.store.begin(TxMode::Read).await?;
            self.readable_customer(&mut *uow, actor, customer).await?;
            uow.document(id)
                .await?
                .filter(|d| d.customer_id == customer)
                .ok_or(BankError::NotFound {
                    resource: "document",
                })?
        };
        let bytes = self
            .documents
            .get(&doc.storage_key)
            .await?
            .ok_or_else(|| BankError::internal("document bytes missing"))?;
        if actor.is_staff() {
            self.write(|uow, _ev, _| {
                Box::pin(async {
                    let (uow, _ev) = (uow, _ev);
                    self.audit(
                        uow,
                        actor,
                        AuditEvent::new("customer.document_read", "document", id),
                    )
                    .await
                })
            })
            .await?;
        }
        Ok((doc, bytes))
    }

    /// Submits KYC for review (owner or admin): PENDING or REJECTED → SUBMITTED; needs at
    /// least one identity document (passport, driver's license or national id) not rejected,
    /// and the customer's verified email (`email_unverified` otherwise, finding 12).
    pub async fn submit_kyc(&self, actor: &Actor, id: CustomerId) -> BankResult<KycView> {
        let c = self
            .write(|uow, events, _| {
                Box::pin(async {
                    let (uow, events) = (uow, events);
                    let mut c = self.actable_customer(uow, actor, id).await?;
                    Inner::kyc_transition(&c, KycStatus::Submitted)?;
                    self.require_verified_email(uow, actor, &c).await?;
                    let docs = uow
                        .documents_of_customer(id, DOCUMENTS_PER_CUSTOMER_MAX)
                        .await?;
                    if !docs.iter().any(|d| {
                        d.document_type.proves_identity() && d.status != DocumentStatus::Rejected
                    }) {
                        return Err(BankError::validation(
                            "documents",
                            "upload a passport, driver's license or national id first",
                        ));
                    }
                    let now = self.now_us();
                    c.kyc_status = KycStatus::Submitted;
                    c.kyc_submitted_at = Some(now);
                    c.kyc_rejection_reason = None;
                    c.updated_at = now;
                    c.version += 1;
                    uow.update_customer(&c).await?;
                    events.push(self.customer_event(
                        EventType::KycSubmitted,
                        &c,
                        json!({"documents": docs.len()}),
                    ));
                    self.audit(uow, actor, AuditEvent::new("kyc.submit", "customer", id))
                        .await?;
                    Ok(c)
                })
            })
            .await?;
        self.kyc_status(actor, c.id).await
    }

    /// Approves KYC (admin): SUBMITTED → APPROVED. Unfreezes the onboarding account,
    /// emits `kyc.approved` and notifies the customer.
    pub async fn approve_kyc(&self, actor: &Actor, id: CustomerId) -> BankResult<KycView> {
        actor.require_admin()?;
        let deliveries = self
            .write(|uow, events, _| {
                Box::pin(async {
                    let (uow, events) = (uow, events);
                    let mut c = uow.customer(id).await?.ok_or_else(not_found)?;
                    Inner::kyc_transition(&c, KycStatus::Approved)?;
                    let now = self.now_us();
                    c.kyc_status = KycStatus::Approved;
                    c.kyc_verified_at = Some(now);
                    c.updated_at = now;
                    c.version += 1;
                    uow.update_customer(&c).await?;
                    self.decide_documents(uow, id, DocumentStatus::Verified)
                        .await?;
                    let ev = self.customer_event(
                        EventType::KycApproved,
                        &c,
                        json!({"firstName": c.first_name}),
                    );
                    let ev_id = ev.id;
                    events.push(ev);
                    if let Some(acc) = c.default_account_id {
                        if uow
                            .account(acc)
                            .await?
                            .is_some_and(|a| a.status == AccountStatus::Frozen)
                        {
                            let cmd = Command::SetStatus {
                                id: acc,
                                status: AccountStatus::Active,
                            };
                            self.money()
                                .exec(uow, &Actor::system(), &cmd, events)
                                .await?;
                        }
                    }
                    self.audit(uow, actor, AuditEvent::new("kyc.approve", "customer", id))
                        .await?;
                    match uow.user(c.user_id).await? {
                        Some(u) => {
                            self.enqueue_notification(
                                uow,
                                &u,
                                "kyc_approved",
                                &vars([("first_name", c.first_name.clone())]),
                                Some(ev_id),
                            )
                            .await
                        }
                        None => Ok(Vec::new()),
                    }
                })
            })
            .await?;
        self.deliver(deliveries).await;
        self.kyc_status(actor, id).await
    }

    /// Rejects KYC (admin) with a reason: SUBMITTED → REJECTED. The customer may upload new
    /// documents and resubmit.
    pub async fn reject_kyc(
        &self,
        actor: &Actor,
        id: CustomerId,
        reason: &str,
    ) -> BankResult<KycView> {
        actor.require_admin()?;
        let reason = text("reason", reason, KYC_REASON_LEN_MAX)?;
        self.write(|uow, events, _| {
            Box::pin(async {
                let (uow, events) = (uow, events);
                let mut c = uow.customer(id).await?.ok_or_else(not_found)?;
                Inner::kyc_transition(&c, KycStatus::Rejected)?;
                let now = self.now_us();
                c.kyc_status = KycStatus::Rejected;
                c.kyc_rejection_reason = Some(reason.clone());
                c.updated_at = now;
                c.version += 1;
                uow.update_customer(&c).await?;
                self.decide_documents(uow, id, DocumentStatus::Rejected)
                    .await?;
                events.push(self.customer_event(
                    EventType::KycRejected,
                    &c,
                    json!({"reason": reason}),
                ));
                self.audit(
                    uow,
                    actor,
                    AuditEvent::new("kyc.reject", "customer", id).detail(json!({"reason": reason})),
                )
                .await
            })
        })
        .await?;
        self.kyc_status(actor, id).await
    }

    /// KYC status (owner or staff).
    pub async fn kyc_status(&self, actor: &Actor, id: CustomerId) -> BankResult<KycView> {
        let mut uow = self.store.begin(TxMode::Read).await?;
        let c = self.readable_customer(&mut *uow, actor, id).await?;
        let documents = uow
            .documents_of_customer(id, DOCUMENTS_PER_CUSTOMER_MAX)
            .await?
            .len();
        Ok(KycView {
            kyc_status: c.kyc_status,
            rejection_reason: c.kyc_rejection_reason,
            submitted_at: c.kyc_submitted_at,
            verified_at: c.kyc_verified_at,
            documents,
        })
    }
}

impl Inner {
    pub(super) fn kyc_transition(c: &CustomerRecord, to: KycStatus) -> BankResult<()> {
        if c.kyc_status.can_go_to(to) {
            Ok(())
        } else {
            Err(BankError::InvalidState(format!(
                "KYC cannot go from {} to {to}",
                c.kyc_status
            )))
        }
    }

    pub(super) async fn decide_documents(
        &self,
        uow: &mut dyn UnitOfWork,
        id: CustomerId,
        status: DocumentStatus,
    ) -> BankResult<()> {
        let now = self.now_us();
        for mut d in uow
            .documents_of_customer(id, DOCUMENTS_PER_CUSTOMER_MAX)
            .await?
        {
            if d.status == DocumentStatus::Pending {
                d.status = status;
                d.verified_at = Some(now);
                uow.update_document(&d).await?;
            }
        }
        Ok(())
    }
}

impl Inner {
    /// `EmailUnverified` unless the customer's login has verified its email (finding 12):
    /// KYC, and with it every account, waits for a reachable, owned address. Staff cannot
    /// submit around it; only the embedding program itself (`Actor::system`) may, or an
    /// engine configured without the rule (`BankConfig::require_verified_email`).
    async fn require_verified_email(
        &self,
        uow: &mut dyn UnitOfWork,
        actor: &Actor,
        c: &CustomerRecord,
    ) -> BankResult<()> {
        if actor.system || !self.config.require_verified_email {
            return Ok(());
        }
        let verified = uow.user(c.user_id).await?.is_some_and(|u| u.email_verified);
        if verified {
            Ok(())
        } else {
            Err(BankError::EmailUnverified)
        }
    }
}
