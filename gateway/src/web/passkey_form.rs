//! A passkey button with what `passkey.js` needs around it (the anti-forgery field, the fields
//! it carries, where its messages go, in the page's language), and the script element for the
//! pages that have one.

use super::blocks::hidden;
use super::factor_texts;
use super::html::escape;
use super::passkey_texts;
use crate::config::lang::Lang;

pub use crate::route::PASSKEY_SCRIPT_PATH;

/// A passkey button and what `passkey.js` needs around it.
pub struct PasskeyButton<'a> {
    /// `register`, `authenticate` or `passwordless`.
    pub action: &'a str,
    /// Where the options come from.
    pub options_url: &'a str,
    /// Where the browser's answer goes.
    pub verify_url: &'a str,
    /// The button's text.
    pub label: &'a str,
    /// The anti-forgery token (sent by the script as `X-CSRF-Token`).
    pub csrf: &'a str,
    /// The page's language (of the messages, and sent along).
    pub lang: Lang,
    /// Hidden fields the script sends to the options URL (`return_to`, `handover`); empty
    /// values are left out.
    pub carried: &'a [(&'a str, &'a str)],
    /// Whether the person names the new passkey (registration).
    pub name_field: bool,
}

/// A form that runs a passkey ceremony through [`PASSKEY_SCRIPT_PATH`]: the anti-forgery field,
/// the carried fields, the button, and the alert the script writes its messages to, with the
/// browser's refusals in the page's language. Without script it says what is missing.
pub fn passkey_form(button: &PasskeyButton<'_>) -> String {
    let (t, p) = (
        factor_texts::of(button.lang),
        passkey_texts::of(button.lang),
    );
    let mut form = format!(
        "<form class=\"passkey\" method=\"post\" action=\"{}\">",
        escape(button.verify_url)
    );
    form.push_str(&hidden("csrf", button.csrf));
    form.push_str(&hidden("lang", button.lang.tag()));
    for (name, value) in button.carried {
        if !value.is_empty() {
            form.push_str(&hidden(name, value));
        }
    }
    if button.name_field {
        form.push_str(&format!(
            "<div class=\"field\"><label for=\"passkey-name\">{}</label><input id=\"passkey-name\" \
             name=\"name\" type=\"text\" autocomplete=\"off\" maxlength=\"60\" value=\"{}\"></div>",
            escape(t.factor_name),
            escape(p.default_name)
        ));
    }
    form.push_str(&format!(
        "<button type=\"button\" data-passkey-action=\"{}\" data-options-url=\"{}\" \
         data-verify-url=\"{}\">{}</button>\
         <p class=\"error\" role=\"alert\" hidden data-msg-unsupported=\"{}\" data-msg-cancelled=\"{}\" \
         data-msg-exists=\"{}\" data-msg-insecure=\"{}\" data-msg-failed=\"{}\"></p>\
         <noscript><p>{}</p></noscript></form>",
        escape(button.action),
        escape(button.options_url),
        escape(button.verify_url),
        escape(button.label),
        escape(p.unsupported),
        escape(p.cancelled),
        escape(p.exists),
        escape(p.insecure),
        escape(p.failed),
        escape(t.passkey_needs_script)
    ));
    form
}

/// The script element for pages with a passkey form; such pages are answered with
/// `respond_html_with_passkeys`, whose policy lets the login host's own scripts run.
pub fn passkey_script() -> String {
    format!("<script src=\"{PASSKEY_SCRIPT_PATH}\" defer></script>")
}
