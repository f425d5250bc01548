//! The property model (bankflow_core::testkit, `model_test!`) on the in-memory store: random
//! sequences of every money operation (group commit on, customer actors, daily limits, USD
//! and JPY, amounts up to the bounds, closes, external payments) against a reference model;
//! refusals are checked by code. The SQLite and PostgreSQL crates run the same model.
//!
//! 64 cases × 200 operations = 12,800 operations per run.

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

bankflow_core::model_test!(Memory, 64, 200);
