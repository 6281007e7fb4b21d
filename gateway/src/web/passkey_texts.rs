//! The texts of passkey ceremonies: what the browser script says when the browser refuses
//! (given to it as `data-msg-*` attributes), and the refusals the login host answers its JSON
//! requests with. One table per language, so a missing translation is a compile error.

use crate::config::lang::Lang;

/// The passkey texts in `lang`.
pub fn of(lang: Lang) -> &'static PasskeyTexts {
    match lang {
        Lang::En => &EN,
        Lang::De => &DE,
    }
}

/// Every passkey text.
#[derive(Debug)]
pub struct PasskeyTexts {
    /// The name a new passkey gets when the person gives none.
    pub default_name: &'static str,
    /// The browser cannot use passkeys.
    pub unsupported: &'static str,
    /// The person cancelled, or the browser's dialog timed out.
    pub cancelled: &'static str,
    /// The authenticator is registered already.
    pub exists: &'static str,
    /// The browser refuses passkeys on this address.
    pub insecure: &'static str,
    /// Anything else.
    pub failed: &'static str,
    /// Not logged in (any more).
    pub no_session: &'static str,
    /// A person with a second factor must use it before adding another.
    pub step_up_first: &'static str,
    /// A first factor needs a recent login.
    pub login_again: &'static str,
    /// The ceremony is unknown or expired (or was answered already).
    pub expired: &'static str,
    /// The answer was refused.
    pub refused: &'static str,
    /// The answer is not a WebAuthn credential, or too large.
    pub malformed: &'static str,
    /// The person has no passkey to use.
    pub no_passkey: &'static str,
    /// Passkeys are not offered here (or passwordless logins are off).
    pub unavailable: &'static str,
    /// Too many factors of this kind.
    pub too_many: &'static str,
}

static EN: PasskeyTexts = PasskeyTexts {
    default_name: "Passkey",
    unsupported: "This browser cannot use passkeys.",
    cancelled: "The passkey request was cancelled or timed out.",
    exists: "This passkey or security key is already registered.",
    insecure: "Passkeys cannot be used on this address.",
    failed: "The passkey could not be used. Please try again.",
    no_session: "You are no longer signed in. Please sign in again.",
    step_up_first: "Confirm it is you with your second factor first, then add another one.",
    login_again: "For your first factor, please sign in again first (your sign-in is older than five minutes).",
    expired: "The passkey request has expired. Please try again.",
    refused: "This passkey was not accepted.",
    malformed: "The browser's answer was not a passkey answer.",
    no_passkey: "You have no passkey registered.",
    unavailable: "Passkeys are not available here.",
    too_many: "You have too many passkeys. Remove one first.",
};

static DE: PasskeyTexts = PasskeyTexts {
    default_name: "Passkey",
    unsupported: "Dieser Browser kann keine Passkeys verwenden.",
    cancelled: "Die Passkey-Anfrage wurde abgebrochen oder ist abgelaufen.",
    exists: "Dieser Passkey oder Sicherheitsschlüssel ist bereits registriert.",
    insecure: "Auf dieser Adresse können keine Passkeys verwendet werden.",
    failed: "Der Passkey konnte nicht verwendet werden. Bitte versuchen Sie es erneut.",
    no_session: "Sie sind nicht mehr angemeldet. Bitte melden Sie sich erneut an.",
    step_up_first: "Bestätigen Sie zuerst mit Ihrem zweiten Faktor, dass Sie es sind, und fügen Sie dann einen weiteren hinzu.",
    login_again: "Für Ihren ersten Faktor melden Sie sich bitte zuerst erneut an (Ihre Anmeldung ist älter als fünf Minuten).",
    expired: "Die Passkey-Anfrage ist abgelaufen. Bitte versuchen Sie es erneut.",
    refused: "Dieser Passkey wurde nicht angenommen.",
    malformed: "Die Antwort des Browsers war keine Passkey-Antwort.",
    no_passkey: "Sie haben keinen Passkey registriert.",
    unavailable: "Passkeys sind hier nicht verfügbar.",
    too_many: "Sie haben zu viele Passkeys. Entfernen Sie zuerst einen.",
};
