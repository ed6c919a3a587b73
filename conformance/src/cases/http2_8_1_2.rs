//! http2/8.1.2 and its subsections: header fields, pseudo-header fields, connection-specific
//! fields, request pseudo-headers and malformed messages (RFC 9113 §8.1.1, §8.2, §8.3).
//! Every violation makes the request malformed: a stream error PROTOCOL_ERROR.

use super::{Ctx, Group, case};
use crate::peer::Fields;
use crate::verdict::Outcome;
use h2proto::ErrorCode;

pub(crate) const GROUPS: &[&Group] = &[
    &Group {
        section: "http2/8.1.2",
        title: "HTTP Header Fields",
        cases: &[case("Sends a field name with uppercase letters", uppercase_name)],
    },
    &Group {
        section: "http2/8.1.2.1",
        title: "Pseudo-Header Fields",
        cases: &[
            case("Sends an unknown pseudo-header field", unknown_pseudo),
            case("Sends the response pseudo-header :status in a request", status_in_request),
            case("Sends a pseudo-header field in trailers", pseudo_in_trailers),
            case("Sends a pseudo-header field after a regular field", pseudo_after_regular),
        ],
    },
    &Group {
        section: "http2/8.1.2.2",
        title: "Connection-Specific Header Fields",
        cases: &[
            case("Sends a connection field", connection_field),
            case("Sends a te field other than trailers", te_not_trailers),
        ],
    },
    &Group {
        section: "http2/8.1.2.3",
        title: "Request Pseudo-Header Fields",
        cases: &[
            case("Sends an empty :path", empty_path),
            case("Omits :method", no_method),
            case("Omits :scheme", no_scheme),
            case("Omits :path", no_path),
            case("Duplicates :method", dup_method),
            case("Duplicates :scheme", dup_scheme),
            case("Duplicates :path", dup_path),
        ],
    },
    &Group {
        section: "http2/8.1.2.6",
        title: "Malformed Requests and Responses",
        cases: &[
            case("Sends content-length larger than the DATA", content_length_larger),
            case(
                "Sends content-length smaller than the DATA of several frames",
                content_length_smaller,
            ),
        ],
    },
];

/// Sends `fields` as the request head on stream 1 (with END_STREAM) and expects a stream
/// error PROTOCOL_ERROR.
pub(crate) fn malformed(ctx: &Ctx, edit: impl FnOnce(&mut Fields)) -> Outcome {
    let mut peer = ctx.open()?;
    let mut fields = peer.request("GET", "/");
    edit(&mut fields);
    peer.headers(1, &fields, true);
    peer.expect_stream_error(1, &[ErrorCode::PROTOCOL_ERROR], false)
}

fn push(fields: &mut Fields, name: &str, value: &str) {
    fields.push((name.into(), value.into()));
}

/// RFC 9113 §8.2.1: field names must not contain uppercase characters.
fn uppercase_name(ctx: &Ctx) -> Outcome {
    malformed(ctx, |f| push(f, "X-Uppercase", "1"))
}

/// RFC 9113 §8.3: pseudo-header fields other than those defined are malformed.
fn unknown_pseudo(ctx: &Ctx) -> Outcome {
    malformed(ctx, |f| push(f, ":conformance", "1"))
}

/// RFC 9113 §8.3: response pseudo-headers cannot appear in requests.
fn status_in_request(ctx: &Ctx) -> Outcome {
    malformed(ctx, |f| push(f, ":status", "200"))
}

/// RFC 9113 §8.1, §8.3: pseudo-header fields are not allowed in trailers.
fn pseudo_in_trailers(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.open()?;
    peer.post(1, "/");
    peer.data(1, b"test", false);
    peer.headers(1, &[(":method", "POST")], true);
    peer.expect_stream_error(1, &[ErrorCode::PROTOCOL_ERROR], false)
}

/// RFC 9113 §8.3: all pseudo-header fields precede the regular fields.
fn pseudo_after_regular(ctx: &Ctx) -> Outcome {
    malformed(ctx, |f| {
        let authority = f.pop().expect("four pseudo-headers");
        push(f, "x-regular", "1");
        f.push(authority);
    })
}

/// RFC 9113 §8.2.2: connection-specific fields are not allowed.
fn connection_field(ctx: &Ctx) -> Outcome {
    malformed(ctx, |f| push(f, "connection", "keep-alive"))
}

/// RFC 9113 §8.2.2: `te` may only carry `trailers`.
fn te_not_trailers(ctx: &Ctx) -> Outcome {
    malformed(ctx, |f| push(f, "te", "trailers, deflate"))
}

/// RFC 9113 §8.3.1: `:path` must not be empty for http or https URIs.
fn empty_path(ctx: &Ctx) -> Outcome {
    malformed(ctx, |f| f[2].1.clear())
}

/// RFC 9113 §8.3.1: requests carry exactly one `:method`, `:scheme` and `:path` (CONNECT
/// aside).
fn no_method(ctx: &Ctx) -> Outcome {
    malformed(ctx, |f| {
        f.remove(0);
    })
}

/// RFC 9113 §8.3.1: `:scheme` is required.
fn no_scheme(ctx: &Ctx) -> Outcome {
    malformed(ctx, |f| {
        f.remove(1);
    })
}

/// RFC 9113 §8.3.1: `:path` is required.
fn no_path(ctx: &Ctx) -> Outcome {
    malformed(ctx, |f| {
        f.remove(2);
    })
}

/// RFC 9113 §8.3.1: `:method` exactly once.
fn dup_method(ctx: &Ctx) -> Outcome {
    malformed(ctx, |f| f.insert(1, (":method".into(), "GET".into())))
}

/// RFC 9113 §8.3.1: `:scheme` exactly once.
fn dup_scheme(ctx: &Ctx) -> Outcome {
    malformed(ctx, |f| f.insert(2, (":scheme".into(), "http".into())))
}

/// RFC 9113 §8.3.1: `:path` exactly once.
fn dup_path(ctx: &Ctx) -> Outcome {
    malformed(ctx, |f| f.insert(3, (":path".into(), "/".into())))
}

fn content_length(ctx: &Ctx, declared: &str, frames: &[&[u8]]) -> Outcome {
    let mut peer = ctx.open()?;
    let mut fields = peer.request("POST", "/");
    push(&mut fields, "content-length", declared);
    peer.headers(1, &fields, false);
    for (i, data) in frames.iter().enumerate() {
        peer.data(1, data, i == frames.len() - 1);
    }
    peer.expect_stream_error(1, &[ErrorCode::PROTOCOL_ERROR], false)
}

/// RFC 9113 §8.1.1: a content-length that does not equal the sum of the DATA payloads
/// makes the request malformed.
fn content_length_larger(ctx: &Ctx) -> Outcome {
    content_length(ctx, "10", &[b"test"])
}

/// RFC 9113 §8.1.1: the same, over several DATA frames.
fn content_length_smaller(ctx: &Ctx) -> Outcome {
    content_length(ctx, "6", &[b"test", b"test"])
}
