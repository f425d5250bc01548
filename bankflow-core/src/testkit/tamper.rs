//! An insider's edits of the stored audit log, for the cases that prove verification finds
//! them. The ports rightly offer no way to delete or rewrite audit rows, so each store's
//! test factory registers how to do it with its own raw access (SQL, the memory state).

use std::sync::{Arc, Mutex, Weak};

use futures::future::BoxFuture;

use crate::ports::Store;

/// What an insider does to the audit table, without the audit key.
#[derive(Clone, Debug)]
pub enum AuditTamper {
    /// Deletes every entry with `seq >= n` and, where the store keeps a separate chain
    /// head, moves it back to entry `n - 1` (a clean truncation: new entries continue from
    /// there without a gap).
    TruncateFrom(i64),
    /// Replaces entry `seq`'s `detail`, leaving its hash as it was.
    SetDetail(i64, serde_json::Value),
}

/// A store's way of applying an [`AuditTamper`].
pub type AuditTamperFn = Box<dyn Fn(AuditTamper) -> BoxFuture<'static, ()> + Send + Sync>;

type Registered = (Weak<dyn Store>, Arc<AuditTamperFn>);

static TAMPERS: Mutex<Vec<Registered>> = Mutex::new(Vec::new());

/// Registers how to tamper with `store`'s audit log.
pub fn register_audit_tamper(store: &Arc<dyn Store>, tamper: AuditTamperFn) {
    let mut all = TAMPERS.lock().unwrap();
    all.retain(|(s, _)| s.strong_count() > 0);
    all.push((Arc::downgrade(store), Arc::new(tamper)));
}

/// Applies `t` to `store`'s audit log; panics when its factory registered no way to.
pub(crate) async fn tamper_audit(store: &Arc<dyn Store>, t: AuditTamper) {
    let me = Arc::downgrade(store);
    let f = {
        let all = TAMPERS.lock().unwrap();
        let found = all.iter().find(|(s, _)| Weak::ptr_eq(s, &me));
        found.map(|(_, f)| f.clone())
    };
    let f = f.expect("the store's test factory registers an audit tamper (register_audit_tamper)");
    f(t).await
}
