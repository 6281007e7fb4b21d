use std::path::Path;

use pforte_policy::{AuthMethod, LoginStrength};

use super::*;
use crate::clients::{Clients, GrantType, cheap_hash};
use crate::code::Authentication;
use crate::error::ErrorCode;
use crate::params::Params;
use crate::scope::Scopes;
use crate::token::TokenRequest;
use crate::token_value::{OpaqueToken, TOKEN_BYTES};

const T: u64 = 1_800_000_000;

/// A room system (confidential, may refresh), a public command-line tool, and a web app that
/// may not use the grant.
fn clients() -> Clients {
    let text = format!(
        r#"
[[client]]
id = "room"
app = "meet"
secret_hash = "{}"
scopes = ["openid", "profile", "offline_access"]
grant_types = ["device_code", "refresh_token"]

[[client]]
id = "tool"
app = "files"
public = true
scopes = ["openid"]
grant_types = ["device_code"]

[[client]]
id = "web"
app = "docs"
public = true
redirect_uris = ["https://docs.example.org/cb"]
scopes = ["openid", "profile"]
"#,
        cheap_hash("room-secret")
    );
    Clients::parse(Path::new("clients.toml"), &text).unwrap()
}

fn authentication() -> Authentication {
    Authentication {
        sid: "0123456789abcdef".into(),
        subject: "uuid-alice".into(),
        auth_time: T - 30,
        login: LoginStrength::Password,
        methods: vec![AuthMethod::Password],
    }
}

fn error_of(outcome: Poll) -> (ErrorCode, Option<DeviceGrant>) {
    match outcome {
        Poll::Wait { next, error } => (error.code, Some(next)),
        Poll::Refused(error) => (error.code, None),
        Poll::Approved { .. } => panic!("approved"),
    }
}

#[test]
fn user_codes_are_eight_letters_of_the_unambiguous_alphabet() {
    for seed in 0..=255u8 {
        let mut bytes = [0u8; USER_CODE_RANDOM_BYTES];
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = seed
                .wrapping_mul(31)
                .wrapping_add(u8::try_from(i).unwrap() * 7);
        }
        let Some(code) = UserCode::from_random(bytes) else {
            continue;
        };
        assert_eq!(code.as_str().len(), USER_CODE_LEN);
        assert!(
            code.as_str()
                .bytes()
                .all(|b| USER_CODE_ALPHABET.contains(&b)),
            "{}",
            code.as_str()
        );
    }
    for vowel_or_lookalike in [b'A', b'E', b'I', b'O', b'U', b'Y', b'0', b'1'] {
        assert!(!USER_CODE_ALPHABET.contains(&vowel_or_lookalike));
    }
    // Each byte below 240 picks letter byte % 20; 240 and above are skipped, so every letter
    // is equally likely.
    let mut bytes = [255u8; USER_CODE_RANDOM_BYTES];
    bytes[..9].copy_from_slice(&[0, 240, 19, 20, 39, 239, 1, 21, 2]);
    assert_eq!(UserCode::from_random(bytes).unwrap().as_str(), "BZBZZCCD");
    let mut short = [250u8; USER_CODE_RANDOM_BYTES];
    short[..7].copy_from_slice(&[0; 7]);
    assert!(
        UserCode::from_random(short).is_none(),
        "seven letters are no code"
    );
}

#[test]
fn a_typed_code_is_taken_in_any_case_with_dashes_and_spaces() {
    let code = UserCode::parse("WDJB-MJHT").unwrap();
    assert_eq!(code.as_str(), "WDJBMJHT");
    assert_eq!(code.display(), "WDJB-MJHT");
    for typed in [
        "wdjb-mjht",
        "wdjbmjht",
        " WDJB MJHT ",
        "Wd-Jb-Mj-Ht",
        "wdjb\u{a0}mjht",
    ] {
        assert_eq!(UserCode::parse(typed), Some(code.clone()), "{typed:?}");
    }
    for wrong in [
        "",
        "WDJB-MJH",
        "WDJB-MJHTB",
        "WDJB-MJH0",
        "AEIO-UAEI",
        "WDJB_MJHT",
        "WDJB-MJHŤ",
        &format!("WDJB-MJHT{}", " ".repeat(60)),
    ] {
        assert_eq!(UserCode::parse(wrong), None, "{wrong:?}");
    }
    assert!(!format!("{code:?}").contains("WDJB"), "kept out of Debug");
}

#[test]
fn a_request_needs_the_grant_and_asks_only_for_the_clients_scopes() {
    let clients = clients();
    let room = clients.get("room").unwrap();
    let form = Params::parse_urlencoded("client_id=room&scope=openid%20offline_access");
    assert_eq!(
        validate(&form, room).unwrap(),
        Scopes::parse("openid offline_access").unwrap()
    );
    for (query, code) in [
        ("scope=profile", ErrorCode::InvalidScope),
        ("", ErrorCode::InvalidScope),
        ("scope=openid%20admin", ErrorCode::InvalidScope),
        ("scope=openid%20email", ErrorCode::InvalidScope),
        ("scope=openid&scope=openid", ErrorCode::InvalidRequest),
    ] {
        let form = Params::parse_urlencoded(query);
        assert_eq!(validate(&form, room).unwrap_err().code, code, "{query}");
    }
    let web = clients.get("web").unwrap();
    let form = Params::parse_urlencoded("scope=openid");
    assert_eq!(
        validate(&form, web).unwrap_err().code,
        ErrorCode::UnauthorizedClient
    );
}

#[test]
fn the_answer_names_the_page_the_codes_and_the_pace() {
    let device_code = OpaqueToken::from_random([9; TOKEN_BYTES]);
    let user_code = UserCode::parse("WDJBMJHT").unwrap();
    let answer = DeviceAuthorizationResponse::new(
        &device_code,
        &user_code,
        "https://login.example.org/device",
    );
    let json = serde_json::to_value(&answer).unwrap();
    assert_eq!(json["device_code"], device_code.expose());
    assert_eq!(json["user_code"], "WDJB-MJHT");
    assert_eq!(json["verification_uri"], "https://login.example.org/device");
    assert_eq!(
        json["verification_uri_complete"],
        "https://login.example.org/device?user_code=WDJB-MJHT"
    );
    assert_eq!(json["expires_in"], 600);
    assert_eq!(json["interval"], 5);
}

#[test]
fn polls_wait_and_slow_down_by_five_seconds_each_time_too_soon() {
    let clients = clients();
    let room = clients.get("room").unwrap();
    let grant = DeviceGrant::new("room", Scopes::parse("openid").unwrap(), T);
    assert_eq!(grant.interval, POLL_INTERVAL_SECONDS);

    let (code, next) = error_of(poll(Some(&grant), room, T + 1));
    assert_eq!(code, ErrorCode::AuthorizationPending, "a first poll");
    let grant = next.unwrap();
    assert_eq!((grant.last_poll, grant.interval), (Some(T + 1), 5));

    let (code, next) = error_of(poll(Some(&grant), room, T + 6));
    assert_eq!(code, ErrorCode::AuthorizationPending, "after the interval");
    let grant = next.unwrap();

    let (code, next) = error_of(poll(Some(&grant), room, T + 10));
    assert_eq!(code, ErrorCode::SlowDown, "4 s after the last poll");
    let grant = next.unwrap();
    assert_eq!((grant.last_poll, grant.interval), (Some(T + 10), 10));

    let (code, next) = error_of(poll(Some(&grant), room, T + 19));
    assert_eq!(code, ErrorCode::SlowDown, "9 s: the interval is 10 s now");
    let grant = next.unwrap();
    assert_eq!(grant.interval, 15, "and grows again");

    let (code, next) = error_of(poll(Some(&grant), room, T + 34));
    assert_eq!(code, ErrorCode::AuthorizationPending, "15 s later");
    assert_eq!(next.unwrap().interval, 15, "the longer interval stays");
}

#[test]
fn a_device_code_expires_after_ten_minutes_and_is_remembered_ten_more() {
    let clients = clients();
    let room = clients.get("room").unwrap();
    let grant = DeviceGrant::new("room", Scopes::parse("openid").unwrap(), T);
    assert_eq!(grant.expires_at, T + DEVICE_CODE_SECONDS);
    assert!(grant.awaits_decision(T + 599));
    assert!(!grant.awaits_decision(T + 600));
    let (code, _) = error_of(poll(Some(&grant), room, T + 599));
    assert_eq!(code, ErrorCode::AuthorizationPending);
    for late in [T + 600, T + 1_199] {
        let (code, next) = error_of(poll(Some(&grant), room, late));
        assert_eq!(code, ErrorCode::ExpiredToken);
        assert!(next.is_none(), "nothing to write back");
    }
    let approved = grant.approve(authentication());
    let (code, _) = error_of(poll(Some(&approved), room, T + 600));
    assert_eq!(
        code,
        ErrorCode::ExpiredToken,
        "an approval not picked up in time"
    );

    assert_eq!(grant.user_code_seconds(T), 600);
    assert_eq!(grant.keep_seconds(T), 600 + EXPIRED_NOTICE_SECONDS);
    assert_eq!(grant.keep_seconds(T + 100), 500 + EXPIRED_NOTICE_SECONDS);
    assert_eq!(grant.user_code_seconds(T + 700), 1, "never zero");
}

#[test]
fn a_decision_ends_the_wait_for_the_right_client_only() {
    let clients = clients();
    let (room, tool) = (clients.get("room").unwrap(), clients.get("tool").unwrap());
    let scopes = Scopes::parse("openid offline_access").unwrap();
    let grant = DeviceGrant::new("room", scopes, T);
    let approved = grant.approve(authentication());
    assert!(!approved.awaits_decision(T + 1));
    assert_eq!(
        poll(Some(&approved), room, T + 1),
        Poll::Approved {
            authentication: authentication(),
            scopes
        }
    );
    let (code, _) = error_of(poll(Some(&approved), tool, T + 1));
    assert_eq!(code, ErrorCode::InvalidGrant, "another client's code");
    let (code, _) = error_of(poll(Some(&grant.deny()), room, T + 1));
    assert_eq!(code, ErrorCode::AccessDenied);
    let (code, _) = error_of(poll(None, room, T + 1));
    assert_eq!(code, ErrorCode::InvalidGrant, "unknown or used");
}

#[test]
fn the_record_reads_back_as_it_was_written() {
    let grant = DeviceGrant::new("room", Scopes::parse("openid profile").unwrap(), T);
    for record in [grant.clone(), grant.approve(authentication()), grant.deny()] {
        let json = serde_json::to_vec(&record).unwrap();
        let back: DeviceGrant = serde_json::from_slice(&json).unwrap();
        assert_eq!(back, record);
    }
}

#[test]
fn the_grant_has_a_short_name_in_the_file_and_a_urn_on_the_wire() {
    assert_eq!(GrantType::parse("device_code"), Some(GrantType::DeviceCode));
    assert_eq!(
        GrantType::from_wire(GRANT_TYPE),
        Some(GrantType::DeviceCode)
    );
    assert_eq!(GrantType::from_wire("device_code"), None);
    assert_eq!(GrantType::parse(GRANT_TYPE), None);
    assert_eq!(
        GrantType::from_wire("authorization_code"),
        Some(GrantType::AuthorizationCode)
    );
    let form = Params::parse_urlencoded(&format!("grant_type={GRANT_TYPE}&device_code=dc"));
    let request = TokenRequest::parse(&form).unwrap();
    assert_eq!(request.grant_type(), GrantType::DeviceCode);
    assert!(
        !format!("{request:?}").contains("dc\""),
        "the code stays out of Debug"
    );
    let form = Params::parse_urlencoded(&format!("grant_type={GRANT_TYPE}"));
    assert_eq!(
        TokenRequest::parse(&form).unwrap_err().code,
        ErrorCode::InvalidRequest
    );
    let clients = clients();
    assert_eq!(
        request
            .check_client(clients.get("web").unwrap())
            .unwrap_err()
            .code,
        ErrorCode::UnauthorizedClient
    );
    assert!(request.check_client(clients.get("tool").unwrap()).is_ok());
}

#[test]
fn a_device_client_needs_openid_and_may_refresh_without_a_redirect() {
    let room = clients();
    assert!(room.get("room").unwrap().allows(GrantType::RefreshToken));
    let without_openid = r#"
[[client]]
id = "tool"
app = "files"
public = true
scopes = ["profile"]
grant_types = ["device_code"]
"#;
    let err = Clients::parse(Path::new("clients.toml"), without_openid).unwrap_err();
    assert!(err.to_string().contains("must include \"openid\""), "{err}");
    let refresh_alone = r#"
[[client]]
id = "tool"
app = "files"
public = true
scopes = ["openid"]
grant_types = ["refresh_token"]
"#;
    let err = Clients::parse(Path::new("clients.toml"), refresh_alone).unwrap_err();
    assert!(
        err.to_string()
            .contains("authorization_code or device_code"),
        "{err}"
    );
}
