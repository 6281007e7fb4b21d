//! cargo-fuzz target `return_to`: see `pforte_fuzz_checks::return_to` for what it asserts.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| pforte_fuzz_checks::return_to(data));
