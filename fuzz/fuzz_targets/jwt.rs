//! cargo-fuzz target `jwt`: see `pforte_fuzz_checks::jwt` for what it asserts.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| pforte_fuzz_checks::jwt(data));
