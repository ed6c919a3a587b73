//! The server: an accept loop, a driver thread per connection, a bounded worker pool for
//! handlers.

use crate::body::{Body, Kind, RecvBody};
use crate::driver::{Driver, Msg, OnRequest, Outgoing, Side, pump};
use crate::stats::ConnectionHandle;
use h2proto::{Config, Connection, ErrorCode, StreamId};
use http::{Request, Response};
use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread;
use std::time::Duration;

type Job = Box<dyn FnOnce() + Send>;
type Service = Arc<dyn Fn(StreamId, Request<RecvBody>, Sender<Msg>) + Send + Sync>;

/// An HTTP/2 server over TCP (cleartext, prior knowledge), configured builder-style and
/// run with [`serve`](Self::serve).
///
/// Each connection has a driver thread (plus a reader and a writer); handlers run on a
/// pool of [`workers`](Self::workers) threads, so at most that many requests are being
/// handled at once and the rest wait in line.
#[derive(Debug)]
pub struct Server {
    listener: TcpListener,
    config: Config,
    workers: usize,
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    registry: Mutex<Registry>,
    /// Signalled when a connection ends.
    ended: Condvar,
    /// Where to connect to wake the accept loop.
    wake: SocketAddr,
}

#[derive(Debug, Default)]
struct Registry {
    shutting_down: bool,
    next: u64,
    /// Each live connection's driver, and the number of streams it holds.
    connections: HashMap<u64, (Sender<Msg>, Arc<AtomicUsize>)>,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, Registry> {
        self.registry.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Stops a [`Server`] gracefully: no new connections, GOAWAY on every connection, and
/// `serve` returns once the requests in flight are answered.
#[derive(Clone, Debug)]
pub struct ShutdownHandle {
    shared: Arc<Shared>,
}

impl ShutdownHandle {
    /// Begins the shutdown; returns at once.
    pub fn shutdown(&self) {
        let mut registry = self.shared.lock();
        if std::mem::replace(&mut registry.shutting_down, true) {
            return;
        }
        for (connection, _) in registry.connections.values() {
            let _ = connection.send(Msg::Shutdown);
        }
        drop(registry);
        // Wake the accept loop; it sees the flag and stops.
        let _ = TcpStream::connect_timeout(&self.shared.wake, Duration::from_secs(1));
    }
}

/// Read-only counts of a running [`Server`], e.g. to see that connections and streams
/// end when their peers fail (the chaos tests use it), and a way to each live
/// connection's [`ConnectionStats`](crate::ConnectionStats).
#[derive(Clone, Debug)]
pub struct ServerStats {
    shared: Arc<Shared>,
}

impl ServerStats {
    /// Connections whose driver thread is still running.
    pub fn connections(&self) -> usize {
        self.shared.lock().connections.len()
    }

    /// Streams the live connections still hold state for (being received, handled or
    /// answered), as of each driver's last turn.
    pub fn open_streams(&self) -> usize {
        let registry = self.shared.lock();
        registry.connections.values().map(|(_, n)| n.load(Ordering::Relaxed)).sum()
    }

    /// A handle on each live connection (its stats, PINGs, shutdown), as a handler finds
    /// its own among the request's extensions.
    pub fn handles(&self) -> Vec<ConnectionHandle> {
        let registry = self.shared.lock();
        registry.connections.values().map(|(tx, _)| ConnectionHandle::new(tx.clone())).collect()
    }

    /// The core's counters summed over the live connections
    /// ([`h2proto::Stats::accumulate`]); each driver is asked in turn, with no lock held.
    pub fn totals(&self) -> h2proto::Stats {
        let mut total = h2proto::Stats::default();
        for stats in self.handles().iter().filter_map(ConnectionHandle::stats) {
            total.accumulate(&stats.counters);
        }
        total
    }
}

/// The accept backlog of [`listen`]: tokio's and the mio adapter's (std's
/// `TcpListener::bind` asks for 128; Linux caps any request at `net.core.somaxconn`).
const BACKLOG: i32 = 1024;

/// A std listener on `addr` with an accept backlog of 1,024 (and SO_REUSEADDR, as std's),
/// the one [`Server::bind`] uses: a burst of connections waits in the kernel instead of
/// having its handshakes dropped and its first data retransmitted seconds later. For a
/// listener to hand to [`Server::from_listener`] or to any other server.
pub fn listen(addr: SocketAddr) -> io::Result<TcpListener> {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    #[cfg(unix)]
    socket.set_reuse_address(true)?;
    socket.bind(&addr.into())?;
    socket.listen(BACKLOG)?;
    Ok(socket.into())
}

impl Server {
    /// Binds a listener to `addr` (port 0 picks a free port; see
    /// [`local_addr`](Self::local_addr)).
    /// The listener asks for an accept backlog of 1,024 (as tokio's), so a burst of connections
    /// waits in the kernel instead of having its handshakes dropped and retransmitted.
    pub fn bind(addr: impl ToSocketAddrs) -> io::Result<Server> {
        let mut last = None;
        for addr in addr.to_socket_addrs()? {
            match listen(addr) {
                Ok(listener) => return Server::from_listener(listener),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no address")))
    }

    /// Serves on a listener bound elsewhere.
    pub fn from_listener(listener: TcpListener) -> io::Result<Server> {
        let mut wake = listener.local_addr()?;
        if wake.ip().is_unspecified() {
            wake.set_ip(match wake.ip() {
                IpAddr::V4(_) => Ipv4Addr::LOCALHOST.into(),
                IpAddr::V6(_) => Ipv6Addr::LOCALHOST.into(),
            });
        }
        let shared = Shared { registry: Mutex::default(), ended: Condvar::new(), wake };
        Ok(Server { listener, config: Config::default(), workers: 8, shared: Arc::new(shared) })
    }

    /// Handler threads (default 8, at least 1).
    pub fn workers(mut self, n: usize) -> Server {
        self.workers = n.max(1);
        self
    }

    /// The configuration of each connection. Receive capacity is always released as
    /// request bodies are read (`auto_release_capacity` is turned off).
    pub fn config(mut self, config: Config) -> Server {
        self.config = config;
        self
    }

    /// The address the listener is bound to.
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

    /// Accepts connections and answers every request with `handler`, until a
    /// [`ShutdownHandle`] stops it and the last connection has closed.
    ///
    /// The handler runs on a worker; it may read the request body (blocking) and returns
    /// the response, whose body is sent whole or, for [`Body::from_reader`], streamed from
    /// the same worker. A handler that panics resets its stream with INTERNAL_ERROR.
    pub fn serve<H, B>(self, handler: H) -> io::Result<()>
    where
        H: Fn(Request<RecvBody>) -> Response<B> + Send + Sync + 'static,
        B: Into<Body>,
    {
        let Server { listener, mut config, workers, shared } = self;
        // An invalid Config is the caller's error, told before the first connection.
        config.validate().map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        let workers: Vec<_> = (0..workers)
            .map(|i| {
                let queue = queue.clone();
                thread::Builder::new().name(format!("h2-worker-{i}")).spawn(move || {
                    loop {
                        let job = queue.lock().unwrap_or_else(PoisonError::into_inner).recv();
                        match job {
                            Ok(job) => job(),
                            Err(_) => return,
                        }
                    }
                })
            })
            .collect::<io::Result<_>>()?;
        let service: Service = Arc::new(move |id, request, driver| {
            answer(&handler, id, request, driver);
        });
        config.auto_release_capacity = false;
        for socket in listener.incoming() {
            let mut registry = shared.lock();
            if registry.shutting_down {
                break;
            }
            // A failed accept (a connection reset while queued, out of descriptors) ends
            // that connection only.
            let Ok(socket) = socket else { continue };
            let _ = socket.set_nodelay(true);
            let (jobs, service) = (jobs.clone(), service.clone());
            let on_request: OnRequest = Box::new(move |id, request, driver| {
                let service = service.clone();
                let _ = jobs.send(Box::new(move || service(id, request, driver)));
            });
            let side = Side::Server { on_request };
            let Ok((mut driver, tx)) =
                Driver::new(socket, Connection::server(config.clone()), side)
            else {
                continue;
            };
            let streams = Arc::new(AtomicUsize::new(0));
            driver.publish_streams(streams.clone());
            let key = registry.next;
            registry.next += 1;
            registry.connections.insert(key, (tx, streams));
            drop(registry);
            let shared = shared.clone();
            thread::Builder::new().name("h2-server-conn".into()).spawn(move || {
                driver.run();
                shared.lock().connections.remove(&key);
                shared.ended.notify_all();
            })?;
        }
        // New connections are refused from here on; those open finish their streams.
        drop(listener);
        let mut registry = shared.lock();
        while !registry.connections.is_empty() {
            registry = shared.ended.wait(registry).unwrap_or_else(PoisonError::into_inner);
        }
        drop(registry);
        drop((jobs, service));
        for worker in workers {
            let _ = worker.join();
        }
        Ok(())
    }
}

/// Runs the handler for one request on a worker and sends its response.
fn answer<H, B>(handler: &H, id: StreamId, request: Request<RecvBody>, driver: Sender<Msg>)
where
    H: Fn(Request<RecvBody>) -> Response<B>,
    B: Into<Body>,
{
    let Ok(response) = catch_unwind(AssertUnwindSafe(|| handler(request))) else {
        let _ = driver.send(Msg::Abort(id, ErrorCode::INTERNAL_ERROR));
        return;
    };
    let (parts, body) = response.into_parts();
    let head = Response::from_parts(parts, ());
    let Body { kind, trailers } = body.into();
    match kind {
        Kind::Full(data) => {
            let _ = driver.send(Msg::Respond(id, head, Outgoing::full(data, trailers)));
        }
        Kind::Reader(reader) => {
            let (go, go_rx) = mpsc::channel();
            if driver.send(Msg::Respond(id, head, Outgoing::streamed(go))).is_ok() {
                pump(reader, trailers, driver, go_rx);
            }
        }
    }
}
