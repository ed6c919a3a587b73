//! The reference server: what `serve` runs and what `run` tests by default.
//!
//! It answers GET, HEAD and POST on any path with 200 and a few hundred bytes, streams the
//! body of `/echo` back, reads all of `/sink` then answers 13 bytes, sends N bytes for
//! `/bytes/N`, accepts extended CONNECT (RFC 8441) as an echo tunnel, and advertises
//! SETTINGS_MAX_CONCURRENT_STREAMS = 100 ([`app`] has the details). It runs on each of
//! h2proto's adapters ([`Runtime`]); [`core_loop`] is the same application on a minimal
//! loop over the bare core, for test doubles.

pub mod app;
mod blocking;
pub mod core_loop;
mod mio;
mod tokio;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

/// Which I/O layer runs the server (or drives the client).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Runtime {
    /// `h2proto-tokio`.
    Tokio,
    /// `h2proto-blocking`.
    Blocking,
    /// `h2proto-mio`.
    Mio,
    /// The runner's own minimal loop on the bare core (what test doubles build on).
    Core,
}

impl Runtime {
    /// The adapters, in report order (what `--runtime all` means).
    pub const ADAPTERS: [Runtime; 3] = [Runtime::Tokio, Runtime::Blocking, Runtime::Mio];

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Runtime::Tokio => "tokio",
            Runtime::Blocking => "blocking",
            Runtime::Mio => "mio",
            Runtime::Core => "core",
        }
    }

    /// Parses a command-line name.
    pub fn parse(name: &str) -> Option<Runtime> {
        [Runtime::Tokio, Runtime::Blocking, Runtime::Mio, Runtime::Core]
            .into_iter()
            .find(|r| r.name() == name)
    }
}

/// A running server; stopped when dropped.
pub struct Server {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting and ends connections gracefully.
    pub fn stop(mut self) {
        self.halt();
    }

    fn halt(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.halt();
    }
}

/// A thread that waits for `stop` to be set, then calls `shutdown` (for adapters whose
/// servers are stopped through a handle rather than by polling a flag).
fn on_stop(stop: Arc<AtomicBool>, shutdown: impl FnOnce() + Send + 'static) -> JoinHandle<()> {
    std::thread::spawn(move || {
        while !stop.load(Ordering::Relaxed) {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        shutdown();
    })
}

/// Starts the reference server on `addr` (port 0 for an ephemeral one) in the background.
pub fn spawn(runtime: Runtime, addr: SocketAddr) -> Result<Server, String> {
    spawn_with(runtime, addr, None, None)
}

/// Like [`spawn`], with `workers` threads where the runtime has a choice (`None`: its
/// default): tokio's worker threads (default 2; 0 runs a current-thread runtime on the
/// server's thread), mio's event-loop threads (default 1). The other runtimes ignore it.
pub fn spawn_with_workers(
    runtime: Runtime,
    addr: SocketAddr,
    workers: Option<usize>,
) -> Result<Server, String> {
    spawn_with(runtime, addr, None, workers)
}

/// Starts a core-loop server whose traffic passes through `filters` (a test double).
pub fn spawn_double(filters: core_loop::FilterFactory) -> Result<Server, String> {
    let addr = "127.0.0.1:0".parse().expect("literal address");
    spawn_with(Runtime::Core, addr, Some(filters), None)
}

fn spawn_with(
    runtime: Runtime,
    addr: SocketAddr,
    filters: Option<core_loop::FilterFactory>,
    workers: Option<usize>,
) -> Result<Server, String> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    if runtime == Runtime::Mio {
        // The mio adapter binds its own (SO_REUSEPORT) listener.
        let (tx, rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || mio::serve(addr, workers.unwrap_or(1), tx, flag));
        let addr = rx.recv().map_err(|_| "the mio server did not start".to_string())??;
        return Ok(Server { addr, stop, thread: Some(thread) });
    }
    // A backlog of 1,024, not std's 128: a burst of thousands of connections waits in the
    // kernel instead of having handshakes dropped, whose retransmitted data can then come
    // after the preface timeout.
    let listener = h2proto_blocking::listen(addr).map_err(|e| format!("bind {addr}: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let thread = match runtime {
        Runtime::Core => std::thread::spawn(move || core_loop::serve(listener, filters, flag)),
        Runtime::Tokio => {
            std::thread::spawn(move || tokio::serve(listener, workers.unwrap_or(2), flag))
        }
        Runtime::Blocking => std::thread::spawn(move || blocking::serve(listener, flag)),
        Runtime::Mio => unreachable!("handled above"),
    };
    Ok(Server { addr, stop, thread: Some(thread) })
}
