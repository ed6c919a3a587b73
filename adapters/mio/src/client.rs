//! The client: requests run on a loop thread of their own, over one connection.

use crate::event_loop::{Cmd, Loop, Remote};
use crate::{DEFAULT_MAX_BODY, ResponseCallback};
use bytes::Bytes;
use h2proto::Config;
use http::{Request, Response};
use mio::Token;
use std::io;
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::{Arc, mpsc};
use std::thread;

/// An HTTP/2 client over one connection driven by a mio loop thread.
///
/// `Client` is `Clone + Send + Sync`; all clones share the connection. Requests and
/// responses carry whole bodies ([`Trailers`](crate::Trailers) in the extensions). When
/// the last clone is dropped the connection ends gracefully and the loop thread exits.
///
/// Requests beyond the server's SETTINGS_MAX_CONCURRENT_STREAMS wait in the client; but
/// requests sent before the server's SETTINGS arrive may be refused (REFUSED_STREAM, an
/// error of kind `ConnectionReset`): the server did not process them, so they are safe
/// to send again.
#[derive(Clone, Debug)]
pub struct Client {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    remote: Remote,
    token: Token,
}

impl Drop for Inner {
    fn drop(&mut self) {
        let _ = self.remote.send(Cmd::Shutdown);
    }
}

impl Client {
    /// Connects to `addr` with the default [`Config`].
    pub fn connect(addr: impl ToSocketAddrs) -> io::Result<Client> {
        Client::connect_with(addr, Config::default())
    }

    /// Connects to `addr` with `config`. Response bodies over 16 MiB fail the request.
    pub fn connect_with(addr: impl ToSocketAddrs, config: Config) -> io::Result<Client> {
        let socket = TcpStream::connect(addr)?;
        socket.set_nodelay(true)?;
        socket.set_nonblocking(true)?;
        let mut event_loop = Loop::new()?;
        let token = event_loop.connect(socket, config, DEFAULT_MAX_BODY)?;
        let remote = event_loop.remote();
        thread::Builder::new().name("h2-mio-client".into()).spawn(move || event_loop.run())?;
        Ok(Client { inner: Arc::new(Inner { remote, token }) })
    }

    /// Sends a request; `on_response` runs on the loop thread with the whole response (so
    /// it must not block, nor call [`request`](Self::request)). A URI without scheme and
    /// authority (`/path`) goes to the connected address; an `https://` URI is refused
    /// (`ErrorKind::Unsupported`: this client has no TLS). The body's length is sent as
    /// `content-length`.
    pub fn send(
        &self,
        request: Request<Bytes>,
        on_response: impl FnOnce(io::Result<Response<Bytes>>) + Send + 'static,
    ) {
        if request.uri().scheme() == Some(&http::uri::Scheme::HTTPS) {
            // No TLS here: sending it in cleartext would expose what was meant to be private.
            let why =
                "https:// needs TLS, which h2proto-mio does not have (it speaks h2c: http://)";
            return on_response(Err(io::Error::new(io::ErrorKind::Unsupported, why)));
        }
        let callback: ResponseCallback = Box::new(on_response);
        if let Err(Cmd::Request(_, _, callback)) =
            self.inner.remote.send(Cmd::Request(self.inner.token, Box::new(request), callback))
        {
            callback(Err(io::ErrorKind::NotConnected.into()));
        }
    }

    /// Sends a request and waits for the whole response.
    pub fn request(&self, request: Request<Bytes>) -> io::Result<Response<Bytes>> {
        let (tx, rx) = mpsc::channel();
        self.send(request, move |response| {
            let _ = tx.send(response);
        });
        rx.recv().unwrap_or_else(|_| Err(io::ErrorKind::NotConnected.into()))
    }
}
