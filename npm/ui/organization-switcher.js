// The organization switcher (Clerk's `<OrganizationSwitcher>`): the active organization (or the
// personal account) on a button that opens the list of your organizations (hallpass/organizations),
// the personal account (unless `hidePersonal`), and "Create organization", a form in the panel.
// Choosing one makes it active (`hp.setActive`) and goes to `afterSelectOrganizationUrl` /
// `afterSelectPersonalUrl`; a new organization becomes active and goes to `afterCreateOrganizationUrl`.
// Renders nothing while signed out.

import { avatar } from "./avatar.js";
import { h } from "./dom.js";
import { go } from "./context.js";
import { errorText } from "./localize.js";
import { createOrganizationForm } from "./create-organization.js";
import { alertBox, showError } from "./form.js";
import { disclosure } from "./popover.js";

/** Memberships shown: one page of up to 100 (a longer list is for an organization list page). */
const PAGE = 100;

export function organizationSwitcherView(c, hp, props) {
  const auth = hp.useAuth();
  if (!auth.isSignedIn) {
    Object.assign(c, { open: false, creating: false, memberships: null });
    return null;
  }
  const t = c.t;
  const personal = t("organizationSwitcher.personalWorkspace");
  const mine = c.memberships?.userId === auth.userId ? c.memberships.data : null;
  const active = mine?.find((m) => m.organization.id === auth.orgId)?.organization;
  const activeName = auth.orgId ? (active?.name ?? auth.orgSlug ?? "…") : personal;
  // Named by its text (hidden but read), not by `aria-label`: the name then holds what is seen.
  const shown = preview(c, activeName, active?.imageUrl, null);
  shown.setAttribute("aria-hidden", "true");
  const trigger = c.node("organizationSwitcherTrigger", "button", { type: "button", "data-focus-key": "trigger" },
    shown, h("span", { class: "hp-srOnly" }, t("organizationSwitcher.triggerLabel", { name: activeName })));
  const alert = alertBox(c);
  if (c.memberships?.error) alert.textContent = errorText(t, c.memberships.error);
  const rows = [];
  if (!props.hidePersonal) rows.push(choice(c, hp, props, null, personal, null, !auth.orgId, alert));
  if (mine === null) {
    rows.push(c.node("organizationSwitcherLoading", "p", { class: "hp-organizationSwitcherPreviewButton", "aria-busy": "true" }, t("loading")));
  } else {
    for (const m of mine)
      rows.push(choice(c, hp, props, m.organization, m.organization.name, m.roleName || m.role, m.organization.id === auth.orgId, alert));
  }
  const panel = c.node("organizationSwitcherPopoverCard", "div", { role: "group", "aria-label": t("organizationSwitcher.popoverLabel") },
    c.node("organizationSwitcherPopoverActions", "div", null, rows),
    alert,
    c.creating ? createForm(c, hp, props, alert) : createButton(c));
  const box = c.node("organizationSwitcherBox", "div", null, trigger, panel);
  c.menu = disclosure(box, trigger, panel, {
    open: Boolean(c.open),
    onToggle: (open) => {
      c.open = open;
      if (!open) c.creating = false;
      if (open) load(c, hp, auth.userId);
    },
  });
  // The list is read when the panel opens, and at once when the active organization's name is needed.
  if (mine === null && (c.open || auth.orgId)) load(c, hp, auth.userId);
  return box;
}

/**
 * Closes the panel after a change and gives the focus back to the button. The change has re-rendered
 * the component already (the auth state moved), so this works on what is there now.
 */
function closeAndFocus(c) {
  c.menu?.release();
  c.open = false;
  c.creating = false;
  c.refresh();
  c.querySelector('[data-focus-key="trigger"]')?.focus();
}

/** Fetches your memberships (one request at a time), then re-renders. */
function load(c, hp, userId) {
  if (c.fetching) return;
  c.fetching = c.organizations.getOrganizationMemberships(hp, { pageSize: PAGE }).then(
    (page) => {
      c.memberships = { userId, data: page.data };
    },
    (error) => {
      c.memberships = { userId, data: [], error };
    },
  ).finally(() => {
    c.fetching = null;
    c.refresh();
  });
}

function preview(c, name, imageUrl, secondary) {
  return c.node("organizationPreview", "span", null,
    avatar(c, "organizationPreviewAvatarBox", name, imageUrl),
    c.node("organizationPreviewTextContainer", "span", null,
      c.node("organizationPreviewMainIdentifier", "span", null, name),
      secondary && c.node("organizationPreviewSecondaryIdentifier", "span", null, secondary)));
}

/** A row that makes `organization` (null: the personal account) active. */
function choice(c, hp, props, organization, name, role, current, alert) {
  const button = c.node("organizationSwitcherPreviewButton", "button", {
    type: "button",
    "aria-current": current ? "true" : null,
    "data-focus-key": `org:${organization?.id ?? "personal"}`,
  }, preview(c, name, organization?.imageUrl, role && c.t("organizationSwitcher.role", { role })));
  button.addEventListener("click", async () => {
    if (current) {
      c.menu.close("trigger");
      return;
    }
    button.setAttribute("aria-busy", "true");
    try {
      await hp.setActive({ organization: organization?.id ?? null });
    } catch (error) {
      button.removeAttribute("aria-busy");
      showError(c, error, {}, alert);
      return;
    }
    closeAndFocus(c);
    go(organization ? (props.afterSelectOrganizationUrl ?? null) : (props.afterSelectPersonalUrl ?? null));
  });
  return button;
}

function createButton(c) {
  const button = c.node("organizationSwitcherPopoverActionButton__createOrganization", "button", {
    type: "button",
    "data-focus-key": "create",
  }, h("span", { "aria-hidden": "true" }, "+"),
  c.node("organizationSwitcherPopoverActionButtonText__createOrganization", "span", null, c.t("organizationSwitcher.action__createOrganization")));
  button.addEventListener("click", () => {
    c.creating = true;
    c.refresh();
    c.querySelector('input[name="organizationName"]')?.focus();
  });
  return button;
}

/** Create organization, in the panel (the form `<hallpass-create-organization>` shows in its card). */
function createForm(c, hp, props, alert) {
  const cancel = c.node("formButtonReset", "button", { type: "button", "data-focus-key": "cancel" }, c.t("createOrganization.formButtonCancel"));
  cancel.addEventListener("click", () => {
    c.creating = false;
    c.refresh();
    c.querySelector('[data-focus-key="create"]')?.focus();
  });
  return createOrganizationForm(c, hp, alert, cancel, () => {
    c.memberships = null;
    closeAndFocus(c);
    go(props.afterCreateOrganizationUrl ?? null);
  });
}
