//! Outgoing webhooks: staff subscribe an HTTPS endpoint to a filter of event types; every
//! committed event that matches gets one delivery row (written from the outbox relay, so a
//! crash loses nothing), which a worker POSTs signed per the Standard Webhooks spec, retrying
//! with backoff. The POST itself is a port ([`WebhookTransport`]): the engine does no I/O.

mod model;
mod port;
mod service;
mod sign;

pub use model::*;
pub use port::*;
pub use service::*;
pub use sign::{sign, signature_header, SECRET_PREFIX};
