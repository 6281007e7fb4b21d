// Passkeys in the browser for Pforte's login host: registering one on the security page, using
// one as a second factor, and logging in with one alone (passwordless).
//
// No framework and no build step; served by the login host from its own origin, so it works
// under `Content-Security-Policy: script-src 'self'` (no inline code, no eval).
//
// Markup it wires itself to: any button with
//   data-passkey-action="register" | "authenticate" | "passwordless"
//   data-options-url="/security/passkey/options"   where the options come from
//   data-verify-url="/security/passkey/register"   where the browser's answer goes
// inside a <form> that holds the anti-forgery field `csrf` (and, to register, a `name` field).
// Messages go to the form's element with role="alert" (else the page's first one); their
// texts can be given in the page's language as data attributes on that element:
// data-msg-unsupported, data-msg-cancelled, data-msg-exists, data-msg-insecure, data-msg-failed.
//
// Conversation with the server (both POSTs send the form's `csrf` value in X-CSRF-Token):
//   1. POST options-url, JSON body: the form's other fields ({"name": ..., "return_to": ...});
//      answer: the WebAuthn options JSON, binary fields as base64url.
//   2. navigator.credentials.create() or .get()
//   3. POST verify-url, JSON body: the credential, binary fields as base64url;
//      answer: {"redirect": "<url>"} to follow, or an error status with {"error": "<message>"}.
// For "passwordless", a conditional request (the browser's passkey autofill in a field with
// autocomplete="username webauthn") starts as soon as the page loads, where supported; the
// button starts the same login through the browser's passkey dialog.

(function () {
  "use strict";

  var DEFAULT_MESSAGES = {
    unsupported: "This browser cannot use passkeys.",
    cancelled: "The passkey request was cancelled or timed out.",
    exists: "This authenticator is already registered.",
    insecure: "Passkeys cannot be used on this address.",
    failed: "The passkey could not be used. Please try again."
  };

  // --- base64url <-> ArrayBuffer ------------------------------------------------------------

  function toBuffer(base64url) {
    var base64 = base64url.replace(/-/g, "+").replace(/_/g, "/");
    var binary = atob(base64 + "===".slice((base64.length + 3) % 4));
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) {
      bytes[i] = binary.charCodeAt(i);
    }
    return bytes.buffer;
  }

  function toBase64url(buffer) {
    var bytes = new Uint8Array(buffer);
    var binary = "";
    for (var i = 0; i < bytes.length; i++) {
      binary += String.fromCharCode(bytes[i]);
    }
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function withBufferIds(descriptors) {
    return (descriptors || []).map(function (d) {
      return Object.assign({}, d, { id: toBuffer(d.id) });
    });
  }

  // --- options from the server -> arguments for navigator.credentials ------------------------

  function creationOptions(json) {
    var publicKey = Object.assign({}, json.publicKey);
    publicKey.challenge = toBuffer(publicKey.challenge);
    publicKey.user = Object.assign({}, publicKey.user, { id: toBuffer(publicKey.user.id) });
    publicKey.excludeCredentials = withBufferIds(publicKey.excludeCredentials);
    return { publicKey: publicKey };
  }

  function requestOptions(json, mediation, signal) {
    var publicKey = Object.assign({}, json.publicKey);
    publicKey.challenge = toBuffer(publicKey.challenge);
    publicKey.allowCredentials = withBufferIds(publicKey.allowCredentials);
    var options = { publicKey: publicKey };
    if (mediation) {
      options.mediation = mediation;
    }
    if (signal) {
      options.signal = signal;
    }
    return options;
  }

  // --- the browser's credential -> JSON for the server ---------------------------------------

  function credentialJSON(credential) {
    var r = credential.response;
    var response = { clientDataJSON: toBase64url(r.clientDataJSON) };
    if (r.attestationObject) {
      response.attestationObject = toBase64url(r.attestationObject);
      if (typeof r.getTransports === "function") {
        response.transports = r.getTransports();
      }
    } else {
      response.authenticatorData = toBase64url(r.authenticatorData);
      response.signature = toBase64url(r.signature);
      response.userHandle = r.userHandle ? toBase64url(r.userHandle) : null;
    }
    return {
      id: credential.id,
      rawId: toBase64url(credential.rawId),
      type: credential.type,
      response: response,
      extensions: credential.getClientExtensionResults()
    };
  }

  // --- talking to the login host --------------------------------------------------------------

  function ServerError(message) {
    this.name = "ServerError";
    this.message = message;
  }

  function postJSON(url, body, csrf) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      redirect: "error",
      headers: {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "X-CSRF-Token": csrf
      },
      body: JSON.stringify(body)
    }).then(function (answer) {
      return answer.json().catch(function () {
        return {};
      }).then(function (json) {
        if (!answer.ok) {
          throw new ServerError(typeof json.error === "string" ? json.error : "");
        }
        return json;
      });
    });
  }

  // The form's fields, except the anti-forgery token (sent as a header) and empty ones.
  function formFields(form) {
    var fields = {};
    if (form) {
      new FormData(form).forEach(function (value, key) {
        if (key !== "csrf" && typeof value === "string" && value !== "") {
          fields[key] = value;
        }
      });
    }
    return fields;
  }

  function csrfToken(form) {
    var field = form && form.elements.namedItem("csrf");
    return field && field.value ? field.value : "";
  }

  function follow(answer) {
    if (typeof answer.redirect !== "string") {
      throw new ServerError("");
    }
    window.location.assign(answer.redirect);
  }

  // --- messages ---------------------------------------------------------------------------------

  function alertFor(form) {
    return (form && form.querySelector("[role=alert]")) || document.querySelector("[role=alert]");
  }

  function text(alert, key) {
    var attribute = "msg" + key.charAt(0).toUpperCase() + key.slice(1);
    return (alert && alert.dataset[attribute]) || DEFAULT_MESSAGES[key];
  }

  function show(form, error) {
    var alert = alertFor(form);
    var message;
    if (error instanceof ServerError && error.message) {
      message = error.message;
    } else if (error && error.name === "NotAllowedError") {
      message = text(alert, "cancelled");
    } else if (error && error.name === "InvalidStateError") {
      message = text(alert, "exists");
    } else if (error && error.name === "SecurityError") {
      message = text(alert, "insecure");
    } else if (error && error.name === "NotSupportedError") {
      message = text(alert, "unsupported");
    } else {
      message = text(alert, "failed");
    }
    if (alert) {
      alert.textContent = message;
      alert.hidden = false;
    }
  }

  function clear(form) {
    var alert = alertFor(form);
    if (alert) {
      alert.textContent = "";
    }
  }

  // --- the three ceremonies -------------------------------------------------------------------

  function register(button) {
    var form = button.form;
    var csrf = csrfToken(form);
    return postJSON(button.dataset.optionsUrl, formFields(form), csrf)
      .then(function (options) {
        return navigator.credentials.create(creationOptions(options));
      })
      .then(function (credential) {
        return postJSON(button.dataset.verifyUrl, credentialJSON(credential), csrf);
      })
      .then(follow);
  }

  function authenticate(button, mediation, signal) {
    var form = button.form;
    var csrf = csrfToken(form);
    return postJSON(button.dataset.optionsUrl, formFields(form), csrf)
      .then(function (options) {
        return navigator.credentials.get(requestOptions(options, mediation, signal));
      })
      .then(function (credential) {
        return postJSON(button.dataset.verifyUrl, credentialJSON(credential), csrf);
      })
      .then(follow);
  }

  // A pending conditional (autofill) request; a button press replaces it with a modal one.
  var conditional = null;

  function startConditional(button) {
    if (typeof PublicKeyCredential.isConditionalMediationAvailable !== "function") {
      return;
    }
    PublicKeyCredential.isConditionalMediationAvailable().then(function (available) {
      if (!available) {
        return;
      }
      conditional = new AbortController();
      var mine = conditional;
      authenticate(button, "conditional", mine.signal).catch(function (error) {
        // Aborted because the person pressed the button instead: nothing to say.
        if (!mine.signal.aborted) {
          show(button.form, error);
        }
      });
    });
  }

  function run(button) {
    if (conditional) {
      conditional.abort();
      conditional = null;
    }
    if (button.dataset.passkeyAction === "register") {
      return register(button);
    }
    return authenticate(button, null, null);
  }

  function wire(button) {
    button.addEventListener("click", function (event) {
      event.preventDefault();
      clear(button.form);
      button.disabled = true;
      button.setAttribute("aria-busy", "true");
      run(button)
        .catch(function (error) {
          show(button.form, error);
        })
        .then(function () {
          button.disabled = false;
          button.removeAttribute("aria-busy");
        });
    });
    // Enter in the form's fields (the new passkey's name) runs the ceremony rather than
    // posting the form.
    if (button.form && !button.form.dataset.passkeyWired) {
      button.form.dataset.passkeyWired = "true";
      button.form.addEventListener("submit", function (event) {
        event.preventDefault();
        button.click();
      });
    }
    if (button.dataset.passkeyAction === "passwordless") {
      startConditional(button);
    }
  }

  function init() {
    var buttons = document.querySelectorAll("[data-passkey-action]");
    if (buttons.length === 0) {
      return;
    }
    if (!window.PublicKeyCredential || !navigator.credentials) {
      buttons.forEach(function (button) {
        button.disabled = true;
        show(button.form, { name: "NotSupportedError" });
      });
      return;
    }
    buttons.forEach(wire);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
