// Peer provider for the benchmark: panva's oidc-provider doing the same work
// as ours for the client credentials grant (client_secret_basic, RFC 9068 JWT
// access token signed with ES256), on two node:cluster workers so it gets the
// same two cores as gunicorn -w 2.
//
// Environment:
//   PEER_PORT          port on 127.0.0.1 (default 8101)
//   PEER_WORKERS       cluster workers (default 2)
//   PEER_MODULES       node_modules folder holding oidc-provider
//                      (default ../.peer/node_modules beside this file)
//   PEER_CLIENT_ID     client id (default bench-rp)
//   PEER_CLIENT_SECRET client secret (default bench-rp-secret)
import cluster from 'node:cluster';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const port = Number(process.env.PEER_PORT || 8101);
const workers = Number(process.env.PEER_WORKERS || 2);
const modules = process.env.PEER_MODULES || join(here, '..', '.peer', 'node_modules');
const clientId = process.env.PEER_CLIENT_ID || 'bench-rp';
const clientSecret = process.env.PEER_CLIENT_SECRET || 'bench-rp-secret';
const issuer = `http://127.0.0.1:${port}`;
const resource = `${issuer}/api`;

// The key and cookie secret are made once in the primary and handed to the
// workers, so every worker signs with the same key and the JWKS stays stable.
function makeSecrets() {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = privateKey.export({ format: 'jwk' });
  const kid = randomBytes(8).toString('hex');
  return JSON.stringify({
    jwks: { keys: [{ ...jwk, kid, alg: 'ES256', use: 'sig' }] },
    cookieKeys: [randomBytes(32).toString('base64url')],
  });
}

// oidc-provider lives outside this folder (in a git-ignored one), so resolve
// it from there rather than from this file's location.
async function loadProvider() {
  const require = createRequire(join(modules, 'noop.js'));
  const entry = require.resolve('oidc-provider');
  const mod = await import(pathToFileURL(entry).href);
  return mod.default;
}

function configuration({ jwks, cookieKeys }) {
  return {
    clients: [{
      client_id: clientId,
      client_secret: clientSecret,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
    }],
    jwks,
    // The only key is ES256, so every client must default to it.
    clientDefaults: { id_token_signed_response_alg: 'ES256' },
    cookies: { keys: cookieKeys },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        // Without an explicit resource parameter every token is for our one
        // API, which makes the access token a JWT (RFC 9068).
        defaultResource: async () => resource,
        useGrantedResource: async () => true,
        getResourceServerInfo: async () => ({
          scope: 'api',
          audience: resource,
          // Same lifetime as idp's default tokens.access_token_ttl.
          accessTokenTTL: 600,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'ES256' } },
        }),
      },
    },
    // Set, not defaulted: the default function logs a notice on every call.
    ttl: { ClientCredentials: 600 },
  };
}

async function runWorker() {
  const Provider = await loadProvider();
  const provider = new Provider(issuer, configuration(JSON.parse(process.env.PEER_SECRETS)));
  provider.listen(port, '127.0.0.1');
}

function runPrimary() {
  const env = { PEER_SECRETS: makeSecrets() };
  let ready = 0;
  for (let i = 0; i < workers; i += 1) {
    cluster.fork(env).on('listening', () => {
      ready += 1;
      if (ready === workers) console.log(`peer ready on ${issuer} with ${workers} workers`);
    });
  }
  // A dead worker would silently halve the peer's capacity: stop instead.
  cluster.on('exit', (worker, code, signal) => {
    console.error(`peer worker ${worker.process.pid} exited (${signal || code})`);
    process.exit(1);
  });
  for (const sig of ['SIGINT', 'SIGTERM']) {
    process.on(sig, () => {
      cluster.removeAllListeners('exit');
      for (const w of Object.values(cluster.workers)) w.kill();
      process.exit(0);
    });
  }
}

if (cluster.isPrimary) runPrimary();
else await runWorker();
