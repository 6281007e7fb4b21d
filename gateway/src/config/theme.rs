//! The organisation's look on the login host: its product name, its logo and its colour. The
//! colour is checked for contrast when the config loads (WCAG 2.x: at least 4.5:1 for white
//! button text on it and for it as link text on white), so a theme cannot make the login page
//! unreadable.

use bytes::Bytes;

/// The least contrast ratio WCAG AA asks of normal text.
pub const MIN_CONTRAST: f64 = 4.5;

/// An sRGB colour written `#rrggbb`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Color([u8; 3]);

impl Color {
    /// Parses `#rrggbb`; the error says how to write one.
    pub fn parse(text: &str) -> Result<Self, String> {
        let hex = text
            .strip_prefix('#')
            .filter(|h| h.len() == 6 && h.bytes().all(|b| b.is_ascii_hexdigit()))
            .ok_or_else(|| format!("{text:?} is not a colour; write it like \"#0b57d0\""))?;
        let channel = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).unwrap_or(0);
        Ok(Self([channel(0), channel(2), channel(4)]))
    }

    /// Relative luminance (WCAG 2.x definition).
    fn luminance(self) -> f64 {
        let linear = |c: u8| {
            let c = f64::from(c) / 255.0;
            if c <= 0.039_28 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        };
        let [r, g, b] = self.0;
        0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b)
    }

    /// The contrast ratio between this colour and white, from 1 to 21.
    pub fn contrast_with_white(self) -> f64 {
        1.05 / (self.luminance() + 0.05)
    }

    /// `#rrggbb`, for the style sheet.
    pub fn css(self) -> String {
        let [r, g, b] = self.0;
        format!("#{r:02x}{g:02x}{b:02x}")
    }
}

/// A logo served by the login host itself at `route::LOGO_PATH`, so no page loads anything from
/// another site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logo {
    /// The image.
    pub bytes: Bytes,
    /// Its media type (`image/svg+xml`, `image/png`, `image/webp`).
    pub content_type: &'static str,
}

impl Logo {
    /// The media type for a logo file name, by its extension.
    pub fn content_type_for(file_name: &str) -> Option<&'static str> {
        let ext = file_name.rsplit_once('.')?.1.to_ascii_lowercase();
        match ext.as_str() {
            "svg" => Some("image/svg+xml"),
            "png" => Some("image/png"),
            "webp" => Some("image/webp"),
            _ => None,
        }
    }
}

/// The look of the login host's pages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Theme {
    /// The name in titles and headings.
    pub product_name: String,
    /// Buttons and links.
    pub primary: Color,
    /// The logo, if the organisation has one.
    pub logo: Option<Logo>,
}

impl Default for Theme {
    fn default() -> Self {
        Self {
            product_name: "Pforte".into(),
            primary: Color([0x0b, 0x57, 0xd0]),
            logo: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_parse_and_contrast_is_measured() {
        let blue = Color::parse("#0b57d0").unwrap();
        assert_eq!(blue.css(), "#0b57d0");
        assert!(blue.contrast_with_white() >= MIN_CONTRAST);
        assert!((Color::parse("#000000").unwrap().contrast_with_white() - 21.0).abs() < 0.01);
        assert!(Color::parse("#ffff00").unwrap().contrast_with_white() < MIN_CONTRAST);
        for bad in ["0b57d0", "#0b57d", "#0b57dz", "blue", "#0b57d0ff"] {
            assert!(Color::parse(bad).is_err(), "{bad}");
        }
        assert!(Theme::default().primary.contrast_with_white() >= MIN_CONTRAST);
    }

    #[test]
    fn logo_types_come_from_the_extension() {
        assert_eq!(Logo::content_type_for("logo.SVG"), Some("image/svg+xml"));
        assert_eq!(Logo::content_type_for("logo.png"), Some("image/png"));
        assert_eq!(Logo::content_type_for("logo.gif"), None);
        assert_eq!(Logo::content_type_for("logo"), None);
    }
}
