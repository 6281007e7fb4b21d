//! cargo-fuzz target `ticket`: see `pforte_fuzz_checks::ticket` for what it asserts.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| pforte_fuzz_checks::ticket(data));
