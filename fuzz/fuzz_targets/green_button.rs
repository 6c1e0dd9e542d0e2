#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sunbridge::fuzzing::green_button(data));
