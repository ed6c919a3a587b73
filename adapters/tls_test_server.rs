//! A TLS server for client tests (the blocking and mio adapters' `tests/tls.rs` include
//! it): a hand-driven core behind rustls, with a certificate for `localhost` made at test
//! time. The including file brings `rustls` (its adapter's re-export) into scope.

use super::rustls;
use bytes::Bytes;
use h2proto::{Config, Connection, Event};
use http::Response;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{ServerConfig, ServerConnection, StreamOwned};
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// What the server saw of each request: `:scheme`, `:authority` and the body's length.
pub type Seen = Vec<(String, String, usize)>;

/// A TLS server for `localhost` offering `alpn`, answering each request with the length of
/// its body, until its client goes. Returns its address, its certificate and what it saw.
pub fn tls_server(alpn: Vec<Vec<u8>>) -> (SocketAddr, CertificateDer<'static>, JoinHandle<Seen>) {
    let (config, cert) = server_config(alpn);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let serving = thread::spawn(move || {
        let (mut socket, _) = listener.accept().unwrap();
        let Some(tls) = handshake(&mut socket, config) else { return Vec::new() };
        socket.set_read_timeout(Some(Duration::from_millis(20))).unwrap();
        serve(StreamOwned::new(tls, socket), usize::MAX)
    });
    (addr, cert, serving)
}

/// The server's side of a handshake; `None` if it failed.
pub fn handshake(socket: &mut TcpStream, config: Arc<ServerConfig>) -> Option<ServerConnection> {
    let mut tls = ServerConnection::new(config).unwrap();
    while tls.is_handshaking() {
        tls.complete_io(socket).ok()?;
    }
    Some(tls)
}

/// A configuration for `localhost` with a certificate made now, offering `alpn`.
pub fn server_config(alpn: Vec<Vec<u8>>) -> (Arc<ServerConfig>, CertificateDer<'static>) {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let cert = certified.cert.der().clone();
    let key = PrivateKeyDer::Pkcs8(certified.signing_key.serialize_der().into());
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.clone()], key)
        .unwrap();
    config.alpn_protocols = alpn;
    (Arc::new(config), cert)
}

/// Serves the requests on `stream` until the client goes, or until `limit` of them are
/// answered (their answers written): then it closes, after a GOAWAY.
pub fn serve(mut stream: StreamOwned<ServerConnection, TcpStream>, limit: usize) -> Seen {
    let mut conn = Connection::server(Config::default());
    let mut seen = Vec::new();
    let mut bodies = std::collections::HashMap::new();
    let mut buf = vec![0; 64 << 10];
    loop {
        let out = h2proto::buf_to_vec(conn.transmit());
        if !out.is_empty() && stream.write_all(&out).and_then(|()| stream.flush()).is_err() {
            return seen;
        }
        if seen.len() >= limit {
            conn.shutdown();
            let out = h2proto::buf_to_vec(conn.transmit());
            let _ = stream.write_all(&out).and_then(|()| stream.flush());
            // Close like a server that is done: FIN, then read to the client's EOF (2 s at
            // most), so input left unread does not turn the close into a TCP reset, which
            // would discard the GOAWAY before the client reads it.
            let _ = stream.sock.shutdown(std::net::Shutdown::Write);
            let _ = stream.sock.set_read_timeout(Some(Duration::from_secs(2)));
            while matches!(stream.sock.read(&mut buf), Ok(n) if n > 0) {}
            return seen;
        }
        match stream.read(&mut buf) {
            Ok(0) => return seen,
            Ok(n) => {
                if conn.recv(Bytes::copy_from_slice(&buf[..n]), Instant::now()).is_err() {
                    return seen;
                }
            }
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {}
            Err(_) => return seen,
        }
        while let Some(event) = conn.poll_event() {
            match event {
                Event::Request { stream_id, request, end_stream } => {
                    let scheme = request.uri().scheme_str().unwrap_or_default().to_owned();
                    let authority = request.uri().authority().unwrap().to_string();
                    bodies.insert(stream_id, (scheme, authority, 0));
                    if end_stream {
                        conn.send_response(stream_id, Response::new(()), false).unwrap();
                        conn.send_data(stream_id, Bytes::from("0"), true).unwrap();
                        seen.push(bodies.remove(&stream_id).unwrap());
                    }
                }
                Event::Data { stream_id, end_stream } => {
                    let entry = bodies.get_mut(&stream_id).unwrap();
                    while let Some(data) = conn.read_data(stream_id) {
                        entry.2 += data.len();
                    }
                    if end_stream {
                        let length = Bytes::from(entry.2.to_string());
                        conn.send_response(stream_id, Response::new(()), false).unwrap();
                        conn.send_data(stream_id, length, true).unwrap();
                        seen.push(bodies.remove(&stream_id).unwrap());
                    }
                }
                _ => {}
            }
        }
    }
}
