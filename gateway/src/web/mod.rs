//! The small web layer that every handler of a request shares, and that nothing in it reaches
//! above: the request's facts and the answer to its failure, HTML escaping and pages, cookies,
//! the anti-forgery check, the pages' texts in each language, redirects and URL pieces.
//!
//! ```text
//! pipeline ─┬─▶ portal ─────┐
//!           ├─▶ oidc ───────┤
//!           ├─▶ handover ───┼─▶ web (context, error, html, pages, cookies, csrf,
//!           └─▶ forward_auth┘        reply, url, host, texts)
//! ```

pub mod context;
pub mod cookies;
pub mod csrf;
pub mod error;
pub mod host;
pub mod html;
pub mod pages;
pub mod reply;
pub mod texts;
pub mod url;

pub use host::LoginHost;
