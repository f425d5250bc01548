//! The shared conformance suite (bankflow_core::testkit) against SQLite files: one test per
//! case, each on its own database file.

mod common;

bankflow_core::conformance_tests!(common::FileFactory::default());
