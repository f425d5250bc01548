//! The one tokio runtime every engine call of this process runs on.

use std::future::Future;
use std::sync::OnceLock;

use pyo3::prelude::*;

/// Worker threads of the shared runtime. The engine's work is mostly waiting on the store;
/// a small fixed pool keeps a Python process from growing one thread per core per import.
const WORKER_THREADS: usize = 4;

fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(WORKER_THREADS)
            .thread_name("bankflow-worker")
            .enable_all()
            .build()
            // Without a runtime the module cannot do anything; there is no partial mode.
            .expect("bankflow: cannot start the tokio runtime")
    })
}

/// Runs the future `make` builds to completion on the shared runtime with the GIL released,
/// so other Python threads run while the engine works (and may call it at the same time).
///
/// The future is built on the runtime's side of the call: only its inputs cross threads,
/// so futures that are not provably `Send` (sqlx's migration futures) still work.
pub(crate) fn block_on<M, F>(py: Python<'_>, make: M) -> F::Output
where
    M: FnOnce() -> F + Send,
    F: Future,
    F::Output: Send,
{
    py.detach(|| runtime().block_on(make()))
}

/// Enters the shared runtime on this thread until the guard drops: for values whose `Drop`
/// needs a runtime (connection pools spawn their shutdown), dropped by Python's GC on a
/// Python thread.
pub(crate) fn enter() -> tokio::runtime::EnterGuard<'static> {
    runtime().enter()
}
