//! A CONNECT stream as a byte stream (RFC 9113 §8.5, RFC 8441 extended CONNECT).
//!
//! After a 2xx answer to CONNECT, the stream's DATA frames carry the tunnel's bytes in both
//! directions; END_STREAM is the tunnel's half-close. [`Tunnel`] implements tokio's
//! `AsyncRead` + `AsyncWrite` over that, so a WebSocket library, a TLS client or a proxy
//! copy loop can run on it unchanged.

use crate::RecvBody;
use crate::body::{PipeWriter, TunnelBody, pipe};
use bytes::{Buf, Bytes};
use http_body::Body;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// A CONNECT stream as `AsyncRead + AsyncWrite`.
///
/// Server: accept a CONNECT request with [`Tunnel::new`] and answer with the returned
/// [`TunnelBody`] as the response body. Client: [`SendRequest::connect`](crate::client::SendRequest::connect).
///
/// `poll_shutdown` ends our direction (END_STREAM); reading returns EOF when the peer has
/// ended its direction; a reset stream is an `io::Error`. Dropping the tunnel ends our
/// direction and stops reading (the client cancels the stream).
pub struct Tunnel {
    recv: RecvBody,
    buffered: Bytes,
    eof: bool,
    writer: PipeWriter,
}

impl Tunnel {
    /// Server: turns a CONNECT request's body into a tunnel. Send the [`TunnelBody`] as
    /// the body of the 2xx response; what is written to the tunnel goes out through it.
    ///
    /// ```no_run
    /// use h2proto_tokio::{RecvBody, Tunnel, TunnelBody};
    /// use http::{Request, Response};
    ///
    /// async fn handle(request: Request<RecvBody>) -> Response<TunnelBody> {
    ///     let (mut tunnel, body) = Tunnel::new(request.into_body());
    ///     tokio::spawn(async move {
    ///         let (mut read, mut write) = tokio::io::split(&mut tunnel);
    ///         let _ = tokio::io::copy(&mut read, &mut write).await; // echo
    ///     });
    ///     Response::new(body)
    /// }
    /// ```
    pub fn new(recv: RecvBody) -> (Tunnel, TunnelBody) {
        let (writer, body) = pipe();
        (Tunnel::from_parts(recv, writer), body)
    }

    pub(crate) fn from_parts(recv: RecvBody, writer: PipeWriter) -> Tunnel {
        Tunnel { recv, buffered: Bytes::new(), eof: false, writer }
    }
}

impl std::fmt::Debug for Tunnel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tunnel").field("stream_id", &self.recv.stream_id()).finish()
    }
}

impl AsyncRead for Tunnel {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            if !this.buffered.is_empty() {
                let n = this.buffered.len().min(buf.remaining());
                buf.put_slice(&this.buffered[..n]);
                this.buffered.advance(n);
                return Poll::Ready(Ok(()));
            }
            if this.eof {
                return Poll::Ready(Ok(()));
            }
            match ready!(Pin::new(&mut this.recv).poll_frame(cx)) {
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        this.buffered = data;
                    }
                }
                Some(Err(e)) => return Poll::Ready(Err(e.into_io())),
                None => this.eof = true,
            }
        }
    }
}

impl AsyncWrite for Tunnel {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.writer.poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // Written bytes are already with the connection task.
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.writer.close();
        Poll::Ready(Ok(()))
    }
}
