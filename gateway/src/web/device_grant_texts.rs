//! The texts of the device verification page (RFC 8628: a person enters a device's user code
//! and approves it), one table per language like [`super::texts`], so a missing translation is
//! a compile error. `{code}`, `{app}` and `{person}` are filled in by the page, escaped.

use crate::config::lang::Lang;

/// The texts of the device verification page in `lang`.
pub fn of(lang: Lang) -> &'static DeviceGrantTexts {
    match lang {
        Lang::En => &EN,
        Lang::De => &DE,
    }
}

/// Every text of the device verification page.
#[derive(Debug)]
pub struct DeviceGrantTexts {
    /// Heading of the page that asks for the code.
    pub enter_code: &'static str,
    /// The sentence under it.
    pub enter_code_intro: &'static str,
    /// Label of the code field.
    pub code: &'static str,
    /// Hint under the code field.
    pub code_hint: &'static str,
    /// The button that looks the code up.
    pub continue_: &'static str,
    /// A typed text that cannot be a code.
    pub malformed: &'static str,
    /// A code that names no device waiting for a decision.
    pub unknown: &'static str,
    /// The form was too old or not ours.
    pub form_expired: &'static str,
    /// Heading of the confirmation.
    pub confirm: &'static str,
    /// Who asks for what (`{code}`, `{app}`, `{person}`).
    pub confirm_intro: &'static str,
    /// Before the list of what the device gets.
    pub receives: &'static str,
    /// `openid`.
    pub scope_openid: &'static str,
    /// `profile`.
    pub scope_profile: &'static str,
    /// `email`.
    pub scope_email: &'static str,
    /// `groups`.
    pub scope_groups: &'static str,
    /// `offline_access`.
    pub scope_offline_access: &'static str,
    /// The warning against approving someone else's device.
    pub caution: &'static str,
    /// The approve button.
    pub approve: &'static str,
    /// The deny button.
    pub deny: &'static str,
    /// Heading after approval.
    pub approved: &'static str,
    /// The sentence under it (`{app}`).
    pub approved_intro: &'static str,
    /// Heading after a denial.
    pub denied: &'static str,
    /// The sentence under it.
    pub denied_intro: &'static str,
    /// Heading when the app's access rules refuse the person.
    pub not_allowed: &'static str,
    /// The sentence under it (`{app}`).
    pub not_allowed_intro: &'static str,
    /// Link back to the portal.
    pub back_to_portal: &'static str,
}

static EN: DeviceGrantTexts = DeviceGrantTexts {
    enter_code: "Connect a device",
    enter_code_intro: "Enter the code your device shows, for example on the screen of a meeting room or in a terminal.",
    code: "Code from the device",
    code_hint: "Eight letters, such as WDJB-MJHT. Upper or lower case, with or without the dash.",
    continue_: "Continue",
    malformed: "This is not a device code: a device code has eight letters, such as WDJB-MJHT.",
    unknown: "This code is wrong, already used or expired. Check the code on your device; if it has expired, start the sign-in on the device again.",
    form_expired: "This form has expired. Please enter the code again.",
    confirm: "Sign in a device?",
    confirm_intro: "The device showing the code {code} asks to use {app} as {person}.",
    receives: "If you approve, the device gets:",
    scope_openid: "who you are (your account's identifier)",
    scope_profile: "your name and user name",
    scope_email: "your email address",
    scope_groups: "the groups you belong to",
    scope_offline_access: "to stay signed in until you sign out",
    caution: "Approve only a device you are at and whose sign-in you started yourself. Nobody, not even IT support, will ask you for this code.",
    approve: "Approve",
    deny: "Deny",
    approved: "Device signed in",
    approved_intro: "{app} on the device is signed in with your account. You can return to the device now.",
    denied: "Device not signed in",
    denied_intro: "You denied the request. The device was not signed in.",
    not_allowed: "Not allowed",
    not_allowed_intro: "The access rules of {app} do not allow your account. The device was not signed in.",
    back_to_portal: "Back to your apps",
};

static DE: DeviceGrantTexts = DeviceGrantTexts {
    enter_code: "Gerät verbinden",
    enter_code_intro: "Geben Sie den Code ein, den Ihr Gerät anzeigt, zum Beispiel auf dem Bildschirm eines Besprechungsraums oder in einem Terminal.",
    code: "Code vom Gerät",
    code_hint: "Acht Buchstaben, etwa WDJB-MJHT. Groß- oder Kleinschreibung und Bindestrich sind egal.",
    continue_: "Weiter",
    malformed: "Das ist kein Gerätecode: Ein Gerätecode besteht aus acht Buchstaben, etwa WDJB-MJHT.",
    unknown: "Dieser Code ist falsch, schon verwendet oder abgelaufen. Prüfen Sie den Code auf Ihrem Gerät; ist er abgelaufen, starten Sie die Anmeldung am Gerät neu.",
    form_expired: "Dieses Formular ist abgelaufen. Bitte geben Sie den Code erneut ein.",
    confirm: "Gerät anmelden?",
    confirm_intro: "Das Gerät mit dem Code {code} möchte {app} als {person} nutzen.",
    receives: "Wenn Sie zustimmen, erhält das Gerät:",
    scope_openid: "wer Sie sind (die Kennung Ihres Kontos)",
    scope_profile: "Ihren Namen und Benutzernamen",
    scope_email: "Ihre E-Mail-Adresse",
    scope_groups: "die Gruppen, denen Sie angehören",
    scope_offline_access: "angemeldet zu bleiben, bis Sie sich abmelden",
    caution: "Stimmen Sie nur für ein Gerät zu, vor dem Sie stehen und dessen Anmeldung Sie selbst gestartet haben. Niemand, auch nicht der IT-Support, wird Sie nach diesem Code fragen.",
    approve: "Zustimmen",
    deny: "Ablehnen",
    approved: "Gerät angemeldet",
    approved_intro: "{app} ist auf dem Gerät mit Ihrem Konto angemeldet. Sie können jetzt zum Gerät zurückkehren.",
    denied: "Gerät nicht angemeldet",
    denied_intro: "Sie haben die Anfrage abgelehnt. Das Gerät wurde nicht angemeldet.",
    not_allowed: "Nicht erlaubt",
    not_allowed_intro: "Die Zugriffsregeln von {app} lassen Ihr Konto nicht zu. Das Gerät wurde nicht angemeldet.",
    back_to_portal: "Zurück zu Ihren Anwendungen",
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_languages_fill_in_the_same_places() {
        for (en, de) in [
            (EN.confirm_intro, DE.confirm_intro),
            (EN.approved_intro, DE.approved_intro),
            (EN.not_allowed_intro, DE.not_allowed_intro),
        ] {
            for place in ["{code}", "{app}", "{person}"] {
                assert_eq!(
                    en.contains(place),
                    de.contains(place),
                    "{place}: {en} / {de}"
                );
            }
        }
        assert_ne!(EN.approve, DE.approve);
    }
}
