// The Backend API client (`createHallpassClient`), shaped as Clerk's `createClerkClient`: resources
// grouped by kind (`users`, `sessions`, `jwtTemplates`, `organizations` with their memberships and
// invitations, `organizationRoles`, `organizationPermissions`, `webhookEndpoints` with their
// deliveries and attempts, `instance` and its settings), Clerk's method names, camelCase resources
// (the wire's snake_case names converted, metadata and template claims left as they are), lists as
// `{ data, totalCount }`, and every failure a `HallpassAPIResponseError` carrying the server's codes.
// Every call has a deadline (`timeoutMs`, default 10 s).
import { readLimited } from "./body.js";
import { HallpassAPIResponseError } from "./errors.js";
import { instanceUrls } from "./instance.js";

export const DEFAULT_API_TIMEOUT_MS = 10_000;
/** The largest answer read (a page of 500 users with their metadata is well under it). */
const MAX_ANSWER_BYTES = 32 * 1024 * 1024;

const camel = (key) => key.replace(/_([a-z])/g, (_, c) => c.toUpperCase());
// Clerk spells some ids `…ID` (`primaryEmailAddressID`): the same field as `…Id`.
const snake = (key) => key.replace(/ID$/, "Id").replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** Fields whose values are the app's own JSON: converted by name only, never inside. */
const OPAQUE = new Set(["public_metadata", "private_metadata", "unsafe_metadata", "claims", "meta"]);

/** An organization id or slug (Clerk's `getOrganization({ organizationId } | { slug })`). */
const orgRef = (params) => id(params?.organizationId ?? params?.slug, "organizationId");

/** A wire object in camelCase, nested resources too, opaque values as they are. */
export function camelResource(wire) {
  if (Array.isArray(wire)) return wire.map(camelResource);
  if (wire === null || typeof wire !== "object") return wire;
  const out = {};
  for (const [key, value] of Object.entries(wire)) out[camel(key)] = OPAQUE.has(key) ? value : camelResource(value);
  return out;
}

/** Request parameters (camelCase) as the wire's snake_case, values as they are. */
function snakeParams(params) {
  const out = {};
  for (const [key, value] of Object.entries(params ?? {})) if (value !== undefined) out[snake(key)] = value;
  return out;
}

/** A user as Clerk's backend `User` has it: plus `primaryEmailAddress` and `fullName`. */
export function toUser(wire) {
  const user = camelResource(wire);
  user.primaryEmailAddress = user.emailAddresses?.find((e) => e.id === user.primaryEmailAddressId) ?? null;
  user.fullName = [user.firstName, user.lastName].filter(Boolean).join(" ") || null;
  return user;
}

/** The instance, its `overridden` settings named as its fields are (`instanceName`). */
function toInstance(wire) {
  const instance = camelResource(wire);
  instance.overridden = Array.isArray(instance.overridden) ? instance.overridden.map(camel) : [];
  return instance;
}

const toList = (convert) => (body) => ({ data: body.data.map(convert), totalCount: body.total_count });

/** `?a=1&b=2` of the defined values (camelCase names as snake_case). */
function query(params) {
  const q = new URLSearchParams();
  for (const [key, value] of Object.entries(params ?? {})) if (value !== undefined && value !== null) q.set(snake(key), String(value));
  const s = q.toString();
  return s === "" ? "" : `?${s}`;
}

const id = (value, what) => {
  if (typeof value !== "string" || value === "") throw new TypeError(`${what} must be a non-empty string`);
  return encodeURIComponent(value);
};

/** An error's `meta` with camelCase names, as Clerk's (`param_name` → `paramName`). */
const metaOf = (meta) => (meta !== null && typeof meta === "object" && !Array.isArray(meta) ? camelResource(meta) : {});

/** The server's `{ errors: [...] }` as `{ code, message, longMessage, meta }`s. */
function errorsOf(body, status) {
  const list = body !== null && typeof body === "object" && Array.isArray(body.errors) ? body.errors : [];
  const errors = list
    .filter((e) => e !== null && typeof e === "object")
    .map((e) => ({ code: String(e.code ?? ""), message: String(e.message ?? ""), longMessage: String(e.long_message ?? ""), meta: metaOf(e.meta) }));
  return errors.length > 0 ? errors : [{ code: "invalid_response", message: `HTTP ${status} without an error body`, longMessage: "", meta: {} }];
}

/**
 * One call: `method path` on `baseUrl` with `Authorization: Bearer <bearer>`, a JSON body if given.
 * Resolves with the parsed answer; rejects with a `HallpassAPIResponseError`.
 */
export async function request(baseUrl, bearer, method, path, body, fetchFn = globalThis.fetch, timeoutMs = DEFAULT_API_TIMEOUT_MS) {
  const headers = { accept: "application/json", authorization: `Bearer ${bearer}` };
  if (body !== undefined) headers["content-type"] = "application/json";
  let response;
  try {
    response = await fetchFn(`${baseUrl}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      redirect: "error",
      signal: AbortSignal.timeout(timeoutMs ?? DEFAULT_API_TIMEOUT_MS),
    });
  } catch (error) {
    const timedOut = error?.name === "TimeoutError" || error?.name === "AbortError";
    const code = timedOut ? "request_timeout" : "network_error";
    const message = timedOut ? `No answer from ${baseUrl} within ${timeoutMs ?? DEFAULT_API_TIMEOUT_MS} ms` : `Could not reach ${baseUrl}: ${error?.message ?? error}`;
    throw new HallpassAPIResponseError(message, { status: 0, errors: [{ code, message, longMessage: "", meta: {} }], retryAfter: undefined });
  }
  let parsed;
  try {
    const text = await readLimited(response, MAX_ANSWER_BYTES);
    parsed = text === null || text === "" ? undefined : JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (!response.ok) {
    const errors = errorsOf(parsed, response.status);
    const retry = Number(response.headers.get("retry-after"));
    throw new HallpassAPIResponseError(errors[0].message || `HTTP ${response.status}`, {
      status: response.status,
      errors,
      retryAfter: Number.isFinite(retry) && retry >= 0 ? retry : undefined,
    });
  }
  if (parsed === null || typeof parsed !== "object") {
    const message = `${method} ${path}: the answer is not a JSON object`;
    throw new HallpassAPIResponseError(message, { status: response.status, errors: [{ code: "invalid_response", message, longMessage: "", meta: {} }], retryAfter: undefined });
  }
  return parsed;
}

/**
 * A Backend API client. `secretKey` (`sk_…`) authenticates; `apiUrl` is the server (default: the
 * Frontend API URL of `publishableKey`/`frontendApi`, as one server answers both APIs).
 */
export function createHallpassClient(options = {}) {
  const { apiUrl } = instanceUrls(options);
  const secretKey = options.secretKey;
  const run = async (method, path, body, convert) => {
    if (typeof secretKey !== "string" || secretKey === "") throw new TypeError("The Backend API needs secretKey (HALLPASS_SECRET_KEY)");
    if (apiUrl === undefined) throw new TypeError("The Backend API needs apiUrl, frontendApi or publishableKey");
    return convert(await request(apiUrl, secretKey, method, path, body, options.fetch, options.timeoutMs));
  };

  const users = {
    getUser: async (userId) => run("GET", `/v1/users/${id(userId, "userId")}`, undefined, toUser),
    getUserList: async (params = {}) => run("GET", `/v1/users${query({ limit: params.limit, offset: params.offset })}`, undefined, toList(toUser)),
    updateUser: async (userId, params) => run("PATCH", `/v1/users/${id(userId, "userId")}`, snakeParams(params), toUser),
    updateUserMetadata: async (userId, params) =>
      run("PATCH", `/v1/users/${id(userId, "userId")}/metadata`, snakeParams(params), toUser),
    deleteUser: async (userId) => run("DELETE", `/v1/users/${id(userId, "userId")}`, undefined, camelResource),
  };
  const sessions = {
    getSessionList: async (params = {}) =>
      run("GET", `/v1/sessions${query({ userId: params.userId, status: params.status })}`, undefined, toList(camelResource)),
    getSession: async (sessionId) => run("GET", `/v1/sessions/${id(sessionId, "sessionId")}`, undefined, camelResource),
    revokeSession: async (sessionId) => run("POST", `/v1/sessions/${id(sessionId, "sessionId")}/revoke`, undefined, camelResource),
  };
  users.getOrganizationMembershipList = async ({ userId, limit, offset } = {}) =>
    run("GET", `/v1/users/${id(userId, "userId")}/organization_memberships${query({ limit, offset })}`, undefined, toList(camelResource));

  const organizations = {
    getOrganizationList: async (params = {}) =>
      run("GET", `/v1/organizations${query({ limit: params.limit, offset: params.offset, query: params.query, orderBy: params.orderBy })}`,
        undefined, toList(camelResource)),
    createOrganization: async (params) => run("POST", "/v1/organizations", snakeParams(params), camelResource),
    getOrganization: async (params) => run("GET", `/v1/organizations/${orgRef(params)}`, undefined, camelResource),
    updateOrganization: async (organizationId, params) =>
      run("PATCH", `/v1/organizations/${id(organizationId, "organizationId")}`, snakeParams(params), camelResource),
    updateOrganizationMetadata: async (organizationId, params) =>
      run("PATCH", `/v1/organizations/${id(organizationId, "organizationId")}/metadata`, snakeParams(params), camelResource),
    deleteOrganization: async (organizationId) =>
      run("DELETE", `/v1/organizations/${id(organizationId, "organizationId")}`, undefined, camelResource),
    getOrganizationMembershipList: async ({ organizationId, limit, offset, query: q, role } = {}) =>
      run("GET", `/v1/organizations/${id(organizationId, "organizationId")}/memberships${query({ limit, offset, query: q, role })}`,
        undefined, toList(camelResource)),
    createOrganizationMembership: async ({ organizationId, ...params } = {}) =>
      run("POST", `/v1/organizations/${id(organizationId, "organizationId")}/memberships`, snakeParams(params), camelResource),
    updateOrganizationMembership: async ({ organizationId, userId, role } = {}) =>
      run("PATCH", `/v1/organizations/${id(organizationId, "organizationId")}/memberships/${id(userId, "userId")}`, { role }, camelResource),
    updateOrganizationMembershipMetadata: async ({ organizationId, userId, ...params } = {}) =>
      run("PATCH", `/v1/organizations/${id(organizationId, "organizationId")}/memberships/${id(userId, "userId")}/metadata`,
        snakeParams(params), camelResource),
    deleteOrganizationMembership: async ({ organizationId, userId } = {}) =>
      run("DELETE", `/v1/organizations/${id(organizationId, "organizationId")}/memberships/${id(userId, "userId")}`, undefined, camelResource),
    getOrganizationInvitationList: async ({ organizationId, limit, offset, status } = {}) =>
      run("GET", `/v1/organizations/${id(organizationId, "organizationId")}/invitations${query({ limit, offset, status })}`,
        undefined, toList(camelResource)),
    createOrganizationInvitation: async ({ organizationId, ...params } = {}) =>
      run("POST", `/v1/organizations/${id(organizationId, "organizationId")}/invitations`, snakeParams(params), camelResource),
    getOrganizationInvitation: async ({ organizationId, invitationId } = {}) =>
      run("GET", `/v1/organizations/${id(organizationId, "organizationId")}/invitations/${id(invitationId, "invitationId")}`,
        undefined, camelResource),
    revokeOrganizationInvitation: async ({ organizationId, invitationId } = {}) =>
      run("POST", `/v1/organizations/${id(organizationId, "organizationId")}/invitations/${id(invitationId, "invitationId")}/revoke`,
        undefined, camelResource),
  };
  const organizationRoles = {
    getOrganizationRoleList: async (params = {}) =>
      run("GET", `/v1/organization_roles${query({ limit: params.limit, offset: params.offset, query: params.query })}`, undefined, toList(camelResource)),
    getOrganizationRole: async (organizationRoleId) =>
      run("GET", `/v1/organization_roles/${id(organizationRoleId, "organizationRoleId")}`, undefined, camelResource),
    createOrganizationRole: async (params) => run("POST", "/v1/organization_roles", snakeParams(params), camelResource),
    updateOrganizationRole: async ({ organizationRoleId, ...params } = {}) =>
      run("PATCH", `/v1/organization_roles/${id(organizationRoleId, "organizationRoleId")}`, snakeParams(params), camelResource),
    deleteOrganizationRole: async (organizationRoleId) =>
      run("DELETE", `/v1/organization_roles/${id(organizationRoleId, "organizationRoleId")}`, undefined, camelResource),
    assignPermissionToOrganizationRole: async ({ organizationRoleId, permissionId } = {}) =>
      run("POST", `/v1/organization_roles/${id(organizationRoleId, "organizationRoleId")}/permissions/${id(permissionId, "permissionId")}`,
        undefined, camelResource),
    removePermissionFromOrganizationRole: async ({ organizationRoleId, permissionId } = {}) =>
      run("DELETE", `/v1/organization_roles/${id(organizationRoleId, "organizationRoleId")}/permissions/${id(permissionId, "permissionId")}`,
        undefined, camelResource),
  };
  const organizationPermissions = {
    getOrganizationPermissionList: async (params = {}) =>
      run("GET", `/v1/organization_permissions${query({ limit: params.limit, offset: params.offset, query: params.query })}`,
        undefined, toList(camelResource)),
    getOrganizationPermission: async (permissionId) =>
      run("GET", `/v1/organization_permissions/${id(permissionId, "permissionId")}`, undefined, camelResource),
    createOrganizationPermission: async (params) => run("POST", "/v1/organization_permissions", snakeParams(params), camelResource),
    updateOrganizationPermission: async ({ permissionId, ...params } = {}) =>
      run("PATCH", `/v1/organization_permissions/${id(permissionId, "permissionId")}`, snakeParams(params), camelResource),
    deleteOrganizationPermission: async (permissionId) =>
      run("DELETE", `/v1/organization_permissions/${id(permissionId, "permissionId")}`, undefined, camelResource),
  };
  const jwtTemplates = {
    list: async (params = {}) => run("GET", `/v1/jwt_templates${query({ limit: params.limit, offset: params.offset })}`, undefined, toList(camelResource)),
    get: async (templateId) => run("GET", `/v1/jwt_templates/${id(templateId, "templateId")}`, undefined, camelResource),
    create: async (params) => run("POST", "/v1/jwt_templates", snakeParams(params), camelResource),
    update: async ({ templateId, ...params }) =>
      run("PATCH", `/v1/jwt_templates/${id(templateId, "templateId")}`, snakeParams(params), camelResource),
    delete: async (templateId) => run("DELETE", `/v1/jwt_templates/${id(templateId, "templateId")}`, undefined, camelResource),
  };
  const endpoint = (endpointId) => `/v1/webhook_endpoints/${id(endpointId, "endpointId")}`;
  const webhookEndpoints = {
    getWebhookEndpointList: async (params = {}) =>
      run("GET", `/v1/webhook_endpoints${query({ limit: params.limit, offset: params.offset })}`, undefined, toList(camelResource)),
    createWebhookEndpoint: async (params) => run("POST", "/v1/webhook_endpoints", snakeParams(params), camelResource),
    getWebhookEndpoint: async (endpointId) => run("GET", endpoint(endpointId), undefined, camelResource),
    updateWebhookEndpoint: async (endpointId, params) => run("PATCH", endpoint(endpointId), snakeParams(params), camelResource),
    deleteWebhookEndpoint: async (endpointId) => run("DELETE", endpoint(endpointId), undefined, camelResource),
    rotateWebhookEndpointSecret: async (endpointId) => run("POST", `${endpoint(endpointId)}/rotate_secret`, undefined, camelResource),
    getDeliveryList: async ({ endpointId, status, limit, offset } = {}) =>
      run("GET", `${endpoint(endpointId)}/deliveries${query({ status, limit, offset })}`, undefined, toList(camelResource)),
    resendDelivery: async ({ endpointId, eventId } = {}) =>
      run("POST", `${endpoint(endpointId)}/deliveries/${id(eventId, "eventId")}/resend`, undefined, camelResource),
    getAttemptList: async ({ endpointId, eventId, limit, offset } = {}) =>
      run("GET", `${endpoint(endpointId)}/attempts${query({ eventId, limit, offset })}`, undefined, toList(camelResource)),
    recover: async ({ endpointId, since, until } = {}) =>
      run("POST", `${endpoint(endpointId)}/recover`, snakeParams({ since, until }), camelResource),
  };
  // Clerk's `clerkClient.instance`. `update` answers the settings as the change left them (Clerk's
  // answers nothing); a setting given as `null` goes back to the server's flag.
  const instance = {
    get: async () => run("GET", "/v1/instance", undefined, toInstance),
    update: async (params = {}) => run("PATCH", "/v1/instance", snakeParams(params), toInstance),
  };
  return { users, sessions, jwtTemplates, organizations, organizationRoles, organizationPermissions, webhookEndpoints, instance };
}
