//! From `http` types to an HPACK field block, refusing what the peer would find malformed.

use super::{Malformed, Origin, Protocol, is_connection_specific};
use crate::hpack::{Encoder, FieldRef};
use bytes::BytesMut;
use http::{HeaderMap, Method, Request, Response};
use smallvec::SmallVec;

/// Inline room for the fields of a typical message; more spill to the heap.
type Fields<'a> = SmallVec<[FieldRef<'a>; 16]>;

/// What to do with a connection-specific field in a message we send (§8.2.2): leave it
/// out, counting it, or refuse the message.
pub(crate) enum Strip<'a> {
    /// Left out and counted here.
    Count(&'a mut u64),
    /// The message is refused.
    Refuse,
}

impl Strip<'_> {
    /// Whether the field is left out (`Err` if the message is refused).
    fn field(&mut self, why: Malformed) -> Result<(), Malformed> {
        match self {
            Strip::Count(n) => {
                **n += 1;
                Ok(())
            }
            Strip::Refuse => Err(why),
        }
    }
}

/// Encodes a request head, with a `content-length` of `length` if given and the head has
/// none. What the URI lacks comes from the connection's `origin` (§8.3.1): `:authority`
/// from a `host` header first, then the origin; `:scheme` from the origin, else `https`.
pub(crate) fn encode_request(
    request: &Request<()>,
    origin: Option<&Origin>,
    length: Option<u64>,
    max_list_size: u32,
    strip: Strip<'_>,
    encoder: &mut Encoder,
    dst: &mut BytesMut,
) -> Result<(), Malformed> {
    let uri = request.uri();
    let method = request.method();
    let protocol = request.extensions().get::<Protocol>();
    let host = request.headers().get(http::header::HOST).map(|h| h.as_bytes());
    // req 9113-8.3.1-2, 9113-9.1.1-1
    let authority = uri
        .authority()
        .map(|a| a.as_str().as_bytes())
        .or(host)
        .or_else(|| origin.map(|o| o.authority.as_str().as_bytes()));
    let with_slash; // outlives `fields`, which may borrow it as :path
    let mut fields = Fields::new();
    // req 9113-8.3-1, 9113-8.3-2, 9113-8.3-6, 9113-8.3-8
    fields.push(FieldRef::new(b":method", method.as_str().as_bytes()));
    if *method == Method::CONNECT && protocol.is_none() {
        // req 9113-8.5-1
        // §8.5: only :method and :authority.
        let authority = authority.ok_or("CONNECT request without an authority")?;
        fields.push(FieldRef::new(b":authority", authority));
    } else {
        if protocol.is_some() && *method != Method::CONNECT {
            return Err(":protocol on a method other than CONNECT");
        }
        let scheme =
            uri.scheme_str().or_else(|| origin.map(|o| o.scheme.as_str())).unwrap_or("https");
        // §8.3.1: no deprecated userinfo in :authority for http(s).
        // req 9113-8.3.1-11
        if matches!(scheme, "http" | "https") && authority.is_some_and(|a| a.contains(&b'@')) {
            return Err("userinfo in the authority of an http(s) URI");
        }
        // §8.3.1: an http(s) :path is origin-form: a target with a query but no path
        // (`http://h?q`) goes out as `/?q`.
        let path = match uri.path_and_query() {
            // req 9113-8.3.1-12, 9113-8.3.1-13, 9113-8.3.1-14
            Some(pq) if pq.as_str().starts_with('?') => {
                with_slash = format!("/{}", pq.as_str());
                with_slash.as_str()
            }
            Some(pq) if !pq.as_str().is_empty() => pq.as_str(),
            _ => "/",
        };
        fields.push(FieldRef::new(b":scheme", scheme.as_bytes()));
        // req 9113-8.3.1-3
        if let Some(authority) = authority {
            fields.push(FieldRef::new(b":authority", authority));
        }
        fields.push(FieldRef::new(b":path", path.as_bytes()));
        if let Some(protocol) = protocol {
            fields.push(FieldRef::new(b":protocol", protocol.as_bytes()));
        }
    }
    push_headers(request.headers(), &mut fields, true, strip)?;
    // The head's own content-length wins.
    let length = length.filter(|_| !fields.iter().any(|f| f.name == b"content-length"));
    check_list_size(&fields, 0, length, max_list_size)?;
    encoder.start_block(dst);
    encoder.encode_head(None, &fields, dst);
    if let Some(n) = length {
        encoder.encode_content_length(decimal(n, &mut [0u8; 20]), dst);
    }
    Ok(())
}

/// Encodes a response head (final or informational), with a `content-length` of `length`
/// if given and the head has none.
pub(crate) fn encode_response(
    response: &Response<()>,
    length: Option<u64>,
    max_list_size: u32,
    strip: Strip<'_>,
    encoder: &mut Encoder,
    dst: &mut BytesMut,
) -> Result<(), Malformed> {
    let mut fields = Fields::new();
    push_headers(response.headers(), &mut fields, false, strip)?;
    // The head's own content-length wins (looked for among the few fields, not hashed again).
    let length = length.filter(|_| !fields.iter().any(|f| f.name == b"content-length"));
    // :status: 7 + 3 + 32.
    check_list_size(&fields, 42, length, max_list_size)?;
    // :status and content-length skip the encoder's name lookup: both names are known.
    encoder.start_block(dst);
    // req 9113-8.3.2-1, 9113-8.3-1, 9113-8.3-3, 9113-8.3-6, 9113-8.3-8
    encoder.encode_head(Some(response.status().as_u16()), &fields, dst);
    if let Some(n) = length {
        encoder.encode_content_length(decimal(n, &mut [0u8; 20]), dst);
    }
    Ok(())
}

/// `n` in decimal, written at the end of `buf`.
fn decimal(mut n: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut start = buf.len();
    loop {
        start -= 1;
        buf[start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return &buf[start..];
        }
    }
}

/// Encodes trailers: regular fields only.
pub(crate) fn encode_trailers(
    trailers: &HeaderMap,
    encoder: &mut Encoder,
    dst: &mut BytesMut,
) -> Result<(), Malformed> {
    let mut fields = Fields::new();
    // req 9113-8.1-3, 9113-8.3-4
    // `send_trailers` removed connection-specific fields already, or refused them.
    push_headers(trailers, &mut fields, false, Strip::Refuse)?;
    encoder.encode(fields.iter().copied(), dst);
    Ok(())
}

fn push_headers<'a>(
    headers: &'a HeaderMap,
    fields: &mut Fields<'a>,
    skip_host: bool,
    mut strip: Strip<'_>,
) -> Result<(), Malformed> {
    if headers.is_empty() {
        // Spares setting up the map's iterator, not negligible for a bare request.
        return Ok(());
    }
    for (name, value) in headers {
        // req 9113-8.2-1, 9113-8.2.1-3, 9113-8.2.1-4
        let name_bytes = name.as_str().as_bytes();
        // req 9113-8.2.2-1
        if is_connection_specific(name_bytes) {
            strip.field("connection-specific header field")?;
            continue;
        }
        // req 9113-8.2.2-3, 9113-8.2.2-4
        if *name == http::header::TE && !value.as_bytes().eq_ignore_ascii_case(b"trailers") {
            strip.field("te other than trailers")?;
            continue;
        }
        // req 9113-8.3.1-4
        if skip_host && *name == http::header::HOST {
            continue;
        }
        let value_bytes = value.as_bytes();
        // req 9113-8.2.1-5, 9113-8.2.1-6
        if !super::valid_value(value_bytes) {
            return Err("field value with surrounding whitespace");
        }
        if *name == http::header::COOKIE {
            // req 9113-8.2.3-1
            // §8.2.3: cookie crumbs compress better, each indexed on its own.
            for crumb in value_bytes.split(|&b| b == b';') {
                let crumb = crumb.trim_ascii();
                if !crumb.is_empty() {
                    fields.push(FieldRef {
                        name: name_bytes,
                        value: crumb,
                        // req 7541-6.2.3-1, 7541-6.2.3-3, 7541-7.1.3-2
                        sensitive: value.is_sensitive(),
                    });
                }
            }
            continue;
        }
        fields.push(FieldRef {
            name: name_bytes,
            value: value_bytes,
            // req 7541-6.2.3-1, 7541-6.2.3-3, 7541-7.1.3-2
            // req 9113-10.6-1, 9113-10.6-2
            sensitive: value.is_sensitive(),
        });
    }
    Ok(())
}

/// Checks trailers before they are queued, so a bad field is reported to the caller rather
/// than found when the frame is written.
pub(crate) fn check_trailers(trailers: &HeaderMap, max_list_size: u32) -> Result<(), Malformed> {
    let mut fields = Fields::new();
    push_headers(trailers, &mut fields, false, Strip::Refuse)?;
    check_list_size(&fields, 0, None, max_list_size)
}

/// RFC 9113 §6.5.2, §10.5.1: the peer announced the largest field section it accepts
/// (SETTINGS_MAX_HEADER_LIST_SIZE: name + value + 32 octets per field, uncompressed). A
/// head over it would only be refused there, so it is not sent at all: the caller hears
/// why before anything goes out. `extra` counts fields written apart from `fields`
/// (`:status`), and `content_length` the content-length encoding adds.
fn check_list_size(
    fields: &Fields<'_>,
    extra: usize,
    content_length: Option<u64>,
    limit: u32,
) -> Result<(), Malformed> {
    if limit == u32::MAX {
        return Ok(()); // no limit announced: nothing to add up
    }
    // content-length: 14 + its digits + 32.
    let digits = |n: u64| n.checked_ilog10().map_or(1, |d| d as usize + 1);
    let extra = extra + content_length.map_or(0, |n| 46 + digits(n));
    let size = fields.iter().map(|f| f.name.len() + f.value.len() + 32).sum::<usize>() + extra;
    // req 9113-10.5.1-1
    if size > limit as usize {
        return Err("head larger than the peer's SETTINGS_MAX_HEADER_LIST_SIZE");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::decimal;

    #[test]
    fn decimal_writes_every_digit() {
        let mut buf = [0u8; 20];
        for n in [0, 7, 10, 13, 65_536, 1 << 32, u64::MAX] {
            assert_eq!(decimal(n, &mut buf), n.to_string().as_bytes());
        }
    }
}
