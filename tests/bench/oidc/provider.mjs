// panva's oidc-provider as the reference for tests/bench/oidc.sh: the same three grants as
// Pforte's provider, ES256, over HTTPS, with the library's own in-memory adapter.
//
//   node provider.mjs   (configured by the environment variables read below)
//
// What is set to match Pforte, and why:
// - ES256 for ID tokens and access tokens; access tokens are RFC 9068 JWTs (through the
//   resource-indicators feature, the library's only way to JWT access tokens), so both sides
//   sign one JWT per access token and one per ID token.
// - Refresh tokens rotate on every use and come with every code exchange (Pforte issues one
//   whenever the client may refresh; the library's default would want `offline_access` with
//   `prompt=consent`).
// - No consent screen for this first-party client: `loadExistingGrant` grants what is asked
//   (the library's "skip consent" recipe). Pforte asks no consent either.
//   It reuses the session's grant, as the recipe does: a new grant per authorization breaks
//   concurrent code exchanges of one session (the library checks the code's grant against the
//   session's current one).
// - Lifetimes as Pforte's defaults: access and ID tokens 300 s, codes 60 s, refresh 30 days.
// - Logins are not measured: the interaction answers at once with the account `alice`, so a
//   client following the redirects gets a session cookie (the script logs in SESSIONS times
//   before each code or refresh row).
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import https from 'node:https';

import Provider from 'oidc-provider';

const env = (name) => {
  const value = process.env[name];
  if (!value) {
    console.error(`provider.mjs: set ${name}`);
    process.exit(2);
  }
  return value;
};

const port = Number(env('OP_PORT'));
const issuer = env('OP_ISSUER');
const resource = env('OP_RESOURCE');
const tlsCert = readFileSync(env('OP_TLS_CERT'));
const tlsKey = readFileSync(env('OP_TLS_KEY'));

// A fresh ES256 signing key, as `pforte-admin keys generate` makes one.
const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const jwk = { ...privateKey.export({ format: 'jwk' }), alg: 'ES256', use: 'sig', kid: 'bench-es256' };

const alice = {
  sub: 'd3db2d2a-ab3e-4c29-aa09-ec8911d9b629',
  name: 'Alice Liddell',
  preferred_username: 'alice',
  email: 'alice@example.org',
  email_verified: true,
};

const provider = new Provider(issuer, {
  clients: [{
    client_id: env('OP_CLIENT_ID'),
    client_secret: env('OP_CLIENT_SECRET'),
    redirect_uris: [env('OP_REDIRECT_URI')],
    grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
    id_token_signed_response_alg: 'ES256',
    scope: 'openid profile email',
  }],
  jwks: { keys: [jwk] },
  cookies: { keys: [env('OP_COOKIE_KEY')] },
  claims: {
    openid: ['sub'],
    profile: ['name', 'preferred_username'],
    email: ['email', 'email_verified'],
  },
  scopes: ['openid', 'profile', 'email', 'offline_access'],
  findAccount: async (_ctx, id) => (id === alice.sub
    ? { accountId: id, claims: async () => alice }
    : undefined),
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: async () => resource,
      useGrantedResource: async () => true,
      getResourceServerInfo: async () => ({
        scope: 'api',
        audience: resource,
        accessTokenTTL: 300,
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg: 'ES256' } },
      }),
    },
  },
  rotateRefreshToken: true,
  issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
  loadExistingGrant: async (ctx) => {
    const grantId = ctx.oidc.result?.consent?.grantId
      || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) {
      return ctx.oidc.provider.Grant.find(grantId);
    }
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope('openid profile email');
    grant.addResourceScope(resource, 'api');
    await grant.save();
    return grant;
  },
  ttl: {
    AccessToken: 300,
    ClientCredentials: 300,
    IdToken: 300,
    AuthorizationCode: 60,
    RefreshToken: 30 * 24 * 3600,
    Grant: 30 * 24 * 3600,
    Session: 12 * 3600,
    Interaction: 600,
  },
});

const callback = provider.callback();
const server = https.createServer({ cert: tlsCert, key: tlsKey }, (req, res) => {
  if (req.method === 'GET' && req.url.startsWith('/interaction/')) {
    provider.interactionFinished(req, res, { login: { accountId: alice.sub } }, { mergeWithLastSubmission: false })
      .catch((error) => {
        res.statusCode = 500;
        res.end(String(error));
      });
    return;
  }
  callback(req, res);
});
server.keepAliveTimeout = 60_000;
server.listen(port, '127.0.0.1', () => console.error(`oidc-provider ${issuer} on 127.0.0.1:${port}`));
