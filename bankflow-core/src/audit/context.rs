//! The request context of the command being audited, for use cases whose signature has no
//! [`RequestContext`] parameter (admin actions): an adapter wraps the engine call in
//! [`with_request_context`], and every audit entry written while that future runs records
//! the client's IP and user agent. Plain futures, no runtime: the context is installed in a
//! thread-local for the duration of each poll only, so it follows the future across threads
//! and never leaks into other tasks.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::fraud_port::RequestContext;

thread_local! {
    static CURRENT: RefCell<Option<Arc<RequestContext>>> = const { RefCell::new(None) };
}

/// A future running with a request context (see [`with_request_context`]).
pub struct WithRequestContext<F: Future> {
    ctx: Arc<RequestContext>,
    fut: Pin<Box<F>>,
}

impl<F: Future> Future for WithRequestContext<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let ctx = self.ctx.clone();
        let prev = CURRENT.with(|c| c.replace(Some(ctx)));
        // Restore even if the inner future panics, so a pooled thread never keeps a stale context.
        struct Restore(Option<Arc<RequestContext>>);
        impl Drop for Restore {
            fn drop(&mut self) {
                let prev = self.0.take();
                CURRENT.with(|c| *c.borrow_mut() = prev);
            }
        }
        let _restore = Restore(prev);
        self.fut.as_mut().poll(cx)
    }
}

/// Runs `fut` with `ctx` as the request context of every audit entry it writes without an
/// explicit context (e.g. `with_request_context(ctx, bank.approve_kyc(&admin, id))`).
pub fn with_request_context<F: Future>(ctx: RequestContext, fut: F) -> WithRequestContext<F> {
    WithRequestContext {
        ctx: Arc::new(ctx),
        fut: Box::pin(fut),
    }
}

/// The request context installed by [`with_request_context`] for the current poll, if any.
pub(crate) fn current_request_context() -> Option<Arc<RequestContext>> {
    CURRENT.with(|c| c.borrow().clone())
}
