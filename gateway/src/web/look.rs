//! How the gateway's own pages look for one request: the language they speak and the
//! organisation's theme. The login host's pages and every error page take their language from
//! [`language`], so a person reads the 403 in the language the login form spoke to them.
//!
//! ```text
//! config (portal.default_language, portal.theme) ─┐
//! request (?lang=, Accept-Language) ──────────────┴─▶ Look { lang, theme, logo } ─▶ html, pages
//! ```

use crate::config::Config;
use crate::config::lang::Lang;
use crate::config::theme::Theme;
use crate::route::LOGO_PATH;
use crate::web::url::port_suffix;

/// The language of a page: `choice` (the `?lang=` of the language switch), else the first of the
/// browser's `Accept-Language` that we speak, else the configured default. The one place this is
/// decided; the login host ([`crate::login_host::LoginHost::language`]) and the error pages both
/// ask here. (Pforte keeps no language cookie: the switch carries the choice in the URL.)
pub fn language(config: &Config, choice: Option<&str>, accept_language: Option<&str>) -> Lang {
    Lang::negotiate(choice, accept_language, config.portal.default_language)
}

/// The language and look of one page.
#[derive(Debug, Clone)]
pub struct Look<'a> {
    /// The page's language.
    pub lang: Lang,
    /// The organisation's name, colour and logo.
    pub theme: &'a Theme,
    /// Where the page loads the logo from, when the theme has one: the login host serves it, so
    /// a page on an app host names the login host's full address.
    pub logo_src: Option<String>,
    /// The login host's origin (`https://login.example.org[:port]`): the portal link on error
    /// pages, and the only origin their images may come from.
    pub login_origin: Option<String>,
}

impl<'a> Look<'a> {
    /// The look of an error page for a request, with the loaded config's theme.
    pub fn of(config: &'a Config, choice: Option<&str>, accept_language: Option<&str>) -> Self {
        let origin = format!(
            "https://{}{}",
            config.portal_host,
            port_suffix(config.server.public_https_port)
        );
        Self {
            lang: language(config, choice, accept_language),
            theme: &config.portal.theme,
            logo_src: config
                .portal
                .theme
                .logo
                .as_ref()
                .map(|_| format!("{origin}{LOGO_PATH}")),
            login_origin: Some(origin),
        }
    }

    /// The look of a page of the login host itself: the logo from the same origin.
    pub fn login_host(lang: Lang, theme: &'a Theme) -> Self {
        Self {
            lang,
            theme,
            logo_src: theme.logo.as_ref().map(|_| LOGO_PATH.to_string()),
            login_origin: None,
        }
    }
}
