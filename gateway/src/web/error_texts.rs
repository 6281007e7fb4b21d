//! Every text of the gateway's error pages, one table per language, so a missing translation is
//! a compile error rather than an English sentence on a German page. A few sentences name the
//! app, the person or the sign-in they need: `{app}`, `{name}` and `{login}`, filled by [`fill`].

use crate::config::lang::Lang;

/// The error pages' texts in `lang`.
pub fn of(lang: Lang) -> &'static ErrorTexts {
    match lang {
        Lang::En => &EN,
        Lang::De => &DE,
    }
}

/// A heading and the sentence under it.
#[derive(Debug)]
pub struct Message {
    /// The page's heading and title.
    pub heading: &'static str,
    /// What happened and what to do, in a sentence or two.
    pub sentence: &'static str,
}

/// Every text of the error pages.
#[derive(Debug)]
pub struct ErrorTexts {
    /// Before the status code (`Error 403`).
    pub error: &'static str,
    /// Label of the request id.
    pub request_id: &'static str,
    /// Label of a technical detail.
    pub detail: &'static str,
    /// The link to the portal.
    pub to_portal: &'static str,
    /// 400: the request names no host.
    pub no_host: Message,
    /// 400: the request names more than one host.
    pub many_hosts: Message,
    /// 400: the path cannot be put in its normal form.
    pub bad_path: Message,
    /// 400: a form of the login host could not be read or failed the anti-forgery check.
    pub bad_form: Message,
    /// 400: the body sent to an app is malformed.
    pub bad_body: Message,
    /// 401: an API client without a session.
    pub unauthenticated: Message,
    /// 302 to the login page: the sentence is the link's text.
    pub login_redirect: Message,
    /// 403: the policy refuses; `{app}`.
    pub denied: Message,
    /// 403: the policy refuses a signed-in person; `{name}`, `{app}`.
    pub denied_named: Message,
    /// 403: the app is for signed-in people only; `{app}`.
    pub login_required: Message,
    /// 403: the app needs a stronger sign-in; `{app}`, `{login}`.
    pub step_up: Message,
    /// 404 on the login host.
    pub not_found: Message,
    /// 404: no app at this host.
    pub unknown_host: Message,
    /// 405.
    pub method_not_allowed: Message,
    /// 413: the body is larger than the app accepts.
    pub too_large: Message,
    /// 429: this address sent too many attempts; `{seconds}`.
    pub rate_limited: Message,
    /// 502: the app did not answer properly.
    pub bad_gateway: Message,
    /// 503: the session store cannot be reached.
    pub sessions_unavailable: Message,
    /// 504: the app took too long.
    pub gateway_timeout: Message,
    /// 400: an OIDC authorization request whose client or redirect URI cannot be trusted.
    pub oidc_bad_sign_in_link: Message,
    /// 400: an OIDC logout request that cannot be trusted.
    pub oidc_bad_sign_out_link: Message,
}

/// `template` with each `{key}` replaced by its value, in one pass: a value that itself
/// contains `{app}` is not replaced again.
pub fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let found = after.find('}').and_then(|close| {
            let key = &after[..close];
            values
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| (close, *v))
        });
        match found {
            Some((close, value)) => {
                out.push_str(value);
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

const EN: ErrorTexts = ErrorTexts {
    error: "Error",
    request_id: "Request id",
    detail: "Details for the app's developers",
    to_portal: "Go to the portal",
    no_host: Message {
        heading: "Bad request",
        sentence: "The request did not say which site it is for.",
    },
    many_hosts: Message {
        heading: "Bad request",
        sentence: "The request names more than one site.",
    },
    bad_path: Message {
        heading: "Bad request",
        sentence: "The address of this request is malformed.",
    },
    bad_form: Message {
        heading: "Bad request",
        sentence: "The form could not be read or has expired. Please go back and try again.",
    },
    bad_body: Message {
        heading: "Bad request",
        sentence: "The data sent with this request is malformed.",
    },
    unauthenticated: Message {
        heading: "Login required",
        sentence: "This address needs a signed-in person. Sign in at the portal first.",
    },
    login_redirect: Message {
        heading: "Login required",
        sentence: "Continue to the login page",
    },
    denied: Message {
        heading: "Access denied",
        sentence: "You have no access to {app} at this address. If you need it, ask your administrator.",
    },
    denied_named: Message {
        heading: "Access denied",
        sentence: "{name}, you have no access to {app} at this address. If you need it, ask your administrator.",
    },
    login_required: Message {
        heading: "Access denied",
        sentence: "{app} is open only to signed-in people who have access to it.",
    },
    step_up: Message {
        heading: "Access denied",
        sentence: "{app} needs a stronger sign-in ({login}) than the one you used.",
    },
    not_found: Message {
        heading: "Not found",
        sentence: "There is no page at this address.",
    },
    unknown_host: Message {
        heading: "No app at this address",
        sentence: "This address does not belong to any app of this workplace. Check the link or start from the portal.",
    },
    method_not_allowed: Message {
        heading: "Method not allowed",
        sentence: "This page cannot be used that way.",
    },
    too_large: Message {
        heading: "Upload too large",
        sentence: "The data sent is larger than this app accepts.",
    },
    rate_limited: Message {
        heading: "Too many attempts",
        sentence: "Too many attempts came from your network. Please wait {seconds} seconds and try again.",
    },
    bad_gateway: Message {
        heading: "The app is not reachable",
        sentence: "The app behind this address did not answer properly. Please try again in a moment.",
    },
    sessions_unavailable: Message {
        heading: "Sign-in is unavailable",
        sentence: "The sign-in service cannot be reached right now. Please try again in a moment.",
    },
    gateway_timeout: Message {
        heading: "The app took too long",
        sentence: "The app behind this address did not answer in time. Please try again in a moment.",
    },
    oidc_bad_sign_in_link: Message {
        heading: "This sign-in link is not valid",
        sentence: "The app that sent you here made a mistake. Go back to the app and try again.",
    },
    oidc_bad_sign_out_link: Message {
        heading: "This sign-out link is not valid",
        sentence: "You are still signed in; sign out from the portal instead.",
    },
};

const DE: ErrorTexts = ErrorTexts {
    error: "Fehler",
    request_id: "Anfrage-ID",
    detail: "Hinweis für die Entwickler der Anwendung",
    to_portal: "Zum Portal",
    no_host: Message {
        heading: "Ungültige Anfrage",
        sentence: "Die Anfrage nennt keine Website.",
    },
    many_hosts: Message {
        heading: "Ungültige Anfrage",
        sentence: "Die Anfrage nennt mehr als eine Website.",
    },
    bad_path: Message {
        heading: "Ungültige Anfrage",
        sentence: "Die Adresse dieser Anfrage ist fehlerhaft.",
    },
    bad_form: Message {
        heading: "Ungültige Anfrage",
        sentence: "Das Formular konnte nicht gelesen werden oder ist abgelaufen. Bitte gehen Sie zurück und versuchen Sie es erneut.",
    },
    bad_body: Message {
        heading: "Ungültige Anfrage",
        sentence: "Die mit dieser Anfrage gesendeten Daten sind fehlerhaft.",
    },
    unauthenticated: Message {
        heading: "Anmeldung erforderlich",
        sentence: "Diese Adresse ist nur nach einer Anmeldung erreichbar. Bitte melden Sie sich zuerst im Portal an.",
    },
    login_redirect: Message {
        heading: "Anmeldung erforderlich",
        sentence: "Weiter zur Anmeldeseite",
    },
    denied: Message {
        heading: "Zugriff verweigert",
        sentence: "Sie haben unter dieser Adresse keinen Zugriff auf {app}. Wenn Sie ihn brauchen, wenden Sie sich an Ihre Administration.",
    },
    denied_named: Message {
        heading: "Zugriff verweigert",
        sentence: "{name}, Sie haben unter dieser Adresse keinen Zugriff auf {app}. Wenn Sie ihn brauchen, wenden Sie sich an Ihre Administration.",
    },
    login_required: Message {
        heading: "Zugriff verweigert",
        sentence: "{app} steht nur angemeldeten Personen offen, die Zugriff darauf haben.",
    },
    step_up: Message {
        heading: "Zugriff verweigert",
        sentence: "{app} verlangt eine stärkere Anmeldung ({login}) als die, mit der Sie sich angemeldet haben.",
    },
    not_found: Message {
        heading: "Nicht gefunden",
        sentence: "Unter dieser Adresse gibt es keine Seite.",
    },
    unknown_host: Message {
        heading: "Keine Anwendung unter dieser Adresse",
        sentence: "Diese Adresse gehört zu keiner Anwendung Ihres Arbeitsplatzes. Prüfen Sie den Link oder beginnen Sie im Portal.",
    },
    method_not_allowed: Message {
        heading: "Methode nicht erlaubt",
        sentence: "Diese Seite lässt sich so nicht verwenden.",
    },
    too_large: Message {
        heading: "Daten zu groß",
        sentence: "Die gesendeten Daten sind größer, als diese Anwendung annimmt.",
    },
    rate_limited: Message {
        heading: "Zu viele Versuche",
        sentence: "Aus Ihrem Netz kamen zu viele Versuche. Bitte warten Sie {seconds} Sekunden und versuchen Sie es erneut.",
    },
    bad_gateway: Message {
        heading: "Die Anwendung ist nicht erreichbar",
        sentence: "Die Anwendung hinter dieser Adresse hat nicht richtig geantwortet. Bitte versuchen Sie es gleich noch einmal.",
    },
    sessions_unavailable: Message {
        heading: "Die Anmeldung ist nicht verfügbar",
        sentence: "Der Anmeldedienst ist gerade nicht erreichbar. Bitte versuchen Sie es gleich noch einmal.",
    },
    gateway_timeout: Message {
        heading: "Die Anwendung antwortet nicht rechtzeitig",
        sentence: "Die Anwendung hinter dieser Adresse hat nicht rechtzeitig geantwortet. Bitte versuchen Sie es gleich noch einmal.",
    },
    oidc_bad_sign_in_link: Message {
        heading: "Dieser Anmeldelink ist ungültig",
        sentence: "Die Anwendung, die Sie hierher geschickt hat, hat einen Fehler gemacht. Gehen Sie zurück zur Anwendung und versuchen Sie es erneut.",
    },
    oidc_bad_sign_out_link: Message {
        heading: "Dieser Abmeldelink ist ungültig",
        sentence: "Sie sind weiterhin angemeldet. Melden Sie sich stattdessen im Portal ab.",
    },
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_filled_once() {
        assert_eq!(
            fill(
                "{name}, no {app} ({x})",
                &[("app", "Mail"), ("name", "{app}")]
            ),
            "{app}, no Mail ({x})"
        );
        assert_eq!(fill("a { b", &[("b", "c")]), "a { b");
    }

    #[test]
    fn both_languages_name_the_same_placeholders() {
        let keys = |text: &str| {
            let mut found: Vec<&str> = ["{app}", "{name}", "{login}"]
                .into_iter()
                .filter(|k| text.contains(k))
                .collect();
            found.sort_unstable();
            found
        };
        let (en, de) = (of(Lang::En), of(Lang::De));
        for (e, d) in [
            (&en.denied, &de.denied),
            (&en.denied_named, &de.denied_named),
            (&en.login_required, &de.login_required),
            (&en.step_up, &de.step_up),
        ] {
            assert_eq!(keys(e.sentence), keys(d.sentence), "{}", d.sentence);
            assert!(keys(e.sentence).contains(&"{app}"));
        }
    }
}
