// The upstream OpenID provider of the federation tests: panva's oidc-provider (a certified OpenID Provider nobody
// here wrote) on loopback http. Usage: node oidc-provider.mjs [port]; prints "READY <issuer>" when it listens.
//
// Clients register themselves through the provider's own dynamic client registration (POST /reg), with the
// redirect_uri ScaiKey reports for its identity provider. Besides the provider's routes, for the tests only:
//   PUT  /test/accounts/{id}  JSON claims of an account (email, email_verified, given_name, family_name, name)
//   POST /test/rotate         a new signing key set (the old keys are gone, as after a key rotation and restart)
// Sign-in at the provider: /interaction/{uid} shows a form with one field, the account id (no password: the
// tests are about what ScaiKey does with the answer); "Cancel" answers access_denied.
import crypto from 'node:crypto';
import http from 'node:http';
import { Provider } from 'oidc-provider';

const accounts = new Map();
const port = Number(process.argv[2] ?? process.env.PORT ?? 0);

function signingKey() {
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid: crypto.randomUUID(), use: 'sig', alg: 'RS256' };
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

// The provider's storage (clients, grants, sessions, codes), kept for the whole process so that a key rotation
// (a new Provider instance) keeps the clients registered before it.
const store = new Map();
class SharedAdapter {
  constructor(model) { this.model = model; }

  key(id) { return `${this.model}:${id}`; }

  async upsert(id, payload, expiresIn) {
    const expires = typeof expiresIn === 'number' ? Date.now() + expiresIn * 1000 : Infinity;
    store.set(this.key(id), { payload, expires });
    if (this.model === 'Session') store.set(`sessionUid:${payload.uid}`, { payload: id, expires });
    if (payload.userCode) store.set(`userCode:${payload.userCode}`, { payload: id, expires });
    if (payload.grantId) {
      const members = store.get(`grant:${payload.grantId}`)?.payload ?? [];
      store.set(`grant:${payload.grantId}`, { payload: [...members, this.key(id)], expires: Infinity });
    }
  }

  async find(id) {
    const entry = store.get(this.key(id));
    return entry && entry.expires > Date.now() ? entry.payload : undefined;
  }

  async findByUid(uid) { return this.find(store.get(`sessionUid:${uid}`)?.payload); }

  async findByUserCode(userCode) { return this.find(store.get(`userCode:${userCode}`)?.payload); }

  async consume(id) { const entry = store.get(this.key(id)); if (entry) entry.payload.consumed = Math.floor(Date.now() / 1000); }

  async destroy(id) { store.delete(this.key(id)); }

  async revokeByGrantId(grantId) {
    for (const key of store.get(`grant:${grantId}`)?.payload ?? []) store.delete(key);
    store.delete(`grant:${grantId}`);
  }
}

const escape = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function build(issuer) {
  const provider = new Provider(issuer, {
    adapter: SharedAdapter,
    jwks: { keys: [signingKey()] },
    cookies: { keys: ['scaikey-test-peer-cookie-key'] },
    features: {
      devInteractions: { enabled: false },
      registration: { enabled: true },
    },
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'given_name', 'family_name'],
    },
    // The scopes' claims in the ID token too (as Google, Entra ID and Keycloak put them there).
    conformIdTokenClaims: false,
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    async findAccount(ctx, id) {
      const claims = accounts.get(id);
      return claims && { accountId: id, claims: async () => ({ sub: id, ...claims }) };
    },
    // Consent is not what is tested: every requested scope is granted once the account signed in.
    async loadExistingGrant(ctx) {
      const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
      grant.addOIDCScope(ctx.oidc.params.scope);
      await grant.save();
      return grant;
    },
  });

  provider.use(async (ctx, next) => {
    const match = /^\/interaction\/([^/]+)(\/login|\/abort)?$/.exec(ctx.path);
    if (!match) {
      return next();
    }

    const [, uid, action] = match;
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    if (details.uid !== uid) {
      ctx.status = 400;
      ctx.body = 'interaction mismatch';
      return undefined;
    }

    if (ctx.method === 'GET' && !action) {
      ctx.type = 'html';
      ctx.body = `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Upstream sign-in</title></head><body>
<h1>Upstream sign-in</h1>
<form method="post" action="/interaction/${escape(uid)}/login">
<label for="login">Account</label> <input id="login" name="login" autocomplete="off">
<button type="submit">Continue</button>
</form>
<form method="post" action="/interaction/${escape(uid)}/abort"><button type="submit">Cancel</button></form>
</body></html>`;
      return undefined;
    }

    if (ctx.method === 'POST' && action === '/login') {
      const login = new URLSearchParams(await readBody(ctx.req)).get('login') ?? '';
      ctx.respond = false;
      const result = accounts.has(login)
        ? { login: { accountId: login } }
        : { error: 'access_denied', error_description: 'unknown account' };
      return provider.interactionFinished(ctx.req, ctx.res, result, { mergeWithLastSubmission: false });
    }

    if (ctx.method === 'POST' && action === '/abort') {
      ctx.respond = false;
      return provider.interactionFinished(ctx.req, ctx.res, { error: 'access_denied', error_description: 'cancelled' },
        { mergeWithLastSubmission: false });
    }

    return next();
  });
  return provider;
}

let handler = () => {};
const server = http.createServer(async (req, res) => {
  try {
    const url = new URL(req.url, 'http://peer');
    const account = /^\/test\/accounts\/([^/]+)$/.exec(url.pathname);
    if (req.method === 'PUT' && account) {
      accounts.set(decodeURIComponent(account[1]), JSON.parse(await readBody(req)));
      res.writeHead(204).end();
      return;
    }

    if (req.method === 'POST' && url.pathname === '/test/rotate') {
      // Registered clients, grants and sessions live in the process-wide store and stay.
      handler = build(issuer).callback();
      res.writeHead(204).end();
      return;
    }

    handler(req, res);
  } catch (error) {
    res.writeHead(500).end(String(error));
  }
});

let issuer;
server.listen(port, '127.0.0.1', () => {
  issuer = `http://127.0.0.1:${server.address().port}`;
  handler = build(issuer).callback();
  console.log(`READY ${issuer}`);
});
