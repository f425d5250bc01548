//! Transfers, bookings and linked batches.

use super::*;
use crate::audit::AuditEvent;
use crate::auth::Actor;
use crate::error::{BankError, BankResult};
use crate::events::DomainEvent;
use crate::fraud_port::{FraudAction, FraudInput, RequestContext, FRAUD_REFUSAL};
use crate::idempotency::{fingerprint, Fingerprinter, IdempotencyKey, IdempotentResponse};
use crate::ids::AccountId;
use crate::ledger::SystemAccount;
use crate::movement::{self, AccountSet, FraudOutcome, Movement, Planned, Reserve, Side, Stamp};
use crate::ports::UnitOfWork;
use crate::transaction::{Transaction, TransactionStatus, TransactionType};

impl MoneyService<'_> {
    // ---------------------------------------------------------------- movements

    pub(crate) async fn exec_transfer(
        &self,
        uow: &mut dyn UnitOfWork,
        actor: &Actor,
        req: &TransferRequest,
        reserve: Reserve,
        events: &mut Vec<DomainEvent>,
    ) -> BankResult<Transaction> {
        let item = &req.item;
        validate_description(&item.description)?;
        let scope = actor.idempotency_scope();
        let mut fp = Fingerprinter::new();
        fp.bytes(b"transfer");
        item.fingerprint_into(&mut fp);
        match reserve {
            Reserve::No => fp.bytes(b""),
            Reserve::Until(t) => fp
                .bytes(&t.timestamp().to_be_bytes())
                .bytes(&t.timestamp_subsec_nanos().to_be_bytes()),
        };
        let fp = fp.finish();
        if let Some(resp) = self
            .idem_lookup(uow, &scope, &req.idempotency_key, &fp)
            .await?
        {
            return Self::replay_txn(resp);
        }
        if let Reserve::Until(t) = reserve {
            if t <= self.now() {
                return Err(BankError::validation("expires_at", "must be in the future"));
            }
        }
        let to = self.resolve_destination(uow, &item.to).await?;
        let mut set = self
            .lock_set(
                uow,
                [Some(item.from_account_id), to.credit.customer()]
                    .into_iter()
                    .flatten(),
            )
            .await?;
        actor.check_act(set.get(item.from_account_id)?)?;
        let m = Movement {
            kind: to.kind,
            debit: Side::Customer(item.from_account_id),
            credit: to.credit,
            amount: item.amount.positive()?,
            description: item.description.clone().or(to.default_description),
        };
        let context = match to.counterparty {
            Some(c) => RequestContext {
                counterparty: Some(c),
                ..req.context.clone()
            },
            None => req.context.clone(),
        };
        let stamp = self.stamp();
        let planned = self
            .decide(uow, &mut set, &m, &stamp, reserve, &context)
            .await?;
        let txn = self
            .persist(uow, set, vec![planned], actor.user_id, events)
            .await?
            .remove(0);
        self.idem_save(
            uow,
            scope,
            &req.idempotency_key,
            fp,
            IdempotentResponse::Transaction(txn.clone()),
        )
        .await?;
        if !actor.system {
            // Boxed: the audit step's future would otherwise grow every transfer's.
            let ev = self.audit_customer_movement(
                uow,
                actor,
                "transaction.transfer",
                &txn,
                &req.context,
            );
            Box::pin(ev).await?;
        }
        Ok(txn)
    }

    /// Fraud step, then checks, then plan: the seed's pipeline for one movement.
    pub(crate) async fn decide(
        &self,
        uow: &mut dyn UnitOfWork,
        set: &mut AccountSet,
        m: &Movement,
        stamp: &Stamp<'_>,
        reserve: Reserve,
        context: &RequestContext,
    ) -> BankResult<Planned> {
        movement::validate_shape(set, m)?;
        let decision = {
            let input = FraudInput {
                transaction_id: stamp.txn_id,
                transaction_type: m.kind,
                from: m.debit.customer().map(|id| set.get(id)).transpose()?,
                to: m.credit.customer().map(|id| set.get(id)).transpose()?,
                amount: m.amount,
                context,
            };
            self.fraud.assess(uow, &input).await?
        };
        let fraud = match decision.action {
            FraudAction::Block => {
                // The customer learns only that risk checks declined it: naming the rule or
                // list hit that fired would teach how to get around it. Staff read both in
                // the assessment (`fraud_score`) and the `fraud.detected` event.
                let err = BankError::FraudBlocked(FRAUD_REFUSAL.into());
                return movement::refused(stamp, m, false, &err);
            }
            FraudAction::Review => FraudOutcome::Review,
            FraudAction::Allow => FraudOutcome::Passed,
        };
        match movement::check(set, m, stamp.now.date_naive()) {
            Ok(()) => movement::plan(set, m, stamp, fraud, reserve, self.config.hold_ttl),
            Err(e) if e.is_business_refusal() => {
                movement::refused(stamp, m, fraud == FraudOutcome::Passed, &e)
            }
            Err(e) => Err(e),
        }
    }

    /// Resolves where money goes. Any customer may send to any existing account (by id or
    /// number); the account itself is never revealed beyond its existence.
    pub(crate) async fn resolve_destination(
        &self,
        uow: &mut dyn UnitOfWork,
        to: &Destination,
    ) -> BankResult<Resolved> {
        let internal = |id: AccountId| Resolved {
            credit: Side::Customer(id),
            kind: TransactionType::Transfer,
            counterparty: None,
            default_description: None,
        };
        match to {
            // Existence is checked when the accounts are locked (a missing one is `not_found`
            // there): looking it up here too cost a read and a copy on every transfer.
            Destination::Account(id) => Ok(internal(*id)),
            Destination::Number(n) => {
                let a = uow.account_by_number(n).await?.ok_or(BankError::NotFound {
                    resource: "account",
                })?;
                Ok(internal(a.id))
            }
            Destination::External(p) => {
                p.validate()?;
                Ok(Resolved {
                    credit: Side::System(SystemAccount::ExternalClearing),
                    kind: p.kind(),
                    counterparty: Some(p.account.trim().to_string()),
                    default_description: Some(match &p.reference {
                        Some(r) => format!(
                            "{} to {} ({r})",
                            p.kind().as_str().to_ascii_lowercase().replace('_', " "),
                            p.name.trim()
                        ),
                        None => format!(
                            "{} to {}",
                            p.kind().as_str().to_ascii_lowercase().replace('_', " "),
                            p.name.trim()
                        ),
                    }),
                })
            }
        }
    }

    pub(crate) async fn exec_booking(
        &self,
        uow: &mut dyn UnitOfWork,
        actor: &Actor,
        req: &BookingRequest,
        kind: TransactionType,
        events: &mut Vec<DomainEvent>,
    ) -> BankResult<Transaction> {
        actor.require_admin()?;
        validate_description(&req.description)?;
        let (debit, credit) = match kind {
            TransactionType::Deposit => (
                Side::System(SystemAccount::Cash),
                Side::Customer(req.account_id),
            ),
            TransactionType::Withdrawal => (
                Side::Customer(req.account_id),
                Side::System(SystemAccount::Cash),
            ),
            TransactionType::ExternalDeposit => (
                Side::System(SystemAccount::ExternalClearing),
                Side::Customer(req.account_id),
            ),
            TransactionType::ExternalTransfer | TransactionType::Payment => (
                Side::Customer(req.account_id),
                Side::System(SystemAccount::ExternalClearing),
            ),
            TransactionType::Fee => (
                Side::Customer(req.account_id),
                Side::System(SystemAccount::FeesIncome),
            ),
            TransactionType::Interest => (
                Side::System(SystemAccount::InterestExpense),
                Side::Customer(req.account_id),
            ),
            other => {
                return Err(BankError::validation(
                    "transaction_type",
                    format!("{other} is not a booking"),
                ))
            }
        };
        let scope = actor.idempotency_scope();
        let fp = fingerprint(&[
            kind.as_str(),
            &req.account_id.to_string(),
            &req.amount.amount().to_string(),
            req.amount.currency().code(),
            req.description.as_deref().unwrap_or(""),
        ]);
        if let Some(resp) = self
            .idem_lookup(uow, &scope, &req.idempotency_key, &fp)
            .await?
        {
            return Self::replay_txn(resp);
        }
        let mut set = self.lock_set(uow, [req.account_id]).await?;
        set.get(req.account_id)?;
        let m = Movement {
            kind,
            debit,
            credit,
            amount: req.amount.positive()?,
            description: req.description.clone(),
        };
        let stamp = self.stamp();
        movement::validate_shape(&set, &m)?;
        let planned = match movement::check(&set, &m, stamp.now.date_naive()) {
            Ok(()) => movement::plan(
                &mut set,
                &m,
                &stamp,
                FraudOutcome::NotChecked,
                Reserve::No,
                self.config.hold_ttl,
            )?,
            Err(e) if e.is_business_refusal() => movement::refused(&stamp, &m, false, &e)?,
            Err(e) => return Err(e),
        };
        let txn = self
            .persist(uow, set, vec![planned], actor.user_id, events)
            .await?
            .remove(0);
        self.idem_save(
            uow,
            scope,
            &req.idempotency_key,
            fp,
            IdempotentResponse::Transaction(txn.clone()),
        )
        .await?;
        if !actor.system {
            // Teller bookings are admin actions; the embedding program's own are not audited.
            let detail = serde_json::json!({"kind": kind.as_str(), "amount": txn.amount.amount().to_string(),
                "currency": txn.amount.currency().code(), "status": txn.status.as_str()});
            let ev =
                AuditEvent::new("transaction.booking", "account", req.account_id).detail(detail);
            self.audit(uow, actor, ev).await?;
        }
        Ok(txn)
    }

    pub(crate) async fn exec_batch(
        &self,
        uow: &mut dyn UnitOfWork,
        actor: &Actor,
        items: &[TransferItem],
        key: &IdempotencyKey,
        context: &RequestContext,
        events: &mut Vec<DomainEvent>,
    ) -> BankResult<Vec<Transaction>> {
        if items.is_empty() || items.len() > BATCH_LEN_MAX {
            return Err(BankError::validation(
                "transfers",
                format!("a batch has 1 to {BATCH_LEN_MAX} transfers"),
            ));
        }
        let scope = actor.idempotency_scope();
        let mut fp = Fingerprinter::new();
        fp.part("batch");
        for it in items {
            validate_description(&it.description)?;
            it.fingerprint_into(&mut fp);
        }
        let fp = fp.finish();
        match self.idem_lookup(uow, &scope, key, &fp).await? {
            Some(IdempotentResponse::Batch(txns)) => return Ok(txns),
            Some(IdempotentResponse::Refused { code, message }) => {
                return Err(if code == "invalid_state" {
                    BankError::InvalidState(message)
                } else {
                    BankError::InvalidState(format!("{code}: {message}"))
                })
            }
            Some(_) => return Err(BankError::IdempotencyConflict),
            None => {}
        }
        let mut dests = Vec::with_capacity(items.len());
        for it in items {
            dests.push(self.resolve_destination(uow, &it.to).await?);
        }
        let all_ids = items
            .iter()
            .map(|i| i.from_account_id)
            .chain(dests.iter().filter_map(|d| d.credit.customer()));
        let mut set = self.lock_set(uow, all_ids).await?;
        let mut planned = Vec::with_capacity(items.len());
        let mut refusal = None;
        // Fraud assessments of earlier items are undone too if a later item refuses.
        uow.savepoint().await?;
        for (i, (it, to)) in items.iter().zip(dests).enumerate() {
            actor.check_act(set.get(it.from_account_id)?)?;
            let m = Movement {
                kind: to.kind,
                debit: Side::Customer(it.from_account_id),
                credit: to.credit,
                amount: it.amount.positive()?,
                description: it.description.clone().or(to.default_description),
            };
            let context = match to.counterparty {
                Some(c) => RequestContext {
                    counterparty: Some(c),
                    ..context.clone()
                },
                None => context.clone(),
            };
            let stamp = self.stamp();
            let p = self
                .decide(uow, &mut set, &m, &stamp, Reserve::No, &context)
                .await?;
            if p.txn.status != TransactionStatus::Completed {
                let why = p
                    .txn
                    .refusal()
                    .unwrap_or_else(|| BankError::InvalidState("held for review".into()));
                refusal = Some(BankError::InvalidState(format!(
                    "batch item {i} refused: {why}"
                )));
                break;
            }
            planned.push(p);
        }
        if let Some(err) = refusal {
            // Linked: nothing of the batch is written (the locked copies are dropped).
            uow.rollback_to_savepoint().await?;
            // Stored so that a replay rebuilds the very same error (see the lookup above).
            let message = match &err {
                BankError::InvalidState(m) => m.clone(),
                other => other.to_string(),
            };
            let resp = IdempotentResponse::Refused {
                code: err.code().to_string(),
                message,
            };
            self.idem_save(uow, scope, key, fp, resp).await?;
            return Err(err);
        }
        uow.release_savepoint().await?;
        let txns = self
            .persist(uow, set, planned, actor.user_id, events)
            .await?;
        for t in &txns {
            self.audit_customer_movement(uow, actor, "transaction.transfer", t, context)
                .await?;
        }
        self.idem_save(uow, scope, key, fp, IdempotentResponse::Batch(txns.clone()))
            .await?;
        Ok(txns)
    }
}
