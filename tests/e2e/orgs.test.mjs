// Organizations from the release package in headless Chromium against the real server: create,
// switch (`setActive`), `useAuth()`'s organization fields, `has()`, the `o` claim of every token
// handed out, reload, and three tabs agreeing on the active organization.
import { test } from "node:test";
import assert from "node:assert/strict";
import { api, uniqueEmail, PASSWORD, suiteBrowser } from "./harness.mjs";

const suite = suiteBrowser();

async function open(context) {
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e));
  await page.goto(`${suite.site.origin}/tests/e2e/fixtures/sdk.html`);
  await page.waitForFunction(() => window.ready === true);
  page.errors = errors;
  return page;
}

/** Loads the SDK in `page` as `window.hp`, with `window.org(token)`: the `o.id` of a session token. */
const load = (page, options = {}) =>
  page.evaluate(async (options) => {
    window.hp = await window.hallpass.Hallpass.load(options);
    window.org = (t) => JSON.parse(atob(t.split(".")[1].replace(/-/g, "+").replace(/_/g, "/"))).o?.id ?? null;
  }, { frontendApi: api, ...options });

test("create, switch, has(), tokens carrying o, the personal account, reload", async () => {
  const context = await suite.browser.newContext();
  const page = await open(context);
  // The suite's tokens live 5 s: with the default 10 s minimum no token would ever be cached.
  await load(page, { minTokenLifetimeMs: 1000 });
  const r = await page.evaluate(async ({ email, password }) => {
    await hp.signUp({ emailAddress: email, password });
    const before = hp.useAuth();
    const acme = await hp.createOrganization({ name: "Acme Inc" });
    const afterCreate = hp.useAuth().orgId;
    await hp.setActive({ organization: acme.id });
    const a = hp.useAuth();
    const token = await hp.getToken();
    const snapshot = hp.getSnapshot();
    const has = [a.has({ role: "org:admin" }), a.has({ role: "org:member" }),
      a.has({ permission: "org:sys_memberships:manage" }), a.has({ permission: "org:x:y" })];
    const bad = await hp.setActive({ organization: "org_does_not_exist" }).catch((e) => [e.name, e.code]);
    const stillActive = hp.useAuth().orgId;
    // A token for another organization: minted for it, cached per organization, the active one untouched.
    const beta = await hp.createOrganization({ name: "Beta" });
    const forBeta = await hp.getToken({ organizationId: beta.id });
    const other = {
      beta: beta.id,
      forBeta: org(forBeta),
      cached: (await hp.getToken({ organizationId: beta.id })) === forBeta,
      bySlug: org(await hp.getToken({ organizationId: beta.slug })),
      personal: org(await hp.getToken({ organizationId: null })),
      active: [hp.useAuth().orgId, org(await hp.getToken())],
      notMine: await hp.getToken({ organizationId: "org_not_mine" }).catch((e) => e.code),
    };
    return { other, before: [before.orgId, before.orgRole, before.orgPermissions], acme, afterCreate,
      auth: [a.orgId, a.orgRole, a.orgSlug], permissions: a.orgPermissions, has,
      tokenOrg: org(token), frozen: Object.isFrozen(snapshot.orgPermissions), bad, stillActive,
      session: snapshot.session.lastActiveOrganizationId };
  }, { email: uniqueEmail("org"), password: PASSWORD });
  assert.deepEqual(r.before, [null, null, null]);
  assert.match(r.acme.id, /^org_/);
  assert.equal(r.acme.slug, "acme-inc");
  assert.equal(r.acme.membersCount, 1);
  assert.equal(r.afterCreate, null, "creating does not make it active");
  assert.deepEqual(r.auth, [r.acme.id, "org:admin", "acme-inc"]);
  assert.ok(r.permissions.includes("org:sys_memberships:manage"));
  assert.deepEqual(r.has, [true, false, true, false]);
  assert.equal(r.tokenOrg, r.acme.id, "the token carries the organization");
  assert.equal(r.frozen, true);
  assert.equal(r.session, r.acme.id);
  assert.equal(r.bad[0], "HallpassError");
  assert.equal(r.stillActive, r.acme.id, "a refused switch changes nothing");
  assert.equal(r.other.forBeta, r.other.beta, "getToken({ organizationId }) carries that organization");
  assert.equal(r.other.cached, true, "cached per organization");
  assert.equal(r.other.bySlug, r.other.beta);
  assert.equal(r.other.personal, null, "organizationId: null is the personal account");
  assert.deepEqual(r.other.active, [r.acme.id, r.acme.id], "the active organization is untouched");
  assert.equal(r.other.notMine, "resource_not_found");

  // Reload: the choice survives, before any request.
  await page.reload();
  await page.waitForFunction(() => window.ready === true);
  await load(page);
  const reloaded = await page.evaluate(async () => [hp.useAuth().orgId, org(await hp.getToken())]);
  assert.deepEqual(reloaded, [r.acme.id, r.acme.id]);

  // The personal account: no organization anywhere, has() is false.
  const personal = await page.evaluate(async () => {
    await hp.setActive({ organization: null });
    const a = hp.useAuth();
    return [a.orgId, a.orgRole, a.orgPermissions, a.has({ role: "org:admin" }), org(await hp.getToken())];
  });
  assert.deepEqual(personal, [null, null, null, false, null]);
  assert.deepEqual(page.errors, []);
  await context.close();
});

test("three tabs: after a switch in one, every tab's orgId and every token it hands out carry the new organization", async () => {
  const context = await suite.browser.newContext();
  const tabs = [await open(context), await open(context), await open(context)];
  await load(tabs[0]);
  const ids = await tabs[0].evaluate(async ({ email, password }) => {
    await hp.signUp({ emailAddress: email, password });
    const a = await hp.createOrganization({ name: "Alpha" });
    const b = await hp.createOrganization({ name: "Beta" });
    await hp.setActive({ organization: a.id });
    return [a.id, b.id, b.slug];
  }, { email: uniqueEmail("tabs"), password: PASSWORD });
  const [alpha, beta, betaSlug] = ids;
  for (const tab of tabs.slice(1)) await load(tab);
  for (const tab of tabs) {
    await tab.waitForFunction((alpha) => hp.useAuth().orgId === alpha, alpha, { timeout: 20_000 });
  }
  // Every tab hands out tokens continuously; from the first moment a tab shows Beta, none of its
  // tokens may carry Alpha again.
  for (const tab of tabs) {
    await tab.evaluate(() => {
      window.seen = [];
      window.stop = false;
      (async () => {
        for (let i = 0; i < 100_000 && !window.stop; i++) {
          const orgId = hp.useAuth().orgId;
          const token = await hp.getToken();
          window.seen.push([orgId, org(token), hp.useAuth().orgId]);
          await new Promise((r) => setTimeout(r, 5));
        }
      })();
    });
  }
  await tabs[1].evaluate((slug) => hp.setActive({ organization: slug }), betaSlug);
  for (const tab of tabs) {
    await tab.waitForFunction((beta) => hp.useAuth().orgId === beta, beta, { timeout: 20_000 });
  }
  // A few more tokens from every tab after each has switched.
  for (const tab of tabs) {
    await tab.waitForFunction((beta) => window.seen.filter((s) => s[0] === beta).length >= 5, beta, { timeout: 20_000 });
  }
  for (const [n, tab] of tabs.entries()) {
    const seen = await tab.evaluate(() => {
      window.stop = true;
      return window.seen;
    });
    const first = seen.findIndex((s) => s[0] === beta);
    assert.ok(first >= 0, `tab ${n} switched`);
    for (const [before, token, after] of seen.slice(first)) {
      assert.equal(before, beta, `tab ${n} never goes back to Alpha`);
      assert.equal(token, beta, `tab ${n} hands out no Alpha token after it switched`);
      assert.equal(after, beta);
    }
    // Before the switch reached it, the tab was consistent too: orgId and token agree.
    for (const [before, token, after] of seen.slice(0, first)) {
      if (before === after) assert.equal(token, before, `tab ${n}: its orgId and its token agree`);
    }
  }
  // A reload in a tab that did not switch keeps Beta.
  await tabs[2].reload();
  await tabs[2].waitForFunction(() => window.ready === true);
  await load(tabs[2]);
  assert.deepEqual(await tabs[2].evaluate(async () => [hp.useAuth().orgId, org(await hp.getToken())]), [beta, beta]);
  for (const tab of tabs) assert.deepEqual(tab.errors, []);
  await context.close();
});

test("hallpass/organizations: invite, accept as a second user, members paged, change role, remove, leave, decline, revoke", async () => {
  const owner = await open(await suite.browser.newContext());
  const guest = await open(await suite.browser.newContext());
  await load(owner);
  await load(guest);
  const guestEmail = uniqueEmail("guest");
  const made = await owner.evaluate(async ({ email, password, guestEmail }) => {
    const { getOrganization } = window.organizations;
    await hp.signUp({ emailAddress: email, password });
    const created = await hp.createOrganization({ name: "Gamma" });
    await hp.setActive({ organization: created.id });
    const org = await getOrganization(hp, created.slug);
    const roles = await org.getRoles();
    const invitation = await org.inviteMember({ emailAddress: guestEmail, role: "org:member" });
    const other = await org.inviteMember({ emailAddress: "someone.else@example.com" });
    const revoked = await other.revoke();
    const pending = await org.getInvitations({ status: "pending" });
    return { id: org.id, name: org.name, roles: roles.data.map((r) => r.key), rolePermission: roles.data[0].permissions[0]?.createdAt,
      invitation: [invitation.emailAddress, invitation.role, invitation.status, invitation.organizationId],
      revoked: revoked.status, pending: [pending.total_count, pending.data.map((i) => i.emailAddress)] };
  }, { email: uniqueEmail("owner"), password: PASSWORD, guestEmail });
  assert.equal(made.name, "Gamma");
  assert.ok(made.roles.includes("org:admin") && made.roles.includes("org:member"), made.roles.join());
  assert.equal(typeof made.rolePermission, "number", "a role's permissions are shaped too");
  assert.deepEqual(made.invitation, [guestEmail, "org:member", "pending", made.id]);
  assert.equal(made.revoked, "revoked");
  assert.deepEqual(made.pending, [1, [guestEmail]]);

  // The invitee sees the invitation, accepts it, switches to the organization as a member.
  const joined = await guest.evaluate(async ({ email, password, id }) => {
    const { getOrganizationInvitations, getOrganization } = window.organizations;
    await hp.signUp({ emailAddress: email, password });
    const mine = await getOrganizationInvitations(hp, { status: "pending" });
    const membership = await mine.data[0].accept();
    await hp.setActive({ organization: id });
    const a = hp.useAuth();
    const refused = await (await getOrganization(hp, id)).inviteMember({ emailAddress: "x@example.com" })
      .catch((e) => [e.name, e.status]);
    return { seen: [mine.total_count, mine.data[0].publicOrganizationData.name],
      membership: [membership.organization.id, membership.role, membership.publicUserData.identifier],
      auth: [a.orgId, a.orgRole, a.has({ permission: "org:sys_memberships:manage" })], refused };
  }, { email: guestEmail, password: PASSWORD, id: made.id });
  assert.deepEqual(joined.seen, [1, "Gamma"]);
  assert.deepEqual(joined.membership, [made.id, "org:member", guestEmail]);
  assert.deepEqual(joined.auth, [made.id, "org:member", false]);
  assert.deepEqual(joined.refused, ["HallpassError", 403], "a member without the permission cannot invite");

  // The admin pages through the members and makes the guest an admin; the guest's next token says so.
  const guestId = await guest.evaluate(() => hp.useAuth().userId);
  const members = await owner.evaluate(async ({ id, guestId }) => {
    const org = await window.organizations.getOrganization(hp, id);
    const one = await org.getMemberships({ pageSize: 1 });
    const two = await org.getMemberships({ pageSize: 1, initialPage: 2 });
    const promoted = await org.updateMember({ userId: guestId, role: "org:admin" });
    return { count: one.total_count, pages: [one.data.length, two.data.length],
      ids: [...one.data, ...two.data].map((m) => m.publicUserData.userId), promoted: promoted.role };
  }, { id: made.id, guestId });
  assert.equal(members.count, 2);
  assert.deepEqual(members.pages, [1, 1]);
  assert.ok(members.ids.includes(guestId), "both pages together hold every member");
  assert.equal(members.promoted, "org:admin");
  assert.equal(await guest.evaluate(async () => { await hp.getToken({ skipCache: true }); return hp.useAuth().orgRole; }), "org:admin");

  // Removed by the admin: the guest's next token carries no organization.
  await owner.evaluate(async ({ id, guestId }) => {
    const org = await window.organizations.getOrganization(hp, id);
    await org.removeMember(guestId);
  }, { id: made.id, guestId });
  const removed = await guest.evaluate(async () => {
    const token = await hp.getToken({ skipCache: true });
    return [hp.useAuth().orgId, org(token)];
  });
  assert.deepEqual(removed, [null, null]);

  // Invited again: this time the guest leaves the active organization, and at once holds no token of it.
  await owner.evaluate(async ({ id, guestEmail }) => {
    const org = await window.organizations.getOrganization(hp, id);
    await org.inviteMember({ emailAddress: guestEmail });
  }, { id: made.id, guestEmail });
  const left = await guest.evaluate(async (id) => {
    const { getOrganizationInvitations, getOrganizationMemberships, leaveOrganization } = window.organizations;
    await (await getOrganizationInvitations(hp, { status: "pending" })).data[0].accept();
    await hp.setActive({ organization: id });
    const before = [(await getOrganizationMemberships(hp)).total_count, hp.useAuth().orgId];
    const ended = await leaveOrganization(hp, id);
    return { before, ended: ended.organization.id, after: [hp.useAuth().orgId, org(await hp.getToken()),
      (await getOrganizationMemberships(hp)).total_count] };
  }, made.id);
  assert.deepEqual(left.before, [1, made.id]);
  assert.equal(left.ended, made.id);
  assert.deepEqual(left.after, [null, null, 0]);

  // Invited a third time: declined.
  await owner.evaluate(async ({ id, guestEmail }) => {
    const org = await window.organizations.getOrganization(hp, id);
    await org.inviteMember({ emailAddress: guestEmail });
  }, { id: made.id, guestEmail });
  const declined = await guest.evaluate(async () => {
    const { getOrganizationInvitations } = window.organizations;
    const invitation = (await getOrganizationInvitations(hp, { status: "pending" })).data[0];
    const answer = await invitation.decline();
    return [answer.status, (await getOrganizationInvitations(hp, { status: "pending" })).total_count];
  });
  assert.deepEqual(declined, ["revoked", 0]);
  assert.deepEqual([...owner.errors, ...guest.errors], []);
  await owner.context().close();
  await guest.context().close();
});
