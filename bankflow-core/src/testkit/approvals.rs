//! Issue #16 finding 1 on any store: staff money movement above the threshold waits for a
//! second admin (maker-checker); either way the initiator (and approver) are on the
//! transaction and in the audit log.

#![allow(missing_docs)] // A case is named by what it checks; the names are the docs.

use std::sync::Arc;

use uuid::Uuid;

use crate::account::AccountType;
use crate::audit::AuditRecord;
use crate::auth::{Actor, Role};
use crate::events::{EventData, EventType};
use crate::ids::{AccountId, UserId};
use crate::ports::Store;
use crate::transaction::{Transaction, TransactionStatus, TransactionType};
use crate::{
    ApprovalQuery, ApprovalRequest, ApprovalStatus, Bank, BookingRequest, MoneyMove, Submitted,
};

use super::engine::{deposit, open, test_bank, transfer_req};
use super::engine_ctx::refusal_code;
use super::fixtures::{key, usd};

/// A bank, two admins (maker and checker) and two accounts of one customer, the first
/// funded with 50,000.00 by the embedding program (never held for approval).
struct Desk {
    bank: Bank,
    maker: Actor,
    checker: Actor,
    a: AccountId,
    b: AccountId,
}

fn admin(n: u128) -> Actor {
    Actor::admin(UserId(Uuid::from_u128(n)))
}

async fn desk(store: Arc<dyn Store>) -> Desk {
    let (bank, _) = test_bank(store);
    let a = open(&bank, 1, AccountType::Checking).await.id;
    let b = open(&bank, 1, AccountType::Savings).await.id;
    deposit(&bank, a, "50000.00", "fund").await;
    Desk {
        bank,
        maker: admin(0xA1),
        checker: admin(0xA2),
        a,
        b,
    }
}

impl Desk {
    async fn balance(&self, id: AccountId) -> String {
        let b = self.bank.money().balance(&Actor::system(), id).await;
        b.unwrap().balance.amount().to_string()
    }

    async fn parked(&self, m: MoneyMove) -> ApprovalRequest {
        match self.bank.money().submit(&self.maker, m).await.unwrap() {
            Submitted::AwaitingApproval(a) => a,
            Submitted::Done(t) => panic!("expected a parked movement, it ran: {t:?}"),
        }
    }

    async fn txn(&self, id: crate::ids::TransactionId) -> Transaction {
        self.bank
            .money()
            .transaction(&self.checker, id)
            .await
            .unwrap()
    }

    async fn audit(&self) -> Vec<AuditRecord> {
        let log = self
            .bank
            .audit()
            .audit_log(&Actor::system(), None, 100)
            .await;
        log.unwrap()
    }

    /// The transaction's read model equals the fold of its stored events, and its
    /// `transaction.initiated` event names both people.
    async fn assert_people_in_events(&self, t: &Transaction) {
        let events = self
            .bank
            .money()
            .transaction_events(&self.checker, t.id)
            .await;
        let events: Vec<_> = events.unwrap().into_iter().map(|e| e.event).collect();
        assert_eq!(&Transaction::from_events(&events).unwrap(), t);
        let initiated = events
            .iter()
            .find(|e| e.event_type == EventType::TransactionInitiated)
            .unwrap();
        let EventData::Transaction(d) = &initiated.data else {
            panic!("not a transaction event")
        };
        assert_eq!(
            (d.initiated_by, d.approved_by),
            (t.initiated_by, t.approved_by)
        );
    }
}

pub async fn finding_1_staff_money_above_the_threshold_waits_for_a_second_admin(
    store: Arc<dyn Store>,
) {
    let d = desk(store).await;
    let money = d.bank.money();
    let req = transfer_req(d.a, d.b, "20000.00", "big");
    let parked = d.parked(MoneyMove::Transfer(req.clone())).await;
    assert_eq!(parked.status, ApprovalStatus::Pending);
    assert_eq!(parked.initiated_by, d.maker.user_id.unwrap());
    assert_eq!(parked.transaction_type, Some(TransactionType::Transfer));
    assert_eq!(parked.amount, usd("20000.00"));
    // Nothing moved, and a replay of the key answers the same request.
    assert_eq!(d.balance(d.a).await, "50000.00");
    assert_eq!(d.balance(d.b).await, "0.00");
    assert_eq!(d.parked(MoneyMove::Transfer(req)).await.id, parked.id);
    let pending = ApprovalQuery {
        status: Some(ApprovalStatus::Pending),
        limit: 10,
        ..Default::default()
    };
    assert_eq!(
        money.approvals(&d.checker, &pending).await.unwrap().len(),
        1
    );
    // The single-purpose command says which request waits.
    let other = transfer_req(d.a, d.b, "10000.01", "big-2");
    let refused = money.transfer(&d.maker, other).await;
    assert_eq!(refusal_code(refused), "approval_required");

    // The maker cannot approve their own request; support staff cannot approve at all.
    let own = money.approve(&d.maker, parked.id, key("self")).await;
    assert_eq!(refusal_code(own), "forbidden");
    let support = Actor {
        roles: vec![Role::Support],
        ..admin(0xA3)
    };
    let by_support = money.approve(&support, parked.id, key("s")).await;
    assert_eq!(refusal_code(by_support), "forbidden");
    assert_eq!(d.balance(d.a).await, "50000.00");

    // A second admin approves: the transfer runs, recorded with both people.
    let done = money
        .approve(&d.checker, parked.id, key("ok"))
        .await
        .unwrap();
    assert_eq!(done.status, ApprovalStatus::Executed);
    assert_eq!(done.decided_by, d.checker.user_id);
    assert_eq!(d.balance(d.a).await, "30000.00");
    assert_eq!(d.balance(d.b).await, "20000.00");
    let t = d.txn(done.transaction_id.unwrap()).await;
    assert_eq!(t.status, TransactionStatus::Completed);
    assert_eq!(
        (t.initiated_by, t.approved_by),
        (d.maker.user_id, d.checker.user_id)
    );
    d.assert_people_in_events(&t).await;

    // Approving twice: the same key replays, another key is refused; money moved once.
    let again = money
        .approve(&d.checker, parked.id, key("ok"))
        .await
        .unwrap();
    assert_eq!(again, done);
    let twice = money.approve(&d.checker, parked.id, key("ok-2")).await;
    assert_eq!(refusal_code(twice), "invalid_state");
    assert_eq!(d.balance(d.a).await, "30000.00");
    assert_eq!(money.approval(&d.maker, parked.id).await.unwrap(), done);

    // The audit log names the maker on the request and both people on the approval.
    let log = d.audit().await;
    let target = Some(parked.id.to_string());
    let request = log
        .iter()
        .find(|r| r.action == "approval.request" && r.target_id == target)
        .unwrap();
    assert_eq!(request.actor_user_id, d.maker.user_id);
    let approve = log
        .iter()
        .find(|r| r.action == "approval.approve" && r.target_id == target)
        .unwrap();
    assert_eq!(approve.actor_user_id, d.checker.user_id);
    let maker = d.maker.user_id.unwrap().to_string();
    assert_eq!(approve.detail["initiated_by"], maker.as_str());
    assert_eq!(approve.detail["transaction_id"], t.id.to_string().as_str());
}

pub async fn finding_1_staff_money_below_the_threshold_moves_at_once_with_its_initiator(
    store: Arc<dyn Store>,
) {
    let d = desk(store).await;
    let money = d.bank.money();
    let small = transfer_req(d.a, d.b, "500.00", "small");
    let Submitted::Done(t) = money
        .submit(&d.maker, MoneyMove::Transfer(small))
        .await
        .unwrap()
    else {
        panic!("a transfer below the threshold must run at once")
    };
    assert_eq!(d.balance(d.b).await, "500.00");
    let stored = d.txn(t.id).await;
    assert_eq!(
        (stored.initiated_by, stored.approved_by),
        (d.maker.user_id, None)
    );
    d.assert_people_in_events(&stored).await;
    // Every staff action is audited, below the threshold too.
    let log = d.audit().await;
    let moved = log
        .iter()
        .find(|r| r.action == "transaction.transfer" && r.target_id == Some(t.id.to_string()));
    assert_eq!(moved.unwrap().actor_user_id, d.maker.user_id);
    // Exactly the threshold is not above it.
    let at = transfer_req(d.a, d.b, "10000.00", "at");
    assert!(money.transfer(&d.maker, at).await.is_ok());

    // A rejected request moves nothing and cannot be approved afterwards.
    let booking = BookingRequest {
        account_id: d.a,
        amount: usd("25000.00"),
        description: None,
        idempotency_key: key("wd"),
    };
    let parked = d
        .parked(MoneyMove::Book(TransactionType::Withdrawal, booking))
        .await;
    let no_reason = money.reject(&d.checker, parked.id, " ", key("r0")).await;
    assert_eq!(refusal_code(no_reason), "validation_error");
    let rejected = money
        .reject(&d.checker, parked.id, "no ticket", key("r1"))
        .await
        .unwrap();
    assert_eq!(rejected.status, ApprovalStatus::Rejected);
    assert_eq!(rejected.reason.as_deref(), Some("no ticket"));
    let late = money.approve(&d.checker, parked.id, key("late")).await;
    assert_eq!(refusal_code(late), "invalid_state");
    assert_eq!(d.balance(d.a).await, "39500.00");
    // Raising a limit above the threshold is parked too (the single-purpose call says so).
    let daily = Some(rust_decimal::Decimal::from(20_000));
    let raise = money.set_limits(&d.maker, d.a, rust_decimal::Decimal::ZERO, daily);
    assert_eq!(refusal_code(raise.await), "approval_required");
    let pending = ApprovalQuery {
        status: Some(ApprovalStatus::Pending),
        limit: 10,
        ..Default::default()
    };
    let parked_limit = money
        .approvals(&d.checker, &pending)
        .await
        .unwrap()
        .remove(0);
    assert_eq!(parked_limit.transaction_type, None);
    let account = money.account(&d.checker, d.a).await.unwrap();
    assert_eq!(account.daily_limit, None);
    let done = money.approve(&d.checker, parked_limit.id, key("lim")).await;
    assert_eq!(done.unwrap().status, ApprovalStatus::Executed);
    let account = money.account(&d.checker, d.a).await.unwrap();
    assert_eq!(account.daily_limit, daily);
    let log = d.audit().await;
    assert!(log.iter().any(|r| r.action == "approval.reject"
        && r.actor_user_id == d.checker.user_id
        && r.target_id == Some(parked.id.to_string())));
}

pub async fn finding_1_an_approved_movement_the_engine_refuses_is_failed_with_its_code(
    store: Arc<dyn Store>,
) {
    let d = desk(store).await;
    let money = d.bank.money();
    // More than the balance: parked, then refused when approved; nothing moves.
    let booking = BookingRequest {
        account_id: d.a,
        amount: usd("60000.00"),
        description: None,
        idempotency_key: key("wd"),
    };
    let parked = d
        .parked(MoneyMove::Book(TransactionType::Withdrawal, booking))
        .await;
    let failed = money
        .approve(&d.checker, parked.id, key("ok"))
        .await
        .unwrap();
    assert_eq!(failed.status, ApprovalStatus::Failed);
    assert_eq!(failed.failure_code.as_deref(), Some("insufficient_funds"));
    assert_eq!(d.balance(d.a).await, "50000.00");

    // A reversal of a large transaction is parked too; approved, the compensating
    // transaction carries both people.
    let funding = money
        .history(
            &d.checker,
            &crate::TransactionQuery {
                account_id: Some(d.a),
                transaction_type: Some(TransactionType::Deposit),
                limit: 1,
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .remove(0);
    let parked = d
        .parked(MoneyMove::Reverse {
            id: funding.id,
            reason: "teller error".into(),
            key: key("rev"),
        })
        .await;
    assert_eq!(parked.transaction_type, Some(TransactionType::Reversal));
    assert_eq!(d.balance(d.a).await, "50000.00");
    let done = money
        .approve(&d.checker, parked.id, key("ok-rev"))
        .await
        .unwrap();
    assert_eq!(done.status, ApprovalStatus::Executed);
    assert_eq!(d.balance(d.a).await, "0.00");
    let original = d.txn(funding.id).await;
    assert_eq!(original.status, TransactionStatus::Reversed);
    let reversal = d.txn(original.parent_id.unwrap()).await;
    assert_eq!(
        (reversal.initiated_by, reversal.approved_by),
        (d.maker.user_id, d.checker.user_id)
    );
    d.assert_people_in_events(&reversal).await;
}
