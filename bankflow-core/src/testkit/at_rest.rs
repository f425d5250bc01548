//! What a store keeps, as text, so a case can prove a secret is never kept in plain text.
//!
//! Every store answers through its ports: everything they return about a user (record,
//! live sessions, codes, customer, documents, notifications, events) and the audit log.
//! A store may also register a raw dump of all it holds (the memory store's whole state,
//! say), which is searched too; the ports alone cannot list rows nobody asks for.

use std::sync::{Arc, Mutex, Weak};

use futures::future::BoxFuture;

use crate::identity::CodePurpose;
use crate::ports::{Store, TxMode, EVENTS_OF_AGGREGATE_MAX};
use crate::UserId;

/// Rows read per list when dumping (the cases keep far fewer).
const DUMP_ROWS_MAX: u32 = 1_000;

/// A store-specific dump of every byte or row a store keeps.
pub type RawDump = Box<dyn Fn() -> BoxFuture<'static, String> + Send + Sync>;

/// A registered dump and the store it dumps (weakly: the registry keeps no store alive).
type Registered = (Weak<dyn Store>, Arc<RawDump>);

/// Raw dumps by store; an entry whose store is gone is pruned on the next registration.
static RAW_DUMPS: Mutex<Vec<Registered>> = Mutex::new(Vec::new());

/// Registers a raw dump of `store`, searched by every at-rest check on that store.
pub fn register_raw_dump(store: &Arc<dyn Store>, dump: RawDump) {
    let mut dumps = RAW_DUMPS.lock().unwrap();
    dumps.retain(|(s, _)| s.strong_count() > 0);
    dumps.push((Arc::downgrade(store), Arc::new(dump)));
}

/// The raw dump registered for `store`, run; `None` when none is.
pub async fn raw_dump(store: &Arc<dyn Store>) -> Option<String> {
    let me = Arc::downgrade(store);
    let dump = {
        let dumps = RAW_DUMPS.lock().unwrap();
        let found = dumps.iter().find(|(s, _)| Weak::ptr_eq(s, &me));
        found.map(|(_, d)| d.clone())
    };
    match dump {
        Some(d) => Some(d().await),
        None => None,
    }
}

/// Everything `store` shows about `users` through its ports, the audit log, and the
/// store's raw dump when one is registered.
pub(crate) async fn stored_text(store: &Arc<dyn Store>, users: &[UserId]) -> String {
    let mut out = String::new();
    for &user in users {
        out.push_str(&user_rows(store, user).await);
    }
    let mut uow = store.begin(TxMode::Read).await.unwrap();
    let audit = uow.audit_entries(None, DUMP_ROWS_MAX).await.unwrap();
    out.push_str(&format!("{audit:?}"));
    if let Some(dump) = raw_dump(store).await {
        out.push_str(&dump);
    }
    out
}

async fn user_rows(store: &Arc<dyn Store>, user: UserId) -> String {
    let mut uow = store.begin(TxMode::Read).await.unwrap();
    let record = uow.user(user).await.unwrap();
    // Every live session, however old (from the epoch: `DateTime::MIN_UTC` is beyond PostgreSQL's range).
    let epoch = chrono::DateTime::<chrono::Utc>::UNIX_EPOCH;
    let sessions = uow
        .active_sessions(user, epoch, DUMP_ROWS_MAX)
        .await
        .unwrap();
    let mut codes = Vec::new();
    for purpose in [
        CodePurpose::VerifyEmail,
        CodePurpose::VerifyPhone,
        CodePurpose::PasswordReset,
    ] {
        codes.push(uow.latest_code(user, purpose).await.unwrap());
    }
    let customer = uow.customer_by_user(user).await.unwrap();
    let documents = match &customer {
        Some(c) => uow
            .documents_of_customer(c.id, DUMP_ROWS_MAX)
            .await
            .unwrap(),
        None => Vec::new(),
    };
    let notes = uow
        .notifications_of_user(user, None, DUMP_ROWS_MAX)
        .await
        .unwrap();
    let events = uow
        .events_of_aggregate(user.0, EVENTS_OF_AGGREGATE_MAX)
        .await
        .unwrap();
    format!("{record:?}{sessions:?}{codes:?}{customer:?}{documents:?}{notes:?}{events:?}")
}
