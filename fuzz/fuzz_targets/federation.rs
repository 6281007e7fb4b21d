//! cargo-fuzz target `federation`: see `pforte_fuzz_checks::federation` for what it asserts.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| pforte_fuzz_checks::federation(data));
