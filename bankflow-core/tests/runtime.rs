//! The engine's Runtime port: password hashing leaves the async workers, and the retry
//! policy's backoff goes through the embedder's timer.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use bankflow_core::clock::BlockingJob;
use bankflow_core::{
    Bank, BankConfig, InlineRuntime, LoginRequest, MemoryStore, RegisterRequest, RequestContext,
    Runtime,
};
use futures::future::BoxFuture;

/// Counts what the engine hands to the runtime, then behaves like [`InlineRuntime`].
#[derive(Default)]
struct Counting {
    blocking: AtomicUsize,
}

impl Runtime for Counting {
    fn sleep(&self, d: std::time::Duration) -> BoxFuture<'static, ()> {
        InlineRuntime.sleep(d)
    }
    fn blocking(&self, job: BlockingJob) -> BoxFuture<'static, ()> {
        self.blocking.fetch_add(1, Ordering::SeqCst);
        InlineRuntime.blocking(job)
    }
}

const PW: &str = "violet-harbor-lantern-42";

#[tokio::test]
async fn argon2_hashing_and_verification_run_on_the_blocking_pool() {
    let rt = Arc::new(Counting::default());
    let bank = Bank::builder(Arc::new(MemoryStore::new()))
        .config(BankConfig::default())
        .runtime(rt.clone())
        .build();
    let ctx = RequestContext::default();
    bank.identity()
        .register(
            RegisterRequest {
                email: "hash@example.com".into(),
                password: PW.into(),
                phone: None,
            },
            &ctx,
        )
        .await
        .unwrap();
    assert_eq!(
        rt.blocking.load(Ordering::SeqCst),
        1,
        "register hashes off the workers"
    );
    let login = |password: &str| LoginRequest {
        email: "hash@example.com".into(),
        password: password.into(),
        mfa_code: None,
    };
    bank.identity().login(login(PW), &ctx).await.unwrap();
    assert_eq!(
        rt.blocking.load(Ordering::SeqCst),
        2,
        "login verifies off the workers"
    );
    let wrong = bank
        .identity()
        .login(login("not the password at all"), &ctx)
        .await
        .unwrap_err();
    assert_eq!(wrong.code(), "unauthorized");
    assert_eq!(rt.blocking.load(Ordering::SeqCst), 3);
}
