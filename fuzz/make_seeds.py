#!/usr/bin/env python3
"""Writes the hand-made seed files of fuzz/corpus/<target>/seed-*.

Run from anywhere: `python3 fuzz/make_seeds.py`. The seeds are committed; this script
only documents and regenerates them. Input layouts are described in fuzz/src/lib.rs.

frame_decode:    [mode, size_sel] + frames (valid frames of every type, and a few
                 invalid ones whose reaction is a stream or connection error)
hpack_decode:    [config] + commands: RFC 7541 Appendix C blocks and the first blocks of
                 ../shared/testdata/hpack-test-case/nghttp2/story_0*.json
hpack_roundtrip: byte strings for `arbitrary`; the fuzzer and `cmin` make the real corpus
conn_server:     [config, sched_lo, sched_hi] + the recorded client traces of
                 ../shared/testdata/traces/*.client-to-server.bin without their preface (the
                 target sends one), whole (cut at a frame boundary below 24 KiB) and in pieces
conn_client:     the same over *.server-to-client.bin; sched_hi's top bits choose how many
                 requests the client opens, to match each trace's stream ids
conn_frames:     not here: its seeds are `arbitrary` byte forms, written from Rust by
                 `H2PROTO_WRITE_SEEDS=1 cargo test --test fuzz_corpus_replay conn_frames_seeds`
"""

import json
import os
import re
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SHARED = os.path.join(os.path.dirname(ROOT), "shared")
CORPUS = os.path.join(HERE, "corpus")


def write(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(bytes(data))


# --- frame_decode -----------------------------------------------------------------------

END_STREAM, ACK, END_HEADERS, PADDED, PRIORITY = 0x1, 0x1, 0x4, 0x8, 0x20


def frame(kind, flags, stream, payload):
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(">I", stream) + payload


def padded(body, pad):
    return bytes([pad]) + body + b"\0" * pad


GET_BLOCK = bytes.fromhex("828684410f7777772e6578616d706c652e636f6d")  # RFC 7541 C.3.1

FRAMES = {
    "data": frame(0x0, 0, 1, b"hello world"),
    "data-padded-end": frame(0x0, END_STREAM | PADDED, 3, padded(b"body", 7)),
    "data-empty-end": frame(0x0, END_STREAM, 5, b""),
    "headers": frame(0x1, END_HEADERS | END_STREAM, 1, GET_BLOCK),
    "headers-priority-padded": frame(
        0x1, END_HEADERS | PADDED | PRIORITY, 3,
        padded(struct.pack(">IB", 0x80000001, 15) + GET_BLOCK, 3)),
    "headers-continuation": frame(0x1, 0, 1, GET_BLOCK[:7]) + frame(0x9, 0, 1, GET_BLOCK[7:12])
    + frame(0x9, END_HEADERS, 1, GET_BLOCK[12:]),
    "priority": frame(0x2, 0, 5, struct.pack(">IB", 3, 200)),
    "rst-stream": frame(0x3, 0, 1, struct.pack(">I", 8)),
    "settings": frame(0x4, 0, 0, b"".join(struct.pack(">HI", i, v) for i, v in [
        (1, 4096), (2, 0), (3, 100), (4, 65535), (5, 16384), (6, 8192), (8, 1), (9, 1), (0x99, 7)])),
    "settings-ack": frame(0x4, ACK, 0, b""),
    "push-promise-padded": frame(0x5, END_HEADERS | PADDED, 1,
                                 padded(struct.pack(">I", 2) + GET_BLOCK, 2)),
    "ping": frame(0x6, 0, 0, b"h2proto!"),
    "ping-ack": frame(0x6, ACK, 0, b"\1\2\3\4\5\6\7\x08"),
    "goaway": frame(0x7, 0, 0, struct.pack(">II", 7, 0xb) + b"calm down"),
    "window-update": frame(0x8, 0, 0, struct.pack(">I", 1 << 20)) + frame(0x8, 0, 1, struct.pack(">I", 1)),
    "priority-update": frame(0x10, 0, 0, struct.pack(">I", 1) + b"u=3, i"),
    "unknown": frame(0xfa, 0xff, 9, b"extension"),
    # Invalid: a stream error must not stop decoding, a connection error must.
    "priority-self-dependency": frame(0x2, 0, 3, struct.pack(">IB", 3, 0)) + frame(0x6, 0, 0, b"12345678"),
    "window-update-zero": frame(0x8, 0, 1, struct.pack(">I", 0)) + frame(0x6, 0, 0, b"12345678"),
    "settings-bad-length": frame(0x4, 0, 0, b"\0\1\0\0"),
    "data-stream-0": frame(0x0, 0, 0, b"x"),
    "padding-too-long": frame(0x0, PADDED, 1, b"\x05abc"),
    "oversize": frame(0x0, 0, 1, b"\0" * 20000),
}
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


def frame_seeds():
    for i, (name, data) in enumerate(FRAMES.items()):
        # Vary the chunking mode and the max frame size selector across seeds.
        mode = [0x00, 0x01, 0x07, 0x10, 0x21, 0x33][i % 6]
        write("frame_decode", name, bytes([mode, 0x00]) + data)
    conversation = b"".join(FRAMES[k] for k in [
        "settings", "window-update", "headers", "data", "headers-continuation", "ping",
        "priority-update", "rst-stream", "goaway"])
    write("frame_decode", "conversation", bytes([0x00, 0x01]) + conversation)
    write("frame_decode", "conversation-small-max", bytes([0x05, 0x02 | (4 << 2)]) + conversation)
    write("frame_decode", "preface", bytes([0x03, 0x00]) + PREFACE + FRAMES["settings"])


# --- hpack_decode -----------------------------------------------------------------------

def rfc7541_examples():
    """The hex dumps of RFC 7541 Appendix C, grouped by section (C.2.1, ..., C.3, ...)."""
    with open(os.path.join(SHARED, "spec", "rfc7541-hpack.txt")) as f:
        lines = f.read().splitlines()
    groups, section, block, in_dump = {}, None, None, False
    for line in lines:
        m = re.match(r"^(C\.\d(?:\.\d)?)\.\s", line)
        if m:
            section = m.group(1)
        if "Hex dump of encoded data:" in line:
            in_dump, block = True, b""
            continue
        if in_dump:
            m = re.match(r"^   ((?:[0-9a-f]{2,4} )*[0-9a-f]{2,4}) +\|", line)
            if m:
                block += bytes.fromhex(m.group(1).replace(" ", ""))
            elif "Decoding process:" in line:
                in_dump = False
                key = section if section.startswith("C.2") else section[:3]
                groups.setdefault(key, []).append(block)
    return groups


def command(block):
    if len(block) < 0x80:
        return bytes([len(block)]) + block
    assert len(block) < 0x4000
    return bytes([0x80 | (len(block) >> 8), len(block) & 0xff]) + block


def table_size(n):
    return bytes([0xc0 | (n // 128)])


def hpack_seeds():
    for key, blocks in rfc7541_examples().items():
        # C.5 and C.6 use SETTINGS_HEADER_TABLE_SIZE 256: config bits 2-3 = 2.
        config = 0x08 if key in ("C.5", "C.6") else 0x00
        write("hpack_decode", "rfc7541-" + key, bytes([config]) + b"".join(map(command, blocks)))
    # The same requests with a small header-list limit, and a table-size change between.
    c3 = rfc7541_examples()["C.3"]
    write("hpack_decode", "rfc7541-C.3-limit-64", bytes([0x01]) + b"".join(map(command, c3)))
    write("hpack_decode", "rfc7541-C.3-resize",
          bytes([0x00]) + command(c3[0]) + table_size(0) + command(b"\x20" + c3[1]) + command(c3[2]))
    for i in range(10):
        with open(os.path.join(SHARED, "testdata", "hpack-test-case", "nghttp2", f"story_{i:02}.json")) as f:
            cases = json.load(f)["cases"]
        blocks = [bytes.fromhex(c["wire"]) for c in cases[:6]]
        config = [0x00, 0x00, 0x02, 0x03, 0x00, 0x04, 0x00, 0x0c, 0x00, 0x01][i]
        write("hpack_decode", f"nghttp2-story_{i:02}", bytes([config]) + b"".join(map(command, blocks)))
    # Malformed: Huffman EOS, integer overflow, index 0, size update after a field.
    write("hpack_decode", "bad-huffman", b"\x00" + command(b"\x82\x0a\x84\xff\xff\xff\xff"))
    write("hpack_decode", "bad-integer", b"\x00" + command(b"\xff\xff\xff\xff\xff\xff\x0f"))
    write("hpack_decode", "bad-index-0", b"\x00" + command(b"\x80"))
    write("hpack_decode", "bad-late-size-update", b"\x00" + command(b"\x82\x20"))


# --- hpack_roundtrip --------------------------------------------------------------------

def roundtrip_seeds():
    texts = [
        b"",
        b":method\0GET\x01:path\0/index.html\x00authorization\0Basic dXNlcjpwYXNz\x01",
        b"cookie\0a=b; c=d\x01\x01set-cookie\0id=42; HttpOnly\x00\x00\x10\x00",
        bytes(range(256)),
        bytes(range(255, -1, -1)) * 2,
        b"\x01\x02x-custom-header\x05value\xff\xfe\xfd" * 8,
    ]
    for i, t in enumerate(texts):
        write("hpack_roundtrip", f"{i:02}", t)


# --- conn_server, conn_client ----------------------------------------------------------

TRACES = os.path.join(SHARED, "testdata", "traces")
MAX_SEED = 24 << 10


def split_frames(data):
    """The frames of a trace (bytes each), and any trailing partial frame."""
    frames, pos = [], 0
    while pos + 9 <= len(data):
        length = int.from_bytes(data[pos:pos + 3], "big")
        if pos + 9 + length > len(data):
            break
        frames.append(data[pos:pos + 9 + length])
        pos += 9 + length
    return frames, data[pos:]


def capped(frames):
    out = b""
    for f in frames:
        if len(out) + len(f) > MAX_SEED:
            break
        out += f
    return out


# Client request counts selected by sched_hi's top two bits: 1, 3, 11, 100.
REQUESTS = {"curl-get": 0x00, "curl-post": 0x00, "nghttp-multi": 0x80, "nghttp-upload": 0x80,
            "h2load-m10": 0xc0}


def conn_seeds():
    for name in sorted(REQUESTS):
        for direction, target in [("client-to-server", "conn_server"), ("server-to-client", "conn_client")]:
            with open(os.path.join(TRACES, f"{name}.{direction}.bin"), "rb") as f:
                data = f.read()
            if target == "conn_server":
                assert data.startswith(PREFACE)
                data = data[len(PREFACE):]
            frames, rest = split_frames(data)
            assert not rest, name
            hi = REQUESTS[name] if target == "conn_client" else 0x00
            whole = capped(frames)
            # Default config, a few schedules; then small limits with other schedules.
            write(target, f"{name}", bytes([0x00, 0x00, hi]) + whole)
            write(target, f"{name}-sched", bytes([0x00, 0x5a, hi | 0x13]) + whole)
            write(target, f"{name}-small", bytes([0x0f, 0x21, hi | 0x07]) + whole)
            write(target, f"{name}-tight", bytes([0xdb, 0x99, hi | 0x2c]) + whole)
            # Pieces: the first frames only (cut inside the next one), and the second half
            # alone (after the target's own SETTINGS: streams it never saw opened).
            head = capped(frames[:3]) + (frames[3][:5] if len(frames) > 3 else b"")
            write(target, f"{name}-head", bytes([0x00, 0x07, hi]) + head)
            tail = capped(frames[len(frames) // 2:])
            write(target, f"{name}-tail", bytes([0x20, 0x31, hi]) + tail)


if __name__ == "__main__":
    frame_seeds()
    hpack_seeds()
    roundtrip_seeds()
    conn_seeds()
