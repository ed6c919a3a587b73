#![no_main]

libfuzzer_sys::fuzz_target!(|input: h2proto_fuzz::FramesInput| h2proto_fuzz::conn_frames(input));
