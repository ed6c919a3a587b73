//! From a decoded field list to `http` types, rejecting malformed messages (RFC 9113 §8).

use super::field_cache::FieldCache;
use super::{Malformed, Protocol, is_connection_specific, valid_value, valid_value_edges};
use crate::hpack::FieldView;
use bytes::{Bytes, BytesMut};
use http::header::{HeaderName, HeaderValue};
use http::uri::{Authority, PathAndQuery, Scheme};
use http::{HeaderMap, Method, Request, Response, StatusCode, Uri, Version};

/// What kind of field block is expected, which decides the allowed pseudo-headers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MessageKind {
    /// A request (server side, or a PUSH_PROMISE on the client side).
    Request {
        /// Whether we advertised SETTINGS_ENABLE_CONNECT_PROTOCOL, allowing `:protocol`.
        connect_protocol: bool,
    },
    /// A response head, informational or final (client side).
    Response,
    /// Trailers: regular fields only (§8.1).
    Trailers,
}

/// The last request target parsed on a connection. Clients send the same `:authority` on
/// every request of a connection, and often the same `:path` again (polling, an RPC
/// method), so each is parsed once and shared while it repeats (a clone of `Authority` or
/// `PathAndQuery` is a reference-count increment). It holds one of each, so a peer that
/// changes them every request only costs the parse it would cost anyway.
///
/// The cached authority is a copy: a slice of the input would keep the caller's whole
/// read buffer alive for as long as the connection lasts. The cached path is the one the
/// request carried: a repeated Huffman-coded `:path` is a slice of the HPACK decoder's
/// own arena (see the decoder's `LastLiteral`), a literal one a slice of the header block,
/// which the cache then keeps alive until the path changes.
#[derive(Debug, Default)]
pub(crate) struct TargetCache {
    authority: Option<Authority>,
    /// Whether the cached authority has a userinfo part (`user@`), found when it was parsed.
    userinfo: bool,
    path: Option<PathAndQuery>,
}

impl TargetCache {
    fn authority(&mut self, bytes: &[u8]) -> Result<Authority, Malformed> {
        if let Some(last) = &self.authority {
            if last.as_str().as_bytes() == bytes {
                return Ok(last.clone());
            }
        }
        let authority = Authority::from_maybe_shared(Bytes::copy_from_slice(bytes))
            .map_err(|_| "invalid :authority")?;
        self.authority = Some(authority.clone());
        self.userinfo = bytes.contains(&b'@');
        Ok(authority)
    }

    /// Looks at the decoder's `Bytes` without taking a reference: only a path that is
    /// parsed anew keeps (a clone of) it.
    fn path(&mut self, bytes: &Bytes) -> Result<PathAndQuery, Malformed> {
        if let Some(last) = &self.path {
            if last.as_str().as_bytes() == &bytes[..] {
                return Ok(last.clone());
            }
        }
        let path = PathAndQuery::from_maybe_shared(bytes.clone()).map_err(|_| "invalid :path")?;
        self.path = Some(path.clone());
        Ok(path)
    }
}

/// Collects fields as the HPACK decoder emits them; the first violation is remembered and
/// the rest of the block is ignored.
///
/// Request pseudo-header fields are parsed as they arrive, while the decoder still lends
/// their bytes: nothing is cloned to be parsed later, and a target that repeats costs a
/// comparison with the connection's [`TargetCache`].
#[derive(Clone)]
pub(crate) struct FieldCollector {
    kind: MessageKind,
    error: Option<Malformed>,
    /// Fields in the block, valid or not.
    fields: u32,
    regular_seen: bool,
    method: Option<Method>,
    scheme: Option<Scheme>,
    /// `:authority` was present (it may be empty, which leaves `authority` empty).
    authority_seen: bool,
    authority: Option<Authority>,
    path: Option<PathAndQuery>,
    protocol: Option<Bytes>,
    status: Option<Bytes>,
    host: Option<Bytes>,
    cookie: Option<BytesMut>,
    /// A cookie crumb arrived never-indexed (RFC 7541 §6.2.3): the joined cookie is marked
    /// sensitive, so that a relay sends it on never-indexed too (§7.1.3).
    cookie_sensitive: bool,
    content_length: Option<u64>,
    /// The RFC 9218 `priority` field, kept aside so the scheduler need not search for it.
    priority: Option<Bytes>,
    /// Regular fields: a reused map, or one created with the first field (so a message
    /// without any costs no map).
    headers: Option<HeaderMap>,
}

impl FieldCollector {
    /// A collector for a block of `kind`; `map`, a cleared map if there is one to reuse,
    /// receives the regular fields.
    pub(crate) fn new(kind: MessageKind, map: Option<HeaderMap>) -> FieldCollector {
        FieldCollector {
            kind,
            error: None,
            fields: 0,
            regular_seen: false,
            method: None,
            scheme: None,
            authority_seen: false,
            authority: None,
            path: None,
            protocol: None,
            status: None,
            host: None,
            cookie: None,
            cookie_sensitive: false,
            content_length: None,
            priority: None,
            headers: map,
        }
    }

    /// A copy of the finished collector, to be replayed for a block that repeats (see
    /// [`RepeatedBlock`](super::RepeatedBlock)). Every string is copied, so the copy pins no
    /// read buffer or HPACK arena. `None` for a collector not worth keeping: one that found
    /// the block malformed, or holds a never-indexed (sensitive) value.
    pub(crate) fn snapshot(&self) -> Option<Snapshot> {
        if self.error.is_some() || self.cookie_sensitive {
            return None;
        }
        let copy = |b: &Option<Bytes>| b.as_deref().map(Bytes::copy_from_slice);
        let mut fields = Vec::new();
        for (name, value) in self.headers.iter().flatten() {
            if value.is_sensitive() {
                return None;
            }
            fields.push((name.clone(), HeaderValue::from_bytes(value.as_bytes()).ok()?));
        }
        let map = fields.iter().cloned().collect();
        let path = match &self.path {
            Some(p) => Some(
                PathAndQuery::from_maybe_shared(Bytes::copy_from_slice(p.as_str().as_bytes()))
                    .ok()?,
            ),
            None => None,
        };
        let scheme = match &self.scheme {
            Some(s) => Some(Scheme::try_from(s.as_str().as_bytes()).ok()?),
            None => None,
        };
        let collector = FieldCollector {
            kind: self.kind,
            error: None,
            fields: self.fields,
            regular_seen: self.regular_seen,
            method: self.method.clone(),
            scheme,
            authority_seen: self.authority_seen,
            authority: self.authority.clone(),
            path,
            protocol: copy(&self.protocol),
            status: copy(&self.status),
            host: copy(&self.host),
            cookie: self.cookie.clone(),
            cookie_sensitive: false,
            content_length: self.content_length,
            priority: copy(&self.priority),
            headers: None,
        };
        Some(Snapshot { collector, fields, map })
    }

    /// How many fields the block held.
    pub(crate) fn field_count(&self) -> u32 {
        self.fields
    }

    /// The declared content-length, once the block is complete.
    pub(crate) fn content_length(&self) -> Option<u64> {
        self.content_length
    }

    /// The `priority` field's value (RFC 9218 §5), if present.
    pub(crate) fn priority(&self) -> Option<&Bytes> {
        self.priority.as_ref()
    }

    /// Takes the next field; `checked` holds (and receives) regular fields already
    /// checked, by HPACK table entry, and `targets` the last request target.
    pub(crate) fn push(
        &mut self,
        field: FieldView<'_>,
        checked: &mut FieldCache,
        targets: &mut TargetCache,
    ) {
        self.fields += 1;
        if self.error.is_none() {
            if let Err(e) = self.accept(field, checked, targets) {
                self.error = Some(e);
            }
        }
    }

    fn accept(
        &mut self,
        field: FieldView<'_>,
        checked: &mut FieldCache,
        targets: &mut TargetCache,
    ) -> Result<(), Malformed> {
        if field.name.first() == Some(&b':') {
            return self.accept_pseudo(field, targets);
        }
        self.regular_seen = true;
        let entry = field.table_entry();
        if let Some((name, value)) = entry.and_then(|e| checked.get(e)) {
            // The same table entry passed every check below before, and needed no special
            // handling: the same field again.
            return self.add(name, value);
        }
        let name = &field.name[..];
        // §8.2.1 on names: `from_lowercase` rejects uppercase and every byte outside the
        // token alphabet, which covers 0x00-0x20, 0x7f-0xff and the colon.
        let header_name =
            // req 9113-8.2.1-1, 9113-8.2.1-2, 9113-8.2.1-3, 9113-8.2.1-4, 9113-8.2.1-7, 9113-8.2.1-8, 9113-8.1.1-2, 9113-10.3-1
            HeaderName::from_lowercase(name).map_err(|_| "invalid character in a field name")?;
        // §8.2.1 on values: the edges here; NUL, CR and LF (with every other control
        // character but HTAB) are refused by `HeaderValue` below.
        // req 9113-8.2.1-6
        if !valid_value_edges(field.value) {
            return Err("whitespace around a field value");
        }
        // req 9113-8.2.2-2
        if is_connection_specific(name) {
            return Err("connection-specific header field");
        }
        match name {
            // §8.2.2: `trailers` is a token, compared case-insensitively (RFC 9110 §10.1.4).
            // req 9113-8.2.2-3, 9113-8.2.2-4
            b"te" if !field.value.eq_ignore_ascii_case(b"trailers") => {
                return Err("te other than trailers");
            }
            b"content-length" => {
                let n = parse_content_length(field.value)?;
                if self.content_length.is_some_and(|m| m != n) {
                    return Err("conflicting content-length values");
                }
                self.content_length = Some(n);
            }
            b"cookie" => {
                // req 9113-8.2.3-2
                // §8.2.3: cookie crumbs are joined with "; " into one field.
                // req 7541-6.2.3-3, 7541-7.1.3-1
                self.cookie_sensitive |= field.sensitive;
                match &mut self.cookie {
                    Some(joined) => {
                        joined.extend_from_slice(b"; ");
                        joined.extend_from_slice(field.value);
                    }
                    None => self.cookie = Some(BytesMut::from(&field.value[..])),
                }
                return Ok(());
            }
            // §8.3.1: every host field must agree with :authority, so repeated ones must
            // agree with each other (host names are case-insensitive, RFC 3986 §3.2.2).
            b"host" => match &self.host {
                Some(first) if !first.eq_ignore_ascii_case(field.value) => {
                    return Err("conflicting host fields");
                }
                Some(_) => {}
                None => self.host = Some(field.value.clone()),
            },
            b"priority" => self.priority = Some(field.value.clone()),
            _ => {
                // req 9113-8.2.1-5
                let mut value = HeaderValue::from_maybe_shared(field.value.clone())
                    .map_err(|_| "invalid character in a field value")?;
                // req 7541-6.2.3-1, 7541-6.2.3-3, 7541-7.1.3-1 (the mark is kept for a relay)
                value.set_sensitive(field.sensitive);
                if let (Some(entry), false) = (entry, field.sensitive) {
                    checked.put(entry, &header_name, &value);
                }
                return self.add(header_name, value);
            }
        }
        // req 9113-8.2.1-5
        let mut value = HeaderValue::from_maybe_shared(field.value.clone())
            .map_err(|_| "invalid character in a field value")?;
        // req 7541-6.2.3-1, 7541-6.2.3-3, 7541-7.1.3-1
        value.set_sensitive(field.sensitive);
        self.add(header_name, value)
    }

    /// Adds a regular field. A `HeaderMap` holds a bounded number of distinct names and
    /// panics past them on `append`: more than it holds is a malformed message (§8.1.1),
    /// whatever `max_header_list_size` lets in.
    fn add(&mut self, name: HeaderName, value: HeaderValue) -> Result<(), Malformed> {
        match self.headers.get_or_insert_default().try_append(name, value) {
            Ok(_) => Ok(()),
            Err(_) => Err("more header fields than a header map holds"),
        }
    }

    fn accept_pseudo(
        &mut self,
        field: FieldView<'_>,
        targets: &mut TargetCache,
    ) -> Result<(), Malformed> {
        // §8.3: all pseudo-header fields MUST come before regular fields.
        // req 9113-8.3-7
        if self.regular_seen {
            return Err("pseudo-header field after a regular field");
        }
        // req 9113-8.3-9
        const REPEATED: Malformed = "repeated pseudo-header field";
        let value = field.value;
        match (self.kind, &field.name[..]) {
            (MessageKind::Request { .. }, b":method") => {
                if self.method.is_some() {
                    return Err(REPEATED);
                }
                self.method = Some(Method::from_bytes(value).map_err(|_| "invalid :method")?);
            }
            (MessageKind::Request { .. }, b":scheme") => {
                if self.scheme.is_some() {
                    return Err(REPEATED);
                }
                self.scheme = Some(Scheme::try_from(&value[..]).map_err(|_| "invalid :scheme")?);
            }
            (MessageKind::Request { .. }, b":authority") => {
                if self.authority_seen {
                    return Err(REPEATED);
                }
                self.authority_seen = true;
                if !value.is_empty() {
                    self.authority = Some(targets.authority(value)?);
                }
            }
            (MessageKind::Request { .. }, b":path") => {
                if self.path.is_some() {
                    return Err(REPEATED);
                }
                // §8.3.1: :path MUST NOT be empty.
                self.path = Some(match &value[..] {
                    // req 9113-8.3.1-12
                    b"" => return Err("empty :path"),
                    b"*" => PathAndQuery::from_static("*"),
                    _ => targets.path(value)?,
                });
            }
            (MessageKind::Request { connect_protocol: true }, b":protocol") => {
                // §8.2.1: the one pseudo-header value no `http` parser checks
                // (`:method`, `:scheme`, `:authority`, `:path` and `:status` admit no NUL,
                // CR, LF, SP or HTAB in their grammars).
                // req 9113-8.3-5
                if !valid_value(value) {
                    return Err("invalid character or whitespace in a pseudo-header value");
                }
                if self.protocol.is_some() {
                    return Err(REPEATED);
                }
                self.protocol = Some(value.clone());
            }
            (MessageKind::Response, b":status") => {
                if self.status.is_some() {
                    return Err(REPEATED);
                }
                self.status = Some(value.clone());
            }
            // req 9113-8.1-4, 9113-8.3-4
            (MessageKind::Trailers, _) => return Err("pseudo-header field in trailers"),
            // req 9113-8.3-2, 9113-8.3-3, 9113-8.3-5
            _ => return Err("unknown or misplaced pseudo-header field"),
        }
        Ok(())
    }

    /// The request, or why it is malformed (for a `MessageKind::Request` collector).
    /// Takes the message out (the collector is left empty).
    pub(crate) fn request(&mut self, targets: &mut TargetCache) -> Result<Request<()>, Malformed> {
        self.finish_fields()?;
        self.finish_request(targets)
    }

    /// The response, or why it is malformed (for a `MessageKind::Response` collector).
    pub(crate) fn response(&mut self) -> Result<Response<()>, Malformed> {
        self.finish_fields()?;
        self.finish_response()
    }

    /// The trailers, or why they are malformed (for a `MessageKind::Trailers` collector).
    pub(crate) fn trailers(&mut self) -> Result<HeaderMap, Malformed> {
        self.finish_fields()?;
        Ok(self.headers.take().unwrap_or_default())
    }

    /// The first violation seen while collecting, if any; joins the cookie crumbs.
    fn finish_fields(&mut self) -> Result<(), Malformed> {
        if let Some(e) = self.error {
            return Err(e);
        }
        if let Some(cookie) = self.cookie.take() {
            let mut value = HeaderValue::from_maybe_shared(cookie.freeze())
                .map_err(|_| "invalid cookie value")?;
            value.set_sensitive(self.cookie_sensitive);
            self.add(http::header::COOKIE, value)?;
        }
        Ok(())
    }

    fn finish_request(&mut self, targets: &mut TargetCache) -> Result<Request<()>, Malformed> {
        let method = self.method.take().ok_or("missing :method")?;
        let is_connect = method == Method::CONNECT;
        let has_authority = self.authority_seen;
        let authority = match self.host.take() {
            // §8.3.1: a host field that differs from :authority makes the request malformed.
            Some(host) if has_authority => {
                let authority = self.authority.as_ref().map_or("", |a| a.as_str());
                // req 9113-8.3.1-1, 9113-8.3.1-5
                if !authority.as_bytes().eq_ignore_ascii_case(&host) {
                    return Err(":authority and host disagree");
                }
                self.authority.take()
            }
            Some(host) if !host.is_empty() => Some(targets.authority(&host)?),
            _ => self.authority.take(),
        };
        let mut parts = http::uri::Parts::default();
        let mut extensions = http::Extensions::new();
        if is_connect && self.protocol.is_none() {
            // §8.5: CONNECT carries :authority only; :scheme and :path MUST be omitted.
            // req 9113-8.5-1
            if self.scheme.is_some() || self.path.is_some() {
                return Err("CONNECT with :scheme or :path");
            }
            if !has_authority {
                return Err("CONNECT without :authority");
            }
            parts.authority = Some(authority.ok_or("CONNECT with an empty :authority")?);
        } else {
            if let Some(protocol) = self.protocol.take() {
                // RFC 8441 §4: :protocol only on CONNECT, which then also carries :scheme,
                // :path and :authority.
                if !is_connect {
                    return Err(":protocol on a method other than CONNECT");
                }
                if !has_authority {
                    return Err("extended CONNECT without :authority");
                }
                extensions.insert(Protocol(protocol));
            }
            // §8.3.1: :method, :scheme and :path are required.
            // req 9113-8.3.1-15
            let scheme = self.scheme.take().ok_or("missing :scheme")?;
            let path = self.path.take().ok_or("missing :path")?;
            if matches!(scheme.as_str(), "http" | "https") {
                // §8.3.1: an http(s) :path is origin-form (`/...`), or `*` for OPTIONS.
                // req 9113-8.3.1-13, 9113-8.3.1-15
                match path.as_str() {
                    "*" if method == Method::OPTIONS => {}
                    p if p.starts_with('/') => {}
                    _ => return Err(":path neither origin-form nor * for OPTIONS"),
                }
                // §8.3.1: no deprecated userinfo in an http(s) :authority. The authority is
                // the one the cache parsed last, which noted whether it had one.
                // req 9113-8.3.1-11
                if authority.is_some() && targets.userinfo {
                    return Err("userinfo in :authority");
                }
            }
            parts.path_and_query = Some(path);
            match authority {
                Some(authority) => {
                    parts.scheme = Some(scheme);
                    parts.authority = Some(authority);
                }
                // Without an authority the URI is origin-form; the scheme rides along as
                // an extension.
                None => {
                    extensions.insert(scheme);
                }
            }
        }
        let mut request = Request::new(());
        *request.method_mut() = method;
        *request.uri_mut() = Uri::from_parts(parts).map_err(|_| "invalid request target")?;
        *request.version_mut() = Version::HTTP_2;
        if let Some(headers) = self.headers.take() {
            *request.headers_mut() = headers;
        }
        *request.extensions_mut() = extensions;
        Ok(request)
    }

    fn finish_response(&mut self) -> Result<Response<()>, Malformed> {
        // req 9113-8.3.2-1
        let status = self.status.take().ok_or("missing :status")?;
        if status.len() != 3 {
            return Err(":status is not three digits");
        }
        let status = StatusCode::from_bytes(&status).map_err(|_| "invalid :status")?;
        // §8.6: HTTP/2 removes support for 101 (Switching Protocols).
        if status == StatusCode::SWITCHING_PROTOCOLS {
            return Err("101 Switching Protocols in HTTP/2");
        }
        let mut response = Response::new(());
        *response.status_mut() = status;
        *response.version_mut() = Version::HTTP_2;
        if let Some(headers) = self.headers.take() {
            *response.headers_mut() = headers;
        }
        Ok(response)
    }
}

/// A finished collector kept for replay: its state without the map, and the map's fields,
/// both as a list (appended to a map being reused) and as a map (copied whole when there
/// is none).
pub(crate) struct Snapshot {
    collector: FieldCollector,
    fields: Vec<(HeaderName, HeaderValue)>,
    map: HeaderMap,
}

impl Snapshot {
    /// The collector again, as if the same block had been decoded into `map` (a cleared map
    /// to reuse, if there is one).
    pub(crate) fn replay(&self, map: Option<HeaderMap>) -> FieldCollector {
        let mut collector = self.collector.clone();
        collector.headers = map;
        if self.fields.is_empty() {
            return collector;
        }
        match &mut collector.headers {
            // A map that has room takes the fields (its allocation is reused, grown if need
            // be). A kept block is at most 256 bytes, so a few hundred fields: far below the
            // map's limit, which decoding it checked (`add`).
            Some(headers) if headers.capacity() > 0 => {
                for (name, value) in &self.fields {
                    headers.append(name.clone(), value.clone());
                }
            }
            // Else (none, or one never used: a client's request heads often have no
            // fields) a copy of the kept map: allocated once at its size, and no field
            // hashed or inserted again.
            slot => *slot = Some(self.map.clone()),
        }
        collector
    }

    /// Bytes of strings held, roughly (what a bound on kept snapshots counts).
    pub(crate) fn size(&self) -> usize {
        // The strings are shared by the list and the map; each entry costs both its slots.
        self.fields.iter().map(|(n, v)| n.as_str().len() + v.len() + 64).sum::<usize>()
            + self.collector.path.as_ref().map_or(0, |p| p.as_str().len())
            + self.collector.authority.as_ref().map_or(0, |a| a.as_str().len())
            + self.collector.cookie.as_ref().map_or(0, |c| c.len())
    }
}

fn parse_content_length(value: &[u8]) -> Result<u64, Malformed> {
    if value.is_empty() || value.len() > 19 || !value.iter().all(u8::is_ascii_digit) {
        return Err("invalid content-length");
    }
    Ok(value.iter().fold(0u64, |n, d| n * 10 + u64::from(d - b'0')))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The cache outlives every request of a connection: it must not hold on to the
    /// buffer the authority was read from.
    #[test]
    fn cached_authority_is_a_copy_of_the_input() {
        let input = Bytes::from(b"..example.com:8443..".to_vec());
        let range = input.as_ptr() as usize..input.as_ptr() as usize + input.len();
        let mut cache = TargetCache::default();
        let first = cache.authority(&input[2..18]).unwrap();
        assert_eq!(first.as_str(), "example.com:8443");
        assert!(!range.contains(&(first.as_str().as_ptr() as usize)));
        // A repeat is served from the cache, equal and again not a slice of the input.
        let again = cache.authority(&input[2..18]).unwrap();
        assert_eq!(again, first);
        assert!(!range.contains(&(again.as_str().as_ptr() as usize)));
    }

    /// A repeated `:path` is parsed once and shared; a new one replaces it, and an invalid
    /// one is still refused after a valid one was cached.
    #[test]
    fn repeated_path_is_shared_until_it_changes() {
        let mut cache = TargetCache::default();
        let first = cache.path(&Bytes::from_static(b"/a?x=1")).unwrap();
        let again = cache.path(&Bytes::from(b"/a?x=1".to_vec())).unwrap();
        assert_eq!(again, first);
        assert_eq!(again.query(), Some("x=1"));
        assert_eq!(again.as_str().as_ptr(), first.as_str().as_ptr(), "shared, not parsed again");
        let other = cache.path(&Bytes::from_static(b"/b")).unwrap();
        assert_eq!((other.path(), other.query()), ("/b", None));
        assert!(cache.path(&Bytes::from_static(b"/c\x7f")).is_err());
        assert_eq!(cache.path(&Bytes::from_static(b"/b")).unwrap(), other);
    }
}
