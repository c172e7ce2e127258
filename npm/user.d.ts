// `hallpass/user`: the signed-in user's account as Clerk's `UserResource` methods, over a loaded
// `Hallpass`. Times are milliseconds since the epoch. Every call throws `HallpassError` (a stable
// `code`: `form_password_incorrect`, `form_password_length_too_short`, `not_signed_in`, …) as the
// SDK does.
import type { Hallpass, Session, UpdateUserParams, User } from "./index.js";
import type { SessionActivity } from "./server.js";

/** Clerk's `UpdatePasswordParams`. */
export interface UpdatePasswordParams {
  newPassword: string;
  /** Needed when the user has a password (`user.passwordEnabled`). */
  currentPassword?: string;
  /** Ends every other session of the user; this one stays. */
  signOutOfOtherSessions?: boolean;
}

/** Clerk's `SetProfileImageParams`: an image (PNG, JPEG, GIF or WebP, at most 1 MiB), or `null` to remove it. */
export interface SetProfileImageParams {
  file: Blob | null;
}

// The device a session was started on: the one declaration is hallpass/server's (the same wire shape).
export type { DeviceType, SessionActivity } from "./server.js";

/** A session of the user's on some device (Clerk's `SessionWithActivities`). */
export interface SessionWithActivities extends Session {
  /** The device it was started on; `null` for a session older than the server's recording of it. */
  latestActivity: SessionActivity | null;
  /** Ends it: that device is signed out at its next request. */
  revoke(): Promise<SessionWithActivities>;
}

/** Clerk's `DeletedObjectResource`. */
export interface DeletedObject {
  id: string;
  deleted: true;
}

/** The user's methods, by Clerk's names. */
export interface UserMethods {
  /** The SDK's `updateUser` (names, `unsafeMetadata`, `primaryEmailAddressId`); resolves with the user as it now is. */
  update(params: UpdateUserParams): Promise<User & UserMethods>;
  updatePassword(params: UpdatePasswordParams): Promise<User>;
  setProfileImage(params: SetProfileImageParams): Promise<unknown>;
  getSessions(): Promise<SessionWithActivities[]>;
  /** Deletes the account, then signs out. */
  delete(): Promise<DeletedObject>;
}

export function updateUser(hp: Hallpass, params: UpdateUserParams): Promise<User & UserMethods>;
export function updatePassword(hp: Hallpass, params: UpdatePasswordParams): Promise<User>;
export function setProfileImage(hp: Hallpass, params: SetProfileImageParams): Promise<unknown>;
export function getSessions(hp: Hallpass): Promise<SessionWithActivities[]>;
export function deleteUser(hp: Hallpass): Promise<DeletedObject>;
/** `user` (from `hp.useUser()`) with `update`, `updatePassword`, `setProfileImage`, `getSessions` and `delete`. */
export function withUserMethods<U extends User | null | undefined>(hp: Hallpass, user: U): U extends User ? U & UserMethods : U;
