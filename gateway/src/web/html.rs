//! The HTML the gateway answers with itself: the themed layout every page of the login host and
//! every error page shares, and the error page. Error pages name what happened in words a person
//! understands, in their language, and carry the request id for support, nothing internal.

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};

use super::error_texts;
use super::look::Look;

/// Escapes text for HTML element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// A complete page with the house style; `body_html` must already be escaped.
pub fn html_page(title: &str, body_html: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>{title}</title><style>\
body{{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;color:#1a1a1a;background:#fff}}\
h1{{font-size:1.5rem}}code{{background:#f2f2f2;padding:.1rem .3rem}}a{{color:#0b57d0}}\
li{{margin:.4rem 0}}</style></head><body><main>{body_html}</main></body></html>\n",
        title = escape(title),
    )
}

/// A page of the gateway in the organisation's look: its logo or name on top, the theme's
/// colour on links and buttons. One column that fits a phone (no horizontal scrolling at 320 px,
/// long words and ids wrap, a QR code shrinks to the column, a `table.stack` shows each row as
/// a block of labelled lines below 40rem) and reads well on a desktop; buttons and links in
/// lists are at least 44 px high. `body_html` must already be escaped.
pub fn page(look: &Look<'_>, title: &str, body_html: &str) -> String {
    let theme = look.theme;
    let logo = match &look.logo_src {
        Some(src) => format!(
            "<img src=\"{}\" alt=\"{}\" class=\"logo\">",
            escape(src),
            escape(&theme.product_name)
        ),
        None => format!(
            "<span class=\"product\">{}</span>",
            escape(&theme.product_name)
        ),
    };
    let primary = theme.primary.css();
    format!(
        "<!doctype html>\n<html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<meta name=\"theme-color\" content=\"{primary}\">\
<title>{title} – {product}</title><style>\
*,*::before,*::after{{box-sizing:border-box}}\
body{{font-family:system-ui,sans-serif;max-width:32rem;margin:0 auto;padding:1.5rem 1rem;color:#1a1a1a;background:#fff;line-height:1.5;overflow-wrap:break-word}}\
header{{margin-bottom:1.5rem;border-top:.375rem solid {primary};padding-top:1rem}}.product{{font-weight:700;font-size:1.25rem}}.logo{{max-height:3rem;max-width:100%}}\
h1{{font-size:1.6rem;line-height:1.25}}a{{color:{primary}}}\
code{{background:#f2f2f2;padding:.1rem .3rem;overflow-wrap:anywhere}}\
.field{{margin:1rem 0}}label{{display:block;font-weight:600;margin-bottom:.25rem}}\
input{{font:inherit;width:100%;min-height:2.75rem;padding:.5rem;border:2px solid #595959;border-radius:4px}}\
input:focus,button:focus,a:focus{{outline:3px solid {primary};outline-offset:2px}}\
input[aria-invalid=true]{{border-color:#b3261e}}\
button,.button{{display:inline-block;font:inherit;font-weight:600;color:#fff;background:{primary};border:0;border-radius:4px;min-height:2.75rem;padding:.6rem 1.2rem;cursor:pointer;text-decoration:none;max-width:100%}}\
.error,.field-error{{color:#b3261e}}.error{{border-left:4px solid #b3261e;padding:.25rem .75rem;margin:1rem 0}}\
.field-error{{margin:.25rem 0}}.status{{font-weight:600;color:#595959;margin:0}}.request-id{{color:#595959;font-size:.9rem}}\
.tiles{{list-style:none;padding:0;display:grid;grid-template-columns:repeat(auto-fill,minmax(9rem,1fr));gap:.75rem}}\
.tiles a{{display:block;padding:1rem;border:2px solid {primary};border-radius:6px;text-decoration:none;font-weight:600}}\
.langs ul{{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:1rem;margin-top:2rem}}\
.langs a{{display:inline-block;min-height:2.75rem;padding:.6rem .25rem}}\
h1,h2{{hyphens:auto}}.hint{{color:#595959;margin:.25rem 0}}\
button.secondary,.button.secondary{{color:{primary};background:#fff;border:2px solid {primary}}}\
.visually-hidden{{position:absolute;width:1px;height:1px;margin:-1px;padding:0;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap;border:0}}\
.qr{{margin:1rem 0}}.qr svg{{display:block;width:100%;max-width:16rem;height:auto}}\
summary{{cursor:pointer;min-height:2.75rem;padding:.6rem 0}}\
table{{border-collapse:collapse;width:100%}}th,td{{text-align:left;vertical-align:top;padding:.5rem .25rem;border-bottom:1px solid #d0d0d0}}\
@media (max-width:40rem){{.stack thead{{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}}\
.stack tr,.stack td{{display:block}}.stack tr{{border-bottom:2px solid #d0d0d0;padding:.5rem 0}}.stack td{{border:0;padding:.15rem 0}}\
.stack td[data-label]::before{{content:attr(data-label) \": \";font-weight:600}}}}\
</style></head><body><header>{logo}</header><main>{body_html}</main></body></html>\n",
        lang = look.lang.tag(),
        title = escape(title),
        product = escape(&theme.product_name),
    )
}

/// What an error page says: the status, a heading, a sentence, and what to do next.
pub struct ErrorPage<'a> {
    /// The status the page is answered with (and shows).
    pub status: StatusCode,
    /// The page's heading and title.
    pub heading: &'a str,
    /// What happened, in a sentence.
    pub sentence: &'a str,
    /// A technical detail for whoever must fix it (the OIDC client's developers), shown as code.
    pub detail: Option<&'a str>,
    /// Where to go on, as a button: `(address, label)`. Without one, the page links the portal.
    pub continue_to: Option<(&'a str, &'a str)>,
}

/// An error page in the request's language and the organisation's look: the status, the
/// heading, the sentence, the way on, and the request id to quote to support.
pub fn error_page(look: &Look<'_>, error: &ErrorPage<'_>, request_id: &str) -> Response<Bytes> {
    let t = error_texts::of(look.lang);
    let mut body = format!(
        "<p class=\"status\">{} {}</p><h1>{}</h1>",
        escape(t.error),
        error.status.as_u16(),
        escape(error.heading),
    );
    if !error.sentence.is_empty() {
        body.push_str(&format!("<p>{}</p>", escape(error.sentence)));
    }
    if let Some(detail) = error.detail {
        body.push_str(&format!(
            "<p>{}: <code>{}</code></p>",
            escape(t.detail),
            escape(detail)
        ));
    }
    let portal = look
        .login_origin
        .as_ref()
        .map(|origin| format!("{origin}/"));
    let way_on = error
        .continue_to
        .or_else(|| portal.as_deref().map(|href| (href, t.to_portal)));
    if let Some((href, label)) = way_on {
        body.push_str(&format!(
            "<p><a class=\"button\" href=\"{}\">{}</a></p>",
            escape(href),
            escape(label)
        ));
    }
    body.push_str(&format!(
        "<p class=\"request-id\">{}: <code>{}</code></p>",
        escape(t.request_id),
        escape(request_id)
    ));
    let mut response = html_response(error.status, page(look, error.heading, &body));
    let images = match (&look.logo_src, &look.login_origin) {
        (None, _) => String::new(),
        (Some(_), Some(origin)) => format!(" img-src {origin};"),
        (Some(_), None) => " img-src 'self';".to_string(),
    };
    let policy = format!(
        "default-src 'none'; style-src 'unsafe-inline';{images} frame-ancestors 'none'; base-uri 'none'"
    );
    if let Ok(value) = HeaderValue::from_str(&policy) {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, value);
    }
    response
}

/// An HTML response that is never cached.
pub fn html_response(status: StatusCode, body: String) -> Response<Bytes> {
    let mut response = Response::new(Bytes::from(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
        ),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn error_page_carries_status_and_escaped_id() {
        let theme = crate::config::theme::Theme::default();
        let look = Look::login_host(crate::config::lang::Lang::En, &theme);
        let page = error_page(
            &look,
            &ErrorPage {
                status: StatusCode::BAD_GATEWAY,
                heading: "Bad gateway",
                sentence: "The app did not answer.",
                detail: Some("<x>"),
                continue_to: None,
            },
            "<id>",
        );
        assert_eq!(page.status(), StatusCode::BAD_GATEWAY);
        let text = String::from_utf8(page.body().to_vec()).unwrap();
        assert!(text.contains("&lt;id&gt;") && text.contains("<h1>Bad gateway</h1>"));
        assert!(text.contains("<code>&lt;x&gt;</code>") && text.contains("Error 502"));
        let csp = page.headers()[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap();
        assert!(!csp.contains("img-src"), "no logo, no images: {csp}");
    }
}
