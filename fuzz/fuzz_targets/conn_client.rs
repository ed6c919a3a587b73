#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| h2proto_fuzz::conn_client(data));
