//! Time reaches the core with the bytes that arrive, on every adapter.
//!
//! A connection idle (after a first request) for longer than the header-block timeout
//! (5 s in the reference server), then a legitimate 3 KB request head sent as HEADERS and a CONTINUATION 50 ms
//! later: the block is finished well in time and must be answered. When `recv` used the
//! time of the last `handle_timeout` (the start of the idle period), the block's deadline
//! was armed in the past and the connection was killed with GOAWAY ENHANCE_YOUR_CALM
//! "header block not finished in time".

use h2proto::frame::{Headers, StreamId};
use h2proto_conformance::peer::Peer;
use h2proto_conformance::server::{self, Runtime};
use std::thread;
use std::time::Duration;

/// Longer than the reference server's `header_block_timeout` (the default 5 s).
const IDLE: Duration = Duration::from_secs(7);

fn late_header_block_is_answered(runtime: Runtime) {
    let server = server::spawn(runtime, "127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = server.addr();
    let mut peer = Peer::connect(addr, &addr.to_string(), "/", Duration::from_secs(5)).unwrap();
    assert!(peer.handshake().is_ok(), "{runtime:?}: handshake");
    // A first request (a connection that sends none is closed after 5 s), then quiet.
    peer.get(1);
    assert!(peer.expect_response(1).is_ok(), "{runtime:?}: first request");
    thread::sleep(IDLE);

    let mut fields = peer.request("GET", "/");
    fields.push(("x-padding".into(), "p".repeat(3000)));
    let block = peer.block(&fields);
    let (first, rest) = (block.slice(..1500), block.slice(1500..));
    let mut headers = Headers::new(StreamId(3), first, true);
    headers.end_headers = false;
    peer.send(headers);
    thread::sleep(Duration::from_millis(50));
    peer.continuation(3, rest, true);

    let response = peer.expect_response(3);
    assert!(response.is_ok(), "{runtime:?}: {:?}", response.err());
    assert_eq!(response.unwrap().status, 200, "{runtime:?}");
}

#[test]
fn a_header_block_after_a_long_idle_period_is_timed_from_its_arrival() {
    // The adapters side by side: one idle period for all three.
    let threads: Vec<_> = Runtime::ADAPTERS
        .into_iter()
        .map(|runtime| thread::spawn(move || late_header_block_is_answered(runtime)))
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}
