//! The ceremonies against webauthn-authenticator-rs's software authenticator, which signs
//! real assertions (P-256) with a real counter and can be saved and restored (a clone).

use serde_json::Value;
use webauthn_authenticator_rs::softtoken::SoftToken;
use webauthn_authenticator_rs::{AuthenticatorBackend, WebauthnAuthenticator};
use webauthn_rs::prelude::{CreationChallengeResponse, RequestChallengeResponse, Url, Uuid};

use super::*;

const ORIGIN: &str = "https://login.example.org:8443";
const NOW: u64 = 1_800_000_000;

fn rp() -> Passkeys {
    Passkeys::new(ORIGIN, "Pforte").unwrap()
}

fn url(origin: &str) -> Url {
    Url::parse(origin).unwrap()
}

fn person() -> Uuid {
    user_handle("0b1c7e52-5a8e-4b7c-9a38-0c6c7f5f1d21")
}

/// A security key with a PIN: it claims user verification, as a real one does after the PIN.
fn device() -> SoftToken {
    SoftToken::new(true).unwrap().0
}

/// The browser's part of a registration: options in, answer JSON out.
fn create(device: &mut SoftToken, options: &str, origin: &str) -> String {
    let options: CreationChallengeResponse = serde_json::from_str(options).unwrap();
    let answer = device.do_registration(url(origin), options).unwrap();
    serde_json::to_string(&answer).unwrap()
}

/// The browser's part of an authentication.
fn get(device: &mut SoftToken, options: &str, origin: &str) -> String {
    let options: RequestChallengeResponse = serde_json::from_str(options).unwrap();
    let answer = device.do_authentication(url(origin), options).unwrap();
    serde_json::to_string(&answer).unwrap()
}

fn register(rp: &Passkeys, device: &mut SoftToken) -> StoredPasskey {
    let started = rp
        .start_registration(person(), "carol", "Carol", &[])
        .unwrap();
    let answer = create(device, &started.options, ORIGIN);
    rp.finish_registration(&started.state, &answer, "YubiKey", NOW)
        .unwrap()
}

/// One second-factor ceremony: the answer JSON and the state it answers.
fn assertion(
    rp: &Passkeys,
    device: &mut SoftToken,
    creds: &[StoredPasskey],
) -> (String, CeremonyState) {
    let started = rp.start_authentication(creds).unwrap();
    (get(device, &started.options, ORIGIN), started.state)
}

#[test]
fn a_registered_passkey_authenticates_and_its_counter_is_written_back() {
    let rp = rp();
    let mut key = device();
    let stored = register(&rp, &mut key);
    assert_eq!(stored.name(), "YubiKey");
    assert_eq!(stored.created(), NOW);
    assert!(
        !stored.backup_eligible(),
        "a soft token says it is device-bound"
    );

    let (answer, state) = assertion(&rp, &mut key, std::slice::from_ref(&stored));
    let verified = rp
        .finish_authentication(&state, &answer, std::slice::from_ref(&stored))
        .unwrap();
    assert_eq!(verified.credential_id, stored.credential_id());
    assert!(verified.user_verified);
    assert!(!verified.backup_eligible, "a security key is device-bound");
    let updated = verified.updated.expect("the counter moved from 0 to 1");
    assert_eq!(updated.name(), "YubiKey");
    assert_eq!(updated.credential_id(), stored.credential_id());

    // The next login is checked against the written-back counter and passes.
    let (answer, state) = assertion(&rp, &mut key, std::slice::from_ref(&updated));
    let verified = rp
        .finish_authentication(&state, &answer, std::slice::from_ref(&updated))
        .unwrap();
    assert!(verified.updated.is_some());
}

#[test]
fn a_stored_passkey_keeps_its_json_form() {
    let rp = rp();
    let stored = register(&rp, &mut device());
    let json = stored.to_json().unwrap();
    let value: Value = serde_json::from_str(&json).unwrap();
    let keys: Vec<_> = value.as_object().unwrap().keys().cloned().collect();
    assert_eq!(keys, ["created", "credential", "name"]);
    assert_eq!(value["created"], NOW);
    assert_eq!(StoredPasskey::from_json(&json).unwrap(), stored);
    assert!(matches!(
        StoredPasskey::from_json(r#"{"name":"x","created":1}"#),
        Err(PasskeyError::Stored(_))
    ));
}

#[test]
fn an_assertion_made_for_another_origin_is_refused() {
    let rp = rp();
    let mut key = device();
    let stored = register(&rp, &mut key);
    let creds = std::slice::from_ref(&stored);

    // Another port of the same host: a browser signs it (same rp id), the origin differs.
    let started = rp.start_authentication(creds).unwrap();
    let answer = get(&mut key, &started.options, "https://login.example.org:9443");
    assert!(matches!(
        rp.finish_authentication(&started.state, &answer, creds),
        Err(PasskeyError::WrongOrigin)
    ));

    // A phishing site relaying our options: the authenticator is driven directly (no browser
    // would sign for our rp id there), and the client data names the phishing origin.
    let started = rp.start_authentication(creds).unwrap();
    let options: RequestChallengeResponse = serde_json::from_str(&started.options).unwrap();
    let phished = AuthenticatorBackend::perform_auth(
        &mut key,
        url("https://login.example.org.evil.test"),
        options.public_key,
        60_000,
    )
    .unwrap();
    let answer = serde_json::to_string(&phished).unwrap();
    assert!(matches!(
        rp.finish_authentication(&started.state, &answer, creds),
        Err(PasskeyError::WrongOrigin)
    ));

    // And a registration from another origin is refused as well.
    let started = rp
        .start_registration(person(), "carol", "Carol", &[])
        .unwrap();
    let answer = create(
        &mut device(),
        &started.options,
        "https://sso.login.example.org",
    );
    assert!(matches!(
        rp.finish_registration(&started.state, &answer, "key", NOW),
        Err(PasskeyError::WrongOrigin)
    ));
}

#[test]
fn a_replayed_assertion_does_not_answer_a_new_ceremony() {
    let rp = rp();
    let mut key = device();
    let stored = register(&rp, &mut key);
    let creds = std::slice::from_ref(&stored);

    let (answer, state) = assertion(&rp, &mut key, creds);
    let verified = rp.finish_authentication(&state, &answer, creds).unwrap();
    let creds = [verified.updated.unwrap()];

    // The captured answer signs the first ceremony's challenge, not the second's.
    let second = rp.start_authentication(&creds).unwrap();
    assert!(matches!(
        rp.finish_authentication(&second.state, &answer, &creds),
        Err(PasskeyError::ChallengeMismatch)
    ));
    // The same for a passwordless ceremony.
    let passwordless = rp.start_passwordless().unwrap();
    assert!(matches!(
        rp.finish_passwordless(&passwordless.state, &answer, &creds),
        Err(PasskeyError::ChallengeMismatch)
    ));
}

#[test]
fn a_cloned_credential_is_refused_when_its_counter_goes_back() {
    let rp = rp();
    let mut key = device();
    let stored = register(&rp, &mut key);
    let mut clone = SoftToken::from_cbor(&key.to_cbor().unwrap()).unwrap();

    // The original is used twice; each new counter is written back.
    let mut creds = vec![stored];
    for _ in 0..2 {
        let (answer, state) = assertion(&rp, &mut key, &creds);
        let verified = rp.finish_authentication(&state, &answer, &creds).unwrap();
        creds = vec![verified.updated.unwrap()];
    }

    // The copy signs with counter 1, behind the stored 2.
    let (answer, state) = assertion(&rp, &mut clone, &creds);
    assert!(matches!(
        rp.finish_authentication(&state, &answer, &creds),
        Err(PasskeyError::PossibleClone)
    ));
}

#[test]
fn a_tampered_or_foreign_state_is_refused() {
    let rp = rp();
    let mut key = device();
    let stored = register(&rp, &mut key);
    let creds = std::slice::from_ref(&stored);
    let (answer, state) = assertion(&rp, &mut key, creds);

    let garbled = CeremonyState::from_stored(state.as_str().replace('{', "["));
    assert!(matches!(
        rp.finish_authentication(&garbled, &answer, creds),
        Err(PasskeyError::State(_))
    ));

    // Another challenge put into the state: the answer no longer matches it.
    let mut value: Value = serde_json::from_str(state.as_str()).unwrap();
    assert!(replace_challenge(&mut value), "the state holds a challenge");
    let altered = CeremonyState::from_stored(value.to_string());
    assert!(matches!(
        rp.finish_authentication(&altered, &answer, creds),
        Err(PasskeyError::ChallengeMismatch)
    ));

    // A registration's state cannot finish an authentication, nor the reverse.
    let registration = rp
        .start_registration(person(), "carol", "Carol", &[])
        .unwrap();
    assert!(matches!(
        rp.finish_authentication(&registration.state, &answer, creds),
        Err(PasskeyError::State("not a second-factor authentication"))
    ));
    assert!(matches!(
        rp.finish_registration(&state, &answer, "key", NOW),
        Err(PasskeyError::State("not a registration"))
    ));
    assert!(matches!(
        rp.finish_passwordless(&state, &answer, creds),
        Err(PasskeyError::State("not a passwordless login"))
    ));

    let huge = CeremonyState::from_stored(" ".repeat(MAX_STATE_BYTES + 1));
    assert!(matches!(
        rp.finish_authentication(&huge, &answer, creds),
        Err(PasskeyError::TooLarge { .. })
    ));

    // The untouched state still works: the refusals above were the tampering's.
    assert!(rp.finish_authentication(&state, &answer, creds).is_ok());
}

/// Replaces the first `challenge` value found with another 32 bytes of base64url.
fn replace_challenge(value: &mut Value) -> bool {
    match value {
        Value::Object(map) => {
            if let Some(challenge) = map.get_mut("challenge") {
                *challenge = Value::String("A".repeat(43));
                return true;
            }
            map.values_mut().any(replace_challenge)
        }
        Value::Array(items) => items.iter_mut().any(replace_challenge),
        _ => false,
    }
}

#[test]
fn oversized_or_malformed_answers_are_refused_before_any_check() {
    let rp = rp();
    let mut key = device();
    let stored = register(&rp, &mut key);
    let creds = std::slice::from_ref(&stored);
    let (answer, state) = assertion(&rp, &mut key, creds);

    let padded = format!("{answer}{}", " ".repeat(MAX_RESPONSE_BYTES));
    assert!(matches!(
        rp.finish_authentication(&state, &padded, creds),
        Err(PasskeyError::TooLarge {
            limit: MAX_RESPONSE_BYTES
        })
    ));
    let registration = rp
        .start_registration(person(), "carol", "Carol", &[])
        .unwrap();
    assert!(matches!(
        rp.finish_registration(&registration.state, &padded, "key", NOW),
        Err(PasskeyError::TooLarge { .. })
    ));
    assert!(matches!(
        rp.identify_passwordless(&padded),
        Err(PasskeyError::TooLarge { .. })
    ));

    for bad in [
        "",
        "not json",
        "{}",
        r#"{"id":"x","rawId":"!!!","type":"public-key","response":{}}"#,
        &answer.replace("\"signature\":\"", "\"signature\":\"*"),
    ] {
        assert!(
            matches!(
                rp.finish_authentication(&state, bad, creds),
                Err(PasskeyError::Malformed(_))
            ),
            "{bad}"
        );
        assert!(matches!(
            rp.finish_registration(&registration.state, bad, "key", NOW),
            Err(PasskeyError::Malformed(_))
        ));
    }
}

#[test]
fn a_removed_passkey_or_a_person_without_passkeys_cannot_authenticate() {
    let rp = rp();
    let mut key = device();
    let stored = register(&rp, &mut key);
    let (answer, state) = assertion(&rp, &mut key, std::slice::from_ref(&stored));
    let other = register(&rp, &mut device());
    assert!(matches!(
        rp.finish_authentication(&state, &answer, &[other]),
        Err(PasskeyError::UnknownCredential)
    ));
    assert!(matches!(
        rp.start_authentication(&[]),
        Err(PasskeyError::NoCredentials)
    ));
}

#[test]
fn a_new_registration_excludes_the_persons_registered_authenticators() {
    let rp = rp();
    let first = register(&rp, &mut device());
    let second = register(&rp, &mut device());
    let started = rp
        .start_registration(person(), "carol", "Carol", &[first.clone(), second.clone()])
        .unwrap();
    let options: Value = serde_json::from_str(&started.options).unwrap();
    let excluded: Vec<_> = options["publicKey"]["excludeCredentials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        excluded,
        [
            first.credential_id().as_str(),
            second.credential_id().as_str()
        ]
    );
}

#[test]
fn a_passwordless_login_names_its_person_and_needs_their_passkey() {
    let rp = rp();
    let mut key = device();
    let stored = register(&rp, &mut key);
    let creds = std::slice::from_ref(&stored);

    let started = rp.start_passwordless().unwrap();
    let options: Value = serde_json::from_str(&started.options).unwrap();
    assert_eq!(options["mediation"], "conditional");
    assert_eq!(options["publicKey"]["userVerification"], "required");
    let answer = discoverable(&mut key, &started.options, &stored, Some(person()));

    assert_eq!(rp.identify_passwordless(&answer).unwrap(), person());
    let verified = rp
        .finish_passwordless(&started.state, &answer, creds)
        .unwrap();
    assert!(verified.user_verified);
    assert_eq!(verified.credential_id, stored.credential_id());

    // Someone else's passkeys do not verify it.
    let other = register(&rp, &mut device());
    let started = rp.start_passwordless().unwrap();
    let answer = discoverable(&mut key, &started.options, &stored, Some(person()));
    assert!(matches!(
        rp.finish_passwordless(&started.state, &answer, &[other]),
        Err(PasskeyError::UnknownCredential)
    ));

    // A credential that is not discoverable returns no user handle.
    let answer = discoverable(&mut key, &started.options, &stored, None);
    assert!(matches!(
        rp.identify_passwordless(&answer),
        Err(PasskeyError::NoUserHandle)
    ));
}

/// What a discoverable credential answers: SoftToken keeps no resident credentials, so the
/// test names the credential in the options and adds the user handle the authenticator would
/// return (it is not signed, which is why the credential must belong to the person it names).
fn discoverable(
    key: &mut SoftToken,
    options: &str,
    cred: &StoredPasskey,
    user: Option<Uuid>,
) -> String {
    let mut options: Value = serde_json::from_str(options).unwrap();
    options["publicKey"]["allowCredentials"] =
        serde_json::json!([{ "type": "public-key", "id": cred.credential_id().as_str() }]);
    let mut answer: Value = serde_json::from_str(&get(key, &options.to_string(), ORIGIN)).unwrap();
    if let Some(user) = user {
        let handle = base64::Engine::encode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            user.as_bytes(),
        );
        answer["response"]["userHandle"] = Value::String(handle);
    }
    answer.to_string()
}

#[test]
fn user_handles_are_the_uuid_subject_or_a_stable_hash() {
    let uuid = "0B1C7E52-5A8E-4B7C-9A38-0C6C7F5F1D21";
    assert_eq!(
        user_handle(uuid).hyphenated().to_string(),
        uuid.to_lowercase()
    );
    let alice = user_handle("alice");
    assert_eq!(alice, user_handle("alice"));
    assert_ne!(alice, user_handle("alice2"));
    assert_eq!(alice.get_version_num(), 8);
    assert!(is_user_handle_of(&alice, "alice"));
    assert!(!is_user_handle_of(&alice, "bob"));
}

#[test]
fn a_registration_may_prefer_a_discoverable_credential_and_still_finishes() {
    let rp = rp();
    let started = rp
        .start_registration(person(), "carol", "Carol", &[])
        .unwrap();
    let plain: Value = serde_json::from_str(&started.options).unwrap();
    assert_eq!(
        plain["publicKey"]["authenticatorSelection"]["residentKey"],
        "discouraged"
    );
    let started = started.preferring_discoverable().unwrap();
    let options: Value = serde_json::from_str(&started.options).unwrap();
    let selection = &options["publicKey"]["authenticatorSelection"];
    assert_eq!(selection["residentKey"], "preferred");
    assert_eq!(selection["userVerification"], "required");
    let answer = create(&mut device(), &started.options, ORIGIN);
    rp.finish_registration(&started.state, &answer, "Phone", NOW)
        .unwrap();
}

#[test]
fn names_are_checked() {
    let rp = rp();
    let mut stored = register(&rp, &mut device());
    stored.rename("  Laptop  ").unwrap();
    assert_eq!(stored.name(), "Laptop");
    for bad in ["", "   ", "a\nb", &"x".repeat(MAX_NAME_CHARS + 1)] {
        assert!(
            matches!(stored.rename(bad), Err(PasskeyError::Name)),
            "{bad:?}"
        );
    }
    stored.rename(&"ß".repeat(MAX_NAME_CHARS)).unwrap();
}

#[test]
fn the_relying_party_follows_the_login_host() {
    let options: Value = serde_json::from_str(
        &rp()
            .start_registration(person(), "carol", "Carol", &[])
            .unwrap()
            .options,
    )
    .unwrap();
    assert_eq!(options["publicKey"]["rp"]["id"], "login.example.org");
    assert_eq!(options["publicKey"]["rp"]["name"], "Pforte");
    assert_eq!(
        options["publicKey"]["authenticatorSelection"]["userVerification"],
        "required"
    );

    assert!(Passkeys::new("http://localhost:8080", "dev").is_ok());
    for bad in [
        "login.example.org",
        "http://login.example.org",
        "https://192.0.2.1:8443",
        "https://login.example.org/login",
        "https://login.example.org/?x=1",
        "https://user@login.example.org",
    ] {
        assert!(
            matches!(Passkeys::new(bad, "x"), Err(PasskeyError::Origin { .. })),
            "{bad}"
        );
    }
}
