// A SAML 2.0 identity provider for the federation tests, built on samlify (tests/peers/package.json): ScaiKey is
// the service provider under test; this is the real peer it talks to.
//
//   node saml-idp.mjs --key idp-key.pem --cert idp-cert.pem [--port 0]
//
// GET  /metadata  the IdP's metadata (entityID, HTTP-Redirect SSO, signing certificate)
// POST /sp        registers a service provider from its metadata XML (the body)
// POST /user      sets the user the IdP signs in next: {"email","firstName","lastName"} (JSON)
// GET  /sso       the HTTP-Redirect SSO endpoint: parses (and, when signed, verifies) the AuthnRequest with
//                 samlify, and answers with what its HTTP-POST form would carry, as JSON:
//                 {"action", "SAMLResponse", "RelayState", "requestSigned", "requestId"}
// Prints "READY http://127.0.0.1:PORT" once listening.
import http from 'node:http';
import fs from 'node:fs';
import zlib from 'node:zlib';
import * as samlify from 'samlify';

const args = Object.fromEntries(process.argv.slice(2).reduce((pairs, value, i, all) => (i % 2 === 0 ? [...pairs, [value.replace(/^--/, ''), all[i + 1]]] : pairs), []));
const privateKey = fs.readFileSync(args.key, 'utf8');
const signingCert = fs.readFileSync(args.cert, 'utf8');

// The peer is not what is under test: schema validation of the messages ScaiKey sends is left out.
samlify.setSchemaValidator({ validate: () => Promise.resolve('skipped') });

const serviceProviders = new Map();
let user = { email: 'saml.user@example.com', firstName: 'Sam', lastName: 'Federated' };
let base = '';

function identityProvider(wantAuthnRequestsSigned) {
  return samlify.IdentityProvider({
    entityID: `${base}/metadata`,
    privateKey,
    signingCert,
    wantAuthnRequestsSigned,
    nameIDFormat: ['urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress'],
    singleSignOnService: [{ Binding: 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect', Location: `${base}/sso` }],
  });
}

const escape = (text) => String(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

// The login response samlify builds, with an AttributeStatement carrying the user's names and email.
function loginResponseTemplate(idp, sp, requestId) {
  return (template) => {
    const now = new Date();
    const later = new Date(now.getTime() + 5 * 60 * 1000).toISOString();
    const acs = sp.entityMeta.getAssertionConsumerService('post');
    const attribute = (name, value) =>
      `<saml:Attribute Name="${name}" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:basic"><saml:AttributeValue xsi:type="xs:string">${escape(value)}</saml:AttributeValue></saml:Attribute>`;
    const values = {
      ID: idp.entitySetting.generateID(),
      AssertionID: idp.entitySetting.generateID(),
      Destination: acs,
      Audience: sp.entityMeta.getEntityID(),
      SubjectRecipient: acs,
      Issuer: idp.entityMeta.getEntityID(),
      IssueInstant: now.toISOString(),
      StatusCode: 'urn:oasis:names:tc:SAML:2.0:status:Success',
      ConditionsNotBefore: now.toISOString(),
      ConditionsNotOnOrAfter: later,
      SubjectConfirmationDataNotOnOrAfter: later,
      NameIDFormat: 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
      NameID: user.email,
      InResponseTo: requestId,
      AuthnStatement: '@@AUTHN@@',
    };
    const authn = `<saml:AuthnStatement AuthnInstant="${now.toISOString()}"><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>`;
    values.AttributeStatement = '@@ATTRIBUTES@@';
    const filled = Object.entries(values).reduce((xml, [tag, value]) => xml.split(`{${tag}}`).join(escape(value)), template);
    const context = filled.replace('@@AUTHN@@', authn).replace('@@ATTRIBUTES@@',
      `<saml:AttributeStatement>${attribute('email', user.email)}${attribute('firstName', user.firstName)}${attribute('lastName', user.lastName)}</saml:AttributeStatement>`);
    return { id: values.ID, context };
  };
}

async function readBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

function send(res, status, type, body) {
  res.writeHead(status, { 'content-type': type });
  res.end(body);
}

async function sso(req, res, url) {
  const raw = url.search.slice(1);
  const query = Object.fromEntries(url.searchParams);
  // The signed octets are the query's own encoded parameters, in the binding's order.
  const part = (name) => raw.split('&').find((p) => p.startsWith(`${name}=`));
  const octetString = ['SAMLRequest', 'RelayState', 'SigAlg'].map(part).filter(Boolean).join('&');
  const xml = zlib.inflateRawSync(Buffer.from(query.SAMLRequest ?? '', 'base64')).toString('utf8');
  const issuer = /<(?:\w+:)?Issuer[^>]*>([^<]+)</.exec(xml)?.[1];
  const sp = serviceProviders.get(issuer);
  if (!sp) return send(res, 400, 'text/plain', `unknown service provider ${issuer}`);
  const signed = Boolean(query.Signature);
  const idp = identityProvider(signed);
  let request;
  try {
    request = await idp.parseLoginRequest(sp, 'redirect', { query, octetString });
  } catch (e) {
    return send(res, 400, 'text/plain', `AuthnRequest refused: ${e.message}`);
  }
  const requestId = request.extract.request.id;
  const response = await idp.createLoginResponse(sp, request, 'post', user, {
    relayState: query.RelayState,
    customTagReplacement: loginResponseTemplate(idp, sp, requestId),
  });
  send(res, 200, 'application/json', JSON.stringify({
    action: response.entityEndpoint,
    SAMLResponse: response.context,
    RelayState: query.RelayState ?? null,
    requestSigned: signed,
    requestId,
  }));
}

const server = http.createServer(async (req, res) => {
  try {
    const url = new URL(req.url, base);
    if (req.method === 'GET' && url.pathname === '/metadata') {
      return send(res, 200, 'application/samlmetadata+xml', identityProvider(false).getMetadata());
    }
    if (req.method === 'POST' && url.pathname === '/sp') {
      const metadata = await readBody(req);
      const sp = samlify.ServiceProvider({ metadata });
      serviceProviders.set(sp.entityMeta.getEntityID(), sp);
      return send(res, 204, 'text/plain', '');
    }
    if (req.method === 'POST' && url.pathname === '/user') {
      user = JSON.parse(await readBody(req));
      return send(res, 204, 'text/plain', '');
    }
    if (req.method === 'GET' && url.pathname === '/sso') {
      return await sso(req, res, url);
    }
    send(res, 404, 'text/plain', 'not found');
  } catch (e) {
    send(res, 500, 'text/plain', String(e && e.stack || e));
  }
});

server.listen(Number(args.port ?? 0), '127.0.0.1', () => {
  base = `http://127.0.0.1:${server.address().port}`;
  console.log(`READY ${base}`);
});
