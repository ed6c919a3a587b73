//! The lock-free fast path: streams a connection keeps between requests.
//!
//! The pool counts a stream busy from checkout until it is given back. Giving back every
//! stream at once and checking out a new one for the next request would take the client's
//! lock twice per request, and run the pool's bookkeeping both times. Instead, a finished
//! stream stays with its connection's [`Lane`] as a *credit*: still counted busy by the
//! pool, free for the next request to the same origin, which takes it with one atomic
//! operation. So under load requests neither lock nor touch the pool; it decides only when
//! something changes:
//!
//! - a request that finds no credit goes to the pool (checkout, wait, connect) as before;
//! - when requests wait in the pool, credits go back to it (a finishing stream, and every
//!   credit of the origin when a request starts waiting), so nobody waits beside an unused
//!   stream;
//! - a connection without active streams for a whole sweep interval (`SWEEP`, run by the
//!   client's timer) gives its credits back, so the pool sees it idle (idle timeout, LRU
//!   eviction) as before, that much later; a request waiting in the pool takes the credits
//!   of idle connections at once;
//! - a connection that takes no new requests (GOAWAY, closed) gives its credits back.
//!
//! Finding the lanes of an origin without a shared lock: the client publishes an immutable
//! [`Snapshot`] of its lanes with a generation number, changed only when a connection
//! opens or closes. Each thread caches the snapshot it last saw; a request compares the
//! generation (an atomic load, no write) and refreshes its copy only when it changed. The
//! snapshot holds the lanes weakly, so a cached copy never keeps a connection open.

use super::shared::Inner;
use crate::client::SendRequest;
use h2proto::pool::{ConnId, Origin};
use http::Uri;
use http::uri::Scheme;
use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Weak};

/// One connection of the pool, with the streams it keeps between requests.
pub(crate) struct Lane {
    pub(crate) conn: ConnId,
    pub(crate) origin: Origin,
    pub(crate) send: SendRequest,
    /// Streams the pool counts busy that no request uses.
    credits: AtomicU32,
    /// Requests using the connection now.
    active: AtomicU32,
    /// A request started since the last sweep.
    touched: AtomicBool,
    /// Requests that took a credit (pool hits the pool never saw).
    pub(crate) hits: AtomicU64,
    /// The connection left the pool: credits are not kept any more.
    retired: AtomicBool,
}

impl Lane {
    pub(crate) fn new(conn: ConnId, origin: Origin, send: SendRequest) -> Lane {
        Lane {
            conn,
            origin,
            send,
            credits: AtomicU32::new(0),
            active: AtomicU32::new(0),
            touched: AtomicBool::new(true),
            hits: AtomicU64::new(0),
            retired: AtomicBool::new(false),
        }
    }

    /// Takes a credit, if the lane has one. (A connection that stopped taking requests
    /// says so when the request is sent, and the lease gives its credits back.)
    fn take_credit(&self) -> bool {
        if self.retired.load(Ordering::Relaxed) {
            return false;
        }
        let took = self
            .credits
            .fetch_update(Ordering::SeqCst, Ordering::Relaxed, |n| n.checked_sub(1))
            .is_ok();
        if took {
            self.hits.fetch_add(1, Ordering::Relaxed);
        }
        took
    }

    /// A request starts using the connection (with a credit or a stream from the pool).
    pub(crate) fn enter(&self) {
        self.active.fetch_add(1, Ordering::Relaxed);
        self.touched.store(true, Ordering::Relaxed);
    }

    /// A request stops using the connection: its stream is kept as a credit, or is to go
    /// back to the pool with the lane's other credits (the pool has waiters, or the
    /// connection left the pool). A connection that stopped taking requests but is still
    /// in the pool keeps them until a request finds out (its lease gives them back) or
    /// the sweep does.
    pub(crate) fn leave(&self, waiters: &AtomicU64) -> Leave {
        let last = self.active.fetch_sub(1, Ordering::AcqRel) == 1;
        if self.retired.load(Ordering::Relaxed) {
            return Leave::GiveBack(1 + self.drain());
        }
        self.credits.fetch_add(1, Ordering::SeqCst);
        // A request may have started waiting in the pool just before the credit was
        // added (it drained the credits it could see): look again (both sides SeqCst).
        if waiters.load(Ordering::SeqCst) > 0 {
            return Leave::GiveBack(self.drain());
        }
        if last { Leave::KeptIdle } else { Leave::Kept }
    }

    /// The sweep: if no request used the lane since the last sweep, or its connection
    /// takes no new requests, takes its credits (to give back to the pool); `None` if it
    /// is busy or was used lately.
    pub(crate) fn sweep(&self) -> Option<u32> {
        let used = self.touched.swap(false, Ordering::Relaxed);
        let idle = !used && self.active.load(Ordering::Acquire) == 0;
        // A connection that takes no new requests gives its credits back at once.
        (idle || self.send.is_closed()).then(|| self.drain())
    }

    /// Whether no request uses the connection now.
    pub(crate) fn is_idle(&self) -> bool {
        self.active.load(Ordering::Acquire) == 0
    }

    /// Whether the lane keeps credits.
    pub(crate) fn has_credits(&self) -> bool {
        self.credits.load(Ordering::Relaxed) > 0
    }

    /// A request stops using the connection and its stream goes back to the pool, with
    /// every credit: returns how many streams that is.
    pub(crate) fn quit(&self) -> u32 {
        self.active.fetch_sub(1, Ordering::AcqRel);
        1 + self.drain()
    }

    /// Takes every credit (to give them back to the pool).
    pub(crate) fn drain(&self) -> u32 {
        self.credits.swap(0, Ordering::SeqCst)
    }

    /// The connection left the pool (closed, or the pool closes it).
    pub(crate) fn retire(&self) {
        self.retired.store(true, Ordering::Relaxed);
        self.credits.store(0, Ordering::SeqCst);
    }
}

/// What became of a stream when its request left the lane.
pub(crate) enum Leave {
    /// Kept as a credit.
    Kept,
    /// Kept as a credit, and no request uses the connection now: a sweep is due.
    KeptIdle,
    /// These many streams go back to the pool.
    GiveBack(u32),
}

/// How long a connection keeps credits without a request before they go back to the
/// pool (between one and two of these).
pub(crate) const SWEEP: std::time::Duration = std::time::Duration::from_millis(100);

/// The lanes of a client at one moment, by origin. Immutable once published.
#[derive(Default)]
pub(crate) struct Snapshot {
    origins: Vec<Lanes>,
}

/// The lanes of one origin.
struct Lanes {
    origin: Origin,
    /// The origin's authority as URIs usually spell it (`host` with the default port,
    /// else `host:port`), to recognise a URI without parsing it.
    authority: String,
    lanes: Vec<Weak<Lane>>,
}

impl Snapshot {
    pub(crate) fn new<'a>(lanes: impl Iterator<Item = &'a Arc<Lane>>) -> Snapshot {
        let mut origins: Vec<Lanes> = Vec::new();
        for lane in lanes {
            match origins.iter_mut().find(|o| o.origin == lane.origin) {
                Some(o) => o.lanes.push(Arc::downgrade(lane)),
                None => origins.push(Lanes {
                    origin: lane.origin.clone(),
                    authority: authority(&lane.origin),
                    lanes: vec![Arc::downgrade(lane)],
                }),
            }
        }
        Snapshot { origins }
    }

    /// A lane of the URI's origin with a credit, its credit taken; `hint` is where this
    /// thread found one last time (looked at first, and updated).
    fn take(&self, uri: &Uri, hint: &mut usize) -> Option<Arc<Lane>> {
        let lanes = &self.origins.iter().find(|o| o.matches(uri))?.lanes;
        let start = if *hint < lanes.len() { *hint } else { 0 };
        let (head, tail) = lanes.split_at(start);
        let (at, lane) =
            tail.iter().chain(head).enumerate().find_map(|(i, lane)| {
                Some((i, lane.upgrade().filter(|lane| lane.take_credit())?))
            })?;
        *hint = (start + at) % lanes.len();
        Some(lane)
    }
}

impl Lanes {
    fn matches(&self, uri: &Uri) -> bool {
        // Spelled as usual (the same bytes: a plain comparison); else parsed.
        let scheme = if self.origin.is_https() { &Scheme::HTTPS } else { &Scheme::HTTP };
        let quick = uri.authority().is_some_and(|a| a.as_str() == self.authority)
            && uri.scheme() == Some(scheme);
        quick || same_origin(&self.origin, uri)
    }
}

/// `host[:port]` of `origin`, the port left out when it is the scheme's default.
fn authority(origin: &Origin) -> String {
    let host = origin.host();
    let host = if host.contains(':') { format!("[{host}]") } else { host.to_owned() };
    let default = if origin.is_https() { 443 } else { 80 };
    if origin.port() == default { host } else { format!("{host}:{}", origin.port()) }
}

/// Whether `uri` is of `origin`, without building an `Origin` (which allocates).
fn same_origin(origin: &Origin, uri: &Uri) -> bool {
    let https = match uri.scheme_str() {
        Some(s) if s.eq_ignore_ascii_case("https") => true,
        Some(s) if s.eq_ignore_ascii_case("http") => false,
        _ => return false,
    };
    let Some(host) = uri.host() else { return false };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
    origin.is_https() == https && origin.port() == port && origin.host().eq_ignore_ascii_case(host)
}

/// Snapshots a thread keeps, one per client it used lately.
const CACHED_CLIENTS: usize = 4;

/// A thread's copy of a client's snapshot.
struct Cached {
    client: u64,
    generation: u64,
    snapshot: Arc<Snapshot>,
    /// The lane that had a credit last time.
    hint: usize,
}

thread_local! {
    static CACHE: RefCell<Vec<Cached>> = const { RefCell::new(Vec::new()) };
}

/// A credit of a lane of the URI's origin, from this thread's copy of the client's
/// snapshot (refreshed when the client published a newer one).
pub(crate) fn take(inner: &Inner, uri: &Uri) -> Option<Arc<Lane>> {
    let generation = inner.generation();
    CACHE.with(|cache| {
        let mut cache = cache.borrow_mut();
        let at = match cache.iter().position(|c| c.client == inner.id) {
            Some(at) if cache[at].generation == generation => at,
            Some(at) => {
                let (generation, snapshot) = inner.snapshot();
                cache[at] = Cached { client: inner.id, generation, snapshot, hint: 0 };
                at
            }
            None => {
                let (generation, snapshot) = inner.snapshot();
                if cache.len() == CACHED_CLIENTS {
                    cache.remove(0);
                }
                cache.push(Cached { client: inner.id, generation, snapshot, hint: 0 });
                cache.len() - 1
            }
        };
        let cached = &mut cache[at];
        cached.snapshot.take(uri, &mut cached.hint)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use h2proto::pool::Origin;

    /// A connection nobody drives (its handle takes requests; nothing is sent), kept
    /// with its lane so that the handle stays open.
    type Undriven = crate::client::Connection<tokio::io::DuplexStream>;

    fn lane(origin: &str) -> (Arc<Lane>, Undriven) {
        let (io, _peer) = tokio::io::duplex(64);
        let (send, connection) = crate::client::handshake(io);
        let origin = Origin::from_uri(&origin.parse().unwrap()).unwrap();
        let conn = h2proto::pool::ConnId(1);
        (Arc::new(Lane::new(conn, origin, send)), connection)
    }

    #[tokio::test]
    async fn a_stream_left_is_kept_as_a_credit_that_one_request_takes() {
        let (lane, _connection) = lane("http://127.0.0.1:8080");
        let waiters = AtomicU64::new(0);
        lane.enter();
        lane.enter();
        assert!(matches!(lane.leave(&waiters), Leave::Kept));
        assert!(
            matches!(lane.leave(&waiters), Leave::KeptIdle),
            "the last one out: a sweep is due"
        );
        assert!(lane.take_credit() && lane.take_credit());
        assert!(!lane.take_credit(), "two streams, two credits");
        assert_eq!(lane.hits.load(Ordering::Relaxed), 2);
    }

    #[tokio::test]
    async fn with_requests_waiting_in_the_pool_streams_and_credits_go_back() {
        let (lane, _connection) = lane("http://127.0.0.1:8080");
        let waiters = AtomicU64::new(0);
        lane.enter();
        lane.enter();
        assert!(matches!(lane.leave(&waiters), Leave::Kept));
        waiters.store(1, Ordering::SeqCst);
        assert!(matches!(lane.leave(&waiters), Leave::GiveBack(2)), "this stream and the credit");
        assert!(!lane.take_credit());
    }

    #[tokio::test]
    async fn the_sweep_takes_the_credits_of_a_lane_unused_for_a_whole_interval() {
        let (lane, _connection) = lane("http://127.0.0.1:8080");
        let waiters = AtomicU64::new(0);
        lane.enter();
        assert!(matches!(lane.leave(&waiters), Leave::KeptIdle));
        assert_eq!(lane.sweep(), None, "used since the last sweep");
        assert_eq!(lane.sweep(), Some(1), "unused for a whole interval");
        lane.enter();
        assert_eq!(lane.sweep(), None, "busy");
        assert_eq!(lane.sweep(), None, "still busy");
        lane.enter();
        assert!(matches!(lane.leave(&waiters), Leave::Kept), "one credit, one stream busy");
        drop(_connection);
        assert!(lane.send.is_closed());
        assert_eq!(lane.sweep(), Some(1), "busy, but closed: its credit goes back at once");
    }

    #[tokio::test]
    async fn a_retired_lane_keeps_nothing() {
        let (lane, _connection) = lane("http://127.0.0.1:8080");
        let waiters = AtomicU64::new(0);
        lane.enter();
        lane.enter();
        assert!(matches!(lane.leave(&waiters), Leave::Kept));
        lane.retire();
        assert!(!lane.take_credit());
        assert!(matches!(lane.leave(&waiters), Leave::GiveBack(1)));
    }

    #[tokio::test]
    async fn a_uri_finds_the_lanes_of_its_origin_however_it_is_spelled() {
        let (plain, _a) = lane("http://127.0.0.1:8080");
        let (default_port, _b) = lane("http://example.com");
        let snapshot = Snapshot::new([&plain, &default_port].into_iter());
        let waiters = AtomicU64::new(0);
        let mut hint = 0;
        let mut finds = |uri: &str, lane: &Arc<Lane>| {
            lane.enter();
            let _ = lane.leave(&waiters);
            let found = snapshot.take(&uri.parse().unwrap(), &mut hint);
            let same = found.as_ref().is_some_and(|f| Arc::ptr_eq(f, lane));
            // Leave no credit behind for the next case.
            let _ = lane.drain();
            same
        };
        assert!(finds("http://127.0.0.1:8080/a", &plain));
        assert!(finds("HTTP://127.0.0.1:8080/a", &plain), "scheme in capitals");
        assert!(finds("http://EXAMPLE.com/", &default_port), "host in capitals");
        assert!(finds("http://example.com:80/", &default_port), "the default port spelled");
        assert!(!finds("http://127.0.0.1:8081/", &plain), "another port");
        assert!(!finds("https://127.0.0.1:8080/", &plain), "another scheme");
        assert!(!finds("/a", &plain), "no origin");
    }

    #[tokio::test]
    async fn sequential_requests_after_the_first_skip_the_pool() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(crate::server::serve(listener, |_: http::Request<crate::RecvBody>| async {
            http::Response::new(http_body_util::Full::new(bytes::Bytes::from("hi")))
        }));
        let client = super::super::Client::new();
        for _ in 0..50 {
            let request = http::Request::get(format!("http://{addr}/"))
                .body(http_body_util::Empty::<bytes::Bytes>::new())
                .unwrap();
            let response = client.request(request).await.unwrap();
            let body = http_body_util::BodyExt::collect(response.into_body()).await.unwrap();
            assert_eq!(body.to_bytes(), "hi");
        }
        let metrics = client.metrics();
        // The first request checks out a stream from the pool; its stream stays with the
        // connection as a credit, which every later request takes.
        assert_eq!((metrics.misses, metrics.hits), (1, 49), "{metrics:?}");
        assert_eq!(metrics.connects, 1);
    }
}
