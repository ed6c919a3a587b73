//! The client pool's policy: a sans-IO state machine over many connections.
//!
//! Which connection takes a request, when to open another, when to drain, check or close
//! one, who waits and in what order, when a failed request may be sent again, how long to
//! back off after a failed connect and when to stop trying for a while (the circuit
//! breaker): these are decisions, not IO, so they live here, in the core, next to the
//! protocol they follow (RFC 9113 §8.7 for retries, §6.8 for GOAWAY, §5.1.1 for stream ids,
//! §6.5.2 for SETTINGS_MAX_CONCURRENT_STREAMS). Three reasons:
//!
//! - every adapter gets the same behaviour: the tokio `Client`, the blocking client and the
//!   mio client drive this one machine with their own sockets and clocks;
//! - it is deterministic: time enters only as an argument (`now`), randomness (backoff
//!   jitter) only as a seed, so tests run every case with a fake clock, no socket, no sleep;
//! - it does no IO, so it cannot block, and a bug in it shows as a wrong [`Action`], which a
//!   test can see.
//!
//! The pool knows connections only by the [`ConnId`]s it hands out and requests only by
//! [`Ticket`]s; the caller maps them to its own handles.
//!
//! # Driving a [`Pool`]
//!
//! In the manner of quinn-proto's `Connection`, methods come in four groups:
//!
//! - getters (`&self`): [`Pool::metrics`], [`Pool::connection_state`],
//!   [`Pool::connections`], [`Pool::waiting`], [`Pool::breaker_state`];
//! - commands from the application: [`Pool::checkout`] (returns at once: use a connection,
//!   wait with a ticket, or a [`CheckoutError`]), [`Pool::cancel`], [`Pool::count_retry`];
//! - events from connections and the clock: [`Pool::connected`] (or
//!   [`Pool::connected_assuming`] when the adapter cannot see the peer's SETTINGS),
//!   [`Pool::connect_failed`], [`Pool::settings_changed`], [`Pool::busy`],
//!   [`Pool::refused`], [`Pool::stream_finished`],
//!   [`Pool::go_away`], [`Pool::stream_ids_exhausted`], [`Pool::closed`],
//!   [`Pool::ping_acked`], and [`Pool::handle_timeout`] when [`Pool::poll_timeout`] is due;
//! - output: after each of the above, take [`Pool::poll_action`] until `None` and do what
//!   it says: open a connection, hand a waiting request its connection, fail it, PING a
//!   connection before reuse, close one.
//!
//! ```
//! use h2proto::pool::{Action, Checkout, Origin, Pool, PoolConfig};
//! use std::time::Instant;
//!
//! let mut pool = Pool::new(PoolConfig::default(), 7);
//! let origin = Origin::from_uri(&"http://127.0.0.1:8080/".parse().unwrap()).unwrap();
//! let now = Instant::now();
//!
//! // The first request waits; the pool asks for a connection.
//! let Ok(Checkout::Wait(ticket)) = pool.checkout(&origin, now) else { panic!() };
//! let Some(Action::Connect { conn, .. }) = pool.poll_action() else { panic!() };
//!
//! // Connected: the server allows 100 streams. The waiting request gets the connection,
//! // the next request uses it at once.
//! pool.connected(conn, 100, now);
//! assert_eq!(pool.poll_action(), Some(Action::Assign { ticket, conn }));
//! assert_eq!(pool.checkout(&origin, now), Ok(Checkout::Use(conn)));
//! pool.stream_finished(conn, now);
//! pool.stream_finished(conn, now);
//! ```
//!
//! # What it decides
//!
//! - A request uses the oldest ready connection of its origin with a free stream (below
//!   the peer's MAX_CONCURRENT_STREAMS). With none, it waits in the origin's queue
//!   (bounded: full is [`CheckoutError::QueueFull`]), and a connection is opened if none is
//!   already on its way, within the per-origin and total bounds. At the total bound the
//!   least recently used idle connection is closed to make room. Waiters are served in
//!   order as streams free up and connections come up.
//! - An adapter that cannot see the peer's SETTINGS_MAX_CONCURRENT_STREAMS reports what
//!   it sees instead: a connection that says it is full, or a burst the peer refused. The
//!   pool learns the limit from that, starts the origin's next connections from it (so
//!   they are not sent a burst to refuse), and probes one stream higher now and then.
//! - A connection that received GOAWAY or ran out of stream ids drains: no new request,
//!   closed once its streams end, replaced if requests wait.
//! - Idle connections close after [`PoolConfig::idle_timeout`]; one idle longer than
//!   [`PoolConfig::check_after_idle`] is PINGed before it takes a request (§8.7).
//! - A failed connect backs off ([`Backoff`], exponential with jitter) and counts toward the
//!   origin's [`Breaker`]; an open breaker fails requests fast.
//! - Retries: [`Failure::classify`] and [`RetryPolicy::verdict`] say whether a failed
//!   request may be sent again (only what §8.7 guarantees was not processed, with a
//!   replayable body, a bounded number of times).

mod backoff;
mod breaker;
mod config;
mod metrics;
mod origin;
mod retry;
mod state;

pub use backoff::Backoff;
pub use breaker::{Breaker, BreakerConfig, BreakerState, Transition};
pub use config::PoolConfig;
pub use metrics::{CloseReason, PoolMetrics};
pub use origin::{Origin, OriginError, Scheme};
pub use retry::{Failure, NotProcessed, RetryPolicy, Verdict};
pub use state::{Action, Checkout, CheckoutError, ConnId, ConnectionState, Pool, Ticket};
