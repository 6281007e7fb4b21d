//! The small web layer that every handler of a request shares, and that reaches nothing above
//! it: the request's facts and the answer to its failure, HTML escaping, the pages and their
//! building blocks (`blocks`, `passkey_form`), cookies, the anti-forgery check, the device a
//! request came from, the pages' language and look, their texts in each language (the login
//! host's in `texts`, the error pages' in `error_texts`, the second-factor pages' in
//! `factor_texts`, the passkey ceremonies' in `passkey_texts`, the device verification page's
//! in `device_grant_texts`), posted forms, redirects and URL pieces, and the HSTS header of
//! every HTTPS answer (`hsts`).
//! `login_host` bundles it with the state for one request on the login host.
//!
//! ```text
//! pipeline ─┬─▶ portal ─────┐
//!           ├─▶ oidc ───────┤
//!           ├─▶ handover ───┼─▶ web (context, error, html, look, blocks, pages, factor_pages,
//!           └─▶ forward_auth┘        device_grant_pages, passkey_form, cookies, csrf, device,
//!                                    form, reply, url, texts, error_texts, factor_texts,
//!                                    passkey_texts, device_grant_texts)
//! ```

pub mod blocks;
pub mod client;
pub mod context;
pub mod cookies;
pub mod csrf;
pub mod device;
pub mod device_grant_pages;
pub mod device_grant_texts;
pub mod error;
pub mod error_texts;
pub mod factor_pages;
pub mod factor_texts;
pub mod form;
pub mod hsts;
pub mod html;
pub mod look;
pub mod pages;
pub mod passkey_form;
pub mod passkey_texts;
pub mod reply;
pub mod texts;
pub mod url;
