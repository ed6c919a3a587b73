//! rfc9113/*: rules RFC 9113 added or sharpened since RFC 7540, which h2spec does not
//! check: field validity (§8.2.1), more connection-specific fields (§8.2.2), `:authority`
//! and `host` (§8.3.1), and CONNECT (§8.5).

use super::http2_8_1_2::malformed;
use super::{Ctx, Group, case, expect_success};
use crate::peer::Fields;
use crate::verdict::{Failure, FailureKind, Outcome};
use h2proto::ErrorCode;

pub(crate) const GROUPS: &[&Group] = &[
    &Group {
        section: "rfc9113/8.2.1",
        title: "Field Validity",
        cases: &[
            case("A field value with leading whitespace: malformed", value_leading_space),
            case("A field value with trailing whitespace: malformed", value_trailing_tab),
            case("A field value containing NUL: malformed", value_nul),
            case("A field value containing CR LF: malformed", value_crlf),
            case("A field name containing a space: malformed", name_space),
            case("A field name containing DEL (0x7f): malformed", name_del),
            case("A regular field name containing a colon: malformed", name_colon),
            case("A field value with inner whitespace: accepted", value_inner_space),
        ],
    },
    &Group {
        section: "rfc9113/8.2.2",
        title: "Connection-Specific Header Fields",
        cases: &[
            case("Sends keep-alive: malformed", keep_alive),
            case("Sends proxy-connection: malformed", proxy_connection),
            case("Sends transfer-encoding: malformed", transfer_encoding),
            case("Sends upgrade: malformed", upgrade),
            case("Sends te: trailers: accepted", te_trailers),
        ],
    },
    &Group {
        section: "rfc9113/8.3.1",
        title: "Request Pseudo-Header Fields",
        cases: &[
            case("Sends host instead of :authority: accepted", host_only),
            case("Sends host equal to :authority: accepted", host_same),
            case("Sends host that differs from :authority: malformed (SHOULD)", host_differs),
        ],
    },
    &Group {
        section: "rfc9113/8.5",
        title: "The CONNECT Method",
        cases: &[
            case("Sends CONNECT without :authority: malformed", connect_no_authority),
            case(
                "Sends CONNECT with :scheme and :path but no :protocol: malformed",
                connect_with_path,
            ),
        ],
    },
];

fn push(fields: &mut Fields, name: &str, value: &str) {
    fields.push((name.into(), value.into()));
}

fn accepted(ctx: &Ctx, edit: impl FnOnce(&mut Fields)) -> Outcome {
    let mut peer = ctx.open()?;
    let mut fields = peer.request("GET", "/");
    edit(&mut fields);
    peer.headers(1, &fields, true);
    expect_success(&mut peer, 1)
}

/// RFC 9113 §8.2.1: a field value must not start or end with whitespace; such a request
/// is malformed.
fn value_leading_space(ctx: &Ctx) -> Outcome {
    malformed(ctx, |f| push(f, "x-test", " leading"))
}

/// RFC 9113 §8.2.1: nor end with whitespace (here HTAB).
fn value_trailing_tab(ctx: &Ctx) -> Outcome {
    malformed(ctx, |f| push(f, "x-test", "trailing\t"))
}

/// RFC 9113 §8.2.1: a field value must not contain NUL.
fn value_nul(ctx: &Ctx) -> Outcome {
    malformed(ctx, |f| push(f, "x-test", "a\0b"))
}

/// RFC 9113 §8.2.1: nor CR or LF.
fn value_crlf(ctx: &Ctx) -> Outcome {
    malformed(ctx, |f| push(f, "x-test", "a\r\nx-injected: 1"))
}

/// RFC 9113 §8.2.1: a field name must not contain 0x00-0x20.
fn name_space(ctx: &Ctx) -> Outcome {
    malformed(ctx, |f| push(f, "x test", "1"))
}

/// RFC 9113 §8.2.1: nor 0x7f-0xff.
fn name_del(ctx: &Ctx) -> Outcome {
    malformed(ctx, |f| push(f, "x-test\x7f", "1"))
}

/// RFC 9113 §8.2.1: only pseudo-header names may contain a colon.
fn name_colon(ctx: &Ctx) -> Outcome {
    malformed(ctx, |f| push(f, "x:test", "1"))
}

/// RFC 9113 §8.2.1: whitespace inside a value is fine.
fn value_inner_space(ctx: &Ctx) -> Outcome {
    accepted(ctx, |f| push(f, "x-test", "a b\tc"))
}

/// RFC 9113 §8.2.2: Keep-Alive is connection-specific.
fn keep_alive(ctx: &Ctx) -> Outcome {
    malformed(ctx, |f| push(f, "keep-alive", "timeout=5"))
}

/// RFC 9113 §8.2.2: Proxy-Connection is connection-specific.
fn proxy_connection(ctx: &Ctx) -> Outcome {
    malformed(ctx, |f| push(f, "proxy-connection", "keep-alive"))
}

/// RFC 9113 §8.2.2: Transfer-Encoding is connection-specific.
fn transfer_encoding(ctx: &Ctx) -> Outcome {
    malformed(ctx, |f| push(f, "transfer-encoding", "chunked"))
}

/// RFC 9113 §8.2.2: Upgrade is connection-specific.
fn upgrade(ctx: &Ctx) -> Outcome {
    malformed(ctx, |f| push(f, "upgrade", "websocket"))
}

/// RFC 9113 §8.2.2: `te: trailers` is the one allowed `te`.
fn te_trailers(ctx: &Ctx) -> Outcome {
    accepted(ctx, |f| push(f, "te", "trailers"))
}

/// RFC 9113 §8.3.1: without `:authority` the target's authority comes from `host`.
fn host_only(ctx: &Ctx) -> Outcome {
    accepted(ctx, |f| {
        let (_, authority) = f.pop().expect(":authority last");
        push(f, "host", &authority);
    })
}

/// RFC 9113 §8.3.1: `host` equal to `:authority` is fine.
fn host_same(ctx: &Ctx) -> Outcome {
    accepted(ctx, |f| {
        let authority = f[3].1.clone();
        push(f, "host", &authority);
    })
}

/// RFC 9113 §8.3.1: a server SHOULD treat a request whose `host` differs from
/// `:authority` as malformed (a SHOULD: a lenient failure).
fn host_differs(ctx: &Ctx) -> Outcome {
    malformed(ctx, |f| push(f, "host", "other.example"))
        .map_err(|f| Failure { kind: FailureKind::Lenient, ..f })
}

/// RFC 9113 §8.5: CONNECT carries `:authority` and nothing but `:method`.
fn connect_no_authority(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.open()?;
    peer.headers(1, &[(":method", "CONNECT")], false);
    peer.expect_stream_error(1, &[ErrorCode::PROTOCOL_ERROR], false)
}

/// RFC 9113 §8.5: `:scheme` and `:path` must be omitted from a CONNECT request that is not
/// an extended CONNECT (RFC 8441).
fn connect_with_path(ctx: &Ctx) -> Outcome {
    let mut peer = ctx.open()?;
    let fields = peer.request("CONNECT", "/");
    peer.headers(1, &fields, false);
    peer.expect_stream_error(1, &[ErrorCode::PROTOCOL_ERROR], false)
}
