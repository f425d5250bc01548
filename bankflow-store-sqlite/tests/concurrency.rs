//! Concurrency proof: 32 tasks x 1,000 random transfers among 20 accounts on a file
//! database through the engine (group commit on, as the store asks), then the hammer's
//! checks: money conserved, no balance below its overdraft floor, every acknowledged
//! transfer booked exactly once, every refused one not at all.

mod common;

use std::sync::Arc;

use bankflow_core::{Bank, BankConfig};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hammer_with_group_commit() {
    // The factory owns the temporary directory: keep it alive for the whole test.
    let factory = common::FileFactory::default();
    let (store, _path) = factory.open().await;
    let bank = Bank::builder(Arc::new(store)).build();
    let report = bankflow_core::testkit::hammer(&bank, 32, 1_000, 20, 4242).await;
    println!(
        "sqlite hammer (group commit): {} acknowledged, {} refused in {:?} ({:.0} transfers/s)",
        report.acknowledged,
        report.refused,
        report.elapsed,
        (report.acknowledged + report.refused) as f64 / report.elapsed.as_secs_f64()
    );
    assert_eq!(report.acknowledged + report.refused, 32_000);
    assert!(report.acknowledged > 0);
}

/// Without group commit every command is its own write unit on the one writer connection:
/// the mutex + BEGIN IMMEDIATE path must be exactly as correct.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hammer_one_unit_per_command() {
    let factory = common::FileFactory::default();
    let (store, _path) = factory.open().await;
    let config = BankConfig {
        group_commit: Some(false),
        ..BankConfig::default()
    };
    let bank = Bank::builder(Arc::new(store)).config(config).build();
    let report = bankflow_core::testkit::hammer(&bank, 8, 150, 20, 77).await;
    assert_eq!(report.acknowledged + report.refused, 1_200);
}
