//! Push devices (notification context).

use super::*;
use crate::ids::DeviceId;
use crate::notify::{DeviceRepo, PushDevice};

/// The device registry's rows.
#[derive(Clone, Debug, Default)]
pub(super) struct DeviceState {
    by_id: HashMap<DeviceId, PushDevice>,
    /// The token uniqueness the SQL stores get from an index.
    by_token: HashMap<String, DeviceId>,
}

/// How to undo one device write: the row's previous value (`None`: it did not exist).
pub(super) struct DeviceUndo(DeviceId, Option<Box<PushDevice>>);

impl DeviceState {
    fn put(&mut self, d: PushDevice) {
        self.by_token.insert(d.token.clone(), d.id);
        self.by_id.insert(d.id, d);
    }

    fn drop_row(&mut self, id: DeviceId) -> Option<PushDevice> {
        let d = self.by_id.remove(&id)?;
        self.by_token.remove(&d.token);
        Some(d)
    }
}

impl DeviceUndo {
    pub(super) fn apply(self, st: &mut MemoryState) {
        let DeviceUndo(id, prev) = self;
        st.devices.drop_row(id);
        if let Some(d) = prev {
            st.devices.put(*d);
        }
    }
}

impl MemoryUow {
    fn log_device(&mut self, u: DeviceUndo) {
        self.undo.push(Undo::Device(u));
    }
}

#[async_trait]
impl DeviceRepo for MemoryUow {
    async fn insert_device(&mut self, d: &PushDevice) -> BankResult<()> {
        let st = self.st_mut()?;
        if st.devices.by_id.contains_key(&d.id) || st.devices.by_token.contains_key(&d.token) {
            return Err(BankError::Duplicate("push device"));
        }
        st.devices.put(d.clone());
        self.log_device(DeviceUndo(d.id, None));
        Ok(())
    }

    async fn device(&mut self, id: DeviceId) -> BankResult<Option<PushDevice>> {
        Ok(self.st().devices.by_id.get(&id).cloned())
    }

    async fn device_by_token(&mut self, token: &str) -> BankResult<Option<PushDevice>> {
        let s = &self.st().devices;
        Ok(s.by_token
            .get(token)
            .and_then(|id| s.by_id.get(id))
            .cloned())
    }

    async fn devices_of_user(&mut self, user: UserId, limit: u32) -> BankResult<Vec<PushDevice>> {
        let mut v: Vec<_> = self
            .st()
            .devices
            .by_id
            .values()
            .filter(|d| d.user_id == user)
            .cloned()
            .collect();
        v.sort_by_key(|d| (d.created_at, d.id));
        v.truncate(limit as usize);
        Ok(v)
    }

    async fn update_device(&mut self, d: &PushDevice) -> BankResult<()> {
        let st = self.st_mut()?;
        if let Some(&holder) = st.devices.by_token.get(&d.token) {
            if holder != d.id {
                return Err(BankError::Duplicate("push device"));
            }
        }
        let prev = st.devices.drop_row(d.id).ok_or(BankError::NotFound {
            resource: "push device",
        })?;
        st.devices.put(d.clone());
        self.log_device(DeviceUndo(d.id, Some(Box::new(prev))));
        Ok(())
    }

    async fn delete_device(&mut self, id: DeviceId) -> BankResult<bool> {
        let st = self.st_mut()?;
        let Some(prev) = st.devices.drop_row(id) else {
            return Ok(false);
        };
        self.log_device(DeviceUndo(id, Some(Box::new(prev))));
        Ok(true)
    }
}
