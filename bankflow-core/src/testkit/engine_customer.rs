//! Customers & KYC through the `Bank` facade on any store: profile rules, sealed SSN
//! (and key rotation), documents, the KYC state machine, the KYC gate on account opening,
//! staff search, and the onboarding saga with its compensation.

#![allow(missing_docs)] // A case is named by what it checks; the names are the docs.

use std::sync::Arc;

use crate::customer::{CustomerPatch, CustomerSearch};
use crate::ports::Store;
use crate::*;
use chrono::NaiveDate;

use super::at_rest::stored_text;
use super::engine_ctx::{bank_with, profile, refusal_code, WithAdmin};

type T = WithAdmin;

async fn setup_with(
    store: Arc<dyn Store>,
    keys: Option<Arc<dyn KeyProvider>>,
    config: BankConfig,
) -> T {
    WithAdmin::new(bank_with(store, config, keys), "admin@bank.example").await
}

async fn setup(store: Arc<dyn Store>) -> T {
    setup_with(store, None, BankConfig::default()).await
}

const PNG: &[u8] = &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13];
const PDF: &[u8] = b"%PDF-1.7\n%...";

pub async fn profile_rules_sealed_ssn_and_saga_account(store: Arc<dyn Store>) {
    let t = setup(store).await;
    let me = t.user("jane@example.com").await;
    // 18+ from the date of birth (the clock says 2026-03-02).
    let mut young = profile("Jane", None);
    young.date_of_birth = NaiveDate::from_ymd_opt(2008, 3, 3).unwrap();
    assert!(
        matches!(t.bank.customers().create_customer(&me, None, young).await, Err(BankError::Validation { field, .. }) if field == "date_of_birth")
    );
    for bad in [
        "000-12-3456",
        "666-12-3456",
        "912-12-3456",
        "123-00-4567",
        "123-45-0000",
        "12345678",
    ] {
        let r = t
            .bank
            .customers()
            .create_customer(&me, None, profile("Jane", Some(bad)))
            .await;
        assert!(
            matches!(r, Err(BankError::Validation { ref field, .. }) if field == "ssn"),
            "{bad}: {r:?}"
        );
    }
    let c = t
        .bank
        .customers()
        .create_customer(&me, None, profile("Jane", Some("123-45-6789")))
        .await
        .unwrap();
    assert_eq!(c.ssn_last4.as_deref(), Some("6789"));
    assert_eq!(c.country, "US");
    assert_eq!(c.kyc_status, KycStatus::Pending);
    assert_eq!(c.email.as_deref(), Some("jane@example.com"));
    assert_eq!(
        t.bank
            .customers()
            .create_customer(&me, None, profile("Jane", None))
            .await
            .unwrap_err(),
        BankError::Duplicate("customer")
    );

    // The saga opened a checking account, frozen until KYC approval.
    let acc = t
        .bank
        .money()
        .account(&Actor::system(), c.default_account_id.unwrap())
        .await
        .unwrap();
    assert_eq!(acc.account_type, AccountType::Checking);
    assert_eq!(acc.status, AccountStatus::Frozen);
    let events = t.events(c.id.0).await;
    assert_eq!(events[0].event.event_type, EventType::CustomerCreated);

    // The refreshed claims now carry the customer id.
    let claims = t
        .bank
        .identity()
        .claims_for_user(me.user_id.unwrap())
        .await
        .unwrap();
    assert_eq!(claims.customer_id, Some(c.id));

    // No plaintext SSN anywhere in the store, nor in Debug output.
    let dump = stored_text(&t.store, &[me.user_id.unwrap()]).await;
    assert!(!dump.contains("123456789") && !dump.contains("123-45-6789"));
    assert!(!format!("{:?}", profile("Jane", Some("123-45-6789"))).contains("6789"));
    assert!(t
        .bank
        .customers()
        .verify_customer_ssn(&t.admin, c.id, "123-45-6789")
        .await
        .unwrap());
    assert!(!t
        .bank
        .customers()
        .verify_customer_ssn(&t.admin, c.id, "123-45-6788")
        .await
        .unwrap());
    assert_eq!(
        refusal_code(
            t.bank
                .customers()
                .verify_customer_ssn(&me, c.id, "123-45-6789")
                .await
        ),
        "forbidden"
    );
}

pub async fn ssn_keys_rotate_and_old_ciphertexts_still_open(store: Arc<dyn Store>) {
    let k1 = DataKey::random().unwrap();
    let ring1: Arc<dyn KeyProvider> = Arc::new(StaticKeyRing::new("k1", k1.clone()).unwrap());
    let t = setup_with(store.clone(), Some(ring1), BankConfig::default()).await;
    let me = t.user("rot@example.com").await;
    let c = t
        .bank
        .customers()
        .create_customer(&me, None, profile("Rot", Some("219-09-9999")))
        .await
        .unwrap();

    // Rotate: k2 current, k1 retired but still known.
    let k2 = DataKey::random().unwrap();
    let ring2: Arc<dyn KeyProvider> = Arc::new(
        StaticKeyRing::new("k1", k1)
            .unwrap()
            .rotate_to("k2", k2.clone())
            .unwrap(),
    );
    let t2 = setup_with(store.clone(), Some(ring2), BankConfig::default()).await;
    assert!(t2
        .bank
        .customers()
        .verify_customer_ssn(&t2.admin, c.id, "219-09-9999")
        .await
        .unwrap());
    assert_eq!(
        t2.bank
            .customers()
            .reseal_customer_ssn(&t2.admin, c.id)
            .await
            .unwrap()
            .as_deref(),
        Some("k2")
    );

    // After re-sealing, a ring without k1 still reads it; a ring without k2 cannot.
    let ring3: Arc<dyn KeyProvider> = Arc::new(StaticKeyRing::new("k2", k2).unwrap());
    let t3 = setup_with(store.clone(), Some(ring3), BankConfig::default()).await;
    assert!(t3
        .bank
        .customers()
        .verify_customer_ssn(&t3.admin, c.id, "219-09-9999")
        .await
        .unwrap());
    let t4 = setup_with(store, None, BankConfig::default()).await;
    assert_eq!(
        refusal_code(
            t4.bank
                .customers()
                .verify_customer_ssn(&t4.admin, c.id, "219-09-9999")
                .await
        ),
        "internal_error"
    );
}

pub async fn documents_and_the_kyc_state_machine(store: Arc<dyn Store>) {
    let t = setup(store).await;
    let me = t.verified_user("kyc@example.com").await;
    let c = t
        .bank
        .customers()
        .create_customer(&me, None, profile("Kay", None))
        .await
        .unwrap();
    let me = t
        .bank
        .identity()
        .actor_for_user(me.user_id.unwrap())
        .await
        .unwrap();

    // Submitting needs an identity document.
    assert_eq!(
        refusal_code(t.bank.customers().submit_kyc(&me, c.id).await),
        "validation_error"
    );
    assert_eq!(
        refusal_code(
            t.bank
                .customers()
                .upload_document(&me, c.id, DocumentType::Passport, b"GIF89a...")
                .await
        ),
        "validation_error"
    );
    let big = vec![0x25u8; 10 * 1024 * 1024 + 1];
    assert_eq!(
        refusal_code(
            t.bank
                .customers()
                .upload_document(&me, c.id, DocumentType::Passport, &big)
                .await
        ),
        "validation_error"
    );
    let bill = t
        .bank
        .customers()
        .upload_document(&me, c.id, DocumentType::UtilityBill, PDF)
        .await
        .unwrap();
    assert_eq!(bill.content_type, "application/pdf");
    // The stored checksum is the plain SHA-256 of the file, recomputable by anyone.
    use sha2::Digest;
    assert_eq!(bill.sha256, hex::encode(sha2::Sha256::digest(PDF)));
    assert_eq!(
        refusal_code(t.bank.customers().submit_kyc(&me, c.id).await),
        "validation_error",
        "a bill proves no identity"
    );
    let passport = t
        .bank
        .customers()
        .upload_document(&me, c.id, DocumentType::Passport, PNG)
        .await
        .unwrap();
    assert_eq!(passport.content_type, "image/png");
    let (_, bytes) = t
        .bank
        .customers()
        .document_content(&me, c.id, passport.id)
        .await
        .unwrap();
    assert_eq!(bytes, PNG);

    // Illegal transitions are typed errors.
    assert_eq!(
        refusal_code(t.bank.customers().approve_kyc(&t.admin, c.id).await),
        "invalid_state"
    );
    assert_eq!(
        refusal_code(
            t.bank
                .customers()
                .reject_kyc(&t.admin, c.id, "blurry")
                .await
        ),
        "invalid_state"
    );
    assert_eq!(
        t.bank
            .customers()
            .submit_kyc(&me, c.id)
            .await
            .unwrap()
            .kyc_status,
        KycStatus::Submitted
    );
    assert_eq!(
        refusal_code(t.bank.customers().submit_kyc(&me, c.id).await),
        "invalid_state"
    );
    assert_eq!(
        refusal_code(
            t.bank
                .customers()
                .upload_document(&me, c.id, DocumentType::NationalId, PNG)
                .await
        ),
        "invalid_state"
    );
    assert_eq!(
        refusal_code(t.bank.customers().approve_kyc(&me, c.id).await),
        "forbidden"
    );

    let k = t
        .bank
        .customers()
        .reject_kyc(&t.admin, c.id, "photo unreadable")
        .await
        .unwrap();
    assert_eq!(k.kyc_status, KycStatus::Rejected);
    assert_eq!(k.rejection_reason.as_deref(), Some("photo unreadable"));
    assert_eq!(
        refusal_code(t.bank.customers().approve_kyc(&t.admin, c.id).await),
        "invalid_state"
    );
    // The rejected passport no longer counts: resubmission needs a new identity document.
    assert_eq!(
        refusal_code(t.bank.customers().submit_kyc(&me, c.id).await),
        "validation_error"
    );
    t.bank
        .customers()
        .upload_document(
            &me,
            c.id,
            DocumentType::DriversLicense,
            &[0xFF, 0xD8, 0xFF, 0xE0, 1, 2],
        )
        .await
        .unwrap();
    assert_eq!(
        t.bank
            .customers()
            .submit_kyc(&me, c.id)
            .await
            .unwrap()
            .kyc_status,
        KycStatus::Submitted
    );
    let k = t
        .bank
        .customers()
        .approve_kyc(&t.admin, c.id)
        .await
        .unwrap();
    assert_eq!(k.kyc_status, KycStatus::Approved);
    assert!(k.verified_at.is_some());
    assert_eq!(
        refusal_code(t.bank.customers().reject_kyc(&t.admin, c.id, "late").await),
        "invalid_state"
    );

    // Approval unfroze the onboarding account and told the customer.
    let acc = t
        .bank
        .money()
        .account(&me, c.default_account_id.unwrap())
        .await
        .unwrap();
    assert_eq!(acc.status, AccountStatus::Active);
    assert!(t
        .notifier
        .sent_to("kyc@example.com")
        .iter()
        .any(|m| m.subject.as_deref() == Some("Your identity is verified")));
    let types: Vec<EventType> = t.event_types(c.id.0).await;
    assert_eq!(
        types,
        vec![
            EventType::CustomerCreated,
            EventType::KycSubmitted,
            EventType::KycRejected,
            EventType::KycSubmitted,
            EventType::KycApproved
        ]
    );
    let docs = t.bank.customers().documents(&me, c.id).await.unwrap();
    assert_eq!(docs.len(), 3);
    let log = t.bank.audit().audit_log(&t.admin, None, 100).await.unwrap();
    assert!(
        log.iter().any(|e| e.action == "kyc.reject")
            && log.iter().any(|e| e.action == "kyc.approve")
    );
}

pub async fn accounts_open_only_after_kyc_approval(store: Arc<dyn Store>) {
    let t = setup(store).await;
    let me = t.verified_user("gate@example.com").await;
    let c = t
        .bank
        .customers()
        .create_customer(&me, None, profile("Gate", None))
        .await
        .unwrap();
    let me = t
        .bank
        .identity()
        .actor_for_user(me.user_id.unwrap())
        .await
        .unwrap();
    let req = || OpenAccountRequest {
        customer_id: c.id,
        account_type: AccountType::Savings,
        currency: Currency::USD,
        overdraft_limit: None,
        daily_limit: None,
    };
    assert_eq!(
        t.bank.money().open_account(&me, req()).await.unwrap_err(),
        BankError::KycRequired
    );
    // Staff are persons too: the gate applies to them.
    assert_eq!(
        t.bank
            .money()
            .open_account(&t.admin, req())
            .await
            .unwrap_err(),
        BankError::KycRequired
    );
    t.bank
        .customers()
        .upload_document(&me, c.id, DocumentType::Passport, PDF)
        .await
        .unwrap();
    t.bank.customers().submit_kyc(&me, c.id).await.unwrap();
    t.bank
        .customers()
        .approve_kyc(&t.admin, c.id)
        .await
        .unwrap();
    let a = t.bank.money().open_account(&me, req()).await.unwrap();
    assert_eq!(a.customer_id, c.id);
    // The system actor (the embedding program) is trusted, as before.
    let stranger = CustomerId(uuid::Uuid::from_u128(42));
    let sys = OpenAccountRequest {
        customer_id: stranger,
        ..req()
    };
    t.bank
        .money()
        .open_account(&Actor::system(), sys)
        .await
        .unwrap();

    // With the setting off, persons open accounts without KYC.
    // A second bank over the same store (the first one's data does not matter here).
    let t2 = setup_with(
        t.store.clone(),
        None,
        BankConfig {
            require_kyc: false,
            ..BankConfig::default()
        },
    )
    .await;
    let me2 = t2.user("nokyc@example.com").await;
    let c2 = t2
        .bank
        .customers()
        .create_customer(&me2, None, profile("No", None))
        .await
        .unwrap();
    let default = t2
        .bank
        .money()
        .account(&Actor::system(), c2.default_account_id.unwrap())
        .await
        .unwrap();
    assert_eq!(
        default.status,
        AccountStatus::Active,
        "not frozen when KYC is not required"
    );
    let me2 = t2
        .bank
        .identity()
        .actor_for_user(me2.user_id.unwrap())
        .await
        .unwrap();
    t2.bank
        .money()
        .open_account(
            &me2,
            OpenAccountRequest {
                customer_id: c2.id,
                ..req()
            },
        )
        .await
        .unwrap();
}

pub async fn updates_are_allow_listed_and_bola_is_not_found(store: Arc<dyn Store>) {
    let t = setup(store).await;
    let me = t.user("upd@example.com").await;
    let other = t.user("other@example.com").await;
    let c = t
        .bank
        .customers()
        .create_customer(&me, None, profile("Up", None))
        .await
        .unwrap();
    let me = t
        .bank
        .identity()
        .actor_for_user(me.user_id.unwrap())
        .await
        .unwrap();
    let patch = CustomerPatch {
        city: Some("Chicago".into()),
        address_line2: Some(Some("Apt 4".into())),
        ..Default::default()
    };
    let v = t
        .bank
        .customers()
        .update_customer(&me, c.id, patch)
        .await
        .unwrap();
    assert_eq!(
        (v.city.as_str(), v.address_line2.as_deref()),
        ("Chicago", Some("Apt 4"))
    );
    // A no-op update emits nothing.
    t.bank
        .customers()
        .update_customer(
            &me,
            c.id,
            CustomerPatch {
                city: Some("Chicago".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let evs = t.events(c.id.0).await;
    let updated: Vec<_> = evs
        .iter()
        .filter(|e| e.event.event_type == EventType::CustomerUpdated)
        .collect();
    assert_eq!(updated.len(), 1);
    let data = updated[0].event.data_json();
    assert_eq!(
        data["changedFields"],
        serde_json::json!(["address_line2", "city"])
    );

    assert_eq!(
        refusal_code(t.bank.customers().customer(&other, c.id).await),
        "not_found"
    );
    assert_eq!(
        refusal_code(
            t.bank
                .customers()
                .update_customer(&other, c.id, CustomerPatch::default())
                .await
        ),
        "not_found"
    );
    assert_eq!(
        refusal_code(t.bank.customers().documents(&other, c.id).await),
        "not_found"
    );
    assert_eq!(
        refusal_code(
            t.bank
                .customers()
                .upload_document(&other, c.id, DocumentType::Passport, PDF)
                .await
        ),
        "not_found"
    );
    assert_eq!(
        refusal_code(
            t.bank
                .customers()
                .create_customer(&other, me.user_id, profile("X", None))
                .await
        ),
        "forbidden"
    );
    assert_eq!(
        t.bank
            .customers()
            .update_customer(
                &me,
                c.id,
                CustomerPatch {
                    country: Some("USA".into()),
                    ..Default::default()
                }
            )
            .await
            .unwrap_err()
            .code(),
        "validation_error"
    );
}

pub async fn staff_search_with_cursor_paging(store: Arc<dyn Store>) {
    let t = setup(store).await;
    let mut ids = Vec::new();
    for (i, (first, last)) in [
        ("Ann", "Lee"),
        ("Bob", "Leeds"),
        ("Cid", "Moss"),
        ("Dee", "Lee"),
    ]
    .iter()
    .enumerate()
    {
        let u = t.user(&format!("s{i}@example.com")).await;
        let mut p = profile(first, None);
        p.last_name = last.to_string();
        ids.push(
            t.bank
                .customers()
                .create_customer(&u, None, p)
                .await
                .unwrap()
                .id,
        );
    }
    let s = |name: Option<&str>| CustomerSearch {
        name: name.map(Into::into),
        limit: 100,
        ..Default::default()
    };
    assert_eq!(
        t.bank
            .customers()
            .search_customers(&t.admin, s(Some("lee")))
            .await
            .unwrap()
            .len(),
        3
    );
    assert_eq!(
        t.bank
            .customers()
            .search_customers(&t.admin, s(Some("ann LEE")))
            .await
            .unwrap()
            .len(),
        1
    );
    let by_email = CustomerSearch {
        email: Some("S2@example.com".into()),
        limit: 10,
        ..Default::default()
    };
    assert_eq!(
        t.bank
            .customers()
            .search_customers(&t.admin, by_email)
            .await
            .unwrap()[0]
            .first_name,
        "Cid"
    );
    let pending = CustomerSearch {
        kyc_status: Some(KycStatus::Pending),
        limit: 2,
        ..Default::default()
    };
    let page1 = t
        .bank
        .customers()
        .search_customers(&t.admin, pending.clone())
        .await
        .unwrap();
    assert_eq!(page1.len(), 2);
    let page2 = t
        .bank
        .customers()
        .search_customers(
            &t.admin,
            CustomerSearch {
                after: Some(page1[1].id),
                ..pending.clone()
            },
        )
        .await
        .unwrap();
    assert_eq!(page2.len(), 2);
    assert!(page1[1].id < page2[0].id);
    let mut all: Vec<CustomerId> = page1.iter().chain(&page2).map(|c| c.id).collect();
    all.sort();
    ids.sort();
    assert_eq!(all, ids);
    assert_eq!(
        t.bank
            .customers()
            .search_customers(
                &t.admin,
                CustomerSearch {
                    limit: 101,
                    ..Default::default()
                }
            )
            .await
            .unwrap_err()
            .code(),
        "validation_error"
    );
    let cust = t.user("nosy@example.com").await;
    assert_eq!(
        refusal_code(t.bank.customers().search_customers(&cust, s(None)).await),
        "forbidden"
    );
}
