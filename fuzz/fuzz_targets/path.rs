//! cargo-fuzz target `path`: see `pforte_fuzz_checks::path` for what it asserts.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| pforte_fuzz_checks::path(data));
