//! cargo-fuzz target `apps`: see `pforte_fuzz_checks::apps` for what it asserts.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| pforte_fuzz_checks::apps(data));
