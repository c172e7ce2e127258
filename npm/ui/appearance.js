// Appearance, as Clerk's `appearance` prop: `baseTheme` (e.g. `dark` from hallpass/themes), `variables`
// (CSS custom properties on the component's root), `elements` (the app's class names — or a style
// object — on named parts) and `layout`. Set once for every component (`configure({ appearance })`,
// or `<HallpassProvider appearance>`) and per component; the component's wins where both say something.
//
// Why light DOM and not shadow DOM: `elements: { card: "shadow-sm border" }` must style the part with
// the app's own stylesheet (Tailwind utilities and the like). A shadow root would keep that stylesheet
// out (only `::part()` selectors cross it, and no utility class is written as one). So the components
// render into the page's DOM, and every default rule weighs one class (styles.js: the part's `hp-*`
// class, the rest inside `:where()`), in a stylesheet placed before the app's: a reset's element
// selectors lose to it, the app's classes win over it, and it never leaks out of the components
// because each selector names one of their parts. `cssLayerName` (Clerk's) puts it in a cascade layer.

/**
 * The light theme: the default values of every variable (Clerk's names). Colours meet WCAG AA
 * contrast on `colorBackground` and `colorInputBackground` (tests/e2e/ui.test.mjs runs axe on both
 * themes).
 */
export const LIGHT = Object.freeze({
  colorPrimary: "#4338ca",
  colorTextOnPrimaryBackground: "#ffffff",
  colorDanger: "#b91c1c",
  colorSuccess: "#15803d",
  colorText: "#1f1f23",
  colorTextSecondary: "#55555d",
  colorBackground: "#ffffff",
  colorInputText: "#1f1f23",
  colorInputBackground: "#ffffff",
  colorNeutral: "#1f1f23",
  fontFamily: "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
  fontFamilyButtons: "inherit",
  fontSize: "0.9375rem",
  fontWeight: "500",
  borderRadius: "0.5rem",
  spacingUnit: "1rem",
});

/** Variable name → CSS custom property (`colorPrimary` → `--hp-color-primary`). */
export const cssName = (variable) => `--hp-${variable.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

/** Only strings and numbers become CSS values, and nothing that could end the declaration. */
const cssValue = (v) => (typeof v === "number" ? String(v) : typeof v === "string" && !/[;{}<>]/.test(v) ? v : null);

/**
 * The appearance in effect: `provider` (the page's or the provider's) under `own` (the component's).
 * Returns `{ variables, elements, layout }`: variables resolved through each one's `baseTheme` (the
 * component's base theme, when it sets one, replaces the provider's), elements as a list per part.
 */
export function resolve(provider, own) {
  const layers = [provider, own].filter((a) => a && typeof a === "object");
  const base = [...layers].reverse().find((a) => a.baseTheme)?.baseTheme;
  const variables = { ...LIGHT, ...(base?.variables ?? {}) };
  const elements = {};
  const layout = {};
  for (const source of [base, ...layers]) {
    if (!source) continue;
    if (source !== base) Object.assign(variables, plain(source.variables));
    for (const [part, value] of Object.entries(plain(source.elements))) (elements[part] ??= []).push(value);
    Object.assign(layout, plain(source.layout));
  }
  const cssLayerName = [...layers].reverse().find((a) => typeof a.cssLayerName === "string")?.cssLayerName;
  return { variables, elements, layout, cssLayerName };
}

const plain = (o) => (o && typeof o === "object" ? o : {});

/** Sets the variables as custom properties on `root` (its inline style: they win over any sheet). */
export function applyVariables(root, variables) {
  for (const [name, value] of Object.entries(variables)) {
    const v = cssValue(value);
    if (v !== null) root.style.setProperty(cssName(name), v);
  }
}

/**
 * Gives the element `el` the part `name`: its stable class `hp-<name>` (what the defaults and an
 * app's own selectors target), then the app's classes and style objects for it, provider's first. A
 * name with an id (`formButtonPrimary__signIn`) gets its base part first, then its own.
 */
export function dress(el, name, elements) {
  // `userButtonPopoverActionButton__signOut` is also a `userButtonPopoverActionButton`, as in Clerk.
  const base = name.split("__")[0];
  if (base !== name) dress(el, base, elements);
  el.classList.add(`hp-${name}`);
  for (const value of elements[name] ?? []) {
    if (typeof value === "string") {
      for (const c of value.split(/\s+/)) if (c) el.classList.add(c);
    } else if (value && typeof value === "object") {
      for (const [prop, v] of Object.entries(value)) {
        const css = cssValue(v);
        if (css !== null) el.style.setProperty(prop.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`), css);
      }
    }
  }
  return el;
}
