// `hallpass/flows`: Clerk's multi-step sign-in and sign-up, email-link flows and further email
// addresses, over a loaded `Hallpass`. Times are milliseconds since the epoch. Every call throws
// `HallpassError` (a stable `code`: `form_code_incorrect`, `verification_expired`,
// `verification_failed`, `rate_limited`, …) as the SDK does.
import type { EmailAddress, Hallpass, HallpassError, Metadata, User } from "./index.js";

/** How a user proves who they are, or that an email address is theirs. */
export type Strategy = "password" | "email_code" | "email_link" | "reset_password_email_code";

export type VerificationStatus = "unverified" | "verified" | "failed" | "expired";

/** One verification of an email address or of a first factor (Clerk's `Verification`). */
export interface Verification {
  status: VerificationStatus;
  strategy: Strategy;
  /** Wrong codes tried so far (5 at most). */
  attempts: number;
  /** When the code or link stops working. */
  expireAt: number;
}

/** A first factor the sign-in may use (Clerk's `SignInFirstFactor`). */
export interface SignInFirstFactor {
  strategy: Strategy;
  /** The address a code or link goes to, partly masked (`a***@example.com`). */
  safeIdentifier?: string | null;
}

/** A code step's error: how many tries the code has left (0 once it failed or expired). */
export interface CodeError extends HallpassError {
  attemptsLeft?: number;
}

export type SignInStatus = "needs_first_factor" | "needs_new_password" | "complete";

/** `{ identifier, password }` completes at once; `{ identifier, strategy }` prepares that factor too. */
export interface SignInCreateParams {
  identifier: string;
  strategy?: Strategy;
  password?: string;
  /** `email_link`: where the link's page sends the browser that opens it. */
  redirectUrl?: string;
}

export interface PrepareFirstFactorParams {
  strategy: "email_code" | "email_link" | "reset_password_email_code";
  /** Accepted for Clerk's code; a sign-in has one address. */
  emailAddressId?: string;
  redirectUrl?: string;
}

export type AttemptFirstFactorParams =
  | { strategy: "email_code" | "reset_password_email_code"; code: string }
  | { strategy: "password"; password: string };

export interface EmailLinkFlow<T> {
  /** Sends the link and resolves once it was opened (the step is complete) or expired or failed. */
  startEmailLinkFlow(params: { redirectUrl?: string; emailAddressId?: string }): Promise<T>;
  /** Stops asking; the pending `startEmailLinkFlow` never resolves (as Clerk's). */
  cancelEmailLinkFlow(): void;
}

/** A sign-in (Clerk's `SignInResource`); `status` and `id` are `null` until `create`. */
export interface SignIn {
  id: string | null;
  status: SignInStatus | null;
  identifier: string | null;
  supportedFirstFactors: SignInFirstFactor[];
  firstFactorVerification: Verification | null;
  /** Set once complete: this instance is signed in with it. */
  createdSessionId: string | null;
  abandonAt: number | null;
  create(params: SignInCreateParams): Promise<SignIn>;
  prepareFirstFactor(params: PrepareFirstFactorParams): Promise<SignIn>;
  attemptFirstFactor(params: AttemptFirstFactorParams): Promise<SignIn>;
  /** After a right reset code: the new password; every other session of the user is signed out. */
  resetPassword(params: { password: string; signOutOfOtherSessions?: boolean }): Promise<SignIn>;
  reload(): Promise<SignIn>;
  createEmailLinkFlow(): EmailLinkFlow<SignIn>;
  /** When `strategy` may be sent again (30 s after the last send; 0: now). */
  resendAvailableAt(strategy: Strategy): number;
}

export type SignUpStatus = "missing_requirements" | "complete" | "abandoned";

export interface SignUpCreateParams {
  emailAddress: string;
  /** Without one: a passwordless sign-up (its address is always verified). */
  password?: string;
  firstName?: string;
  lastName?: string;
  unsafeMetadata?: Metadata;
}

/** A sign-up (Clerk's `SignUpResource`); `status` and `id` are `null` until `create`. */
export interface SignUp {
  id: string | null;
  status: SignUpStatus | null;
  emailAddress: string | null;
  firstName: string | null;
  lastName: string | null;
  unsafeMetadata: Metadata;
  passwordEnabled: boolean;
  requiredFields: string[];
  missingFields: string[];
  /** `["email_address"]` until it is verified. */
  unverifiedFields: string[];
  verifications: { emailAddress: Verification | null };
  createdUserId: string | null;
  /** Set once complete: this instance is signed in with it. */
  createdSessionId: string | null;
  abandonAt: number | null;
  create(params: SignUpCreateParams): Promise<SignUp>;
  prepareEmailAddressVerification(params?: { strategy?: "email_code" | "email_link"; redirectUrl?: string }): Promise<SignUp>;
  attemptEmailAddressVerification(params: { code: string }): Promise<SignUp>;
  reload(): Promise<SignUp>;
  createEmailLinkFlow(): EmailLinkFlow<SignUp>;
  resendAvailableAt(strategy: Strategy): number;
}

/** The user's email address with Clerk's methods (`EmailAddressResource`). */
export interface EmailAddressResource extends EmailAddress {
  prepareVerification(params?: { strategy?: "email_code" | "email_link"; redirectUrl?: string }): Promise<EmailAddressResource>;
  /** Right: the address is the user's (`user.emailAddresses` in every tab shows it). */
  attemptVerification(params: { code: string }): Promise<EmailAddressResource>;
  createEmailLinkFlow(): EmailLinkFlow<EmailAddressResource>;
  reload(): Promise<EmailAddressResource>;
  /** Not the primary address. */
  destroy(): Promise<{ id: string; deleted: boolean }>;
  resendAvailableAt(strategy: Strategy): number;
}

/** The user with Clerk's email-address methods. */
export interface UserResource extends Omit<User, "emailAddresses" | "primaryEmailAddress"> {
  emailAddresses: EmailAddressResource[];
  primaryEmailAddress: EmailAddressResource | null;
  createEmailAddress(params: { email: string }): Promise<EmailAddressResource>;
}

/** The instance's settings (`GET /v1/environment`). */
export interface Environment {
  instanceName: string;
  signIn: { firstFactors: Strategy[] };
  signUp: { requiresVerifiedEmail: boolean; passwordRequired: boolean; verificationStrategies: Strategy[] };
  password: { minLength: number; maxLength: number; minDistinctCharacters: number; rejectCommon: boolean };
  /** Emails are kept in the development mailbox, not sent. */
  developmentMailbox: boolean;
  /** Users may delete their own account (`DELETE /v1/client/me`): the UI shows the action only then. */
  deleteSelfEnabled: boolean;
}

export type SetActiveParams =
  | { session: string | { id: string } | null; organization?: string | { id: string } | null }
  | { organization: string | { id: string } | null };

/** How long after a send the same strategy may be sent again, in milliseconds. */
export const RESEND_COOLDOWN_MS: number;

/** The instance's sign-in (Clerk's `client.signIn`): one object per instance. */
export function getSignIn(hp: Hallpass): SignIn;
/** The instance's sign-up (Clerk's `client.signUp`). */
export function getSignUp(hp: Hallpass): SignUp;
/** Clerk's `setActive`: `{ session }` confirms a completed step's session, `{ session: null }` signs out. */
export function setActive(hp: Hallpass, params: SetActiveParams): Promise<void>;
export function getEnvironment(hp: Hallpass): Promise<Environment>;
/** Clerk's `user.createEmailAddress({ email })`: unverified, the user's once verified. */
export function createEmailAddress(hp: Hallpass, params: { email: string }): Promise<EmailAddressResource>;
/** The snapshot's user with Clerk's methods (the same object for the same user). */
export function withUserResources(hp: Hallpass, user: User): UserResource;
export function withUserResources(hp: Hallpass, user: User | null | undefined): UserResource | null | undefined;

export type EmailLinkErrorCode = "expired" | "failed";
export class EmailLinkError extends Error {
  name: "EmailLinkError";
  code: EmailLinkErrorCode;
}
export function isEmailLinkError(value: unknown): value is EmailLinkError;
/** On the link's `redirectUrl` page: `"verified"`, or throws an `EmailLinkError`. */
export function handleEmailLinkVerification(url?: string): Promise<"verified">;
/** What the link's page said on the URL it led to: `"verified"`, `"expired"`, `"failed"`, or `null` on any other URL. */
export function emailLinkStatus(url?: string): "verified" | EmailLinkErrorCode | null;
