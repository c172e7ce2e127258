// The card that sign-in and sign-up are drawn in: the logo (`layout.logoImageUrl`, linked to
// `layout.logoLinkUrl`), the title and subtitle, the body, and the footer with the way to the other
// form (a link to `signUpUrl` / `signInUrl`, or — without one — a switch to it in place) and the
// `layout`'s help, privacy and terms links.

import { h, uid } from "./dom.js";

export function card(c, { title, subtitle, body, action }) {
  const layout = c.look.layout;
  const name = c.applicationName ?? "";
  let logo = null;
  if (typeof layout.logoImageUrl === "string") {
    const img = c.node("logoImage", "img", { src: layout.logoImageUrl, alt: c.t("logoAlt", { applicationName: name }) });
    const inner = typeof layout.logoLinkUrl === "string" ? h("a", { href: layout.logoLinkUrl }, img) : img;
    logo = c.node("logoBox", "div", null, inner);
  }
  const titleId = uid("title");
  const header = c.node("header", "div", null, logo,
    c.node("headerTitle", "h1", { id: titleId }, title),
    subtitle && c.node("headerSubtitle", "p", null, subtitle));
  const pages = [["helpPageUrl", "footerPageLink__help"], ["privacyPageUrl", "footerPageLink__privacy"], ["termsPageUrl", "footerPageLink__terms"]]
    .filter(([k]) => typeof layout[k] === "string")
    .map(([k, label]) => c.node("footerPagesLink", "a", { href: layout[k] }, c.t(label)));
  let footer = pages.length > 0 ? c.node("footer", "div", null, c.node("footerPages", "div", null, pages)) : null;
  if (action) {
    const link = action.href
      ? c.node("footerActionLink", "a", { href: action.href }, action.link)
      : c.node("footerActionLink", "button", { type: "button", onclick: action.onclick, "data-focus-key": "footerAction" }, action.link);
    footer = c.node("footer", "div", null,
      c.node("footerAction", "p", null, c.node("footerActionText", "span", null, action.text), " ", link),
      pages.length > 0 && c.node("footerPages", "div", null, pages));
  }
  return c.node("card", "section", { "aria-labelledby": titleId }, header, c.node("main", "div", null, body), footer);
}
