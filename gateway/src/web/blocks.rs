//! The building blocks of the login host's pages: the page around a body (the theme's name or
//! logo, colours, language), labelled fields with their errors, hidden fields, and the language
//! switch. `pages`, `factor_pages` and `passkey_form` put pages together from them.

use super::html::{escape, page};
use super::look::Look;
use super::texts::{self, Texts};
use crate::config::lang::Lang;
use crate::config::theme::Theme;

/// A labelled input with its error, for [`field`].
pub(super) struct Field<'a> {
    pub(super) id: &'a str,
    pub(super) label: &'a str,
    pub(super) kind: &'a str,
    pub(super) autocomplete: &'a str,
    pub(super) value: &'a str,
    pub(super) error: Option<&'a str>,
    pub(super) form_error: Option<&'a str>,
}

/// A labelled input, its error announced and tied to it.
pub(super) fn field(f: Field<'_>, t: &Texts) -> String {
    let error_id = format!("{}-error", f.id);
    let described: Vec<&str> = [f.error.map(|_| error_id.as_str()), f.form_error]
        .into_iter()
        .flatten()
        .collect();
    let mut html = format!(
        "<div class=\"field\"><label for=\"{id}\">{label}</label>",
        id = f.id,
        label = escape(f.label)
    );
    if let Some(message) = f.error {
        html.push_str(&format!(
            "<p class=\"field-error\" id=\"{error_id}\"><strong>{}:</strong> {}</p>",
            escape(t.error),
            escape(message)
        ));
    }
    html.push_str(&format!(
        "<input id=\"{id}\" name=\"{id}\" type=\"{kind}\" autocomplete=\"{ac}\" required \
         autocapitalize=\"none\" spellcheck=\"false\" value=\"{value}\"",
        id = f.id,
        kind = f.kind,
        ac = f.autocomplete,
        value = escape(f.value)
    ));
    if !described.is_empty() {
        html.push_str(&format!(" aria-describedby=\"{}\"", described.join(" ")));
    }
    if f.error.is_some() || f.form_error.is_some() {
        html.push_str(" aria-invalid=\"true\"");
    }
    html.push_str("></div>");
    html
}

/// A hidden form field.
pub(super) fn hidden(name: &str, value: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
        escape(name),
        escape(value)
    )
}

/// Links to the page in each language, keeping where the person is going.
pub(super) fn language_switch(
    current: Lang,
    return_to: Option<&str>,
    handover: Option<&str>,
) -> String {
    let t = texts::of(current);
    let mut html = format!(
        "<nav class=\"langs\" aria-label=\"{}\"><ul>",
        escape(t.language)
    );
    for lang in Lang::ALL {
        let name = match lang {
            Lang::De => "Deutsch",
            Lang::En => "English",
        };
        let mut href = format!("?lang={}", lang.tag());
        if let Some(return_to) = return_to {
            href.push_str("&return_to=");
            href.push_str(&form_urlencoded_component(return_to));
        }
        if let Some(handover) = handover {
            href.push_str("&handover=");
            href.push_str(&form_urlencoded_component(handover));
        }
        let current_attr = if lang == current {
            " aria-current=\"true\""
        } else {
            ""
        };
        html.push_str(&format!(
            "<li><a href=\"{}\" lang=\"{tag}\" hreflang=\"{tag}\"{current_attr}>{name}</a></li>",
            escape(&href),
            tag = lang.tag()
        ));
    }
    html.push_str("</ul></nav>");
    html
}

/// Percent-encodes a query value (everything but unreserved characters).
fn form_urlencoded_component(value: &str) -> String {
    let mut out = String::with_capacity(value.len() * 3);
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The page around `body`: language, title, the theme's name or logo and colours.
pub(super) fn layout(lang: Lang, theme: &Theme, title: &str, body: &str) -> String {
    page(&Look::login_host(lang, theme), title, body)
}
