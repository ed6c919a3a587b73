//! The pool's state machine: which connection takes a request, when to open, drain, check
//! and close connections, and who waits. See the [module docs](super) for how to drive it.

use super::breaker::{Breaker, Transition};
use super::metrics::{CloseReason, PoolMetrics};
use super::{Origin, PoolConfig};
use crate::streams::IdKeyed;
use std::collections::{BTreeSet, HashMap, VecDeque};
use std::time::{Duration, Instant};

/// A connection of the pool. The pool picks the ids; the caller maps them to its handles.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnId(pub u64);

/// A request waiting in the pool's queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ticket(pub u64);

/// A successful checkout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Checkout {
    /// Send the request on this connection now; call [`Pool::stream_finished`] when its
    /// stream ends.
    Use(ConnId),
    /// Wait: an [`Action::Assign`] (or [`Action::Fail`]) for this ticket comes later.
    Wait(Ticket),
}

/// Why a request gets no connection. None of these sent anything: retrying later is safe.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckoutError {
    /// The origin's queue is full ([`PoolConfig::max_waiters_per_origin`]).
    QueueFull,
    /// The origin's circuit breaker is open; a probe is allowed after `retry_after`.
    BreakerOpen {
        /// Time left until the breaker lets a probe through.
        retry_after: Duration,
    },
    /// The connect the request waited for failed, and the origin has no other connection.
    ConnectFailed {
        /// The connection that failed (the caller knows its error).
        conn: ConnId,
    },
    /// [`PoolConfig::max_origins`] origins are busy.
    TooManyOrigins,
}

impl std::fmt::Display for CheckoutError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CheckoutError::QueueFull => f.write_str("the pool's queue for this origin is full"),
            CheckoutError::BreakerOpen { retry_after } => {
                write!(f, "circuit breaker open for this origin (probe in {retry_after:?})")
            }
            CheckoutError::ConnectFailed { conn } => write!(f, "connect failed ({conn:?})"),
            CheckoutError::TooManyOrigins => f.write_str("too many origins in the pool"),
        }
    }
}

impl std::error::Error for CheckoutError {}

/// What the caller must do, taken with [`Pool::poll_action`] after every call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Open connection `conn` to `origin`; report [`Pool::connected`] or
    /// [`Pool::connect_failed`].
    Connect {
        /// The new connection's id.
        conn: ConnId,
        /// Where to.
        origin: Origin,
    },
    /// The waiting request `ticket` goes on `conn` (its stream is already counted).
    Assign {
        /// The request.
        ticket: Ticket,
        /// Its connection.
        conn: ConnId,
    },
    /// The waiting request `ticket` gets no connection.
    Fail {
        /// The request.
        ticket: Ticket,
        /// Why.
        error: CheckoutError,
    },
    /// Send a PING on `conn` and report [`Pool::ping_acked`]; the pool closes it if no
    /// answer comes within [`PoolConfig::check_timeout`].
    Ping {
        /// The connection to check.
        conn: ConnId,
    },
    /// Close `conn` (gracefully: its streams, if any, are done) and forget it.
    Close {
        /// The connection.
        conn: ConnId,
        /// Why.
        reason: CloseReason,
    },
}

/// What the pool knows about a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnectionState {
    /// Being opened (TCP, TLS, HTTP/2 preface).
    Connecting,
    /// Taking requests up to the peer's limit.
    Ready {
        /// The peer's SETTINGS_MAX_CONCURRENT_STREAMS.
        max_streams: u32,
        /// Streams open now.
        in_flight: u32,
    },
    /// Idle for long: a PING is out before it takes requests again.
    Checking,
    /// Takes no new requests (GOAWAY, stream ids exhausted); closes when its streams end.
    Draining {
        /// Streams still open.
        in_flight: u32,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Connecting,
    Ready,
    Checking { deadline: Instant },
    Draining(CloseReason),
}

#[derive(Debug)]
struct Conn {
    origin: usize,
    state: State,
    max_streams: u32,
    in_flight: u32,
    /// `Some` exactly when the connection is in the idle set.
    idle_since: Option<Instant>,
    /// The limit is the pool's guess (assumed at connect, or learned from a refusal), not
    /// the peer's SETTINGS; `probe_at` is when one more stream may be tried above it.
    guessed: bool,
    probe_at: Option<Instant>,
}

#[derive(Debug)]
struct OriginState {
    origin: Origin,
    conns: Vec<ConnId>,
    waiters: VecDeque<Ticket>,
    breaker: Breaker,
    backoff_until: Option<Instant>,
    starved: bool,
    /// The limit last learned from a refusal on a connection to this origin: where a new
    /// connection whose limit is not known yet starts.
    learned_limit: Option<u32>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Deadline {
    Backoff(usize),
    Check(ConnId),
}

/// Waiters a connection on its way is expected to serve, before its peer's limit is known.
const EXPECTED_STREAMS: u32 = 100;

/// The pool's state machine. See the [module docs](super).
#[derive(Debug)]
pub struct Pool {
    config: PoolConfig,
    origins: Vec<Option<OriginState>>,
    free_slots: Vec<usize>,
    /// SipHash for the origins (names from the application, maybe from its users); the
    /// ids the pool numbers itself hash with one multiplication (`IdKeyed`): a checkout
    /// looks them up a dozen times.
    index: HashMap<Origin, usize>,
    conns: IdKeyed<ConnId, Conn>,
    /// Idle connections by the time they became idle: the first is the least recently
    /// used (evicted first) and the first to reach the idle timeout.
    idle: BTreeSet<(Instant, ConnId)>,
    deadlines: BTreeSet<(Instant, Deadline)>,
    /// Origins with waiters that could not open a connection for the total bound.
    starved: VecDeque<usize>,
    tickets: IdKeyed<Ticket, usize>,
    actions: VecDeque<Action>,
    next_id: u64,
    rng: u64,
    metrics: PoolMetrics,
}

impl Pool {
    /// An empty pool. `seed` drives the backoff jitter (any value; the same seed gives the
    /// same delays).
    pub fn new(config: PoolConfig, seed: u64) -> Pool {
        Pool {
            config,
            origins: Vec::new(),
            free_slots: Vec::new(),
            index: HashMap::new(),
            conns: IdKeyed::default(),
            idle: BTreeSet::new(),
            deadlines: BTreeSet::new(),
            starved: VecDeque::new(),
            tickets: IdKeyed::default(),
            actions: VecDeque::new(),
            next_id: 0,
            rng: seed,
            metrics: PoolMetrics::default(),
        }
    }

    // ---- getters -------------------------------------------------------------------

    /// The configuration.
    pub fn config(&self) -> &PoolConfig {
        &self.config
    }

    /// A snapshot of the counters.
    pub fn metrics(&self) -> PoolMetrics {
        self.metrics
    }

    /// What the pool knows about `conn` (`None`: not in the pool).
    pub fn connection_state(&self, conn: ConnId) -> Option<ConnectionState> {
        let c = self.conns.get(&conn)?;
        Some(match c.state {
            State::Connecting => ConnectionState::Connecting,
            State::Ready => {
                ConnectionState::Ready { max_streams: c.max_streams, in_flight: c.in_flight }
            }
            State::Checking { .. } => ConnectionState::Checking,
            State::Draining(_) => ConnectionState::Draining { in_flight: c.in_flight },
        })
    }

    /// The connections of `origin`, oldest first.
    pub fn connections(&self, origin: &Origin) -> Vec<ConnId> {
        self.origin_state(origin).map(|o| o.conns.clone()).unwrap_or_default()
    }

    /// Requests waiting for `origin`.
    pub fn waiting(&self, origin: &Origin) -> usize {
        self.origin_state(origin).map_or(0, |o| o.waiters.len())
    }

    /// Connections in the pool (connecting ones included).
    pub fn len(&self) -> usize {
        self.conns.len()
    }

    /// Whether the pool has no connection.
    pub fn is_empty(&self) -> bool {
        self.conns.is_empty()
    }

    /// The origin's breaker state, if the pool remembers the origin.
    pub fn breaker_state(&self, origin: &Origin) -> Option<super::BreakerState> {
        self.origin_state(origin).map(|o| o.breaker.state())
    }

    fn origin_state(&self, origin: &Origin) -> Option<&OriginState> {
        self.origins[*self.index.get(origin)?].as_ref()
    }

    // ---- commands ------------------------------------------------------------------

    /// A request for `origin` at `now`: use a connection, or wait (and maybe a connect
    /// starts: see [`poll_action`](Self::poll_action)), or fail fast.
    pub fn checkout(&mut self, origin: &Origin, now: Instant) -> Result<Checkout, CheckoutError> {
        let o = self.slot_for(origin)?;
        let (admit, transition) = self.origin_mut(o).breaker.admit(now);
        self.count_transition(transition);
        if let Err(retry_after) = admit {
            self.metrics.breaker_rejections += 1;
            return Err(CheckoutError::BreakerOpen { retry_after });
        }
        if let Some(conn) = self.find_free(o, now) {
            self.take_stream(conn);
            self.metrics.hits += 1;
            return Ok(Checkout::Use(conn));
        }
        if let Some(conn) = self.probe(o, now) {
            self.take_stream(conn);
            self.metrics.hits += 1;
            return Ok(Checkout::Use(conn));
        }
        self.metrics.misses += 1;
        if self.origin_mut(o).waiters.len() >= self.config.max_waiters_per_origin {
            self.metrics.queue_full += 1;
            self.maybe_forget(o);
            return Err(CheckoutError::QueueFull);
        }
        let ticket = Ticket(self.fresh_id());
        self.origin_mut(o).waiters.push_back(ticket);
        self.tickets.insert(ticket, o);
        self.metrics.waits += 1;
        self.metrics.waiting += 1;
        self.grow(o);
        Ok(Checkout::Wait(ticket))
    }

    /// A waiting request gave up (timed out, dropped). Returns `false` if the ticket is not
    /// waiting any more (an `Assign` or `Fail` for it may be pending in the actions: an
    /// assigned stream must still be given back with [`stream_finished`](Self::stream_finished)).
    pub fn cancel(&mut self, ticket: Ticket) -> bool {
        let Some(o) = self.tickets.remove(&ticket) else { return false };
        let waiters = &mut self.origin_mut(o).waiters;
        if let Some(at) = waiters.iter().position(|t| *t == ticket) {
            waiters.remove(at);
            self.metrics.waiting -= 1;
        }
        self.maybe_forget(o);
        true
    }

    /// A request that RFC 9113 §8.7 says was not processed is being sent again (counted in
    /// the metrics; the request then checks out like a new one).
    pub fn count_retry(&mut self) {
        self.metrics.retries += 1;
    }

    // ---- events --------------------------------------------------------------------

    /// `conn` finished its handshake; the peer allows `max_streams` concurrent streams
    /// (its SETTINGS_MAX_CONCURRENT_STREAMS).
    pub fn connected(&mut self, conn: ConnId, max_streams: u32, now: Instant) {
        self.open(conn, Some(max_streams), 0, now);
    }

    /// `conn` is up but its peer's limit is not known yet (its SETTINGS may still be on the
    /// way): the pool starts from the limit last learned on this origin (see
    /// [`busy`](Self::busy)), else from `assumed`.
    pub fn connected_assuming(&mut self, conn: ConnId, assumed: u32, now: Instant) {
        self.open(conn, None, assumed, now);
    }

    fn open(&mut self, conn: ConnId, known: Option<u32>, assumed: u32, now: Instant) {
        let Some(c) = self.conns.get(&conn) else { return };
        if c.state != State::Connecting {
            return;
        }
        let learned =
            self.origins.get(c.origin).and_then(Option::as_ref).and_then(|o| o.learned_limit);
        let Some(c) = self.conns.get_mut(&conn) else { return };
        c.state = State::Ready;
        c.max_streams = known.or(learned).unwrap_or(assumed);
        c.guessed = known.is_none();
        // A limit learned on another connection may be out of date: probe it too.
        c.probe_at = (known.is_none() && learned.is_some())
            .then(|| now.checked_add(self.config.limit_probe_interval))
            .flatten();
        let o = c.origin;
        self.metrics.connected += 1;
        let origin = self.origin_mut(o);
        origin.backoff_until = None;
        let transition = origin.breaker.record_success();
        self.count_transition(transition);
        self.serve(conn, now);
        self.grow(o);
    }

    /// Opening `conn` failed (connect, TLS or HTTP/2 handshake).
    pub fn connect_failed(&mut self, conn: ConnId, now: Instant) {
        let Some(c) = self.forget_conn(conn) else { return };
        let o = c.origin;
        self.metrics.connect_failures += 1;
        let transition = self.origin_mut(o).breaker.record_failure(now);
        self.count_transition(transition);
        let opened = transition == Some(Transition::Opened);
        if !opened {
            // An open breaker sets the pace itself (its cool-down).
            let failures = self.origin_mut(o).breaker.failures();
            let random = self.next_random();
            let until = now.checked_add(self.config.backoff.delay(failures, random)).unwrap_or(now);
            self.origin_mut(o).backoff_until = Some(until);
            self.deadlines.insert((until, Deadline::Backoff(o)));
        }
        // The requests waiting for this connect learn why it failed; later ones meet the
        // open breaker. With another connection on the way or busy, they wait for it.
        if opened || self.origin_mut(o).conns.is_empty() {
            self.fail_waiters(o, CheckoutError::ConnectFailed { conn });
        }
        self.maybe_forget(o);
        self.capacity_freed();
    }

    /// The peer changed SETTINGS_MAX_CONCURRENT_STREAMS on `conn`.
    pub fn settings_changed(&mut self, conn: ConnId, max_streams: u32, now: Instant) {
        let Some(c) = self.conns.get_mut(&conn) else { return };
        c.max_streams = max_streams;
        c.guessed = false;
        c.probe_at = None;
        if c.state == State::Ready {
            self.serve(conn, now);
        }
    }

    /// `conn` could not take the stream the pool gave it (the connection said it is full,
    /// its peer's limit being below the pool's guess): the pool takes the other streams in
    /// flight there as its limit (at least 1, never above the current one), and new connections to the origin start
    /// from it. Call before giving the stream back with
    /// [`stream_finished`](Self::stream_finished). A guessed limit is tried one higher at
    /// most every [`PoolConfig::limit_probe_interval`], so a limit learned too low recovers.
    pub fn busy(&mut self, conn: ConnId, now: Instant) {
        let Some(c) = self.conns.get_mut(&conn) else { return };
        // Only ever lowered here (probes raise it).
        c.max_streams = c.max_streams.min(c.in_flight.saturating_sub(1).max(1));
        c.guessed = true;
        c.probe_at = now.checked_add(self.config.limit_probe_interval);
        let (o, limit) = (c.origin, c.max_streams);
        self.origin_mut(o).learned_limit = Some(limit);
    }

    /// The peer refused a stream on `conn` with REFUSED_STREAM. With other streams in
    /// flight this is read as the peer's limit being below the pool's guess (a burst sent
    /// before its SETTINGS arrived), as [`busy`](Self::busy); alone, it says nothing about
    /// the limit.
    pub fn refused(&mut self, conn: ConnId, now: Instant) {
        if self.conns.get(&conn).is_some_and(|c| c.in_flight > 1 && c.guessed) {
            self.busy(conn, now);
        }
    }

    /// A stream on `conn` ended (response complete, reset, or the request failed).
    pub fn stream_finished(&mut self, conn: ConnId, now: Instant) {
        let Some(c) = self.conns.get_mut(&conn) else { return };
        c.in_flight = c.in_flight.saturating_sub(1);
        match c.state {
            State::Draining(reason) if c.in_flight == 0 => self.close(conn, reason),
            State::Ready => {
                self.serve(conn, now);
                if !self.starved.is_empty() {
                    self.capacity_freed();
                }
            }
            _ => {}
        }
    }

    /// `conn` received GOAWAY: it takes no new request and closes when its streams end;
    /// waiting requests get a replacement.
    pub fn go_away(&mut self, conn: ConnId) {
        self.drain(conn, CloseReason::GoAway);
    }

    /// `conn` ran out of stream ids (RFC 9113 §5.1.1): drained like after a GOAWAY.
    pub fn stream_ids_exhausted(&mut self, conn: ConnId) {
        self.drain(conn, CloseReason::StreamIdsExhausted);
    }

    /// `conn` ended on its own (the peer closed it, an error, a keepalive timeout). If it
    /// was still connecting, this is a failed connect.
    pub fn closed(&mut self, conn: ConnId, reason: CloseReason, now: Instant) {
        let Some(c) = self.conns.get(&conn) else { return };
        if c.state == State::Connecting {
            return self.connect_failed(conn, now);
        }
        let Some(c) = self.forget_conn(conn) else { return };
        self.metrics.count_close(reason);
        self.grow(c.origin);
        self.maybe_forget(c.origin);
        self.capacity_freed();
    }

    /// A PING on `conn` was answered after `rtt`. A connection being checked is ready again.
    pub fn ping_acked(&mut self, conn: ConnId, rtt: Duration, now: Instant) {
        self.rtt_measured(rtt);
        let Some(c) = self.conns.get_mut(&conn) else { return };
        if let State::Checking { deadline } = c.state {
            c.state = State::Ready;
            self.deadlines.remove(&(deadline, Deadline::Check(conn)));
            self.serve(conn, now);
        }
    }

    /// A connection measured a round trip with a PING the pool did not send (a keepalive
    /// PING, say): a sample for the metrics, with no change of state.
    pub fn rtt_measured(&mut self, rtt: Duration) {
        self.metrics.ping_samples += 1;
        self.metrics.last_ping_rtt = Some(rtt);
    }

    /// When [`handle_timeout`](Self::handle_timeout) is next due.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let idle = self
            .config
            .idle_timeout
            .zip(self.idle.first())
            .and_then(|(timeout, (since, _))| since.checked_add(timeout));
        let deadline = self.deadlines.first().map(|(at, _)| *at);
        match (idle, deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Runs the timers due at `now`: idle connections close, backoffs end (a waiting
    /// request's connect starts), unanswered checks close their connection.
    pub fn handle_timeout(&mut self, now: Instant) {
        if let Some(timeout) = self.config.idle_timeout {
            while let Some(&(since, conn)) = self.idle.first() {
                if since.checked_add(timeout).is_some_and(|due| due > now) {
                    break;
                }
                self.close(conn, CloseReason::IdleTimeout);
            }
        }
        while let Some(&(at, deadline)) = self.deadlines.first() {
            if at > now {
                break;
            }
            self.deadlines.pop_first();
            match deadline {
                Deadline::Backoff(o) => {
                    let Some(origin) = self.origins.get_mut(o).and_then(Option::as_mut) else {
                        continue;
                    };
                    if origin.backoff_until == Some(at) {
                        origin.backoff_until = None;
                        self.grow(o);
                        self.maybe_forget(o);
                    }
                }
                Deadline::Check(conn) => {
                    let due = self.conns.get(&conn).map(|c| c.state);
                    if due == Some(State::Checking { deadline: at }) {
                        self.close(conn, CloseReason::PingTimeout);
                    }
                }
            }
        }
    }

    // ---- output --------------------------------------------------------------------

    /// The next thing to do. Call until `None` after every command, event and timeout.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    // ---- internals -----------------------------------------------------------------

    fn origin_mut(&mut self, o: usize) -> &mut OriginState {
        // Slots referenced by connections, tickets and checkouts are always filled: an
        // origin is forgotten only once it has neither connections nor waiters.
        self.origins[o].as_mut().expect("origin slot in use")
    }

    fn fresh_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// splitmix64: small, fast, and good enough for jitter.
    fn next_random(&mut self) -> u64 {
        self.rng = self.rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn count_transition(&mut self, transition: Option<Transition>) {
        match transition {
            Some(Transition::Opened) => self.metrics.breaker_opened += 1,
            Some(Transition::HalfOpened) => self.metrics.breaker_half_opened += 1,
            Some(Transition::Closed) => self.metrics.breaker_closed += 1,
            None => {}
        }
    }

    /// The slot of `origin`, made if new (within `max_origins`).
    fn slot_for(&mut self, origin: &Origin) -> Result<usize, CheckoutError> {
        if let Some(&o) = self.index.get(origin) {
            return Ok(o);
        }
        if self.index.len() >= self.config.max_origins && !self.forget_one_quiet_origin() {
            return Err(CheckoutError::TooManyOrigins);
        }
        let state = OriginState {
            origin: origin.clone(),
            conns: Vec::new(),
            waiters: VecDeque::new(),
            breaker: Breaker::new(self.config.breaker),
            backoff_until: None,
            starved: false,
            learned_limit: None,
        };
        let o = match self.free_slots.pop() {
            Some(o) => {
                self.origins[o] = Some(state);
                o
            }
            None => {
                self.origins.push(Some(state));
                self.origins.len() - 1
            }
        };
        self.index.insert(origin.clone(), o);
        Ok(o)
    }

    /// At the origin bound: forgets an origin with no connection and no waiter (its
    /// breaker and backoff memory goes with it).
    fn forget_one_quiet_origin(&mut self) -> bool {
        let quiet = self
            .origins
            .iter()
            .position(|o| o.as_ref().is_some_and(|o| o.conns.is_empty() && o.waiters.is_empty()));
        match quiet {
            Some(o) => {
                self.remove_origin(o);
                true
            }
            None => false,
        }
    }

    fn maybe_forget(&mut self, o: usize) {
        let origin = self.origin_mut(o);
        if origin.conns.is_empty()
            && origin.waiters.is_empty()
            && origin.breaker.is_pristine()
            && origin.backoff_until.is_none()
        {
            self.remove_origin(o);
        }
    }

    fn remove_origin(&mut self, o: usize) {
        if let Some(state) = self.origins[o].take() {
            self.index.remove(&state.origin);
            if let Some(until) = state.backoff_until {
                self.deadlines.remove(&(until, Deadline::Backoff(o)));
            }
            self.starved.retain(|s| *s != o);
            self.free_slots.push(o);
        }
    }

    /// A ready connection of origin `o` with a free stream, oldest first. One idle past
    /// `check_after_idle` is sent to a check instead.
    fn find_free(&mut self, o: usize, now: Instant) -> Option<ConnId> {
        let check_after = self.config.check_after_idle;
        let mut i = 0;
        while let Some(&conn) = self.origin_mut(o).conns.get(i) {
            i += 1;
            let Some(c) = self.conns.get(&conn) else { continue };
            if c.state != State::Ready || c.in_flight >= c.max_streams {
                continue;
            }
            let stale = c
                .idle_since
                .zip(check_after)
                .is_some_and(|(since, after)| since.checked_add(after).is_none_or(|t| t <= now));
            if stale {
                self.start_check(conn, now);
                continue;
            }
            return Some(conn);
        }
        None
    }

    /// A full ready connection of origin `o` whose limit is only guessed and due for a
    /// probe: its limit is raised by one (a refusal lowers it again).
    fn probe(&mut self, o: usize, now: Instant) -> Option<ConnId> {
        let interval = self.config.limit_probe_interval;
        let conns = &self.origins.get(o)?.as_ref()?.conns;
        let conn = conns.iter().copied().find(|id| {
            self.conns.get(id).is_some_and(|c| {
                // Exactly at the limit (above it, after a refusal, streams must end first).
                c.state == State::Ready
                    && c.guessed
                    && c.in_flight == c.max_streams
                    && c.probe_at.is_some_and(|t| t <= now)
            })
        })?;
        let c = self.conns.get_mut(&conn)?;
        c.max_streams = c.max_streams.saturating_add(1);
        c.probe_at = now.checked_add(interval);
        Some(conn)
    }

    fn start_check(&mut self, conn: ConnId, now: Instant) {
        self.unmark_idle(conn);
        let deadline = now.checked_add(self.config.check_timeout).unwrap_or(now);
        if let Some(c) = self.conns.get_mut(&conn) {
            c.state = State::Checking { deadline };
        }
        self.deadlines.insert((deadline, Deadline::Check(conn)));
        self.actions.push_back(Action::Ping { conn });
    }

    fn take_stream(&mut self, conn: ConnId) {
        self.unmark_idle(conn);
        if let Some(c) = self.conns.get_mut(&conn) {
            c.in_flight += 1;
        }
    }

    fn unmark_idle(&mut self, conn: ConnId) {
        if let Some(c) = self.conns.get_mut(&conn)
            && let Some(since) = c.idle_since.take()
        {
            self.idle.remove(&(since, conn));
        }
    }

    /// Gives free streams of ready `conn` to its origin's waiters, in order; marks it idle
    /// if it is left with no stream.
    fn serve(&mut self, conn: ConnId, now: Instant) {
        let Some(c) = self.conns.get(&conn) else { return };
        let o = c.origin;
        while let Some(c) = self.conns.get(&conn) {
            if c.state != State::Ready || c.in_flight >= c.max_streams {
                break;
            }
            let Some(ticket) = self.origin_mut(o).waiters.pop_front() else { break };
            self.tickets.remove(&ticket);
            self.metrics.waiting -= 1;
            self.take_stream(conn);
            self.actions.push_back(Action::Assign { ticket, conn });
        }
        if let Some(c) = self.conns.get_mut(&conn)
            && c.state == State::Ready
            && c.in_flight == 0
            && c.idle_since.is_none()
        {
            c.idle_since = Some(now);
            self.idle.insert((now, conn));
        }
    }

    /// Opens a connection for origin `o` if requests wait there and nothing else will
    /// serve them: more wait than the connections on their way (connecting or being
    /// checked) will take, no backoff runs, the per-origin and total bounds allow (evicting
    /// the least recently used idle connection if need be), and the breaker lets a connect
    /// (or its probe) go. So a burst of a thousand requests opens its connections at once,
    /// not one after the other.
    fn grow(&mut self, o: usize) {
        let Some(origin) = self.origins.get(o).and_then(Option::as_ref) else { return };
        if origin.waiters.is_empty() || origin.backoff_until.is_some() {
            return;
        }
        if !origin.breaker.can_connect() {
            return;
        }
        let mut on_its_way = 0;
        let mut live = 0;
        for c in &origin.conns {
            match self.conns.get(c).map_or(State::Draining(CloseReason::Error), |c| c.state) {
                State::Connecting | State::Checking { .. } => on_its_way += 1,
                State::Ready => {}
                // Draining connections take no request: they do not count toward the
                // per-origin bound (the total bound still holds them).
                State::Draining(_) => continue,
            }
            live += 1;
        }
        // req 9113-9.1-1
        // One connection per origin as long as it takes the requests; another only for
        // requests that wait because every stream of the origin's connections (and of those
        // on their way) is taken, within max_connections_per_origin (1 keeps to the SHOULD
        // NOT strictly). Replacements (GOAWAY, ids exhausted, errors) are §9.1's own.
        // What a connection on its way will take: the limit learned on this origin, else
        // the least a server should allow (RFC 9113 §6.5.2 recommends at least 100).
        let expected = origin.learned_limit.unwrap_or(EXPECTED_STREAMS) as usize;
        if origin.waiters.len() <= on_its_way * expected
            || live >= self.config.max_connections_per_origin
        {
            return;
        }
        if self.conns.len() >= self.config.max_connections && !self.evict_lru() {
            let origin = self.origin_mut(o);
            if !origin.starved {
                origin.starved = true;
                self.starved.push_back(o);
            }
            return;
        }
        let origin = self.origin_mut(o);
        if !origin.breaker.try_connect() {
            return;
        }
        let conn = ConnId(self.fresh_id());
        let origin = self.origin_mut(o);
        origin.conns.push(conn);
        let action = Action::Connect { conn, origin: origin.origin.clone() };
        self.conns.insert(
            conn,
            Conn {
                origin: o,
                state: State::Connecting,
                max_streams: 0,
                in_flight: 0,
                idle_since: None,
                guessed: false,
                probe_at: None,
            },
        );
        self.metrics.connects += 1;
        self.metrics.open_connections += 1;
        self.actions.push_back(action);
    }

    /// Closes the least recently used idle connection; `false` if none is idle.
    fn evict_lru(&mut self) -> bool {
        let Some(&(_, conn)) = self.idle.first() else { return false };
        if let Some(o) = self.close_quietly(conn, CloseReason::Evicted) {
            self.maybe_forget(o);
        }
        true
    }

    /// Room under the total bound may have appeared: origins starved by it try again.
    fn capacity_freed(&mut self) {
        for _ in 0..self.starved.len() {
            let room = self.conns.len() < self.config.max_connections || !self.idle.is_empty();
            if !room {
                break;
            }
            let Some(o) = self.starved.pop_front() else { break };
            if let Some(origin) = self.origins.get_mut(o).and_then(Option::as_mut) {
                origin.starved = false;
                self.grow(o);
            }
        }
    }

    fn drain(&mut self, conn: ConnId, reason: CloseReason) {
        let Some(c) = self.conns.get_mut(&conn) else { return };
        if matches!(c.state, State::Draining(_)) {
            return;
        }
        let was_connecting = c.state == State::Connecting;
        c.state = State::Draining(reason);
        let (o, in_flight) = (c.origin, c.in_flight);
        self.unmark_idle(conn);
        if was_connecting {
            // It answered, so the origin is up: the handshake counts as a success.
            let transition = self.origin_mut(o).breaker.record_success();
            self.count_transition(transition);
        }
        if in_flight == 0 {
            self.close(conn, reason);
        } else {
            self.grow(o);
        }
    }

    /// The pool closes `conn` itself: the caller is told, and waiters get a replacement.
    fn close(&mut self, conn: ConnId, reason: CloseReason) {
        let Some(o) = self.close_quietly(conn, reason) else { return };
        self.grow(o);
        self.maybe_forget(o);
        self.capacity_freed();
    }

    fn close_quietly(&mut self, conn: ConnId, reason: CloseReason) -> Option<usize> {
        let c = self.forget_conn(conn)?;
        self.metrics.count_close(reason);
        self.actions.push_back(Action::Close { conn, reason });
        Some(c.origin)
    }

    fn forget_conn(&mut self, conn: ConnId) -> Option<Conn> {
        self.unmark_idle(conn);
        let c = self.conns.remove(&conn)?;
        if let State::Checking { deadline } = c.state {
            self.deadlines.remove(&(deadline, Deadline::Check(conn)));
        }
        if c.state == State::Connecting {
            // A probe that ends without a verdict lets the next one go.
            self.origin_mut(c.origin).breaker.probe_abandoned();
        }
        self.origin_mut(c.origin).conns.retain(|x| *x != conn);
        self.metrics.open_connections -= 1;
        Some(c)
    }

    fn fail_waiters(&mut self, o: usize, error: CheckoutError) {
        let waiters = std::mem::take(&mut self.origin_mut(o).waiters);
        for ticket in waiters {
            self.tickets.remove(&ticket);
            self.metrics.waiting -= 1;
            self.actions.push_back(Action::Fail { ticket, error });
        }
    }
}
