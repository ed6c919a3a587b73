//! The pool's policy driven with a fake clock: no socket, no sleep. Each test plays the
//! connections' side (connected, stream finished, GOAWAY, ...) and checks the pool's
//! decisions and actions.

use h2proto::pool::*;
use h2proto::{ErrorCode, StreamId};
use proptest::prelude::*;
use std::time::{Duration, Instant};

struct Harness {
    pool: Pool,
    now: Instant,
}

impl Harness {
    fn new(config: PoolConfig) -> Harness {
        Harness { pool: Pool::new(config, 1), now: Instant::now() }
    }

    fn actions(&mut self) -> Vec<Action> {
        std::iter::from_fn(|| self.pool.poll_action()).collect()
    }

    fn checkout(&mut self, origin: &Origin) -> Result<Checkout, CheckoutError> {
        self.pool.checkout(origin, self.now)
    }

    fn wait(&mut self, origin: &Origin) -> Ticket {
        match self.checkout(origin) {
            Ok(Checkout::Wait(t)) => t,
            other => panic!("expected to wait, got {other:?}"),
        }
    }

    /// Checks out, expects a connect and connects it with `max_streams`; returns the
    /// connection (the request holds one stream on it).
    fn open(&mut self, origin: &Origin, max_streams: u32) -> ConnId {
        let ticket = self.wait(origin);
        let conn = self.expect_connect();
        self.pool.connected(conn, max_streams, self.now);
        assert_eq!(self.actions(), [Action::Assign { ticket, conn }]);
        conn
    }

    fn expect_connect(&mut self) -> ConnId {
        match self.actions().as_slice() {
            [Action::Connect { conn, .. }] => *conn,
            other => panic!("expected one connect, got {other:?}"),
        }
    }

    fn advance(&mut self, by: Duration) {
        self.now += by;
        self.pool.handle_timeout(self.now);
    }
}

fn origin(uri: &str) -> Origin {
    Origin::from_uri(&uri.parse().unwrap()).unwrap()
}

fn config() -> PoolConfig {
    PoolConfig {
        max_connections_per_origin: 2,
        max_connections: 10,
        max_waiters_per_origin: 3,
        idle_timeout: Some(Duration::from_secs(30)),
        ..PoolConfig::default()
    }
}

#[test]
fn one_connection_serves_requests_up_to_the_peers_limit() {
    let mut h = Harness::new(config());
    let a = origin("http://a/");
    let conn = h.open(&a, 3);
    assert_eq!(h.checkout(&a), Ok(Checkout::Use(conn)));
    assert_eq!(h.checkout(&a), Ok(Checkout::Use(conn)));
    assert_eq!(
        h.pool.connection_state(conn),
        Some(ConnectionState::Ready { max_streams: 3, in_flight: 3 })
    );
    let m = h.pool.metrics();
    assert_eq!((m.hits, m.misses, m.waits, m.connects, m.connected), (2, 1, 1, 1, 1));
}

/// RFC 9113 §6.5.2: SETTINGS_MAX_CONCURRENT_STREAMS 1 — a second request opens a second
/// connection, a third waits for a free stream and gets the first one freed.
#[test]
fn max_concurrent_streams_1_forces_a_second_connection_then_queueing() {
    let mut h = Harness::new(config());
    let a = origin("http://a/");
    let first = h.open(&a, 1);
    let second = h.open(&a, 1);
    assert_ne!(first, second);
    let third = h.wait(&a);
    assert_eq!(h.actions(), [], "per-origin bound (2) reached: no third connection");
    assert_eq!(h.pool.waiting(&a), 1);
    h.pool.stream_finished(second, h.now);
    assert_eq!(h.actions(), [Action::Assign { ticket: third, conn: second }]);
    assert_eq!(h.pool.connections(&a), [first, second]);
}

/// A burst opens its connections at once: one more whenever the waiters outnumber what
/// the connections already on their way will take (100 each before their SETTINGS, RFC
/// 9113 §6.5.2's recommended least), within the per-origin bound.
#[test]
fn a_burst_of_waiters_opens_the_connections_it_needs_at_once() {
    let mut h = Harness::new(PoolConfig {
        max_connections_per_origin: 4,
        max_waiters_per_origin: 1000,
        ..config()
    });
    let a = origin("http://a/");
    let connects_after = |h: &mut Harness, n: usize| {
        for _ in 0..n {
            h.wait(&a);
        }
        h.actions().iter().filter(|a| matches!(a, Action::Connect { .. })).count()
    };
    assert_eq!(connects_after(&mut h, 100), 1, "one connection takes the first hundred");
    assert_eq!(connects_after(&mut h, 1), 1, "the 101st opens a second");
    assert_eq!(connects_after(&mut h, 99), 0);
    assert_eq!(connects_after(&mut h, 500), 2, "then up to the per-origin bound (4)");
    assert_eq!(h.pool.metrics().connects, 4);
}

#[test]
fn waiters_are_served_in_order() {
    let mut h = Harness::new(PoolConfig { max_connections_per_origin: 1, ..config() });
    let a = origin("http://a/");
    let conn = h.open(&a, 1);
    let tickets: Vec<Ticket> = (0..3).map(|_| h.wait(&a)).collect();
    for ticket in tickets {
        h.pool.stream_finished(conn, h.now);
        assert_eq!(h.actions(), [Action::Assign { ticket, conn }]);
    }
}

#[test]
fn a_full_queue_is_an_error_and_nothing_grows() {
    let mut h = Harness::new(PoolConfig { max_connections_per_origin: 1, ..config() });
    let a = origin("http://a/");
    h.open(&a, 1);
    for _ in 0..3 {
        h.wait(&a);
    }
    assert_eq!(h.checkout(&a), Err(CheckoutError::QueueFull));
    assert_eq!(h.pool.waiting(&a), 3);
    assert_eq!(h.pool.metrics().queue_full, 1);
}

#[test]
fn a_cancelled_waiter_leaves_the_queue() {
    let mut h = Harness::new(PoolConfig { max_connections_per_origin: 1, ..config() });
    let a = origin("http://a/");
    let conn = h.open(&a, 1);
    let gone = h.wait(&a);
    let stays = h.wait(&a);
    assert!(h.pool.cancel(gone));
    assert!(!h.pool.cancel(gone), "only once");
    h.pool.stream_finished(conn, h.now);
    assert_eq!(h.actions(), [Action::Assign { ticket: stays, conn }]);
    assert_eq!(h.pool.metrics().waiting, 0);
}

#[test]
fn a_higher_limit_in_new_settings_serves_waiters() {
    let mut h = Harness::new(PoolConfig { max_connections_per_origin: 1, ..config() });
    let a = origin("http://a/");
    let conn = h.open(&a, 1);
    let t1 = h.wait(&a);
    let t2 = h.wait(&a);
    h.pool.settings_changed(conn, 3, h.now);
    assert_eq!(
        h.actions(),
        [Action::Assign { ticket: t1, conn }, Action::Assign { ticket: t2, conn }]
    );
}

/// RFC 9113 §6.8: after GOAWAY the connection takes no new stream; its streams finish and
/// it closes; waiting and new requests go to a replacement.
#[test]
fn goaway_drains_and_replaces() {
    let mut h = Harness::new(config());
    let a = origin("http://a/");
    let old = h.open(&a, 10);
    assert_eq!(h.checkout(&a), Ok(Checkout::Use(old)));
    h.pool.go_away(old);
    assert_eq!(h.pool.connection_state(old), Some(ConnectionState::Draining { in_flight: 2 }));
    let ticket = h.wait(&a);
    let new = h.expect_connect();
    h.pool.connected(new, 10, h.now);
    assert_eq!(h.actions(), [Action::Assign { ticket, conn: new }]);
    assert_eq!(h.checkout(&a), Ok(Checkout::Use(new)), "the draining one takes nothing");
    h.pool.stream_finished(old, h.now);
    assert_eq!(h.actions(), []);
    h.pool.stream_finished(old, h.now);
    assert_eq!(h.actions(), [Action::Close { conn: old, reason: CloseReason::GoAway }]);
    assert_eq!(h.pool.connection_state(old), None);
    assert_eq!(h.pool.metrics().closed_by(CloseReason::GoAway), 1);
}

#[test]
fn goaway_with_waiters_opens_the_replacement_at_once() {
    let mut h = Harness::new(PoolConfig { max_connections_per_origin: 2, ..config() });
    let a = origin("http://a/");
    let old = h.open(&a, 1);
    let second = h.open(&a, 1);
    let ticket = h.wait(&a);
    h.pool.go_away(old);
    let new = h.expect_connect();
    h.pool.connected(new, 1, h.now);
    assert_eq!(h.actions(), [Action::Assign { ticket, conn: new }]);
    assert_ne!(new, second);
}

/// RFC 9113 §5.1.1: a client that ran out of stream ids must open a new connection.
#[test]
fn exhausted_stream_ids_drain_like_goaway() {
    let mut h = Harness::new(config());
    let a = origin("http://a/");
    let old = h.open(&a, 10);
    h.pool.stream_ids_exhausted(old);
    h.pool.stream_finished(old, h.now);
    assert_eq!(h.actions(), [Action::Close { conn: old, reason: CloseReason::StreamIdsExhausted }]);
    h.wait(&a);
    h.expect_connect();
}

#[test]
fn idle_connections_close_after_the_idle_timeout() {
    let mut h = Harness::new(config());
    let a = origin("http://a/");
    let conn = h.open(&a, 10);
    h.advance(Duration::from_secs(60));
    assert_eq!(h.actions(), [], "busy connections never idle out");
    h.pool.stream_finished(conn, h.now);
    assert_eq!(h.pool.poll_timeout(), Some(h.now + Duration::from_secs(30)));
    h.advance(Duration::from_secs(29));
    assert_eq!(h.actions(), []);
    h.advance(Duration::from_secs(1));
    assert_eq!(h.actions(), [Action::Close { conn, reason: CloseReason::IdleTimeout }]);
    assert!(h.pool.is_empty());
    assert_eq!(h.pool.poll_timeout(), None);
}

#[test]
fn reuse_restarts_the_idle_clock() {
    let mut h = Harness::new(config());
    let a = origin("http://a/");
    let conn = h.open(&a, 10);
    h.pool.stream_finished(conn, h.now);
    h.advance(Duration::from_secs(20));
    assert_eq!(h.checkout(&a), Ok(Checkout::Use(conn)));
    h.pool.stream_finished(conn, h.now);
    h.advance(Duration::from_secs(20));
    assert_eq!(h.actions(), [], "idle for 20 s only");
    h.advance(Duration::from_secs(10));
    assert_eq!(h.actions(), [Action::Close { conn, reason: CloseReason::IdleTimeout }]);
}

#[test]
fn the_total_bound_evicts_the_least_recently_used_idle_connection() {
    let mut h = Harness::new(PoolConfig { max_connections: 2, ..config() });
    let (a, b, c) = (origin("http://a/"), origin("http://b/"), origin("http://c/"));
    let ca = h.open(&a, 10);
    let cb = h.open(&b, 10);
    h.pool.stream_finished(ca, h.now);
    h.now += Duration::from_secs(1);
    h.pool.stream_finished(cb, h.now);
    // `a` idled first: it goes to make room for `c`.
    let ticket = h.wait(&c);
    let actions = h.actions();
    let [Action::Close { conn, reason: CloseReason::Evicted }, Action::Connect { conn: cc, .. }] =
        actions.as_slice()
    else {
        panic!("{actions:?}")
    };
    assert_eq!(*conn, ca);
    h.pool.connected(*cc, 10, h.now);
    assert_eq!(h.actions(), [Action::Assign { ticket, conn: *cc }]);
    assert_eq!(h.pool.len(), 2);
    assert_eq!(h.pool.metrics().closed_by(CloseReason::Evicted), 1);
}

#[test]
fn at_the_total_bound_with_nothing_idle_a_request_waits_for_room() {
    let mut h = Harness::new(PoolConfig { max_connections: 1, ..config() });
    let (a, b) = (origin("http://a/"), origin("http://b/"));
    let ca = h.open(&a, 10);
    let ticket = h.wait(&b);
    assert_eq!(h.actions(), [], "no room, nothing idle");
    h.pool.stream_finished(ca, h.now);
    let actions = h.actions();
    let [Action::Close { conn, reason: CloseReason::Evicted }, Action::Connect { conn: cb, .. }] =
        actions.as_slice()
    else {
        panic!("{actions:?}")
    };
    assert_eq!(*conn, ca);
    h.pool.connected(*cb, 10, h.now);
    assert_eq!(h.actions(), [Action::Assign { ticket, conn: *cb }]);
}

/// RFC 9113 §8.7: PING tests a connection without sending a request.
#[test]
fn a_long_idle_connection_is_checked_before_reuse() {
    let mut h = Harness::new(PoolConfig {
        check_after_idle: Some(Duration::from_secs(10)),
        check_timeout: Duration::from_secs(2),
        ..config()
    });
    let a = origin("http://a/");
    let conn = h.open(&a, 10);
    h.pool.stream_finished(conn, h.now);
    h.advance(Duration::from_secs(5));
    assert_eq!(h.checkout(&a), Ok(Checkout::Use(conn)), "not idle long enough to check");
    h.pool.stream_finished(conn, h.now);
    h.advance(Duration::from_secs(10));
    let ticket = h.wait(&a);
    assert_eq!(h.actions(), [Action::Ping { conn }], "checked, and no second connect");
    assert_eq!(h.pool.connection_state(conn), Some(ConnectionState::Checking));
    h.pool.ping_acked(conn, Duration::from_millis(3), h.now);
    assert_eq!(h.actions(), [Action::Assign { ticket, conn }]);
    assert_eq!(h.pool.metrics().last_ping_rtt, Some(Duration::from_millis(3)));
}

#[test]
fn an_unanswered_check_closes_the_connection_and_replaces_it() {
    let mut h = Harness::new(PoolConfig {
        check_after_idle: Some(Duration::from_secs(10)),
        check_timeout: Duration::from_secs(2),
        ..config()
    });
    let a = origin("http://a/");
    let conn = h.open(&a, 10);
    h.pool.stream_finished(conn, h.now);
    h.advance(Duration::from_secs(10));
    let ticket = h.wait(&a);
    assert_eq!(h.actions(), [Action::Ping { conn }]);
    h.advance(Duration::from_secs(2));
    let actions = h.actions();
    let [
        Action::Close { conn: closed, reason: CloseReason::PingTimeout },
        Action::Connect { conn: new, .. },
    ] = actions.as_slice()
    else {
        panic!("{actions:?}")
    };
    assert_eq!(*closed, conn);
    h.pool.connected(*new, 10, h.now);
    assert_eq!(h.actions(), [Action::Assign { ticket, conn: *new }]);
}

#[test]
fn a_connection_closed_by_the_peer_is_forgotten_and_replaced_for_waiters() {
    let mut h = Harness::new(PoolConfig { max_connections_per_origin: 1, ..config() });
    let a = origin("http://a/");
    let conn = h.open(&a, 1);
    let ticket = h.wait(&a);
    h.pool.closed(conn, CloseReason::PeerClosed, h.now);
    let new = h.expect_connect();
    h.pool.stream_finished(conn, h.now); // late: ignored
    h.pool.connected(new, 1, h.now);
    assert_eq!(h.actions(), [Action::Assign { ticket, conn: new }]);
    assert_eq!(h.pool.metrics().closed_by(CloseReason::PeerClosed), 1);
}

#[test]
fn a_failed_connect_fails_its_waiters_and_backs_off() {
    let mut h = Harness::new(config());
    let a = origin("http://a/");
    let t1 = h.wait(&a);
    let t2 = h.wait(&a);
    let conn = h.expect_connect();
    h.pool.connect_failed(conn, h.now);
    let error = CheckoutError::ConnectFailed { conn };
    assert_eq!(
        h.actions(),
        [Action::Fail { ticket: t1, error }, Action::Fail { ticket: t2, error }]
    );
    // The next request waits for the backoff (first failure: 50..=100 ms) to connect.
    let t3 = h.wait(&a);
    assert_eq!(h.actions(), []);
    let due = h.pool.poll_timeout().unwrap();
    let delay = due - h.now;
    assert!(delay >= Duration::from_millis(50) && delay <= Duration::from_millis(100), "{delay:?}");
    h.advance(delay);
    let conn = h.expect_connect();
    h.pool.connected(conn, 10, h.now);
    assert_eq!(h.actions(), [Action::Assign { ticket: t3, conn }]);
    assert_eq!(h.pool.metrics().connect_failures, 1);
}

#[test]
fn backoff_grows_with_consecutive_failures() {
    let mut h = Harness::new(PoolConfig {
        breaker: BreakerConfig { failure_threshold: 0, ..Default::default() },
        ..config()
    });
    let a = origin("http://a/");
    let mut delays = Vec::new();
    h.wait(&a);
    for _ in 0..5 {
        let conn = h.expect_connect();
        h.pool.connect_failed(conn, h.now);
        h.actions();
        let delay = h.pool.poll_timeout().unwrap() - h.now;
        delays.push(delay);
        h.wait(&a);
        h.advance(delay);
    }
    let backoff = Backoff::default();
    for (n, delay) in delays.iter().enumerate() {
        let ceiling = backoff.ceiling(n as u32 + 1);
        assert!(*delay >= ceiling / 2 && *delay <= ceiling, "failure {}: {delay:?}", n + 1);
    }
    assert!(delays[4] > delays[0] * 4, "grows: {delays:?}");
}

#[test]
fn a_failed_connect_keeps_waiters_when_another_connection_will_serve_them() {
    let mut h = Harness::new(config());
    let a = origin("http://a/");
    let first = h.open(&a, 1);
    let ticket = h.wait(&a);
    let second = h.expect_connect();
    h.pool.connect_failed(second, h.now);
    assert_eq!(h.actions(), []);
    h.pool.stream_finished(first, h.now);
    assert_eq!(h.actions(), [Action::Assign { ticket, conn: first }]);
}

fn fail_connects(h: &mut Harness, origin: &Origin, n: usize) -> Vec<Action> {
    let mut last = Vec::new();
    for _ in 0..n {
        let ticket = h.wait(origin);
        let conn = h.expect_connect();
        h.pool.connect_failed(conn, h.now);
        last = h.actions();
        assert!(matches!(last.as_slice(), [Action::Fail { ticket: t, .. }] if *t == ticket));
        // past any backoff
        h.advance(Duration::from_secs(20));
    }
    last
}

#[test]
fn the_breaker_opens_fails_fast_half_opens_and_closes() {
    let breaker = BreakerConfig { failure_threshold: 3, cool_down: Duration::from_secs(30) };
    let mut h = Harness::new(PoolConfig { breaker, ..config() });
    let a = origin("http://a/");
    let last = fail_connects(&mut h, &a, 3);
    assert!(
        matches!(last[0], Action::Fail { error: CheckoutError::ConnectFailed { .. }, .. }),
        "the request that waited for the connect learns why it failed"
    );
    assert!(matches!(h.pool.breaker_state(&a), Some(BreakerState::Open { .. })));
    // Open: fails fast, nothing is dialed.
    assert_eq!(
        h.checkout(&a),
        Err(CheckoutError::BreakerOpen { retry_after: Duration::from_secs(10) })
    );
    assert_eq!(h.actions(), []);
    // After the cool-down: one probe; others wait for it.
    h.advance(Duration::from_secs(10));
    let probe_waiter = h.wait(&a);
    let probe = h.expect_connect();
    let other = h.wait(&a);
    assert_eq!(h.actions(), [], "only one probe");
    assert_eq!(h.pool.breaker_state(&a), Some(BreakerState::HalfOpen { probing: true }));
    h.pool.connected(probe, 10, h.now);
    assert_eq!(
        h.actions(),
        [
            Action::Assign { ticket: probe_waiter, conn: probe },
            Action::Assign { ticket: other, conn: probe }
        ]
    );
    assert_eq!(h.pool.breaker_state(&a), Some(BreakerState::Closed));
    let m = h.pool.metrics();
    assert_eq!((m.breaker_opened, m.breaker_half_opened, m.breaker_closed), (1, 1, 1));
    assert_eq!(m.breaker_rejections, 1);
}

#[test]
fn a_failed_probe_opens_the_breaker_again() {
    let breaker = BreakerConfig { failure_threshold: 2, cool_down: Duration::from_secs(30) };
    let mut h = Harness::new(PoolConfig { breaker, ..config() });
    let a = origin("http://a/");
    fail_connects(&mut h, &a, 2);
    h.advance(Duration::from_secs(30));
    let ticket = h.wait(&a);
    let probe = h.expect_connect();
    h.pool.connect_failed(probe, h.now);
    let retry_after = Duration::from_secs(30);
    assert_eq!(
        h.actions(),
        [Action::Fail { ticket, error: CheckoutError::ConnectFailed { conn: probe } }]
    );
    assert_eq!(h.checkout(&a), Err(CheckoutError::BreakerOpen { retry_after }));
    assert_eq!(h.pool.metrics().breaker_opened, 2);
}

#[test]
fn a_connection_closed_while_connecting_is_a_failed_connect() {
    let breaker = BreakerConfig { failure_threshold: 1, cool_down: Duration::from_secs(5) };
    let mut h = Harness::new(PoolConfig { breaker, ..config() });
    let a = origin("http://a/");
    let ticket = h.wait(&a);
    let conn = h.expect_connect();
    h.pool.closed(conn, CloseReason::PeerClosed, h.now);
    assert_eq!(
        h.actions(),
        [Action::Fail { ticket, error: CheckoutError::ConnectFailed { conn } }]
    );
    let retry_after = Duration::from_secs(5);
    assert_eq!(h.checkout(&a), Err(CheckoutError::BreakerOpen { retry_after }));
}

#[test]
fn origins_are_bounded() {
    let mut h = Harness::new(PoolConfig { max_origins: 2, ..config() });
    h.open(&origin("http://a/"), 1);
    h.open(&origin("http://b/"), 1);
    assert_eq!(h.checkout(&origin("http://c/")), Err(CheckoutError::TooManyOrigins));
}

#[test]
fn a_quiet_origin_is_forgotten() {
    let mut h = Harness::new(config());
    let a = origin("http://a/");
    let conn = h.open(&a, 1);
    h.pool.stream_finished(conn, h.now);
    h.advance(Duration::from_secs(30));
    h.actions();
    assert_eq!(h.pool.breaker_state(&a), None, "no connection, no waiter, no failure");
}

// ---- limits the adapter cannot see: guessed, learned, probed --------------------------

/// An adapter whose handle does not tell the peer's SETTINGS (RFC 9113 §6.5.2) connects
/// with a guess; a connection that says it is full teaches the pool the real limit, and
/// the next connection to the origin starts from it.
#[test]
fn a_busy_connection_teaches_its_limit_to_the_next_connection() {
    let mut h = Harness::new(PoolConfig { max_connections_per_origin: 3, ..config() });
    let a = origin("http://a/");
    let t1 = h.wait(&a);
    let first = h.expect_connect();
    h.pool.connected_assuming(first, 100, h.now);
    assert_eq!(h.actions(), [Action::Assign { ticket: t1, conn: first }]);
    for _ in 0..2 {
        assert_eq!(h.checkout(&a), Ok(Checkout::Use(first)));
    }
    // The third stream was refused by the connection: two is its limit.
    h.pool.busy(first, h.now);
    h.pool.stream_finished(first, h.now);
    assert_eq!(
        h.pool.connection_state(first),
        Some(ConnectionState::Ready { max_streams: 2, in_flight: 2 })
    );
    let ticket = h.wait(&a);
    let second = h.expect_connect();
    h.pool.connected_assuming(second, 100, h.now);
    assert_eq!(h.actions(), [Action::Assign { ticket, conn: second }]);
    assert_eq!(
        h.pool.connection_state(second),
        Some(ConnectionState::Ready { max_streams: 2, in_flight: 1 }),
        "starts from the learned limit, not the guess: no burst for the peer to refuse"
    );
}

#[test]
fn a_learned_limit_is_probed_one_higher_after_the_interval() {
    let mut h = Harness::new(PoolConfig {
        max_connections_per_origin: 1,
        limit_probe_interval: Duration::from_secs(1),
        ..config()
    });
    let a = origin("http://a/");
    let conn = h.open(&a, 100);
    assert_eq!(h.checkout(&a), Ok(Checkout::Use(conn)));
    h.pool.busy(conn, h.now);
    h.pool.stream_finished(conn, h.now);
    h.wait(&a);
    assert_eq!(h.actions(), [], "full at the learned limit of 1, no probe yet");
    h.now += Duration::from_secs(1);
    assert_eq!(h.checkout(&a), Ok(Checkout::Use(conn)), "probed: one stream more");
    assert_eq!(
        h.pool.connection_state(conn),
        Some(ConnectionState::Ready { max_streams: 2, in_flight: 2 })
    );
}

#[test]
fn a_limit_from_settings_is_never_probed() {
    let mut h = Harness::new(PoolConfig { max_connections_per_origin: 1, ..config() });
    let a = origin("http://a/");
    let conn = h.open(&a, 1);
    h.now += Duration::from_secs(60);
    h.wait(&a);
    assert_eq!(
        h.pool.connection_state(conn),
        Some(ConnectionState::Ready { max_streams: 1, in_flight: 1 })
    );
}

#[test]
fn a_refusal_alone_says_nothing_about_the_limit() {
    let mut h = Harness::new(config());
    let a = origin("http://a/");
    let t = h.wait(&a);
    let conn = h.expect_connect();
    h.pool.connected_assuming(conn, 100, h.now);
    assert_eq!(h.actions(), [Action::Assign { ticket: t, conn }]);
    h.pool.refused(conn, h.now);
    assert_eq!(
        h.pool.connection_state(conn),
        Some(ConnectionState::Ready { max_streams: 100, in_flight: 1 })
    );
    // With others in flight it reads as a burst above the peer's limit.
    for _ in 0..3 {
        h.checkout(&a).unwrap();
    }
    h.pool.refused(conn, h.now);
    assert_eq!(
        h.pool.connection_state(conn),
        Some(ConnectionState::Ready { max_streams: 3, in_flight: 4 })
    );
}

// ---- RFC 9113 §8.7: retry verdicts ------------------------------------------------------

const REPLAYABLE: bool = true;

#[test]
fn refused_stream_is_retried() {
    let failure = Failure::classify(Some(StreamId(1)), Some(ErrorCode::REFUSED_STREAM), None);
    assert_eq!(failure, Failure::NotProcessed(NotProcessed::Refused));
    assert_eq!(RetryPolicy::default().verdict(failure, REPLAYABLE, 0), Verdict::Retry);
}

#[test]
fn a_stream_above_goaways_last_stream_id_is_retried() {
    let failure = Failure::classify(Some(StreamId(7)), None, Some(StreamId(5)));
    assert_eq!(failure, Failure::NotProcessed(NotProcessed::AboveGoAway));
    assert_eq!(RetryPolicy::default().verdict(failure, REPLAYABLE, 0), Verdict::Retry);
    // Any error code in the GOAWAY: the guarantee is the stream id.
    let reset = Failure::classify(Some(StreamId(7)), Some(ErrorCode::CANCEL), Some(StreamId(5)));
    assert_eq!(reset, Failure::NotProcessed(NotProcessed::AboveGoAway));
}

#[test]
fn a_stream_at_or_below_last_stream_id_may_have_been_processed() {
    for id in [3, 5] {
        let failure = Failure::classify(Some(StreamId(id)), None, Some(StreamId(5)));
        assert_eq!(failure, Failure::MayHaveBeenProcessed);
        let verdict = RetryPolicy::default().verdict(failure, REPLAYABLE, 0);
        assert_eq!(verdict, Verdict::NotSafe);
        assert!(!verdict.is_safe_to_retry());
    }
}

#[test]
fn a_request_that_never_left_is_retried() {
    let failure = Failure::classify(None, None, None);
    assert_eq!(failure, Failure::NotProcessed(NotProcessed::NotSent));
    assert_eq!(RetryPolicy::default().verdict(failure, REPLAYABLE, 2), Verdict::Retry);
}

#[test]
fn other_resets_and_lost_connections_are_never_retried() {
    for code in [ErrorCode::INTERNAL_ERROR, ErrorCode::CANCEL, ErrorCode::PROTOCOL_ERROR] {
        let failure = Failure::classify(Some(StreamId(1)), Some(code), None);
        assert_eq!(RetryPolicy::default().verdict(failure, REPLAYABLE, 0), Verdict::NotSafe);
    }
    // The connection dropped after the request was sent, without GOAWAY.
    let failure = Failure::classify(Some(StreamId(1)), None, None);
    assert_eq!(RetryPolicy::default().verdict(failure, REPLAYABLE, 0), Verdict::NotSafe);
}

#[test]
fn safe_but_not_replayable_is_surfaced_as_such() {
    let failure = Failure::NotProcessed(NotProcessed::Refused);
    let verdict = RetryPolicy::default().verdict(failure, false, 0);
    assert_eq!(verdict, Verdict::SafeButNotReplayable);
    assert!(verdict.is_safe_to_retry());
}

#[test]
fn retries_are_bounded() {
    let policy = RetryPolicy { max_retries: 2 };
    let failure = Failure::NotProcessed(NotProcessed::Refused);
    assert_eq!(policy.verdict(failure, REPLAYABLE, 1), Verdict::Retry);
    assert_eq!(policy.verdict(failure, REPLAYABLE, 2), Verdict::SafeButAttemptsExhausted);
}

// ---- invariants under any sequence of events --------------------------------------------

#[derive(Clone, Debug)]
enum Op {
    Checkout(u8),
    Cancel(u8),
    Connected(u8, u32),
    ConnectFailed(u8),
    Finished(u8),
    GoAway(u8),
    Closed(u8),
    Settings(u8, u32),
    Ping(u8),
    Busy(u8),
    Advance(u16),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..3u8).prop_map(Op::Checkout),
        1 => any::<u8>().prop_map(Op::Cancel),
        2 => (any::<u8>(), 0..4u32).prop_map(|(c, n)| Op::Connected(c, n)),
        1 => any::<u8>().prop_map(Op::ConnectFailed),
        4 => any::<u8>().prop_map(Op::Finished),
        1 => any::<u8>().prop_map(Op::GoAway),
        1 => any::<u8>().prop_map(Op::Closed),
        1 => (any::<u8>(), 0..4u32).prop_map(|(c, n)| Op::Settings(c, n)),
        1 => any::<u8>().prop_map(Op::Ping),
        1 => any::<u8>().prop_map(Op::Busy),
        2 => (0..20_000u16).prop_map(Op::Advance),
    ]
}

proptest! {
    #[test]
    fn bounds_hold_under_any_sequence(ops in proptest::collection::vec(op(), 1..200)) {
        let config = PoolConfig {
            max_connections_per_origin: 2,
            max_connections: 3,
            max_waiters_per_origin: 4,
            check_after_idle: Some(Duration::from_secs(5)),
            check_timeout: Duration::from_secs(1),
            idle_timeout: Some(Duration::from_secs(15)),
            breaker: BreakerConfig { failure_threshold: 3, cool_down: Duration::from_secs(4) },
            ..PoolConfig::default()
        };
        let origins = [origin("http://a/"), origin("http://b/"), origin("https://c/")];
        let mut h = Harness::new(config);
        let mut conns: Vec<ConnId> = Vec::new();
        let mut tickets: Vec<Ticket> = Vec::new();
        let mut granted: Vec<ConnId> = Vec::new();
        let pick = |list: &[ConnId], i: u8| list.get(i as usize % list.len().max(1)).copied();
        for op in ops {
            match op {
                Op::Checkout(o) => match h.checkout(&origins[o as usize]) {
                    Ok(Checkout::Wait(t)) => tickets.push(t),
                    Ok(Checkout::Use(c)) => granted.push(c),
                    Err(_) => {}
                },
                Op::Cancel(i) => {
                    if let Some(&t) = tickets.get(i as usize % tickets.len().max(1)) {
                        h.pool.cancel(t);
                    }
                }
                Op::Connected(i, n) => if let Some(c) = pick(&conns, i) { h.pool.connected(c, n, h.now) },
                Op::ConnectFailed(i) => if let Some(c) = pick(&conns, i) { h.pool.connect_failed(c, h.now) },
                Op::Finished(i) => if let Some(c) = pick(&conns, i) { h.pool.stream_finished(c, h.now) },
                Op::GoAway(i) => if let Some(c) = pick(&conns, i) { h.pool.go_away(c) },
                Op::Closed(i) => if let Some(c) = pick(&conns, i) { h.pool.closed(c, CloseReason::Error, h.now) },
                Op::Settings(i, n) => if let Some(c) = pick(&conns, i) { h.pool.settings_changed(c, n, h.now) },
                Op::Ping(i) => if let Some(c) = pick(&conns, i) { h.pool.ping_acked(c, Duration::from_millis(1), h.now) },
                Op::Busy(i) => if let Some(c) = pick(&conns, i) { h.pool.busy(c, h.now) },
                Op::Advance(ms) => h.advance(Duration::from_millis(ms.into())),
            }
            for action in h.actions() {
                match action {
                    Action::Connect { conn, .. } => conns.push(conn),
                    Action::Assign { conn, .. } => granted.push(conn),
                    _ => {}
                }
            }
            // A stream is given only within the connection's limit at that moment.
            for c in granted.drain(..) {
                if let Some(ConnectionState::Ready { max_streams, in_flight }) =
                    h.pool.connection_state(c)
                {
                    prop_assert!(in_flight <= max_streams, "granted above the limit");
                }
            }
            conns.retain(|c| h.pool.connection_state(*c).is_some());
            prop_assert!(h.pool.len() <= 3, "total bound");
            let mut waiting = 0;
            for o in &origins {
                let live = h.pool.connections(o).into_iter().filter(|c| {
                    !matches!(h.pool.connection_state(*c), Some(ConnectionState::Draining { .. }))
                });
                prop_assert!(live.count() <= 2, "per-origin bound (draining ones aside)");
                prop_assert!(h.pool.waiting(o) <= 4, "queue bound");
                waiting += h.pool.waiting(o);
                for c in h.pool.connections(o) {
                    if let Some(ConnectionState::Ready { max_streams, in_flight }) =
                        h.pool.connection_state(c)
                    {
                        prop_assert!(
                            h.pool.waiting(o) == 0 || in_flight >= max_streams,
                            "nobody waits while a ready connection has a free stream"
                        );
                    }
                }
            }
            prop_assert_eq!(h.pool.metrics().waiting as usize, waiting);
            prop_assert_eq!(h.pool.metrics().open_connections as usize, h.pool.len());
        }
    }
}
