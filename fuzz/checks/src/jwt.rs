//! JWT/JWS verification in `pforte-keys` (`KeySet::verify`, `KeySet::sign`) and the gateway's
//! bearer tokens (`pforte::oidc::bearer::verify`), against the committed fuzz key set
//! (`fuzz/keys`: an active ES256 key and a next EdDSA key, made by `pforte-admin keys generate`
//! for the fuzz corpus only).

use std::sync::OnceLock;

use base64::Engine as _;
use base64::alphabet;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use pforte_keys::{KeyDir, KeySet, VerifyOptions};
use pforte_session::Timestamp;
use serde_json::{Value, json};

/// The issuer the corpus's tokens name.
pub const ISSUER: &str = "https://login.example.org";
/// The audience the corpus's tokens name.
pub const AUDIENCE: &str = "docs";
/// The time the checks verify at; the corpus's tokens expire an hour later.
pub const NOW: u64 = 1_800_000_000;

/// base64url as leniently as any JWT library might read it, to look into what was accepted.
const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// The committed key set, copied to a temporary folder (loading takes a lock file there).
pub fn keys() -> &'static KeySet {
    static KEYS: OnceLock<(tempfile::TempDir, KeySet)> = OnceLock::new();
    let (_, keys) = KEYS.get_or_init(|| {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let committed = crate::repo_root().join("fuzz/keys");
        for entry in std::fs::read_dir(&committed).expect("fuzz/keys is readable") {
            let from = entry.expect("a key file").path();
            if let Some(name) = from.file_name() {
                std::fs::copy(&from, dir.path().join(name)).expect("a key file copies");
            }
        }
        let keys = KeyDir::new(dir.path()).load(NOW).expect("fuzz/keys loads");
        (dir, keys)
    });
    keys
}

/// What every corpus token is checked for.
pub fn options() -> VerifyOptions {
    VerifyOptions::new(ISSUER, [AUDIENCE])
}

/// A token (any input with a `.`) is accepted only when signed by a published key with that
/// key's own algorithm, for the issuer and audience, unexpired; any other input becomes the
/// `sub` of a token that must verify to exactly the claims signed, and stop verifying when one
/// character of its payload or signature changes.
pub fn jwt(data: &[u8]) {
    let keys = keys();
    let text = String::from_utf8_lossy(data);
    if text.contains('.') {
        if let Ok(claims) = keys.verify::<Value>(&text, &options(), NOW) {
            accepted_holds(keys, &text, &claims);
        }
        let _ = pforte::oidc::bearer::verify(keys, ISSUER, &text, Timestamp::from_unix_secs(NOW));
        return;
    }
    let claims = json!({"iss": ISSUER, "aud": AUDIENCE, "exp": NOW + 300, "sub": text});
    let token = keys
        .sign(&claims, "JWT")
        .expect("signing a JSON object cannot fail");
    let back: Value = keys
        .verify(&token, &options(), NOW)
        .expect("a token verifies as signed");
    assert_eq!(back, claims, "decode(encode(claims)) == claims");
    let parts: Vec<&str> = token.split('.').collect();
    for part in [1, 2] {
        let mut altered: Vec<String> = parts.iter().map(|p| (*p).to_owned()).collect();
        let at = parts[part].len() / 2;
        let old = &parts[part][at..=at];
        let new = if old == "A" { "B" } else { "A" };
        altered[part].replace_range(at..=at, new);
        let altered = altered.join(".");
        assert!(
            keys.verify::<Value>(&altered, &options(), NOW).is_err(),
            "a token with part {part} changed verified"
        );
    }
}

fn accepted_holds(keys: &KeySet, token: &str, claims: &Value) {
    assert_eq!(claims["iss"], ISSUER, "accepted another issuer");
    let aud_ok = match &claims["aud"] {
        Value::String(aud) => aud == AUDIENCE,
        Value::Array(list) => list.iter().any(|a| a == AUDIENCE),
        _ => false,
    };
    assert!(aud_ok, "accepted another audience: {}", claims["aud"]);
    let exp = claims["exp"]
        .as_u64()
        .expect("an accepted token has a numeric exp");
    assert!(
        exp.saturating_add(options().leeway) >= NOW,
        "accepted an expired token"
    );
    let header = token.split('.').next().unwrap_or_default();
    let header: Value = LENIENT
        .decode(header)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .expect("an accepted token has a JSON header");
    let kid = header["kid"]
        .as_str()
        .expect("an accepted token names its key");
    let key = keys
        .find(kid)
        .expect("an accepted token names a published key");
    assert_eq!(
        header["alg"],
        key.alg().as_str(),
        "accepted another algorithm"
    );
}
