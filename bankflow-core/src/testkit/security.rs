//! Issue #16's engine findings on any store: identity data verified by KYC is locked against
//! self-service edits (finding 4), and the account rules of finding 12 (a cap on a
//! customer's accounts, no self-service close of a frozen account, customer money
//! movements audited in the unit that moves the money).

#![allow(missing_docs)] // A case is named by what it checks; the names are the docs.

use std::sync::Arc;

use crate::audit::{AuditOutcome, AuditRecord};
use crate::banking::ACCOUNTS_PER_CUSTOMER_MAX;
use crate::customer::CustomerPatch;
use crate::ports::Store;
use crate::*;

use super::engine_ctx::{bank_on, profile, refusal_code, WithAdmin};
use super::fixtures::{key, usd};

const PDF: &[u8] = b"%PDF-1.7\n%...";

/// A bank, its admin, and one customer whose KYC is APPROVED (their default checking account
/// is therefore active).
struct Approved {
    t: WithAdmin,
    me: Actor,
    customer: CustomerView,
}

/// A new user of `email` with a customer profile named `first_name` (KYC pending), and the
/// actor they act as once the profile exists.
async fn with_profile(t: &WithAdmin, email: &str, first_name: &str) -> (Actor, CustomerView) {
    profile_of(t, t.verified_user(email).await, first_name).await
}

/// `user` with a new customer profile named `first_name`, and the actor they act as then.
pub(super) async fn profile_of(
    t: &WithAdmin,
    user: Actor,
    first_name: &str,
) -> (Actor, CustomerView) {
    let c = t
        .bank
        .customers()
        .create_customer(&user, None, profile(first_name, None))
        .await
        .unwrap();
    let me = t
        .bank
        .identity()
        .actor_for_user(user.user_id.unwrap())
        .await
        .unwrap();
    (me, c)
}

async fn approved(store: Arc<dyn Store>, email: &str) -> Approved {
    let t = WithAdmin::new(bank_on(store), "admin@bank.example").await;
    let (me, c) = with_profile(&t, email, "Vera").await;
    let customers = t.bank.customers();
    customers
        .upload_document(&me, c.id, DocumentType::Passport, PDF)
        .await
        .unwrap();
    customers.submit_kyc(&me, c.id).await.unwrap();
    customers.approve_kyc(&t.admin, c.id).await.unwrap();
    let customer = customers.customer(&me, c.id).await.unwrap();
    assert_eq!(customer.kyc_status, KycStatus::Approved);
    Approved { t, me, customer }
}

async fn audit_log(t: &WithAdmin) -> Vec<AuditRecord> {
    let mut all = Vec::new();
    loop {
        let after = all.last().map(|e: &AuditRecord| e.seq);
        let page = t
            .bank
            .audit()
            .audit_log(&t.admin, after, 100)
            .await
            .unwrap();
        if page.is_empty() {
            return all;
        }
        all.extend(page);
    }
}

async fn entries(t: &WithAdmin, action: &str) -> Vec<AuditRecord> {
    let log = audit_log(t).await;
    log.into_iter().filter(|e| e.action == action).collect()
}

fn rename(first: &str) -> CustomerPatch {
    CustomerPatch {
        first_name: Some(first.into()),
        ..Default::default()
    }
}

pub async fn finding_4_kyc_verified_legal_name_is_locked_and_profile_edits_are_audited(
    store: Arc<dyn Store>,
) {
    let Approved { t, me, customer } = approved(store, "vera@example.com").await;
    let customers = t.bank.customers();
    // The customer may not change the name KYC verified: the bank's support does that.
    for patch in [
        rename("Mallory"),
        CustomerPatch {
            last_name: Some("Smith".into()),
            city: Some("Chicago".into()),
            ..Default::default()
        },
    ] {
        let refused = customers.update_customer(&me, customer.id, patch).await;
        assert!(
            matches!(refused, Err(BankError::InvalidState(ref m)) if m.contains("contact support")),
            "{refused:?}"
        );
    }
    let now = customers.customer(&me, customer.id).await.unwrap();
    assert_eq!(
        (
            now.first_name.as_str(),
            now.last_name.as_str(),
            now.city.as_str()
        ),
        ("Vera", "Doe", "Springfield"),
        "a refused edit changes nothing, not even its allowed fields"
    );
    assert_eq!(now.kyc_status, KycStatus::Approved);
    // The attempts are security events.
    let denied = entries(&t, "customer.update").await;
    assert_eq!(denied.len(), 2, "{denied:?}");
    assert!(denied.iter().all(|e| e.outcome == AuditOutcome::Denied
        && e.actor_user_id == me.user_id
        && e.target_id.as_deref() == Some(customer.id.to_string().as_str())));
    assert_eq!(
        denied[1].detail["fields"],
        serde_json::json!(["last_name", "city"])
    );
    // Setting the name it already has is no change, and not refused.
    customers
        .update_customer(&me, customer.id, rename("Vera"))
        .await
        .unwrap();

    // Contact data stays self-service, and every edit is audited (not only staff's).
    let moved = CustomerPatch {
        city: Some("Chicago".into()),
        ..Default::default()
    };
    let v = customers
        .update_customer(&me, customer.id, moved)
        .await
        .unwrap();
    assert_eq!(v.city, "Chicago");
    let log = entries(&t, "customer.update").await;
    let own = log.last().unwrap();
    assert_eq!(
        (own.outcome, own.actor_user_id, &own.detail["fields"]),
        (
            AuditOutcome::Success,
            me.user_id,
            &serde_json::json!(["city"])
        )
    );

    // Staff may correct a verified name (a marriage certificate...), audited as such; KYC
    // stays approved because staff checked the evidence.
    let fixed = customers
        .update_customer(&t.admin, customer.id, rename("Verena"))
        .await
        .unwrap();
    assert_eq!(
        (fixed.first_name.as_str(), fixed.kyc_status),
        ("Verena", KycStatus::Approved)
    );
    let staff = entries(&t, "customer.update").await.pop().unwrap();
    assert_eq!(staff.actor_user_id, t.admin.user_id);
    assert_eq!(staff.detail["legal_name_change"], serde_json::json!(true));

    // While KYC is under review the name is locked too (else the reviewer approves a name
    // the documents never showed); before submission and after a rejection it is free.
    let (other, c2) = with_profile(&t, "rex@example.com", "Rex").await;
    customers
        .update_customer(&other, c2.id, rename("Rexford"))
        .await
        .unwrap();
    customers
        .upload_document(&other, c2.id, DocumentType::Passport, PDF)
        .await
        .unwrap();
    customers.submit_kyc(&other, c2.id).await.unwrap();
    assert_eq!(
        refusal_code(
            customers
                .update_customer(&other, c2.id, rename("Rexy"))
                .await
        ),
        "invalid_state"
    );
    customers
        .reject_kyc(&t.admin, c2.id, "blurred photo")
        .await
        .unwrap();
    customers
        .update_customer(&other, c2.id, rename("Rex"))
        .await
        .unwrap();
    let verification = t.bank.audit().verify_audit().await.unwrap();
    assert_eq!(verification.first_tampered_seq, None);
}

pub async fn finding_12_accounts_per_customer_are_capped(store: Arc<dyn Store>) {
    let Approved { t, me, customer } = approved(store, "many@example.com").await;
    let req = || OpenAccountRequest {
        customer_id: customer.id,
        account_type: AccountType::Savings,
        currency: Currency::USD,
        overdraft_limit: None,
        daily_limit: None,
    };
    let money = t.bank.money();
    // The default checking account counts.
    let mut opened = Vec::new();
    for _ in 1..ACCOUNTS_PER_CUSTOMER_MAX {
        opened.push(money.open_account(&me, req()).await.unwrap());
    }
    let over = money.open_account(&me, req()).await;
    assert!(
        matches!(over, Err(BankError::LimitExceeded(ref m)) if m.contains(&ACCOUNTS_PER_CUSTOMER_MAX.to_string())),
        "{over:?}"
    );
    // Staff are held to the same cap.
    assert_eq!(
        refusal_code(money.open_account(&t.admin, req()).await),
        "limit_exceeded"
    );
    let live = money.accounts_of_customer(&me, customer.id).await.unwrap();
    assert_eq!(live.len() as u32, ACCOUNTS_PER_CUSTOMER_MAX);
    // A closed account frees its place.
    money.close_account(&me, opened[0].id).await.unwrap();
    money.open_account(&me, req()).await.unwrap();
    assert_eq!(
        refusal_code(money.open_account(&me, req()).await),
        "limit_exceeded"
    );
}

pub async fn finding_12_customer_cannot_close_an_account_the_bank_froze(store: Arc<dyn Store>) {
    let Approved { t, me, customer } = approved(store, "frozen@example.com").await;
    let money = t.bank.money();
    let savings = OpenAccountRequest {
        customer_id: customer.id,
        account_type: AccountType::Savings,
        currency: Currency::USD,
        overdraft_limit: None,
        daily_limit: None,
    };
    let a = money.open_account(&me, savings).await.unwrap();
    money.freeze_account(&t.admin, a.id).await.unwrap();
    let refused = money.close_account(&me, a.id).await;
    assert!(
        matches!(refused, Err(BankError::AccountFrozen(ref m)) if m.contains("frozen")),
        "{refused:?}"
    );
    let still = money.account(&me, a.id).await.unwrap();
    assert_eq!(still.status, AccountStatus::Frozen);
    // The bank may close it; an active account the customer closes themselves, as before.
    let closed = money.close_account(&t.admin, a.id).await.unwrap();
    assert_eq!(closed.status, AccountStatus::Closed);
    let default = customer.default_account_id.unwrap();
    assert_eq!(
        money.close_account(&me, default).await.unwrap().status,
        AccountStatus::Closed
    );
}

fn to_account(from: AccountId, to: AccountId, amount: &str, k: &str) -> TransferRequest {
    TransferRequest {
        item: TransferItem {
            from_account_id: from,
            to: Destination::Account(to),
            amount: usd(amount),
            description: None,
        },
        idempotency_key: key(k),
        context: RequestContext {
            ip: Some("203.0.113.9".into()),
            ..RequestContext::default()
        },
    }
}

pub async fn finding_12_customer_money_movements_are_audited_in_their_unit(store: Arc<dyn Store>) {
    let Approved { t, me, customer } = approved(store, "mover@example.com").await;
    let money = t.bank.money();
    let from = customer.default_account_id.unwrap();
    let savings = OpenAccountRequest {
        customer_id: customer.id,
        account_type: AccountType::Savings,
        currency: Currency::USD,
        overdraft_limit: None,
        daily_limit: None,
    };
    let to = money.open_account(&me, savings).await.unwrap().id;
    let fund = BookingRequest {
        account_id: from,
        amount: usd("100.00"),
        description: None,
        idempotency_key: key("fund"),
    };
    money.deposit(&t.admin, fund).await.unwrap();

    let done = money
        .transfer(&me, to_account(from, to, "10.00", "t1"))
        .await
        .unwrap();
    // A replay answers from the idempotency record and is not a second movement.
    money
        .transfer(&me, to_account(from, to, "10.00", "t1"))
        .await
        .unwrap();
    // A refused movement is recorded (FAILED) and so is its security event.
    assert_eq!(
        refusal_code(
            money
                .transfer(&me, to_account(from, to, "1000.00", "t2"))
                .await
        ),
        "insufficient_funds"
    );
    // A command that rolls back leaves no entry (the entry is part of the unit).
    let stranger = AccountId(uuid::Uuid::from_u128(4242));
    assert_eq!(
        refusal_code(
            money
                .transfer(&me, to_account(from, stranger, "1.00", "t3"))
                .await
        ),
        "not_found"
    );
    let pending = money
        .transfer_pending(&me, to_account(from, to, "5.00", "t4"), None)
        .await
        .unwrap();
    money
        .post_pending(&me, pending.id, None, key("t4-post"))
        .await
        .unwrap();
    let batch = vec![
        to_account(from, to, "1.00", "unused").item,
        to_account(from, to, "2.00", "unused").item,
    ];
    let linked = money
        .transfer_batch(&me, batch, key("t5"), RequestContext::default())
        .await
        .unwrap();
    let submitted = money
        .submit_transfers(&me, vec![to_account(from, to, "3.00", "t6")])
        .await
        .unwrap();
    let submitted = submitted[0].clone().unwrap();

    let moves = entries(&t, "transaction.transfer").await;
    let ids: Vec<_> = moves.iter().map(|e| e.target_id.clone().unwrap()).collect();
    let failed = &moves[1];
    assert_eq!(moves.len(), 6, "{moves:#?}");
    assert_eq!(ids[0], done.id.to_string());
    assert_eq!(ids[2], pending.id.to_string());
    assert_eq!(
        ids[3..],
        [
            linked[0].id.to_string(),
            linked[1].id.to_string(),
            submitted.id.to_string()
        ]
    );
    assert!(moves.iter().all(|e| e.actor_user_id == me.user_id));
    assert_eq!(
        (failed.outcome, &failed.detail["status"]),
        (AuditOutcome::Failure, &serde_json::json!("FAILED"))
    );
    let first = &moves[0];
    assert_eq!(first.outcome, AuditOutcome::Success);
    assert_eq!(first.ip.as_deref(), Some("203.0.113.9"));
    assert_eq!(
        (&first.detail["amount"], &first.detail["from_account_id"]),
        (
            &serde_json::json!("10.00"),
            &serde_json::json!(from.to_string())
        )
    );
    let posted = entries(&t, "transaction.post").await;
    assert_eq!(posted.len(), 1);
    assert_eq!(posted[0].target_id, Some(pending.id.to_string()));
    // Staff movements are not this finding's (they are audited under their own rule); the
    // chain is whole.
    let verification = t.bank.audit().verify_audit().await.unwrap();
    assert_eq!(verification.first_tampered_seq, None);
}
