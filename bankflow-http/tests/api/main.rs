//! HTTP integration tests: the whole Router driven with `oneshot`, no socket.

mod fraud;
mod helpers;
mod journey;
mod notifications;
mod refusals;
mod stores;
mod system;
