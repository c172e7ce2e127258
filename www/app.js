// The Hallpass demo: a plain ES-module app on the `hallpass` npm package. Everything the page shows
// comes from the SDK's state (`addListener` + `useUser`/`useAuth`) and from `getToken`/`fetch`; the
// sign-in form, the user button and the organization switcher are hallpass/ui's (see ui.js).
import { Hallpass, isHallpassError } from "hallpass";
import { getOrganization, getOrganizationInvitations } from "hallpass/organizations";
import { useComponents } from "./ui.js";

const $ = (id) => document.getElementById(id);

/** A message for every way a call can fail, by the error's stable code. */
function describe(error) {
  if (!isHallpassError(error)) return `Something went wrong: ${error?.message ?? error}`;
  switch (error.code) {
    case "form_password_incorrect":
      return "Wrong email or password. Check both and try again.";
    case "form_password_length_too_short":
      return "That password is too short: use at least 8 characters.";
    case "form_password_validation_failed":
    case "form_password_not_strong_enough":
    case "form_password_whitespace_only":
      return `That password is too weak: ${error.message}`;
    case "form_password_pwned":
      return "That password is on lists of leaked passwords. Choose another: a few unrelated words work well.";
    case "form_identifier_confusable":
      return "That email address contains characters that make it look like another one. Type it in one script.";
    case "server_busy":
      return `The server is busy. Try again in ${error.retryAfter ?? 1} seconds.`;
    case "form_identifier_exists":
      return "An account with this email address already exists. Sign in instead.";
    case "form_param_format_invalid":
    case "form_param_missing":
    case "form_param_too_long":
      return error.message;
    case "network_error":
    case "offline":
      return "Can't reach the Hallpass server. Is `cargo xtask demo` still running?";
    case "request_timeout":
      return "The Hallpass server did not answer in time. Try again in a moment.";
    case "rate_limited":
      return `Too many attempts. Try again in ${error.retryAfter ?? 60} seconds.`;
    case "session_revoked":
    case "session_ended":
    case "session_expired":
      return "You were signed out: the session was revoked or has expired. Please sign in again.";
    default:
      return error.message || `Unexpected error (${error.code}).`;
  }
}

function showBanner(text) {
  const banner = $("banner");
  banner.textContent = text;
  banner.hidden = !text;
}

/** Runs `work` with `button` disabled; its failure goes to `onError`. */
async function busy(button, work, onError) {
  button.disabled = true;
  button.classList.add("busy");
  try {
    await work();
  } catch (error) {
    onError(describe(error));
  } finally {
    button.disabled = false;
    button.classList.remove("busy");
  }
}

function initials(user) {
  const parts = [user.firstName, user.lastName].filter(Boolean);
  const source = parts.length ? parts : [user.primaryEmailAddress?.emailAddress ?? "?"];
  return source.map((p) => p.trim()[0] ?? "").join("").slice(0, 2).toUpperCase();
}

const dateTime = (ms) =>
  ms ? new Date(ms).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" }) : "—";

function decodeJwt(token) {
  const part = (s) => JSON.parse(new TextDecoder().decode(
    Uint8Array.from(atob(s.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0))));
  const [header, payload] = token.split(".");
  return { header: part(header), claims: part(payload) };
}

const CLAIM_NOTES = {
  sub: "user", sid: "session", iss: "issuer", azp: "authorized party (origin)", iat: "issued at",
  nbf: "not before", exp: "expires", jti: "token id", v: "claims version", o: "organization",
};

// ---- the page -------------------------------------------------------------------------------------

let hp;
try {
  hp = await Hallpass.load({ frontendApi: location.origin });
} catch (error) {
  $("loading").hidden = true;
  showBanner(`The Hallpass SDK could not start: ${error?.message ?? error}. Run \`cargo xtask demo\` again.`);
  throw error;
}
window.hallpass = hp; // for poking around in the console

const token = { value: null, refreshes: 0, lifetime: 60 };
let wasSignedIn = false;
let signingOut = false;
useComponents(hp, {
  onSigningOut: (asked) => {
    signingOut = asked;
  },
  onSignedOut: () => {
    signingOut = false;
    token.refreshes = 0;
    $("api-result").hidden = true;
  },
});

function render() {
  const { isLoaded, isSignedIn, user } = hp.useUser();
  if (wasSignedIn && !isSignedIn && !signingOut) {
    // Not our sign-out button: the server ended the session, or another tab signed out.
    showBanner("You were signed out: the session ended (revoked, expired, or signed out in another tab).");
  }
  if (isSignedIn) showBanner("");
  wasSignedIn = isSignedIn === true;
  $("loading").hidden = isLoaded;
  $("signed-out").hidden = !isLoaded || isSignedIn;
  $("signed-in").hidden = !isSignedIn;
  $("api").hidden = !isLoaded;
  $("webhooks").hidden = !isSignedIn;
  $("orgs").hidden = !isSignedIn;
  const status = $("status");
  status.dataset.state = isSignedIn ? "in" : "out";
  $("status-text").textContent = isSignedIn
    ? `Signed in as ${user.primaryEmailAddress?.emailAddress ?? user.id}`
    : "Signed out";
  if (!isSignedIn) {
    token.value = null;
    return;
  }
  const { sessionId } = hp.useAuth();
  $("avatar").textContent = initials(user);
  $("user-name").textContent = user.fullName || user.primaryEmailAddress?.emailAddress || "Unnamed user";
  $("user-email").textContent = user.primaryEmailAddress?.emailAddress ?? "";
  $("user-id").textContent = user.id;
  $("session-id").textContent = sessionId;
  $("user-created").textContent = dateTime(user.createdAt);
  $("user-last-sign-in").textContent = dateTime(user.lastSignInAt);
  void updateToken();
  void loadWebhooks();
  void loadOrganizations().catch((error) => showBanner(describe(error)));
}

// ---- organizations (hallpass/organizations) --------------------------------------------------------

/** A list item: `text`, then a button per `[label, action]` (each reloads the card when done). */
function row(text, actions = [], extra = null) {
  const li = document.createElement("li");
  const who = document.createElement("span");
  who.className = "who";
  who.textContent = text;
  li.append(who);
  if (extra) li.append(extra);
  for (const [label, action] of actions) {
    const button = document.createElement("button");
    button.className = "ghost";
    button.textContent = label;
    button.addEventListener("click", () => void busy(button, async () => {
      await action();
      await loadOrganizations();
    }, showBanner));
    li.append(button);
  }
  return li;
}

let orgsShown = null;
/** Your pending invitations, and the active organization's members and invitations. */
async function loadOrganizations() {
  const { isSignedIn, orgId, orgRole, has } = hp.useAuth();
  $("orgs").hidden = !isSignedIn;
  if (!isSignedIn) return;
  const key = `${orgId}:${orgRole}`;
  orgsShown = key;
  // Your organizations are the switcher's (hallpass/ui) to list; the invitations addressed to you here.
  const invited = await getOrganizationInvitations(hp, { status: "pending", pageSize: 100 });
  if (orgsShown !== key) return; // a newer render is on its way
  $("org-invitations").hidden = invited.data.length === 0;
  $("org-invitations-list").replaceChildren(...invited.data.map((i) =>
    row(`${i.publicOrganizationData?.name ?? i.organizationId} invites you as ${i.roleName}`,
      [["Accept", () => i.accept()], ["Decline", () => i.decline()]])));
  $("org-members").hidden = !orgId;
  if (!orgId) return;
  const org = await getOrganization(hp, orgId);
  $("org-active-name").textContent = org.name;
  $("org-role").textContent = orgRole;
  // Members without `org:sys_memberships:read` see only themselves (through the switcher).
  const manage = has({ permission: "org:sys_memberships:manage" });
  if (!has({ permission: "org:sys_memberships:read" })) {
    $("org-members-list").replaceChildren(row("Your role does not let you see the members."));
    $("org-invite").hidden = true;
    $("org-sent-list").replaceChildren();
    return;
  }
  const [members, roles, sent] = await Promise.all([
    org.getMemberships({ pageSize: 100 }),
    org.getRoles({ pageSize: 100 }),
    org.getInvitations({ status: "pending", pageSize: 100 }),
  ]);
  if (orgsShown !== key) return;
  const you = hp.useAuth().userId;
  $("org-members-list").replaceChildren(...members.data.map((m) => {
    const u = m.publicUserData;
    const name = [u.firstName, u.lastName].filter(Boolean).join(" ") || u.identifier;
    const select = document.createElement("select");
    select.setAttribute("aria-label", `Role of ${u.identifier}`);
    select.append(...roles.data.map((r) => new Option(r.name, r.key)));
    select.value = m.role;
    select.disabled = !manage;
    select.addEventListener("change", () => void busy(select, async () => {
      await m.update({ role: select.value });
      await loadOrganizations();
    }, showBanner));
    const actions = u.userId === you ? [["Leave", () => m.destroy()]] : manage ? [["Remove", () => m.destroy()]] : [];
    return row(`${name}${u.userId === you ? " (you)" : ""} · ${u.identifier}`, actions, select);
  }));
  $("org-invite").hidden = !manage;
  $("org-invite-role").replaceChildren(...roles.data.map((r) => new Option(r.name, r.key)));
  $("org-invite-role").value = roles.data.some((r) => r.key === "org:member") ? "org:member" : roles.data[0]?.key;
  $("org-sent-list").replaceChildren(...sent.data.map((i) =>
    row(`Invited ${i.emailAddress} as ${i.roleName}`, manage ? [["Revoke", () => i.revoke()]] : [])));
}

$("org-refresh").addEventListener("click", (event) => {
  void busy(event.currentTarget, loadOrganizations, showBanner);
});

$("org-invite").addEventListener("submit", (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  void busy(form.querySelector("button"), async () => {
    const org = await getOrganization(hp, hp.useAuth().orgId);
    await org.inviteMember({ emailAddress: $("org-invite-email").value, role: $("org-invite-role").value });
    $("org-invite-email").value = "";
    await loadOrganizations();
  }, showBanner);
});

/** Reads the current token (the SDK's cache; a refresh when it is due) and shows what changed. */
async function updateToken(options) {
  if (!hp.useAuth().isSignedIn) return;
  let jwt;
  try {
    jwt = await hp.getToken(options);
    showBanner("");
  } catch (error) {
    showBanner(describe(error));
    return;
  }
  if (!jwt || jwt === token.value) return;
  if (token.value !== null) token.refreshes += 1;
  token.value = jwt;
  const { header, claims } = decodeJwt(jwt);
  token.exp = claims.exp;
  token.lifetime = Math.max(1, claims.exp - claims.iat);
  $("token-refreshes").textContent = String(token.refreshes);
  $("token-raw").textContent = jwt;
  const rows = Object.entries({ alg: header.alg, kid: header.kid, ...claims }).map(([name, value]) => {
    const tr = document.createElement("tr");
    const shown = ["iat", "nbf", "exp"].includes(name)
      ? `${value} · ${new Date(value * 1000).toLocaleTimeString()}`
      : typeof value === "object" ? JSON.stringify(value) : String(value);
    tr.innerHTML = "<th></th><td><code></code><span class=\"note\"></span></td>";
    tr.querySelector("th").textContent = name;
    tr.querySelector("code").textContent = shown;
    tr.querySelector(".note").textContent = CLAIM_NOTES[name] ?? (name === "kid" ? "signing key" : "");
    return tr;
  });
  $("token-claims").replaceChildren(...rows);
  tick();
}

/** One line about an event's `data`: who or which session, and what it says now. */
function summary(event) {
  const d = event.data ?? {};
  if (event.type.startsWith("user.")) {
    if (d.deleted) return `${d.id} deleted`;
    const email = d.email_addresses?.[0]?.email_address ?? "";
    const name = [d.first_name, d.last_name].filter(Boolean).join(" ");
    return [name, email].filter(Boolean).join(" · ") || d.id;
  }
  return `${d.id} · ${d.status}`;
}

/** What the demo's backend received about this user (it verified each signature first). */
async function loadWebhooks() {
  if (!hp.useAuth().isSignedIn) return;
  const response = await hp.fetch("/demo/api/webhooks");
  if (!response.ok) return;
  const { data } = await response.json();
  const items = data.map((event) => {
    const li = document.createElement("li");
    li.innerHTML = "<span class=\"pill\" data-ok=\"true\"></span><span class=\"what\"></span>" +
      "<span class=\"when muted small\"></span><code class=\"id small\"></code>";
    li.querySelector(".pill").textContent = event.type;
    li.querySelector(".what").textContent = summary(event);
    li.querySelector(".when").textContent = `${new Date(event.received_at).toLocaleTimeString()} · signature verified`;
    li.querySelector(".id").textContent = event.id;
    return li;
  });
  $("webhooks-list").replaceChildren(...items);
  $("webhooks-empty").hidden = items.length > 0;
}

/** The countdown: seconds left on the current token, on this device's clock. */
function tick() {
  if (!token.value) return;
  const left = Math.max(0, token.exp - Date.now() / 1000);
  $("token-ttl").textContent = `${Math.floor(left)} s`;
  $("token-meter").style.width = `${Math.min(100, (left / token.lifetime) * 100)}%`;
  $("token-meter").dataset.low = String(left < token.lifetime / 4);
}

setInterval(() => {
  tick();
  // `getToken()` is served from the cache until the token nears expiry; then the SDK refreshes it.
  void updateToken();
}, 1000);
// Deliveries arrive a moment after each change; look again every few seconds.
setInterval(() => void loadWebhooks().catch(() => {}), 3000);

hp.addListener(render);
render();

// ---- forms and buttons ----------------------------------------------------------------------------

$("refresh-token").addEventListener("click", (event) => {
  void busy(event.currentTarget, () => updateToken({ skipCache: true }), showBanner);
});

$("load-webhooks").addEventListener("click", (event) => {
  void busy(event.currentTarget, loadWebhooks, showBanner);
});

$("call-api").addEventListener("click", (event) => {
  void busy(event.currentTarget, async () => {
    // `hp.fetch` adds `Authorization: Bearer <token>` when signed in (and retries once on a 401).
    const response = await hp.fetch("/demo/api/whoami");
    const text = await response.text();
    let body = text;
    try {
      body = JSON.stringify(JSON.parse(text), null, 2);
    } catch {
      // not JSON: show it as it came
    }
    $("api-status").textContent = `${response.status} ${response.ok ? "OK" : response.statusText || "Unauthorized"}`;
    $("api-status").dataset.ok = String(response.ok);
    $("api-body").textContent = body;
    $("api-result").hidden = false;
  }, showBanner);
});
