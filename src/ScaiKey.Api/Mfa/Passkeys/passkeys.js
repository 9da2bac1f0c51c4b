// ScaiKey passkeys: the browser half of the WebAuthn ceremonies of the hosted pages. The server makes the options
// and verifies the answers (Fido2); this script only carries them between the server and navigator.credentials,
// converting base64url to bytes and back. Served from the service itself under a CSP of script-src 'self'.
(() => {
  'use strict';

  const toBytes = (text) => {
    const base64 = text.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(text.length / 4) * 4, '=');
    return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0)).buffer;
  };

  const toText = (buffer) => {
    let binary = '';
    for (const b of new Uint8Array(buffer)) {
      binary += String.fromCharCode(b);
    }
    return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  };

  // The options come as JSON with nulls for members not set; WebAuthn's dictionaries want them absent.
  const withoutNulls = (value) => {
    if (Array.isArray(value)) {
      return value.map(withoutNulls);
    }
    if (value && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null).map(([k, v]) => [k, withoutNulls(v)]));
    }
    return value;
  };

  const showError = (text) => {
    const region = document.getElementById('form-errors');
    if (!region) {
      return;
    }
    const p = document.createElement('p');
    p.textContent = text;
    region.replaceChildren(p);
  };

  const describe = (error) => {
    if (error && error.name === 'NotAllowedError') {
      return 'The passkey request was cancelled or timed out. Try again.';
    }
    if (error && error.name === 'InvalidStateError') {
      return 'This device already holds a passkey for your account.';
    }
    return 'Passkeys could not be used just now. Reload the page and try again.';
  };

  // The options endpoints take the page's CSRF token like the forms do (with its SameSite=Strict cookie).
  const fetchOptions = async (url, formToken) => {
    const response = await fetch(url, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
      body: new URLSearchParams({ form_token: formToken }),
    });
    if (!response.ok) {
      throw new Error('options: ' + response.status);
    }
    const body = await response.json();
    return { token: body.challenge_token, options: withoutNulls(body.public_key) };
  };

  const descriptors = (list) => (list || []).map((c) => ({ ...c, id: toBytes(c.id) }));

  const attestationJson = (credential) => JSON.stringify({
    id: credential.id,
    rawId: toText(credential.rawId),
    type: credential.type,
    response: {
      attestationObject: toText(credential.response.attestationObject),
      clientDataJSON: toText(credential.response.clientDataJSON),
      transports: typeof credential.response.getTransports === 'function' ? credential.response.getTransports() : [],
    },
    clientExtensionResults: credential.getClientExtensionResults(),
  });

  const assertionJson = (credential) => JSON.stringify({
    id: credential.id,
    rawId: toText(credential.rawId),
    type: credential.type,
    response: {
      authenticatorData: toText(credential.response.authenticatorData),
      clientDataJSON: toText(credential.response.clientDataJSON),
      signature: toText(credential.response.signature),
      userHandle: credential.response.userHandle ? toText(credential.response.userHandle) : null,
    },
    clientExtensionResults: credential.getClientExtensionResults(),
  });

  const hidden = (form, name, value) => {
    let input = form.querySelector(`input[type="hidden"][name="${name}"]`);
    if (!input) {
      input = document.createElement('input');
      input.type = 'hidden';
      input.name = name;
      form.appendChild(input);
    }
    input.value = value;
  };

  // Registration on the account's passkeys page: the form posts the new credential with its challenge token.
  const register = (form) => {
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const button = form.querySelector('button[type="submit"]');
      button.disabled = true;
      try {
        const { token, options } = await fetchOptions(form.dataset.options, form.elements.form_token.value);
        options.challenge = toBytes(options.challenge);
        options.user.id = toBytes(options.user.id);
        options.excludeCredentials = descriptors(options.excludeCredentials);
        const credential = await navigator.credentials.create({ publicKey: options });
        hidden(form, 'challenge_token', token);
        hidden(form, 'credential', attestationJson(credential));
        form.submit();
      } catch (error) {
        button.disabled = false;
        showError(describe(error));
      }
    });
  };

  // Sign-in without a username: any passkey of this tenant the authenticator holds; the answer is posted as a form,
  // so the server's redirect (back to the application) is followed like the password form's.
  const signIn = (button) => {
    button.addEventListener('click', async () => {
      const login = button.closest('main').querySelector('form');
      button.disabled = true;
      try {
        const { token, options } = await fetchOptions(button.dataset.options, login.elements.form_token.value);
        options.challenge = toBytes(options.challenge);
        options.allowCredentials = descriptors(options.allowCredentials);
        const credential = await navigator.credentials.get({ publicKey: options });
        const form = document.createElement('form');
        form.method = 'post';
        form.action = button.dataset.action;
        hidden(form, 'form_token', login.elements.form_token.value);
        if (login.elements.return_url) {
          hidden(form, 'return_url', login.elements.return_url.value);
        }
        hidden(form, 'challenge_token', token);
        hidden(form, 'credential', assertionJson(credential));
        document.body.appendChild(form);
        form.submit();
      } catch (error) {
        button.disabled = false;
        showError(describe(error));
      }
    });
  };

  if (!window.PublicKeyCredential) {
    return;
  }
  for (const form of document.querySelectorAll('form[data-passkey="register"]')) {
    register(form);
  }
  for (const button of document.querySelectorAll('button[data-passkey="sign-in"]')) {
    button.hidden = false;
    signIn(button);
  }
})();
