//! The login host speaks German and English. The language is the one the person chose with the
//! switch on the page (`?lang=`), else the first of their browser's `Accept-Language` that we
//! speak, else the configured default. Every text of the pages is in [`Texts`], one table per
//! language, so a missing translation is a compile error rather than a blank on the page.

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

    /// The texts of the pages in this language.
    pub fn texts(self) -> &'static Texts {
        match self {
            Self::En => &EN,
            Self::De => &DE,
        }
    }
}

/// A quality value `0.8` as thousandths; malformed values count as 0 (not acceptable).
fn parse_quality(q: &str) -> u16 {
    q.parse::<f32>()
        .ok()
        .filter(|v| (0.0..=1.0).contains(v))
        .map_or(0, |v| (v * 1000.0).round() as u16)
}

/// Every text of the login host's pages.
#[derive(Debug)]
pub struct Texts {
    /// Heading and title of the login page.
    pub sign_in: &'static str,
    /// The sentence under the heading.
    pub sign_in_intro: &'static str,
    /// Label of the user name field.
    pub username: &'static str,
    /// Label of the password field.
    pub password: &'static str,
    /// The submit button.
    pub submit: &'static str,
    /// Wrong user name or password (the same for both, and for disabled accounts).
    pub bad_credentials: &'static str,
    /// A field left empty.
    pub field_required: &'static str,
    /// Too many failed attempts: wait.
    pub throttled: &'static str,
    /// The directory cannot be reached.
    pub directory_unavailable: &'static str,
    /// The form was too old or not ours (CSRF check failed).
    pub form_expired: &'static str,
    /// Label of the language switch.
    pub language: &'static str,
    /// Heading of the portal.
    pub your_apps: &'static str,
    /// Greeting on the portal, before the person's name.
    pub signed_in_as: &'static str,
    /// The portal has no app for this person.
    pub no_apps: &'static str,
    /// The logout button.
    pub sign_out: &'static str,
    /// Heading after logout.
    pub signed_out: &'static str,
    /// Sentence after logout.
    pub signed_out_intro: &'static str,
    /// Link back to the login page.
    pub sign_in_again: &'static str,
    /// Label of the error summary.
    pub error: &'static str,
    /// Heading when an app asks to end the session and nothing proves the app sent the person.
    pub confirm_sign_out: &'static str,
    /// The sentence under it.
    pub confirm_sign_out_intro: &'static str,
}

const EN: Texts = Texts {
    sign_in: "Sign in",
    sign_in_intro: "Sign in once with your work account to use every app of your workplace.",
    username: "User name",
    password: "Password",
    submit: "Sign in",
    bad_credentials: "The user name or the password is not correct.",
    field_required: "Please fill in this field.",
    throttled: "Too many failed attempts. Please wait a moment and try again.",
    directory_unavailable: "The user directory cannot be reached right now. Please try again in a moment.",
    form_expired: "This form has expired. Please sign in again.",
    language: "Language",
    your_apps: "Your apps",
    signed_in_as: "Signed in as",
    no_apps: "There is no app for you here yet. If you need one, ask your administrator.",
    sign_out: "Sign out",
    signed_out: "You are signed out",
    signed_out_intro: "You are signed out of every app of your workplace.",
    sign_in_again: "Sign in again",
    error: "Error",
    confirm_sign_out: "Sign out of every app?",
    confirm_sign_out_intro: "An app asks to sign you out. This ends your session in every app of your workplace.",
};

const DE: Texts = Texts {
    sign_in: "Anmelden",
    sign_in_intro: "Melden Sie sich einmal mit Ihrem Dienstkonto an, um alle Anwendungen Ihres Arbeitsplatzes zu nutzen.",
    username: "Benutzername",
    password: "Passwort",
    submit: "Anmelden",
    bad_credentials: "Benutzername oder Passwort ist nicht korrekt.",
    field_required: "Bitte füllen Sie dieses Feld aus.",
    throttled: "Zu viele Fehlversuche. Bitte warten Sie einen Moment und versuchen Sie es erneut.",
    directory_unavailable: "Das Benutzerverzeichnis ist gerade nicht erreichbar. Bitte versuchen Sie es gleich noch einmal.",
    form_expired: "Dieses Formular ist abgelaufen. Bitte melden Sie sich erneut an.",
    language: "Sprache",
    your_apps: "Ihre Anwendungen",
    signed_in_as: "Angemeldet als",
    no_apps: "Für Sie gibt es hier noch keine Anwendung. Wenn Sie eine brauchen, wenden Sie sich an Ihre Administration.",
    sign_out: "Abmelden",
    signed_out: "Sie sind abgemeldet",
    signed_out_intro: "Sie sind von allen Anwendungen Ihres Arbeitsplatzes abgemeldet.",
    sign_in_again: "Erneut anmelden",
    error: "Fehler",
    confirm_sign_out: "Von allen Anwendungen abmelden?",
    confirm_sign_out_intro: "Eine Anwendung möchte Sie abmelden. Damit endet Ihre Sitzung in allen Anwendungen Ihres Arbeitsplatzes.",
};

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
    }

    #[test]
    fn both_languages_say_different_things() {
        assert_ne!(Lang::De.texts().sign_in, Lang::En.texts().sign_in);
        assert_eq!(Lang::from_tag("DE-ch"), Some(Lang::De));
    }
}
