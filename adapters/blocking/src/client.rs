//! The client: one multiplexed connection, shared by every clone and every thread.

use crate::body::{Body, Kind, RecvBody};
use crate::driver::{Driver, Msg, Outgoing, Pending, Side, pump};
use crate::error::Error;
use h2proto::{Config, Connection, Origin};
use http::uri::{Authority, Scheme};
use http::{Request, Response};
use std::collections::VecDeque;
use std::io;
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::sync::mpsc::{self, Sender};
use std::thread;

/// An HTTP/2 client over one TCP connection (cleartext, prior knowledge).
///
/// `Client` is `Clone + Send + Sync`: clones share the connection, and any number of
/// threads may have requests in flight at once, each on its own stream. Requests beyond
/// the server's SETTINGS_MAX_CONCURRENT_STREAMS wait for a stream to finish; a request the
/// server refused unprocessed (REFUSED_STREAM, e.g. sent before its SETTINGS arrived, or
/// above a GOAWAY's last stream id) is sent again when its body is in memory, and otherwise
/// fails with [`Error::Reset`](crate::Error::Reset) `retryable: true`. When the last
/// clone is dropped the connection ends gracefully (GOAWAY) once the responses still being
/// read are done.
///
/// The connection ends for good on GOAWAY, on a connection error or on the core's timeouts
/// ([`Config::idle_timeout`] among them); requests then fail and a new `Client` is needed.
#[derive(Clone, Debug)]
pub struct Client {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    driver: Sender<Msg>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        let _ = self.driver.send(Msg::Shutdown);
    }
}

impl Client {
    /// Connects to `addr` with the default [`Config`].
    pub fn connect(addr: impl ToSocketAddrs) -> io::Result<Client> {
        Client::connect_with(addr, Config::default())
    }

    /// Connects to `addr` with `config`. Receive capacity is always released as bodies are
    /// read (`auto_release_capacity` is turned off), so a slow reader slows the server.
    pub fn connect_with(addr: impl ToSocketAddrs, mut config: Config) -> io::Result<Client> {
        let socket = TcpStream::connect(addr)?;
        socket.set_nodelay(true)?;
        let authority = Authority::try_from(socket.peer_addr()?.to_string())
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        config.auto_release_capacity = false;
        let mut conn = Connection::client(config);
        // Requests naming only a path go to the address connected to, over cleartext.
        conn.set_origin(Origin::new(Scheme::HTTP, authority));
        let side = Side::Client { queued: VecDeque::new() };
        let (driver, tx) = Driver::new(socket, conn, side)?;
        thread::Builder::new().name("h2-client".into()).spawn(move || driver.run())?;
        Ok(Client { inner: Arc::new(Inner { driver: tx }) })
    }

    /// Sends a request and waits for the response head; the body is read from the
    /// returned [`ResponseBody`](crate::ResponseBody).
    ///
    /// A URI without scheme and authority (`/path`) is sent as `http://` to the address
    /// connected to. A body given as a reader is streamed from a thread of its own, so
    /// the response can be read while the request is still being sent; a body in memory
    /// is declared as `content-length`.
    ///
    /// An `https://` URI is refused (`ErrorKind::Unsupported`): this client has no TLS, and
    /// sending it over cleartext would expose what the caller meant to protect.
    pub fn request<B: Into<Body>>(&self, request: Request<B>) -> io::Result<Response<RecvBody>> {
        let (parts, body) = request.into_parts();
        if parts.uri.scheme() == Some(&Scheme::HTTPS) {
            return Err(no_tls());
        }
        let Body { kind, trailers } = body.into();
        let out = match kind {
            Kind::Full(data) => Outgoing::full(data, trailers),
            Kind::Reader(reader) => {
                let (go, go_rx) = mpsc::channel();
                let driver = self.inner.driver.clone();
                thread::Builder::new()
                    .name("h2-upload".into())
                    .spawn(move || pump(reader, trailers, driver, go_rx))?;
                Outgoing::streamed(go)
            }
        };
        let (reply, response) = mpsc::channel();
        let head = Request::from_parts(parts, ());
        let pending = Pending { head, body: out, reply, attempt: 0 };
        self.inner.driver.send(Msg::Request(pending)).map_err(|_| Error::closed())?;
        Ok(response.recv().map_err(|_| Error::closed())??)
    }
}

/// The error for an `https://` request: this crate has no TLS.
fn no_tls() -> io::Error {
    io::Error::new(
        io::ErrorKind::Unsupported,
        "https:// needs TLS, which h2proto-blocking does not have (it speaks h2c: http://)",
    )
}
