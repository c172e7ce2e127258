// An avatar: the initials, with the image over them when there is one (an image that fails to load
// is removed, so the initials show).

import { dress } from "./appearance.js";

export function initials(name) {
  const words = String(name ?? "").trim().split(/\s+/).filter(Boolean);
  return words.slice(0, 2).map((w) => [...w][0].toUpperCase()).join("") || "?";
}

/** The avatar box `part` for `name` and `imageUrl`; decorative (the name is written beside it or in a label). */
export function avatar(c, part, name, imageUrl) {
  // `avatarBox` is every avatar's part in Clerk, beside the component's own (`userButtonAvatarBox`).
  const box = dress(c.node(part, "span", { "aria-hidden": "true" }, initials(name)), "avatarBox", c.look.elements);
  if (typeof imageUrl === "string" && /^https?:/.test(imageUrl)) {
    const img = c.node("avatarImage", "img", { src: imageUrl, alt: "" });
    img.addEventListener("error", () => img.remove());
    box.append(img);
  }
  return box;
}
