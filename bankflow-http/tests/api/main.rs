//! HTTP integration tests: the whole Router driven with `oneshot`, no socket.

mod approvals;
mod audit_anchor;
mod devices;
mod findings;
mod fraud;
mod helpers;
mod identity_hardening;
mod journey;
mod notifications;
mod oauth_clients;
mod payments;
mod proxies;
mod refusals;
mod scheduled;
mod sessions;
mod staff_controls;
mod stores;
mod system;
