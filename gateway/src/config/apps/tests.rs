//! `apps.toml` as operators write it, right and wrong: every problem with its place.

use std::path::Path;

use super::*;

fn parse_str(src: &str) -> Result<Vec<App>, ConfigErrors> {
    parse(Path::new("apps.toml"), src)
}

#[test]
fn minimal_app_gets_defaults() {
    let apps = parse_str(
        "[[app]]\nname = \"mail\"\nhosts = [\"Mail.Example.org\"]\nupstreams = [\"http://127.0.0.1:8080\"]\n",
    )
    .unwrap();
    assert_eq!(apps.len(), 1);
    assert_eq!(apps[0].hosts, vec!["mail.example.org"]);
    assert_eq!(apps[0].path_prefix, "/");
    assert_eq!(apps[0].display_name, "mail");
    assert_eq!(apps[0].upstreams[0].to_string(), "http://127.0.0.1:8080");
}

#[test]
fn identity_header_names_are_checked() {
    let apps = parse_str(
        "[[app]]\nname = \"wiki\"\nhosts = [\"wiki.example.org\"]\nupstreams = [\"http://127.0.0.1:1\"]\n[app.identity_headers]\nuser = \"Remote-User\"\n",
    )
    .unwrap();
    assert_eq!(apps[0].identity_headers.user.as_str(), "remote-user");
    assert_eq!(apps[0].identity_headers.email.as_str(), "x-forwarded-email");
    let errs = parse_str(
        "[[app]]\nname = \"wiki\"\nhosts = [\"wiki.example.org\"]\nupstreams = [\"http://127.0.0.1:1\"]\n[app.identity_headers]\nuser = \"Cookie\"\nname = \"bad name\"\n",
    )
    .unwrap_err()
    .to_string();
    assert!(
        errs.contains("apps.toml:6:8: app[0].identity_headers.user: cookie is set by the gateway"),
        "{errs}"
    );
    assert!(
        errs.contains("app[0].identity_headers.name: \"bad name\" is not a header name"),
        "{errs}"
    );
}

#[test]
fn request_headers_are_checked_with_their_place() {
    let apps = parse_str(
        "[[app]]\nname = \"api\"\nhosts = [\"api.example.org\"]\nupstreams = [\"http://127.0.0.1:1\"]\n[app.request_headers]\nunderscores = \"pass\"\npass = [\"X-HTTP-Method-Override\"]\n",
    )
    .unwrap();
    assert_eq!(
        apps[0].request_headers.underscores,
        crate::config::request_headers::Underscores::Pass
    );
    assert_eq!(apps[0].request_headers.pass[0], "x-http-method-override");
    let errs = parse_str(
        "[[app]]\nname = \"api\"\nhosts = [\"api.example.org\"]\nupstreams = [\"http://127.0.0.1:1\"]\n[app.request_headers]\npass = [\"X-Forwarded-User\", \"X-Pforte-User\"]\nunderscores = \"sometimes\"\n",
    )
    .unwrap_err()
    .to_string();
    assert!(errs.contains("apps.toml:7:"), "{errs}");
    assert!(errs.contains("underscores"), "{errs}");
    let errs = parse_str(
        "[[app]]\nname = \"api\"\nhosts = [\"api.example.org\"]\nupstreams = [\"http://127.0.0.1:1\"]\n[app.request_headers]\npass = [\"X-Forwarded-User\", \"X-Pforte-User\"]\n",
    )
    .unwrap_err()
    .to_string();
    assert!(
        errs.contains(
            "apps.toml:6:9: app[0].request_headers.pass: x-forwarded-user is set by Pforte"
        ),
        "{errs}"
    );
    assert!(
        errs.contains(
            "apps.toml:6:29: app[0].request_headers.pass: X-Pforte-* headers are Pforte's own"
        ),
        "{errs}"
    );
}

#[test]
fn all_problems_reported_with_place() {
    let src = "[[app]]\nname = \"Mail!\"\nhosts = [\"mail.example.org:443\"]\npath_prefix = \"docs/\"\nupstreams = [\"ftp://x\", \"http://h/p\"]\n";
    let errs = parse_str(src).unwrap_err().to_string();
    assert!(
        errs.contains("apps.toml:2:8: app[0].name: app name \"Mail!\""),
        "{errs}"
    );
    assert!(errs.contains("apps.toml:3:10: app[0].hosts:"), "{errs}");
    assert!(
        errs.contains("app[0].path_prefix: path_prefix \"docs/\" must start with '/'"),
        "{errs}"
    );
    assert!(errs.contains("only http:// and https://"), "{errs}");
    assert!(errs.contains("an upstream URL has no path"), "{errs}");
}

#[test]
fn unknown_key_names_line_and_key() {
    let src = "[[app]]\nname = \"mail\"\nhosts = [\"m.org\"]\nupstreams = [\"http://h:1\"]\nupstram = 1\n";
    let errs = parse_str(src).unwrap_err().to_string();
    assert!(errs.starts_with("apps.toml:5:1:"), "{errs}");
    assert!(errs.contains("unknown field `upstram`"), "{errs}");
}

#[test]
fn duplicate_host_and_prefix_is_refused() {
    let src = "[[app]]\nname = \"a\"\nhosts = [\"x.org\"]\nupstreams = [\"http://h:1\"]\n[[app]]\nname = \"b\"\nhosts = [\"x.org\"]\nupstreams = [\"http://h:2\"]\n";
    let errs = parse_str(src).unwrap_err().to_string();
    assert!(errs.contains("already used by app \"a\""), "{errs}");
}
