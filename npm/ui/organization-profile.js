// The organization profile (Clerk's `<OrganizationProfile>`) of the active organization: its members
// (change a role, remove one — with `org:sys_memberships:manage`), invitations (invite by email with a
// role, revoke a pending one), and its settings (rename with `org:sys_profile:manage`, delete with
// `org:sys_profile:delete` after typing its name, leave). Every list is hallpass/organizations';
// after each change the lists are read again. Renders nothing for the personal account.

import { card } from "./card.js";
import { go } from "./context.js";
import { h, uid } from "./dom.js";
import { alertBox, checkRequired, field, onSubmit, primaryButton, showError } from "./form.js";
import { errorText } from "./localize.js";

/** One page of up to 100 of each list. */
const PAGE = 100;

export function organizationProfileView(c, hp, props) {
  const auth = hp.useAuth();
  if (!auth.isSignedIn || !auth.orgId) {
    c.data = null;
    return null;
  }
  const key = `${auth.orgId}:${auth.orgRole}`;
  if (c.data?.key !== key || c.data.stale) load(c, hp, key, auth);
  if (c.data?.key !== key) return c.loading();
  const { organization, members, invitations, roles, error } = c.data;
  const t = c.t;
  const alert = alertBox(c);
  if (error) alert.textContent = errorText(t, error);
  const can = (permission) => auth.has({ permission });
  const manage = can("org:sys_memberships:manage");
  const sections = [alert];
  if (members) sections.push(membersSection(c, hp, auth, members, roles, manage, alert));
  else sections.push(c.node("organizationProfileSectionText", "p", null, t("organizationProfile.membersHidden")));
  if (manage && invitations) sections.push(invitationsSection(c, hp, organization, invitations, roles, alert));
  sections.push(generalSection(c, hp, props, organization, can, alert));
  return card(c, { title: organization.name, subtitle: t("organizationProfile.subtitle"), body: sections });
}

/** Reads the organization and its lists, then draws again. */
function load(c, hp, key, auth) {
  if (c.pending === key) return;
  c.pending = key;
  const { getOrganization } = c.organizations;
  getOrganization(hp, auth.orgId)
    .then(async (organization) => {
      const read = auth.has({ permission: "org:sys_memberships:read" });
      const manage = auth.has({ permission: "org:sys_memberships:manage" });
      const [members, roles, invitations] = await Promise.all([
        read ? organization.getMemberships({ pageSize: PAGE }) : null,
        manage ? organization.getRoles({ pageSize: PAGE }) : null,
        manage ? organization.getInvitations({ status: "pending", pageSize: PAGE }) : null,
      ]);
      return { key, organization, members: members?.data, roles: roles?.data ?? [], invitations: invitations?.data };
    })
    .catch((error) => ({ key, organization: { name: "", id: auth.orgId }, roles: [], error }))
    .then((data) => {
      if (c.pending !== key) return;
      c.pending = null;
      c.data = data;
      c.refresh();
    });
}

/** Reads everything again after a change, showing what is there meanwhile (so the focus stays). */
function reload(c) {
  if (c.data) c.data.stale = true;
  c.refresh();
}

/** Runs `action` for `button`, then reloads; a failure goes to `alert`. */
function act(c, button, alert, action) {
  button.addEventListener("click", async () => {
    if (button.getAttribute("aria-busy") === "true") return;
    button.setAttribute("aria-busy", "true");
    alert.textContent = "";
    try {
      await action();
    } catch (error) {
      button.removeAttribute("aria-busy");
      showError(c, error, {}, alert);
      return;
    }
    reload(c);
  });
  return button;
}

function section(c, title, ...children) {
  const id = uid("section");
  return c.node("organizationProfileSection", "section", { "aria-labelledby": id },
    c.node("organizationProfileSectionTitle", "h2", { id }, title), ...children);
}

const displayName = (u) => [u.firstName, u.lastName].filter(Boolean).join(" ") || u.identifier;

function roleSelect(c, roles, value, label) {
  const select = c.node("organizationProfileRoleSelect", "select", { "aria-label": label },
    roles.map((r) => h("option", { value: r.key, selected: r.key === value }, r.name)));
  select.value = value;
  return select;
}

function membersSection(c, hp, auth, members, roles, manage, alert) {
  const t = c.t;
  const rows = members.map((m) => {
    const u = m.publicUserData;
    const you = u.userId === auth.userId;
    const who = c.node("organizationProfileMemberIdentity", "span", null,
      c.node("organizationProfileMemberName", "span", null, displayName(u), you ? ` ${t("organizationProfile.you")}` : ""),
      c.node("organizationProfileMemberIdentifier", "span", null, u.identifier));
    let role;
    if (manage && !you && roles.length > 0) {
      role = roleSelect(c, roles, m.role, t("organizationProfile.roleOf", { name: u.identifier }));
      role.dataset.focusKey = `role:${u.userId}`;
      role.addEventListener("change", async () => {
        alert.textContent = "";
        role.disabled = true;
        try {
          await m.update({ role: role.value });
        } catch (error) {
          showError(c, error, {}, alert);
        }
        reload(c);
      });
    } else {
      role = c.node("organizationProfileMemberRole", "span", null, m.roleName || m.role);
    }
    const remove = manage && !you &&
      act(c, c.node("organizationProfileActionButton", "button", { type: "button", "data-focus-key": `remove:${u.userId}`,
        "aria-label": t("organizationProfile.removeMember", { name: u.identifier }) }, t("organizationProfile.remove")),
      alert, () => m.destroy());
    return c.node("organizationProfileMemberRow", "li", null, who, role, remove);
  });
  return section(c, t("organizationProfile.members"), c.node("organizationProfileList", "ul", null, rows));
}

function invitationsSection(c, hp, organization, invitations, roles, alert) {
  const t = c.t;
  const email = field(c, { name: "inviteEmailAddress", label: t("formFieldLabel__emailAddress"), type: "email", autocomplete: "off" });
  const defaultRole = roles.some((r) => r.key === "org:member") ? "org:member" : roles[0]?.key;
  const roleId = uid("role");
  const role = roleSelect(c, roles, defaultRole, null);
  role.removeAttribute("aria-label");
  role.id = roleId;
  role.name = "inviteRole";
  const button = primaryButton(c, t("organizationProfile.invite"));
  const form = c.node("form", "form", { novalidate: true, "aria-label": t("organizationProfile.inviteTitle") },
    email.root,
    c.node("formField", "div", null, c.node("formFieldLabel", "label", { for: roleId }, t("organizationProfile.role")), role),
    button);
  onSubmit(form, button, async () => {
    alert.textContent = "";
    if (!checkRequired(c, [[email, t("formFieldLabel__emailAddress"), "email"]])) return;
    try {
      await organization.inviteMember({ emailAddress: email.input.value.trim(), role: role.value });
    } catch (error) {
      showError(c, error, { identifier: email }, alert);
      return;
    }
    form.reset();
    reload(c);
  });
  const rows = invitations.map((i) => c.node("organizationProfileInvitationRow", "li", null,
    c.node("organizationProfileMemberIdentity", "span", null,
      c.node("organizationProfileMemberName", "span", null, i.emailAddress),
      c.node("organizationProfileMemberIdentifier", "span", null, t("organizationProfile.invitedAs", { role: i.roleName || i.role }))),
    act(c, c.node("organizationProfileActionButton", "button", { type: "button", "data-focus-key": `revoke:${i.id}`,
      "aria-label": t("organizationProfile.revokeInvitation", { email: i.emailAddress }) }, t("organizationProfile.revoke")),
    alert, () => i.revoke())));
  return section(c, t("organizationProfile.invitations"), form,
    rows.length > 0 && c.node("organizationProfileList", "ul", null, rows));
}

function generalSection(c, hp, props, organization, can, alert) {
  const t = c.t;
  const parts = [];
  if (can("org:sys_profile:manage")) {
    const name = field(c, { name: "organizationName", label: t("formFieldLabel__organizationName"), autocomplete: "organization" });
    name.input.value = organization.name;
    const button = primaryButton(c, t("organizationProfile.save"));
    const form = c.node("form", "form", { novalidate: true, "aria-label": t("organizationProfile.general") }, name.root, button);
    onSubmit(form, button, async () => {
      alert.textContent = "";
      if (!checkRequired(c, [[name, t("formFieldLabel__organizationName")]])) return;
      try {
        await organization.update({ name: name.input.value.trim() });
      } catch (error) {
        showError(c, error, {}, alert);
        return;
      }
      reload(c);
    });
    parts.push(form);
  }
  const leave = c.node("formButtonReset", "button", { type: "button", "data-focus-key": "leave" }, t("organizationProfile.leave"));
  leave.addEventListener("click", async () => {
    alert.textContent = "";
    try {
      await c.organizations.leaveOrganization(hp, organization.id);
    } catch (error) {
      showError(c, error, {}, alert);
      return;
    }
    go(props.afterLeaveOrganizationUrl ?? null);
  });
  parts.push(c.node("formButtons", "div", null, leave, can("org:sys_profile:delete") && organization.adminDeleteEnabled !== false && deleteControl(c, props, organization, alert)));
  return section(c, t("organizationProfile.general"), parts);
}

/** "Delete organization": the confirmation asks for the organization's name, typed. */
function deleteControl(c, props, organization, alert) {
  const t = c.t;
  if (!c.confirmingDelete) {
    const start = c.node("organizationProfileDangerButton", "button", { type: "button", "data-focus-key": "delete" }, t("organizationProfile.delete"));
    start.addEventListener("click", () => {
      c.confirmingDelete = true;
      c.refresh();
      c.querySelector('input[name="confirmName"]')?.focus();
    });
    return start;
  }
  const confirm = field(c, { name: "confirmName", label: t("organizationProfile.deleteConfirm", { name: organization.name }), autocomplete: "off" });
  const button = c.node("organizationProfileDangerButton", "button", { type: "submit" }, t("organizationProfile.delete"));
  button.busy = () => {};
  const form = c.node("form", "form", { novalidate: true, "aria-label": t("organizationProfile.delete") }, confirm.root, button);
  onSubmit(form, button, async () => {
    alert.textContent = "";
    if (confirm.input.value.trim() !== organization.name) {
      confirm.error(t("organizationProfile.deleteMismatch"));
      confirm.input.focus();
      return;
    }
    try {
      await organization.destroy();
    } catch (error) {
      showError(c, error, {}, alert);
      return;
    }
    c.confirmingDelete = false;
    go(props.afterLeaveOrganizationUrl ?? null);
  });
  return form;
}
