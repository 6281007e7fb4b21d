//! `[portal]`: the login host, the parent domain its session cookie may cover, and the pages'
//! language and look.
//!
//! ```toml
//! [portal]
//! host = "login.example.org"
//! cookie_domain = "example.org"
//! default_language = "de"
//! [portal.theme]
//! product_name = "Arbeitsplatz"
//! primary_color = "#0b5394"
//! logo = "logo.svg"
//! ```

use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use super::apps::is_valid_host;
use super::error::Report;
use crate::config::lang::Lang;
use crate::config::theme::{Color, Logo, MIN_CONTRAST, Theme};

/// `[portal]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortalSection {
    /// The login host's name, e.g. `login.example.org`.
    pub host: Spanned<String>,
    /// A parent domain of the login host and the app hosts (`example.org`): the session cookie is
    /// also set for it, so app hosts under it need no hand-over.
    pub cookie_domain: Option<Spanned<String>>,
    /// `de` or `en`: the pages' language when the browser names neither.
    pub default_language: Option<Spanned<String>>,
    /// The organisation's look.
    #[serde(default)]
    pub theme: ThemeSection,
}

/// `[portal.theme]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThemeSection {
    /// The name in titles and headings.
    pub product_name: Option<String>,
    /// Buttons and links, `#rrggbb`.
    pub primary_color: Option<Spanned<String>>,
    /// An SVG, PNG or WebP file, relative to this file's folder.
    pub logo: Option<Spanned<PathBuf>>,
}

/// The login host's pages.
#[derive(Debug, Clone, PartialEq)]
pub struct Portal {
    /// The parent domain the session cookie is also set for, if any.
    pub cookie_domain: Option<String>,
    /// The language when the browser names none we speak.
    pub default_language: Lang,
    /// The look.
    pub theme: Theme,
}

/// A logo is shown small; a large file is a mistake, not a logo.
const MAX_LOGO_BYTES: usize = 512 * 1024;

impl PortalSection {
    /// The login host, lower case; it must be a DNS host name.
    pub fn host(&self, report: &mut Report) -> String {
        let host = self.host.get_ref().to_ascii_lowercase();
        if !is_valid_host(&host) {
            report.at(
                self.host.span(),
                "portal.host",
                format!("{host:?} is not a host name"),
            );
        }
        host
    }

    /// The pages' settings, checked: a known language, a readable colour, a logo of a type
    /// browsers show, a cookie domain above the login host.
    pub fn validate(&self, base: &Path, report: &mut Report) -> Portal {
        Portal {
            default_language: self.default_language(report),
            theme: self.theme.validate(base, report),
            cookie_domain: self.cookie_domain(report),
        }
    }

    fn default_language(&self, report: &mut Report) -> Lang {
        let Some(tag) = &self.default_language else {
            return Lang::En;
        };
        Lang::from_tag(tag.get_ref()).unwrap_or_else(|| {
            report.at(
                tag.span(),
                "portal.default_language",
                format!(
                    "{:?} is not a language of the pages; use \"de\" or \"en\"",
                    tag.get_ref()
                ),
            );
            Lang::En
        })
    }

    /// The cookie domain without a leading dot, in lower case; it must be a parent domain
    /// (with a dot) of the login host, or the login host itself.
    fn cookie_domain(&self, report: &mut Report) -> Option<String> {
        let domain = self.cookie_domain.as_ref()?;
        let login_host = self.host.get_ref().to_ascii_lowercase();
        let lower = domain
            .get_ref()
            .trim_start_matches('.')
            .to_ascii_lowercase();
        let covers_login_host = login_host == lower || login_host.ends_with(&format!(".{lower}"));
        if !is_valid_host(&lower) || !lower.contains('.') {
            report.at(
                domain.span(),
                "portal.cookie_domain",
                format!("{lower:?} is not a parent domain like \"example.org\""),
            );
            None
        } else if !covers_login_host {
            report.at(
                domain.span(),
                "portal.cookie_domain",
                format!("the login host {login_host} is not under {lower}"),
            );
            None
        } else {
            Some(lower)
        }
    }
}

impl ThemeSection {
    /// The look: the defaults, with what the section sets over them.
    pub fn validate(&self, base: &Path, report: &mut Report) -> Theme {
        let mut theme = Theme::default();
        if let Some(name) = &self.product_name {
            theme.product_name = name.clone();
        }
        if let Some(color) = self.primary_color(report) {
            theme.primary = color;
        }
        if let Some(logo) = self.logo(base, report) {
            theme.logo = Some(logo);
        }
        theme
    }

    /// The colour of buttons and links, if set; it must be readable on white.
    fn primary_color(&self, report: &mut Report) -> Option<Color> {
        let color = self.primary_color.as_ref()?;
        let key = "portal.theme.primary_color";
        match Color::parse(color.get_ref()) {
            Ok(c) if c.contrast_with_white() >= MIN_CONTRAST => return Some(c),
            Ok(c) => report.at(
                color.span(),
                key,
                format!(
                    "contrast with white is {:.1}:1, below the {MIN_CONTRAST}:1 that readable buttons and links need; choose a darker colour",
                    c.contrast_with_white()
                ),
            ),
            Err(message) => report.at(color.span(), key, message),
        }
        None
    }

    /// The logo file (resolved against `base`), if set: an SVG, PNG or WebP file of at most
    /// [`MAX_LOGO_BYTES`], read now so it is served from memory.
    fn logo(&self, base: &Path, report: &mut Report) -> Option<Logo> {
        let logo = self.logo.as_ref()?;
        let key = "portal.theme.logo";
        let path = base.join(logo.get_ref());
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        match (Logo::content_type_for(&name), std::fs::read(&path)) {
            (None, _) => report.at(
                logo.span(),
                key,
                "the logo must be an .svg, .png or .webp file",
            ),
            (_, Err(e)) => report.at(
                logo.span(),
                key,
                format!("cannot read {}: {e}", path.display()),
            ),
            (Some(content_type), Ok(bytes)) if bytes.len() <= MAX_LOGO_BYTES => {
                return Some(Logo {
                    bytes: bytes.into(),
                    content_type,
                });
            }
            (Some(_), Ok(_)) => report.at(
                logo.span(),
                key,
                format!("the logo is larger than {MAX_LOGO_BYTES} bytes"),
            ),
        }
        None
    }
}
