//! The server suite: every case, grouped by section like h2spec.
//!
//! Case ids follow h2spec so results can be compared line by line: `generic/<n>`,
//! `http2/<section>` with RFC 7540's section numbers as h2spec uses them, and
//! `hpack/<section>` (RFC 7541). Each case's doc comment cites the RFC 9113 section that
//! holds the rule today and paraphrases it. What h2spec lacks lives under `rfc9113/`
//! (changes since RFC 7540), `rfc8441/` (extended CONNECT), `rfc9218/` (PRIORITY_UPDATE) and
//! `dos/` (the known HTTP/2 attacks, RFC 9113 §10.5).
//!
//! One module per section group; a module exports one or more [`Group`]s.

mod dos;
mod generic_1_2;
mod generic_3;
mod generic_4_5;
mod hpack;
mod http2_3_4;
mod http2_5_1;
mod http2_5_3_5;
mod http2_6_10_7;
mod http2_6_1_4;
mod http2_6_5;
mod http2_6_7_8;
mod http2_6_9;
mod http2_8_1;
mod http2_8_1_2;
mod rfc8441;
mod rfc9113;
mod rfc9218;

use crate::peer::Peer;
use crate::verdict::{Failure, Outcome};
use bytes::{BufMut, Bytes, BytesMut};
use h2proto::frame::Frame;
use h2proto::hpack::{huffman, integer};
use std::net::SocketAddr;
use std::time::Duration;

/// Where and how the cases connect.
#[derive(Clone, Debug)]
pub struct Ctx {
    /// The server under test.
    pub addr: SocketAddr,
    /// The `:authority` of requests.
    pub authority: String,
    /// The resource requested by cases that need a 2xx response (`--path`).
    pub path: String,
    /// How long each expectation waits.
    pub wait: Duration,
}

impl Ctx {
    /// A new connection, before the preface.
    pub fn connect(&self) -> Result<Peer, Failure> {
        Peer::connect(self.addr, &self.authority, &self.path, self.wait)
    }

    /// A new connection, past the preface exchange.
    pub fn open(&self) -> Result<Peer, Failure> {
        let mut peer = self.connect()?;
        peer.handshake()?;
        Ok(peer)
    }
}

/// One check.
pub struct Case {
    /// What the case sends and what it expects, in one line.
    pub desc: &'static str,
    /// Runs the case on its own connection(s).
    pub run: fn(&Ctx) -> Outcome,
}

/// The cases of one section.
pub struct Group {
    /// `http2/6.5`, `hpack/5.2`, ...; a case's id is this plus `/<n>`.
    pub section: &'static str,
    /// The section's title.
    pub title: &'static str,
    /// Its cases, numbered from 1.
    pub cases: &'static [Case],
}

/// Shorthand for the tables in the modules.
pub(crate) const fn case(desc: &'static str, run: fn(&Ctx) -> Outcome) -> Case {
    Case { desc, run }
}

/// Every group, in report order.
pub fn groups() -> Vec<&'static Group> {
    let mut all = Vec::new();
    all.extend_from_slice(generic_1_2::GROUPS);
    all.extend_from_slice(generic_3::GROUPS);
    all.extend_from_slice(generic_4_5::GROUPS);
    all.extend_from_slice(http2_3_4::GROUPS);
    all.extend_from_slice(http2_5_1::GROUPS);
    all.extend_from_slice(http2_5_3_5::GROUPS);
    all.extend_from_slice(http2_6_1_4::GROUPS);
    all.extend_from_slice(http2_6_5::GROUPS);
    all.extend_from_slice(http2_6_7_8::GROUPS);
    all.extend_from_slice(http2_6_9::GROUPS);
    all.extend_from_slice(http2_6_10_7::GROUPS);
    all.extend_from_slice(http2_8_1::GROUPS);
    all.extend_from_slice(http2_8_1_2::GROUPS);
    all.extend_from_slice(hpack::GROUPS);
    all.extend_from_slice(rfc9113::GROUPS);
    all.extend_from_slice(rfc8441::GROUPS);
    all.extend_from_slice(rfc9218::GROUPS);
    all.extend_from_slice(dos::GROUPS);
    all
}

/// Checks that a response has a 2xx status.
pub(crate) fn expect_success(peer: &mut Peer, stream: u32) -> Outcome {
    let response = peer.expect_response(stream)?;
    if !(200..300).contains(&response.status) {
        return Err(Failure::new(
            format!("a 2xx response on stream {stream}"),
            format!("status {}", response.status),
        ));
    }
    Ok(())
}

/// The next DATA frame with content on `stream`: its length and whether it ends the stream.
/// Response heads and empty DATA frames are passed over. A response that ends without
/// content cannot show flow control at work, so the case says it could not run (a skip with
/// the reason, never a pass).
pub(crate) fn next_content(peer: &mut Peer, stream: u32) -> Result<(usize, bool), Failure> {
    loop {
        match peer.expect_frame_on(stream)? {
            Frame::Data(d) if !d.data.is_empty() => return Ok((d.data.len(), d.end_stream)),
            Frame::Data(d) if d.end_stream => return Err(no_content(peer)),
            Frame::Headers(h) if h.end_stream => return Err(no_content(peer)),
            Frame::Data(_) | Frame::Headers(_) | Frame::Continuation(_) => {}
            other => {
                return Err(Failure::new(
                    format!("DATA on stream {stream}"),
                    crate::peer::describe_frame(&other),
                ));
            }
        }
    }
}

fn no_content(peer: &Peer) -> Failure {
    Failure::skip(format!(
        "could not run: the response to GET {} has no content (choose a --path with a body)",
        peer.path()
    ))
}

/// RFC 9113 §6.9.1: the next DATA on `stream` is exactly `window` bytes, what a sender
/// that respects a window of `window` sends when more content is waiting. When the
/// content left is `window` bytes or fewer (the frame ends the stream within the window),
/// a sender that ignores the window would send the same frame: the case could not run
/// and says so (a skip with the reason, never a pass).
pub(crate) fn expect_window_data(peer: &mut Peer, stream: u32, window: usize) -> Outcome {
    let (len, end) = next_content(peer, stream)?;
    if end && len <= window {
        return Err(Failure::skip(format!(
            "could not run: the response to GET {} ends with {len} byte(s), too short to show \
             a window of {window} (choose a --path with a longer body)",
            peer.path()
        )));
    }
    if len != window {
        return Err(Failure::new(
            format!("DATA of {window} byte(s) on stream {stream} (its window)"),
            format!("DATA of {len} bytes"),
        ));
    }
    Ok(())
}

/// A header block written representation by representation (RFC 7541 §6), for cases that
/// need a particular encoding or an invalid one.
#[derive(Default)]
pub(crate) struct Block(BytesMut);

impl Block {
    /// A block that opens with the pseudo-header fields of a GET of the peer's resource
    /// over `http`: method and scheme from the static table, `:path` indexed when it is
    /// `/`, and `:authority` as a literal without indexing.
    pub(crate) fn get(peer: &Peer) -> Block {
        Block::default().then_get(peer)
    }

    /// Appends the GET pseudo-header fields of [`get`](Self::get).
    pub(crate) fn then_get(self, peer: &Peer) -> Block {
        let block = self.indexed(2).indexed(6);
        let block = match peer.path() {
            "/" => block.indexed(4),
            path => block.literal(0x00, 4, 4, path, false),
        };
        block.literal(0x00, 4, 1, peer.authority(), false)
    }

    /// §6.1 Indexed Header Field.
    pub(crate) fn indexed(mut self, index: usize) -> Block {
        integer::encode(index, 7, 0x80, &mut self.0);
        self
    }

    /// A literal with an indexed name: `pattern`/`prefix` select the representation
    /// (0x40/6 incremental indexing, 0x00/4 without indexing, 0x10/4 never indexed).
    pub(crate) fn literal(
        mut self,
        pattern: u8,
        prefix: u8,
        index: usize,
        value: &str,
        huffman: bool,
    ) -> Block {
        integer::encode(index, prefix, pattern, &mut self.0);
        self.string(value, huffman)
    }

    /// A literal with a new name, same `pattern`/`prefix` as [`literal`](Self::literal).
    pub(crate) fn literal_new(
        mut self,
        pattern: u8,
        prefix: u8,
        name: &str,
        value: &str,
        huffman: bool,
    ) -> Block {
        integer::encode(0, prefix, pattern, &mut self.0);
        self.string(name, huffman).string(value, huffman)
    }

    /// §6.3 Dynamic Table Size Update.
    pub(crate) fn size_update(mut self, size: usize) -> Block {
        integer::encode(size, 5, 0x20, &mut self.0);
        self
    }

    /// Bytes as they are.
    pub(crate) fn bytes(mut self, bytes: &[u8]) -> Block {
        self.0.put_slice(bytes);
        self
    }

    fn string(mut self, s: &str, huff: bool) -> Block {
        if huff {
            let mut encoded = Vec::new();
            huffman::encode(s.as_bytes(), &mut encoded);
            integer::encode(encoded.len(), 7, 0x80, &mut self.0);
            self.0.put_slice(&encoded);
        } else {
            integer::encode(s.len(), 7, 0x00, &mut self.0);
            self.0.put_slice(s.as_bytes());
        }
        self
    }

    /// The encoded block.
    pub(crate) fn build(self) -> Bytes {
        self.0.freeze()
    }
}
