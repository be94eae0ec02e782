// A real OpenID Connect provider (panva's oidc-provider) for the sign-in tests, on 127.0.0.1.
//
// Started by tests/oidc.py with:
//   OIDC_TEST_CLIENTS   JSON list of {client_id, client_secret}: the app's registrations
//   OIDC_TEST_ACCOUNTS  JSON object: login name -> the claims that account's ID token carries
// It listens on a free port and prints "READY <issuer>" once it answers. A person signs in on
// the provider's own login page by typing one of the login names (any password); consent is
// taken as given, as a school's provider does for its own apps. Only the redirect URIs of the
// app's sign-in callback are accepted, on the test client's host or a loopback address.
import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:http';

import Provider from 'oidc-provider';

const clients = JSON.parse(process.env.OIDC_TEST_CLIENTS || '[]');
const accounts = JSON.parse(process.env.OIDC_TEST_ACCOUNTS || '{}');
const CALLBACK = /^http:\/\/(testserver|localhost:\d+|127\.0\.0\.1:\d+)\/accounts\/oidc\/[a-z0-9-]+\/login\/callback\/$/;

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'test-key', use: 'sig', alg: 'RS256' };

const server = createServer();
server.listen(0, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, {
    clients: clients.map((client) => ({
      client_id: client.client_id,
      client_secret: client.client_secret,
      grant_types: ['authorization_code'],
      response_types: ['code'],
      // Replaced below by the callback pattern; oidc-provider needs one to register the client.
      redirect_uris: ['http://testserver/accounts/oidc/registered/login/callback/'],
    })),
    jwks: { keys: [signingKey] },
    cookies: { keys: ['only-for-tests'] },
    // Every authorisation request must carry a PKCE challenge (S256), confidential client or not.
    pkce: { required: () => true },
    // The claims go into the ID token itself: the app checks them there, as it does with
    // Google's and Microsoft's ID tokens.
    conformIdTokenClaims: false,
    claims: {
      openid: ['sub', 'hd', 'tid', 'idp', 'employee_id'],
      email: ['email', 'email_verified'],
      profile: ['name', 'given_name', 'family_name', 'preferred_username'],
    },
    async findAccount(ctx, id) {
      const claims = accounts[id];
      if (!claims) {
        return undefined;
      }
      return { accountId: id, async claims() { return { sub: id, ...claims }; } };
    },
    async loadExistingGrant(ctx) {
      const { client, session } = ctx.oidc;
      const grantId = ctx.oidc.result?.consent?.grantId || session.grantIdFor(client.clientId);
      if (grantId) {
        return ctx.oidc.provider.Grant.find(grantId);
      }
      const grant = new ctx.oidc.provider.Grant({ clientId: client.clientId, accountId: session.accountId });
      grant.addOIDCScope('openid email profile');
      await grant.save();
      return grant;
    },
  });
  provider.Client.prototype.redirectUriAllowed = (uri) => CALLBACK.test(uri);
  server.on('request', provider.callback());
  process.stdout.write(`READY ${issuer}\n`);
});

process.on('SIGTERM', () => server.close(() => process.exit(0)));
