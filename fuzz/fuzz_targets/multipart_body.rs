#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sunbridge::fuzzing::multipart_body(data));
