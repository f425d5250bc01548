//! Identity and customer repository cases (the contract is in the trait docs).

#![allow(missing_docs)] // A case is named by what it checks; the names are the docs.

use std::sync::Arc;

use chrono::Duration;
use uuid::Uuid;

use crate::auth::Role;
use crate::crypto::Sealed;
use crate::customer::{CustomerRecord, CustomerSearch, DocumentStatus, KycStatus};
use crate::error::BankError;
use crate::identity::{CodePurpose, Phone};
use crate::ids::{AccountId, CustomerId, DocumentId};
use crate::ports::Store;

use super::ctx_fixtures::*;

// ------------------------------------------------------------------ cases

pub async fn users_unique_and_lookups(store: Arc<dyn Store>) {
    let a = user(1, "a@example.com", Some("+14155550101"));
    let mut u = write(&store).await;
    u.insert_user(&a).await.expect("insert");
    let dup_email = user(2, "a@example.com", Some("+14155550101"));
    assert_eq!(
        u.insert_user(&dup_email).await,
        Err(BankError::Duplicate("email")),
        "email checked first"
    );
    assert_eq!(
        u.insert_user(&user(2, "b@example.com", Some("+14155550101")))
            .await,
        Err(BankError::Duplicate("phone"))
    );
    assert_eq!(
        u.insert_user(&user(1, "c@example.com", None)).await,
        Err(BankError::Duplicate("user"))
    );
    u.insert_user(&user(3, "c@example.com", None))
        .await
        .expect("no phone is fine");
    u.insert_user(&user(4, "d@example.com", None))
        .await
        .expect("several without phone");
    assert!(!u.any_user_with_role(Role::Admin).await.unwrap());
    u.commit().await.expect("commit");

    let mut r = read(&store).await;
    assert_eq!(r.user(a.id).await.unwrap().as_ref(), Some(&a), "round trip");
    assert_eq!(
        r.user_by_email(&a.email).await.unwrap().map(|x| x.id),
        Some(a.id)
    );
    assert_eq!(r.user(uid(99)).await.unwrap(), None);
    drop(r);

    let mut u = write(&store).await;
    let mut c = u.user(uid(3)).await.unwrap().unwrap();
    c.phone = Some(Phone::parse("+14155550101").unwrap());
    assert_eq!(u.update_user(&c).await, Err(BankError::Duplicate("phone")));
    c.phone = Some(Phone::parse("+14155550103").unwrap());
    c.roles = vec![Role::Admin, Role::Support];
    c.failed_logins = 3;
    c.locked_until = Some(t0() + Duration::minutes(15));
    c.mfa_secret = Some(Sealed {
        key_id: "k".into(),
        nonce: vec![0; 12],
        ciphertext: vec![1, 2, 3],
    });
    c.mfa_last_step = Some(57_000_000);
    u.update_user(&c).await.expect("update");
    assert_eq!(
        u.update_user(&user(98, "z@example.com", None)).await,
        Err(BankError::NotFound { resource: "user" })
    );
    u.commit().await.unwrap();
    let mut r = read(&store).await;
    assert_eq!(r.user(c.id).await.unwrap().as_ref(), Some(&c));
    assert!(r.any_user_with_role(Role::Admin).await.unwrap());
}

pub async fn sessions_rotation_queries(store: Arc<dyn Store>) {
    let mut u = write(&store).await;
    let s1 = session(1, 10, 1, t0());
    let s2 = session(2, 10, 1, t0() + Duration::seconds(1));
    let s3 = session(3, 10, 3, t0() + Duration::seconds(2));
    let other = session(4, 11, 4, t0());
    for s in [&s1, &s2, &s3, &other] {
        u.insert_session(s).await.expect("insert");
    }
    let mut same_hash = session(5, 10, 5, t0());
    same_hash.token_hash = s1.token_hash.clone();
    assert_eq!(
        u.insert_session(&same_hash).await,
        Err(BankError::Duplicate("session"))
    );
    assert_eq!(
        u.insert_session(&session(1, 10, 1, t0()))
            .await
            .map_err(|e| e.code()),
        Err("conflict")
    );
    let mut rotated = s1.clone();
    rotated.rotated_at = Some(t0() + Duration::seconds(1));
    u.update_session(&rotated).await.unwrap();
    u.commit().await.unwrap();

    let mut r = read(&store).await;
    assert_eq!(
        r.session_by_token_hash("hash-1").await.unwrap().as_ref(),
        Some(&rotated)
    );
    assert_eq!(r.session_by_token_hash("nope").await.unwrap(), None);
    let live = r
        .active_sessions(uid(10), t0() + Duration::seconds(5), 10)
        .await
        .unwrap();
    assert_eq!(
        live.iter().map(|s| s.id).collect::<Vec<_>>(),
        vec![s3.id, s2.id],
        "newest first, rotated excluded"
    );
    assert_eq!(
        r.active_sessions(uid(10), t0() + Duration::days(8), 10)
            .await
            .unwrap(),
        vec![],
        "expired excluded"
    );
    assert_eq!(
        r.active_sessions(uid(10), t0(), 1).await.unwrap().len(),
        1,
        "limit"
    );
    let at = t0() + Duration::seconds(5);
    assert!(
        r.session_family_live(uid(10), s1.family_id, at)
            .await
            .unwrap(),
        "a rotated row's successor keeps the family live"
    );
    assert!(!r
        .session_family_live(uid(11), s1.family_id, at)
        .await
        .unwrap());
    assert!(!r
        .session_family_live(uid(10), s1.family_id, t0() + Duration::days(8))
        .await
        .unwrap());
    drop(r);

    let mut u = write(&store).await;
    assert_eq!(
        u.revoke_session_family(uid(10), s1.family_id, t0())
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        u.revoke_session_family(uid(10), s1.family_id, t0())
            .await
            .unwrap(),
        0,
        "already revoked"
    );
    assert_eq!(
        u.revoke_session_family(uid(11), s3.family_id, t0())
            .await
            .unwrap(),
        0,
        "other user's family"
    );
    assert_eq!(u.revoke_user_sessions(uid(10), t0()).await.unwrap(), 1);
    u.commit().await.unwrap();
    let mut r = read(&store).await;
    for family in [s1.family_id, s3.family_id] {
        assert!(
            !r.session_family_live(uid(10), family, t0()).await.unwrap(),
            "revoked families are not live"
        );
    }
    assert_eq!(
        r.session_by_token_hash("hash-2")
            .await
            .unwrap()
            .unwrap()
            .revoked_at,
        Some(t0())
    );
    assert_eq!(r.active_sessions(uid(11), t0(), 10).await.unwrap().len(), 1);
}

pub async fn one_time_codes(store: Arc<dyn Store>) {
    let mut u = write(&store).await;
    let c1 = code(1, 10, CodePurpose::VerifyEmail, "h1", t0());
    let c2 = code(
        2,
        10,
        CodePurpose::VerifyEmail,
        "h2",
        t0() + Duration::seconds(1),
    );
    let c3 = code(
        3,
        10,
        CodePurpose::PasswordReset,
        "h2",
        t0() + Duration::seconds(2),
    );
    for c in [&c1, &c2, &c3] {
        u.insert_code(c).await.expect("insert");
    }
    assert_eq!(
        u.insert_code(&c1).await,
        Err(BankError::Duplicate("one-time code"))
    );
    u.commit().await.unwrap();
    let mut r = read(&store).await;
    assert_eq!(
        r.latest_code(uid(10), CodePurpose::VerifyEmail)
            .await
            .unwrap()
            .as_ref(),
        Some(&c2)
    );
    assert_eq!(
        r.latest_code(uid(10), CodePurpose::VerifyPhone)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        r.code_by_hash(CodePurpose::PasswordReset, "h2")
            .await
            .unwrap()
            .as_ref(),
        Some(&c3)
    );
    assert_eq!(
        r.code_by_hash(CodePurpose::PasswordReset, "h1")
            .await
            .unwrap(),
        None
    );
    drop(r);
    let mut u = write(&store).await;
    let mut used = c1.clone();
    used.attempts = 2;
    used.used_at = Some(t0());
    u.update_code(&used).await.unwrap();
    assert_eq!(
        u.consume_codes(
            uid(10),
            CodePurpose::VerifyEmail,
            t0() + Duration::seconds(9)
        )
        .await
        .unwrap(),
        1
    );
    u.commit().await.unwrap();
    let mut r = read(&store).await;
    let latest = r
        .latest_code(uid(10), CodePurpose::VerifyEmail)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(latest.used_at, Some(t0() + Duration::seconds(9)));
    assert_eq!(
        r.code_by_hash(CodePurpose::VerifyEmail, "h1")
            .await
            .unwrap()
            .unwrap()
            .attempts,
        2
    );
    assert_eq!(
        r.code_by_hash(CodePurpose::PasswordReset, "h2")
            .await
            .unwrap()
            .unwrap()
            .used_at,
        None
    );
}

pub async fn customers_and_documents(store: Arc<dyn Store>) {
    let mut u = write(&store).await;
    let c = customer(1, 10, "Ann", "Lee");
    u.insert_customer(&c).await.expect("insert");
    assert_eq!(
        u.insert_customer(&customer(2, 10, "X", "Y")).await,
        Err(BankError::Duplicate("customer")),
        "one per user"
    );
    assert_eq!(
        u.insert_customer(&customer(1, 11, "X", "Y")).await,
        Err(BankError::Duplicate("customer"))
    );
    let docs = [
        document(3, 1, t0() + Duration::seconds(2)),
        document(2, 1, t0()),
        document(1, 1, t0() + Duration::seconds(2)),
    ];
    for d in &docs {
        u.insert_document(d).await.unwrap();
    }
    assert_eq!(
        u.insert_document(&docs[0]).await,
        Err(BankError::Duplicate("document"))
    );
    u.commit().await.unwrap();

    let mut r = read(&store).await;
    assert_eq!(
        r.customer(c.id).await.unwrap().as_ref(),
        Some(&c),
        "round trip (sealed SSN included)"
    );
    assert_eq!(
        r.customer_by_user(uid(10)).await.unwrap().map(|x| x.id),
        Some(c.id)
    );
    let order: Vec<DocumentId> = r
        .documents_of_customer(c.id, 10)
        .await
        .unwrap()
        .iter()
        .map(|d| d.id)
        .collect();
    assert_eq!(
        order,
        vec![docs[1].id, docs[2].id, docs[0].id],
        "uploaded_at, then id"
    );
    assert_eq!(r.documents_of_customer(c.id, 1).await.unwrap().len(), 1);
    drop(r);

    let mut u = write(&store).await;
    let mut c2 = c.clone();
    c2.kyc_status = KycStatus::Approved;
    c2.kyc_verified_at = Some(t0());
    c2.address_line2 = Some("Apt 1".into());
    c2.default_account_id = Some(AccountId(Uuid::from_u128(77)));
    c2.version = 2;
    u.update_customer(&c2).await.unwrap();
    let mut d = docs[1].clone();
    d.status = DocumentStatus::Verified;
    d.verified_at = Some(t0());
    u.update_document(&d).await.unwrap();
    assert_eq!(
        u.update_customer(&customer(9, 19, "N", "O")).await,
        Err(BankError::NotFound {
            resource: "customer"
        })
    );
    u.commit().await.unwrap();
    let mut r = read(&store).await;
    assert_eq!(r.customer(c.id).await.unwrap().as_ref(), Some(&c2));
    assert_eq!(r.document(d.id).await.unwrap().as_ref(), Some(&d));
    drop(r);

    let mut u = write(&store).await;
    u.delete_customer(c.id).await.unwrap();
    assert_eq!(
        u.delete_customer(c.id).await,
        Err(BankError::NotFound {
            resource: "customer"
        })
    );
    u.commit().await.unwrap();
    let mut r = read(&store).await;
    assert_eq!(r.customer(c.id).await.unwrap(), None);
    assert_eq!(r.customer_by_user(uid(10)).await.unwrap(), None);
    assert_eq!(
        r.documents_of_customer(c.id, 10).await.unwrap(),
        vec![],
        "documents go with the customer"
    );
}

pub async fn customer_search(store: Arc<dyn Store>) {
    let mut u = write(&store).await;
    let mut rows = vec![
        customer(4, 40, "Ann", "Lee"),
        customer(2, 20, "Bob", "Leeds"),
        customer(3, 30, "Cid", "Moss"),
        customer(1, 10, "Dee", "LEE"),
        customer(5, 50, "Eve", "100%_Real"),
    ];
    rows[2].kyc_status = KycStatus::Approved;
    rows[2].phone = Some("+14155550123".into());
    for c in &rows {
        u.insert_customer(c).await.unwrap();
    }
    u.commit().await.unwrap();
    let mut r = read(&store).await;
    let ids = |v: Vec<CustomerRecord>| v.into_iter().map(|c| c.id.0.as_u128()).collect::<Vec<_>>();
    let s = |name: Option<&str>| CustomerSearch {
        name: name.map(Into::into),
        limit: 100,
        ..Default::default()
    };
    assert_eq!(
        ids(r.search_customers(&s(Some("lee"))).await.unwrap()),
        vec![1, 2, 4],
        "case-insensitive substring, id order"
    );
    assert_eq!(
        ids(r.search_customers(&s(Some("ann lee"))).await.unwrap()),
        vec![4],
        "first + ' ' + last"
    );
    assert_eq!(
        ids(r.search_customers(&s(Some("0%_R"))).await.unwrap()),
        vec![5],
        "% and _ are literal"
    );
    assert_eq!(
        ids(r.search_customers(&s(Some("%"))).await.unwrap()),
        vec![5]
    );
    assert_eq!(
        ids(r.search_customers(&s(Some("_"))).await.unwrap()),
        vec![5]
    );
    let by = |f: fn(&mut CustomerSearch)| {
        let mut q = CustomerSearch {
            limit: 100,
            ..Default::default()
        };
        f(&mut q);
        q
    };
    assert_eq!(
        ids(r
            .search_customers(&by(|q| q.email = Some("bob@example.com".into())))
            .await
            .unwrap()),
        vec![2]
    );
    assert_eq!(
        ids(r
            .search_customers(&by(|q| q.phone = Some("+14155550123".into())))
            .await
            .unwrap()),
        vec![3]
    );
    assert_eq!(
        ids(r
            .search_customers(&by(|q| q.kyc_status = Some(KycStatus::Pending)))
            .await
            .unwrap()),
        vec![1, 2, 4, 5]
    );
    let both = by(|q| {
        q.kyc_status = Some(KycStatus::Pending);
        q.name = Some("LEE".into());
    });
    assert_eq!(
        ids(r.search_customers(&both).await.unwrap()),
        vec![1, 2, 4],
        "filters are ANDed"
    );
    let page = CustomerSearch {
        limit: 2,
        after: Some(CustomerId(Uuid::from_u128(2))),
        ..Default::default()
    };
    assert_eq!(
        ids(r.search_customers(&page).await.unwrap()),
        vec![3, 4],
        "after + limit"
    );
}
