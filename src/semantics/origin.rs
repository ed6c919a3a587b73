//! The origin a client connection was opened to, for requests that name only a path.
//!
//! RFC 9113 §8.3.1 asks a client to send `:scheme` and `:authority` (unless the target has
//! no authority). A request written as `/path` (origin-form, as an HTTP/1.1 request line
//! would have it) lacks both; the connection knows them, since it was opened to one origin.
//! The adapter that connects records that origin on the core's connection once
//! ([`Connection::set_origin`](crate::Connection::set_origin)), so every adapter completes
//! such requests the same way, in one place.

use http::Uri;
use http::uri::{Authority, Scheme};

/// A scheme and an authority (RFC 9110 §4.3.1): whom a client connection talks to.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Origin {
    /// `http` for cleartext (h2c), `https` over TLS.
    pub scheme: Scheme,
    /// `host[:port]` as the requests' `:authority` should carry it.
    pub authority: Authority,
}

impl Origin {
    /// An origin from its parts.
    pub fn new(scheme: Scheme, authority: Authority) -> Origin {
        Origin { scheme, authority }
    }

    /// The origin of an absolute URI (`https://example.com/a` gives `https` and
    /// `example.com`); `None` for a URI without scheme or authority.
    ///
    /// ```
    /// let origin = h2proto::Origin::of(&"http://127.0.0.1:8080/x".parse().unwrap()).unwrap();
    /// assert_eq!((origin.scheme.as_str(), origin.authority.as_str()), ("http", "127.0.0.1:8080"));
    /// ```
    pub fn of(uri: &Uri) -> Option<Origin> {
        Some(Origin::new(uri.scheme()?.clone(), uri.authority()?.clone()))
    }
}
