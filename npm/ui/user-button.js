// The user button (Clerk's `<UserButton>`): the signed-in user's avatar (and name with `showName`),
// opening a panel with who is signed in, "Manage account" and "Sign out" (then to `afterSignOutUrl`).
// "Manage account" goes to `userProfileUrl` when there is one (Clerk's `userProfileMode:
// "navigation"`); otherwise it opens `<hallpass-user-profile>` in a modal dialog (Clerk's default),
// with this button's client, appearance and localization. Renders nothing while signed out.

import { applyVariables } from "./appearance.js";
import { avatar } from "./avatar.js";
import { signOutThenGo } from "./context.js";
import { h } from "./dom.js";
import { disclosure } from "./popover.js";

export function userButtonView(c, hp, props) {
  const { user } = hp.useUser();
  if (!user) {
    c.open = false;
    closeProfile(c);
    return null;
  }
  const t = c.t;
  const email = user.primaryEmailAddress?.emailAddress ?? "";
  const name = user.fullName ?? email;
  // Named by its text (hidden but read), not by `aria-label`: the name then holds what is seen.
  const trigger = c.node("userButtonTrigger", "button", { type: "button", "data-focus-key": "trigger" },
    avatar(c, "userButtonAvatarBox", name, user.imageUrl),
    props.showName && c.node("userButtonOuterIdentifier", "span", { "aria-hidden": "true" }, name),
    h("span", { class: "hp-srOnly" }, t("userButton.triggerLabel", { name })));
  const actions = [];
  const manageText = c.node("userButtonPopoverActionButtonText__manageAccount", "span", null, t("userButton.action__manageAccount"));
  if (typeof props.userProfileUrl === "string") {
    actions.push(c.node("userButtonPopoverActionButton__manageAccount", "a", { href: props.userProfileUrl }, manageText));
  } else if (props.userProfileMode !== "navigation") {
    const manage = c.node("userButtonPopoverActionButton__manageAccount", "button", { type: "button", "aria-haspopup": "dialog" }, manageText);
    manage.addEventListener("click", () => {
      c.menu?.close();
      openProfile(c, props);
    });
    actions.push(manage);
  }
  const signOut = c.node("userButtonPopoverActionButton__signOut", "button", { type: "button" },
    c.node("userButtonPopoverActionButtonText__signOut", "span", null, t("userButton.action__signOut")));
  signOut.addEventListener("click", async () => {
    signOut.setAttribute("aria-busy", "true");
    await signOutThenGo(c, props.afterSignOutUrl, async () => {
      await hp.signOut(); // always resolves (offline too)
      c.dispatchEvent(new CustomEvent("hallpass:signed-out", { bubbles: true, composed: true }));
    });
  });
  actions.push(signOut);
  const panel = c.node("userButtonPopoverCard", "div", { role: "group", "aria-label": t("userButton.popoverLabel") },
    c.node("userPreview", "div", null,
      avatar(c, "userPreviewAvatarBox", name, user.imageUrl),
      c.node("userPreviewTextContainer", "div", null,
        c.node("userPreviewMainIdentifier", "span", null, name),
        email && email !== name && c.node("userPreviewSecondaryIdentifier", "span", null, email))),
    c.node("userButtonPopoverActions", "div", null, actions));
  const box = c.node("userButtonBox", "div", null, trigger, panel);
  c.menu = disclosure(box, trigger, panel, { open: Boolean(c.open), onToggle: (open) => (c.open = open) });
  return box;
}

/**
 * Opens the user profile in a modal `<dialog>` (its own focus trap, Escape to close), kept in the
 * page's `<body>` so that the button's re-renders leave it alone; closed, the focus goes back to
 * the button. Removed with the button (`closeProfile`).
 */
function openProfile(c, props) {
  const t = c.t;
  let dialog = c.dialog;
  if (!dialog) {
    const profile = document.createElement("hallpass-user-profile");
    for (const name of ["frontend-api", "publishable-key"]) if (c.hasAttribute(name)) profile.setAttribute(name, c.getAttribute(name));
    if (c.provider) profile.provider = c.provider;
    const close = c.node("modalCloseButton", "button", { type: "button", "aria-label": t("userButton.closeProfile") }, "×");
    dialog = c.dialog = c.node("modalContent", "dialog", { "aria-label": t("userButton.action__manageAccount") }, close, profile);
    close.addEventListener("click", () => dialog.close());
    dialog.addEventListener("close", () => c.querySelector('[data-focus-key="trigger"]')?.focus());
    dialog.profile = profile;
    document.body.append(dialog);
  }
  applyVariables(dialog, c.look.variables); // for the close button, outside the profile's root
  dialog.profile.props = { appearance: props.appearance, localization: props.localization, afterSignOutUrl: props.afterSignOutUrl };
  if (!dialog.open) dialog.showModal();
}

/** Closes and removes the dialog (the button left the page, or the user signed out). */
export function closeProfile(c) {
  c.dialog?.close();
  c.dialog?.remove();
  c.dialog = null;
}
