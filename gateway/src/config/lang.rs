//! The login host speaks German and English: the language value, which the config's default and
//! every page use. The language is the one the person chose with the switch on the page
//! (`?lang=`), else the first of their browser's `Accept-Language` that we speak, else the
//! configured default. The pages' texts are in `web::texts`.

/// A language of the login host's pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// English.
    En,
    /// German.
    De,
}

impl Lang {
    /// Every language, in the order of the language switch.
    pub const ALL: [Lang; 2] = [Lang::De, Lang::En];

    /// The BCP 47 tag (`lang` attribute, `?lang=` value).
    pub fn tag(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::De => "de",
        }
    }

    /// The language for a tag like `de`, `de-AT` or `EN-gb`.
    pub fn from_tag(tag: &str) -> Option<Self> {
        let primary = tag.split(['-', '_']).next()?.trim();
        if primary.eq_ignore_ascii_case("de") {
            Some(Self::De)
        } else if primary.eq_ignore_ascii_case("en") {
            Some(Self::En)
        } else {
            None
        }
    }

    /// The language of a request: the explicit choice, else the browser's preference (by
    /// quality), else `default`.
    pub fn negotiate(choice: Option<&str>, accept_language: Option<&str>, default: Lang) -> Lang {
        if let Some(lang) = choice.and_then(Self::from_tag) {
            return lang;
        }
        let Some(header) = accept_language else {
            return default;
        };
        let mut best: Option<(Lang, u16)> = None;
        for item in header.split(',').take(16) {
            let mut parts = item.split(';');
            let tag = parts.next().unwrap_or_default().trim();
            let quality = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .map_or(1000, parse_quality);
            if let Some(lang) = Self::from_tag(tag)
                && quality > 0
                && best.is_none_or(|(_, q)| quality > q)
            {
                best = Some((lang, quality));
            }
        }
        best.map_or(default, |(lang, _)| lang)
    }
}

/// A quality value `0.8` as thousandths; malformed values count as 0 (not acceptable).
fn parse_quality(q: &str) -> u16 {
    q.parse::<f32>()
        .ok()
        .filter(|v| (0.0..=1.0).contains(v))
        .map_or(0, |v| (v * 1000.0).round() as u16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choice_beats_browser_beats_default() {
        assert_eq!(Lang::negotiate(Some("de"), Some("en"), Lang::En), Lang::De);
        assert_eq!(
            Lang::negotiate(Some("fr"), Some("de-AT,en;q=0.5"), Lang::En),
            Lang::De
        );
        assert_eq!(
            Lang::negotiate(None, Some("fr, en;q=0.3, de;q=0.7"), Lang::En),
            Lang::De
        );
        assert_eq!(
            Lang::negotiate(None, Some("fr, de;q=0"), Lang::En),
            Lang::En
        );
        assert_eq!(Lang::negotiate(None, Some("en-GB"), Lang::De), Lang::En);
        assert_eq!(Lang::negotiate(None, None, Lang::De), Lang::De);
        assert_eq!(Lang::negotiate(None, Some(";;;,q=x,"), Lang::De), Lang::De);
        assert_eq!(Lang::from_tag("DE-ch"), Some(Lang::De));
    }
}
