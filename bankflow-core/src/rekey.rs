//! Data-key rotation: re-sealing what an older key sealed.
//!
//! A key ring has one current key (new seals) and retired keys (still open old seals). After a
//! rotation, old ciphertexts keep working, and this walk re-seals them under the current key
//! page by page, in the background, so a leaked retired key no longer opens current secrets.
//! (Retired keys stay in the ring: audit entries keep the MAC of their day, by design.) It covers every value the engine seals with the ring: TOTP secrets (users),
//! SSNs (customers) and webhook signing secrets. KYC documents are re-wrapped when read
//! (`customer/envelope.rs`). Each page is one write unit with one audit entry, so a crash
//! mid-walk loses nothing: the next walk finds what is still stale.

use serde_json::json;

use crate::audit::AuditEvent;
use crate::auth::Actor;
use crate::crypto::{open, seal, KeyProvider, Sealed};
use crate::customer::CustomerSearch;
use crate::error::BankResult;
use crate::ids::{CustomerId, UserId};
use crate::maintenance::MaintenanceService;
use crate::ports::UnitOfWork;
use crate::webhook::WEBHOOKS_MAX;

/// Records read per re-seal page.
pub const RESEAL_PAGE_MAX: u32 = 100;
/// Pages one [`MaintenanceService::reseal_all`] walks at most (10 million records).
pub const RESEAL_PAGES_MAX: u32 = 100_000;

/// Where a re-seal walk stands: users, then customers, then webhooks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ResealCursor {
    /// Users with ids after this one (start: `None`).
    #[default]
    Start,
    /// Users after this id.
    Users(UserId),
    /// Customers after this id (`None`: from the first).
    Customers(Option<CustomerId>),
    /// The webhook subscriptions (one bounded page).
    Webhooks,
    /// Nothing left to walk.
    Done,
}

/// What a walk re-sealed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ResealReport {
    /// TOTP secrets.
    pub totp_secrets: u64,
    /// SSNs.
    pub ssns: u64,
    /// Webhook secrets (current and previous).
    pub webhook_secrets: u64,
}

impl ResealReport {
    /// Values re-sealed in all.
    pub fn total(&self) -> u64 {
        self.totp_secrets + self.ssns + self.webhook_secrets
    }

    fn add(&mut self, o: ResealReport) {
        self.totp_secrets += o.totp_secrets;
        self.ssns += o.ssns;
        self.webhook_secrets += o.webhook_secrets;
    }
}

/// `sealed` under the current key when an older key sealed it; `None` when already current.
pub fn reseal_if_stale(
    keys: &dyn KeyProvider,
    sealed: &Sealed,
    aad: &str,
) -> BankResult<Option<Sealed>> {
    let (current, _) = keys.current()?;
    if sealed.key_id == current {
        return Ok(None);
    }
    Ok(Some(seal(keys, &open(keys, sealed, aad)?, aad)?))
}

impl MaintenanceService<'_> {
    /// Walks everything sealed (see the module doc) and re-seals what an older key sealed.
    pub async fn reseal_all(&self) -> BankResult<ResealReport> {
        let mut cursor = ResealCursor::Start;
        let mut report = ResealReport::default();
        for _ in 0..RESEAL_PAGES_MAX {
            if cursor == ResealCursor::Done {
                break;
            }
            let (next, page) = self.reseal_step(cursor).await?;
            report.add(page);
            cursor = next;
        }
        Ok(report)
    }

    /// One page of the walk from `cursor`, in one write unit: returns the next cursor.
    pub async fn reseal_step(
        &self,
        cursor: ResealCursor,
    ) -> BankResult<(ResealCursor, ResealReport)> {
        self.write(|uow, _, _| {
            Box::pin(async move {
                let (next, report) = match cursor {
                    ResealCursor::Start => self.reseal_users(uow, None).await?,
                    ResealCursor::Users(after) => self.reseal_users(uow, Some(after)).await?,
                    ResealCursor::Customers(after) => self.reseal_customers(uow, after).await?,
                    ResealCursor::Webhooks => self.reseal_webhooks(uow).await?,
                    ResealCursor::Done => (ResealCursor::Done, ResealReport::default()),
                };
                if report.total() > 0 {
                    let (key_id, _) = self.keys.current()?;
                    let ev = AuditEvent::new("data_key.reseal", "key", key_id.as_str()).detail(
                        json!({"totp_secrets": report.totp_secrets, "ssns": report.ssns,
                               "webhook_secrets": report.webhook_secrets}),
                    );
                    self.audit(uow, &Actor::system(), ev).await?;
                }
                Ok((next, report))
            })
        })
        .await
    }

    async fn reseal_users(
        &self,
        uow: &mut dyn UnitOfWork,
        after: Option<UserId>,
    ) -> BankResult<(ResealCursor, ResealReport)> {
        let page = uow.users_after(after, RESEAL_PAGE_MAX).await?;
        let mut report = ResealReport::default();
        for mut u in page.iter().cloned() {
            let Some(sealed) = &u.mfa_secret else {
                continue;
            };
            let aad = crate::identity::totp_aad(u.id);
            if let Some(fresh) = reseal_if_stale(&*self.keys, sealed, &aad)? {
                u.mfa_secret = Some(fresh);
                u.updated_at = self.now_us();
                uow.update_user(&u).await?;
                report.totp_secrets += 1;
            }
        }
        let next = match page.last() {
            Some(last) if page.len() as u32 == RESEAL_PAGE_MAX => ResealCursor::Users(last.id),
            _ => ResealCursor::Customers(None),
        };
        Ok((next, report))
    }

    async fn reseal_customers(
        &self,
        uow: &mut dyn UnitOfWork,
        after: Option<CustomerId>,
    ) -> BankResult<(ResealCursor, ResealReport)> {
        let search = CustomerSearch {
            after,
            limit: RESEAL_PAGE_MAX,
            ..CustomerSearch::default()
        };
        let page = uow.search_customers(&search).await?;
        let mut report = ResealReport::default();
        for mut c in page.iter().cloned() {
            let Some(ssn) = &mut c.ssn else {
                continue;
            };
            let aad = crate::customer::ssn_aad(c.id);
            if let Some(fresh) = reseal_if_stale(&*self.keys, &ssn.sealed, &aad)? {
                ssn.sealed = fresh;
                c.updated_at = self.now_us();
                c.version += 1;
                uow.update_customer(&c).await?;
                report.ssns += 1;
            }
        }
        let next = match page.last() {
            Some(last) if page.len() as u32 == RESEAL_PAGE_MAX => {
                ResealCursor::Customers(Some(last.id))
            }
            _ => ResealCursor::Webhooks,
        };
        Ok((next, report))
    }

    async fn reseal_webhooks(
        &self,
        uow: &mut dyn UnitOfWork,
    ) -> BankResult<(ResealCursor, ResealReport)> {
        let mut report = ResealReport::default();
        for mut w in uow.list_webhooks(WEBHOOKS_MAX).await? {
            let aad = crate::webhook::secret_aad(w.id);
            let mut changed = false;
            if let Some(fresh) = reseal_if_stale(&*self.keys, &w.secret, &aad)? {
                w.secret = fresh;
                changed = true;
                report.webhook_secrets += 1;
            }
            if let Some(prev) = &w.previous_secret {
                if let Some(fresh) = reseal_if_stale(&*self.keys, prev, &aad)? {
                    w.previous_secret = Some(fresh);
                    changed = true;
                    report.webhook_secrets += 1;
                }
            }
            if changed {
                w.updated_at = self.now_us();
                uow.update_webhook(&w).await?;
            }
        }
        Ok((ResealCursor::Done, report))
    }
}
