//! The shared conformance suite on the in-memory store: one test per case.
use std::sync::Arc;

use async_trait::async_trait;
use bankflow_core::testkit::StoreFactory;
use bankflow_core::{MemoryStore, Store};

struct Memory;

#[async_trait]
impl StoreFactory for Memory {
    async fn fresh(&self) -> Arc<dyn Store> {
        Arc::new(MemoryStore::new())
    }
}

bankflow_core::conformance_tests!(Memory);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_store_survives_the_hammer() {
    let (bank, _) = bankflow_core::testkit::test_bank(Arc::new(MemoryStore::new()));
    let report = bankflow_core::testkit::hammer(&bank, 8, 300, 10, 7).await;
    assert!(report.acknowledged > 0 && report.refused > 0, "{report:?}");
}
