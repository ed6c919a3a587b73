//! A field block that repeats the one before it is decoded once.
//!
//! Clients send the same request again and again — load generators, health checks,
//! polling, an RPC method called with the same metadata — and HPACK turns each repeat into
//! the same few bytes: indexes into a table that has not changed, and literals that do not
//! change it (nghttp2, and so curl and h2load, never index `:path`). Decoding and the §8
//! checks are a pure function of the block and the decoder's state, so when both are what
//! they were for a block already decoded, so is the result: the collector's finished state
//! is kept and replayed, and the repeat skips HPACK decoding and every check.
//!
//! The decoder counts its changes ([`Decoder::generation`](crate::hpack::Decoder::generation));
//! a block is remembered only if decoding it changed nothing, and its decoding is kept only
//! once it came twice in a row, so traffic that does not repeat pays a comparison and a
//! copy of a few dozen bytes per block. What is kept is a copy: it pins no read buffer or
//! arena, and it is bounded ([`MAX_BLOCK`], [`MAX_KEPT`]).

use super::decode::{FieldCollector, MessageKind, Snapshot};

/// The longest block remembered.
const MAX_BLOCK: usize = 256;
/// The most string bytes a kept decoding may hold.
const MAX_KEPT: usize = 4096;

/// The last block that left the decoder unchanged, and its decoding once it repeated.
#[derive(Default)]
pub(crate) struct RepeatedBlock {
    /// The block, with the decoder generation and kind it was decoded in (empty: none).
    last: Vec<u8>,
    generation: u64,
    kind: Option<MessageKind>,
    /// Its decoding, kept once the block came twice in a row (boxed: a connection that
    /// never repeats a block carries a pointer, not a collector).
    kept: Option<Box<Snapshot>>,
}

impl RepeatedBlock {
    /// The kept decoding, if `block` of `kind` repeats the remembered block and the decoder
    /// is still at the `generation` it was decoded in.
    #[inline]
    pub(crate) fn get(
        &self,
        kind: MessageKind,
        block: &[u8],
        generation: u64,
    ) -> Option<&Snapshot> {
        let kept = self.kept.as_ref()?;
        let same = self.generation == generation && self.kind == Some(kind) && self.last == block;
        same.then_some(&**kept)
    }

    /// Notes a block of `kind` that was just decoded into `collector`, with the decoder at
    /// generation `before` and then `after`.
    pub(crate) fn note(
        &mut self,
        kind: MessageKind,
        block: &[u8],
        (before, after): (u64, u64),
        collector: &FieldCollector,
    ) {
        self.kept = None;
        if before != after || block.len() > MAX_BLOCK {
            // The block changed the table (or is too long to keep): nothing to repeat.
            self.last.clear();
            return;
        }
        if self.generation == before && self.kind == Some(kind) && self.last == block {
            // The second time in a row: keep the decoding, if it is worth keeping.
            self.kept = collector.snapshot().filter(|s| s.size() <= MAX_KEPT).map(Box::new);
            if self.kept.is_none() {
                self.last.clear();
            }
            return;
        }
        self.last.clear();
        self.last.extend_from_slice(block);
        (self.generation, self.kind) = (before, Some(kind));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hpack::{Decoder, Encoder, FieldRef};
    use crate::semantics::{FieldCache, TargetCache};
    use bytes::{Bytes, BytesMut};
    use http::Request;

    const REQUEST: MessageKind = MessageKind::Request { connect_protocol: false };

    /// Decodes `block` as a connection does: through the kept decoding if it repeats,
    /// else through the decoder, noting the block. Returns the request (as text, to
    /// compare) and whether it was replayed.
    fn decode(
        repeated: &mut RepeatedBlock,
        decoder: &mut Decoder,
        block: &Bytes,
    ) -> (Result<String, &'static str>, bool) {
        let (mut checked, mut targets) = (FieldCache::default(), TargetCache::default());
        let generation = decoder.generation();
        let (mut collector, replayed) = match repeated.get(REQUEST, block, generation) {
            Some(kept) => (kept.replay(None), true),
            None => {
                let mut collector = FieldCollector::new(REQUEST, None);
                decoder
                    .decode_ref(block, |f| collector.push(f, &mut checked, &mut targets))
                    .unwrap();
                let generations = (generation, decoder.generation());
                repeated.note(REQUEST, block, generations, &collector);
                (collector, false)
            }
        };
        (collector.request(&mut TargetCache::default()).map(|r| describe(&r)), replayed)
    }

    fn describe(request: &Request<()>) -> String {
        format!("{} {} {:?}", request.method(), request.uri(), request.headers())
    }

    fn encode(encoder: &mut Encoder, fields: &[(&str, &str)]) -> Bytes {
        let mut dst = BytesMut::new();
        let fields = fields.iter().map(|(n, v)| FieldRef::new(n.as_bytes(), v.as_bytes()));
        encoder.encode(fields, &mut dst);
        dst.freeze()
    }

    const GET: &[(&str, &str)] = &[
        (":method", "GET"),
        (":scheme", "http"),
        (":authority", "example.com"),
        (":path", "/index.html"),
        ("user-agent", "test/1.0"),
        ("accept", "*/*"),
    ];

    /// The third identical block is replayed, and gives what decoding gives.
    #[test]
    fn a_block_that_repeats_is_replayed_with_the_same_result() {
        let (mut encoder, mut decoder) = (Encoder::new(), Decoder::new());
        let mut repeated = RepeatedBlock::default();
        // The first block indexes its fields, so it changes the table: not remembered.
        let first = encode(&mut encoder, GET);
        let (expected, _) = decode(&mut repeated, &mut decoder, &first);
        assert!(expected.as_ref().is_ok_and(|r| r.contains("user-agent")), "{expected:?}");
        let block = encode(&mut encoder, GET);
        assert_ne!(block, first, "the repeat is sent as indexes");
        let seen = (0..4).map(|_| decode(&mut repeated, &mut decoder, &block)).collect::<Vec<_>>();
        let replayed: Vec<bool> = seen.iter().map(|(_, r)| *r).collect();
        assert_eq!(replayed, [false, false, true, true]);
        for (request, _) in seen {
            assert_eq!(request, expected);
        }
    }

    /// The same bytes after the table changed mean other fields: decoded again.
    #[test]
    fn the_same_bytes_after_a_table_change_are_decoded_again() {
        let mut decoder = Decoder::new();
        let mut repeated = RepeatedBlock::default();
        let with_agent = |agent| {
            [(":method", "GET"), (":scheme", "http"), (":path", "/"), ("user-agent", agent)]
        };
        // Index 62, the newest entry, becomes `user-agent: a`.
        let mut peer = Encoder::new();
        decode(&mut repeated, &mut decoder, &encode(&mut peer, &with_agent("a"))).0.unwrap();
        let block = encode(&mut peer, &with_agent("a"));
        for _ in 0..3 {
            let (request, _) = decode(&mut repeated, &mut decoder, &block);
            assert!(request.unwrap().contains("\"a\""));
        }
        assert!(decode(&mut repeated, &mut decoder, &block).1, "replayed while unchanged");
        // A block that indexes `user-agent: b` makes index 62 mean it.
        decode(&mut repeated, &mut decoder, &encode(&mut peer, &with_agent("b"))).0.unwrap();
        let (request, replayed) = decode(&mut repeated, &mut decoder, &block);
        assert!(!replayed);
        assert!(request.unwrap().contains("\"b\""), "index 62 now holds user-agent: b");
    }

    /// A lower table size makes the next block require a size update, and a lower list
    /// limit may refuse it: neither a repeat escapes.
    #[test]
    fn decoder_settings_end_the_replay() {
        let mut decoder = Decoder::new();
        let mut repeated = RepeatedBlock::default();
        let mut peer = Encoder::new();
        decode(&mut repeated, &mut decoder, &encode(&mut peer, GET)).0.unwrap();
        let block = encode(&mut peer, GET);
        for _ in 0..3 {
            decode(&mut repeated, &mut decoder, &block).0.unwrap();
        }
        let generation = decoder.generation();
        assert!(repeated.get(REQUEST, &block, generation).is_some());
        decoder.set_max_table_size(100);
        assert!(repeated.get(REQUEST, &block, decoder.generation()).is_none());
        let generation = decoder.generation();
        decoder.set_max_header_list_size(10);
        assert_ne!(decoder.generation(), generation);
    }

    /// A kept decoding is a copy: it shares nothing with the block or the decoder.
    #[test]
    fn kept_decoding_pins_no_input() {
        let mut decoder = Decoder::new();
        let mut repeated = RepeatedBlock::default();
        let fields: &[(&str, &str)] =
            &[(":method", "GET"), (":scheme", "http"), (":path", "/p"), ("x-a", "1")];
        // Literals without indexing (the name and value as they came, in the block).
        let mut block = BytesMut::new();
        for (name, value) in fields {
            block.extend_from_slice(&[0x00, name.len() as u8]);
            block.extend_from_slice(name.as_bytes());
            block.extend_from_slice(&[value.len() as u8]);
            block.extend_from_slice(value.as_bytes());
        }
        let block = block.freeze();
        let range = block.as_ptr() as usize..block.as_ptr() as usize + block.len();
        decode(&mut repeated, &mut decoder, &block).0.unwrap();
        decode(&mut repeated, &mut decoder, &block).0.unwrap();
        let kept = repeated.get(REQUEST, &block, decoder.generation()).expect("kept");
        let mut collector = kept.replay(None);
        let request = collector.request(&mut TargetCache::default()).unwrap();
        let pointers = [
            request.uri().path().as_ptr() as usize,
            request.headers()["x-a"].as_bytes().as_ptr() as usize,
        ];
        assert!(pointers.iter().all(|p| !range.contains(p)));
    }

    /// Malformed blocks, sensitive values and long blocks are never kept.
    #[test]
    fn what_is_not_kept() {
        let mut decoder = Decoder::new();
        let mut repeated = RepeatedBlock::default();
        let literal = |name: &str, value: &str, flags: u8| {
            let mut b = vec![flags, name.len() as u8];
            b.extend_from_slice(name.as_bytes());
            b.push(value.len() as u8);
            b.extend_from_slice(value.as_bytes());
            b
        };
        let head = [0x82, 0x86, 0x84]; // GET, http, /
        let long = "v".repeat(100);
        let cases = [
            [&head[..], &literal("x-a", "1", 0x10)].concat(), // never indexed
            [&head[..], &literal("Bad", "1", 0x00)].concat(), // malformed name
            [
                &head[..],
                &literal("x-1", &long, 0),
                &literal("x-2", &long, 0),
                &literal("x-3", &long, 0),
            ]
            .concat(), // longer than MAX_BLOCK
        ];
        for block in cases {
            let block = Bytes::from(block);
            for _ in 0..3 {
                let (_, replayed) = decode(&mut repeated, &mut decoder, &block);
                assert!(!replayed);
            }
        }
    }
}
