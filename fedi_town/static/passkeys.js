// Passkeys, a progressive enhancement: where the browser has WebAuthn, the sign-in page shows
// "Sign in with a passkey" and the account page "Add a passkey". Without it, passwords work.
(function () {
  "use strict";
  if (!window.PublicKeyCredential || !navigator.credentials) return;

  function toBytes(text) {
    var b64 = text.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) b64 += "=";
    var raw = atob(b64), out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out.buffer;
  }
  function toText(buffer) {
    var bytes = new Uint8Array(buffer), raw = "";
    for (var i = 0; i < bytes.length; i++) raw += String.fromCharCode(bytes[i]);
    return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function post(url, csrf, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body || {})
    }).then(function (r) {
      return r.json().then(function (data) {
        if (!r.ok) throw new Error(data.detail || "Something went wrong; try again.");
        return data;
      });
    });
  }
  function credentialJSON(cred) {
    var r = cred.response, json = {
      id: cred.id, rawId: toText(cred.rawId), type: cred.type,
      clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {},
      response: { clientDataJSON: toText(r.clientDataJSON) }
    };
    if (r.attestationObject) {
      json.response.attestationObject = toText(r.attestationObject);
      if (r.getTransports) json.response.transports = r.getTransports();
    } else {
      json.response.authenticatorData = toText(r.authenticatorData);
      json.response.signature = toText(r.signature);
      if (r.userHandle) json.response.userHandle = toText(r.userHandle);
    }
    return json;
  }
  function say(el, text) { if (el) { el.textContent = text; el.hidden = false; } }

  var signIn = document.querySelector(".passkey-signin");
  if (signIn) {
    signIn.hidden = false;
    var problem = document.getElementById("passkey-problem");
    document.getElementById("passkey-sign-in").addEventListener("click", function () {
      var csrf = signIn.getAttribute("data-csrf");
      post("/login/passkey/options", csrf).then(function (options) {
        options.challenge = toBytes(options.challenge);
        (options.allowCredentials || []).forEach(function (c) { c.id = toBytes(c.id); });
        return navigator.credentials.get({ publicKey: options });
      }).then(function (cred) {
        return post("/login/passkey", csrf, { credential: credentialJSON(cred), next: signIn.getAttribute("data-next") });
      }).then(function (done) {
        window.location.assign(done.redirect || "/app");
      }).catch(function (err) { say(problem, err && err.message ? err.message : String(err)); });
    });
  }

  var add = document.querySelector(".passkey-add");
  if (add) {
    add.hidden = false;
    var addProblem = document.getElementById("passkey-add-problem");
    document.getElementById("passkey-add").addEventListener("click", function () {
      var csrf = add.getAttribute("data-csrf");
      var name = document.getElementById("passkey-name").value || "Passkey";
      post("/app/account/passkeys/options", csrf).then(function (options) {
        options.challenge = toBytes(options.challenge);
        options.user.id = toBytes(options.user.id);
        (options.excludeCredentials || []).forEach(function (c) { c.id = toBytes(c.id); });
        return navigator.credentials.create({ publicKey: options });
      }).then(function (cred) {
        return post("/app/account/passkeys", csrf, { credential: credentialJSON(cred), name: name });
      }).then(function () {
        window.location.assign("/app/account?added=1");
      }).catch(function (err) { say(addProblem, err && err.message ? err.message : String(err)); });
    });
  }
})();
