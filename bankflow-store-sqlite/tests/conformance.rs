//! The shared conformance suite (bankflow_core::testkit), run against SQLite files.

mod common;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_passes_the_conformance_suite() {
    bankflow_core::testkit::run_conformance(&common::FileFactory::default()).await;
}
