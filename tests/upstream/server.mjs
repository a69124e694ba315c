// Loopback upstream OpenID providers for the tests: panva's oidc-provider
// serving Google, Microsoft (multi-tenant), docomo d-account and NTT East
// Business ID, each under its own path with its own issuer and key, all on one
// port of 127.0.0.1.
//
//   node server.mjs '{"port": 0, "tenants": [HOME, OTHER]}'
//
// The argument is JSON: port on 127.0.0.1 (0: any free one) and the Microsoft
// tenant ids, the accounts' default first. tests/upstream/oidc.py starts it.
// UPSTREAM_MODULES names the node_modules folder holding oidc-provider
// (default .modules/node_modules beside this file).
//
// Clients and accounts are added while running, by POSTing JSON:
//   /_admin/clients   {provider, client_id, client_secret, redirect_uris,
//                      token_endpoint_auth_method}
//   /_admin/accounts  {provider, sub, email, email_verified, name, tenant}
//   /_admin/tamper    {provider, kind}: the next ID token from that provider's
//                     token endpoint is spoilt: kind "signature" (signed by a
//                     stranger's key under the same kid), "iss", "aud", "nonce"
//                     (another value) or "expired" (exp and iat hours ago)
// Once listening, one line goes to standard output:
// "upstreams ready {json}" with the base URL and each issuer.
import { generateKeyPair, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { handleInteraction } from './interactions.mjs';
import { microsoftTenancy } from './microsoft.mjs';
import { buildProvider, Registry } from './providers.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const modules = process.env.UPSTREAM_MODULES || join(here, '.modules', 'node_modules');
const NAMES = ['google', 'microsoft', 'daccount', 'nttbizid'];

async function load(specifier) {
  const require = createRequire(join(modules, 'noop.js'));
  return import(pathToFileURL(require.resolve(specifier)).href);
}

async function rsaKey(name) {
  const generate = () => promisify(generateKeyPair)('rsa', { modulusLength: 2048 });
  const [{ privateKey }, { privateKey: stranger }] = await Promise.all([generate(), generate()]);
  const jwk = privateKey.export({ format: 'jwk' });
  return { privateKey, stranger, jwks: { keys: [{ ...jwk, kid: `${name}-${randomBytes(4).toString('hex')}`, alg: 'RS256', use: 'sig' }] } };
}

// Microsoft's common endpoint: its discovery lives under /common/v2.0 and names
// a templated issuer; tokens carry the tenant's own (microsoft.mjs).
function mountFor(name) {
  return name === 'microsoft' ? '/microsoft/common/v2.0' : `/${name}`;
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res, status, body, type = 'application/json') {
  res.writeHead(status, { 'Content-Type': `${type}; charset=utf-8` });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
}

// The tests' hand on the upstreams: register a client (validated as
// oidc-provider would at its first use) or an account.
async function admin(req, res, path, upstreams) {
  if (req.method !== 'POST') return send(res, 405, { error: 'POST only' });
  const item = JSON.parse(await readBody(req) || '{}');
  const upstream = upstreams.get(item.provider);
  if (!upstream) return send(res, 400, { error: `unknown provider ${item.provider}` });
  const { provider, registry } = upstream;
  if (path === '/_admin/accounts') return send(res, 201, registry.addAccount(item));
  if (path === '/_admin/tamper') {
    if (!SPOILERS[item.kind]) return send(res, 400, { error: `unknown kind ${item.kind}` });
    upstream.tamper = item.kind;
    return send(res, 201, { provider: item.provider, kind: item.kind });
  }
  if (path !== '/_admin/clients') return send(res, 404, { error: 'not found' });
  try {
    await provider.Client.validate(registry.clientMetadata(item));
  } catch (err) {
    return send(res, 400, { error: err.message, error_description: err.error_description });
  }
  return send(res, 201, registry.addClient(item));
}

// How each kind of tampering changes an ID token's claims (and its signing key).
const HOUR = 3600;
const SPOILERS = {
  signature: (claims) => ({ claims, stranger: true }),
  iss: (claims) => ({ claims: { ...claims, iss: `${claims.iss}/elsewhere` } }),
  aud: (claims) => ({ claims: { ...claims, aud: 'another-client' } }),
  nonce: (claims) => ({ claims: { ...claims, nonce: 'another-nonce' } }),
  expired: (claims) => ({ claims: { ...claims, iat: claims.iat - 3 * HOUR, exp: claims.iat - 2 * HOUR } }),
};

// The token endpoint's answer, held back and sent with its ID token spoilt.
function spoilTokenResponse(res, kind, { key, jose }) {
  const chunks = [];
  const { end } = res;
  res.write = (chunk) => { chunks.push(Buffer.from(chunk)); return true; };
  res.end = (chunk) => {
    if (chunk) chunks.push(Buffer.from(chunk));
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    const header = jose.decodeProtectedHeader(body.id_token);
    const { claims, stranger } = SPOILERS[kind](jose.decodeJwt(body.id_token));
    const signer = stranger ? key.stranger : key.privateKey;
    new jose.SignJWT(claims).setProtectedHeader(header).sign(signer).then((token) => {
      const text = JSON.stringify({ ...body, id_token: token });
      res.setHeader('Content-Length', Buffer.byteLength(text));
      end.call(res, text);
    });
    return res;
  };
}

async function dispatch(req, res, upstreams) {
  const path = req.url.split('?')[0];
  if (path.startsWith('/_admin/')) return admin(req, res, path, upstreams);
  const upstream = [...upstreams.values()].find(({ prefix }) => path.startsWith(`${prefix}/`));
  if (!upstream) return send(res, 404, { error: 'not found' });
  if (await handleInteraction(req, res, { ...upstream, readBody })) return undefined;
  if (upstream.tamper && path === `${upstream.prefix}/token`) {
    spoilTokenResponse(res, upstream.tamper, upstream);
    upstream.tamper = null;
  }
  // Mounted as express does it, so oidc-provider builds its URLs under prefix.
  req.originalUrl = req.url;
  req.url = req.url.slice(upstream.prefix.length);
  return upstream.handler(req, res);
}

async function main() {
  const { port, tenants } = JSON.parse(process.argv[2]);
  const { default: Provider } = await load('oidc-provider');
  const { createMemoryAdapter } = await load('oidc-provider/lib/adapters/memory_adapter.js');
  const jose = await load('jose');
  const keys = await Promise.all(NAMES.map(rsaKey));

  const upstreams = new Map(); // name -> { prefix, provider, registry, handler, key, jose, tamper }
  const server = createServer((req, res) => {
    // Node's keep-alive and Python's clients disagree on idle connections.
    res.setHeader('Connection', 'close');
    dispatch(req, res, upstreams).catch((err) => {
      console.error(err);
      if (!res.headersSent) send(res, 500, { error: 'server_error', error_description: String(err) });
      else res.end();
    });
  });
  // The issuers name the port, so listen first; nobody calls before "ready".
  await new Promise((resolve) => { server.listen(port || 0, '127.0.0.1', resolve); });
  const base = `http://127.0.0.1:${server.address().port}`;
  const issuers = {};
  NAMES.forEach((name, i) => {
    const prefix = mountFor(name);
    const registry = new Registry(name, tenants[0]);
    const provider = buildProvider(Provider, {
      issuer: `${base}${prefix}`, prefix, registry, jwks: keys[i].jwks, adapter: createMemoryAdapter(),
    });
    issuers[name] = provider.issuer;
    if (name === 'microsoft') {
      issuers[name] = `${base}/microsoft/{tenantid}/v2.0`;
      provider.use(microsoftTenancy(issuers[name], keys[i].privateKey));
    }
    upstreams.set(name, {
      prefix, provider, registry, handler: provider.callback(), key: keys[i], jose, tamper: null,
    });
  });

  for (const sig of ['SIGINT', 'SIGTERM']) {
    process.on(sig, () => { server.close(); process.exit(0); });
  }
  console.log(`upstreams ready ${JSON.stringify({ base, tenants, issuers })}`);
}

await main();
