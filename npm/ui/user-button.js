// The user button (Clerk's `<UserButton>`): the signed-in user's avatar (and name with `showName`),
// opening a panel with who is signed in, "Manage account" (to `userProfileUrl`) and "Sign out" (then
// to `afterSignOutUrl`). Renders nothing while signed out.

import { avatar } from "./avatar.js";
import { go } from "./context.js";
import { h } from "./dom.js";
import { disclosure } from "./popover.js";

export function userButtonView(c, hp, props) {
  const { user } = hp.useUser();
  if (!user) {
    c.open = false;
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
  if (typeof props.userProfileUrl === "string") {
    actions.push(c.node("userButtonPopoverActionButton__manageAccount", "a", { href: props.userProfileUrl },
      c.node("userButtonPopoverActionButtonText__manageAccount", "span", null, t("userButton.action__manageAccount"))));
  }
  const signOut = c.node("userButtonPopoverActionButton__signOut", "button", { type: "button" },
    c.node("userButtonPopoverActionButtonText__signOut", "span", null, t("userButton.action__signOut")));
  signOut.addEventListener("click", async () => {
    signOut.setAttribute("aria-busy", "true");
    await hp.signOut(); // always resolves (offline too)
    c.dispatchEvent(new CustomEvent("hallpass:signed-out", { bubbles: true, composed: true }));
    go(props.afterSignOutUrl ?? null);
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
