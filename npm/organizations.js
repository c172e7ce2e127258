// `hallpass/organizations`: organizations as Clerk's resources — an organization with its members,
// invitations and roles, your own memberships and invitations, paged — over a loaded `Hallpass`.
//
// Opt-in, outside the headless SDK's size budget (as `hallpass/react`): the core has `setActive`,
// `createOrganization`, `useAuth()`'s organization fields and `has()`; everything here goes through
// the core's one organization path (`hp._org`: the session token, http.js's `exchange` with its
// deadline, the wasm's error codes and sign-out, a fresh token after a change to the active
// organization) and shapes answers as every resource (`hp._shape`: camelCase). The routes are the
// protocol's (tests/typescript.rs checks them against the SDK's table, src/core/routes.rs).

/** `[method, path, answer]`: answers 0 a resource, 1 a page. */
const MY_MEMBERSHIPS = ["GET", "/v1/client/me/organization_memberships", 1];
const MY_INVITATIONS = ["GET", "/v1/client/me/organization_invitations", 1];
const ACCEPT = ["POST", "/v1/client/me/organization_invitations/{invitation_id}/accept", 0];
const DECLINE = ["POST", "/v1/client/me/organization_invitations/{invitation_id}/decline", 0];
const LEAVE = ["DELETE", "/v1/client/me/organization_memberships/{organization_id}", 0];
const GET_ORG = ["GET", "/v1/client/organizations/{organization_id}", 0];
const UPDATE_ORG = ["PATCH", "/v1/client/organizations/{organization_id}", 0];
const DELETE_ORG = ["DELETE", "/v1/client/organizations/{organization_id}", 0];
const MEMBERSHIPS = ["GET", "/v1/client/organizations/{organization_id}/memberships", 1];
const UPDATE_MEMBER = ["PATCH", "/v1/client/organizations/{organization_id}/memberships/{user_id}", 0];
const REMOVE_MEMBER = ["DELETE", "/v1/client/organizations/{organization_id}/memberships/{user_id}", 0];
const INVITATIONS = ["GET", "/v1/client/organizations/{organization_id}/invitations", 1];
const INVITE = ["POST", "/v1/client/organizations/{organization_id}/invitations", 0];
const REVOKE = ["POST", "/v1/client/organizations/{organization_id}/invitations/{invitation_id}/revoke", 0];
const ROLES = ["GET", "/v1/client/organizations/{organization_id}/roles", 1];

/**
 * A page of a list, as Clerk's `ClerkPaginatedResponse` (`{ data, total_count }`): `initialPage`
 * (from 1) and `pageSize` (default 10, at most 500) as Clerk's params; `query`, `role` and `status`
 * filter the lists that have them.
 */
async function page(hp, route, ids, params, wrap) {
  const p = params ?? {};
  const size = p.pageSize ?? 10;
  const first = p.initialPage ?? 1;
  // Out-of-range numbers are the server's to refuse (`form_param_format_invalid`), as any parameter.
  const q = new URLSearchParams({ limit: size, offset: (first - 1) * size });
  for (const k of ["query", "role", "status"]) if (typeof p[k] === "string") q.set(k, p[k]);
  const answer = await hp._org(route, ids, undefined, `?${q}`);
  return { data: answer.data.map((w) => wrap(hp, w)), total_count: answer.total_count };
}

/** An organization, with the methods of Clerk's `OrganizationResource`. */
function organization(hp, wire) {
  const o = hp._shape(wire);
  const at = [o.id];
  const member = (w) => membership(hp, w);
  o.reload = () => hp._org(GET_ORG, at).then((w) => organization(hp, w));
  o.update = (p) => hp._org(UPDATE_ORG, at, { name: p?.name, slug: p?.slug }).then((w) => organization(hp, w));
  o.destroy = () => hp._org(DELETE_ORG, at).then(hp._shape);
  o.getMemberships = (p) => page(hp, MEMBERSHIPS, at, p, membership);
  o.getInvitations = (p) => page(hp, INVITATIONS, at, p, invitation);
  o.getRoles = (p) => page(hp, ROLES, at, p, (_, w) => ({ ...hp._shape(w), permissions: w.permissions.map(hp._shape) }));
  o.inviteMember = (p) =>
    hp._org(INVITE, at, { email_address: p?.emailAddress, role: p?.role }).then((w) => invitation(hp, w));
  o.updateMember = (p) => hp._org(UPDATE_MEMBER, [o.id, p?.userId], { role: p?.role }).then(member);
  o.removeMember = (userId) => hp._org(REMOVE_MEMBER, [o.id, userId]).then(member);
  return o;
}

/**
 * A membership (Clerk's `OrganizationMembershipResource`): `update({ role })` changes the member's
 * role, `destroy()` removes the member (yourself: you leave).
 */
function membership(hp, wire) {
  const m = hp._shape(wire);
  m.organization = organization(hp, wire.organization);
  const at = [m.organization.id, m.publicUserData.userId];
  m.update = (p) => hp._org(UPDATE_MEMBER, at, { role: p?.role }).then((w) => membership(hp, w));
  m.destroy = () => hp._org(REMOVE_MEMBER, at).then((w) => membership(hp, w));
  return m;
}

/**
 * An invitation: the organization's (`revoke()`, Clerk's `OrganizationInvitationResource`) or yours
 * (`accept()` answers your new membership, `decline()`; Clerk's `UserOrganizationInvitationResource`).
 */
function invitation(hp, wire) {
  const i = hp._shape(wire);
  i.revoke = () => hp._org(REVOKE, [i.organizationId, i.id]).then((w) => invitation(hp, w));
  i.accept = () => hp._org(ACCEPT, [i.id]).then((w) => membership(hp, w));
  i.decline = () => hp._org(DECLINE, [i.id]).then((w) => invitation(hp, w));
  return i;
}

/** An organization you are a member of, by id or slug (Clerk's `clerk.getOrganization`). */
export const getOrganization = (hp, idOrSlug) => hp._org(GET_ORG, [idOrSlug]).then((w) => organization(hp, w));

/** Your memberships, each with its organization (Clerk's `user.getOrganizationMemberships`), paged. */
export const getOrganizationMemberships = (hp, params) => page(hp, MY_MEMBERSHIPS, [], params, membership);

/**
 * The invitations addressed to your email addresses (Clerk's `user.getOrganizationInvitations`),
 * paged; `status` filters (`"pending"`, …).
 */
export const getOrganizationInvitations = (hp, params) => page(hp, MY_INVITATIONS, [], params, invitation);

/**
 * Leaves an organization (Clerk's `user.leaveOrganization`); answers the membership that ended. When
 * it was the active one, every tab's `orgId` and tokens follow.
 */
export const leaveOrganization = (hp, organizationId) =>
  hp._org(LEAVE, [organizationId]).then((w) => membership(hp, w));
