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
  const { privateKey } = await promisify(generateKeyPair)('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' });
  return { privateKey, jwks: { keys: [{ ...jwk, kid: `${name}-${randomBytes(4).toString('hex')}`, alg: 'RS256', use: 'sig' }] } };
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
// The tests' hand on the upstreams: register a client (validated as
// oidc-provider would at its first use) or an account.
async function admin(req, res, path, upstreams) {
  if (req.method !== 'POST') return send(res, 405, { error: 'POST only' });
  const item = JSON.parse(await readBody(req) || '{}');
  const upstream = upstreams.get(item.provider);
  if (!upstream) return send(res, 400, { error: `unknown provider ${item.provider}` });
  const { provider, registry } = upstream;
  if (path === '/_admin/accounts') return send(res, 201, registry.addAccount(item));
  if (path !== '/_admin/clients') return send(res, 404, { error: 'not found' });
  try {
    await provider.Client.validate(registry.clientMetadata(item));
  } catch (err) {
    return send(res, 400, { error: err.message, error_description: err.error_description });
  }
  return send(res, 201, registry.addClient(item));
}

async function dispatch(req, res, upstreams) {
  const path = req.url.split('?')[0];
  if (path.startsWith('/_admin/')) return admin(req, res, path, upstreams);
  const upstream = [...upstreams.values()].find(({ prefix }) => path.startsWith(`${prefix}/`));
  if (!upstream) return send(res, 404, { error: 'not found' });
  if (await handleInteraction(req, res, { ...upstream, readBody })) return undefined;
  // Mounted as express does it, so oidc-provider builds its URLs under prefix.
  req.originalUrl = req.url;
  req.url = req.url.slice(upstream.prefix.length);
  return upstream.handler(req, res);
}

async function main() {
  const { port, tenants } = JSON.parse(process.argv[2]);
  const { default: Provider } = await load('oidc-provider');
  const { createMemoryAdapter } = await load('oidc-provider/lib/adapters/memory_adapter.js');
  const keys = await Promise.all(NAMES.map(rsaKey));

  const upstreams = new Map(); // name -> { prefix, provider, registry, handler }
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
    upstreams.set(name, { prefix, provider, registry, handler: provider.callback() });
  });

  for (const sig of ['SIGINT', 'SIGTERM']) {
    process.on(sig, () => { server.close(); process.exit(0); });
  }
  console.log(`upstreams ready ${JSON.stringify({ base, tenants, issuers })}`);
}

await main();
