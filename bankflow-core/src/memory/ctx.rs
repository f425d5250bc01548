//! State and undo records of the identity, customer, fraud and notification contexts.

use super::*;

/// Identity context state.
#[derive(Default, Debug)]
pub(crate) struct IdentityState {
    pub(super) users: HashMap<UserId, UserRecord>,
    pub(super) by_email: HashMap<Email, UserId>,
    pub(super) by_phone: HashMap<Phone, UserId>,
    pub(super) sessions: HashMap<SessionId, SessionRecord>,
    pub(super) session_by_hash: HashMap<String, SessionId>,
    pub(super) sessions_by_user: HashMap<UserId, Vec<SessionId>>,
    pub(super) codes: HashMap<CodeId, OneTimeCode>,
    pub(super) codes_by_user: HashMap<UserId, Vec<CodeId>>,
}

/// Customer context state.
#[derive(Default, Debug)]
pub(crate) struct CustomerState {
    pub(super) customers: HashMap<CustomerId, CustomerRecord>,
    pub(super) by_user: HashMap<UserId, CustomerId>,
    pub(super) documents: HashMap<DocumentId, DocumentRecord>,
}

#[derive(Clone, Debug)]
pub(super) struct VelocityRow {
    pub(super) txn: TransactionId,
    pub(super) at: DateTime<Utc>,
    pub(super) amount: Decimal,
    pub(super) counts: bool,
}

/// Fraud context state.
#[derive(Default, Debug)]
pub(crate) struct FraudState {
    pub(super) rules: HashMap<RuleId, FraudRule>,
    pub(super) lists: HashMap<ListEntryId, ListEntry>,
    pub(super) assessments: IdMap<TransactionId, Assessment>,
    /// Per debited account, the facts velocity queries need, contiguous so a window scan
    /// touches no hash map (the fraud step runs on every transfer).
    pub(super) assessments_by_account: IdMap<AccountId, Vec<VelocityRow>>,
    pub(super) cases: HashMap<CaseId, FraudCase>,
    pub(super) case_by_txn: HashMap<TransactionId, CaseId>,
}

/// Notification context state.
#[derive(Default, Debug)]
pub(crate) struct NotifyState {
    pub(super) notifications: BTreeMap<NotificationId, NotificationRecord>,
    pub(super) by_user: HashMap<UserId, BTreeSet<NotificationId>>,
    pub(super) by_source: HashSet<(EventId, UserId, Channel)>,
    pub(super) preferences: BTreeMap<(UserId, String, Channel), Preference>,
}

/// Undo records of the contexts above: each restores one row to its previous value
/// (`None` = the row did not exist), keeping the indexes in step.
pub(crate) enum CtxUndo {
    User(UserId, Option<Box<UserRecord>>),
    Session(SessionId, Option<Box<SessionRecord>>),
    Code(CodeId, Option<Box<OneTimeCode>>),
    Customer(CustomerId, Option<Box<CustomerRecord>>),
    Document(DocumentId, Option<Box<DocumentRecord>>),
    Rule(RuleId, Option<Box<FraudRule>>),
    List(ListEntryId, Option<Box<ListEntry>>),
    Assessment(TransactionId, Option<Box<Assessment>>),
    Case(CaseId, Option<Box<FraudCase>>),
    Notification(NotificationId, Option<Box<NotificationRecord>>),
    Preference((UserId, String, Channel), Option<Box<Preference>>),
    AuditPop,
}

impl CtxUndo {
    pub(super) fn apply(self, st: &mut MemoryState) {
        match self {
            CtxUndo::User(id, prev) => {
                set_user(&mut st.identity, id, prev.map(|b| *b));
            }
            CtxUndo::Session(id, prev) => {
                set_session(&mut st.identity, id, prev.map(|b| *b));
            }
            CtxUndo::Code(id, prev) => {
                set_code(&mut st.identity, id, prev.map(|b| *b));
            }
            CtxUndo::Customer(id, prev) => {
                set_customer(&mut st.customer, id, prev.map(|b| *b));
            }
            CtxUndo::Document(id, prev) => {
                set_opt(&mut st.customer.documents, id, prev.map(|b| *b));
            }
            CtxUndo::Rule(id, prev) => {
                set_opt(&mut st.fraud.rules, id, prev.map(|b| *b));
            }
            CtxUndo::List(id, prev) => {
                set_opt(&mut st.fraud.lists, id, prev.map(|b| *b));
            }
            CtxUndo::Assessment(id, prev) => {
                set_assessment(&mut st.fraud, id, prev.map(|b| *b));
            }
            CtxUndo::Case(id, prev) => {
                set_case(&mut st.fraud, id, prev.map(|b| *b));
            }
            CtxUndo::Notification(id, prev) => {
                set_notification(&mut st.notify, id, prev.map(|b| *b));
            }
            CtxUndo::Preference(k, prev) => match prev {
                Some(p) => {
                    st.notify.preferences.insert(k, *p);
                }
                None => {
                    st.notify.preferences.remove(&k);
                }
            },
            CtxUndo::AuditPop => {
                st.audit.pop();
            }
        }
    }
}

pub(super) fn set_opt<K: std::hash::Hash + Eq, V>(
    map: &mut HashMap<K, V>,
    k: K,
    v: Option<V>,
) -> Option<V> {
    match v {
        Some(v) => map.insert(k, v),
        None => map.remove(&k),
    }
}

pub(super) fn set_user(
    st: &mut IdentityState,
    id: UserId,
    new: Option<UserRecord>,
) -> Option<UserRecord> {
    let prev = st.users.remove(&id);
    if let Some(p) = &prev {
        st.by_email.remove(&p.email);
        if let Some(ph) = &p.phone {
            st.by_phone.remove(ph);
        }
    }
    if let Some(n) = new {
        st.by_email.insert(n.email.clone(), id);
        if let Some(ph) = &n.phone {
            st.by_phone.insert(ph.clone(), id);
        }
        st.users.insert(id, n);
    }
    prev
}

pub(super) fn set_session(
    st: &mut IdentityState,
    id: SessionId,
    new: Option<SessionRecord>,
) -> Option<SessionRecord> {
    let prev = st.sessions.remove(&id);
    if let Some(p) = &prev {
        st.session_by_hash.remove(&p.token_hash);
        if let Some(v) = st.sessions_by_user.get_mut(&p.user_id) {
            v.retain(|x| *x != id);
        }
    }
    if let Some(n) = new {
        st.session_by_hash.insert(n.token_hash.clone(), id);
        st.sessions_by_user.entry(n.user_id).or_default().push(id);
        st.sessions.insert(id, n);
    }
    prev
}

pub(super) fn set_code(
    st: &mut IdentityState,
    id: CodeId,
    new: Option<OneTimeCode>,
) -> Option<OneTimeCode> {
    let prev = st.codes.remove(&id);
    if let Some(p) = &prev {
        if let Some(v) = st.codes_by_user.get_mut(&p.user_id) {
            v.retain(|x| *x != id);
        }
    }
    if let Some(n) = new {
        st.codes_by_user.entry(n.user_id).or_default().push(id);
        st.codes.insert(id, n);
    }
    prev
}

pub(super) fn set_customer(
    st: &mut CustomerState,
    id: CustomerId,
    new: Option<CustomerRecord>,
) -> Option<CustomerRecord> {
    let prev = st.customers.remove(&id);
    if let Some(p) = &prev {
        st.by_user.remove(&p.user_id);
    }
    if let Some(n) = new {
        st.by_user.insert(n.user_id, id);
        st.customers.insert(id, n);
    }
    prev
}

pub(super) fn set_assessment(
    st: &mut FraudState,
    id: TransactionId,
    new: Option<Assessment>,
) -> Option<Assessment> {
    let prev = st.assessments.remove(&id);
    if let Some(a) = prev.as_ref().and_then(|p| p.from_account_id) {
        if let Some(v) = st.assessments_by_account.get_mut(&a) {
            v.retain(|r| r.txn != id);
        }
    }
    if let Some(n) = new {
        if let Some(a) = n.from_account_id {
            st.assessments_by_account
                .entry(a)
                .or_default()
                .push(VelocityRow {
                    txn: id,
                    at: n.created_at,
                    amount: n.amount.amount(),
                    counts: n.action != FraudAction::Block,
                });
        }
        st.assessments.insert(id, n);
    }
    prev
}

pub(super) fn set_case(
    st: &mut FraudState,
    id: CaseId,
    new: Option<FraudCase>,
) -> Option<FraudCase> {
    let prev = st.cases.remove(&id);
    if let Some(p) = &prev {
        st.case_by_txn.remove(&p.transaction_id);
    }
    if let Some(n) = new {
        st.case_by_txn.insert(n.transaction_id, id);
        st.cases.insert(id, n);
    }
    prev
}

pub(super) fn set_notification(
    st: &mut NotifyState,
    id: NotificationId,
    new: Option<NotificationRecord>,
) -> Option<NotificationRecord> {
    let prev = st.notifications.remove(&id);
    if let Some(p) = &prev {
        if let Some(v) = st.by_user.get_mut(&p.user_id) {
            v.remove(&id);
        }
        if let Some(e) = p.source_event_id {
            st.by_source.remove(&(e, p.user_id, p.channel));
        }
    }
    if let Some(n) = new {
        st.by_user.entry(n.user_id).or_default().insert(id);
        if let Some(e) = n.source_event_id {
            st.by_source.insert((e, n.user_id, n.channel));
        }
        st.notifications.insert(id, n);
    }
    prev
}

impl MemoryUow {
    pub(super) fn push_undo(&mut self, u: CtxUndo) {
        self.undo.push(Undo::Ctx(u));
    }

    /// A user's notifications passing `keep`, ordered by (created_at, id).
    pub(super) fn user_notifications(
        &self,
        user: UserId,
        _cursor: Option<NotificationId>,
        keep: impl Fn(&NotificationRecord) -> bool,
    ) -> BankResult<Vec<NotificationRecord>> {
        let st = &self.st().notify;
        let mut v: Vec<NotificationRecord> = st
            .by_user
            .get(&user)
            .into_iter()
            .flatten()
            .filter_map(|id| st.notifications.get(id))
            .filter(|n| keep(n))
            .cloned()
            .collect();
        v.sort_by_key(|n| (n.created_at, n.id));
        Ok(v)
    }
}
