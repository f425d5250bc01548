//! The property model (bankflow_core::testkit, `model_test!`) against PostgreSQL, group
//! commit on: 50 cases × 200 operations = 10,000 operations, each case its own database.

mod common;

bankflow_core::model_test!(common::PgFactory::rolling(), 50, 200);
