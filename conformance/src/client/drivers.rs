//! One request through h2proto's client on each runtime, reduced to what the client suite
//! checks: the status and body, or the error the application saw (its `Debug` form, which
//! names the HTTP/2 error code).

use crate::server::Runtime;
use bytes::Bytes;
use h2proto::{Config, Connection, Event};
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// What the application got.
pub type Outcome = Result<(u16, Vec<u8>), String>;

/// The client configuration the suite uses: defaults, with a short SETTINGS timeout so the
/// SETTINGS_TIMEOUT case stays quick.
pub fn config() -> Config {
    let mut config = Config::default();
    config.settings_timeout = Some(Duration::from_millis(800));
    config
}

/// Sends `GET http://addr/` and waits for the whole response.
pub fn get(runtime: Runtime, addr: SocketAddr) -> Outcome {
    let uri = format!("http://{addr}/");
    match runtime {
        Runtime::Core => core(addr, &uri),
        Runtime::Tokio => tokio(addr, &uri),
        Runtime::Blocking => {
            let client = h2proto_blocking::Client::connect_with(addr, config())
                .map_err(|e| format!("{e:?}"))?;
            let request = http::Request::get(&uri).body(()).expect("valid request");
            let response = client.request(request).map_err(|e| format!("{e:?}"))?;
            let status = response.status().as_u16();
            let mut body = Vec::new();
            response.into_body().read_to_end(&mut body).map_err(|e| format!("{e:?}"))?;
            Ok((status, body))
        }
        Runtime::Mio => {
            let client =
                h2proto_mio::Client::connect_with(addr, config()).map_err(|e| format!("{e:?}"))?;
            let request = http::Request::get(&uri).body(Bytes::new()).expect("valid request");
            let response = client.request(request).map_err(|e| format!("{e:?}"))?;
            Ok((response.status().as_u16(), response.into_body().to_vec()))
        }
    }
}

fn tokio(addr: SocketAddr, uri: &str) -> Outcome {
    use http_body_util::{BodyExt, Empty};
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let tcp = tokio::net::TcpStream::connect(addr).await.map_err(|e| format!("{e:?}"))?;
        let (send, connection) = h2proto_tokio::client::handshake_with(tcp, config());
        tokio::spawn(connection);
        let request = http::Request::get(uri).body(Empty::<Bytes>::new()).expect("valid request");
        let response = send.send_request(request).await.map_err(|e| format!("{e:?}"))?;
        let status = response.status().as_u16();
        let body = response.into_body().collect().await.map_err(|e| format!("{e:?}"))?;
        Ok((status, body.to_bytes().to_vec()))
    })
}

/// The bare core on a blocking socket.
fn core(addr: SocketAddr, uri: &str) -> Outcome {
    let mut sock = TcpStream::connect(addr).map_err(|e| format!("{e:?}"))?;
    let mut conn = Connection::client(config());
    conn.handle_timeout(Instant::now());
    let request = http::Request::get(uri).body(()).expect("valid request");
    let id = conn.send_request(request, true).map_err(|e| format!("{e:?}"))?;
    let (mut status, mut body) = (None, Vec::new());
    let mut buf = vec![0u8; 64 * 1024];
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        let out = h2proto::buf_to_vec(conn.transmit());
        if !out.is_empty() && sock.write_all(&out).is_err() {
            return Err("transport: write failed".into());
        }
        while let Some(event) = conn.poll_event() {
            match event {
                Event::Response { stream_id, response, end_stream } if stream_id == id => {
                    status = Some(response.status().as_u16());
                    if end_stream {
                        return Ok((response.status().as_u16(), body));
                    }
                }
                Event::Data { stream_id, end_stream } if stream_id == id => {
                    while let Some(chunk) = conn.read_data(id) {
                        body.extend_from_slice(&chunk);
                    }
                    if end_stream {
                        return Ok((status.unwrap_or(0), body));
                    }
                }
                Event::Trailers { stream_id, .. } if stream_id == id => {
                    return Ok((status.unwrap_or(0), body));
                }
                Event::Reset { stream_id, error_code, initiator, .. } if stream_id == id => {
                    let _ = sock.write_all(&h2proto::buf_to_vec(conn.transmit()));
                    return Err(format!(
                        "Reset {{ code: {error_code:?}, initiator: {initiator:?} }}"
                    ));
                }
                Event::Closed { error } => {
                    let _ = sock.write_all(&h2proto::buf_to_vec(conn.transmit()));
                    return Err(format!("Closed {{ error: {error:?} }}"));
                }
                _ => {}
            }
        }
        let _ = sock.set_read_timeout(Some(crate::server::core_loop::read_wait(&conn)));
        match sock.read(&mut buf) {
            Ok(0) => return Err("transport: the peer closed the connection".into()),
            Ok(n) => {
                if let Err(e) = conn.recv(Bytes::copy_from_slice(&buf[..n]), Instant::now()) {
                    let _ = sock.write_all(&h2proto::buf_to_vec(conn.transmit()));
                    return Err(format!("Connection({e:?})"));
                }
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) => return Err(format!("transport: {e:?}")),
        }
        conn.handle_timeout(Instant::now());
    }
    Err("timeout".into())
}
