// One upstream provider: its registered clients and accounts (Registry) and
// the oidc-provider configuration that serves them.
import { randomBytes } from 'node:crypto';

const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

// What a provider knows, changed at run time by the tests through /_admin.
export class Registry {
  constructor(name, homeTenant) {
    this.name = name;
    this.homeTenant = homeTenant;
    this.clients = new Map();
    this.accounts = new Map();
  }

  // Registering a client id again replaces it (new secret, new redirect URIs).
  clientMetadata({
    client_id: clientId, client_secret: clientSecret, redirect_uris: redirectUris,
    token_endpoint_auth_method: authMethod = 'client_secret_basic',
  }) {
    return {
      client_id: clientId,
      client_secret: clientSecret,
      redirect_uris: redirectUris,
      token_endpoint_auth_method: authMethod,
      grant_types: ['authorization_code'],
      response_types: ['code'],
    };
  }

  addClient(item) {
    const metadata = this.clientMetadata(item);
    this.clients.set(metadata.client_id, metadata);
    return metadata;
  }

  // email and email_verified may be null: such a claim is then left out.
  addAccount({
    sub, email = null, email_verified: verified = true, name = null, tenant = null,
  }) {
    const account = {
      sub, email, email_verified: verified, name, ...(this.name === 'microsoft' ? { tid: tenant || this.homeTenant } : {}),
    };
    this.accounts.set(sub, account);
    return account;
  }

  // The login form takes a subject or an email address.
  lookup(login) {
    return this.accounts.get(login) || [...this.accounts.values()].find((a) => a.email === login);
  }

  claims(sub) {
    const account = this.accounts.get(sub);
    if (!account) return undefined;
    return Object.fromEntries(Object.entries(account).filter(([, v]) => v !== null));
  }
}

// Clients come from the registry on every lookup; oidc-provider rebuilds its
// cached client whenever the metadata changes.
function clientAdapter(registry) {
  return {
    find: async (id) => registry.clients.get(id),
    upsert: async () => { throw new Error('clients are registered through /_admin/clients'); },
    destroy: async () => {},
  };
}

// First-party behaviour: every requested scope is granted without a consent page.
async function loadExistingGrant(ctx) {
  const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
  if (grantId) {
    const grant = await ctx.oidc.provider.Grant.find(grantId);
    if (grant) return grant;
  }
  const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
  grant.addOIDCScope([...ctx.oidc.requestParamScopes].join(' '));
  await grant.save();
  return grant;
}

async function renderError(ctx, out) {
  ctx.type = 'html';
  ctx.body = `<!DOCTYPE html><title>${escape(out.error)}</title>`
    + `<p id="error">${escape(out.error)}</p><p id="error_description">${escape(out.error_description || '')}</p>`;
}

export function buildProvider(Provider, {
  issuer, prefix, registry, jwks, adapter,
}) {
  const name = registry.name;
  const cookie = { httpOnly: true, sameSite: 'lax', path: prefix };
  return new Provider(issuer, {
    adapter: (model) => (model === 'Client' ? clientAdapter(registry) : adapter(model)),
    jwks,
    findAccount: async (ctx, sub) => (registry.accounts.has(sub)
      ? { accountId: sub, claims: async () => registry.claims(sub) }
      : undefined),
    // amr (as the login form chose it) rides on openid so that every ID token has it.
    claims: {
      openid: name === 'microsoft' ? ['sub', 'amr', 'tid'] : ['sub', 'amr'],
      email: ['email', 'email_verified'],
      profile: ['name'],
    },
    // Google and the others put email and name in the ID token itself.
    conformIdTokenClaims: false,
    cookies: {
      keys: [randomBytes(32).toString('base64url')],
      // Every provider shares the host with the others and with the provider
      // under test, whose cookies ignore the port: names of their own.
      names: { session: `${name}_session`, interaction: `${name}_interaction`, resume: `${name}_resume` },
      long: cookie,
      short: cookie,
    },
    features: { devInteractions: { enabled: false } },
    interactions: { url: (ctx, interaction) => `${prefix}/interaction/${interaction.uid}` },
    loadExistingGrant,
    pkce: { required: () => true },
    renderError,
    responseTypes: ['code'],
    // Numbers, not the default functions, which log a notice on every call.
    ttl: {
      AccessToken: 3600, AuthorizationCode: 60, Grant: 3600, IdToken: 3600, Interaction: 600, Session: 3600,
    },
  });
}
