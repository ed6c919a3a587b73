#![no_main]

libfuzzer_sys::fuzz_target!(|input: h2proto_fuzz::RoundTripInput| h2proto_fuzz::hpack_roundtrip(
    input
));
