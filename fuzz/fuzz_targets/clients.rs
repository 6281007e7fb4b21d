//! cargo-fuzz target `clients`: see `pforte_fuzz_checks::clients` for what it asserts.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| pforte_fuzz_checks::clients(data));
