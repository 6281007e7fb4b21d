//! cargo-fuzz target `policy`: see `pforte_fuzz_checks::policy` for what it asserts.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| pforte_fuzz_checks::policy(data));
