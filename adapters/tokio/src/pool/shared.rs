//! The state every clone of a `Client` shares, and how the pool's actions are carried out.
//!
//! One mutex guards the sans-IO [`Pool`] with the lanes of its connections (their
//! handles, see `lane.rs`) and the senders of waiting requests. Requests that find a
//! credit on a lane do not take it; others hold it only for the pool's decision and the
//! bookkeeping around it, never across an await; what the actions hand to tasks (a
//! connection to a waiting request, a failure, a closed handle) is delivered after it is
//! released. Connects, connection tasks and the pool's timer are tasks of their own that
//! hold the state weakly, so dropping the last `Client` closes every connection.

use super::error::{ClientError, ClientErrorKind};
use super::lane::{Lane, Snapshot};
use super::lease::Lease;
use crate::client::{Builder, SendRequest};
use h2proto::Config;
use h2proto::pool::{Action, CheckoutError, CloseReason, ConnId, Origin, Pool, Ticket};
use rustc_hash::FxHashMap as HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio::sync::{Notify, oneshot};

type Waiter = oneshot::Sender<Result<Lease, ClientError>>;

pub(crate) struct Shared {
    pub(crate) pool: Pool,
    pub(crate) lanes: HashMap<ConnId, Arc<Lane>>,
    /// Credit hits of lanes that are gone (for the metrics).
    retired_hits: u64,
    pub(crate) waiters: HashMap<Ticket, Waiter>,
    /// Why a connect failed, while its waiters are told.
    connect_errors: HashMap<ConnId, ClientError>,
    /// The deadline the timer task sleeps until.
    armed: Option<Instant>,
    /// When the lanes' idle credits are next swept (see `lane.rs`).
    sweep_at: Option<Instant>,
}

pub(crate) struct Inner {
    state: Mutex<Shared>,
    /// Names this client in the threads' snapshot caches.
    pub(crate) id: u64,
    /// The lanes as last published, with their generation; a thread refreshes its copy
    /// when `generation` moved (this lock is taken only then).
    published: Mutex<(u64, Arc<Snapshot>)>,
    generation: AtomicU64,
    /// Requests waiting in the pool (all origins): lanes give their credits back while
    /// there are any.
    pub(crate) waiting: AtomicU64,
    /// A sweep of idle credits is due (so a lane going idle takes the lock only once).
    sweep_armed: AtomicBool,
    pub(crate) config: Config,
    pub(crate) connect_timeout: Duration,
    /// The client's own cap on streams per connection (`None`: the server's limit).
    max_streams: Option<u32>,
    #[cfg(feature = "rustls")]
    pub(crate) tls: Option<Arc<crate::tls::rustls::ClientConfig>>,
    timer: Arc<Notify>,
    /// The timer task is started with the first deadline (so a client can be built
    /// outside a runtime).
    timer_started: AtomicBool,
}

/// Spawns on the current runtime; `false` outside one.
fn spawn(task: impl std::future::Future<Output = ()> + Send + 'static) -> bool {
    match tokio::runtime::Handle::try_current() {
        Ok(runtime) => {
            runtime.spawn(task);
            true
        }
        Err(_) => false,
    }
}

impl Shared {
    /// The earliest of the pool's deadline and the sweep.
    fn next_deadline(&self) -> Option<Instant> {
        match (self.pool.poll_timeout(), self.sweep_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

/// What is delivered once the lock is released.
#[derive(Default)]
pub(crate) struct Later {
    deliveries: Vec<(Waiter, Result<Lease, ClientError>)>,
    dropped: Vec<Arc<Lane>>,
    wake_timer: bool,
}

/// The pool's clock: tokio's, so tests with paused time drive it too.
pub(crate) fn now() -> Instant {
    tokio::time::Instant::now().into_std()
}

impl Inner {
    pub(crate) fn new(
        pool: Pool,
        config: Config,
        connect_timeout: Duration,
        max_streams: Option<u32>,
        #[cfg(feature = "rustls")] tls: Option<Arc<crate::tls::rustls::ClientConfig>>,
    ) -> Arc<Inner> {
        let shared = Shared {
            pool,
            lanes: HashMap::default(),
            retired_hits: 0,
            waiters: HashMap::default(),
            connect_errors: HashMap::default(),
            armed: None,
            sweep_at: None,
        };
        static IDS: AtomicU64 = AtomicU64::new(0);
        Arc::new(Inner {
            state: Mutex::new(shared),
            id: IDS.fetch_add(1, Ordering::Relaxed),
            published: Mutex::new((0, Arc::default())),
            generation: AtomicU64::new(0),
            waiting: AtomicU64::new(0),
            sweep_armed: AtomicBool::new(false),
            config,
            connect_timeout,
            max_streams,
            #[cfg(feature = "rustls")]
            tls,
            timer: Arc::default(),
            timer_started: AtomicBool::new(false),
        })
    }

    /// The generation of the published snapshot.
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// The published snapshot, with its generation.
    pub(crate) fn snapshot(&self) -> (u64, Arc<Snapshot>) {
        let published = self.published.lock().unwrap_or_else(PoisonError::into_inner);
        (published.0, published.1.clone())
    }

    /// Publishes the lanes after a connection joined or left (with the state locked).
    fn publish(&self, shared: &Shared) {
        let snapshot = Arc::new(Snapshot::new(shared.lanes.values()));
        let mut published = self.published.lock().unwrap_or_else(PoisonError::into_inner);
        let generation = published.0 + 1;
        *published = (generation, snapshot);
        self.generation.store(generation, Ordering::Release);
    }

    /// Takes connection `conn` out of the pool's lanes (with the state locked).
    pub(crate) fn retire(&self, shared: &mut Shared, conn: ConnId) -> Option<Arc<Lane>> {
        let lane = shared.lanes.remove(&conn)?;
        lane.retire();
        shared.retired_hits += lane.hits.load(Ordering::Relaxed);
        self.publish(shared);
        Some(lane)
    }

    /// Gives back to the pool every credit of `origin`'s lanes and of idle lanes (a
    /// request waits there: for a stream of the origin, or for room under the total bound).
    pub(crate) fn reclaim(shared: &mut Shared, origin: &Origin, now: Instant) {
        let lanes: Vec<_> = shared
            .lanes
            .values()
            .filter(|l| l.has_credits() && (l.origin == *origin || l.is_idle()))
            .cloned()
            .collect();
        for lane in lanes {
            for _ in 0..lane.drain() {
                shared.pool.stream_finished(lane.conn, now);
            }
        }
    }

    /// A lane kept credits with no request left: sweeps them back to the pool after a
    /// while unless requests use them.
    pub(crate) fn arm_sweep(self: &Arc<Self>) {
        if !self.sweep_armed.swap(true, Ordering::AcqRel) {
            self.run(|shared, now| {
                shared.sweep_at.get_or_insert(now + super::lane::SWEEP);
            });
        }
    }

    /// Gives the credits of lanes unused since the last sweep back to the pool; sweeps
    /// again later while some lane keeps credits.
    fn sweep(&self, shared: &mut Shared, now: Instant) {
        shared.sweep_at = None;
        self.sweep_armed.store(false, Ordering::Release);
        let mut again = false;
        let lanes: Vec<_> = shared.lanes.values().cloned().collect();
        for lane in lanes {
            match lane.sweep() {
                Some(credits) => {
                    for _ in 0..credits {
                        shared.pool.stream_finished(lane.conn, now);
                    }
                }
                None => again |= lane.has_credits(),
            }
        }
        if again && !self.sweep_armed.swap(true, Ordering::AcqRel) {
            shared.sweep_at = Some(now + super::lane::SWEEP);
        }
    }

    /// Pool hits: the pool's own and the lanes' credits.
    pub(crate) fn hits(shared: &Shared) -> u64 {
        let lanes: u64 = shared.lanes.values().map(|l| l.hits.load(Ordering::Relaxed)).sum();
        shared.retired_hits + lanes
    }

    fn lock(&self) -> MutexGuard<'_, Shared> {
        // Nothing under the lock panics on input; a poisoned lock still holds consistent
        // pool state (every pool call completes or does nothing).
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `f` on the shared state, carries out the pool's actions, and delivers their
    /// results once the lock is released.
    pub(crate) fn run<R>(self: &Arc<Self>, f: impl FnOnce(&mut Shared, Instant) -> R) -> R {
        let mut later = Later::default();
        let result = {
            let mut shared = self.lock();
            let now = now();
            let result = f(&mut shared, now);
            self.carry_out(&mut shared, &mut later);
            let waiting = shared.waiters.len() as u64;
            if self.waiting.load(Ordering::Relaxed) != waiting {
                self.waiting.store(waiting, Ordering::SeqCst);
            }
            result
        };
        for (waiter, result) in later.deliveries {
            // A waiter that gave up drops the lease here, which gives its stream back.
            let _ = waiter.send(result);
        }
        drop(later.dropped);
        if later.wake_timer {
            if !self.timer_started.swap(true, Ordering::AcqRel)
                && !spawn(timer(Arc::downgrade(self), self.timer.clone()))
            {
                self.timer_started.store(false, Ordering::Release);
            }
            self.timer.notify_one();
        }
        result
    }

    fn carry_out(self: &Arc<Self>, shared: &mut Shared, later: &mut Later) {
        while let Some(action) = shared.pool.poll_action() {
            match action {
                Action::Connect { conn, origin } => {
                    if !spawn(connect(Arc::downgrade(self), conn, origin)) {
                        // Outside a runtime (a body dropped after it shut down): nothing
                        // can connect.
                        shared.pool.connect_failed(conn, now());
                    }
                }
                Action::Assign { ticket, conn } => {
                    let lane = shared.lanes.get(&conn).cloned();
                    let waiter = shared.waiters.remove(&ticket);
                    match (lane, waiter) {
                        (Some(lane), Some(waiter)) => {
                            later.deliveries.push((waiter, Ok(Lease::new(self.clone(), lane))))
                        }
                        // Nobody to take it (or no handle): give the stream back at once.
                        _ => shared.pool.stream_finished(conn, now()),
                    }
                }
                Action::Fail { ticket, error } => {
                    if let Some(waiter) = shared.waiters.remove(&ticket) {
                        let error = match error {
                            CheckoutError::ConnectFailed { conn } => {
                                shared.connect_errors.get(&conn).cloned().unwrap_or_else(|| {
                                    ClientError::new(ClientErrorKind::Pool(error))
                                })
                            }
                            error => ClientError::new(ClientErrorKind::Pool(error)),
                        };
                        later.deliveries.push((waiter, Err(error)));
                    }
                }
                Action::Ping { conn } => {
                    // A check of a long-idle connection (RFC 9113 §8.7): a PING through
                    // its handle; the answer brings the core's round-trip time.
                    let lane = shared.lanes.get(&conn).filter(|l| !l.send.is_closed());
                    let started = lane.is_some_and(|lane| {
                        spawn(check(Arc::downgrade(self), conn, lane.send.ping_command()))
                    });
                    if !started {
                        shared.pool.closed(conn, CloseReason::Error, now());
                    }
                }
                Action::Close { conn, .. } => {
                    // Dropping the handle closes the connection gracefully once its
                    // streams end.
                    if let Some(lane) = self.retire(shared, conn) {
                        later.dropped.push(lane);
                    }
                }
            }
        }
        shared.connect_errors.clear();
        let next = shared.next_deadline();
        if next.is_some() && (shared.armed.is_none() || next < shared.armed) {
            shared.armed = next;
            later.wake_timer = true;
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        // The timer task sleeps on this; it sees the client gone and ends.
        self.timer.notify_one();
    }
}

/// Waits for the answer to a check's PING and tells the pool: ready again with the
/// round-trip time the core measured, or closed when the connection ended first. A PING
/// never answered is the pool's check deadline to catch.
async fn check(
    inner: Weak<Inner>,
    conn: ConnId,
    ping: impl std::future::Future<Output = Option<Duration>>,
) {
    let rtt = ping.await;
    let Some(inner) = inner.upgrade() else { return };
    inner.run(|shared, now| match rtt {
        Some(rtt) => shared.pool.ping_acked(conn, rtt, now),
        None => shared.pool.closed(conn, CloseReason::Error, now),
    });
}

/// Sleeps until the pool's next deadline (re-armed whenever an earlier one appears) and
/// runs its timers.
async fn timer(inner: Weak<Inner>, wake: Arc<Notify>) {
    loop {
        let deadline = {
            let Some(inner) = inner.upgrade() else { return };
            let mut shared = inner.lock();
            shared.armed = shared.next_deadline();
            shared.armed
        };
        match deadline {
            Some(at) => {
                let at = tokio::time::Instant::from_std(at);
                tokio::select! {
                    () = tokio::time::sleep_until(at) => {
                        let Some(inner) = inner.upgrade() else { return };
                        inner.run(|shared, now| {
                            if shared.sweep_at.is_some_and(|at| at <= now) {
                                inner.sweep(shared, now);
                            }
                            shared.pool.handle_timeout(now);
                        });
                    }
                    () = wake.notified() => {}
                }
            }
            None => wake.notified().await,
        }
    }
}

/// A connection's task, erased over its transport (TCP or TLS).
type Task = std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), crate::Error>> + Send>>;

/// Opens connection `conn` to `origin` and reports to the pool.
async fn connect(inner: Weak<Inner>, conn: ConnId, origin: Origin) {
    let Some((timeout, opener)) = inner.upgrade().map(|i| (i.connect_timeout, i.opener())) else {
        return;
    };
    let opened = match tokio::time::timeout(timeout, opener.open(&origin)).await {
        Ok(opened) => opened,
        Err(_) => Err(ClientError::new(ClientErrorKind::ConnectTimeout)),
    };
    let Some(inner) = inner.upgrade() else { return };
    let (send, task) = match opened {
        Ok(opened) => opened,
        Err(error) => {
            return inner.run(|shared, now| {
                shared.connect_errors.insert(conn, error);
                shared.pool.connect_failed(conn, now);
            });
        }
    };
    // The handle does not tell the server's SETTINGS_MAX_CONCURRENT_STREAMS: the pool
    // starts from what it learned on this origin, else from the core's assumption before
    // SETTINGS (RFC 9113 §6.5.2 leaves the limit open until then), and learns from
    // connections that say they are full or refuse a stream.
    // With the client's own cap, the pool takes it as the limit (a server allowing fewer
    // says so when full, and the pool learns as above).
    // Round trips of the connection's own PINGs (keepalive) count in the metrics too.
    let metrics = Arc::downgrade(&inner);
    send.on_rtt(move |rtt| {
        if let Some(inner) = metrics.upgrade() {
            inner.run(|shared, _| shared.pool.rtt_measured(rtt));
        }
    });
    let assumed = inner.config.initial_max_send_streams;
    let cap = inner.max_streams;
    inner.run(|shared, now| {
        shared.lanes.insert(conn, Arc::new(Lane::new(conn, origin, send)));
        inner.publish(shared);
        match cap {
            Some(cap) => shared.pool.connected(conn, cap, now),
            None => shared.pool.connected_assuming(conn, assumed, now),
        }
    });
    let weak = Arc::downgrade(&inner);
    drop(inner);
    spawn(async move {
        let result = task.await;
        if let Some(inner) = weak.upgrade() {
            let reason = if result.is_ok() { CloseReason::PeerClosed } else { CloseReason::Error };
            inner.run(|shared, now| {
                let gone = inner.retire(shared, conn);
                shared.pool.closed(conn, reason, now);
                gone
            });
        }
    });
}

/// What a connect needs from the client's configuration.
pub(crate) struct Opener {
    config: Config,
    #[cfg(feature = "rustls")]
    tls: Option<Arc<crate::tls::rustls::ClientConfig>>,
}

impl Inner {
    fn opener(&self) -> Opener {
        Opener {
            config: self.config.clone(),
            #[cfg(feature = "rustls")]
            tls: self.tls.clone(),
        }
    }

    /// Whether this client can open connections to `origin` (`https` needs TLS).
    pub(crate) fn can_reach(&self, origin: &Origin) -> bool {
        #[cfg(feature = "rustls")]
        let tls = self.tls.is_some();
        #[cfg(not(feature = "rustls"))]
        let tls = false;
        !origin.is_https() || tls
    }
}

impl Opener {
    /// TCP (with `TCP_NODELAY`), TLS with ALPN `h2` for `https`, then the HTTP/2 handshake.
    /// No request waits inside the connection (`max_pending(0)`): a full connection says so,
    /// and the pool opens another or queues.
    async fn open(self, origin: &Origin) -> Result<(SendRequest, Task), ClientError> {
        let addr = (origin.host().to_owned(), origin.port());
        if origin.is_https() {
            #[cfg(feature = "rustls")]
            if let Some(tls) = self.tls {
                let (send, connection) = crate::tls::connect(addr, origin.host(), tls, self.config)
                    .await
                    .map_err(|e| {
                        let io = std::io::Error::other(e.to_string());
                        ClientError::new(ClientErrorKind::Connect(Arc::new(io)))
                    })?;
                return Ok((send, Box::pin(connection)));
            }
            return Err(ClientError::new(ClientErrorKind::TlsUnavailable));
        }
        let tcp = TcpStream::connect(addr)
            .await
            .map_err(|e| ClientError::new(ClientErrorKind::Connect(Arc::new(e))))?;
        let _ = tcp.set_nodelay(true);
        let mut builder = Builder::new().config(self.config).max_pending(0);
        if let Some(origin) = origin.to_connection_origin() {
            builder = builder.origin(origin);
        }
        let (send, connection) = builder.handshake(tcp);
        Ok((send, Box::pin(connection)))
    }
}
