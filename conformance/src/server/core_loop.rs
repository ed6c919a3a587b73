//! A minimal server loop on the bare core: std threads, one per connection, blocking
//! sockets with short read timeouts. It is not an adapter (those live in `adapters/`); it
//! exists so the runner can build test doubles — the same core with its traffic altered by
//! a [`FrameFilter`] — and prove that the suite fails what it should.

use super::app::App;
use bytes::{Buf, Bytes, BytesMut};
use h2proto::frame::FrameHeader;
use h2proto::{Config, Connection, PREFACE};
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// What a filter does with one frame.
pub enum Action {
    /// Let it through.
    Pass,
    /// Swallow it.
    Drop,
    /// Send these bytes instead (one or more frames, or none).
    Replace(Vec<Bytes>),
}

/// Alters the frames of one connection: `inbound` sees the client's frames before the core
/// does, `outbound` the core's frames before they are written. Each gets the whole frame
/// (9-byte header included) as it is on the wire.
pub trait FrameFilter: Send {
    /// A frame from the client.
    fn inbound(&mut self, _frame: &Bytes) -> Action {
        Action::Pass
    }
    /// A frame from the core.
    fn outbound(&mut self, _frame: &Bytes) -> Action {
        Action::Pass
    }
}

/// Makes one filter per connection.
pub type FilterFactory = Arc<dyn Fn() -> Box<dyn FrameFilter> + Send + Sync>;

/// The header of a whole frame.
pub fn header_of(frame: &Bytes) -> FrameHeader {
    FrameHeader::decode(frame[..9].try_into().expect("a whole frame"))
}

/// Cuts a byte stream into whole frames (after `skip` bytes of preface).
#[derive(Default)]
struct Splitter {
    skip: usize,
    buf: BytesMut,
}

impl Splitter {
    fn push(
        &mut self,
        mut data: &[u8],
        out: &mut BytesMut,
        filter: &mut dyn FnMut(&Bytes) -> Action,
    ) {
        if self.skip > 0 {
            let n = self.skip.min(data.len());
            out.extend_from_slice(&data[..n]);
            self.skip -= n;
            data = &data[n..];
        }
        self.buf.extend_from_slice(data);
        while self.buf.len() >= 9 {
            let len = u32::from_be_bytes([0, self.buf[0], self.buf[1], self.buf[2]]) as usize;
            if self.buf.len() < 9 + len {
                break;
            }
            let frame = self.buf.split_to(9 + len).freeze();
            match filter(&frame) {
                Action::Pass => out.extend_from_slice(&frame),
                Action::Drop => {}
                Action::Replace(frames) => frames.iter().for_each(|f| out.extend_from_slice(f)),
            }
        }
    }
}

/// The reference server's configuration: 100 concurrent streams, extended CONNECT on.
pub fn reference_config() -> Config {
    let mut config = Config::default();
    config.max_concurrent_streams = 100;
    config.enable_connect_protocol = true;
    config
}

/// Accepts connections on `listener` until `stop` is set, each on its own thread.
pub fn serve(listener: TcpListener, filters: Option<FilterFactory>, stop: Arc<AtomicBool>) {
    let _ = listener.set_nonblocking(true);
    while !stop.load(Ordering::Relaxed) {
        match listener.accept() {
            Ok((sock, _)) => {
                let filter = filters.as_ref().map(|f| f());
                let stop = stop.clone();
                std::thread::spawn(move || serve_connection(sock, filter, stop));
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(5))
            }
            Err(_) => std::thread::sleep(Duration::from_millis(5)),
        }
    }
}

/// Runs one connection to its end.
pub fn serve_connection(
    mut sock: TcpStream,
    mut filter: Option<Box<dyn FrameFilter>>,
    stop: Arc<AtomicBool>,
) {
    let _ = sock.set_nonblocking(false);
    let _ = sock.set_nodelay(true);
    let _ = sock.set_write_timeout(Some(Duration::from_secs(10)));
    let mut conn = Connection::server(reference_config());
    let mut app = App::default();
    conn.handle_timeout(Instant::now());
    let mut inbound = Splitter { skip: PREFACE.len(), ..Default::default() };
    let mut outbound = Splitter::default();
    let mut unconsumed = Bytes::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut stopping = false;
    loop {
        if !write_out(&mut conn, &mut sock, &mut outbound, &mut filter) {
            return;
        }
        if conn.is_closed() {
            break;
        }
        if stop.load(Ordering::Relaxed) && !stopping {
            stopping = true;
            conn.shutdown();
            continue;
        }
        if !unconsumed.is_empty() {
            match conn.recv(unconsumed.clone(), Instant::now()) {
                Ok(n) => unconsumed.advance(n),
                Err(_) => unconsumed.clear(),
            }
            app.drive(&mut conn);
            if !unconsumed.is_empty() {
                continue;
            }
        }
        let _ = sock.set_read_timeout(Some(read_wait(&conn)));
        match sock.read(&mut buf) {
            Ok(0) => return,
            Ok(n) => {
                let data = match filter.as_deref_mut() {
                    Some(f) => {
                        let mut out = BytesMut::new();
                        inbound.push(&buf[..n], &mut out, &mut |fr| f.inbound(fr));
                        out.freeze()
                    }
                    None => Bytes::copy_from_slice(&buf[..n]),
                };
                if let Ok(used) = conn.recv(data.clone(), Instant::now()) {
                    unconsumed = data.slice(used..);
                }
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => return,
        }
        conn.handle_timeout(Instant::now());
        app.drive(&mut conn);
    }
    // Close politely: FIN after the last frame, then read what the client still sends for
    // a moment, so our close does not turn into a reset that could destroy the GOAWAY.
    let _ = sock.shutdown(Shutdown::Write);
    let _ = sock.set_read_timeout(Some(Duration::from_millis(20)));
    let until = Instant::now() + Duration::from_millis(250);
    while Instant::now() < until {
        match sock.read(&mut buf) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => break,
        }
    }
}

/// Writes all pending output; false if the socket failed.
fn write_out(
    conn: &mut Connection,
    sock: &mut TcpStream,
    outbound: &mut Splitter,
    filter: &mut Option<Box<dyn FrameFilter>>,
) -> bool {
    let mut bytes = BytesMut::new();
    loop {
        let out = conn.transmit();
        if !out.has_remaining() {
            break;
        }
        while out.has_remaining() {
            let chunk = out.chunk();
            bytes.extend_from_slice(chunk);
            let n = chunk.len();
            out.advance(n);
        }
    }
    if bytes.is_empty() {
        return true;
    }
    let bytes = match filter.as_deref_mut() {
        Some(f) => {
            let mut out = BytesMut::new();
            outbound.push(&bytes, &mut out, &mut |fr| f.outbound(fr));
            out
        }
        None => bytes,
    };
    sock.write_all(&bytes).is_ok()
}

/// How long a blocking read may wait: until the core's next timer, between 1 and 50 ms so
/// that stop flags and timers are looked at often enough.
pub(crate) fn read_wait(conn: &Connection) -> Duration {
    let now = Instant::now();
    conn.poll_timeout()
        .map(|t| t.saturating_duration_since(now))
        .unwrap_or(Duration::from_millis(50))
        .clamp(Duration::from_millis(1), Duration::from_millis(50))
}
