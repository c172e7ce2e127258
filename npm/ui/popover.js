// The disclosure both the user button and the organization switcher open: a button with
// `aria-expanded` / `aria-controls`, and a panel that Escape, a click outside or the focus leaving
// closes (Escape gives the focus back to the button); the arrow keys move between its buttons and
// links, Home and End to the first and last. Opened from the keyboard, the focus moves into it.

import { uid } from "./dom.js";

/** Wires `trigger` to `panel` inside `box`; `onToggle(open)` after each change. Returns `{ close }`. */
export function disclosure(box, trigger, panel, { open, onToggle }) {
  const id = panel.id || (panel.id = uid("popover"));
  trigger.setAttribute("aria-controls", id);
  trigger.setAttribute("aria-expanded", String(open));
  panel.hidden = !open;
  const items = () => [...panel.querySelectorAll("a[href], button:not([disabled]), input")];
  const set = (next, focus) => {
    trigger.setAttribute("aria-expanded", String(next));
    panel.hidden = !next;
    if (next) document.addEventListener("pointerdown", outside, true);
    else document.removeEventListener("pointerdown", outside, true);
    onToggle(next);
    if (focus === "first") items()[0]?.focus();
    else if (focus === "trigger") trigger.focus();
  };
  const outside = (event) => {
    if (!box.contains(event.target)) set(false);
  };
  if (open) document.addEventListener("pointerdown", outside, true);
  // `detail` is 0 for a click made with the keyboard (Enter or Space on the button).
  trigger.addEventListener("click", (event) => set(panel.hidden, panel.hidden && event.detail === 0 ? "first" : null));
  trigger.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown" && panel.hidden) {
      event.preventDefault();
      set(true, "first");
    }
  });
  box.addEventListener("keydown", (event) => {
    if (panel.hidden) return;
    if (event.key === "Escape") {
      event.preventDefault();
      set(false, "trigger");
      return;
    }
    const list = items();
    const at = list.indexOf(document.activeElement);
    if (at < 0 || document.activeElement.tagName === "INPUT") return;
    const to = { ArrowDown: at + 1, ArrowUp: at - 1, Home: 0, End: list.length - 1 }[event.key];
    if (to === undefined) return;
    event.preventDefault();
    list[(to + list.length) % list.length].focus();
  });
  box.addEventListener("focusout", (event) => {
    if (!panel.hidden && event.relatedTarget && !box.contains(event.relatedTarget)) set(false);
  });
  return { close: (focus) => !panel.hidden && set(false, focus), release: () => document.removeEventListener("pointerdown", outside, true) };
}
