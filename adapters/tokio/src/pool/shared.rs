//! The state every clone of a `Client` shares, and how the pool's actions are carried out.
//!
//! One mutex guards the sans-IO [`Pool`] with the handles of its connections and the
//! senders of waiting requests. It is held only for the pool's decision and the
//! bookkeeping around it, never across an await; what the actions hand to tasks (a
//! connection to a waiting request, a failure, a closed handle) is delivered after it is
//! released. Connects, connection tasks and the pool's timer are tasks of their own that
//! hold the state weakly, so dropping the last `Client` closes every connection.

use super::error::{ClientError, ClientErrorKind};
use super::lease::Lease;
use crate::client::{Builder, SendRequest};
use h2proto::Config;
use h2proto::pool::{Action, CheckoutError, CloseReason, ConnId, Origin, Pool, Ticket};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio::sync::{Notify, oneshot};

type Waiter = oneshot::Sender<Result<Lease, ClientError>>;

pub(crate) struct Shared {
    pub(crate) pool: Pool,
    pub(crate) handles: HashMap<ConnId, SendRequest>,
    pub(crate) waiters: HashMap<Ticket, Waiter>,
    /// Why a connect failed, while its waiters are told.
    connect_errors: HashMap<ConnId, ClientError>,
    /// The deadline the timer task sleeps until.
    armed: Option<Instant>,
}

pub(crate) struct Inner {
    state: Mutex<Shared>,
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

/// What is delivered once the lock is released.
#[derive(Default)]
pub(crate) struct Later {
    deliveries: Vec<(Waiter, Result<Lease, ClientError>)>,
    dropped: Vec<SendRequest>,
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
            handles: HashMap::new(),
            waiters: HashMap::new(),
            connect_errors: HashMap::new(),
            armed: None,
        };
        Arc::new(Inner {
            state: Mutex::new(shared),
            config,
            connect_timeout,
            max_streams,
            #[cfg(feature = "rustls")]
            tls,
            timer: Arc::default(),
            timer_started: AtomicBool::new(false),
        })
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
                    let handle = shared.handles.get(&conn).cloned();
                    let waiter = shared.waiters.remove(&ticket);
                    match (handle, waiter) {
                        (Some(send), Some(waiter)) => later
                            .deliveries
                            .push((waiter, Ok(Lease::new(self.clone(), conn, send)))),
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
                    // The handle offers no PING; the core's keepalive watches idle
                    // connections instead (the builder leaves `check_after_idle` off), so
                    // this only answers a configured check with what is known.
                    let closed = shared.handles.get(&conn).is_none_or(SendRequest::is_closed);
                    if closed {
                        shared.pool.closed(conn, CloseReason::Error, now());
                    } else {
                        shared.pool.ping_acked(conn, Duration::ZERO, now());
                    }
                }
                Action::Close { conn, .. } => {
                    // Dropping the handle closes the connection gracefully once its
                    // streams end.
                    if let Some(send) = shared.handles.remove(&conn) {
                        later.dropped.push(send);
                    }
                }
            }
        }
        shared.connect_errors.clear();
        let next = shared.pool.poll_timeout();
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

/// Sleeps until the pool's next deadline (re-armed whenever an earlier one appears) and
/// runs its timers.
async fn timer(inner: Weak<Inner>, wake: Arc<Notify>) {
    loop {
        let deadline = {
            let Some(inner) = inner.upgrade() else { return };
            let mut shared = inner.lock();
            shared.armed = shared.pool.poll_timeout();
            shared.armed
        };
        match deadline {
            Some(at) => {
                let at = tokio::time::Instant::from_std(at);
                tokio::select! {
                    () = tokio::time::sleep_until(at) => {
                        let Some(inner) = inner.upgrade() else { return };
                        inner.run(|shared, now| shared.pool.handle_timeout(now));
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
    let assumed = inner.config.initial_max_send_streams;
    let cap = inner.max_streams;
    inner.run(|shared, now| {
        shared.handles.insert(conn, send);
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
                let gone = shared.handles.remove(&conn);
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
