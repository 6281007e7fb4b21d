//! cargo-fuzz target `headers`: see `pforte_fuzz_checks::headers` for what it asserts.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| pforte_fuzz_checks::headers(data));
