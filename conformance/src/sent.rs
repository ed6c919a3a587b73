//! What the runner has written, per stream: enough to tell whether a response the server
//! sends on a stream may predate the frame a case is testing.
//!
//! A case ends by writing the frame under test and waiting for the reaction. When that
//! frame is the request head itself (a malformed HEADERS, a bad HPACK block, an
//! over-the-limit stream), the server had nothing it could have answered before it read
//! the frame: a response on that stream means it accepted what it must reject, and the
//! case fails even if a RST_STREAM or GOAWAY follows. When the client sent a whole request
//! head and then more on the stream, the server may have answered the head before it read
//! the rest (servers answer before the body ends), so a response there bears on nothing.
//!
//! [`Sent`] follows the bytes as they are written (frames may be split across writes, and
//! the cases also write loose bytes), reading only the 9-byte frame headers.

use h2proto::frame::{FrameType, flags};
use std::collections::HashMap;

/// The frames written so far, seen through their headers.
#[derive(Debug, Default)]
pub(crate) struct Sent {
    /// Bytes of the frame header being read.
    header: Vec<u8>,
    /// Payload bytes of the current frame still to pass.
    payload_left: usize,
    streams: HashMap<u32, StreamSent>,
    /// The stream of the last frame written; 0 after a frame on stream 0.
    last_stream: u32,
}

#[derive(Debug, Default, Clone, Copy)]
struct StreamSent {
    /// The first header block on the stream is complete (END_HEADERS written).
    head_done: bool,
    /// A frame was written on the stream after that block.
    after_head: bool,
}

impl Sent {
    /// Follows `bytes` written to the connection, after the preface.
    pub(crate) fn write(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            if self.payload_left > 0 {
                let n = self.payload_left.min(bytes.len());
                self.payload_left -= n;
                bytes = &bytes[n..];
                continue;
            }
            let n = (9 - self.header.len()).min(bytes.len());
            self.header.extend_from_slice(&bytes[..n]);
            bytes = &bytes[n..];
            if self.header.len() == 9 {
                let h = std::mem::take(&mut self.header);
                self.payload_left = u32::from_be_bytes([0, h[0], h[1], h[2]]) as usize;
                let stream = u32::from_be_bytes([h[5], h[6], h[7], h[8]]) & 0x7fff_ffff;
                self.frame(FrameType(h[3]), h[4], stream);
            }
        }
    }

    fn frame(&mut self, kind: FrameType, frame_flags: u8, stream: u32) {
        self.last_stream = stream;
        if stream == 0 {
            return;
        }
        let s = self.streams.entry(stream).or_default();
        if s.head_done {
            s.after_head = true;
        } else if matches!(kind, FrameType::HEADERS | FrameType::CONTINUATION)
            && frame_flags & flags::END_HEADERS != 0
        {
            s.head_done = true;
        }
    }

    /// Whether the server may have answered `stream` before reading the last frame written
    /// on it: a whole request head went out first, then more.
    pub(crate) fn answerable(&self, stream: u32) -> bool {
        self.streams.get(&stream).is_some_and(|s| s.head_done && s.after_head)
    }

    /// The stream of the last frame written (0 for the connection).
    pub(crate) fn last_stream(&self) -> u32 {
        self.last_stream
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::{Bytes, BytesMut};
    use h2proto::StreamId;
    use h2proto::frame::{Data, Frame, Headers, Ping};

    fn bytes(frame: impl Into<Frame>) -> Vec<u8> {
        let mut buf = BytesMut::new();
        frame.into().encode(&mut buf);
        buf.to_vec()
    }

    #[test]
    fn a_head_alone_is_not_answerable_a_head_then_data_is() {
        let mut sent = Sent::default();
        sent.write(&bytes(Headers::new(StreamId(1), Bytes::from_static(b"x"), false)));
        assert!(!sent.answerable(1));
        assert_eq!(sent.last_stream(), 1);
        // Split across writes.
        let data = bytes(Data::new(StreamId(1), Bytes::from_static(b"body"), true));
        sent.write(&data[..4]);
        sent.write(&data[4..]);
        assert!(sent.answerable(1));
        sent.write(&bytes(Ping { ack: false, payload: [0; 8] }));
        assert_eq!(sent.last_stream(), 0);
    }

    #[test]
    fn a_head_left_open_then_data_is_not_a_request() {
        let mut sent = Sent::default();
        let mut headers = Headers::new(StreamId(3), Bytes::from_static(b"x"), true);
        headers.end_headers = false;
        sent.write(&bytes(headers));
        sent.write(&bytes(Data::new(StreamId(3), Bytes::from_static(b"x"), true)));
        assert!(!sent.answerable(3));
        assert!(!sent.answerable(5));
    }
}
