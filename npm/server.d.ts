// `hallpass/server`: verifying session tokens, authenticating requests, the Backend API client and
// webhook verification, for any runtime with Web `Request`/`Response` and WebCrypto.

// ---------------------------------------------------------------------------------------------
// Session tokens

/** The claims of a Hallpass session token (Clerk's v2 shape). */
export interface JwtPayload {
  /** The user id (`user_…`). */
  sub: string;
  /** The session id (`sess_…`). */
  sid: string;
  /** The issuer: the server's Frontend API URL. */
  iss: string;
  /** Authorized party: the Origin of the page that got the token. */
  azp?: string;
  /** Seconds since the epoch. */
  exp: number;
  iat: number;
  nbf: number;
  jti: string;
  /** Always 2 for a session token (a JWT template's token has none and is refused). */
  v: 2;
  /** The active organization, in Clerk's v2 encoding (read it through `toAuth()`). */
  o?: { id: string; slg?: string; rol?: string; per?: string; fpm?: string };
  /** Features with their scope (`o:invoices,u:beta`). */
  fea?: string;
  [claim: string]: unknown;
}

/** Why a token was refused. */
export type TokenVerificationErrorReason =
  | "token-expired"
  | "token-not-active-yet"
  | "token-iat-in-the-future"
  | "token-invalid"
  | "token-invalid-algorithm"
  | "token-invalid-signature"
  | "token-invalid-issuer"
  | "token-invalid-authorized-parties"
  | "token-type-mismatch"
  | "jwk-kid-mismatch"
  | "jwk-failed-to-resolve"
  | "jwk-local-invalid"
  | "jwk-remote-failed-to-load"
  | "jwk-remote-invalid";

export declare const TokenVerificationErrorReason: {
  readonly TokenExpired: "token-expired";
  readonly TokenNotActiveYet: "token-not-active-yet";
  readonly TokenIatInTheFuture: "token-iat-in-the-future";
  readonly TokenInvalid: "token-invalid";
  readonly TokenInvalidAlgorithm: "token-invalid-algorithm";
  readonly TokenInvalidSignature: "token-invalid-signature";
  readonly TokenInvalidIssuer: "token-invalid-issuer";
  readonly TokenInvalidAuthorizedParties: "token-invalid-authorized-parties";
  readonly TokenTypeMismatch: "token-type-mismatch";
  readonly JWKKidMismatch: "jwk-kid-mismatch";
  readonly JWKFailedToResolve: "jwk-failed-to-resolve";
  readonly LocalJWKInvalid: "jwk-local-invalid";
  readonly RemoteJWKFailedToLoad: "jwk-remote-failed-to-load";
  readonly RemoteJWKInvalid: "jwk-remote-invalid";
};

/** A token `verifyToken` refused. */
export declare class TokenVerificationError extends Error {
  readonly name: "TokenVerificationError";
  readonly reason: TokenVerificationErrorReason;
  /** What to do about it, when there is something. */
  readonly action: string | undefined;
  /** Where `authenticateRequest` found the token. */
  tokenCarrier: "header" | "cookie" | undefined;
  getFullMessage(): string;
}

/** Which Hallpass instance: its Frontend API URL, or the publishable key that encodes it. */
export interface InstanceOptions {
  /** The Frontend API URL (`https://auth.example.com`). */
  frontendApi?: string;
  /** `pk_test_…` / `pk_live_…`. */
  publishableKey?: string;
}

export interface VerifyTokenOptions extends InstanceOptions {
  /**
   * Networkless verification: the instance's public key as PEM (`-----BEGIN PUBLIC KEY-----`), or its
   * JWKS document (or one of its JWKs) as JSON.
   */
  jwtKey?: string;
  /** Where the keys are (default: `<frontendApi>/.well-known/jwks.json`). */
  jwksUrl?: string;
  /** The `iss` tokens must have (default: the Frontend API URL; unchecked when neither is known). */
  issuer?: string;
  /** Origins whose tokens are accepted (`azp`); any when empty or absent. */
  authorizedParties?: string[];
  /** Tolerated difference between the server's clock and this one (default 5000). */
  clockSkewInMs?: number;
  /** How long fetched keys are reused before the JWKS is fetched again (default 300 000). */
  jwksCacheMaxAgeMs?: number;
  /**
   * The least time between two JWKS fetches caused by unknown `kid`s, and between two attempts to
   * refresh keys past their max age (default 5000).
   */
  jwksCooldownMs?: number;
  /** How long a JWKS fetch may take (default 5000). */
  jwksTimeoutMs?: number;
  /** The `fetch` to use (default: the global one). */
  fetch?: typeof fetch;
}

/** Verifies a session token and returns its claims; throws a `TokenVerificationError` otherwise. */
export function verifyToken(token: string, options: VerifyTokenOptions): Promise<JwtPayload>;

// ---------------------------------------------------------------------------------------------
// Requests and auth objects

/** `has()`'s parameters: every one given must hold (and at least one must be given). */
export type CheckAuthorizationParams = {
  /** An organization role (`org:admin`; the `org:` prefix is optional). */
  role?: string;
  /** An organization permission (`org:invoices:read`). */
  permission?: string;
  /** A feature of the token's `fea` (`invoices`, `o:invoices`, `u:beta`). */
  feature?: string;
  /** A plan: Hallpass has none, so always false. */
  plan?: string;
  /** Reverification: not supported yet, so always false. */
  reverification?: "strict_mfa" | "strict" | "moderate" | "lax" | { level: "first_factor" | "second_factor" | "multi_factor"; afterMinutes: number };
};

export type CheckAuthorization = (params: CheckAuthorizationParams) => boolean;

export interface ServerGetTokenOptions {
  /** A JWT template's token for this session instead of the session token. */
  template?: string;
}
export type ServerGetToken = (options?: ServerGetTokenOptions) => Promise<string | null>;

/** The auth object of a signed-in request (Clerk's `SignedInAuthObject`). */
export interface SignedInAuthObject {
  isAuthenticated: true;
  tokenType: "session_token";
  sessionClaims: JwtPayload;
  sessionId: string;
  sessionStatus: null;
  userId: string;
  actor: null;
  /** The active organization, `undefined` without one. */
  orgId: string | undefined;
  /** `org:admin`, … */
  orgRole: string | undefined;
  orgSlug: string | undefined;
  /** `org:<feature>:<action>`, … */
  orgPermissions: string[] | undefined;
  factorVerificationAge: null;
  getToken: ServerGetToken;
  has: CheckAuthorization;
  debug: () => Record<string, unknown>;
}

/** The auth object of a signed-out request. */
export interface SignedOutAuthObject {
  isAuthenticated: false;
  tokenType: "session_token";
  sessionClaims: null;
  sessionId: null;
  sessionStatus: null;
  userId: null;
  actor: null;
  orgId: null;
  orgRole: null;
  orgSlug: null;
  orgPermissions: null;
  factorVerificationAge: null;
  getToken: () => Promise<null>;
  has: (params: CheckAuthorizationParams) => false;
  debug: () => Record<string, unknown>;
}

export type AuthObject = SignedInAuthObject | SignedOutAuthObject;

export declare const AuthStatus: {
  readonly SignedIn: "signed-in";
  readonly SignedOut: "signed-out";
  readonly Handshake: "handshake";
};
export type AuthStatus = "signed-in" | "signed-out" | "handshake";

/** Why a request is signed out or needs a handshake, besides a token's `TokenVerificationErrorReason`. */
export type AuthErrorReason =
  | "session-token-and-uat-missing"
  | "client-uat-but-no-session-token"
  | "session-token-expired"
  | "session-token-nbf"
  | "session-token-iat-in-the-future"
  | "handshake-redirect-loop";

export declare const AuthErrorReason: {
  readonly SessionTokenAndUATMissing: "session-token-and-uat-missing";
  readonly ClientUATWithoutSessionToken: "client-uat-but-no-session-token";
  readonly SessionTokenExpired: "session-token-expired";
  readonly SessionTokenNBF: "session-token-nbf";
  readonly SessionTokenIatInTheFuture: "session-token-iat-in-the-future";
  readonly HandshakeLoop: "handshake-redirect-loop";
};

export type AuthReason = AuthErrorReason | TokenVerificationErrorReason;

interface RequestStateBase {
  publishableKey: string;
  frontendApi: string;
  signInUrl: string;
  signUpUrl: string;
  tokenType: "session_token";
  /** `x-hallpass-auth-status` / `-reason` (and, for a handshake, the page's headers). */
  headers: Headers;
}

export interface SignedInState extends RequestStateBase {
  status: "signed-in";
  reason: null;
  message: null;
  isAuthenticated: true;
  isSignedIn: true;
  token: string;
  toAuth(): SignedInAuthObject;
}

export interface SignedOutState extends RequestStateBase {
  status: "signed-out";
  reason: AuthReason;
  message: string;
  isAuthenticated: false;
  isSignedIn: false;
  token: null;
  toAuth(): SignedOutAuthObject;
}

/** A signed-in browser whose session cookie has expired: answer with `createHandshakeResponse`. */
export interface HandshakeState extends RequestStateBase {
  status: "handshake";
  reason: AuthErrorReason;
  message: string;
  isAuthenticated: false;
  isSignedIn: false;
  token: null;
  toAuth(): null;
}

export type RequestState = SignedInState | SignedOutState | HandshakeState;

export interface AuthenticateRequestOptions extends VerifyTokenOptions {
  /** Passed through to the request state (where `protect()` sends signed-out page requests). */
  signInUrl?: string;
  signUpUrl?: string;
  /** How long `getToken({ template })` may take (default 10 000). */
  apiTimeoutMs?: number;
}

/**
 * The auth state of a request: the Bearer token of `Authorization`, else the `__session` cookie the
 * browser SDK keeps (`sessionCookie: true`), with the handshake for an expired cookie.
 */
export function authenticateRequest(request: Request, options: AuthenticateRequestOptions): Promise<RequestState>;

export interface HandshakeOptions {
  /** The storage the app's SDK uses (`Hallpass.load`'s `storage`, default `"local"`). */
  storage?: "local" | "session" | "memory";
  /** Where the handshake files are served (default `/__hallpass/`). */
  assetPath?: string;
}

/** The handshake page for a `handshake` request state. */
export function createHandshakeResponse(requestState: HandshakeState, options?: HandshakeOptions): Response;

/**
 * The handshake page's files (`GET /__hallpass/…`, from this package), or `null` for any other
 * request. Needs `node:fs` (Node.js, Bun, Deno).
 */
export function handshakeAssetResponse(request: Request, options?: Pick<HandshakeOptions, "assetPath">): Promise<Response | null>;

export declare const HANDSHAKE_ASSET_PATH: "/__hallpass/";

/** The Frontend API URL a publishable key encodes, or `null`. */
export function decodePublishableKey(key: string): string | null;

// ---------------------------------------------------------------------------------------------
// Backend API

/** Free-form JSON of a user's metadata or a template's claims. */
export type Metadata = { [key: string]: unknown };

export interface EmailAddress {
  /** `idn_…` */
  id: string;
  emailAddress: string;
  /** How the address was verified; `null` while it is not. */
  verification: {
    object: "verification";
    status: "unverified" | "verified" | "failed" | "expired";
    strategy: "email_code" | "email_link" | "reset_password_email_code" | "password";
    attempts: number;
    expireAt: number;
  } | null;
}

/** A user, as the Backend API returns it (with `privateMetadata`). */
export interface User {
  /** `user_…` */
  id: string;
  firstName: string | null;
  lastName: string | null;
  imageUrl: string;
  emailAddresses: EmailAddress[];
  primaryEmailAddressId: string | null;
  publicMetadata: Metadata;
  unsafeMetadata: Metadata;
  privateMetadata: Metadata;
  passwordEnabled: boolean;
  lastSignInAt: number | null;
  createdAt: number;
  updatedAt: number;
  /** The email address whose id is `primaryEmailAddressId` (not on the wire). */
  primaryEmailAddress: EmailAddress | null;
  /** First and last name, or `null` (not on the wire). */
  fullName: string | null;
}

/** `removed`: deleted with its user while active (only ever in a `session.removed` event). */
export type SessionStatus = "active" | "ended" | "revoked" | "expired" | "removed";

export interface Session {
  /** `sess_…` */
  id: string;
  userId: string;
  status: SessionStatus;
  expireAt: number;
  abandonAt: number;
  /** The active organization, `null` for the personal account. */
  lastActiveOrganizationId: string | null;
  lastActiveAt: number;
  createdAt: number;
  updatedAt: number;
  /** The device it was started on (Clerk's `latestActivity`); `null` for a session older than the server's recording of it. */
  latestActivity: SessionActivity | null;
}

/** What kind of device a session's browser runs on. */
export type DeviceType = "desktop" | "mobile" | "tablet";

/**
 * The device and address a session was started from (Clerk's `SessionActivity`): read from that
 * sign-in's `User-Agent` and client address; `null` when unknown, `city` and `country` always.
 */
export interface SessionActivity {
  /** The session's id. */
  id: string;
  browserName: string | null;
  /** The major version. */
  browserVersion: string | null;
  /** A Hallpass addition: `"Windows"`, `"macOS"`, `"Linux"`, `"Android"`, `"iOS"`, `"iPadOS"`, `"ChromeOS"`. */
  osName: string | null;
  deviceType: DeviceType | null;
  /** A phone or a tablet. */
  isMobile: boolean;
  ipAddress: string | null;
  city: string | null;
  country: string | null;
}

export type JwtAlgorithm = "RS256" | "HS256" | "HS384" | "HS512";

export interface JwtTemplate {
  /** `jtmp_…` */
  id: string;
  name: string;
  claims: Metadata;
  lifetime: number;
  allowedClockSkew: number;
  customSigningKey: boolean;
  signingAlgorithm: JwtAlgorithm;
  createdAt: number;
  updatedAt: number;
}

export interface DeletedObject {
  object: string;
  id: string;
  deleted: boolean;
}

/** A page of a list. */
export interface PaginatedResourceResponse<T> {
  data: T[];
  totalCount: number;
}

export interface PaginationParams {
  /** 1 to 500 (default 10). */
  limit?: number;
  offset?: number;
}

/** `users.updateUser`: absent fields stay as they are; `null` clears a name. */
export interface UpdateUserParams {
  firstName?: string | null;
  lastName?: string | null;
  /** Replaces the stored object whole (`updateUserMetadata` merges). */
  publicMetadata?: Metadata;
  privateMetadata?: Metadata;
  unsafeMetadata?: Metadata;
  /** One of the user's verified addresses becomes primary (else `resource_not_found` / `email_address_not_verified`). */
  primaryEmailAddressId?: string;
  /** Clerk's spelling of `primaryEmailAddressId`, taken as it. */
  primaryEmailAddressID?: string;
}

export interface UpdateUserMetadataParams {
  /** Deep-merged into the stored object; a key set to `null` is removed. */
  publicMetadata?: Metadata;
  privateMetadata?: Metadata;
  unsafeMetadata?: Metadata;
}

export interface CreateJwtTemplateParams {
  name: string;
  claims: Metadata;
  /** Seconds, 30 to 315 360 000 (default 60). */
  lifetime?: number;
  /** Seconds, 0 to 300 (default 5). */
  allowedClockSkew?: number;
  customSigningKey?: boolean;
  signingAlgorithm?: JwtAlgorithm;
  signingKey?: string;
}

export interface UpdateJwtTemplateParams extends Partial<CreateJwtTemplateParams> {
  templateId: string;
}

export interface Organization {
  /** `org_…` */
  id: string;
  name: string;
  slug: string;
  imageUrl: string;
  hasImage: boolean;
  membersCount: number;
  pendingInvitationsCount: number;
  /** `0`: no limit. */
  maxAllowedMemberships: number;
  adminDeleteEnabled: boolean;
  publicMetadata: Metadata;
  privateMetadata: Metadata;
  /** The user who created it, when one did. */
  createdBy: string | null;
  createdAt: number;
  updatedAt: number;
}

/** The member of a membership, as others may see them. */
export interface PublicUserData {
  userId: string;
  /** The primary email address. */
  identifier: string;
  firstName: string | null;
  lastName: string | null;
  imageUrl: string;
  hasImage: boolean;
}

export interface OrganizationMembership {
  /** `orgmem_…` */
  id: string;
  organization: Organization;
  publicUserData: PublicUserData;
  /** The role key (`org:admin`). */
  role: string;
  roleName: string;
  /** `org:<feature>:<action>`, system ones included. */
  permissions: string[];
  publicMetadata: Metadata;
  privateMetadata: Metadata;
  createdAt: number;
  updatedAt: number;
}

export type InvitationStatus = "pending" | "accepted" | "revoked" | "expired";

export interface PublicOrganizationData {
  id: string;
  name: string;
  slug: string;
  imageUrl: string;
  hasImage: boolean;
}

export interface OrganizationInvitation {
  /** `orginv_…` */
  id: string;
  emailAddress: string;
  role: string;
  roleName: string;
  organizationId: string;
  publicOrganizationData: PublicOrganizationData | null;
  status: InvitationStatus;
  publicMetadata: Metadata;
  privateMetadata: Metadata;
  url: string | null;
  expiresAt: number;
  createdAt: number;
  updatedAt: number;
}

export type PermissionType = "system" | "user";

export interface Permission {
  /** `perm_…` */
  id: string;
  /** `org:<feature>:<action>` */
  key: string;
  name: string;
  description: string;
  type: PermissionType;
  createdAt: number;
  updatedAt: number;
}

export interface Role {
  /** `role_…` */
  id: string;
  /** `org:<name>` */
  key: string;
  name: string;
  description: string | null;
  permissions: Permission[];
  isCreatorEligible: boolean;
  createdAt: number;
  updatedAt: number;
}

export interface CreateOrganizationParams {
  name: string;
  slug?: string;
  /** A user id: that user joins with the creator role. */
  createdBy?: string;
  maxAllowedMemberships?: number;
  adminDeleteEnabled?: boolean;
  publicMetadata?: Metadata;
  privateMetadata?: Metadata;
}

export type UpdateOrganizationParams = Partial<Omit<CreateOrganizationParams, "createdBy">>;

export interface UpdateOrganizationMetadataParams {
  /** Deep-merged; a key set to `null` is removed. */
  publicMetadata?: Metadata;
  privateMetadata?: Metadata;
}

export interface OrganizationListParams extends PaginationParams {
  /** Part of the name or slug, or a whole id. */
  query?: string;
  /** `created_at`, `name` or `members_count`, `-` first for descending (default `-created_at`). */
  orderBy?: string;
}

export interface CreateOrganizationInvitationParams {
  organizationId: string;
  emailAddress: string;
  role?: string;
  inviterUserId?: string;
  /** 1 to 365. */
  expiresInDays?: number;
  publicMetadata?: Metadata;
  privateMetadata?: Metadata;
}

export interface CreateOrganizationRoleParams {
  /** `org:<name>` */
  key: string;
  name: string;
  description?: string;
  /** Permission keys. */
  permissions?: string[];
}

export interface CreateOrganizationPermissionParams {
  /** `org:<feature>:<action>` */
  key: string;
  name: string;
  description?: string;
}

export interface HallpassClientOptions extends InstanceOptions {
  /** `sk_test_…` / `sk_live_…`. */
  secretKey: string;
  /** The server (default: the Frontend API URL). */
  apiUrl?: string;
  /** How long a call may take (default 10 000). */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export type WebhookDisabledReason = "manual" | "gone" | "failing";

/** A webhook endpoint (the Backend API's `webhook_endpoint`). */
export interface WebhookEndpoint {
  /** `ep_…` */
  id: string;
  url: string;
  description: string;
  /** The types it receives; `null`: every type, those added later too. */
  eventTypes: WebhookEventType[] | null;
  enabled: boolean;
  disabledReason: WebhookDisabledReason | null;
  /** `whsec_…`: only in the answers to create and rotate. */
  secret?: string;
  /** When the previous secret stops signing, after a rotation. */
  previousSecretExpiresAt: number | null;
  createdAt: number;
  updatedAt: number;
}

export interface CreateWebhookEndpointParams {
  url: string;
  /** Absent or `null`: every type. */
  eventTypes?: WebhookEventType[] | null;
  description?: string;
}

export interface UpdateWebhookEndpointParams {
  url?: string;
  eventTypes?: WebhookEventType[] | null;
  description?: string;
  enabled?: boolean;
}

export type WebhookDeliveryStatus = "pending" | "succeeded" | "failed";

/** One event's delivery to one endpoint. */
export interface WebhookDelivery {
  endpointId: string;
  /** `evt_…`: the `svix-id` of its requests. */
  eventId: string;
  eventType: WebhookEventType;
  eventTimestamp: number;
  status: WebhookDeliveryStatus;
  attempts: number;
  nextAttemptAt: number | null;
  updatedAt: number;
}

/** One HTTP request made to deliver an event. */
export interface WebhookAttempt {
  /** `atmpt_…` */
  id: string;
  endpointId: string;
  eventId: string;
  attemptedAt: number;
  durationMs: number;
  statusCode: number | null;
  succeeded: boolean;
  responseExcerpt: string;
  error: string | null;
}

export interface RecoverWebhookParams {
  /** Milliseconds since the epoch. */
  since: number;
  until?: number;
}

export interface WebhookRecovery {
  /** How many events were queued again. */
  queued: number;
}

/** A way to sign in (`reset_password_email_code`: the password reset, only beside `password`). */
export type Strategy = "password" | "email_code" | "email_link" | "reset_password_email_code";

/** The instance (Clerk's `Instance`) and the sign-up and sign-in settings in force. */
export interface Instance {
  /** `ins_…`, the same for every replica. */
  id: string;
  /** `"development"` with an `sk_test_` secret key, `"production"` with an `sk_live_` one. */
  environmentType: "development" | "production";
  /** The origins the Frontend API answers. */
  allowedOrigins: string[];
  /** The name emails and pages are branded with. */
  instanceName: string;
  /** The first factors that are on, in order of preference. */
  firstFactors: Strategy[];
  /** A sign-up completes only once its email address is verified. */
  signUpRequiresVerifiedEmail: boolean;
  /** Users may delete their own account (`user.delete()`; the UI shows the action). */
  deleteSelfEnabled: boolean;
  /** The settings changed through the API (`"instanceName"`, …); the others are the server's flags. */
  overridden: ("instanceName" | "firstFactors" | "signUpRequiresVerifiedEmail" | "deleteSelfEnabled")[];
  /** When a change was last made (0: never). */
  updatedAt: number;
}

/**
 * Absent: as it is; `null`: back to the server's flag. The result must leave a way to sign in, and
 * `reset_password_email_code` only beside `password`; a refused change changes nothing.
 */
export interface UpdateInstanceParams {
  /** 1 to 100 characters. */
  instanceName?: string | null;
  /** The whole list, replacing the one in force. */
  firstFactors?: Strategy[] | null;
  signUpRequiresVerifiedEmail?: boolean | null;
  deleteSelfEnabled?: boolean | null;
}

export interface HallpassClient {
  users: {
    getUser(userId: string): Promise<User>;
    getUserList(params?: PaginationParams): Promise<PaginatedResourceResponse<User>>;
    updateUser(userId: string, params: UpdateUserParams): Promise<User>;
    updateUserMetadata(userId: string, params: UpdateUserMetadataParams): Promise<User>;
    deleteUser(userId: string): Promise<DeletedObject>;
    getOrganizationMembershipList(params: { userId: string } & PaginationParams): Promise<PaginatedResourceResponse<OrganizationMembership>>;
  };
  sessions: {
    getSessionList(params?: { userId?: string; status?: SessionStatus }): Promise<PaginatedResourceResponse<Session>>;
    getSession(sessionId: string): Promise<Session>;
    revokeSession(sessionId: string): Promise<Session>;
  };
  organizations: {
    getOrganizationList(params?: OrganizationListParams): Promise<PaginatedResourceResponse<Organization>>;
    createOrganization(params: CreateOrganizationParams): Promise<Organization>;
    /** By id or by slug. */
    getOrganization(params: { organizationId: string } | { slug: string }): Promise<Organization>;
    updateOrganization(organizationId: string, params: UpdateOrganizationParams): Promise<Organization>;
    updateOrganizationMetadata(organizationId: string, params: UpdateOrganizationMetadataParams): Promise<Organization>;
    deleteOrganization(organizationId: string): Promise<DeletedObject>;
    getOrganizationMembershipList(
      params: { organizationId: string; query?: string; role?: string } & PaginationParams,
    ): Promise<PaginatedResourceResponse<OrganizationMembership>>;
    createOrganizationMembership(params: { organizationId: string; userId: string; role?: string }): Promise<OrganizationMembership>;
    updateOrganizationMembership(params: { organizationId: string; userId: string; role: string }): Promise<OrganizationMembership>;
    updateOrganizationMembershipMetadata(
      params: { organizationId: string; userId: string } & UpdateOrganizationMetadataParams,
    ): Promise<OrganizationMembership>;
    deleteOrganizationMembership(params: { organizationId: string; userId: string }): Promise<OrganizationMembership>;
    getOrganizationInvitationList(
      params: { organizationId: string; status?: InvitationStatus } & PaginationParams,
    ): Promise<PaginatedResourceResponse<OrganizationInvitation>>;
    createOrganizationInvitation(params: CreateOrganizationInvitationParams): Promise<OrganizationInvitation>;
    getOrganizationInvitation(params: { organizationId: string; invitationId: string }): Promise<OrganizationInvitation>;
    revokeOrganizationInvitation(params: { organizationId: string; invitationId: string }): Promise<OrganizationInvitation>;
  };
  organizationRoles: {
    getOrganizationRoleList(params?: { query?: string } & PaginationParams): Promise<PaginatedResourceResponse<Role>>;
    getOrganizationRole(organizationRoleId: string): Promise<Role>;
    createOrganizationRole(params: CreateOrganizationRoleParams): Promise<Role>;
    updateOrganizationRole(
      params: { organizationRoleId: string; name?: string; description?: string | null; permissions?: string[] },
    ): Promise<Role>;
    deleteOrganizationRole(organizationRoleId: string): Promise<DeletedObject>;
    assignPermissionToOrganizationRole(params: { organizationRoleId: string; permissionId: string }): Promise<Role>;
    removePermissionFromOrganizationRole(params: { organizationRoleId: string; permissionId: string }): Promise<Role>;
  };
  organizationPermissions: {
    getOrganizationPermissionList(params?: { query?: string } & PaginationParams): Promise<PaginatedResourceResponse<Permission>>;
    getOrganizationPermission(permissionId: string): Promise<Permission>;
    createOrganizationPermission(params: CreateOrganizationPermissionParams): Promise<Permission>;
    updateOrganizationPermission(params: { permissionId: string; name?: string; description?: string }): Promise<Permission>;
    deleteOrganizationPermission(permissionId: string): Promise<DeletedObject>;
  };
  jwtTemplates: {
    list(params?: PaginationParams): Promise<PaginatedResourceResponse<JwtTemplate>>;
    get(templateId: string): Promise<JwtTemplate>;
    create(params: CreateJwtTemplateParams): Promise<JwtTemplate>;
    update(params: UpdateJwtTemplateParams): Promise<JwtTemplate>;
    delete(templateId: string): Promise<DeletedObject>;
  };
  webhookEndpoints: {
    getWebhookEndpointList(params?: PaginationParams): Promise<PaginatedResourceResponse<WebhookEndpoint>>;
    createWebhookEndpoint(params: CreateWebhookEndpointParams): Promise<WebhookEndpoint>;
    getWebhookEndpoint(endpointId: string): Promise<WebhookEndpoint>;
    updateWebhookEndpoint(endpointId: string, params: UpdateWebhookEndpointParams): Promise<WebhookEndpoint>;
    deleteWebhookEndpoint(endpointId: string): Promise<DeletedObject>;
    /** A new secret (in `secret`); the previous one keeps signing beside it for 24 h. */
    rotateWebhookEndpointSecret(endpointId: string): Promise<WebhookEndpoint>;
    getDeliveryList(params: { endpointId: string; status?: WebhookDeliveryStatus } & PaginationParams): Promise<PaginatedResourceResponse<WebhookDelivery>>;
    resendDelivery(params: { endpointId: string; eventId: string }): Promise<WebhookDelivery>;
    getAttemptList(params: { endpointId: string; eventId?: string } & PaginationParams): Promise<PaginatedResourceResponse<WebhookAttempt>>;
    /** Queues again every event since `since` (of the types the endpoint receives). */
    recover(params: { endpointId: string } & RecoverWebhookParams): Promise<WebhookRecovery>;
  };
  instance: {
    get(): Promise<Instance>;
    /** In force at once on the replica that answers, on every replica within a second. */
    update(params: UpdateInstanceParams): Promise<Instance>;
  };
}

/** A Backend API client. */
export function createHallpassClient(options: HallpassClientOptions): HallpassClient;

export interface HallpassAPIError {
  /** A stable code (server/README.md; `network_error`, `request_timeout`, `invalid_response` here). */
  code: string;
  message: string;
  longMessage: string;
  /** Details with camelCase names, as Clerk's: `paramName`, `retryAfter`, … */
  meta: Metadata;
}

/** A Backend API call that failed. */
export declare class HallpassAPIResponseError extends Error {
  readonly name: "HallpassAPIResponseError";
  /** The HTTP status; 0 when the server could not be reached. */
  readonly status: number;
  readonly errors: HallpassAPIError[];
  /** Seconds, from `Retry-After`. */
  readonly retryAfter: number | undefined;
}

export function isHallpassAPIResponseError(value: unknown): value is HallpassAPIResponseError;

// ---------------------------------------------------------------------------------------------
// Webhooks

/** A webhook `verifyWebhook` refused. */
export declare class WebhookVerificationError extends Error {
  readonly name: "WebhookVerificationError";
}

export interface VerifyWebhookOptions {
  /** The endpoint's secret, `whsec_…` (default: `HALLPASS_WEBHOOK_SIGNING_SECRET`). */
  signingSecret?: string;
}

// The resources as a webhook's `data` carries them: the Backend API's JSON, snake_case, as Clerk's
// `UserJSON`, `SessionJSON`, … (tests/typescript.rs compares each with the protocol's type).

export interface VerificationJSON {
  object: "verification";
  status: "unverified" | "verified" | "failed" | "expired";
  strategy: "email_code" | "email_link" | "reset_password_email_code" | "password";
  attempts: number;
  expire_at: number;
}

export interface EmailAddressJSON {
  object: "email_address";
  id: string;
  email_address: string;
  verification: VerificationJSON | null;
}

/** `data` of `email.created`: an email the server wrote (its bodies hold live codes and links). */
export interface EmailJSON {
  object: "email";
  /** `ema_…` */
  id: string;
  /** `verification_code`, `verification_link`, `sign_in_code`, `sign_in_link`, `reset_password_code`, `organization_invitation` */
  slug: string;
  from_email_name: string;
  to_email_address: string;
  email_address_id: string | null;
  user_id: string | null;
  subject: string;
  /** HTML. */
  body: string;
  body_plain: string;
  status: "queued" | "sent" | "failed" | "development" | "app" | "suppressed";
  /** What the template was filled with: `otp_code`, `magic_link`, `action_url`, `app.name`, … */
  data: Metadata;
  delivered_by_hallpass: boolean;
  attempts: number;
  last_error: string | null;
  next_attempt_at: number | null;
  sent_at: number | null;
  created_at: number;
  updated_at: number;
}

export interface UserJSON {
  object: "user";
  id: string;
  first_name: string | null;
  last_name: string | null;
  image_url: string;
  email_addresses: EmailAddressJSON[];
  primary_email_address_id: string | null;
  public_metadata: Metadata;
  unsafe_metadata: Metadata;
  private_metadata: Metadata;
  password_enabled: boolean;
  last_sign_in_at: number | null;
  created_at: number;
  updated_at: number;
}

export interface SessionJSON {
  object: "session";
  id: string;
  user_id: string;
  status: SessionStatus;
  expire_at: number;
  abandon_at: number;
  last_active_organization_id: string | null;
  last_active_at: number;
  created_at: number;
  updated_at: number;
}

export interface OrganizationJSON {
  object: "organization";
  id: string;
  name: string;
  slug: string;
  image_url: string;
  has_image: boolean;
  members_count: number;
  pending_invitations_count: number;
  max_allowed_memberships: number;
  admin_delete_enabled: boolean;
  public_metadata: Metadata;
  private_metadata: Metadata;
  created_by: string | null;
  created_at: number;
  updated_at: number;
}

export interface PublicUserDataJSON {
  user_id: string;
  identifier: string;
  first_name: string | null;
  last_name: string | null;
  image_url: string;
  has_image: boolean;
}

export interface OrganizationMembershipJSON {
  object: "organization_membership";
  id: string;
  organization: OrganizationJSON;
  public_user_data: PublicUserDataJSON;
  role: string;
  role_name: string;
  permissions: string[];
  public_metadata: Metadata;
  private_metadata: Metadata;
  created_at: number;
  updated_at: number;
}

export interface PublicOrganizationDataJSON {
  id: string;
  name: string;
  slug: string;
  image_url: string;
  has_image: boolean;
}

export interface OrganizationInvitationJSON {
  object: "organization_invitation";
  id: string;
  email_address: string;
  role: string;
  role_name: string;
  organization_id: string;
  public_organization_data: PublicOrganizationDataJSON | null;
  status: InvitationStatus;
  public_metadata: Metadata;
  private_metadata: Metadata;
  url: string | null;
  expires_at: number;
  created_at: number;
  updated_at: number;
}

/** `data` of `user.deleted` and `organization.deleted`. */
export interface DeletedObjectJSON {
  object: string;
  id: string;
  deleted: boolean;
}

/** Each event type the server sends, with the resource its `data` is. */
export interface WebhookEventDataMap {
  "user.created": UserJSON;
  "user.updated": UserJSON;
  "user.deleted": DeletedObjectJSON;
  "session.created": SessionJSON;
  "session.ended": SessionJSON;
  "session.removed": SessionJSON;
  "session.revoked": SessionJSON;
  "organization.created": OrganizationJSON;
  "organization.updated": OrganizationJSON;
  "organization.deleted": DeletedObjectJSON;
  "organizationMembership.created": OrganizationMembershipJSON;
  "organizationMembership.updated": OrganizationMembershipJSON;
  "organizationMembership.deleted": OrganizationMembershipJSON;
  "organizationInvitation.created": OrganizationInvitationJSON;
  "organizationInvitation.accepted": OrganizationInvitationJSON;
  "organizationInvitation.revoked": OrganizationInvitationJSON;
  "email.created": EmailJSON;
}

export type WebhookEventType = keyof WebhookEventDataMap;

/** One event of type `T`: Clerk's envelope (`timestamp` in milliseconds, `instance_id` `ins_…`). */
export interface TypedWebhookEvent<T extends WebhookEventType> {
  object: "event";
  type: T;
  data: WebhookEventDataMap[T];
  timestamp: number;
  instance_id: string;
}

/** A webhook event, narrowed by `type` (`if (evt.type === "user.created") evt.data.email_addresses`). */
export type WebhookEvent = { [T in WebhookEventType]: TypedWebhookEvent<T> }[WebhookEventType];

/** Verifies a delivery (`webhook-*` or `svix-*` headers) and returns its event. Reads the body. */
export function verifyWebhook(request: Request, options?: VerifyWebhookOptions): Promise<WebhookEvent>;

/** The same for a body already read (`payload`, exactly as received) and its headers. */
export function verifyWebhookPayload(
  payload: string,
  headers: Headers | Record<string, string>,
  signingSecret: string,
): Promise<WebhookEvent>;
