// A few lines for building DOM: `h(tag, attributes, ...children)`. Text goes in as text nodes
// (never as HTML), so nothing the server or the app hands a component can inject markup.

let counter = 0;
/** A document-unique id, for label/aria wiring. */
export const uid = (prefix) => `hp-${prefix}-${++counter}`;

/**
 * An element with `attrs` (`on…` functions become listeners; `false`/`null`/`undefined` are left out)
 * and `children` (nodes, strings, or falsy to skip; arrays are flattened).
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === false || v == null) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat(Infinity)) if (c !== false && c != null) el.append(c);
  return el;
}
