//! The one Tokio runtime of the process, and the two ways Python waits on it:
//!
//! - [`wait`]: a sync call. The work runs on the runtime; the calling thread waits
//!   without the GIL in slices of [`TICK`], delivers progress events to the callback on
//!   its own thread between slices, and checks for signals, so Ctrl-C interrupts it (the
//!   work is then dropped at its next await point, which the engine survives like a crash).
//! - [`awaitable`]: an asyncio awaitable (pyo3-async-runtimes); cancelling the asyncio task
//!   drops the Rust future the same way.
//!
//! Both refuse, with `gtm_infra.errors.ForkError`, to run in a process forked after the
//! runtime started: its worker threads did not survive the fork, so it would hang.

use std::future::Future;
use std::sync::OnceLock;
use std::time::Duration;

use pyo3::prelude::*;
use tokio::runtime::Runtime;
use tokio::sync::mpsc::UnboundedReceiver;

use crate::errors::{Failure, Outcome};

/// How often a sync wait wakes up to check for signals.
const TICK: Duration = Duration::from_millis(100);

static STARTED_IN: OnceLock<u32> = OnceLock::new();

/// Fail if this process was forked after the runtime started.
pub fn check_fork() -> Result<(), Failure> {
    match STARTED_IN.get() {
        Some(&pid) if pid != std::process::id() => Err(Failure::new(
            "ForkError",
            format!(
                "gtm_infra was started in process {pid} and this process ({}) was forked from it; \
                 its runtime threads do not survive fork. Create gtm_infra objects in the child, \
                 or use multiprocessing's 'spawn' or 'forkserver' start method",
                std::process::id()
            ),
        )),
        _ => Ok(()),
    }
}

/// The runtime (started on first use; refused after a fork).
pub fn runtime() -> Result<&'static Runtime, Failure> {
    check_fork()?;
    STARTED_IN.get_or_init(std::process::id);
    Ok(pyo3_async_runtimes::tokio::get_runtime())
}

/// Progress delivered to a Python callable during a sync wait.
pub struct Progress {
    /// Events as JSON.
    pub events: UnboundedReceiver<String>,
    /// Called with each event's JSON on the waiting thread.
    pub callback: Py<PyAny>,
}

enum Slice<T> {
    Done(Result<Outcome<T>, tokio::task::JoinError>),
    Event(Option<String>),
    Tick,
}

/// Run `fut` on the runtime and wait for it without the GIL (see the module docs).
pub fn wait<T, F>(py: Python<'_>, fut: F, progress: Option<Progress>) -> PyResult<T>
where
    T: Send + 'static,
    F: Future<Output = Outcome<T>> + Send + 'static,
{
    let rt = runtime().map_err(|f| f.into_pyerr(py))?;
    let mut handle = rt.spawn(fut);
    let (mut events, callback) = match progress {
        Some(p) => (Some(p.events), Some(p.callback)),
        None => (None, None),
    };
    let deliver = |py: Python<'_>, json: String| -> PyResult<()> {
        if let Some(cb) = &callback {
            cb.call1(py, (json,))?;
        }
        Ok(())
    };
    let result = loop {
        let slice = py.detach(|| {
            rt.block_on(async {
                let next_event = async {
                    match events.as_mut() {
                        Some(rx) => rx.recv().await,
                        None => std::future::pending().await,
                    }
                };
                tokio::select! {
                    biased;
                    ev = next_event => Slice::Event(ev),
                    r = &mut handle => Slice::Done(r),
                    () = tokio::time::sleep(TICK) => Slice::Tick,
                }
            })
        });
        let step = match slice {
            Slice::Done(r) => break r,
            Slice::Event(Some(json)) => deliver(py, json),
            Slice::Event(None) => {
                events = None;
                Ok(())
            }
            Slice::Tick => Ok(()),
        };
        // A no-op statement first: it lets the interpreter notice a pending Ctrl-C that
        // arrived while the GIL was released.
        let step = step
            .and_then(|()| py.run(c"pass", None, None))
            .and_then(|()| py.check_signals());
        if let Err(e) = step {
            handle.abort();
            return Err(e);
        }
    };
    // Events sent before the work finished are still queued: deliver them all first.
    if let Some(rx) = events.as_mut() {
        while let Ok(json) = rx.try_recv() {
            deliver(py, json)?;
        }
    }
    match result {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(f)) => Err(f.into_pyerr(py)),
        Err(e) => {
            Err(Failure::new("GtmError", format!("internal task failed: {e}")).into_pyerr(py))
        }
    }
}

/// Run `fut` on the runtime as an asyncio awaitable.
pub fn awaitable<'py, T, F>(py: Python<'py>, fut: F) -> PyResult<Bound<'py, PyAny>>
where
    T: for<'a> IntoPyObject<'a> + Send + 'static,
    F: Future<Output = Outcome<T>> + Send + 'static,
{
    runtime().map_err(|f| f.into_pyerr(py))?;
    pyo3_async_runtimes::tokio::future_into_py(py, async move {
        fut.await.map_err(|f| Python::attach(|py| f.into_pyerr(py)))
    })
}
