//! Customer context: profiles and KYC document metadata.

use super::*;

impl MemoryUow {
    pub(super) fn revoke_ids(&mut self, ids: &[SessionId], at: DateTime<Utc>) -> BankResult<u32> {
        let st = &mut self.st_mut()?.identity;
        let mut undo = Vec::with_capacity(ids.len());
        for id in ids {
            let Some(mut s) = st.sessions.get(id).cloned() else {
                continue;
            };
            s.revoked_at = Some(at);
            let prev = set_session(st, *id, Some(s));
            undo.push(CtxUndo::Session(*id, prev.map(Box::new)));
        }
        for u in undo {
            self.push_undo(u);
        }
        Ok(ids.len() as u32)
    }
}

pub(super) fn contains_ascii_ci(haystack: &str, needle: &str) -> bool {
    haystack
        .to_ascii_lowercase()
        .contains(&needle.to_ascii_lowercase())
}

#[async_trait]
impl CustomerRepo for MemoryUow {
    async fn insert_customer(&mut self, customer: &CustomerRecord) -> BankResult<()> {
        let st = &mut self.st_mut()?.customer;
        if st.customers.contains_key(&customer.id) || st.by_user.contains_key(&customer.user_id) {
            return Err(BankError::Duplicate("customer"));
        }
        set_customer(st, customer.id, Some(customer.clone()));
        self.push_undo(CtxUndo::Customer(customer.id, None));
        Ok(())
    }

    async fn customer(&mut self, id: CustomerId) -> BankResult<Option<CustomerRecord>> {
        Ok(self.st().customer.customers.get(&id).cloned())
    }

    async fn customer_by_user(&mut self, user: UserId) -> BankResult<Option<CustomerRecord>> {
        let st = &self.st().customer;
        Ok(st
            .by_user
            .get(&user)
            .and_then(|id| st.customers.get(id))
            .cloned())
    }

    async fn update_customer(&mut self, customer: &CustomerRecord) -> BankResult<()> {
        let st = &mut self.st_mut()?.customer;
        if !st.customers.contains_key(&customer.id) {
            return Err(BankError::NotFound {
                resource: "customer",
            });
        }
        if st
            .by_user
            .get(&customer.user_id)
            .is_some_and(|c| *c != customer.id)
        {
            return Err(BankError::Duplicate("customer"));
        }
        let prev = set_customer(st, customer.id, Some(customer.clone()));
        self.push_undo(CtxUndo::Customer(customer.id, prev.map(Box::new)));
        Ok(())
    }

    async fn delete_customer(&mut self, id: CustomerId) -> BankResult<()> {
        let st = &mut self.st_mut()?.customer;
        if !st.customers.contains_key(&id) {
            return Err(BankError::NotFound {
                resource: "customer",
            });
        }
        let docs: Vec<DocumentId> = st
            .documents
            .values()
            .filter(|d| d.customer_id == id)
            .map(|d| d.id)
            .collect();
        let mut undo = Vec::new();
        for d in docs {
            let prev = set_opt(&mut st.documents, d, None);
            undo.push(CtxUndo::Document(d, prev.map(Box::new)));
        }
        let prev = set_customer(st, id, None);
        undo.push(CtxUndo::Customer(id, prev.map(Box::new)));
        for u in undo {
            self.push_undo(u);
        }
        Ok(())
    }

    async fn search_customers(
        &mut self,
        search: &CustomerSearch,
    ) -> BankResult<Vec<CustomerRecord>> {
        let mut v: Vec<&CustomerRecord> = self
            .st()
            .customer
            .customers
            .values()
            .filter(|c| search.after.is_none_or(|a| c.id > a))
            .filter(|c| {
                search.name.as_deref().is_none_or(|n| {
                    contains_ascii_ci(&format!("{} {}", c.first_name, c.last_name), n)
                })
            })
            .filter(|c| {
                search
                    .email
                    .as_deref()
                    .is_none_or(|e| c.email.as_deref() == Some(e))
            })
            .filter(|c| {
                search
                    .phone
                    .as_deref()
                    .is_none_or(|p| c.phone.as_deref() == Some(p))
            })
            .filter(|c| search.kyc_status.is_none_or(|k| c.kyc_status == k))
            .collect();
        v.sort_by_key(|c| c.id);
        Ok(v.into_iter().take(search.limit as usize).cloned().collect())
    }

    async fn insert_document(&mut self, doc: &DocumentRecord) -> BankResult<()> {
        let st = &mut self.st_mut()?.customer;
        if st.documents.contains_key(&doc.id) {
            return Err(BankError::Duplicate("document"));
        }
        st.documents.insert(doc.id, doc.clone());
        self.push_undo(CtxUndo::Document(doc.id, None));
        Ok(())
    }

    async fn document(&mut self, id: DocumentId) -> BankResult<Option<DocumentRecord>> {
        Ok(self.st().customer.documents.get(&id).cloned())
    }

    async fn documents_of_customer(
        &mut self,
        customer: CustomerId,
        limit: u32,
    ) -> BankResult<Vec<DocumentRecord>> {
        let mut v: Vec<&DocumentRecord> = self
            .st()
            .customer
            .documents
            .values()
            .filter(|d| d.customer_id == customer)
            .collect();
        v.sort_by_key(|d| (d.uploaded_at, d.id));
        Ok(v.into_iter().take(limit as usize).cloned().collect())
    }

    async fn update_document(&mut self, doc: &DocumentRecord) -> BankResult<()> {
        let st = &mut self.st_mut()?.customer;
        if !st.documents.contains_key(&doc.id) {
            return Err(BankError::NotFound {
                resource: "document",
            });
        }
        let prev = set_opt(&mut st.documents, doc.id, Some(doc.clone()));
        self.push_undo(CtxUndo::Document(doc.id, prev.map(Box::new)));
        Ok(())
    }
}
