//! A response body that arrives whole with its head (all its data in one DATA frame with
//! END_STREAM, in the same read) is handed out with the head, without the per-stream
//! queue: its size is known exactly (`size_hint`). Every other shape (the DATA in a later
//! read, several DATA frames, trailers) goes through the queue, and all of them carry the
//! same bytes. The server is a hand-driven core over an in-memory pipe, so what arrives
//! in one read is exactly what it wrote at once.

use bytes::Bytes;
use h2proto::{Connection, Event, StreamId};
use h2proto_tokio::client::{self, SendRequest};
use h2proto_tokio::{Config, RecvBody};
use http::{HeaderMap, Request, Response};
use http_body::Body;
use http_body_util::{BodyExt, Empty};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};

/// The server's end: a core fed from the pipe, its output written in one piece.
struct Peer {
    io: DuplexStream,
    conn: Connection,
    buf: Vec<u8>,
}

impl Peer {
    /// Reads until a request head arrives; returns its stream.
    async fn next_request(&mut self) -> StreamId {
        loop {
            while let Some(event) = self.conn.poll_event() {
                if let Event::Request { stream_id, .. } = event {
                    return stream_id;
                }
            }
            self.flush().await;
            self.read_more("a request").await;
        }
    }

    /// Reads once more from the client into the core.
    async fn read_more(&mut self, what: &str) {
        let read = tokio::time::timeout(Duration::from_secs(10), self.io.read(&mut self.buf));
        let n = read.await.unwrap_or_else(|_| panic!("{what} in time")).unwrap();
        assert!(n > 0, "the client left");
        self.conn.recv(Bytes::copy_from_slice(&self.buf[..n]), Instant::now()).unwrap();
    }

    /// Sends all of `data` on `id` (ending the stream), reading the client's WINDOW_UPDATEs
    /// when flow control holds it back.
    async fn send_all(&mut self, id: StreamId, mut data: Bytes) {
        loop {
            let n = self.conn.send_data(id, data.clone(), true).unwrap();
            let _ = data.split_to(n);
            self.flush().await;
            if data.is_empty() {
                return;
            }
            self.read_more("connection credit").await;
        }
    }

    /// Writes everything the core has to send, in one write.
    async fn flush(&mut self) {
        let out = h2proto::buf_to_vec(self.conn.transmit());
        if !out.is_empty() {
            self.io.write_all(&out).await.unwrap();
        }
    }

    fn head(&mut self, id: StreamId) {
        self.conn.send_response(id, Response::new(()), false).unwrap();
    }

    fn data(&mut self, id: StreamId, data: &'static [u8], end: bool) {
        self.conn.send_data(id, Bytes::from_static(data), end).unwrap();
    }
}

async fn setup() -> (SendRequest, Peer) {
    let (client_io, io) = tokio::io::duplex(1 << 20);
    let (send, conn) = client::handshake_with(client_io, Config::default());
    tokio::spawn(conn);
    let peer =
        Peer { io, conn: Connection::server(h2proto::Config::default()), buf: vec![0; 1 << 16] };
    (send, peer)
}

fn get() -> Request<Empty<Bytes>> {
    Request::get("http://localhost/").body(Empty::new()).unwrap()
}

/// The body's exact size as the client saw it at the head, and all its data.
async fn read(response: Response<RecvBody>) -> (Option<u64>, Vec<u8>, Option<HeaderMap>) {
    let body = response.into_body();
    let exact = body.size_hint().exact();
    let collected = body.collect().await.unwrap();
    let trailers = collected.trailers().cloned();
    (exact, collected.to_bytes().to_vec(), trailers)
}

#[tokio::test]
async fn a_body_that_came_whole_with_its_head_is_handed_out_with_it() {
    let (send, mut peer) = setup().await;
    // HEADERS and the only DATA (END_STREAM) in one write.
    let response = tokio::spawn({
        let send = send.clone();
        async move { send.send_request(get()).await.unwrap() }
    });
    let id = peer.next_request().await;
    peer.head(id);
    peer.data(id, b"hello whole", true);
    peer.flush().await;
    let (exact, data, _) = read(response.await.unwrap()).await;
    assert_eq!(exact, Some(11), "the whole body, known at the head");
    assert_eq!(data, b"hello whole");

    // Two heads, then their DATA, in one write (as a server that flushes its queued DATA
    // after the heads of one turn writes them): both whole.
    let (a, b) = (send.clone(), send.clone());
    let first = tokio::spawn(async move { a.send_request(get()).await.unwrap() });
    let one = peer.next_request().await;
    let second = tokio::spawn(async move { b.send_request(get()).await.unwrap() });
    let two = peer.next_request().await;
    peer.head(one);
    peer.head(two);
    peer.data(one, b"first", true);
    peer.data(two, b"second", true);
    peer.flush().await;
    assert_eq!(read(first.await.unwrap()).await.0, Some(5));
    assert_eq!(read(second.await.unwrap()).await.1, b"second");
}

#[tokio::test]
async fn other_bodies_go_through_the_queue_with_the_same_bytes() {
    let (send, mut peer) = setup().await;
    let request = |send: &SendRequest| {
        let send = send.clone();
        tokio::spawn(async move { send.send_request(get()).await.unwrap() })
    };

    // The DATA in a later read than the head.
    let response = request(&send);
    let id = peer.next_request().await;
    peer.head(id);
    peer.flush().await;
    let response = response.await.unwrap();
    peer.data(id, b"later", true);
    peer.flush().await;
    assert_eq!(read(response).await, (None, b"later".to_vec(), None));

    // Two DATA frames right after the head (written apart: the core would merge them into
    // one frame), read at once or not.
    let response = request(&send);
    let id = peer.next_request().await;
    peer.head(id);
    peer.data(id, b"two ", false);
    peer.flush().await;
    peer.data(id, b"frames", true);
    peer.flush().await;
    assert_eq!(read(response.await.unwrap()).await, (None, b"two frames".to_vec(), None));

    // DATA then trailers in the same read as the head.
    let response = request(&send);
    let id = peer.next_request().await;
    peer.head(id);
    peer.data(id, b"with trailers", false);
    let mut trailers = HeaderMap::new();
    trailers.insert("grpc-status", "0".parse().unwrap());
    peer.conn.send_trailers(id, trailers.clone()).unwrap();
    peer.flush().await;
    let (exact, data, got) = read(response.await.unwrap()).await;
    assert_eq!((exact, data.as_slice()), (None, &b"with trailers"[..]));
    assert_eq!(got, Some(trailers));
}

#[tokio::test]
async fn whole_bodies_return_their_connection_credit() {
    // 100 bodies of 4,000 bytes through the initial 65,535-byte connection window: past
    // the 16th, each goes only if reading the earlier whole bodies gave their credit back.
    let (send, mut peer) = setup().await;
    static BODY: [u8; 4_000] = [7; 4_000];
    for _ in 0..100 {
        let response = {
            let send = send.clone();
            tokio::spawn(async move { send.send_request(get()).await.unwrap() })
        };
        let id = peer.next_request().await;
        peer.head(id);
        peer.send_all(id, Bytes::from_static(&BODY)).await;
        // Whole: one request at a time, so the credit of the bodies read (released as the
        // next request goes, in the same write) is back before each body is sent.
        let (exact, data, _) = read(response.await.unwrap()).await;
        assert_eq!((exact, data.len()), (Some(4_000), 4_000));
    }
}
