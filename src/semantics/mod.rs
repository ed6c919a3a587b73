//! HTTP semantics over HTTP/2 (RFC 9113 §8), shared by both roles and every adapter.
//!
//! Decoding turns an HPACK field list into `http` types and rejects a *malformed* message —
//! a stream error of type PROTOCOL_ERROR (§8.1.1) — for: pseudo-header fields that are
//! unknown, repeated, misplaced after regular fields, or missing (§8.3); field names with
//! uppercase or other forbidden characters (§8.2.1); values with NUL, CR, LF or
//! surrounding whitespace (§8.2.1); connection-specific fields and `te` other than
//! `trailers` (§8.2.2); a `host` that disagrees with `:authority` (§8.3.1); CONNECT and
//! extended CONNECT rules (§8.5, RFC 8441 §4). Cookie crumbs are joined (§8.2.3).
//!
//! Encoding writes the pseudo-header fields from `http` types, splits cookies into crumbs
//! for better compression, marks sensitive values never-indexed, and refuses what the peer
//! would treat as malformed, so the caller learns of it before anything is sent.

mod decode;
mod encode;
mod field_cache;
mod header_pool;
mod origin;
mod repeat;

pub(crate) use decode::{FieldCollector, MessageKind, TargetCache};
pub(crate) use encode::{Strip, check_trailers, encode_request, encode_response, encode_trailers};
pub(crate) use field_cache::FieldCache;
pub use header_pool::HeaderPool;
pub use origin::Origin;
pub(crate) use repeat::RepeatedBlock;

/// Methods that define no meaning for request content (RFC 9110 §9.3): an empty body of
/// theirs goes without `content-length: 0`.
pub(crate) fn no_request_content(method: &http::Method) -> bool {
    use http::Method;
    [Method::GET, Method::HEAD, Method::DELETE, Method::OPTIONS, Method::TRACE].contains(method)
}

/// The `:protocol` pseudo-header of extended CONNECT (RFC 8441 §4), as a request extension.
///
/// A client sets it on a CONNECT request to open, say, a WebSocket over HTTP/2; a server
/// finds it in the extensions of the received request.
///
/// ```
/// let mut request = http::Request::connect("https://example.com/chat").body(()).unwrap();
/// request.extensions_mut().insert(h2proto::Protocol::from("websocket"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Protocol(bytes::Bytes);

impl Protocol {
    /// The protocol name, e.g. `websocket`.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("")
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl From<&'static str> for Protocol {
    fn from(name: &'static str) -> Self {
        Protocol(bytes::Bytes::from_static(name.as_bytes()))
    }
}

/// Why a message is malformed; carried for diagnostics, the reaction is always a stream
/// error of type PROTOCOL_ERROR.
pub(crate) type Malformed = &'static str;

/// Header fields that are specific to a connection and never valid in HTTP/2 (§8.2.2).
pub(crate) fn is_connection_specific(name: &[u8]) -> bool {
    matches!(
        name,
        b"connection" | b"proxy-connection" | b"keep-alive" | b"transfer-encoding" | b"upgrade"
    )
}

/// Removes the fields §8.2.2 forbids (connection-specific ones, `te` other than
/// `trailers`) from `headers`, returning how many were removed.
pub(crate) fn strip_connection_specific(headers: &mut http::HeaderMap) -> u64 {
    let forbidden = |name: &http::HeaderName, value: &http::HeaderValue| {
        is_connection_specific(name.as_str().as_bytes())
            || (*name == http::header::TE && !value.as_bytes().eq_ignore_ascii_case(b"trailers"))
    };
    if !headers.iter().any(|(name, value)| forbidden(name, value)) {
        return 0;
    }
    let mut kept = http::HeaderMap::with_capacity(headers.len());
    for (name, value) in headers.iter().filter(|(name, value)| !forbidden(name, value)) {
        kept.append(name.clone(), value.clone());
    }
    let removed = headers.len() - kept.len();
    *headers = kept;
    removed as u64
}

/// §8.2.1: a field value MUST NOT contain NUL, LF or CR, nor start or end with SP or HTAB.
pub(crate) fn valid_value(value: &[u8]) -> bool {
    valid_value_edges(value) && !value.iter().any(|&b| b == 0 || b == b'\n' || b == b'\r')
}

/// §8.2.1: a field value MUST NOT start or end with SP or HTAB.
pub(crate) fn valid_value_edges(value: &[u8]) -> bool {
    let edge = |b: &u8| *b == b' ' || *b == b'\t';
    !value.first().is_some_and(edge) && !value.last().is_some_and(edge)
}
