//! h2proto against itself across adapters: the blocking client against the mio server,
//! the mio client against the blocking server.

mod support;

use bytes::Bytes;
use h2proto_mio::Client;
use http::{Request, Response};
use std::thread;
use support::*;

#[test]
fn blocking_client_against_the_mio_server() {
    let _w = watchdog(120);
    let server = TestServer::hello_echo(small_windows());
    let client = h2proto_blocking::Client::connect_with(server.addr, small_windows()).unwrap();
    let body = pattern(8 << 20, 1);
    let response = client.request(Request::post("/echo").body(body.clone()).unwrap()).unwrap();
    assert!(response.into_body().read_to_vec().unwrap() == body, "echo differs");
    thread::scope(|s| {
        for t in 0..8u8 {
            let client = client.clone();
            s.spawn(move || {
                for i in 0..20 {
                    let body = pattern(100 + i * 50, t);
                    let request = Request::post("/echo").body(body.clone()).unwrap();
                    let response = client.request(request).unwrap();
                    assert_eq!(response.into_body().read_to_vec().unwrap(), body);
                }
            });
        }
    });
    drop(client);
    server.stop();
}

#[test]
fn mio_client_against_the_blocking_server() {
    let _w = watchdog(120);
    let server = h2proto_blocking::Server::bind("127.0.0.1:0").unwrap().config(small_windows());
    let addr = server.local_addr().unwrap();
    let stop = server.shutdown_handle();
    let serving = thread::spawn(move || {
        server.serve(|request: Request<h2proto_blocking::RequestBody>| {
            let body = match request.uri().path() {
                "/echo" => h2proto_blocking::Body::from_reader(request.into_body()),
                _ => h2proto_blocking::Body::from("hello"),
            };
            Response::new(body)
        })
    });
    let client = Client::connect_with(addr, small_windows()).unwrap();
    let body = Bytes::from(pattern(8 << 20, 2));
    let response = client.request(Request::post("/echo").body(body.clone()).unwrap()).unwrap();
    assert!(response.body() == &body, "echo differs");
    thread::scope(|s| {
        for t in 0..8u8 {
            let client = client.clone();
            s.spawn(move || {
                for i in 0..20 {
                    let body = Bytes::from(pattern(100 + i * 50, t));
                    let request = Request::post("/echo").body(body.clone()).unwrap();
                    assert_eq!(client.request(request).unwrap().body(), &body);
                }
            });
        }
    });
    let response = client.request(Request::get("/").body(Bytes::new()).unwrap()).unwrap();
    assert_eq!(response.body(), "hello");
    drop(client);
    stop.shutdown();
    serving.join().unwrap().unwrap();
}
