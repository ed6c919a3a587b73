//! RFC 9113 §9 and §10 rules of the core that no other test file proves. Most of §9 is TLS,
//! proven in `adapters/tokio/tests/rfc9113_s9_tls.rs`, and most of §10 by the limits in
//! `conn_limits.rs`; the requirement ids are in `conformance/requirements/9113-09-10.toml`.

mod support;

use h2proto::Event;
use support::*;

#[test]
fn rfc9113_9_1_1_one_connection_carries_several_authorities() {
    // §9.1.1: a connection may be reused for requests to other authorities (the client is
    // responsible for the server being authoritative for them); the core neither refuses
    // them on send nor on receipt.
    let mut pair = Pair::new();
    let uris = ["https://a.example/one", "https://b.example:8443/two", "http://c.example/three"];
    let ids: Vec<_> =
        uris.iter().map(|uri| pair.client.send_request(get(uri), true).unwrap()).collect();
    pair.drive();
    let seen: Vec<_> = pair
        .take_server_events()
        .into_iter()
        .filter_map(|e| match e {
            Event::Request { stream_id, request, .. } => {
                Some((stream_id, request.uri().to_string()))
            }
            _ => None,
        })
        .collect();
    let expected: Vec<_> = ids.iter().copied().zip(uris.iter().map(|u| u.to_string())).collect();
    assert_eq!(seen, expected);
    for id in ids {
        pair.server.send_response(id, status(200), true).unwrap();
    }
    pair.drive();
    let responses = pair
        .take_client_events()
        .into_iter()
        .filter(|e| matches!(e, Event::Response { end_stream: true, .. }))
        .count();
    assert_eq!(responses, 3);
}
