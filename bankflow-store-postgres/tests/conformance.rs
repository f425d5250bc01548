//! The shared conformance suite (the same cases the memory and SQLite stores run) against
//! PostgreSQL: one test per case, each on a fresh database.

mod common;

use common::PgFactory;

// Each test gets its own factory, so its own fresh database, dropped with the factory
// (`TestDatabase`'s drop) when the test ends, passed or failed.
bankflow_core::conformance_tests!(PgFactory::default());
