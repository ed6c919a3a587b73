//! The client: multiplexed connections shared by every clone and every thread, with the
//! core's retry policy ([`h2proto::pool::RetryPolicy`], the one the tokio pool uses).

use crate::body::{Body, Kind, RecvBody};
use crate::driver::{Driver, Msg, Outgoing, Pending, Side, pump};
use crate::error::Error;
use h2proto::pool::{Failure, NotProcessed, RetryPolicy, Verdict};
use h2proto::{Config, Connection, ErrorCode, Origin, Protocol, UserError};
use http::uri::{Authority, Scheme};
use http::{Request, Response};
use std::collections::VecDeque;
use std::io;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Mutex};
use std::thread;

/// An HTTP/2 client of one server (cleartext, prior knowledge).
///
/// `Client` is `Clone + Send + Sync`: clones share one connection at a time, and any
/// number of threads may have requests in flight at once, each on its own stream.
/// Requests beyond the server's SETTINGS_MAX_CONCURRENT_STREAMS wait for a stream to
/// finish.
///
/// Retries follow RFC 9113 §8.7 through the core's [`RetryPolicy`], the same as the tokio
/// pool's: a request the server certainly did not process (REFUSED_STREAM, above a
/// GOAWAY's last stream id, or never sent because the connection was going away or gone)
/// is sent again when its body is in memory, at most [`RetryPolicy::max_retries`] times;
/// on a fresh connection when the one it failed on takes no new requests (GOAWAY, closed),
/// else on the same one. When it is not sent again the error is
/// [`Error::NotRetried`](crate::Error::NotRetried) with the reason, and
/// [`Error::is_retry_safe`](crate::Error::is_retry_safe) is true. Any other failure may
/// have been processed and is never retried. When the last clone is dropped the connection
/// ends gracefully (GOAWAY) once the responses still being read are done.
///
/// A connection that ended (GOAWAY, a connection error, the core's timeouts such as
/// [`Config::idle_timeout`]) is replaced by the next request.
#[derive(Clone, Debug)]
pub struct Client {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    addr: SocketAddr,
    config: Config,
    retry: RetryPolicy,
    current: Mutex<Conn>,
    connects: AtomicU64,
    retries: AtomicU64,
}

/// One connection's driver, and whether it still takes new requests.
#[derive(Clone, Debug)]
struct Conn {
    driver: Sender<Msg>,
    retired: Arc<AtomicBool>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Ok(current) = self.current.get_mut() {
            let _ = current.driver.send(Msg::Shutdown);
        }
    }
}

impl Client {
    /// Connects to `addr` with the default [`Config`].
    pub fn connect(addr: impl ToSocketAddrs) -> io::Result<Client> {
        Client::connect_with(addr, Config::default())
    }

    /// Connects to `addr` with `config`. Receive capacity is always released as bodies are
    /// read (`auto_release_capacity` is turned off), so a slow reader slows the server.
    pub fn connect_with(addr: impl ToSocketAddrs, config: Config) -> io::Result<Client> {
        Client::connect_with_retry(addr, config, RetryPolicy::default())
    }

    /// Connects to `addr` with `config`, retrying unprocessed requests as `retry` says.
    pub fn connect_with_retry(
        addr: impl ToSocketAddrs,
        mut config: Config,
        retry: RetryPolicy,
    ) -> io::Result<Client> {
        config.auto_release_capacity = false;
        let socket = TcpStream::connect(addr)?;
        let addr = socket.peer_addr()?;
        let conn = open(socket, &config)?;
        let inner = Inner {
            addr,
            config,
            retry,
            current: Mutex::new(conn),
            connects: AtomicU64::new(1),
            retries: AtomicU64::new(0),
        };
        Ok(Client { inner: Arc::new(inner) })
    }

    /// Connections opened so far (the first included).
    pub fn connects(&self) -> u64 {
        self.inner.connects.load(Ordering::Relaxed)
    }

    /// Requests sent again because the server had not processed them.
    pub fn retries(&self) -> u64 {
        self.inner.retries.load(Ordering::Relaxed)
    }

    /// Sends a request and waits for the response head; the body is read from the
    /// returned [`ResponseBody`](crate::ResponseBody).
    ///
    /// A URI without scheme and authority (`/path`) is sent as `http://` to the address
    /// connected to. A body given as a reader is streamed from a thread of its own, so
    /// the response can be read while the request is still being sent (it cannot be
    /// replayed, so it is never retried); a body in memory is declared as
    /// `content-length`.
    ///
    /// An `https://` URI is refused (`ErrorKind::Unsupported`): this client has no TLS, and
    /// sending it over cleartext would expose what the caller meant to protect.
    pub fn request<B: Into<Body>>(&self, request: Request<B>) -> io::Result<Response<RecvBody>> {
        let (parts, body) = request.into_parts();
        if parts.uri.scheme() == Some(&Scheme::HTTPS) {
            return Err(no_tls());
        }
        let Body { kind, trailers } = body.into();
        let head = Request::from_parts(parts, ());
        let data = match kind {
            Kind::Full(data) => data,
            Kind::Reader(reader) => {
                // Streamed from a thread of its own, and sent once: it cannot be replayed.
                let conn = self.connection()?;
                let (go, go_rx) = mpsc::channel();
                let driver = conn.driver.clone();
                thread::Builder::new()
                    .name("h2-upload".into())
                    .spawn(move || pump(reader, trailers, driver, go_rx))?;
                return self
                    .attempt(&conn, head, Outgoing::streamed(go))
                    .map_err(|error| self.give_up(error, false, 0));
            }
        };
        let mut retries = 0;
        loop {
            let conn = self.connection()?;
            let out = Outgoing::full(data.clone(), trailers.clone());
            let error = match self.attempt(&conn, copy_head(&head), out) {
                Ok(response) => return Ok(response),
                Err(error) => error,
            };
            let failure = classify(&error);
            if self.inner.retry.verdict(failure, true, retries) != Verdict::Retry {
                return Err(self.give_up(error, true, retries));
            }
            retries += 1;
            self.inner.retries.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The error for a request not sent again, with the policy's reason when the server
    /// had not processed it.
    fn give_up(&self, error: Error, replayable: bool, retries: u32) -> io::Error {
        match self.inner.retry.verdict(classify(&error), replayable, retries) {
            Verdict::NotSafe | Verdict::Retry => error.into(),
            verdict => Error::NotRetried { error: Box::new(error), verdict }.into(),
        }
    }

    /// One attempt on `conn`.
    fn attempt(
        &self,
        conn: &Conn,
        head: Request<()>,
        body: Outgoing,
    ) -> Result<Response<RecvBody>, Error> {
        let (reply, response) = mpsc::channel();
        let pending = Pending { head, body, reply };
        if conn.driver.send(Msg::Request(pending)).is_err() {
            conn.retired.store(true, Ordering::Release);
            return Err(Error::NotSent(Box::new(Error::closed())));
        }
        response.recv().map_err(|_| Error::closed())?
    }

    /// The connection for the next request: the current one, or a fresh one when it takes
    /// no new requests.
    fn connection(&self) -> io::Result<Conn> {
        let mut current = self.inner.current.lock().map_err(|_| Error::closed())?;
        if current.retired.load(Ordering::Acquire) {
            let socket = TcpStream::connect(self.inner.addr)?;
            let fresh = open(socket, &self.inner.config)?;
            self.inner.connects.fetch_add(1, Ordering::Relaxed);
            let old = std::mem::replace(&mut *current, fresh);
            // It finishes its streams, then closes.
            let _ = old.driver.send(Msg::Shutdown);
        }
        Ok(current.clone())
    }
}

/// Starts a driver for a connected socket.
fn open(socket: TcpStream, config: &Config) -> io::Result<Conn> {
    socket.set_nodelay(true)?;
    let authority = Authority::try_from(socket.peer_addr()?.to_string())
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    let mut conn = Connection::client(config.clone());
    // Requests naming only a path go to the address connected to, over cleartext.
    conn.set_origin(Origin::new(Scheme::HTTP, authority));
    let side = Side::Client { queued: VecDeque::new() };
    let (mut driver, tx) = Driver::new(socket, conn, side)?;
    let retired = Arc::new(AtomicBool::new(false));
    driver.publish_retired(retired.clone());
    thread::Builder::new().name("h2-client".into()).spawn(move || driver.run())?;
    Ok(Conn { driver: tx, retired })
}

/// RFC 9113 §8.7 from what the connection reported: refused, above the GOAWAY's last
/// stream id, or never sent are not processed; anything else may have been.
fn classify(error: &Error) -> Failure {
    match error {
        Error::NotSent(_) => Failure::NotProcessed(NotProcessed::NotSent),
        Error::Reset { retryable: true, code, .. } if *code == ErrorCode::REFUSED_STREAM => {
            Failure::NotProcessed(NotProcessed::Refused)
        }
        Error::Reset { retryable: true, .. } => Failure::NotProcessed(NotProcessed::AboveGoAway),
        // Refused by the core before anything was written.
        Error::User(UserError::GoingAway | UserError::StreamIdsExhausted) => {
            Failure::NotProcessed(NotProcessed::NotSent)
        }
        _ => Failure::MayHaveBeenProcessed,
    }
}

/// A copy of a request head, to send it again.
fn copy_head(head: &Request<()>) -> Request<()> {
    let mut copy = Request::new(());
    *copy.method_mut() = head.method().clone();
    *copy.uri_mut() = head.uri().clone();
    *copy.version_mut() = head.version();
    *copy.headers_mut() = head.headers().clone();
    if let Some(protocol) = head.extensions().get::<Protocol>() {
        copy.extensions_mut().insert(protocol.clone());
    }
    copy
}

/// The error for an `https://` request: this crate has no TLS.
fn no_tls() -> io::Error {
    io::Error::new(
        io::ErrorKind::Unsupported,
        "https:// needs TLS, which h2proto-blocking does not have (it speaks h2c: http://)",
    )
}
