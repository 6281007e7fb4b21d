//! The second-factor pages as HTML: the step-up page that asks for a code or a passkey, the
//! enrolment of an authenticator app (QR code and key), the page that shows new recovery
//! codes once, and the security page with the person's factors and sessions. Same house rules
//! as [`super::pages`]: labelled fields, announced errors, both languages, the theme.

use super::blocks::{Field, field, hidden, language_switch, layout};
use super::factor_texts::{self, FactorTexts};
use super::html::escape;
use super::passkey_form::{PasskeyButton, passkey_form, passkey_script};
use super::texts;
use crate::config::lang::Lang;
use crate::config::theme::Theme;

/// What went wrong with a code, as the person is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeProblem {
    /// Wrong, or a recovery code already used.
    Wrong,
    /// Not the shape of a code.
    Malformed,
    /// Right, but already used in its window.
    Replayed,
    /// Too many failures: wait.
    Throttled,
    /// The confirming password or code was wrong.
    WrongConfirmation,
    /// The form was too old or not ours.
    FormExpired,
}

impl CodeProblem {
    fn message(self, lang: Lang) -> &'static str {
        let (t, base) = (factor_texts::of(lang), texts::of(lang));
        match self {
            Self::Wrong => t.wrong_code,
            Self::Malformed => t.malformed_code,
            Self::Replayed => t.replayed_code,
            Self::Throttled => base.throttled,
            Self::WrongConfirmation => t.wrong_confirmation,
            Self::FormExpired => base.form_expired,
        }
    }
}

/// The step-up page.
pub struct SecondFactorView<'a> {
    /// The page's language.
    pub lang: Lang,
    /// The organisation's look.
    pub theme: &'a Theme,
    /// The anti-forgery token.
    pub csrf: &'a str,
    /// Where to go afterwards, already checked.
    pub return_to: Option<&'a str>,
    /// The person has an authenticator app.
    pub totp: bool,
    /// The person has unused recovery codes.
    pub recovery: bool,
    /// The person has passkeys.
    pub passkeys: bool,
    /// What went wrong last time.
    pub problem: Option<CodeProblem>,
}

/// A form's opening tag with the fields every form of these pages carries: the anti-forgery
/// token, the page's language and, when there is one, where to go afterwards.
fn form_start(action: &str, csrf: &str, lang: Lang, return_to: Option<&str>) -> String {
    let mut form = format!("<form method=\"post\" action=\"{}\">", escape(action));
    form.push_str(&hidden("csrf", csrf));
    form.push_str(&hidden("lang", lang.tag()));
    if let Some(return_to) = return_to {
        form.push_str(&hidden("return_to", return_to));
    }
    form
}

/// The field for a code from an authenticator app.
fn code_field(t: &FactorTexts, base: &texts::Texts, form_error: Option<&str>) -> String {
    field(
        Field {
            id: "code",
            label: t.code,
            kind: "text",
            autocomplete: "one-time-code",
            value: "",
            error: None,
            form_error,
        },
        base,
    )
}

/// The step-up page: a code field, a passkey button, and recovery codes behind a disclosure.
pub fn second_factor(view: &SecondFactorView<'_>) -> String {
    let (t, base) = (factor_texts::of(view.lang), texts::of(view.lang));
    let mut body = format!(
        "<h1>{}</h1><p>{}</p>",
        escape(t.verify),
        escape(t.verify_intro)
    );
    body.push_str(&problem_box(view.problem, view.lang));
    let described = view.problem.map(|_| "form-error");
    if view.totp {
        body.push_str(&form_start("/mfa", view.csrf, view.lang, view.return_to));
        body.push_str(&code_field(t, base, described));
        body.push_str(&format!(
            "<p class=\"hint\">{}</p><button type=\"submit\">{}</button></form>",
            escape(t.code_hint),
            escape(t.check)
        ));
    }
    if view.passkeys {
        body.push_str(&passkey_form(&PasskeyButton {
            action: "authenticate",
            options_url: "/mfa/passkey/options",
            verify_url: "/mfa/passkey/verify",
            label: t.use_passkey,
            csrf: view.csrf,
            lang: view.lang,
            carried: &[("return_to", view.return_to.unwrap_or(""))],
            name_field: false,
        }));
    }
    if view.recovery {
        body.push_str(&format!(
            "<details><summary>{}</summary>",
            escape(t.use_recovery)
        ));
        body.push_str(&form_start("/mfa", view.csrf, view.lang, view.return_to));
        body.push_str(&field(
            Field {
                id: "recovery_code",
                label: t.recovery_code,
                kind: "text",
                autocomplete: "off",
                value: "",
                error: None,
                form_error: None,
            },
            base,
        ));
        body.push_str(&format!(
            "<button type=\"submit\">{}</button></form></details>",
            escape(t.check)
        ));
    }
    body.push_str(&language_switch(view.lang, view.return_to, None));
    if view.passkeys {
        body.push_str(&passkey_script());
    }
    layout(view.lang, view.theme, t.verify, &body)
}

/// The enrolment of an authenticator app.
pub struct EnrolView<'a> {
    /// The page's language.
    pub lang: Lang,
    /// The organisation's look.
    pub theme: &'a Theme,
    /// The anti-forgery token.
    pub csrf: &'a str,
    /// Where to go afterwards, already checked.
    pub return_to: Option<&'a str>,
    /// The QR code (SVG markup made by `pforte_factors`, not from input).
    pub qr_svg: &'a str,
    /// The `otpauth://` URI the QR code holds.
    pub uri: &'a str,
    /// The key in base32, for typing in.
    pub secret: &'a str,
    /// Whether the form asks for the password (or a current code) to confirm.
    pub confirm: bool,
    /// Whether the person must enrol before going on.
    pub required: bool,
    /// What went wrong last time.
    pub problem: Option<CodeProblem>,
}

/// The enrolment page.
pub fn enrol(view: &EnrolView<'_>) -> String {
    let (t, base) = (factor_texts::of(view.lang), texts::of(view.lang));
    let mut body = format!("<h1>{}</h1>", escape(t.enrol));
    if view.required {
        body.push_str(&format!(
            "<p><strong>{}</strong></p>",
            escape(t.enrol_required)
        ));
    }
    body.push_str(&format!("<p>{}</p>", escape(t.enrol_intro)));
    body.push_str(&problem_box(view.problem, view.lang));
    body.push_str(&format!(
        "<figure class=\"qr\" role=\"img\" aria-label=\"{}\">{}</figure>",
        escape(t.enrol),
        strip_xml_declaration(view.qr_svg)
    ));
    body.push_str(&format!(
        "<p>{}</p><p><code class=\"secret\">{}</code></p><details><summary>otpauth://</summary><p><code class=\"secret\">{}</code></p></details>",
        escape(t.enrol_manual),
        escape(&group_by_four(view.secret)),
        escape(view.uri)
    ));
    body.push_str(&form_start(
        "/security/totp",
        view.csrf,
        view.lang,
        view.return_to,
    ));
    let described = view.problem.map(|_| "form-error");
    body.push_str(&field(
        Field {
            id: "name",
            label: t.factor_name,
            kind: "text",
            autocomplete: "off",
            value: t.default_app_name,
            error: None,
            form_error: None,
        },
        base,
    ));
    body.push_str(&code_field(t, base, described));
    if view.confirm {
        body.push_str(&confirm_field("confirm", t, described));
    }
    body.push_str(&format!(
        "<button type=\"submit\">{}</button></form>",
        escape(t.save)
    ));
    body.push_str(&language_switch(view.lang, view.return_to, None));
    layout(view.lang, view.theme, t.enrol, &body)
}

/// The page that shows a new set of recovery codes, once, and goes on to `next`.
pub fn recovery_codes(lang: Lang, theme: &Theme, codes: &[String], next: &str) -> String {
    let t = factor_texts::of(lang);
    let mut body = format!(
        "<h1>{}</h1><p>{}</p><ol class=\"codes\">",
        escape(t.recovery_codes),
        escape(t.recovery_codes_intro)
    );
    for code in codes {
        body.push_str(&format!("<li><code>{}</code></li>", escape(code)));
    }
    body.push_str(&format!(
        "</ol><p><a class=\"button\" href=\"{}\">{}</a></p>",
        escape(next),
        escape(t.continue_)
    ));
    layout(lang, theme, t.recovery_codes, &body)
}

/// After a recovery code: how many are left, and on to `next`.
pub fn recovery_used(lang: Lang, theme: &Theme, left: usize, next: &str) -> String {
    let t = factor_texts::of(lang);
    let body = format!(
        "<h1>{}</h1><p role=\"status\">{} <strong>{left}</strong></p><p><a class=\"button\" href=\"{}\">{}</a></p>",
        escape(t.recovery_codes),
        escape(t.recovery_left),
        escape(next),
        escape(t.continue_)
    );
    layout(lang, theme, t.recovery_codes, &body)
}

/// The page that says second factors are not set up on this gateway.
pub fn unavailable(lang: Lang, theme: &Theme) -> String {
    let t = factor_texts::of(lang);
    let body = format!(
        "<h1>{}</h1><p>{}</p><p><a href=\"/\">{}</a></p>",
        escape(t.verify),
        escape(t.unavailable),
        escape(t.back_to_portal)
    );
    layout(lang, theme, t.verify, &body)
}

/// One factor on the security page.
pub struct FactorRow {
    /// The handle the forms name it by.
    pub handle: String,
    /// Authenticator app or passkey.
    pub passkey: bool,
    /// The person's name for it.
    pub name: String,
    /// When it was added, `YYYY-MM-DD`.
    pub added: String,
}

/// One session on the security page.
pub struct SessionRow {
    /// Its public handle.
    pub sid: String,
    /// Browser and system, as the login saw them.
    pub device: Option<String>,
    /// The address it logged in from.
    pub address: String,
    /// When it was last used, `YYYY-MM-DD HH:MM UTC`.
    pub last_used: String,
    /// `password` or `mfa`, and how.
    pub strength: String,
    /// Whether it is the session of this browser.
    pub current: bool,
}

/// The security page.
pub struct SecurityView<'a> {
    /// The page's language.
    pub lang: Lang,
    /// The organisation's look.
    pub theme: &'a Theme,
    /// The anti-forgery token.
    pub csrf: &'a str,
    /// The person's factors.
    pub factors: Vec<FactorRow>,
    /// Unused recovery codes.
    pub recovery_left: usize,
    /// The person's live sessions.
    pub sessions: Vec<SessionRow>,
    /// Whether second factors are set up on this gateway.
    pub available: bool,
    /// A message after a change ("Saved.", or a recovery-code count).
    pub notice: Option<String>,
    /// What went wrong with the last change.
    pub problem: Option<CodeProblem>,
}

/// The security page: factors (rename, remove, add), recovery codes, sessions (end).
pub fn security(view: &SecurityView<'_>) -> String {
    let t = factor_texts::of(view.lang);
    let mut body = format!(
        "<h1>{}</h1><p>{}</p>",
        escape(t.security),
        escape(t.security_intro)
    );
    if let Some(notice) = &view.notice {
        body.push_str(&format!(
            "<div class=\"notice\" role=\"status\"><p>{}</p></div>",
            escape(notice)
        ));
    }
    body.push_str(&problem_box(view.problem, view.lang));
    body.push_str(&format!("<h2>{}</h2>", escape(t.your_factors)));
    if !view.available {
        body.push_str(&format!("<p>{}</p>", escape(t.unavailable)));
    } else {
        factor_list(&mut body, view, t);
    }
    session_list(&mut body, view, t);
    body.push_str(&format!(
        "<p><a href=\"/\">{}</a></p>",
        escape(t.back_to_portal)
    ));
    body.push_str(&language_switch(view.lang, None, None));
    if view.available {
        body.push_str(&passkey_script());
    }
    layout(view.lang, view.theme, t.security, &body)
}

fn factor_list(body: &mut String, view: &SecurityView<'_>, t: &FactorTexts) {
    if view.factors.is_empty() {
        body.push_str(&format!("<p>{}</p>", escape(t.no_factors)));
    } else {
        body.push_str("<ul class=\"factors\">");
        for (index, factor) in view.factors.iter().enumerate() {
            let kind = if factor.passkey {
                t.kind_passkey
            } else {
                t.kind_totp
            };
            body.push_str(&format!(
                "<li><p><strong>{}</strong> ({}, {} {})</p>",
                escape(&factor.name),
                escape(kind),
                escape(t.added),
                escape(&factor.added)
            ));
            let name_id = format!("name-{index}");
            let confirm_id = format!("confirm-{index}");
            body.push_str("<form method=\"post\" action=\"/security/factor\" class=\"inline\">");
            body.push_str(&hidden("csrf", view.csrf));
            body.push_str(&hidden("lang", view.lang.tag()));
            body.push_str(&hidden("handle", &factor.handle));
            body.push_str(&format!(
                "<div class=\"field\"><label for=\"{name_id}\">{}</label><input id=\"{name_id}\" name=\"name\" type=\"text\" autocomplete=\"off\" value=\"{}\"></div>",
                escape(t.factor_name),
                escape(&factor.name)
            ));
            body.push_str(&format!(
                "<div class=\"field\"><label for=\"{confirm_id}\">{}</label><input id=\"{confirm_id}\" name=\"confirm\" type=\"password\" autocomplete=\"current-password\" required></div>",
                escape(t.confirm)
            ));
            body.push_str(&format!(
                "<button type=\"submit\" name=\"action\" value=\"rename\">{}</button> \
                 <button type=\"submit\" name=\"action\" value=\"remove\" class=\"secondary\">{}</button></form></li>",
                escape(t.rename),
                escape(t.remove)
            ));
        }
        body.push_str("</ul>");
    }
    body.push_str(&format!(
        "<p><a href=\"/security/totp\">{}</a></p>",
        escape(t.add_totp)
    ));
    body.push_str(&passkey_form(&PasskeyButton {
        action: "register",
        options_url: "/security/passkey/options",
        verify_url: "/security/passkey/register",
        label: t.add_passkey,
        csrf: view.csrf,
        lang: view.lang,
        carried: &[],
        name_field: true,
    }));
    body.push_str(&format!(
        "<h2>{}</h2><p>{} {}</p>",
        escape(t.recovery_codes),
        escape(t.recovery_count),
        view.recovery_left
    ));
    body.push_str(&form_start(
        "/security/recovery",
        view.csrf,
        view.lang,
        None,
    ));
    body.push_str(&confirm_field("confirm-recovery", t, None));
    body.push_str(&format!(
        "<button type=\"submit\">{}</button></form>",
        escape(t.new_recovery_codes)
    ));
}

fn session_list(body: &mut String, view: &SecurityView<'_>, t: &FactorTexts) {
    body.push_str(&format!(
        "<h2>{}</h2><table class=\"stack\"><thead><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\"><span class=\"visually-hidden\">{}</span></th></tr></thead><tbody>",
        escape(t.your_sessions),
        escape(t.device),
        escape(t.address),
        escape(t.last_used),
        escape(t.strength),
        escape(t.end_session)
    ));
    for session in &view.sessions {
        let device = session.device.as_deref().unwrap_or(t.unknown_device);
        let current = if session.current {
            format!(" <em>({})</em>", escape(t.this_session))
        } else {
            String::new()
        };
        // On a phone each row stacks, and `data-label` names each line (the header row is
        // hidden there but still read out by screen readers).
        body.push_str(&format!(
            "<tr><td>{}{current}</td><td data-label=\"{}\">{}</td><td data-label=\"{}\">{}</td>\
             <td data-label=\"{}\">{}</td><td>",
            escape(device),
            escape(t.address),
            escape(&session.address),
            escape(t.last_used),
            escape(&session.last_used),
            escape(t.strength),
            escape(&session.strength)
        ));
        body.push_str(&form_start(
            "/security/sessions/end",
            view.csrf,
            view.lang,
            None,
        ));
        body.push_str(&hidden("sid", &session.sid));
        body.push_str(&format!(
            "<button type=\"submit\" class=\"secondary\">{}</button></form></td></tr>",
            escape(t.end_session)
        ));
    }
    body.push_str("</tbody></table>");
}

/// The field that confirms a change with the password or a current code; `id` tells apart
/// several on one page (the form field's name is always `confirm`).
fn confirm_field(id: &str, t: &FactorTexts, described: Option<&str>) -> String {
    let hint_id = format!("{id}-hint");
    let described: Vec<&str> = [Some(hint_id.as_str()), described]
        .into_iter()
        .flatten()
        .collect();
    let invalid = if described.len() > 1 {
        " aria-invalid=\"true\""
    } else {
        ""
    };
    format!(
        "<div class=\"field\"><label for=\"{id}\">{}</label><input id=\"{id}\" name=\"confirm\" \
         type=\"password\" autocomplete=\"current-password\" required aria-describedby=\"{}\"{invalid}>\
         <p class=\"hint\" id=\"{hint_id}\">{}</p></div>",
        escape(t.confirm),
        described.join(" "),
        escape(t.confirm_hint)
    )
}

fn problem_box(problem: Option<CodeProblem>, lang: Lang) -> String {
    problem.map_or_else(String::new, |problem| {
        format!(
            "<div class=\"error\" role=\"alert\" id=\"form-error\"><p><strong>{}:</strong> {}</p></div>",
            escape(texts::of(lang).error),
            escape(problem.message(lang))
        )
    })
}

/// The SVG markup without its XML declaration, which has no place inside HTML.
fn strip_xml_declaration(svg: &str) -> &str {
    svg.find("<svg").map_or(svg, |start| &svg[start..])
}

/// A base32 key in groups of four, easier to type.
fn group_by_four(secret: &str) -> String {
    secret
        .as_bytes()
        .chunks(4)
        .map(|group| String::from_utf8_lossy(group).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_step_up_page_offers_what_the_person_has() {
        let page = second_factor(&SecondFactorView {
            lang: Lang::De,
            theme: &Theme::default(),
            csrf: "t",
            return_to: Some("https://admin.example.org/"),
            totp: true,
            recovery: false,
            passkeys: false,
            problem: Some(CodeProblem::Replayed),
        });
        assert!(page.contains("<html lang=\"de\">"));
        assert!(page.contains("autocomplete=\"one-time-code\""));
        assert!(page.contains("schon verwendet"));
        assert!(!page.contains("recovery_code") && !page.contains("data-passkey-action"));
        assert!(page.contains("name=\"return_to\" value=\"https://admin.example.org/\""));
    }

    #[test]
    fn a_passkey_button_sits_in_a_form_with_what_the_script_needs() {
        let page = second_factor(&SecondFactorView {
            lang: Lang::De,
            theme: &Theme::default(),
            csrf: "tok",
            return_to: Some("https://admin.example.org/"),
            totp: false,
            recovery: false,
            passkeys: true,
            problem: None,
        });
        let form = &page[page.find("<form class=\"passkey\"").unwrap()..];
        let form = &form[..form.find("</form>").unwrap()];
        assert!(form.contains("name=\"csrf\" value=\"tok\""));
        assert!(form.contains("name=\"return_to\" value=\"https://admin.example.org/\""));
        assert!(form.contains("data-passkey-action=\"authenticate\""));
        assert!(form.contains("data-options-url=\"/mfa/passkey/options\""));
        assert!(
            form.contains("role=\"alert\"")
                && form.contains("data-msg-cancelled=\"Die Passkey-Anfrage")
        );
        assert!(page.contains("<script src=\"/assets/passkey.js\" defer></script>"));
    }

    #[test]
    fn the_step_up_page_wears_the_configured_theme() {
        let theme = Theme {
            product_name: "Stadtverwaltung Nord".into(),
            primary: crate::config::theme::Color::parse("#5b2a86").unwrap(),
            logo: None,
        };
        for lang in [Lang::En, Lang::De] {
            let page = second_factor(&SecondFactorView {
                lang,
                theme: &theme,
                csrf: "t",
                return_to: None,
                totp: true,
                recovery: true,
                passkeys: true,
                problem: None,
            });
            assert!(page.contains("Stadtverwaltung Nord</span>"), "{page}");
            assert!(page.contains("– Stadtverwaltung Nord</title>"), "{page}");
            assert!(page.contains("background:#5b2a86"), "buttons: {page}");
            assert!(page.contains("border-top:.375rem solid #5b2a86"), "{page}");
            assert!(!page.contains("#0b57d0"), "no default colour left: {page}");
        }
    }

    #[test]
    fn the_enrolment_page_shows_the_qr_code_and_the_key() {
        let page = enrol(&EnrolView {
            lang: Lang::En,
            theme: &Theme::default(),
            csrf: "t",
            return_to: None,
            qr_svg: "<?xml version=\"1.0\"?><svg><path/></svg>",
            uri: "otpauth://totp/X:alice?secret=ABCDEFGH",
            secret: "ABCDEFGH",
            confirm: true,
            required: true,
            problem: None,
        });
        assert!(page.contains("<svg><path/></svg>") && !page.contains("<?xml"));
        assert!(page.contains("ABCD EFGH"));
        assert!(page.contains("otpauth://totp/X:alice?secret=ABCDEFGH"));
        assert!(page.contains("name=\"confirm\""));
    }
}
