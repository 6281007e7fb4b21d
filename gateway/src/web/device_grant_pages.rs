//! The device verification page as HTML (RFC 8628 §3.3): the form for a device's user code,
//! the confirmation that says which app asks and for what, and the pages after the decision.
//! Same house rules as [`super::pages`]: plain forms, labelled fields, announced errors, both
//! languages, the theme. The code form is a GET, so `verification_uri_complete` links and a
//! typed code take the same way; only the decision is posted, with the anti-forgery token.

use pforte_oidc::Scope;

use super::blocks::{hidden, language_switch, layout};
use super::device_grant_texts::{self, DeviceGrantTexts};
use super::html::escape;
use super::texts;
use crate::config::lang::Lang;
use crate::config::theme::Theme;

/// The path of the page (its forms' action).
const ACTION: &str = pforte_oidc::discovery::paths::DEVICE_VERIFICATION;

/// What went wrong with an entered code, as the person is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryProblem {
    /// Not the shape of a user code.
    Malformed,
    /// No device waits under this code: wrong, already decided or expired.
    Unknown,
    /// The decision's form was too old or not ours.
    FormExpired,
}

impl EntryProblem {
    fn message(self, t: &DeviceGrantTexts) -> &'static str {
        match self {
            Self::Malformed => t.malformed,
            Self::Unknown => t.unknown,
            Self::FormExpired => t.form_expired,
        }
    }
}

/// The form for a user code.
pub struct EntryView<'a> {
    /// The page's language.
    pub lang: Lang,
    /// The organisation's look.
    pub theme: &'a Theme,
    /// What the person typed last time, shown again.
    pub typed: &'a str,
    /// What went wrong with it.
    pub problem: Option<EntryProblem>,
}

/// The page that asks for the code a device shows.
pub fn entry(view: &EntryView<'_>) -> String {
    let t = device_grant_texts::of(view.lang);
    let mut body = format!(
        "<h1>{}</h1><p>{}</p>",
        escape(t.enter_code),
        escape(t.enter_code_intro)
    );
    if let Some(problem) = view.problem {
        body.push_str(&format!(
            "<div class=\"error\" role=\"alert\" id=\"form-error\"><p><strong>{}:</strong> {}</p></div>",
            escape(texts::of(view.lang).error),
            escape(problem.message(t))
        ));
    }
    let invalid = if view.problem.is_some() {
        " aria-invalid=\"true\""
    } else {
        ""
    };
    let described = if view.problem.is_some() {
        "user_code-hint form-error"
    } else {
        "user_code-hint"
    };
    body.push_str(&format!("<form method=\"get\" action=\"{ACTION}\">"));
    body.push_str(&hidden("lang", view.lang.tag()));
    body.push_str(&format!(
        "<div class=\"field\"><label for=\"user_code\">{}</label><input id=\"user_code\" \
         name=\"user_code\" type=\"text\" autocomplete=\"off\" autocapitalize=\"characters\" \
         spellcheck=\"false\" required maxlength=\"64\" value=\"{}\" aria-describedby=\"{described}\"{invalid}>\
         <p class=\"hint\" id=\"user_code-hint\">{}</p></div>",
        escape(t.code),
        escape(view.typed),
        escape(t.code_hint)
    ));
    body.push_str(&format!(
        "<button type=\"submit\">{}</button></form>",
        escape(t.continue_)
    ));
    body.push_str(&language_switch(view.lang, None, None));
    layout(view.lang, view.theme, t.enter_code, &body)
}

/// The confirmation of one device authorization.
pub struct ConfirmView<'a> {
    /// The page's language.
    pub lang: Lang,
    /// The organisation's look.
    pub theme: &'a Theme,
    /// The anti-forgery token of the decision's form.
    pub csrf: &'a str,
    /// The user code as the device shows it (`WDJB-MJHT`).
    pub user_code: &'a str,
    /// The app whose client asks, by its display name.
    pub app: &'a str,
    /// The client's id, for people who know their clients apart.
    pub client_id: &'a str,
    /// The scopes the device asked for.
    pub scopes: Vec<Scope>,
    /// Who is signed in here.
    pub person: &'a str,
}

/// The confirmation: which app asks for what, as whom, with approve and deny.
pub fn confirm(view: &ConfirmView<'_>) -> String {
    let t = device_grant_texts::of(view.lang);
    let app = format!(
        "<strong>{}</strong> (<code>{}</code>)",
        escape(view.app),
        escape(view.client_id)
    );
    let intro = escape(t.confirm_intro)
        .replace(
            "{code}",
            &format!("<strong>{}</strong>", escape(view.user_code)),
        )
        .replace("{app}", &app)
        .replace(
            "{person}",
            &format!("<strong>{}</strong>", escape(view.person)),
        );
    let mut body = format!(
        "<h1>{}</h1><p>{intro}</p><p>{}</p><ul>",
        escape(t.confirm),
        escape(t.receives)
    );
    for scope in &view.scopes {
        body.push_str(&format!("<li>{}</li>", escape(scope_text(*scope, t))));
    }
    body.push_str(&format!(
        "</ul><p><strong>{}</strong></p>",
        escape(t.caution)
    ));
    body.push_str(&format!("<form method=\"post\" action=\"{ACTION}\">"));
    body.push_str(&hidden("csrf", view.csrf));
    body.push_str(&hidden("lang", view.lang.tag()));
    body.push_str(&hidden("user_code", view.user_code));
    body.push_str(&format!(
        "<button type=\"submit\" name=\"decision\" value=\"approve\">{}</button> \
         <button type=\"submit\" name=\"decision\" value=\"deny\" class=\"secondary\">{}</button></form>",
        escape(t.approve),
        escape(t.deny)
    ));
    layout(view.lang, view.theme, t.confirm, &body)
}

/// What the person decided, or what the app's rules decided for them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Approved: the device signs in.
    Approved,
    /// Denied by the person.
    Denied,
    /// Refused by the app's access rules.
    NotAllowed,
}

/// The page after the decision on `app`'s device.
pub fn decided(lang: Lang, theme: &Theme, outcome: Outcome, app: &str) -> String {
    let t = device_grant_texts::of(lang);
    let (heading, sentence, role) = match outcome {
        Outcome::Approved => (t.approved, t.approved_intro, "status"),
        Outcome::Denied => (t.denied, t.denied_intro, "status"),
        Outcome::NotAllowed => (t.not_allowed, t.not_allowed_intro, "alert"),
    };
    let sentence = escape(sentence).replace("{app}", &format!("<strong>{}</strong>", escape(app)));
    let body = format!(
        "<h1>{}</h1><p role=\"{role}\">{sentence}</p><p><a href=\"/\">{}</a></p>",
        escape(heading),
        escape(t.back_to_portal)
    );
    layout(lang, theme, heading, &body)
}

fn scope_text(scope: Scope, t: &DeviceGrantTexts) -> &'static str {
    match scope {
        Scope::Openid => t.scope_openid,
        Scope::Profile => t.scope_profile,
        Scope::Email => t.scope_email,
        Scope::Groups => t.scope_groups,
        Scope::OfflineAccess => t.scope_offline_access,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_code_form_shows_the_problem_and_keeps_what_was_typed() {
        let page = entry(&EntryView {
            lang: Lang::De,
            theme: &Theme::default(),
            typed: "wdjb-mjh<",
            problem: Some(EntryProblem::Malformed),
        });
        assert!(page.contains("<html lang=\"de\">"));
        assert!(page.contains("<form method=\"get\" action=\"/device\">"));
        assert!(page.contains("value=\"wdjb-mjh&lt;\""), "escaped");
        assert!(page.contains("role=\"alert\"") && page.contains("acht Buchstaben"));
        assert!(page.contains("aria-invalid=\"true\""));
    }

    #[test]
    fn the_confirmation_names_the_app_the_person_and_what_the_device_gets() {
        let page = confirm(&ConfirmView {
            lang: Lang::En,
            theme: &Theme::default(),
            csrf: "tok",
            user_code: "WDJB-MJHT",
            app: "Meeting <rooms>",
            client_id: "room-7",
            scopes: vec![Scope::Openid, Scope::OfflineAccess],
            person: "Alice Doe",
        });
        assert!(page.contains("<strong>WDJB-MJHT</strong>"));
        assert!(page.contains("<strong>Meeting &lt;rooms&gt;</strong> (<code>room-7</code>)"));
        assert!(page.contains("as <strong>Alice Doe</strong>"));
        assert!(page.contains("<li>to stay signed in until you sign out</li>"));
        assert!(!page.contains("your email address"), "only what was asked");
        assert!(page.contains("<form method=\"post\" action=\"/device\">"));
        assert!(page.contains("name=\"csrf\" value=\"tok\""));
        assert!(page.contains("name=\"user_code\" value=\"WDJB-MJHT\""));
        assert!(page.contains("value=\"approve\"") && page.contains("value=\"deny\""));
    }

    #[test]
    fn each_outcome_says_what_became_of_the_device() {
        let theme = Theme::default();
        let approved = decided(Lang::En, &theme, Outcome::Approved, "Meet");
        assert!(
            approved.contains("Device signed in") && approved.contains("<strong>Meet</strong>")
        );
        let refused = decided(Lang::De, &theme, Outcome::NotAllowed, "Meet");
        assert!(refused.contains("Zugriffsregeln") && refused.contains("role=\"alert\""));
        assert!(decided(Lang::En, &theme, Outcome::Denied, "Meet").contains("You denied"));
    }
}
