// The upstreams' login page: oidc-provider hands the browser to
// {prefix}/interaction/{uid}; the form there signs in (login, mfa, amr) or
// denies, and oidc-provider resumes the stored authorization request.
//
// Form fields:
//   login  the account's subject or email address
//   mfa    checkbox: amr ["pwd", "mfa"] instead of ["pwd"]
//   amr    optional, overrides both: comma-separated values, "-" for no amr claim
//   age    optional: the sign-in happened this many seconds ago (auth_time), so
//          a test can meet max_age without waiting
import { URLSearchParams } from 'node:url';

const escape = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page({ prefix, registry }, details, error = '') {
  const action = `${prefix}/interaction/${details.uid}`;
  const reasons = details.prompt.reasons.join(' ');
  return `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Sign in: ${escape(registry.name)}</title></head>
<body>
<h1>${escape(registry.name)}</h1>
<p>Client <span id="client">${escape(details.params.client_id)}</span> asks for a sign-in
(prompt <span id="prompt">${escape(details.prompt.name)}</span>, reasons <span id="reasons">${escape(reasons)}</span>).</p>
${error ? `<p id="error">${escape(error)}</p>` : ''}
<form method="post" action="${action}/login">
<label>Subject or email <input name="login" value="${escape(details.params.login_hint)}" autofocus></label>
<label><input type="checkbox" name="mfa" value="1"> with a second factor</label>
<label>amr (optional) <input name="amr" value=""></label>
<label>signed in seconds ago (optional) <input name="age" value=""></label>
<button type="submit">Sign in</button>
</form>
<form method="post" action="${action}/abort"><button type="submit">Deny</button></form>
</body></html>`;
}

function sendHtml(res, status, html) {
  res.writeHead(status, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(html);
}

function amrFrom(form) {
  const chosen = (form.get('amr') || '').trim();
  if (chosen === '-') return undefined;
  if (chosen) return chosen.split(/[\s,]+/).filter(Boolean);
  return form.get('mfa') ? ['pwd', 'mfa'] : ['pwd'];
}

async function signIn(req, res, ctx, details) {
  const form = new URLSearchParams(await ctx.readBody(req));
  const account = ctx.registry.lookup((form.get('login') || '').trim());
  if (!account) return sendHtml(res, 400, page(ctx, details, 'unknown account'));
  const age = Number(form.get('age') || 0);
  const ts = Math.floor(Date.now() / 1000) - (Number.isInteger(age) && age > 0 ? age : 0);
  const result = { login: { accountId: account.sub, amr: amrFrom(form), ts } };
  return ctx.provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
}

// OIDC Core §3.1.2.6: the end-user said no.
async function deny(req, res, ctx) {
  await ctx.readBody(req);
  const result = { error: 'access_denied', error_description: 'End-User denied the request' };
  return ctx.provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
}

// Answers the request if it is for the login page; false when it is not.
export async function handleInteraction(req, res, ctx) {
  const path = req.url.split('?')[0];
  const match = path.slice(ctx.prefix.length).match(/^\/interaction\/([\w-]+)(\/login|\/abort)?$/);
  if (!match) return false;
  let details;
  try {
    details = await ctx.provider.interactionDetails(req, res);
  } catch (err) {
    sendHtml(res, 400, `<p id="error">${escape(err.message)}</p>`);
    return true;
  }
  const [, uid, step] = match;
  if (details.uid !== uid) {
    sendHtml(res, 400, '<p id="error">interaction mismatch</p>');
  } else if (!step && req.method === 'GET') {
    sendHtml(res, 200, page(ctx, details));
  } else if (step === '/login' && req.method === 'POST') {
    await signIn(req, res, ctx, details);
  } else if (step === '/abort' && req.method === 'POST') {
    await deny(req, res, ctx);
  } else {
    sendHtml(res, 405, '<p id="error">method not allowed</p>');
  }
  return true;
}
