//! Open a bank, onboard a customer, move money, print a statement.
//! Run: `cargo run -p bankflow-examples --example quickstart`
use std::sync::Arc;

use bankflow_core::identity::VerifyChannel;
use bankflow_core::*;
use chrono::NaiveDate;

/// The six-digit code in a message body, as a user would read it off their email.
fn six_digit_code(body: &str) -> Option<String> {
    body.split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .map(str::to_string)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), BankError> {
    // An in-memory bank; swap in SqliteStore / PgStore for persistence. Its mail goes to an
    // in-memory outbox here (the server sends it over SMTP).
    let mail = Arc::new(MemoryNotifier::default());
    let bank = Bank::builder(Arc::new(MemoryStore::new()))
        .notifier(mail.clone())
        .build();
    let admin = Actor::system();
    let key = |k: &str| IdempotencyKey::parse(k);
    let usd = |s: &str| Money::parse(s, Currency::USD);

    // Onboard: register a user, create the customer profile, KYC with one identity document.
    let user = bank
        .identity()
        .register(
            RegisterRequest {
                email: "ada@example.com".into(),
                password: "correct horse battery staple".into(),
                phone: None,
            },
            &RequestContext::default(),
        )
        .await?;
    let me = bank.identity().actor_for_user(user.id).await?;
    // KYC needs a verified email: the sign-up mail carries a code the user types back.
    let sent = mail.sent_to("ada@example.com");
    let code = sent.iter().rev().find_map(|m| six_digit_code(&m.body));
    let code = code.ok_or_else(|| BankError::internal("no verification code was mailed"))?;
    bank.identity()
        .verify_contact(&me, VerifyChannel::Email, &code, &RequestContext::default())
        .await?;
    let customer = bank
        .customers()
        .create_customer(
            &me,
            None,
            NewCustomer {
                first_name: "Ada".into(),
                last_name: "Lovelace".into(),
                date_of_birth: NaiveDate::from_ymd_opt(1990, 12, 10).expect("date"),
                ssn: Some("123-45-6789".into()),
                address_line1: "12 St James's Square".into(),
                address_line2: None,
                city: "London".into(),
                state: "LDN".into(),
                zip_code: "SW1Y 4JH".into(),
                country: "GB".into(),
            },
        )
        .await?;
    let passport = b"%PDF-1.4\n% a scanned passport\n";
    bank.customers()
        .upload_document(&me, customer.id, DocumentType::Passport, passport)
        .await?;
    bank.customers().submit_kyc(&me, customer.id).await?;
    bank.customers().approve_kyc(&admin, customer.id).await?;
    let me = bank.identity().actor_for_user(user.id).await?; // now carries the customer id

    // Two accounts: the default checking account from onboarding, and a new savings account.
    let checking = bank
        .money()
        .accounts_of_customer(&me, customer.id)
        .await?
        .remove(0);
    let savings = bank
        .money()
        .open_account(
            &me,
            OpenAccountRequest {
                customer_id: customer.id,
                account_type: AccountType::Savings,
                currency: Currency::USD,
                overdraft_limit: None,
                daily_limit: None,
            },
        )
        .await?;

    // Money moves: a teller deposit, then a transfer by the customer.
    let deposit = BookingRequest {
        account_id: checking.id,
        amount: usd("250.00")?,
        description: Some("Cash".into()),
        idempotency_key: key("dep-1")?,
    };
    bank.money().deposit(&admin, deposit).await?;
    let item = TransferItem {
        from_account_id: checking.id,
        to: Destination::Account(savings.id),
        amount: usd("100.50")?,
        description: Some("Saving up".into()),
    };
    bank.money()
        .transfer(
            &me,
            TransferRequest {
                item,
                idempotency_key: key("t-1")?,
                context: RequestContext::default(),
            },
        )
        .await?;

    let today = bank.clock().now().date_naive();
    let st = bank
        .money()
        .statement(&me, checking.id, today, today)
        .await?;
    println!(
        "Statement {} ({} .. {})",
        st.account_number.masked(),
        st.from,
        st.to
    );
    println!("  opening {}", st.opening_balance);
    for e in &st.entries {
        println!(
            "  {:>10}  {:>10}  {}",
            e.amount.amount(),
            e.balance_after.amount(),
            e.description.as_deref().unwrap_or("")
        );
    }
    println!("  closing {}", st.closing_balance);
    assert_eq!(st.closing_balance, usd("149.50")?);
    bank.money().verify_ledger().await?;
    Ok(())
}
