//! The small HTML pages the gateway answers with itself. They name what happened in words a
//! person understands and carry the request id for support, nothing internal.

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};

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

/// An error page: status, a heading, a sentence, and the request id.
pub fn error_page(
    status: StatusCode,
    heading: &str,
    sentence: &str,
    request_id: &str,
) -> Response<Bytes> {
    let body = html_page(
        heading,
        &format!(
            "<h1>{}</h1><p>{}</p><p>Request id: <code>{}</code></p>",
            escape(heading),
            escape(sentence),
            escape(request_id)
        ),
    );
    html_response(status, body)
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
        let page = error_page(
            StatusCode::BAD_GATEWAY,
            "Bad gateway",
            "The app did not answer.",
            "<id>",
        );
        assert_eq!(page.status(), StatusCode::BAD_GATEWAY);
        let text = String::from_utf8(page.body().to_vec()).unwrap();
        assert!(text.contains("&lt;id&gt;") && text.contains("<h1>Bad gateway</h1>"));
    }
}
