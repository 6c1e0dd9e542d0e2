#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sunbridge::fuzzing::json_body(data));
