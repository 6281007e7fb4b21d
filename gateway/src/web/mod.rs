//! The small web layer that every handler of a request shares, and that reaches nothing above
//! it: the request's facts and the answer to its failure, HTML escaping and pages, cookies, the
//! anti-forgery check, the device a request came from, the pages' texts in each language,
//! redirects and URL pieces.
//! `login_host` bundles it with the state for one request on the login host.
//!
//! ```text
//! pipeline ─┬─▶ portal ─────┐
//!           ├─▶ oidc ───────┤
//!           ├─▶ handover ───┼─▶ web (context, error, html, pages, cookies, csrf,
//!           └─▶ forward_auth┘        device, reply, url, texts)
//! ```

pub mod context;
pub mod cookies;
pub mod csrf;
pub mod device;
pub mod error;
pub mod html;
pub mod pages;
pub mod reply;
pub mod texts;
pub mod url;
