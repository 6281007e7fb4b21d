//! cargo-fuzz target `cookie`: see `pforte_fuzz_checks::cookie` for what it asserts.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| pforte_fuzz_checks::cookie(data));
