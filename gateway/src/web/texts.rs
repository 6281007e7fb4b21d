//! Every text of the login host's pages, one table per language, so a missing translation is a
//! compile error rather than a blank on the page.

use crate::config::lang::Lang;

/// The texts of the pages in `lang`.
pub fn of(lang: Lang) -> &'static Texts {
    match lang {
        Lang::En => &EN,
        Lang::De => &DE,
    }
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
    /// Before a partner provider's name on its button.
    pub sign_in_with: &'static str,
    /// The heading of the partner providers' buttons.
    pub partner_logins: &'static str,
    /// A partner's provider cannot be reached.
    pub partner_unreachable: &'static str,
    /// A partner's provider's answer was refused (state, issuer, token checks).
    pub partner_failed: &'static str,
    /// The partner account may not log in here (unmapped, unverified, no such person).
    pub partner_refused: &'static str,
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
    sign_in_with: "Log in with",
    partner_logins: "Partner organisations",
    partner_unreachable: "The login service of the partner organisation cannot be reached right now. Please try again in a moment, or log in with your password.",
    partner_failed: "The login at the partner organisation could not be completed safely. Please start again.",
    partner_refused: "Your account at the partner organisation may not log in here. Ask your contact person for access.",
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
    sign_in_with: "Anmelden mit",
    partner_logins: "Partnerorganisationen",
    partner_unreachable: "Der Anmeldedienst der Partnerorganisation ist gerade nicht erreichbar. Bitte versuchen Sie es gleich noch einmal oder melden Sie sich mit Ihrem Passwort an.",
    partner_failed: "Die Anmeldung bei der Partnerorganisation konnte nicht sicher abgeschlossen werden. Bitte beginnen Sie erneut.",
    partner_refused: "Ihr Konto bei der Partnerorganisation darf sich hier nicht anmelden. Bitten Sie Ihre Ansprechperson um Zugang.",
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
    fn both_languages_say_different_things() {
        assert_ne!(of(Lang::De).sign_in, of(Lang::En).sign_in);
    }
}
