//! Service clients (identity context, OAuth2 client credentials).

use super::*;
use crate::identity::{ClientRepo, ServiceClient};
use crate::ids::ClientId;

/// How to undo one client write: the row's previous value (`None`: it did not exist).
pub(super) struct ClientUndo(ClientId, Option<Box<ServiceClient>>);

impl ClientUndo {
    pub(super) fn apply(self, st: &mut MemoryState) {
        let ClientUndo(id, prev) = self;
        match prev {
            Some(c) => {
                st.clients.insert(id, *c);
            }
            None => {
                st.clients.remove(&id);
            }
        }
    }
}

#[async_trait]
impl ClientRepo for MemoryUow {
    async fn insert_client(&mut self, c: &ServiceClient) -> BankResult<()> {
        let st = self.st_mut()?;
        if st.clients.contains_key(&c.id) {
            return Err(BankError::Duplicate("service client"));
        }
        st.clients.insert(c.id, c.clone());
        self.undo.push(Undo::Client(ClientUndo(c.id, None)));
        Ok(())
    }

    async fn client(&mut self, id: ClientId) -> BankResult<Option<ServiceClient>> {
        Ok(self.st().clients.get(&id).cloned())
    }

    async fn update_client(&mut self, c: &ServiceClient) -> BankResult<()> {
        let st = self.st_mut()?;
        let Some(slot) = st.clients.get_mut(&c.id) else {
            return Err(BankError::NotFound {
                resource: "service client",
            });
        };
        let prev = std::mem::replace(slot, c.clone());
        self.undo
            .push(Undo::Client(ClientUndo(c.id, Some(Box::new(prev)))));
        Ok(())
    }

    async fn list_clients(&mut self, limit: u32) -> BankResult<Vec<ServiceClient>> {
        let mut v: Vec<ServiceClient> = self.st().clients.values().cloned().collect();
        v.sort_by_key(|c| (c.created_at, c.id));
        v.truncate(limit as usize);
        Ok(v)
    }
}
