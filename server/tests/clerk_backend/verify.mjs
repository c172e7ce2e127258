// Session tokens as a Clerk app's backend reads them (server/tests/clerk_backend.rs runs this): each
// token is verified with the real `jose` package against the server's JWKS over HTTP, and with
// @clerk/backend's own `verifyToken` (networkless, with the JWKS key as its `jwtKey`); then
// @clerk/backend's `signedInAuthObject` — Clerk's parser of v2 claims — derives orgId, orgRole,
// orgSlug and orgPermissions, which must be what Hallpass's membership says, and `has()` must agree.
// A token with one changed byte must fail both verifications.
//
// Usage: node verify.mjs <node_modules folder with jose and @clerk/backend>, with on stdin
//   {"jwks_url", "issuer", "cases": [{"name", "jwt", "expect": {"orgId", "orgRole", "orgSlug",
//    "orgPermissions", "notGranted"}}]}
// (`expect.orgId` null for a token without an organization). Prints one line per case, and exits 1
// after the first mismatch.
import { createRequire } from "node:module";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const tools = process.argv[2];
if (!tools) {
  console.error("usage: node verify.mjs <node_modules folder>");
  process.exit(2);
}
const require = createRequire(join(tools, "noop.js"));
const jose = await import(pathToFileURL(require.resolve("jose")).href);
const clerk = await import(pathToFileURL(require.resolve("@clerk/backend")).href);
const internal = await import(pathToFileURL(require.resolve("@clerk/backend/internal")).href);

let input = "";
for await (const chunk of process.stdin) input += chunk;
const { jwks_url, issuer, cases } = JSON.parse(input);

function fail(name, what, got, want) {
  console.error(`${name}: ${what}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
  process.exit(1);
}

const jwks = jose.createRemoteJWKSet(new URL(jwks_url), { timeoutDuration: 10_000 });
const { keys } = await (await fetch(jwks_url, { signal: AbortSignal.timeout(10_000) })).json();
const pems = {};
for (const jwk of keys) pems[jwk.kid] = await jose.exportSPKI(await jose.importJWK(jwk, "RS256"));

for (const { name, jwt, expect } of cases) {
  const { payload, protectedHeader } = await jose.jwtVerify(jwt, jwks, { issuer, algorithms: ["RS256"] });
  // The package's `verifyToken` answers the payload and throws on any failure.
  const claims = await clerk.verifyToken(jwt, { jwtKey: pems[protectedHeader.kid] });
  if (claims.sid !== payload.sid) fail(name, "Clerk's verifyToken sid", claims.sid, payload.sid);

  const auth = internal.signedInAuthObject({ sessionToken: jwt }, jwt, claims);
  const got = { orgId: auth.orgId ?? null, orgRole: auth.orgRole ?? null, orgSlug: auth.orgSlug ?? null };
  const want = { orgId: expect.orgId, orgRole: expect.orgRole, orgSlug: expect.orgSlug };
  if (JSON.stringify(got) !== JSON.stringify(want)) fail(name, "orgId/orgRole/orgSlug", got, want);
  const perms = [...(auth.orgPermissions ?? [])].sort();
  const wantPerms = [...expect.orgPermissions].sort();
  if (JSON.stringify(perms) !== JSON.stringify(wantPerms)) fail(name, "orgPermissions", perms, wantPerms);
  for (const permission of expect.orgPermissions) {
    if (!auth.has({ permission })) fail(name, `has({ permission: ${permission} })`, false, true);
  }
  for (const permission of expect.notGranted) {
    if (auth.has({ permission })) fail(name, `has({ permission: ${permission} })`, true, false);
  }
  if (expect.orgRole && !auth.has({ role: expect.orgRole })) fail(name, "has({ role })", false, true);
  if (auth.userId !== payload.sub || auth.sessionId !== payload.sid) fail(name, "userId/sessionId", auth.userId, payload.sub);

  // One byte of the payload changed: neither verifier may accept it.
  const [h, p, s] = jwt.split(".");
  const flipped = `${h}.${p.slice(0, 10)}${p[10] === "A" ? "B" : "A"}${p.slice(11)}.${s}`;
  const refusedByJose = await jose.jwtVerify(flipped, jwks, { issuer }).then(() => false, () => true);
  const refusedByClerk = await clerk.verifyToken(flipped, { jwtKey: pems[protectedHeader.kid] }).then(
    () => false,
    () => true,
  );
  if (!refusedByJose || !refusedByClerk) fail(name, "a tampered token refused (jose, Clerk)", [refusedByJose, refusedByClerk], [true, true]);
  console.log(`${name}: verified (jose, @clerk/backend); ${JSON.stringify(got)} ${JSON.stringify(perms)}`);
}
