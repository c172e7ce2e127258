// The TypeScript declarations of the JS facade's values (the `hallpass` package's types, after the
// class that wasm-bindgen declares). Included by src/js/types.rs; tests/typescript.rs checks them
// against the Rust definitions (error codes, resource fields, request parameters).

/** Options of `Hallpass.load`. Give `frontendApi` or `publishableKey`. */
export interface HallpassOptions {
  /** The Hallpass server's URL, e.g. `"http://localhost:8787"`. */
  frontendApi?: string;
  /** A publishable key (`pk_test_…` / `pk_live_…`) that encodes the Frontend API URL. */
  publishableKey?: string;
  /** Where the session is kept: `"local"` (default), `"session"` or `"memory"`. */
  storage?: "local" | "session" | "memory";
  /** `getToken()` never returns a token with less than this left, in milliseconds (default 10000). */
  minTokenLifetimeMs?: number;
  /** Record every refresh (which tab, why, what came of it); read it with `refreshTrace()`. */
  debug?: boolean;
  /**
   * How long a request to the server may take before it fails with `request_timeout`, in
   * milliseconds (default 10000, at most 600000). A refresh that times out is retried with backoff.
   */
  requestTimeoutMs?: number;
  /**
   * Keep the session token in a first-party cookie for server-rendered pages (`hallpass/server`
   * reads it): `__session` (`SameSite=Lax`, `Secure` on https, path `/`, no longer than the token),
   * rewritten on every new token and cleared on sign-out, with `__client_uat` beside it. Default false.
   */
  sessionCookie?: boolean;
}

/** `updateUser`: absent fields stay as they are; a name set to `null` is cleared. */
export interface UpdateUserParams {
  firstName?: string | null;
  lastName?: string | null;
  unsafeMetadata?: Metadata;
  /**
   * Makes this one of the user's verified addresses (`user.emailAddresses[i].id`) the primary one,
   * as Clerk's `user.update({ primaryEmailAddressId })`: `resource_not_found` when it is not theirs,
   * `email_address_not_verified` when it is not verified.
   */
  primaryEmailAddressId?: string;
}

/** One refresh as the `debug` option records it. */
export interface RefreshTraceEntry {
  /** The tab that did it (random per instance). */
  tab: string;
  reason: "load" | "get_token" | "timer" | "retry" | "visibilitychange" | "focus" | "pageshow" | "online";
  /** Device time it started, ms since the epoch. */
  at: number;
  /** `network`: this tab asked the server; `other_tab`: another tab's token arrived; else an error code. */
  outcome: string;
}

/** JSON values, as metadata holds them. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type Metadata = { [key: string]: JsonValue };

export interface EmailAddress {
  id: string;
  emailAddress: string;
  /** How the address was verified; `null` while it is not. */
  verification: {
    status: "unverified" | "verified" | "failed" | "expired";
    strategy: "email_code" | "email_link" | "reset_password_email_code" | "password";
    attempts: number;
    expireAt: number;
  } | null;
}

/** The signed-in user, shaped like Clerk's `User`. Times are milliseconds since the epoch. */
export interface User {
  id: string;
  firstName: string | null;
  lastName: string | null;
  fullName: string | null;
  imageUrl: string;
  emailAddresses: EmailAddress[];
  primaryEmailAddressId: string | null;
  primaryEmailAddress: EmailAddress | null;
  /** Readable here, writable by your backend only. */
  publicMetadata: Metadata;
  /** Readable and writable by the user. */
  unsafeMetadata: Metadata;
  passwordEnabled: boolean;
  createdAt: number;
  updatedAt: number;
  lastSignInAt: number | null;
}

export type SessionStatus = "active" | "ended" | "revoked" | "expired" | "removed";

export interface Session {
  id: string;
  userId: string;
  status: SessionStatus;
  expireAt: number;
  abandonAt: number;
  /** The session's active organization (`org_…`); `null` for the personal account. */
  lastActiveOrganizationId: string | null;
  lastActiveAt: number;
  createdAt: number;
  updatedAt: number;
}

/** The auth state: a union discriminated on `isLoaded` and `isSignedIn`, as Clerk's `useAuth()`. */
export type AuthState =
  | { isLoaded: false; isSignedIn: undefined; user: undefined; session: undefined; userId: undefined;
      sessionId: undefined; orgId: undefined; orgRole: undefined; orgSlug: undefined; orgPermissions: undefined }
  | { isLoaded: true; isSignedIn: false; user: null; session: null; userId: null; sessionId: null;
      orgId: null; orgRole: null; orgSlug: null; orgPermissions: null }
  | { isLoaded: true; isSignedIn: true; user: User; session: Session; userId: string; sessionId: string;
      orgId: string | null; orgRole: string | null; orgSlug: string | null;
      /** The active organization's permissions (`org:<feature>:<action>`); `null` without one. */
      orgPermissions: readonly string[] | null };

export type UseUserReturn =
  | { isLoaded: false; isSignedIn: undefined; user: undefined }
  | { isLoaded: true; isSignedIn: false; user: null }
  | { isLoaded: true; isSignedIn: true; user: User };

export interface GetTokenOptions {
  /** Fetch a new token even when the cached one is fresh. */
  skipCache?: boolean;
  /**
   * A token from the JWT template of this name (created with the Backend API,
   * `POST /v1/jwt_templates`) instead of the session token, e.g. `"supabase"`.
   */
  template?: string;
  /**
   * A session token for this organization (an id or slug of one of yours; `null`: the personal
   * account) instead of the active one, which stays as it is. Cached per organization. Ignored with
   * a `template`.
   */
  organizationId?: string | null;
}

export type HasParams = { role: string; permission?: never } | { permission: string; role?: never };

interface AuthFunctions {
  getToken: (options?: GetTokenOptions) => Promise<string | null>;
  signOut: () => Promise<void>;
  has: (params: HasParams) => boolean;
}

export type UseAuthReturn =
  | ({ isLoaded: false; isSignedIn: undefined; userId: undefined; sessionId: undefined; orgId: undefined;
       orgRole: undefined; orgSlug: undefined; orgPermissions: undefined } & AuthFunctions)
  | ({ isLoaded: true; isSignedIn: false; userId: null; sessionId: null; orgId: null; orgRole: null;
       orgSlug: null; orgPermissions: null } & AuthFunctions)
  | ({ isLoaded: true; isSignedIn: true; userId: string; sessionId: string; orgId: string | null;
       orgRole: string | null; orgSlug: string | null; orgPermissions: readonly string[] | null }
     & AuthFunctions);

/** `setActive`: an organization's id or slug, the organization itself, or `null` for the personal account. */
export interface SetActiveParams {
  organization: string | { id: string } | null;
}

/** `createOrganization`: the slug is made from the name when absent. */
export interface CreateOrganizationParams {
  name: string;
  slug?: string;
}

/** An organization, shaped like Clerk's `OrganizationResource`. Times are milliseconds since the epoch. */
export interface Organization {
  id: string;
  name: string;
  slug: string;
  imageUrl: string;
  hasImage: boolean;
  membersCount: number;
  pendingInvitationsCount: number;
  maxAllowedMemberships: number;
  adminDeleteEnabled: boolean;
  /** Readable by members, writable by your backend only. */
  publicMetadata: Metadata;
  createdBy: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface Hallpass {
  /**
   * `fetch(input, init)` with `Authorization: Bearer <token>`; after a 401 it forces a new token and
   * retries once.
   */
  fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response>;
  /**
   * `useSyncExternalStore`'s subscribe: calls `callback()` after every change; returns the
   * unsubscribe function.
   */
  subscribe(callback: () => void): () => void;
  /** `{ isLoaded, isSignedIn, user }`, like Clerk's `useUser()`. */
  useUser(): UseUserReturn;
  /**
   * `{ isLoaded, isSignedIn, userId, sessionId, orgId, orgRole, orgSlug, getToken, signOut, has }`,
   * like Clerk's `useAuth()`; the functions keep their identity across calls.
   */
  useAuth(): UseAuthReturn;
  /**
   * Sets the session's active organization, like Clerk's `setActive({ organization })`. Resolves once
   * this tab's `orgId` and tokens carry it; every other tab follows, and no tab hands out a token of
   * the old organization after it has switched. The choice survives a reload.
   */
  setActive(params: SetActiveParams): Promise<void>;
  /** Creates an organization with you as its admin (it does not become active). */
  createOrganization(params: CreateOrganizationParams): Promise<Organization>;
  /** Updates the signed-in user's profile; resolves once this tab (and then every tab) has it. */
  updateUser(params: UpdateUserParams): Promise<void>;
}

export interface SignUpParams {
  emailAddress: string;
  password: string;
  firstName?: string;
  lastName?: string;
  unsafeMetadata?: Metadata;
}

export interface SignInParams {
  /** The email address. */
  identifier: string;
  password: string;
}

/** Every code a `HallpassError` can carry. */
export type ErrorCode =
  | "request_body_invalid" | "request_body_too_large" | "unsupported_media_type" | "form_param_missing"
  | "form_param_format_invalid" | "form_param_too_long" | "form_param_unknown" | "form_param_value_invalid"
  | "form_identifier_exists" | "form_password_length_too_short" | "form_password_validation_failed"
  | "form_password_incorrect" | "authentication_invalid" | "secret_key_not_allowed" | "secret_key_required"
  | "origin_not_allowed" | "form_password_pwned" | "form_password_not_strong_enough"
  | "form_password_whitespace_only" | "form_code_incorrect" | "verification_expired" | "verification_failed"
  | "verification_missing" | "verification_already_verified" | "form_identifier_confusable" | "refresh_token_invalid"
  | "refresh_token_reused" | "session_revoked" | "session_ended" | "session_expired" | "duplicate_record"
  | "jwt_template_reserved_claim" | "jwt_template_too_large" | "organization_permission_missing"
  | "organization_minimum_permissions_needed" | "organization_membership_quota_exceeded"
  | "already_a_member_in_organization" | "organization_create_limit_exceeded"
  | "organization_admin_delete_disabled" | "organization_invitation_not_pending" | "organization_role_in_use"
  | "organization_system_permission_immutable" | "organization_role_quota_exceeded"
  | "organization_permission_quota_exceeded" | "delete_self_disabled" | "email_address_not_verified"
  | "rate_limited" | "server_busy"
  | "request_timeout" | "resource_not_found" | "method_not_allowed" | "internal_error"
  | "network_error" | "offline" | "invalid_response" | "not_signed_in" | "invalid_options"
  | "storage_unavailable" | "signed_out_during_request";

/** What every Hallpass failure throws. */
export interface HallpassError extends Error {
  name: "HallpassError";
  code: ErrorCode;
  /** The HTTP status, when the server answered. */
  status?: number;
  /** Seconds to wait before retrying (from `Retry-After`). */
  retryAfter?: number;
}
