//! The live-session check behind every authenticated request (finding 5 of the security
//! review): an access token names its login session (`sid`), and the server asks the engine
//! whether that session still stands ([`bankflow_core::identity::IdentityService::live_session`])
//! before it acts for the token. Logout, session revocation, a password reset, refresh-token
//! reuse and a role demotion therefore take effect on the next request, not when the token
//! expires.
//!
//! The answer is cached per session for at most [`SESSION_STALENESS_MS`], so a busy client
//! costs one read per session every two seconds, not one per request. This process drops
//! its whole cache at once when it performs a revoking action itself ([`SessionCache::forget_all`]),
//! so a logout through this server is seen by its very next request; another replica sees it
//! within the staleness bound.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use bankflow_core::identity::LiveSession;
use bankflow_core::ids::SessionId;
use bankflow_core::{Actor, Bank, BankResult, Role, UserId};

/// Longest time a session's cached state is trusted (another replica's logout takes at most
/// this long to reach this one).
pub const SESSION_STALENESS_MS: u64 = 2_000;
/// Most sessions cached: past it, expired entries go first, then everything (a flood of
/// distinct sessions costs reads, never memory).
pub const SESSION_CACHE_ENTRIES_MAX: usize = 50_000;

#[derive(Clone)]
struct Entry {
    fetched: Instant,
    user: UserId,
    live: LiveSession,
}

/// The calls a staff user who has not enrolled TOTP yet may make (finding 9): enrol MFA,
/// read their own profile, list or end their sessions. Every other call answers 403
/// `mfa_enrolment_required` until they enrol.
/// Paths below `/api/v1` (the API router is nested there, so extractors see them bare).
pub const MFA_ENROLMENT_PATHS: &[&str] = &[
    "/auth/me",
    "/auth/mfa/setup",
    "/auth/mfa/enable",
    "/auth/sessions",
];

/// The actor a live session acts as on `path`: the engine decides (a staff user without
/// TOTP is refused), except on the [`MFA_ENROLMENT_PATHS`] that let them enrol.
pub fn actor_at(live: &LiveSession, granted: &[Role], path: &str) -> BankResult<Actor> {
    let path = path.strip_prefix("/api/v1").unwrap_or(path);
    if MFA_ENROLMENT_PATHS.contains(&path) || path.starts_with("/auth/sessions/") {
        live.enrolment_actor(granted)
    } else {
        live.actor(granted)
    }
}

/// Bounded, short-lived cache of live sessions.
#[derive(Default)]
pub struct SessionCache {
    entries: Mutex<HashMap<SessionId, Entry>>,
}

impl SessionCache {
    /// The session as it stands (cached for at most [`SESSION_STALENESS_MS`]); `Unauthorized`
    /// once it has ended. Only a live answer is cached: an ended session stays refused.
    pub async fn live(&self, bank: &Bank, user: UserId, sid: SessionId) -> BankResult<LiveSession> {
        if let Some(hit) = self.fresh(user, sid) {
            return Ok(hit);
        }
        let live = bank.identity().live_session(user, sid).await?;
        // A customer user without a profile yet is not cached: the profile they create must
        // work with their current token on the very next request.
        // Nor is a staff user who has not enrolled TOTP: once they enable it, their next
        // request must pass.
        let settled = live.customer_id.is_some() || live.roles.iter().any(|r| *r != Role::Customer);
        if settled && !live.mfa_enrolment_pending {
            self.remember(user, sid, live.clone());
        }
        Ok(live)
    }

    /// Drops every cached session: called after this server logged a session out, revoked
    /// one, reset a password or changed roles, so its next request asks the store again.
    pub fn forget_all(&self) {
        self.lock().clear();
    }

    fn fresh(&self, user: UserId, sid: SessionId) -> Option<LiveSession> {
        let staleness = Duration::from_millis(SESSION_STALENESS_MS);
        let map = self.lock();
        let e = map.get(&sid)?;
        // A token naming another user's session id is not a hit (its own check refuses it).
        (e.user == user && e.fetched.elapsed() < staleness).then(|| e.live.clone())
    }

    fn remember(&self, user: UserId, sid: SessionId, live: LiveSession) {
        let staleness = Duration::from_millis(SESSION_STALENESS_MS);
        let mut map = self.lock();
        if map.len() >= SESSION_CACHE_ENTRIES_MAX {
            map.retain(|_, e| e.fetched.elapsed() < staleness);
            if map.len() >= SESSION_CACHE_ENTRIES_MAX {
                map.clear();
            }
        }
        let fetched = Instant::now();
        map.insert(
            sid,
            Entry {
                fetched,
                user,
                live,
            },
        );
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<SessionId, Entry>> {
        // A panic while holding this lock cannot leave a half-written entry (insert/clear
        // are single calls), so a poisoned map is still sound to use.
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn live(user: UserId) -> LiveSession {
        LiveSession {
            user_id: user,
            roles: vec![Role::Customer],
            customer_id: None,
            mfa_enrolment_pending: false,
        }
    }

    #[test]
    fn a_session_is_served_from_cache_only_for_its_own_user_and_only_while_fresh() {
        let cache = SessionCache::default();
        let (user, other) = (UserId(Uuid::now_v7()), UserId(Uuid::now_v7()));
        let sid = SessionId(Uuid::now_v7());
        cache.remember(user, sid, live(user));
        assert_eq!(cache.fresh(user, sid), Some(live(user)));
        assert_eq!(cache.fresh(other, sid), None);
        cache.forget_all();
        assert_eq!(cache.fresh(user, sid), None);
        // An entry older than the staleness bound is not served.
        cache.remember(user, sid, live(user));
        cache.lock().get_mut(&sid).unwrap().fetched -=
            Duration::from_millis(SESSION_STALENESS_MS + 1);
        assert_eq!(cache.fresh(user, sid), None);
    }

    #[test]
    fn finding_9_a_staff_session_without_totp_may_only_enrol() {
        let user = UserId(Uuid::now_v7());
        let pending = LiveSession {
            roles: vec![Role::Admin],
            mfa_enrolment_pending: true,
            ..live(user)
        };
        let admin = [Role::Admin];
        for path in [
            "/auth/me",
            "/auth/mfa/setup",
            "/auth/mfa/enable",
            "/auth/sessions/x",
        ] {
            assert!(actor_at(&pending, &admin, path).is_ok(), "{path}");
        }
        for path in [
            "/admin/overview",
            "/accounts",
            "/auth/mfa/disable",
            "/auth/me/x",
        ] {
            let e = actor_at(&pending, &admin, path).unwrap_err();
            assert_eq!(e.code(), "mfa_enrolment_required", "{path}");
        }
    }

    #[test]
    fn the_cache_never_grows_past_its_bound() {
        let cache = SessionCache::default();
        let user = UserId(Uuid::now_v7());
        for _ in 0..SESSION_CACHE_ENTRIES_MAX + 10 {
            cache.remember(user, SessionId(Uuid::now_v7()), live(user));
        }
        assert!(cache.lock().len() <= SESSION_CACHE_ENTRIES_MAX);
    }
}
