// A partner's OpenID provider for Pforte's federation tests: panva's oidc-provider (OpenID
// Certified), not code of ours, so Pforte's relying party meets a provider it was not written
// against. Started by tests/support/upstream_idp.rs as
//
//   node server.mjs CONFIG.json
//
// and configured from that file (every key is required unless marked optional):
//
//   issuer     "https://127.0.0.1:PORT"; the provider listens on 127.0.0.1:PORT over HTTPS
//   tls        { cert, key }: PEM files of its certificate (the tests' CA signs it)
//   outbound   optional { ca, hosts }: the CA file (PEM) trusted for the provider's own calls
//              (back-channel logout tokens) and host names mapped to "127.0.0.1:PORT", as the
//              tests' names (login.gw.test) resolve nowhere
//   id_token_alg  optional, "RS256" (default) or "ES256": how ID and logout tokens are signed
//   claims_in_id_token  optional, default true: false is oidc-provider's own default, where the
//              claims of profile, email and groups go to userinfo only when an access token is
//              issued (`conformIdTokenClaims`), as many real deployments leave it
//   clients    oidc-provider client metadata as registered: client_id, client_secret,
//              redirect_uris, post_logout_redirect_uris, backchannel_logout_uri,
//              backchannel_logout_session_required, token_endpoint_auth_method, ...
//   accounts   [{ sub, login (optional, default sub), password, claims: { email,
//              email_verified, preferred_username, name, groups, ... } }]
//
// What is switched on: authorization code flow with PKCE (S256) required for every client,
// RFC 9207 `iss` in every authorization response (always on in oidc-provider 8 and later; the
// discovery document says so), RP-initiated logout, back-channel logout (with `sid` for clients
// that ask for it), and the claims of the scopes profile, email and groups in the ID token
// itself (`conformIdTokenClaims: false`, unless claims_in_id_token is false; oidc-provider's
// default puts them only in userinfo whenever an access token is issued).
//
// The login and consent pages are our own small handlers instead of oidc-provider's
// devInteractions, which let anyone in under any name with any password: a wrong password here
// shows the form again with 401. They keep devInteractions' plain HTML forms (fields `login`
// and `password`; a consent form to confirm) so a test client can read and post them.
//
// Prints "upstream-idp ready ISSUER" once it listens; logs each back-channel logout call.

import { readFileSync } from 'node:fs';
import { generateKeyPair, randomBytes } from 'node:crypto';
import * as https from 'node:https';
import { promisify } from 'node:util';

import Provider from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const issuer = new URL(config.issuer);
const accounts = new Map(config.accounts.map((a) => [a.sub, a]));

const provider = new Provider(config.issuer, {
  clients: config.clients,
  jwks: { keys: await signingKeys() },
  clientDefaults: {
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
    id_token_signed_response_alg: config.id_token_alg ?? 'RS256',
  },
  claims: {
    // Claims without a scope (null) are given when the login has them.
    sid: null,
    auth_time: null,
    amr: null,
    openid: ['sub'],
    profile: ['name', 'preferred_username'],
    email: ['email', 'email_verified'],
    groups: ['groups'],
  },
  conformIdTokenClaims: config.claims_in_id_token === false,
  pkce: { required: () => true },
  features: {
    devInteractions: { enabled: false },
    backchannelLogout: { enabled: true },
    rpInitiatedLogout: {
      enabled: true,
      logoutSource: (ctx, form) => {
        // The stock page's form with its button outside it: here the button is inside.
        ctx.body = page('Sign out', `<h1>Sign out of ${escape(issuer.host)}?</h1>
${form.replace('</form>', '<button type="submit" name="logout" value="yes">Yes, sign me out</button></form>')}`);
      },
      postLogoutSuccessSource: (ctx) => {
        ctx.body = page('Signed out', '<h1>You are signed out</h1>');
      },
    },
  },
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  findAccount: (ctx, sub) => {
    const account = accounts.get(sub);
    return account && {
      accountId: sub,
      claims: () => ({ ...account.claims, sub }),
    };
  },
  renderError: (ctx, out) => {
    ctx.type = 'html';
    ctx.body = page('Error', `<h1>Error</h1><pre>${escape(JSON.stringify(out))}</pre>`);
  },
  fetch: outboundFetch(config.outbound ?? {}),
  ttl: {
    AccessToken: 600, AuthorizationCode: 60, IdToken: 600, Interaction: 600, Session: 3600, Grant: 3600,
  },
});

provider.on('backchannel.success', (_ctx, client, accountId, sid) => {
  console.log(`back-channel logout to ${client.clientId}: ok (sub ${accountId}, sid ${sid})`);
});
provider.on('backchannel.error', (_ctx, error, client) => {
  console.log(`back-channel logout to ${client.clientId} failed: ${error.message}`);
});
provider.on('server_error', (_ctx, error) => console.log(`server error: ${error.stack}`));

const app = provider.callback();
const server = https.createServer(
  { cert: readFileSync(config.tls.cert), key: readFileSync(config.tls.key) },
  (req, res) => {
    const interaction = /^\/interaction\/([^/?]+)(?:\/(login|confirm|abort))?(?:\?|$)/.exec(req.url);
    if (!interaction) {
      app(req, res);
      return;
    }
    interact(req, res, interaction[2] ?? 'show').catch((error) => {
      res.statusCode = 400;
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.end(page('Error', `<h1>Error</h1><p>${escape(error.message)}</p>`));
    });
  },
);
server.on('error', (error) => {
  console.log(`upstream-idp cannot serve: ${error.message}`);
  process.exit(1);
});
server.listen(Number(issuer.port), '127.0.0.1', () => {
  console.log(`upstream-idp ready ${config.issuer}`);
});

// The login and consent pages. `step` is show (GET the page), login, confirm (POST) or abort.
async function interact(req, res, step) {
  const details = await provider.interactionDetails(req, res);
  const { uid, prompt, params } = details;
  const form = req.method === 'POST' ? new URLSearchParams(await body(req)) : new URLSearchParams();
  if (step === 'abort') {
    await provider.interactionFinished(req, res, {
      error: 'access_denied', error_description: 'the person cancelled',
    }, { mergeWithLastSubmission: false });
    return;
  }
  if (prompt.name === 'login') {
    if (step !== 'login' || req.method !== 'POST') {
      send(res, 200, loginPage(uid, params.login_hint ?? '', null));
      return;
    }
    const login = form.get('login') ?? '';
    const account = [...accounts.values()].find((a) => (a.login ?? a.sub) === login);
    if (!account || account.password !== form.get('password')) {
      send(res, 401, loginPage(uid, login, 'Wrong login or password.'));
      return;
    }
    await provider.interactionFinished(req, res, {
      login: { accountId: account.sub, amr: ['pwd'] },
    }, { mergeWithLastSubmission: false });
    return;
  }
  if (prompt.name === 'consent') {
    if (step !== 'confirm' || req.method !== 'POST') {
      send(res, 200, consentPage(uid, params.client_id, prompt.details));
      return;
    }
    // Grants what the prompt found missing, as devInteractions' consent does.
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: details.session.accountId, clientId: params.client_id });
    if (prompt.details.missingOIDCScope) grant.addOIDCScope(prompt.details.missingOIDCScope.join(' '));
    if (prompt.details.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(prompt.details.missingResourceScopes ?? {})) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
    await provider.interactionFinished(req, res, {
      consent: { grantId: await grant.save() },
    }, { mergeWithLastSubmission: true });
    return;
  }
  send(res, 501, page('Error', `<p>prompt ${escape(prompt.name)} is not implemented</p>`));
}

function loginPage(uid, login, error) {
  return page('Sign in', `<h1>Sign in to ${escape(issuer.host)}</h1>
${error ? `<p class="error">${escape(error)}</p>` : ''}
<form method="post" action="/interaction/${escape(uid)}/login">
<input type="hidden" name="prompt" value="login">
<label>Login <input type="text" name="login" value="${escape(login)}"></label>
<label>Password <input type="password" name="password" value=""></label>
<button type="submit">Sign in</button>
</form>
<a href="/interaction/${escape(uid)}/abort">Cancel</a>`);
}

function consentPage(uid, clientId, details) {
  const scopes = details.missingOIDCScope ?? [];
  return page('Authorize', `<h1>Authorize ${escape(clientId)}</h1>
<p>Scopes: ${escape(scopes.join(' '))}</p>
<form method="post" action="/interaction/${escape(uid)}/confirm">
<input type="hidden" name="prompt" value="consent">
<button type="submit">Continue</button>
</form>
<a href="/interaction/${escape(uid)}/abort">Cancel</a>`);
}

function page(title, content) {
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title></head>
<body>
${content}
</body></html>
`;
}

function send(res, status, html) {
  res.statusCode = status;
  res.setHeader('content-type', 'text/html; charset=utf-8');
  res.setHeader('cache-control', 'no-store');
  res.end(html);
}

function escape(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

async function body(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

// A fresh RSA and P-256 key each start; the client's id_token_signed_response_alg picks one.
// Made asynchronously: Node 20's generateKeyPairSync can deadlock when a garbage collection
// runs during it (seen here about once in 20 starts).
async function signingKeys() {
  const generate = promisify(generateKeyPair);
  const rsa = (await generate('rsa', { modulusLength: 2048 })).privateKey.export({ format: 'jwk' });
  const ec = (await generate('ec', { namedCurve: 'P-256' })).privateKey.export({ format: 'jwk' });
  return [
    { ...rsa, kid: `rsa-${randomBytes(4).toString('hex')}`, use: 'sig', alg: 'RS256' },
    { ...ec, kid: `ec-${randomBytes(4).toString('hex')}`, use: 'sig', alg: 'ES256' },
  ];
}

// The provider's own HTTPS calls (oidc-provider's `fetch` option), over node:https so that they
// can trust the tests' CA and reach the tests' host names on 127.0.0.1. oidc-provider's default
// refuses loopback addresses (its SSRF guard), which is right for a real provider and is why a
// test provider needs its own.
function outboundFetch({ ca, hosts = {} }) {
  const trusted = ca ? readFileSync(ca) : undefined;
  return (url, options) => new Promise((resolve, reject) => {
    const target = new URL(url);
    const [address, port] = (hosts[target.hostname] ?? `${target.hostname}:${target.port || 443}`).split(':');
    const payload = options.body === undefined ? undefined : Buffer.from(String(options.body));
    const headers = Object.fromEntries(new Headers(options.headers));
    headers.host = target.host;
    if (payload) headers['content-length'] = String(payload.length);
    const isName = !/^[\d.]+$|:/.test(target.hostname);
    const req = https.request({
      host: address,
      port: Number(port),
      path: `${target.pathname}${target.search}`,
      method: options.method ?? 'GET',
      headers,
      ca: trusted,
      servername: isName ? target.hostname : undefined,
      signal: options.signal,
    }, (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('end', () => {
        const empty = [204, 304].includes(res.statusCode);
        const answer = new Response(empty ? null : Buffer.concat(chunks), {
          status: res.statusCode,
          headers: Object.entries(res.headers).flatMap(([k, v]) => (Array.isArray(v) ? v.map((x) => [k, x]) : [[k, v]])),
        });
        resolve(answer);
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(payload);
  });
}
