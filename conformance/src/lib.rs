//! `h2proto-conformance`: an HTTP/2 conformance runner, h2proto's reference server, and
//! the checkers that go with them.
//!
//! - [`runner`] runs the server suite ([`cases`]) against any `HOST:PORT`: one TCP
//!   connection per case, frames written by hand with h2proto's frame codec (including
//!   the invalid ones, through [`h2proto::frame::RawFrame`]), a deadline on every wait,
//!   and a verdict per case ([`verdict`]).
//! - [`server`] is the reference server the suite runs against by default, on each of
//!   h2proto's adapters, plus a minimal loop on the bare core that the test doubles in
//!   [`doubles`] build on.
//! - [`client`] is the client-role suite: the runner plays a scripted server and checks how
//!   h2proto's client reacts.
//! - [`requirements`] traces every normative statement of RFC 9113 and RFC 7541 to the code
//!   that keeps it and the tests that prove it, and writes `conformance/REQUIREMENTS.md`.
//!
//! The binary's subcommands (`run`, `serve`, `client-run`, `hpack`, `requirements`) are
//! thin wrappers over these modules; `tests/` aims them at broken servers to prove the
//! suite fails what it should.

pub mod cases;
pub mod client;
pub mod doubles;
pub mod fairness;
pub mod peer;
pub mod report;
pub mod requirements;
pub mod runner;
mod sent;
pub mod server;
pub mod verdict;
