//! cargo-fuzz target `oidc_params`: see `pforte_fuzz_checks::oidc_params` for what it asserts.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| pforte_fuzz_checks::oidc_params(data));
