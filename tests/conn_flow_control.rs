//! RFC 9113 §5.2 and §6.9 flow control, proven at the frame level for both roles: window
//! overruns and overflows, SETTINGS_INITIAL_WINDOW_SIZE changes, how the sender chunks and
//! stalls, how the receiver batches WINDOW_UPDATEs, and send-side backpressure.

mod support;

use bytes::Bytes;
use h2proto::frame::{Data, Frame, MAX_WINDOW_SIZE, SettingId, Settings, StreamId};
use h2proto::{Config, ErrorCode, Event, Role};
use support::*;

const ROLES: [Role; 2] = [Role::Server, Role::Client];
const MAX: u32 = MAX_WINDOW_SIZE;

fn zeros(n: usize) -> Bytes {
    Bytes::from(vec![0u8; n])
}

fn data_frame(id: u32, len: usize) -> Data {
    Data::new(StreamId(id), zeros(len), false)
}

/// Stream `id` open both ways and ready for `send_data` (a server has sent its head).
fn ready_to_send(peer: &mut Peer, id: u32) {
    peer.open_stream(id);
    if peer.conn.role() == Role::Server {
        peer.conn.send_response(StreamId(id), status(200), false).unwrap();
        let frames = peer.frames();
        assert!(matches!(&frames[..], [Frame::Headers(_)]), "{frames:?}");
    }
}

/// The payload sizes of the DATA frames in `frames` (which must hold nothing else).
#[track_caller]
fn data_sizes(frames: &[Frame]) -> Vec<usize> {
    frames
        .iter()
        .map(|f| match f {
            Frame::Data(d) => d.data.len(),
            other => panic!("expected only DATA, got {other:?}"),
        })
        .collect()
}

/// The WINDOW_UPDATEs in `frames` as (stream, increment); anything else is an error.
#[track_caller]
fn window_updates(frames: &[Frame]) -> Vec<(u32, u32)> {
    frames
        .iter()
        .map(|f| match f {
            Frame::WindowUpdate(w) => (w.stream_id.0, w.increment),
            other => panic!("expected only WINDOW_UPDATE, got {other:?}"),
        })
        .collect()
}

/// The GOAWAY's last stream id a connection error reports in `role` after the peer
/// opened stream 1 (a client has processed no stream of the server's).
fn last_processed(role: Role) -> StreamId {
    if role == Role::Server { StreamId(1) } else { StreamId::ZERO }
}

// ----- §6.9.1 receiving: the peer must respect our windows -----

#[test]
fn rfc9113_6_9_1_data_beyond_connection_window_is_flow_control_error() {
    // RFC 9113 §6.9.1: a sender must not exceed the connection window; the receiver treats
    // an overrun as a connection error FLOW_CONTROL_ERROR.
    for role in ROLES {
        let mut config = Config::default();
        config.initial_connection_window_size = 65_535;
        let mut peer = Peer::connected(role, config);
        peer.open_stream(1);
        for len in [16_384, 16_384, 16_384, 16_383] {
            peer.send(data_frame(1, len));
        }
        peer.expect_silence();
        peer.send(data_frame(1, 1));
        let goaway = peer.expect_goaway(ErrorCode::FLOW_CONTROL_ERROR);
        assert_eq!(goaway.last_stream_id, last_processed(role), "{role:?}");
        assert!(peer.last_result.is_err());
    }
}

#[test]
fn rfc9113_6_9_1_data_beyond_stream_window_is_stream_flow_control_error() {
    // RFC 9113 §6.9.1 / §5.4.2: overrunning a stream window is a stream error
    // FLOW_CONTROL_ERROR; the connection lives on.
    for role in ROLES {
        let mut config = Config::default();
        config.initial_stream_window_size = 16_384;
        let mut peer = Peer::connected(role, config);
        peer.open_stream(1);
        peer.send(data_frame(1, 16_384));
        peer.expect_silence();
        peer.send(data_frame(1, 1));
        peer.expect_reset(1, ErrorCode::FLOW_CONTROL_ERROR);
        let events = peer.events();
        assert!(
            events.iter().any(|e| matches!(
                e,
                Event::Reset {
                    stream_id: StreamId(1),
                    error_code: ErrorCode::FLOW_CONTROL_ERROR,
                    ..
                }
            )),
            "{role:?}: {events:?}"
        );
        peer.expect_alive();
    }
}

#[test]
fn rfc9113_6_1_padding_counts_against_flow_control() {
    // RFC 9113 §6.1: the whole DATA payload, Pad Length and padding included, is
    // flow-controlled.
    for role in ROLES {
        let mut config = Config::default();
        config.initial_stream_window_size = 16_384;
        let mut peer = Peer::connected(role, config);
        peer.open_stream(1);
        let padded = Data { pad_len: Some(255), ..Data::new(StreamId(1), zeros(100), false) };
        assert_eq!(padded.flow_controlled_len(), 356);
        peer.send(padded);
        peer.send(data_frame(1, 16_384 - 356));
        peer.expect_silence();
        assert_eq!(peer.conn.read_data(StreamId(1)).map(|b| b.len()), Some(100), "{role:?}");
        peer.send(data_frame(1, 1));
        peer.expect_reset(1, ErrorCode::FLOW_CONTROL_ERROR);
    }
    // And against the connection window.
    for role in ROLES {
        let mut config = Config::default();
        config.initial_connection_window_size = 65_535;
        let mut peer = Peer::connected(role, config);
        peer.open_stream(1);
        // 16,128 bytes + Pad Length + 255 bytes of padding = 16,384 flow-controlled bytes.
        let padded = Data { pad_len: Some(255), ..data_frame(1, 16_128) };
        for _ in 0..3 {
            peer.send(padded.clone());
        }
        peer.expect_silence();
        // 16,383 bytes of credit are left: the 16,128 data bytes would fit, the frame does not.
        peer.send(padded);
        peer.expect_goaway(ErrorCode::FLOW_CONTROL_ERROR);
    }
}

#[test]
fn rfc9113_6_9_1_connection_window_overflow_is_flow_control_error() {
    // RFC 9113 §6.9.1: a WINDOW_UPDATE that takes the connection window past 2^31-1 is a
    // connection error FLOW_CONTROL_ERROR; up to 2^31-1 exactly is fine.
    for role in ROLES {
        let mut peer = Peer::connected(role, Config::default());
        peer.send(window_update(0, MAX - 65_535));
        peer.expect_silence();
        assert_eq!(peer.conn.connection_send_window(), i32::MAX);
        peer.send(window_update(0, 1));
        let goaway = peer.expect_goaway(ErrorCode::FLOW_CONTROL_ERROR);
        assert_eq!(goaway.last_stream_id, StreamId::ZERO);
        assert!(peer.last_result.is_err(), "{role:?}");
    }
}

#[test]
fn rfc9113_6_9_1_stream_window_overflow_is_stream_flow_control_error() {
    // RFC 9113 §6.9.1: a WINDOW_UPDATE that takes a stream window past 2^31-1 is a stream
    // error FLOW_CONTROL_ERROR.
    for role in ROLES {
        let mut peer = Peer::connected(role, Config::default());
        peer.open_stream(1);
        peer.send(window_update(1, MAX - 65_535));
        peer.expect_silence();
        assert_eq!(peer.conn.send_window(StreamId(1)), Some(i32::MAX), "{role:?}");
        peer.send(window_update(1, 1));
        peer.expect_reset(1, ErrorCode::FLOW_CONTROL_ERROR);
        peer.expect_alive();
    }
}

#[test]
fn rfc9113_6_9_zero_increment_is_protocol_error() {
    // RFC 9113 §6.9: an increment of 0 is a stream error PROTOCOL_ERROR on a stream, and a
    // connection error PROTOCOL_ERROR on the connection window.
    for role in ROLES {
        let mut peer = Peer::connected(role, Config::default());
        peer.open_stream(1);
        peer.send(window_update(1, 0));
        peer.expect_reset(1, ErrorCode::PROTOCOL_ERROR);
        peer.expect_alive();
        peer.send(window_update(0, 0));
        let goaway = peer.expect_goaway(ErrorCode::PROTOCOL_ERROR);
        assert_eq!(goaway.last_stream_id, last_processed(role), "{role:?}");
    }
}

// ----- §6.9.2 SETTINGS_INITIAL_WINDOW_SIZE -----

#[test]
fn rfc9113_6_9_2_initial_window_change_adjusts_open_stream_send_windows() {
    // RFC 9113 §6.9.2: a new SETTINGS_INITIAL_WINDOW_SIZE shifts every stream's send window
    // by the difference, possibly below zero; the sender then waits for WINDOW_UPDATEs. The
    // connection window is not affected.
    for role in ROLES {
        let mut peer = Peer::connected(role, Config::default());
        ready_to_send(&mut peer, 1);
        peer.send(window_update(0, 1 << 20));
        assert_eq!(peer.conn.send_window(StreamId(1)), Some(65_535));
        assert_eq!(peer.conn.send_data(StreamId(1), zeros(60_000), false), Ok(60_000));
        assert_eq!(data_sizes(&peer.frames()), vec![16_384, 16_384, 16_384, 10_848]);
        assert_eq!(peer.conn.send_window(StreamId(1)), Some(5_535));
        let connection = peer.conn.connection_send_window();
        assert_eq!(connection, 65_535 + (1 << 20) - 60_000);

        peer.send(Settings::new().with(SettingId::INITIAL_WINDOW_SIZE, 100_000));
        assert_eq!(peer.conn.send_window(StreamId(1)), Some(40_000), "{role:?}");
        peer.send(Settings::new().with(SettingId::INITIAL_WINDOW_SIZE, 10_000));
        assert_eq!(peer.conn.send_window(StreamId(1)), Some(-50_000), "{role:?}: negative");
        assert_eq!(peer.conn.connection_send_window(), connection, "SETTINGS never move it");
        let frames = peer.frames();
        assert_eq!(frames, vec![Frame::Settings(Settings::ack()); 2]);

        // Stalled while the window is not positive.
        assert_eq!(peer.conn.send_data(StreamId(1), zeros(100), true), Ok(100));
        peer.expect_silence();
        peer.send(window_update(1, 50_000));
        assert_eq!(peer.conn.send_window(StreamId(1)), Some(0));
        peer.expect_silence();
        // Recovers as credit arrives.
        peer.send(window_update(1, 40));
        assert_eq!(data_sizes(&peer.frames()), vec![40]);
        peer.send(window_update(1, 1_000));
        let frames = peer.frames();
        assert!(
            matches!(&frames[..], [Frame::Data(d)] if d.data.len() == 60 && d.end_stream),
            "{role:?}: {frames:?}"
        );
        // Half-closed (local) now; the window is what is left of the credit.
        assert_eq!(peer.conn.send_window(StreamId(1)), Some(940), "{role:?}");
    }
}

#[test]
fn rfc9113_6_9_2_new_streams_use_the_peer_initial_window() {
    // RFC 9113 §6.9.2: the peer's SETTINGS_INITIAL_WINDOW_SIZE is every new stream's send
    // window.
    for role in ROLES {
        let mut peer = match role {
            Role::Server => Peer::server(),
            Role::Client => Peer::client(),
        };
        peer.handshake_with(Settings::new().with(SettingId::INITIAL_WINDOW_SIZE, 1_000));
        ready_to_send(&mut peer, 1);
        assert_eq!(peer.conn.send_window(StreamId(1)), Some(1_000), "{role:?}");
        assert_eq!(peer.conn.send_data(StreamId(1), zeros(5_000), false), Ok(5_000));
        assert_eq!(data_sizes(&peer.frames()), vec![1_000]);
    }
}

#[test]
fn rfc9113_6_9_2_initial_window_change_that_overflows_is_flow_control_error() {
    // RFC 9113 §6.9.2: a SETTINGS_INITIAL_WINDOW_SIZE change that takes any stream window
    // past 2^31-1 is a connection error FLOW_CONTROL_ERROR.
    for role in ROLES {
        let mut peer = Peer::connected(role, Config::default());
        peer.open_stream(1);
        peer.send(window_update(1, MAX - 65_535));
        peer.expect_silence();
        peer.send(Settings::new().with(SettingId::INITIAL_WINDOW_SIZE, 65_536));
        let goaway = peer.expect_goaway(ErrorCode::FLOW_CONTROL_ERROR);
        assert_eq!(goaway.last_stream_id, last_processed(role), "{role:?}");
    }
}

#[test]
fn rfc9113_6_9_2_smaller_receive_window_applies_only_once_acknowledged() {
    // RFC 9113 §6.9.2: after lowering our initial window, we must accept data up to the old
    // window until the peer has acknowledged the SETTINGS; then the new one applies.
    for role in ROLES {
        let mut config = Config::default();
        config.initial_stream_window_size = 16_384;
        let mut peer = match role {
            Role::Server => Peer::server_with(config),
            Role::Client => Peer::client_with(config),
        };
        let ours = peer.handshake_unacked(Settings::new());
        assert!(
            matches!(&ours[0], Frame::Settings(s) if s.get(SettingId::INITIAL_WINDOW_SIZE) == Some(16_384)),
            "{ours:?}"
        );
        peer.open_stream(1);
        // The peer has not seen our SETTINGS yet: its window is the default 65,535.
        for len in [16_384, 16_384, 16_384, 16_383] {
            peer.send(data_frame(1, len));
        }
        peer.expect_silence();
        peer.send(Settings::ack());
        peer.expect_silence();
        // Now the stream window is 16,384 - 65,535: no credit until data is released.
        peer.send(data_frame(1, 1));
        peer.expect_reset(1, ErrorCode::FLOW_CONTROL_ERROR);
    }
}

#[test]
fn rfc9113_6_9_2_larger_receive_window_applies_once_on_acknowledgement() {
    // RFC 9113 §6.9.2: a stream opened before the peer acknowledged our larger initial
    // window has exactly that window afterwards: more is an overrun.
    for role in ROLES {
        let mut config = Config::default();
        config.initial_stream_window_size = 100_000;
        let mut peer = match role {
            Role::Server => Peer::server_with(config),
            Role::Client => Peer::client_with(config),
        };
        peer.handshake_unacked(Settings::new());
        peer.open_stream(1);
        peer.send(Settings::ack());
        for len in [16_384; 6] {
            peer.send(data_frame(1, len));
        }
        peer.send(data_frame(1, 100_000 - 6 * 16_384));
        peer.expect_silence();
        peer.send(data_frame(1, 1));
        peer.expect_reset(1, ErrorCode::FLOW_CONTROL_ERROR);
    }
}

#[test]
fn rfc9113_6_9_only_data_is_flow_controlled() {
    // RFC 9113 §6.9: only DATA frames are subject to flow control: message heads and
    // trailers go out with no window at all.
    for role in ROLES {
        let mut peer = match role {
            Role::Server => Peer::server(),
            Role::Client => Peer::client(),
        };
        peer.handshake_with(Settings::new().with(SettingId::INITIAL_WINDOW_SIZE, 0));
        peer.open_stream(1);
        if role == Role::Server {
            peer.conn.send_response(StreamId(1), status(200), false).unwrap();
            let frames = peer.frames();
            assert!(matches!(&frames[..], [Frame::Headers(h)] if !h.end_stream), "{frames:?}");
        }
        let mut trailers = http::HeaderMap::new();
        trailers.insert("x-checksum", "0".parse().unwrap());
        peer.conn.send_trailers(StreamId(1), trailers).unwrap();
        let frames = peer.frames();
        assert!(matches!(&frames[..], [Frame::Headers(h)] if h.end_stream), "{role:?}: {frames:?}");
        assert_eq!(peer.conn.send_window(StreamId(1)), Some(0));
    }
}

// ----- §6.9 / §4.2 how the sender frames DATA -----

#[test]
fn rfc9113_6_9_sender_chunks_data_to_max_frame_size_and_window() {
    // RFC 9113 §4.2 / §6.9.1: DATA frames never exceed the peer's SETTINGS_MAX_FRAME_SIZE nor
    // the available window.
    for role in ROLES {
        // Default 16,384-byte frames, limited by the 65,535-byte windows.
        let mut peer = Peer::connected(role, Config::default());
        ready_to_send(&mut peer, 1);
        assert_eq!(peer.conn.send_data(StreamId(1), zeros(100_000), true), Ok(100_000));
        assert_eq!(data_sizes(&peer.frames()), vec![16_384, 16_384, 16_384, 16_383]);
        assert_eq!(peer.conn.send_window(StreamId(1)), Some(0));
        assert_eq!(peer.conn.connection_send_window(), 0);

        // A peer allowing 20,000-byte frames and large windows.
        let mut peer = match role {
            Role::Server => Peer::server(),
            Role::Client => Peer::client(),
        };
        peer.handshake_with(
            Settings::new()
                .with(SettingId::MAX_FRAME_SIZE, 20_000)
                .with(SettingId::INITIAL_WINDOW_SIZE, 1 << 20),
        );
        peer.send(window_update(0, 1 << 20));
        ready_to_send(&mut peer, 1);
        assert_eq!(peer.conn.send_data(StreamId(1), zeros(100_001), true), Ok(100_001));
        let frames = peer.frames();
        assert_eq!(data_sizes(&frames), vec![20_000, 20_000, 20_000, 20_000, 20_000, 1]);
        assert!(matches!(frames.last(), Some(Frame::Data(d)) if d.end_stream), "{role:?}");
    }
}

#[test]
fn rfc9113_6_9_stalled_stream_resumes_after_window_update() {
    // RFC 9113 §6.9: with no window, a sender sends no DATA; a WINDOW_UPDATE (stream or
    // connection) lets it resume exactly as far as the credit goes.
    for role in ROLES {
        let mut peer = match role {
            Role::Server => Peer::server(),
            Role::Client => Peer::client(),
        };
        peer.handshake_with(Settings::new().with(SettingId::INITIAL_WINDOW_SIZE, 0));
        ready_to_send(&mut peer, 1);
        assert_eq!(peer.conn.send_data(StreamId(1), zeros(70_000), true), Ok(70_000));
        peer.expect_silence();
        let stalls = peer.conn.stats().flow_control_stalls;
        assert!(stalls > 0, "{role:?}");
        // Stream credit: goes out up to the connection window (65,535).
        peer.send(window_update(1, 100_000));
        assert_eq!(data_sizes(&peer.frames()), vec![16_384, 16_384, 16_384, 16_383]);
        // Connection credit: the rest.
        peer.send(window_update(0, 4_465));
        let frames = peer.frames();
        assert_eq!(data_sizes(&frames), vec![4_465]);
        assert!(matches!(&frames[0], Frame::Data(d) if d.end_stream));
        assert_eq!(peer.conn.connection_send_window(), 0);
    }
}

#[test]
fn rfc9113_6_9_1_a_blocked_connection_window_wants_no_write_and_stalls_once() {
    // RFC 9113 §6.9.1: with the connection window at 0 nothing flow-controlled can go.
    // `wants_write` must then be false (a loop that waits for writability while it is true
    // would spin), and one stall is one stall however often `transmit` is called.
    for role in ROLES {
        let mut peer = Peer::connected(role, Config::default());
        // Streams get far more credit than the connection (65,535).
        peer.send(Settings::new().with(SettingId::INITIAL_WINDOW_SIZE, 1 << 20));
        peer.frames();
        ready_to_send(&mut peer, 1);
        assert_eq!(peer.conn.send_data(StreamId(1), zeros(70_000), false), Ok(70_000));
        assert!(peer.conn.wants_write());
        assert_eq!(data_sizes(&peer.frames()).iter().sum::<usize>(), 65_535);
        assert!(!peer.conn.wants_write(), "{role:?}: only blocked DATA is queued");
        for _ in 0..10 {
            assert_eq!(h2proto::buf_to_vec(peer.conn.transmit()), Vec::<u8>::new());
        }
        assert!(!peer.conn.wants_write(), "{role:?}");
        assert_eq!(peer.conn.stats().flow_control_stalls, 1, "{role:?}");
        // Credit for the connection: the rest goes, and the window is empty again.
        peer.send(window_update(0, 1_000));
        assert!(peer.conn.wants_write(), "{role:?}");
        assert_eq!(data_sizes(&peer.frames()), vec![1_000]);
        assert!(!peer.conn.wants_write(), "{role:?}");
        assert_eq!(peer.conn.stats().flow_control_stalls, 2, "{role:?}");
        // A stream's own empty window is a stall of its own.
        peer.send(Settings::new().with(SettingId::INITIAL_WINDOW_SIZE, 65_535));
        peer.send(window_update(0, 2_000_000));
        peer.frames();
        ready_to_send(&mut peer, 3);
        let sent = peer.conn.stats().flow_control_stalls;
        peer.conn.send_data(StreamId(3), zeros(70_000), false).unwrap();
        assert_eq!(data_sizes(&peer.frames()).iter().sum::<usize>(), 65_535);
        assert!(!peer.conn.wants_write(), "{role:?}");
        peer.conn.transmit();
        assert_eq!(peer.conn.stats().flow_control_stalls, sent + 1, "{role:?}");
    }
}

// ----- §6.9 receive side: WINDOW_UPDATE batching and release -----

#[test]
fn rfc9113_6_9_window_updates_are_batched_as_the_application_reads() {
    // RFC 9113 §6.9: the receiver decides when to send WINDOW_UPDATE; we send few, sized
    // updates as the application consumes data, not one per DATA frame.
    for role in ROLES {
        let mut peer = Peer::connected(role, Config::default());
        peer.open_stream(1);
        let frame = zeros(1_000);
        let mut updates = Vec::new();
        let mut read = 0;
        for _ in 0..1_000 {
            peer.send(Data::new(StreamId(1), frame.clone(), false));
            while let Some(chunk) = peer.conn.read_data(StreamId(1)) {
                read += chunk.len() as u32;
            }
            updates.extend(window_updates(&peer.frames()));
        }
        assert_eq!(read, 1_000_000);
        assert!(!updates.is_empty() && updates.len() <= 10, "{role:?}: {updates:?}");
        for (id, increment) in &updates {
            // At least a quarter of the window at a time (Config::window_update_threshold).
            let window: u32 = if *id == 0 { 4 << 20 } else { 1 << 20 };
            assert!(*increment >= window / 4, "{role:?}: {updates:?}");
        }
        let stream_credit: u32 = updates.iter().filter(|(id, _)| *id == 1).map(|u| u.1).sum();
        assert!(stream_credit <= read && read - stream_credit < (1 << 20) / 4, "{updates:?}");
        peer.expect_alive();
    }
}

#[test]
fn rfc9113_6_9_no_window_update_until_the_application_reads() {
    // RFC 9113 §6.9: with automatic release, credit returns only as the application reads,
    // so a slow reader pushes back on the sender.
    for role in ROLES {
        let mut peer = Peer::connected(role, Config::default());
        peer.open_stream(1);
        for _ in 0..40 {
            peer.send(data_frame(1, 16_384));
        }
        peer.expect_silence();
        let mut read = 0;
        while let Some(chunk) = peer.conn.read_data(StreamId(1)) {
            read += chunk.len() as u32;
        }
        assert_eq!(read, 40 * 16_384);
        // Credit comes back for the stream only (the connection's waits for a quarter of its
        // 4 MiB), in steps of at least a quarter of the 1 MiB window.
        let updates = window_updates(&peer.frames());
        assert!(!updates.is_empty(), "{role:?}");
        assert!(updates.iter().all(|&(id, n)| id == 1 && n >= 1 << 18), "{role:?}: {updates:?}");
        let credit: u32 = updates.iter().map(|u| u.1).sum();
        assert!(credit <= read && read - credit < 1 << 18, "{role:?}: {updates:?}");
    }
}

#[test]
fn rfc9113_6_9_receive_windows_are_reported_as_data_arrives_and_credit_returns() {
    // RFC 9113 §6.9: what the peer may still send, per stream and for the connection, falls
    // with every DATA byte received and rises by exactly the WINDOW_UPDATEs we announce.
    for role in ROLES {
        let mut peer = Peer::connected(role, Config::default());
        peer.open_stream(1);
        let stream = peer.conn.recv_window(StreamId(1)).unwrap();
        let connection = peer.conn.connection_recv_window();
        assert_eq!((stream, connection), (1 << 20, 4 << 20), "{role:?}: Config's windows");
        for _ in 0..20 {
            peer.send(data_frame(1, 16_384));
        }
        let received = 20 * 16_384;
        assert_eq!(peer.conn.recv_window(StreamId(1)), Some(stream - received), "{role:?}");
        assert_eq!(peer.conn.connection_recv_window(), connection - received, "{role:?}");
        while peer.conn.read_data(StreamId(1)).is_some() {}
        let updates = window_updates(&peer.frames());
        assert!(!updates.is_empty(), "{role:?}: a quarter of the stream window was read");
        let credit = |id: u32| updates.iter().filter(|u| u.0 == id).map(|u| u.1).sum::<u32>();
        assert_eq!(peer.conn.recv_window(StreamId(1)), Some(stream - received + credit(1)));
        assert_eq!(peer.conn.connection_recv_window(), connection - received + credit(0));
        assert_eq!(peer.conn.recv_window(StreamId(3)), None, "{role:?}: no such stream");
    }
}

#[test]
fn rfc9113_6_9_manual_release_sends_window_update_only_on_release_capacity() {
    // RFC 9113 §6.9: with Config::auto_release_capacity off, reading returns no credit; only
    // release_capacity does, and never more than was received.
    for role in ROLES {
        let mut config = Config::default();
        config.auto_release_capacity = false;
        let mut peer = Peer::connected(role, config);
        peer.open_stream(1);
        for _ in 0..20 {
            peer.send(data_frame(1, 15_000));
        }
        while peer.conn.read_data(StreamId(1)).is_some() {}
        peer.expect_silence();
        peer.conn.release_capacity(StreamId(1), 100_000).unwrap();
        peer.expect_silence(); // under a quarter of the window: batched
        peer.conn.release_capacity(StreamId(1), 200_000).unwrap();
        assert_eq!(window_updates(&peer.frames()), vec![(1, 300_000)], "{role:?}");
        // Releasing more than was received is capped.
        peer.conn.release_capacity(StreamId(1), 1 << 20).unwrap();
        peer.expect_silence();
        assert!(peer.conn.release_capacity(StreamId(9), 1).is_err());
    }
}

#[test]
fn rfc9113_6_9_manual_release_after_the_stream_closed_still_credits_the_connection() {
    // RFC 9113 §6.9: DATA counts against the connection window until the receiver releases
    // it. With manual release the application may finish reading a body after its stream
    // closed and was forgotten; releasing then must still return the connection credit,
    // or every such body would shrink the connection window for good.
    let mut client = Config::default();
    client.auto_release_capacity = false;
    client.initial_connection_window_size = 65_535;
    let mut pair = Pair::with(client, Config::default());
    for round in 0..4 {
        let id = pair.client.send_request(get("http://example.com/"), true).unwrap();
        pair.drive();
        pair.server.send_response(id, status(200), false).unwrap();
        assert_eq!(pair.server.send_data(id, zeros(40_000), true).unwrap(), 40_000);
        pair.drive();
        let body = Pair::read_all(&mut pair.client, id);
        assert_eq!(body.len(), 40_000, "round {round}: the body was starved of window");
        // The stream is closed both ways and fully read: the core forgot it.
        pair.client.release_capacity(id, body.len()).unwrap();
        pair.drive();
        assert_eq!(pair.server.connection_send_window(), 65_535, "round {round}");
    }
    // A stream that never existed is still an error.
    assert!(pair.client.release_capacity(StreamId(99), 1).is_err());
}

// ----- Send-side backpressure -----

#[test]
fn send_data_is_bounded_by_the_stream_send_buffer_and_reports_capacity() {
    // send_data accepts at most Config::max_send_buffer_per_stream unsent bytes and says so
    // with Event::SendCapacity once room frees up.
    for role in ROLES {
        let mut config = Config::default();
        config.max_send_buffer_per_stream = 1_000;
        let mut peer = match role {
            Role::Server => Peer::server_with(config),
            Role::Client => Peer::client_with(config),
        };
        peer.handshake_with(Settings::new().with(SettingId::INITIAL_WINDOW_SIZE, 0));
        ready_to_send(&mut peer, 1);
        assert_eq!(peer.conn.send_capacity(StreamId(1)), 1_000);
        assert_eq!(peer.conn.send_data(StreamId(1), zeros(2_000), true), Ok(1_000));
        assert_eq!(peer.conn.send_data(StreamId(1), zeros(500), true), Ok(0));
        assert_eq!(peer.conn.send_capacity(StreamId(1)), 0);
        peer.expect_silence();
        assert!(peer.events().is_empty());

        peer.send(window_update(1, 600));
        assert_eq!(data_sizes(&peer.frames()), vec![600]);
        let events = peer.events();
        assert!(
            matches!(&events[..], [Event::SendCapacity { stream_id: StreamId(1) }]),
            "{events:?}"
        );
        assert_eq!(peer.conn.send_data(StreamId(1), zeros(2_000), false), Ok(600));
        peer.send(window_update(1, 100));
        assert_eq!(data_sizes(&peer.frames()), vec![100]);
        assert!(peer.events().is_empty(), "{role:?}: 100 bytes free is under half the buffer");
        peer.send(window_update(1, 900));
        assert_eq!(data_sizes(&peer.frames()), vec![900]);
        let events = peer.events();
        assert!(
            matches!(&events[..], [Event::SendCapacity { stream_id: StreamId(1) }]),
            "{events:?}"
        );
        assert_eq!(peer.conn.send_capacity(StreamId(1)), 1_000);
    }
}

// ----- Window bounds -----

/// A small deterministic generator (xorshift), so the sequence is the same every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn pick(&mut self, values: &[u32]) -> u32 {
        values[(self.next() % values.len() as u64) as usize]
    }
}

#[test]
fn rfc9113_6_9_windows_stay_within_bounds_and_match_a_model() {
    // RFC 9113 §6.9.1 / §6.9.2: a send window lives in [-2^31, 2^31-1]: any step past
    // 2^31-1 is a FLOW_CONTROL_ERROR, anything else is tracked exactly, negative included.
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let values = [0, 1, 16_384, 65_535, 1 << 20, 1 << 30, MAX - 1, MAX];
    for role in ROLES {
        for round in 0..40 {
            let mut peer = Peer::connected(role, Config::default());
            ready_to_send(&mut peer, 1);
            peer.send(window_update(0, MAX - 65_535));
            let (mut initial, mut stream, mut connection) = (65_535i64, 65_535i64, i64::from(MAX));
            let mut queued = 0i64;
            for step in 0..30 {
                let what = format!("{role:?} round {round} step {step}");
                match rng.next() % 3 {
                    0 => {
                        let value = rng.pick(&values);
                        peer.send(Settings::new().with(SettingId::INITIAL_WINDOW_SIZE, value));
                        let next = stream + i64::from(value) - initial;
                        if next > i64::from(MAX) {
                            peer.expect_goaway(ErrorCode::FLOW_CONTROL_ERROR);
                            break;
                        }
                        (stream, initial) = (next, i64::from(value));
                    }
                    1 => {
                        let increment = rng.pick(&values[1..]);
                        peer.send(window_update(1, increment));
                        if stream + i64::from(increment) > i64::from(MAX) {
                            peer.expect_reset(1, ErrorCode::FLOW_CONTROL_ERROR);
                            break;
                        }
                        stream += i64::from(increment);
                    }
                    _ => {
                        let n = (rng.next() % 40_000) as usize;
                        let accepted = peer.conn.send_data(StreamId(1), zeros(n), false).unwrap();
                        queued += accepted as i64;
                    }
                }
                let frames = peer.frames();
                let sent: i64 = frames
                    .iter()
                    .filter_map(|f| match f {
                        Frame::Data(d) => Some(d.data.len() as i64),
                        _ => None,
                    })
                    .sum();
                assert_eq!(sent, queued.min(stream.max(0)).min(connection.max(0)), "{what}");
                (stream, connection, queued) = (stream - sent, connection - sent, queued - sent);
                assert!(peer.last_result.is_ok(), "{what}: {:?}", peer.last_result);
                assert_eq!(
                    peer.conn.send_window(StreamId(1)).map(i64::from),
                    Some(stream),
                    "{what}"
                );
                assert_eq!(i64::from(peer.conn.connection_send_window()), connection, "{what}");
            }
        }
    }
}

#[test]
fn rfc9113_6_1_padding_cannot_make_a_tiny_body_pin_a_big_buffer() {
    // RFC 9113 §6.1: padding is flow-controlled, and we credit it back at once. A frame of
    // 1 byte of data and 255 of padding (or a few bytes in a large read) must not keep its
    // whole input alive while the application has not read: what we keep is a copy. A
    // large payload that fills its frame stays zero-copy.
    for role in ROLES {
        let mut peer = Peer::connected(role, Config::default());
        peer.open_stream(1);
        let mut padded = Data::new(StreamId(1), Bytes::from_static(b"x"), false);
        padded.pad_len = Some(255);
        let plain = Data::new(StreamId(1), zeros(16_000), false);
        let mut wire = bytes::BytesMut::new();
        Frame::Data(padded).encode(&mut wire);
        Frame::Data(plain).encode(&mut wire);
        let wire = wire.freeze();
        let range = wire.as_ptr() as usize..wire.as_ptr() as usize + wire.len();
        // This very buffer (the support's `send` copies).
        peer.conn.recv(wire.clone(), peer.now).unwrap();
        let tiny = peer.conn.read_data(StreamId(1)).unwrap();
        assert_eq!(&tiny[..], b"x");
        assert!(
            !range.contains(&(tiny.as_ptr() as usize)),
            "{role:?}: the tiny body was kept as a slice"
        );
        let big = peer.conn.read_data(StreamId(1)).unwrap();
        assert_eq!(big.len(), 16_000);
        assert!(range.contains(&(big.as_ptr() as usize)), "{role:?}: a full payload is not copied");
    }
}

// ----- Adaptive receive window (Config::adaptive_window) -----

/// 64 KiB windows for both the streams and the connection, adaptive up to `max`.
fn adaptive_config(max: u32) -> Config {
    let mut config = Config::default();
    config.initial_stream_window_size = 65_535;
    config.initial_connection_window_size = 65_535;
    config.adaptive_window = true;
    config.max_adaptive_window = max;
    config.auto_release_capacity = true;
    config
}

/// Plays one round trip of a window-limited sender: `bytes` of DATA on stream `id` (in
/// 16 KiB frames) while the probe PING is out, its ACK `rtt` later. Returns the probe and
/// what the connection wrote in answer to the ACK.
/// The connection-level WINDOW_UPDATE increments among `frames`.
fn connection_updates(frames: &[Frame]) -> Vec<u32> {
    frames
        .iter()
        .filter_map(|f| match f {
            Frame::WindowUpdate(w) if w.stream_id.is_zero() => Some(w.increment),
            _ => None,
        })
        .collect()
}

fn probe_round(peer: &mut Peer, id: u32, bytes: usize, rtt: std::time::Duration) -> Vec<Frame> {
    let mut left = bytes;
    let mut probe = None;
    while left > 0 {
        let n = left.min(16_384);
        peer.send(data_frame(id, n));
        left -= n;
        while peer.conn.read_data(StreamId(id)).is_some() {}
        for frame in peer.frames() {
            if let Frame::Ping(p) = frame {
                assert!(probe.is_none() && !p.ack, "one probe per round trip: {p:?}");
                probe = Some(p.payload);
            }
        }
    }
    peer.events();
    let payload = probe.expect("DATA starts a probe PING");
    peer.now += rtt;
    peer.send(h2proto::frame::Ping { ack: true, payload });
    peer.frames()
}

#[test]
fn adaptive_window_grows_the_windows_when_the_bdp_exceeds_them() {
    // A peer that fills the 64 KiB window in each 100 ms round trip is limited by the
    // window: both windows double (streams by SETTINGS_INITIAL_WINDOW_SIZE, which §6.9.2
    // applies to open streams; the connection by WINDOW_UPDATE, §6.9).
    let mut peer = Peer::connected(Role::Client, adaptive_config(16 << 20));
    peer.open_request(1, true);
    let head = peer.response(1, "200", false);
    peer.send(head);
    peer.events();
    let rtt = std::time::Duration::from_millis(100);
    let answer = probe_round(&mut peer, 1, 65_535, rtt);
    assert!(
        answer.iter().any(|f| matches!(f, Frame::Settings(s)
            if s.entries.iter().any(|e| e.id == SettingId::INITIAL_WINDOW_SIZE && e.value == 131_070))),
        "{answer:?}"
    );
    assert_eq!(connection_updates(&answer), vec![65_535], "{answer:?}");
    assert_eq!(peer.conn.stats().adaptive_window, 131_070);
    assert_eq!(peer.conn.rtt(), Some(rtt), "the probe is a round-trip sample too");

    // Once the peer applies our SETTINGS (and ACKs), stream 1 may have 128 KiB in flight:
    // a whole 128 KiB round is no overrun, and doubles the windows again.
    peer.send(Settings::ack());
    let answer = probe_round(&mut peer, 1, 131_070, rtt);
    peer.expect_alive();
    assert!(
        answer.iter().any(|f| matches!(f, Frame::Settings(s)
            if s.entries.iter().any(|e| e.id == SettingId::INITIAL_WINDOW_SIZE && e.value == 262_140))),
        "{answer:?}"
    );
}

#[test]
fn adaptive_window_stays_within_its_maximum() {
    let mut peer = Peer::connected(Role::Client, adaptive_config(100_000));
    peer.open_request(1, true);
    let head = peer.response(1, "200", false);
    peer.send(head);
    let rtt = std::time::Duration::from_millis(100);
    let answer = probe_round(&mut peer, 1, 65_535, rtt);
    assert!(
        answer.iter().any(|f| matches!(f, Frame::Settings(s)
            if s.entries.iter().any(|e| e.id == SettingId::INITIAL_WINDOW_SIZE && e.value == 100_000))),
        "{answer:?}"
    );
    assert_eq!(connection_updates(&answer), vec![100_000 - 65_535], "{answer:?}");
    peer.send(Settings::ack());
    // At the maximum: DATA starts no probe.
    for _ in 0..4 {
        peer.send(data_frame(1, 16_384));
        while peer.conn.read_data(StreamId(1)).is_some() {}
    }
    assert!(!peer.frames().iter().any(|f| matches!(f, Frame::Ping(_))));
    assert_eq!(peer.conn.stats().adaptive_window, 100_000);
}

#[test]
fn without_adaptive_window_data_sends_no_ping() {
    let mut config = adaptive_config(16 << 20);
    config.adaptive_window = false;
    let mut peer = Peer::connected(Role::Client, config);
    peer.open_request(1, true);
    let head = peer.response(1, "200", false);
    peer.send(head);
    peer.send(data_frame(1, 16_384));
    let frames = peer.frames();
    assert!(!frames.iter().any(|f| matches!(f, Frame::Ping(_))), "{frames:?}");
}
