//! The login host's pages as HTML: the login form, the portal with the person's app tiles, and
//! the page after logout. Plain HTML forms, no JavaScript; accessible by construction: every
//! field has a label, errors are announced (`role="alert"`) and tied to their field
//! (`aria-describedby`, `aria-invalid`), the focus order is the reading order, the language is
//! declared, and colours meet WCAG AA contrast (see [`crate::config::theme`]).

use super::blocks::{Field, field, hidden, language_switch, layout};
use super::factor_texts;
use super::html::escape;
use super::passkey_form::{PasskeyButton, passkey_form, passkey_script};
use super::texts;
use crate::config::lang::Lang;
use crate::config::theme::Theme;

/// What went wrong with a login attempt, as the person is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginProblem {
    /// Unknown user, wrong password or disabled account: one message for all three.
    BadCredentials,
    /// A field was left empty.
    Missing {
        /// The user name was empty.
        username: bool,
        /// The password was empty.
        password: bool,
    },
    /// Too many failures for this account or address.
    Throttled,
    /// The directory did not answer.
    DirectoryUnavailable,
    /// The CSRF check failed (old form, or a form from another site).
    FormExpired,
    /// A partner's provider cannot be reached.
    PartnerUnreachable,
    /// A partner's provider's answer was refused.
    PartnerFailed,
    /// The partner account may not log in here.
    PartnerRefused,
}

/// A partner's provider on the login page: its button.
pub struct PartnerButton<'a> {
    /// The provider's id (its start URL).
    pub id: &'a str,
    /// The name on the button.
    pub name: &'a str,
}

/// The login form.
pub struct LoginView<'a> {
    /// The page's language.
    pub lang: Lang,
    /// The organisation's look.
    pub theme: &'a Theme,
    /// The anti-forgery token of the form.
    pub csrf: &'a str,
    /// Where to go after login, already checked.
    pub return_to: Option<&'a str>,
    /// The hand-over binding of the app host that sent the person here.
    pub handover: Option<&'a str>,
    /// The user name to show again after a failed attempt.
    pub username: &'a str,
    /// What went wrong last time.
    pub problem: Option<LoginProblem>,
    /// Whether passwordless passkey logins are offered (the button, and the browser's passkey
    /// autofill in the user name field).
    pub passkeys: bool,
    /// The partners' providers a person may log in at instead.
    pub partners: Vec<PartnerButton<'a>>,
}

/// One app tile of the portal.
pub struct Tile<'a> {
    /// The name people see.
    pub name: &'a str,
    /// The app's address.
    pub url: String,
}

/// The portal: the signed-in person's apps and the logout button.
pub struct PortalView<'a> {
    /// The page's language.
    pub lang: Lang,
    /// The organisation's look.
    pub theme: &'a Theme,
    /// Who is signed in.
    pub display_name: &'a str,
    /// The apps they may open, in the order of the apps file.
    pub tiles: Vec<Tile<'a>>,
    /// The anti-forgery token of the logout form.
    pub csrf: &'a str,
}

/// The login page.
pub fn login(view: &LoginView<'_>) -> String {
    let t = texts::of(view.lang);
    let (form_error, username_error, password_error) = match view.problem {
        None => (None, None, None),
        Some(LoginProblem::Missing { username, password }) => (
            None,
            username.then_some(t.field_required),
            password.then_some(t.field_required),
        ),
        Some(LoginProblem::BadCredentials) => (Some(t.bad_credentials), None, None),
        Some(LoginProblem::Throttled) => (Some(t.throttled), None, None),
        Some(LoginProblem::DirectoryUnavailable) => (Some(t.directory_unavailable), None, None),
        Some(LoginProblem::FormExpired) => (Some(t.form_expired), None, None),
        Some(LoginProblem::PartnerUnreachable) => (Some(t.partner_unreachable), None, None),
        Some(LoginProblem::PartnerFailed) => (Some(t.partner_failed), None, None),
        Some(LoginProblem::PartnerRefused) => (Some(t.partner_refused), None, None),
    };
    let mut body = format!(
        "<h1>{}</h1><p>{}</p>",
        escape(t.sign_in),
        escape(t.sign_in_intro)
    );
    if let Some(message) = form_error {
        body.push_str(&format!(
            "<div class=\"error\" role=\"alert\" id=\"form-error\"><p><strong>{}:</strong> {}</p></div>",
            escape(t.error),
            escape(message)
        ));
    }
    body.push_str("<form method=\"post\" action=\"/login\">");
    body.push_str(&hidden("csrf", view.csrf));
    body.push_str(&hidden("lang", view.lang.tag()));
    if let Some(return_to) = view.return_to {
        body.push_str(&hidden("return_to", return_to));
    }
    if let Some(handover) = view.handover {
        body.push_str(&hidden("handover", handover));
    }
    let form_described = form_error.map(|_| "form-error");
    body.push_str(&field(
        Field {
            id: "username",
            label: t.username,
            kind: "text",
            autocomplete: if view.passkeys {
                "username webauthn"
            } else {
                "username"
            },
            value: view.username,
            error: username_error,
            form_error: form_described,
        },
        t,
    ));
    body.push_str(&field(
        Field {
            id: "password",
            label: t.password,
            kind: "password",
            autocomplete: "current-password",
            value: "",
            error: password_error,
            form_error: form_described,
        },
        t,
    ));
    body.push_str(&format!(
        "<button type=\"submit\">{}</button></form>",
        escape(t.submit)
    ));
    if view.passkeys {
        body.push_str(&passkey_form(&PasskeyButton {
            action: "passwordless",
            options_url: "/login/passkey/options",
            verify_url: "/login/passkey/verify",
            label: factor_texts::of(view.lang).sign_in_with_passkey,
            csrf: view.csrf,
            lang: view.lang,
            carried: &[
                ("return_to", view.return_to.unwrap_or("")),
                ("handover", view.handover.unwrap_or("")),
            ],
            name_field: false,
        }));
    }
    if !view.partners.is_empty() {
        body.push_str(&partner_buttons(view, t));
    }
    body.push_str(&language_switch(view.lang, view.return_to, view.handover));
    if view.passkeys {
        body.push_str(&passkey_script());
    }
    layout(view.lang, view.theme, t.sign_in, &body)
}

/// The partners' providers as links to their start, carrying the return URL and hand-over
/// binding the form carries.
fn partner_buttons(view: &LoginView<'_>, t: &texts::Texts) -> String {
    let mut carried = form_urlencoded::Serializer::new(String::new());
    if let Some(return_to) = view.return_to {
        carried.append_pair("return_to", return_to);
    }
    if let Some(handover) = view.handover {
        carried.append_pair("handover", handover);
    }
    let query = carried.finish();
    let mut html = format!(
        "<nav aria-label=\"{0}\" class=\"partners\"><h2>{0}</h2><ul>",
        escape(t.partner_logins)
    );
    for partner in &view.partners {
        let href = if query.is_empty() {
            format!("/federation/{}/start", partner.id)
        } else {
            format!("/federation/{}/start?{query}", partner.id)
        };
        html.push_str(&format!(
            "<li><a class=\"federation\" href=\"{}\">{} {}</a></li>",
            escape(&href),
            escape(t.sign_in_with),
            escape(partner.name)
        ));
    }
    html.push_str("</ul></nav>");
    html
}

/// The portal.
pub fn portal(view: &PortalView<'_>) -> String {
    let t = texts::of(view.lang);
    let mut body = format!(
        "<h1>{}</h1><p>{} <strong>{}</strong></p>",
        escape(t.your_apps),
        escape(t.signed_in_as),
        escape(view.display_name)
    );
    if view.tiles.is_empty() {
        body.push_str(&format!("<p>{}</p>", escape(t.no_apps)));
    } else {
        body.push_str(&format!(
            "<nav aria-label=\"{}\"><ul class=\"tiles\">",
            escape(t.your_apps)
        ));
        for tile in &view.tiles {
            body.push_str(&format!(
                "<li><a href=\"{}\">{}</a></li>",
                escape(&tile.url),
                escape(tile.name)
            ));
        }
        body.push_str("</ul></nav>");
    }
    body.push_str(&format!(
        "<form method=\"post\" action=\"/logout\">{}<button type=\"submit\">{}</button></form>",
        hidden("csrf", view.csrf),
        escape(t.sign_out)
    ));
    body.push_str(&language_switch(view.lang, None, None));
    layout(view.lang, view.theme, t.your_apps, &body)
}

/// Asks before an app's logout request ends the session, when nothing proves the app sent the
/// person (no `id_token_hint`): a stray link must not sign anyone out. `fields` are the
/// request's parameters, posted back with the answer.
pub fn confirm_sign_out(
    lang: Lang,
    theme: &Theme,
    action: &str,
    csrf: &str,
    fields: &[(&str, &str)],
) -> String {
    let t = texts::of(lang);
    let mut form = format!(
        "<form method=\"post\" action=\"{}\">{}{}",
        escape(action),
        hidden("csrf", csrf),
        hidden("confirm", "yes")
    );
    for (name, value) in fields {
        form.push_str(&hidden(name, value));
    }
    form.push_str(&format!(
        "<button type=\"submit\">{}</button></form>",
        escape(t.sign_out)
    ));
    let body = format!(
        "<h1>{}</h1><p>{}</p>{form}",
        escape(t.confirm_sign_out),
        escape(t.confirm_sign_out_intro)
    );
    layout(lang, theme, t.confirm_sign_out, &body)
}

/// The page after logout.
pub fn signed_out(lang: Lang, theme: &Theme) -> String {
    let t = texts::of(lang);
    let body = format!(
        "<h1>{}</h1><p>{}</p><p><a href=\"/login?lang={}\">{}</a></p>",
        escape(t.signed_out),
        escape(t.signed_out_intro),
        lang.tag(),
        escape(t.sign_in_again)
    );
    layout(lang, theme, t.signed_out, &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(problem: Option<LoginProblem>) -> String {
        login(&LoginView {
            lang: Lang::En,
            theme: &Theme::default(),
            csrf: "tok\"en",
            return_to: Some("https://mail.example.org/a?b=c&d"),
            handover: None,
            username: "<alice>",
            problem,
            passkeys: false,
            partners: Vec::new(),
        })
    }

    #[test]
    fn every_field_has_a_label_and_values_are_escaped() {
        let page = view(None);
        assert!(page.contains("<label for=\"username\">User name</label>"));
        assert!(page.contains("<label for=\"password\">Password</label>"));
        assert!(page.contains("autocomplete=\"current-password\""));
        assert!(page.contains("value=\"&lt;alice&gt;\""));
        assert!(page.contains("value=\"tok&quot;en\""));
        assert!(page.contains("<html lang=\"en\">"));
        assert!(!page.contains("aria-invalid=\"true\""));
        assert!(!page.contains("<script"));
    }

    #[test]
    fn partner_buttons_carry_the_return_url_and_binding() {
        let page = login(&LoginView {
            lang: Lang::En,
            theme: &Theme::default(),
            csrf: "t",
            return_to: Some("https://mail.example.org/a?b=c"),
            handover: Some("bind"),
            username: "",
            problem: Some(LoginProblem::PartnerUnreachable),
            passkeys: false,
            partners: vec![PartnerButton {
                id: "partner",
                name: "Partner ministry",
            }],
        });
        assert!(page.contains(
            "href=\"/federation/partner/start?return_to=https%3A%2F%2Fmail.example.org%2Fa%3Fb%3Dc&amp;handover=bind\">Log in with Partner ministry</a>"
        ), "{page}");
        assert!(page.contains("cannot be reached right now"));
    }

    #[test]
    fn errors_are_announced_and_tied_to_their_fields() {
        let page = view(Some(LoginProblem::BadCredentials));
        assert!(page.contains("role=\"alert\" id=\"form-error\""));
        assert!(page.contains("aria-describedby=\"form-error\" aria-invalid=\"true\""));
        let page = view(Some(LoginProblem::Missing {
            username: true,
            password: false,
        }));
        assert!(page.contains("id=\"username-error\""));
        assert!(page.contains("aria-describedby=\"username-error\""));
        assert!(!page.contains("password-error"));
    }

    #[test]
    fn the_language_switch_keeps_the_return_url() {
        let page = view(None);
        assert!(page.contains(
            "href=\"?lang=de&amp;return_to=https%3A%2F%2Fmail.example.org%2Fa%3Fb%3Dc%26d\""
        ));
        let german = login(&LoginView {
            lang: Lang::De,
            theme: &Theme::default(),
            csrf: "t",
            return_to: None,
            handover: None,
            username: "",
            problem: None,
            passkeys: true,
            partners: vec![PartnerButton {
                id: "partner",
                name: "Partner <ministry>",
            }],
        });
        assert!(german.contains(
            "<a class=\"federation\" href=\"/federation/partner/start\">Anmelden mit Partner &lt;ministry&gt;</a>"
        ));
        assert!(german.contains("<html lang=\"de\">") && german.contains("Benutzername"));
        assert!(german.contains("autocomplete=\"username webauthn\""));
        assert!(
            german.contains("data-passkey-action=\"passwordless\"")
                && german.contains("Mit Passkey anmelden")
        );
        assert!(german.contains("<script src=\"/assets/passkey.js\" defer></script>"));
    }

    #[test]
    fn the_portal_lists_tiles_and_a_logout_form() {
        let page = portal(&PortalView {
            lang: Lang::En,
            theme: &Theme::default(),
            display_name: "Alice <Liddell>",
            tiles: vec![Tile {
                name: "Mail",
                url: "https://mail.example.org/".into(),
            }],
            csrf: "t",
        });
        assert!(page.contains("<a href=\"https://mail.example.org/\">Mail</a>"));
        assert!(page.contains("Alice &lt;Liddell&gt;"));
        assert!(page.contains("action=\"/logout\""));
    }
}
