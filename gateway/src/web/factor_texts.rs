//! The texts of the second-factor pages (the step-up page, enrolment, the security page), one
//! table per language like [`super::texts`], so a missing translation is a compile error.

use crate::config::lang::Lang;

/// The texts of the second-factor pages in `lang`.
pub fn of(lang: Lang) -> &'static FactorTexts {
    match lang {
        Lang::En => &EN,
        Lang::De => &DE,
    }
}

/// Every text of the second-factor pages.
#[derive(Debug)]
pub struct FactorTexts {
    /// Heading of the step-up page.
    pub verify: &'static str,
    /// The sentence under it.
    pub verify_intro: &'static str,
    /// Label of the code field.
    pub code: &'static str,
    /// Hint under the code field.
    pub code_hint: &'static str,
    /// The button that checks a code.
    pub check: &'static str,
    /// The link or section for a recovery code.
    pub use_recovery: &'static str,
    /// Label of the recovery-code field.
    pub recovery_code: &'static str,
    /// A wrong or already used code.
    pub wrong_code: &'static str,
    /// A code that is not six digits, or a recovery code of the wrong shape.
    pub malformed_code: &'static str,
    /// A code already used in its window.
    pub replayed_code: &'static str,
    /// The passkey button on the step-up page.
    pub use_passkey: &'static str,
    /// The passwordless login button.
    pub sign_in_with_passkey: &'static str,
    /// Second factors are not set up on this gateway.
    pub unavailable: &'static str,
    /// After a recovery code: how many are left (the number follows).
    pub recovery_left: &'static str,
    /// Heading of the enrolment page.
    pub enrol: &'static str,
    /// The sentence under it.
    pub enrol_intro: &'static str,
    /// Why the person is asked to enrol now.
    pub enrol_required: &'static str,
    /// Text before the otpauth URI for people who type it in.
    pub enrol_manual: &'static str,
    /// Label of the factor's name field.
    pub factor_name: &'static str,
    /// The default name of an authenticator app.
    pub default_app_name: &'static str,
    /// The button that saves the new factor.
    pub save: &'static str,
    /// Label of the confirmation field (password or current code).
    pub confirm: &'static str,
    /// Hint under the confirmation field.
    pub confirm_hint: &'static str,
    /// A wrong confirmation.
    pub wrong_confirmation: &'static str,
    /// Heading of the page that shows new recovery codes.
    pub recovery_codes: &'static str,
    /// The sentence that says they are shown once.
    pub recovery_codes_intro: &'static str,
    /// The button that goes on after reading the codes.
    pub continue_: &'static str,
    /// Heading of the security page.
    pub security: &'static str,
    /// The sentence under it.
    pub security_intro: &'static str,
    /// Heading of the factor list.
    pub your_factors: &'static str,
    /// No factor yet.
    pub no_factors: &'static str,
    /// Kind name: authenticator app.
    pub kind_totp: &'static str,
    /// Kind name: passkey or security key.
    pub kind_passkey: &'static str,
    /// "added" before a date.
    pub added: &'static str,
    /// The remove button.
    pub remove: &'static str,
    /// The rename button.
    pub rename: &'static str,
    /// Add an authenticator app.
    pub add_totp: &'static str,
    /// Add a passkey.
    pub add_passkey: &'static str,
    /// Recovery codes left (the number follows).
    pub recovery_count: &'static str,
    /// Make new recovery codes.
    pub new_recovery_codes: &'static str,
    /// Heading of the session list.
    pub your_sessions: &'static str,
    /// Column: device.
    pub device: &'static str,
    /// Column: address.
    pub address: &'static str,
    /// Column: last use.
    pub last_used: &'static str,
    /// Column: strength of the login.
    pub strength: &'static str,
    /// Marks the session of this browser.
    pub this_session: &'static str,
    /// The button that ends a session.
    pub end_session: &'static str,
    /// An unknown device.
    pub unknown_device: &'static str,
    /// A saved change.
    pub saved: &'static str,
    /// Link to the security page from the portal.
    pub manage_security: &'static str,
    /// Link back to the portal.
    pub back_to_portal: &'static str,
    /// Passkeys need a browser with JavaScript.
    pub passkey_needs_script: &'static str,
}

static EN: FactorTexts = FactorTexts {
    verify: "Confirm it is you",
    verify_intro: "This app asks for a second factor. Enter the code your authenticator app shows, or use your passkey.",
    code: "Code from your authenticator app",
    code_hint: "Six digits; a new code appears every 30 seconds.",
    check: "Confirm",
    use_recovery: "Lost your phone or key? Use a recovery code",
    recovery_code: "Recovery code",
    wrong_code: "This code is not right, or it was already used. Wait for the next one and try again.",
    malformed_code: "A code from the app is six digits; a recovery code has sixteen characters.",
    replayed_code: "This code was already used. Wait for the next one.",
    use_passkey: "Use a passkey or security key",
    sign_in_with_passkey: "Sign in with a passkey",
    unavailable: "Second factors are not set up on this gateway. Ask your administrator.",
    recovery_left: "You used a recovery code. Recovery codes left:",
    enrol: "Set up an authenticator app",
    enrol_intro: "Scan the QR code with an authenticator app (for example FreeOTP, Aegis or Google Authenticator), then enter the code it shows.",
    enrol_required: "Your account needs a second factor before you can go on.",
    enrol_manual: "Cannot scan? Enter this key in the app:",
    factor_name: "Name for this factor",
    default_app_name: "Authenticator app",
    save: "Save",
    confirm: "Your password (or a current code)",
    confirm_hint: "Changes to your second factors need your password or a code from a factor you already have.",
    wrong_confirmation: "The password or code is not right.",
    recovery_codes: "Your recovery codes",
    recovery_codes_intro: "Keep these codes somewhere safe, apart from your phone. Each works once. They are shown only now.",
    continue_: "Continue",
    security: "Security",
    security_intro: "Your second factors and the places you are signed in.",
    your_factors: "Second factors",
    no_factors: "You have no second factor yet.",
    kind_totp: "Authenticator app",
    kind_passkey: "Passkey or security key",
    added: "added",
    remove: "Remove",
    rename: "Rename",
    add_totp: "Add an authenticator app",
    add_passkey: "Add a passkey or security key",
    recovery_count: "Recovery codes left:",
    new_recovery_codes: "Make new recovery codes",
    your_sessions: "Where you are signed in",
    device: "Device",
    address: "Address",
    last_used: "Last used",
    strength: "Sign-in",
    this_session: "this browser",
    end_session: "Sign out there",
    unknown_device: "Unknown device",
    saved: "Saved.",
    manage_security: "Security and second factors",
    back_to_portal: "Back to your apps",
    passkey_needs_script: "Passkeys need JavaScript in your browser.",
};

static DE: FactorTexts = FactorTexts {
    verify: "Bestätigen Sie, dass Sie es sind",
    verify_intro: "Diese Anwendung verlangt einen zweiten Faktor. Geben Sie den Code Ihrer Authenticator-App ein oder verwenden Sie Ihren Passkey.",
    code: "Code aus Ihrer Authenticator-App",
    code_hint: "Sechs Ziffern; alle 30 Sekunden erscheint ein neuer Code.",
    check: "Bestätigen",
    use_recovery: "Telefon oder Schlüssel verloren? Wiederherstellungscode verwenden",
    recovery_code: "Wiederherstellungscode",
    wrong_code: "Dieser Code stimmt nicht oder wurde schon verwendet. Warten Sie auf den nächsten und versuchen Sie es erneut.",
    malformed_code: "Ein Code aus der App hat sechs Ziffern, ein Wiederherstellungscode sechzehn Zeichen.",
    replayed_code: "Dieser Code wurde schon verwendet. Warten Sie auf den nächsten.",
    use_passkey: "Passkey oder Sicherheitsschlüssel verwenden",
    sign_in_with_passkey: "Mit Passkey anmelden",
    unavailable: "Zweite Faktoren sind auf diesem Gateway nicht eingerichtet. Wenden Sie sich an Ihre Administration.",
    recovery_left: "Sie haben einen Wiederherstellungscode verwendet. Verbleibende Codes:",
    enrol: "Authenticator-App einrichten",
    enrol_intro: "Scannen Sie den QR-Code mit einer Authenticator-App (zum Beispiel FreeOTP, Aegis oder Google Authenticator) und geben Sie dann den angezeigten Code ein.",
    enrol_required: "Ihr Konto braucht einen zweiten Faktor, bevor Sie weitermachen können.",
    enrol_manual: "Scannen nicht möglich? Geben Sie diesen Schlüssel in der App ein:",
    factor_name: "Name für diesen Faktor",
    default_app_name: "Authenticator-App",
    save: "Speichern",
    confirm: "Ihr Passwort (oder ein aktueller Code)",
    confirm_hint: "Änderungen an Ihren zweiten Faktoren erfordern Ihr Passwort oder einen Code eines vorhandenen Faktors.",
    wrong_confirmation: "Passwort oder Code stimmen nicht.",
    recovery_codes: "Ihre Wiederherstellungscodes",
    recovery_codes_intro: "Bewahren Sie diese Codes sicher und getrennt von Ihrem Telefon auf. Jeder Code gilt einmal. Sie werden nur jetzt angezeigt.",
    continue_: "Weiter",
    security: "Sicherheit",
    security_intro: "Ihre zweiten Faktoren und wo Sie angemeldet sind.",
    your_factors: "Zweite Faktoren",
    no_factors: "Sie haben noch keinen zweiten Faktor.",
    kind_totp: "Authenticator-App",
    kind_passkey: "Passkey oder Sicherheitsschlüssel",
    added: "hinzugefügt",
    remove: "Entfernen",
    rename: "Umbenennen",
    add_totp: "Authenticator-App hinzufügen",
    add_passkey: "Passkey oder Sicherheitsschlüssel hinzufügen",
    recovery_count: "Verbleibende Wiederherstellungscodes:",
    new_recovery_codes: "Neue Wiederherstellungscodes erstellen",
    your_sessions: "Wo Sie angemeldet sind",
    device: "Gerät",
    address: "Adresse",
    last_used: "Zuletzt verwendet",
    strength: "Anmeldung",
    this_session: "dieser Browser",
    end_session: "Dort abmelden",
    unknown_device: "Unbekanntes Gerät",
    saved: "Gespeichert.",
    manage_security: "Sicherheit und zweite Faktoren",
    back_to_portal: "Zurück zu Ihren Anwendungen",
    passkey_needs_script: "Passkeys brauchen JavaScript im Browser.",
};
