//! cargo-fuzz target `config`: see `pforte_fuzz_checks::config` for what it asserts.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| pforte_fuzz_checks::config(data));
