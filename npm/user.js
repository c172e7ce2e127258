// `hallpass/user`: the signed-in user's account as Clerk's `UserResource` methods — the profile and the
// primary address (`update`, the SDK's `updateUser`), change or set the password (`updatePassword`),
// the profile image (`setProfileImage`), the active sessions (`getSessions`, each with `revoke()`),
// deleting the account (`delete`) — over a loaded `Hallpass`.
//
// Opt-in, outside the headless SDK's size budget (as hallpass/organizations): every request goes
// through the core's one path (`hp._org`: the session token, http.js's `exchange` with its deadline —
// which sends a `Blob` body as it is, for the image —, the wasm's error codes and sign-out) and
// answers are shaped as every resource (`hp._shape`: camelCase). After a change to the user a
// refresh carries the new user to this tab and every other, as `updateUser` does. The routes are the
// protocol's paths (tests/typescript.rs checks them). hallpass/ui's `<UserProfile>` is built on this.

/** `[method, path, answer]`: answers 0 a resource (or Clerk's deleted object), 1 a page. */
const CHANGE_PASSWORD = ["POST", "/v1/client/me/change_password", 0];
const DELETE_ME = ["DELETE", "/v1/client/me", 0];
const SET_IMAGE = ["POST", "/v1/client/me/profile_image", 0];
const REMOVE_IMAGE = ["DELETE", "/v1/client/me/profile_image", 0];
const SESSIONS = ["GET", "/v1/client/sessions", 1];
const REVOKE_SESSION = ["POST", "/v1/client/sessions/{id}/revoke", 0];

/**
 * Updates the user's profile (Clerk's `user.update`): the SDK's `updateUser` — names,
 * `unsafeMetadata`, `primaryEmailAddressId` (one of the user's verified addresses) — then resolves
 * with the user as every tab now sees it, with these methods.
 */
export const updateUser = (hp, params) => hp.updateUser(params).then(() => withUserMethods(hp, hp.useUser().user));

/**
 * The server's answer, once this tab (and so every other) has the user as the change left it:
 * `done(user, answer)` says when it has (a refresh under way may still carry the user as it was).
 */
const refreshed = (hp, done) => (answer) => hp._fresh((u) => done(u, answer)).then(() => hp._shape(answer));

/**
 * Changes the password, or sets one for a user who has none (Clerk's `user.updatePassword`):
 * `{ newPassword, currentPassword?, signOutOfOtherSessions? }` — `currentPassword` is needed when
 * the user has one (a wrong one is `form_password_incorrect`); `signOutOfOtherSessions` ends every
 * other session of the user (this one stays). Resolves with the user.
 */
export const updatePassword = (hp, params) =>
  hp
    ._org(CHANGE_PASSWORD, [], {
      current_password: params?.currentPassword,
      new_password: params?.newPassword,
      sign_out_of_other_sessions: params?.signOutOfOtherSessions,
    })
    .then(refreshed(hp, (u, user) => u.updatedAt >= user.updated_at));

/**
 * Sets the profile image from `file` (a `File` or `Blob`: PNG, JPEG, GIF or WebP, at most 1 MiB;
 * the server checks the bytes), or removes it with `file: null` (Clerk's `user.setProfileImage`).
 * Resolves with the server's answer; `user.imageUrl` follows in every tab.
 */
export function setProfileImage(hp, params) {
  const file = params?.file;
  if (file === null) return hp._org(REMOVE_IMAGE, []).then(refreshed(hp, (u) => !u.imageUrl));
  if (!(file instanceof Blob)) {
    const error = new TypeError("setProfileImage: `file` must be a File or Blob, or null to remove the image");
    return Promise.reject(Object.assign(error, { code: "form_param_format_invalid" }));
  }
  return hp._org(SET_IMAGE, [], file).then(refreshed(hp, (u, image) => u.imageUrl === image.public_url));
}

/**
 * Deletes the user's account and everything of it (Clerk's `user.delete`), then signs this tab out
 * (and, through the SDK's sign-out, every tab). The server refuses it (403) when the instance does
 * not let users delete themselves (`delete_self_enabled` in `GET /v1/environment`). Resolves with
 * Clerk's deleted object (`{ id, deleted: true }`).
 */
export async function deleteUser(hp) {
  const answer = await hp._org(DELETE_ME, []);
  await hp.signOut(); // the session is gone with the user: only the local state is left to clear
  return hp._shape(answer);
}

/** A session of the user's (Clerk's `SessionWithActivities`), with `revoke()`. */
function session(hp, wire) {
  const s = hp._shape(wire);
  s.revoke = () => hp._org(REVOKE_SESSION, [s.id]).then((w) => session(hp, w));
  return s;
}

/**
 * The user's active sessions, on every device (Clerk's `user.getSessions`): an array, this one
 * among them (its `id` is `useAuth().sessionId`).
 */
export const getSessions = (hp) => hp._org(SESSIONS, []).then((page) => page.data.map((w) => session(hp, w)));

/**
 * `user` (as `hp.useUser().user` gives it) with these as its methods, by Clerk's names:
 * `user.update(params)`, `user.updatePassword(params)`, `user.setProfileImage({ file })`,
 * `user.getSessions()`, `user.delete()`.
 */
export function withUserMethods(hp, user) {
  if (!user || typeof user !== "object") return user;
  return {
    ...user,
    update: (params) => updateUser(hp, params),
    updatePassword: (params) => updatePassword(hp, params),
    setProfileImage: (params) => setProfileImage(hp, params),
    getSessions: () => getSessions(hp),
    delete: () => deleteUser(hp),
  };
}
