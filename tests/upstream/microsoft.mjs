// Microsoft's multi-tenant ("common") endpoint as relying parties meet it:
// discovery names the issuer template https://login.microsoftonline.com/{tenantid}/v2.0,
// each ID token's iss is that template filled with the account's tenant (its
// tid claim), and authorization responses carry no RFC 9207 iss.
//
// oidc-provider has one issuer per instance, so the ID token is re-signed here
// with the same key after its iss is set to the tenant's.
import { sign } from 'node:crypto';

const b64 = (data) => Buffer.from(data).toString('base64url');

function retarget(idToken, template, privateKey) {
  const [header, payload] = idToken.split('.');
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  claims.iss = template.replace('{tenantid}', claims.tid);
  const input = `${header}.${b64(JSON.stringify(claims))}`;
  return `${input}.${b64(sign('sha256', Buffer.from(input), privateKey))}`;
}

function withoutIss(location) {
  const url = new URL(location);
  if (!url.searchParams.has('code') && !url.searchParams.has('error')) return location;
  url.searchParams.delete('iss');
  return url.href;
}

export function microsoftTenancy(template, privateKey) {
  return async (ctx, next) => {
    await next();
    const route = ctx.oidc?.route;
    if (route === 'discovery' && ctx.body) {
      ctx.body.issuer = template;
      delete ctx.body.authorization_response_iss_parameter_supported;
    } else if (route === 'token' && ctx.body?.id_token) {
      ctx.body.id_token = retarget(ctx.body.id_token, template, privateKey);
    }
    const location = ctx.response.get('location');
    if (location && /^https?:/.test(location) && withoutIss(location) !== location) ctx.redirect(withoutIss(location));
  };
}
