// Every string the components show comes through here: the app's `localization` (a whole table such
// as `frFR` from hallpass/localizations, or a few overrides, Clerk's shape), over the provider's, over
// English. `{{name}}` placeholders are filled from `vars`; the result is text, never HTML.

import { enUS } from "./en-US.js";

/** `t(key, vars)` for the given tables (the provider's, then the component's; either may be absent). */
export function translator(provider, own) {
  const tables = [own, provider, enUS].filter((t) => t && typeof t === "object");
  const t = (key, vars) => {
    for (const table of tables) {
      const found = lookup(table, key);
      if (typeof found === "string") return fill(found, vars);
    }
    return key;
  };
  t.locale = tables[0].locale ?? enUS.locale;
  return t;
}

const lookup = (table, key) => key.split(".").reduce((node, k) => (node && typeof node === "object" ? node[k] : undefined), table);

const fill = (text, vars) => (vars ? text.replace(/{{(\w+)}}/g, (m, k) => (vars[k] == null ? m : String(vars[k]))) : text);

/**
 * The message of a failure: the table's text for its code (with `vars` and the seconds of a rate
 * limit's `retryAfter`), or the generic one naming the code.
 */
export function errorText(t, error, vars) {
  const code = typeof error?.code === "string" ? error.code : "unknown";
  const key = `unstable__errors.${code}`;
  const text = t(key, { seconds: error?.retryAfter ?? 1, ...vars });
  return text === key ? t("unstable__errors.unknown", { code }) : text;
}
