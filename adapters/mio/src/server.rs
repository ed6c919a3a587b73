//! The server: one loop per thread, each with its own SO_REUSEPORT listener on the same
//! address, so the kernel spreads connections over the threads (thread-per-core).

use crate::event_loop::{Cmd, Loop, LoopStats, Remote};
use crate::{Body, DEFAULT_MAX_BODY, Handler};
use bytes::Bytes;
use h2proto::Config;
use http::{Request, Response};
use socket2::{Domain, Socket, Type};
use std::io;
use std::net::{SocketAddr, TcpListener, ToSocketAddrs};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, PoisonError, mpsc};
use std::thread;
use std::time::Duration;

/// An HTTP/2 server (cleartext, prior knowledge) on mio event loops, configured
/// builder-style and run with [`serve`](Self::serve).
#[derive(Debug)]
pub struct Server {
    listener: TcpListener,
    config: Config,
    threads: usize,
    max_body: usize,
    remote_addr: bool,
    shared: Arc<Mutex<Shared>>,
}

#[derive(Debug, Default)]
struct Shared {
    stopping: bool,
    loops: Vec<Remote>,
    stats: Vec<Arc<LoopStats>>,
}

/// Read-only counts of a running [`Server`], summed over its loops as of each loop's last
/// turn, e.g. to see that connections and streams end when their peers fail (the chaos
/// tests use it).
#[derive(Clone, Debug)]
pub struct ServerStats {
    shared: Arc<Mutex<Shared>>,
}

impl ServerStats {
    /// Connections the loops still drive.
    pub fn connections(&self) -> usize {
        self.sum(|s| &s.connections)
    }

    /// Streams those connections still hold state for (a request being received or
    /// answered).
    pub fn open_streams(&self) -> usize {
        self.sum(|s| &s.streams)
    }

    /// The core's counters ([`h2proto::Stats`]: frames, bytes, streams, resets, flow-control
    /// stalls, glitches) summed over every connection the running server has served, the
    /// live ones as of now. Each loop is asked between two of its turns and answers within
    /// a second or is left out; call it from outside the loop threads (a handler asking
    /// would wait for its own loop).
    pub fn core(&self) -> h2proto::Stats {
        let (tx, rx) = mpsc::channel();
        let asked = {
            let shared = self.shared.lock().unwrap_or_else(PoisonError::into_inner);
            shared.loops.iter().filter(|l| l.send(Cmd::Stats(tx.clone())).is_ok()).count()
        };
        let mut total = h2proto::Stats::default();
        for _ in 0..asked {
            match rx.recv_timeout(Duration::from_secs(1)) {
                Ok(stats) => total.accumulate(&stats),
                Err(_) => break,
            }
        }
        total
    }

    fn sum(&self, field: impl Fn(&LoopStats) -> &std::sync::atomic::AtomicUsize) -> usize {
        let shared = self.shared.lock().unwrap_or_else(PoisonError::into_inner);
        shared.stats.iter().map(|s| field(s).load(Ordering::Relaxed)).sum()
    }
}

/// Stops a [`Server`] gracefully: its listeners close, every connection gets GOAWAY, and
/// `serve` returns once the requests in flight are answered.
#[derive(Clone, Debug)]
pub struct ShutdownHandle {
    shared: Arc<Mutex<Shared>>,
}

impl ShutdownHandle {
    /// Begins the shutdown; returns at once.
    pub fn shutdown(&self) {
        let mut shared = self.shared.lock().unwrap_or_else(PoisonError::into_inner);
        shared.stopping = true;
        for remote in &shared.loops {
            let _ = remote.send(Cmd::Shutdown);
        }
    }
}

impl Server {
    /// Binds to `addr` (port 0 picks a free port; see [`local_addr`](Self::local_addr)).
    pub fn bind(addr: impl ToSocketAddrs) -> io::Result<Server> {
        let addr = addr.to_socket_addrs()?.next().ok_or(io::ErrorKind::InvalidInput)?;
        Ok(Server {
            listener: listener(addr)?,
            config: Config::default(),
            threads: 1,
            max_body: DEFAULT_MAX_BODY,
            remote_addr: false,
            shared: Arc::default(),
        })
    }

    /// Loop threads, each with its own listener (default 1). More than one needs
    /// SO_REUSEPORT (Linux, the BSDs, macOS).
    pub fn threads(mut self, n: usize) -> Server {
        self.threads = n.max(1);
        self
    }

    /// The configuration of each connection (`auto_release_capacity` is always on:
    /// bodies are gathered as they arrive).
    pub fn config(mut self, config: Config) -> Server {
        self.config = config;
        self
    }

    /// The largest request body gathered (default 16 MiB); a larger one is answered with
    /// 413 and the upload is stopped. Memory per connection is bounded by this times the
    /// concurrent streams allowed.
    pub fn max_body_size(mut self, bytes: usize) -> Server {
        self.max_body = bytes;
        self
    }

    /// Puts each request's peer address in its extensions as [`RemoteAddr`](crate::RemoteAddr) (for logs,
    /// access rules, or telling connections apart). Off by default: it costs an allocation
    /// per request.
    pub fn remote_addr(mut self, on: bool) -> Server {
        self.remote_addr = on;
        self
    }

    /// The address the server is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// A handle to stop the server from another thread.
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        ShutdownHandle { shared: self.shared.clone() }
    }

    /// A handle to the server's live connection and stream counts.
    pub fn stats(&self) -> ServerStats {
        ServerStats { shared: self.shared.clone() }
    }

    /// Serves until shut down: `handler` gets each request with its whole body and
    /// returns the response. It runs on a loop thread, so it must not block; for a large
    /// or slow response body use [`Body::from_chunks`], pulled only as flow control allows.
    /// A handler that panics resets its stream with INTERNAL_ERROR.
    ///
    /// The request is the handler's: a busy server can build its response head in the
    /// request's own `HeaderMap` (cleared), so the map goes round between received and
    /// sent heads through the loop's [`HeaderPool`](h2proto::HeaderPool) and no head costs
    /// an allocation.
    pub fn serve<H, B>(self, handler: H) -> io::Result<()>
    where
        H: Fn(Request<Bytes>) -> Response<B> + Send + Sync + 'static,
        B: Into<Body>,
    {
        // An invalid Config is the caller's error, told before the first connection.
        self.config.validate().map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        let handler: Arc<Handler> = Arc::new(move |request| handler(request).map(Into::into));
        let addr = self.listener.local_addr()?;
        let mut listeners = vec![self.listener];
        for _ in 1..self.threads {
            listeners.push(listener(addr)?);
        }
        let mut loops = Vec::new();
        for socket in listeners {
            let mut event_loop = Loop::new()?;
            let (config, max_body) = (self.config.clone(), self.max_body);
            event_loop.listen(socket, config, handler.clone(), max_body, self.remote_addr)?;
            let stats = Arc::new(LoopStats::default());
            event_loop.publish_stats(stats.clone());
            let mut shared = self.shared.lock().unwrap_or_else(PoisonError::into_inner);
            shared.stats.push(stats);
            if shared.stopping {
                let _ = event_loop.remote().send(Cmd::Shutdown);
            }
            shared.loops.push(event_loop.remote());
            loops.push(event_loop);
        }
        let mut first = loops.remove(0);
        let others: Vec<_> = loops
            .into_iter()
            .map(|mut l| thread::Builder::new().name("h2-mio".into()).spawn(move || l.run()))
            .collect::<io::Result<_>>()?;
        let mut result = first.run();
        for other in others {
            let outcome = other.join().unwrap_or_else(|_| Err(io::Error::other("loop panicked")));
            result = result.and(outcome);
        }
        result
    }
}

/// A non-blocking listener with SO_REUSEPORT, so several can share one address.
fn listener(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    socket.set_reuse_address(true)?;
    #[cfg(all(
        unix,
        not(any(target_os = "solaris", target_os = "illumos", target_os = "cygwin"))
    ))]
    socket.set_reuse_port(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(1024)?;
    Ok(socket.into())
}
