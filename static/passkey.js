// Passkeys and security keys (WebAuthn). A button data-passkey="register",
// "second_factor", "step_up" or "sign_in" asks the console for the options of
// a ceremony, lets the browser talk to the authenticator, and posts the
// answer as an ordinary form, so that the console answers with a page.
// Loaded only on the pages that offer passkeys; everything else works without it.
(() => {
  if (window.passkeysReady) return; // the page may include this file twice
  window.passkeysReady = true;

  const endpoints = {
    register: ["/account/passkeys/options", "/account/passkeys"],
    second_factor: ["/login/second-factor/passkey/options", "/login/second-factor/passkey"],
    step_up: ["/stepup/passkey/options", "/stepup/passkey"],
    sign_in: ["/login/passkey/options", "/login/passkey"],
  };

  const toBytes = (s) => {
    const b64 = s.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((s.length + 3) % 4);
    return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  };
  const toText = (buf) => {
    if (!buf) return undefined;
    let s = "";
    for (const b of new Uint8Array(buf)) s += String.fromCharCode(b);
    return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  };

  // The browser's answer as the JSON the console reads (WebAuthn's
  // RegistrationResponseJSON / AuthenticationResponseJSON).
  const answer = (cred) => {
    const r = cred.response;
    const out = {
      id: cred.id, rawId: toText(cred.rawId), type: cred.type,
      authenticatorAttachment: cred.authenticatorAttachment || undefined,
      clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {},
      response: { clientDataJSON: toText(r.clientDataJSON) },
    };
    if (r.attestationObject) {
      out.response.attestationObject = toText(r.attestationObject);
      out.response.transports = r.getTransports ? r.getTransports() : [];
    } else {
      out.response.authenticatorData = toText(r.authenticatorData);
      out.response.signature = toText(r.signature);
      out.response.userHandle = toText(r.userHandle);
    }
    return JSON.stringify(out);
  };

  const post = (action, fields) => {
    const form = document.createElement("form");
    form.method = "post";
    form.action = action;
    for (const [name, value] of Object.entries(fields)) {
      if (!value) continue;
      const input = document.createElement("input");
      input.type = "hidden";
      input.name = name;
      input.value = value;
      form.append(input);
    }
    document.body.append(form);
    form.submit();
  };

  document.addEventListener("click", async (ev) => {
    const btn = ev.target.closest("button[data-passkey]");
    if (!btn) return;
    const purpose = btn.getAttribute("data-passkey");
    const [optionsURL, finishURL] = endpoints[purpose] || [];
    const row = btn.closest(".passkey-row");
    const error = row && row.querySelector("[data-passkey-error]");
    const say = (text) => { if (error) error.textContent = text; };
    if (!optionsURL) return;
    if (!window.PublicKeyCredential) {
      say("This browser does not support passkeys.");
      return;
    }
    btn.disabled = true;
    say("");
    try {
      const res = await fetch(optionsURL, { method: "POST", credentials: "same-origin", headers: { Accept: "application/json" } });
      const body = await res.json();
      if (!res.ok) throw new Error(body.error || "The console could not start.");
      const pk = body.publicKey;
      pk.challenge = toBytes(pk.challenge);
      let cred;
      if (purpose === "register") {
        pk.user.id = toBytes(pk.user.id);
        for (const c of pk.excludeCredentials || []) c.id = toBytes(c.id);
        cred = await navigator.credentials.create({ publicKey: pk });
      } else {
        for (const c of pk.allowCredentials || []) c.id = toBytes(c.id);
        cred = await navigator.credentials.get({ publicKey: pk });
      }
      const name = row && row.querySelector("[data-passkey-name]");
      post(finishURL, {
        credential: answer(cred),
        name: name ? name.value.trim() : "",
        next: btn.getAttribute("data-next") || "",
        for: btn.getAttribute("data-for") || "",
      });
    } catch (e) {
      btn.disabled = false;
      say(e && e.name === "NotAllowedError" ? "Cancelled, or no passkey of this console was found." : (e.message || String(e)));
    }
  });
})();
