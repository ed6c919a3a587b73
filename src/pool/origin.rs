//! The key of a pool: an origin, RFC 6454's (scheme, host, port) triple.
//!
//! Two requests may share a connection only when they go to the same origin. The host is
//! lowercased (DNS names are case-insensitive) and a missing port is filled in from the
//! scheme, so `HTTPS://Example.com/` and `https://example.com:443/x` share a pool.

use http::Uri;
use std::fmt;
use std::sync::Arc;

/// The schemes an HTTP/2 client connects to: `https` (TLS, ALPN `h2`) and `http` (h2c with
/// prior knowledge).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scheme {
    /// Cleartext h2c with prior knowledge; default port 80.
    Http,
    /// HTTP/2 over TLS; default port 443.
    Https,
}

impl Scheme {
    /// The port used when a URI names none.
    pub fn default_port(self) -> u16 {
        match self {
            Scheme::Http => 80,
            Scheme::Https => 443,
        }
    }

    /// `"http"` or `"https"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }
}

/// Why a URI names no origin.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum OriginError {
    /// The URI has no scheme (a bare path such as `/index.html`).
    MissingScheme,
    /// The scheme is neither `http` nor `https`.
    UnsupportedScheme,
    /// The URI has no host.
    MissingHost,
}

impl fmt::Display for OriginError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            OriginError::MissingScheme => "the URI has no scheme (http:// or https://)",
            OriginError::UnsupportedScheme => "only http:// and https:// URIs are supported",
            OriginError::MissingHost => "the URI has no host",
        })
    }
}

impl std::error::Error for OriginError {}

/// A (scheme, host, port) triple. Cheap to clone: the host is shared.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Origin {
    scheme: Scheme,
    host: Arc<str>,
    port: u16,
}

impl Origin {
    /// An origin from its parts; the host is lowercased. An IPv6 literal is given without
    /// brackets or with them, as `http::Uri::host` returns it.
    pub fn new(scheme: Scheme, host: &str, port: u16) -> Origin {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        // One allocation on the usual path (a host already in lowercase).
        let host: Arc<str> = if host.bytes().any(|b| b.is_ascii_uppercase()) {
            host.to_ascii_lowercase().into()
        } else {
            host.into()
        };
        Origin { scheme, host, port }
    }

    /// The origin of an absolute URI (`https://host[:port]/...`).
    pub fn from_uri(uri: &Uri) -> Result<Origin, OriginError> {
        let scheme = match uri.scheme_str() {
            None => return Err(OriginError::MissingScheme),
            Some(s) if s.eq_ignore_ascii_case("https") => Scheme::Https,
            Some(s) if s.eq_ignore_ascii_case("http") => Scheme::Http,
            Some(_) => return Err(OriginError::UnsupportedScheme),
        };
        let host = uri.host().filter(|h| !h.is_empty()).ok_or(OriginError::MissingHost)?;
        let port = uri.port_u16().unwrap_or(scheme.default_port());
        Ok(Origin::new(scheme, host, port))
    }

    /// The scheme.
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// The lowercased host, without brackets for an IPv6 literal (what a resolver and TLS
    /// SNI take).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port, explicit or the scheme's default.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Whether this is an `https` origin.
    pub fn is_https(&self) -> bool {
        self.scheme == Scheme::Https
    }

    /// `host:port` as `:authority` carries it (IPv6 literals bracketed, RFC 3986 §3.2.2);
    /// the port is left out when it is the scheme's default.
    pub fn authority(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.to_string()
        };
        if self.port == self.scheme.default_port() { host } else { format!("{host}:{}", self.port) }
    }
}

impl Origin {
    /// The connection's origin in the form [`Connection::set_origin`](crate::Connection::set_origin)
    /// takes (for requests that name only a path); `None` if the host makes no valid
    /// authority (only possible for an origin built by hand with [`Origin::new`]).
    pub fn to_connection_origin(&self) -> Option<crate::Origin> {
        let scheme = match self.scheme {
            Scheme::Http => http::uri::Scheme::HTTP,
            Scheme::Https => http::uri::Scheme::HTTPS,
        };
        let authority = self.authority().parse().ok()?;
        Some(crate::Origin::new(scheme, authority))
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let host = &self.host;
        if host.contains(':') {
            write!(f, "{}://[{host}]:{}", self.scheme.as_str(), self.port)
        } else {
            write!(f, "{}://{host}:{}", self.scheme.as_str(), self.port)
        }
    }
}

impl fmt::Debug for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Origin({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin(uri: &str) -> Result<Origin, OriginError> {
        Origin::from_uri(&uri.parse().unwrap())
    }

    #[test]
    fn default_ports_and_lowercase_hosts_make_one_origin() {
        let a = origin("HTTPS://Example.COM/a").unwrap();
        let b = origin("https://example.com:443/b?q").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.port(), 443);
        assert_eq!(a.host(), "example.com");
        assert_eq!(origin("http://example.com/").unwrap().port(), 80);
        assert_ne!(origin("http://example.com/").unwrap(), origin("https://example.com/").unwrap());
        assert_ne!(origin("http://a:8080/").unwrap(), origin("http://a:8081/").unwrap());
    }

    #[test]
    fn ipv6_literals_keep_their_host_without_brackets() {
        let o = origin("http://[::1]:8080/").unwrap();
        assert_eq!(o.host(), "::1");
        assert_eq!(o.authority(), "[::1]:8080");
        assert_eq!(o.to_string(), "http://[::1]:8080");
    }

    #[test]
    fn authority_leaves_out_the_default_port() {
        assert_eq!(origin("https://example.com/").unwrap().authority(), "example.com");
        assert_eq!(origin("http://example.com:81/").unwrap().authority(), "example.com:81");
    }

    #[test]
    fn the_connection_origin_carries_scheme_and_authority() {
        let o = origin("https://Example.com:8443/x").unwrap().to_connection_origin().unwrap();
        assert_eq!((o.scheme.as_str(), o.authority.as_str()), ("https", "example.com:8443"));
        let o = origin("http://[::1]/").unwrap().to_connection_origin().unwrap();
        assert_eq!(o.authority.as_str(), "[::1]");
    }

    #[test]
    fn uris_without_an_origin_are_errors() {
        assert_eq!(origin("/just/a/path"), Err(OriginError::MissingScheme));
        assert_eq!(origin("ftp://example.com/"), Err(OriginError::UnsupportedScheme));
    }
}
