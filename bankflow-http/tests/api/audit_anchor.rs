//! Issue #16 finding 8 through HTTP: the audit chain's head is anchored in a file outside the
//! database, so deleting the newest audit rows is reported by `/api/v1/admin/audit/verify`.

use std::sync::Arc;

use axum::http::StatusCode;
use bankflow_core::{Bank, MemoryStore};
use bankflow_http::audit_anchor::{FileAuditAnchor, AUDIT_ANCHOR_FILE};

use crate::helpers::{relaxed_limits, TestApp};

#[tokio::test]
async fn finding_8_deleting_the_newest_audit_rows_is_reported_missing() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(AUDIT_ANCHOR_FILE);
    let memory = MemoryStore::new();
    let anchor = Arc::new(FileAuditAnchor::new(file.clone()));
    let builder = Bank::builder(Arc::new(memory.clone())).audit_anchor(anchor.clone());
    let app = TestApp::with_builder(builder, relaxed_limits());
    let admin = app.admin_token().await;

    let v = app.get("/api/v1/admin/audit/verify", &admin).await;
    assert_eq!(v.status, StatusCode::OK, "{}", v.text());
    let v = v.json();
    let head = memory.tamper(|s| s.audit_log_mut().len()).await as i64;
    assert!(head >= 2, "admin sign-up and sign-in are audited");
    assert_eq!(v["valid"], true, "{v}");
    assert_eq!(v["anchored_seq"], head, "{v}");
    assert!(v["fault"].is_null(), "{v}");
    anchor.flush().await;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    // An insider deletes the newest entry straight in the store.
    memory.tamper(|s| s.audit_log_mut().pop()).await;
    let v = app.get("/api/v1/admin/audit/verify", &admin).await.json();
    assert_eq!(v["valid"], false, "{v}");
    assert_eq!(v["fault"], "missing", "{v}");
    assert_eq!(v["first_invalid_seq"], head, "{v}");
    assert_eq!(v["anchored_seq"], head, "{v}");
    assert_eq!(v["checked"], head - 1, "{v}");
}
