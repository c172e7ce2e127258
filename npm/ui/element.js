// The base of every component: a custom element that renders into itself (light DOM, see
// appearance.js), finds its client (context.js), follows the auth state, and re-renders when its
// props, its provider or the page's defaults change — keeping what the user typed and where the focus was.

import { applyVariables, dress, resolve } from "./appearance.js";
import { clientFor, live, providerOf } from "./context.js";
import { h } from "./dom.js";
import { errorText, translator } from "./localize.js";
import { ensureStyles } from "./styles.js";

/** Attributes that configure the client rather than the component. */
const CLIENT_ATTRIBUTES = new Set(["frontend-api", "publishable-key", "class", "style", "id", "lang"]);

export class HallpassElement extends HTMLElement {
  #props = {};
  #provider = null;
  #unsubscribe = null;
  #started = false;
  #hostClasses = [];
  #ownLang = false;
  /** The loaded client, once there is one. */
  hp = null;
  /** A failure to load the client or the instance's settings, shown in place of the component. */
  failure = null;
  /** Which search for the client is current (a provider with another client starts a new one). */
  #run = 0;

  constructor() {
    super();
    // Set before this entry defined the element (a framework rendered it first, e.g. Yew's
    // `~provider`): an own property hides the accessors below; it is taken over here.
    if (Object.hasOwn(this, "props")) {
      const value = this.props;
      delete this.props;
      this.#props = value && typeof value === "object" ? value : {};
    }
    if (Object.hasOwn(this, "provider")) {
      const value = this.provider;
      delete this.provider;
      this.#provider = value ?? null;
    }
  }

  /** Props as Clerk's components take them (`appearance`, `forceRedirectUrl`, `afterSignOutUrl`, …). */
  get props() {
    const fromAttributes = {};
    // `after-sign-out-url="/"` is `afterSignOutUrl: "/"`; a bare `hide-personal` is `hidePersonal: true`.
    for (const { name, value } of this.attributes)
      if (!CLIENT_ATTRIBUTES.has(name))
        fromAttributes[name.replace(/-([a-z])/g, (_, c) => c.toUpperCase())] = value === "" ? true : value === "false" ? false : value;
    return { ...fromAttributes, ...this.#props };
  }
  set props(value) {
    this.#props = value && typeof value === "object" ? value : {};
    this.refresh();
  }

  /** The provider level (`{ client, appearance, localization }`), when not the page's defaults. */
  get provider() {
    return this.#provider;
  }
  set provider(value) {
    const before = this.#provider?.client ?? null;
    this.#provider = value ?? null;
    // Another client (a provider whose client has loaded since, or a new one): the component starts
    // over with it.
    if (this.#started && (this.#provider?.client ?? null) !== before) this.#restart();
    else this.refresh();
  }

  connectedCallback() {
    live.add(this);
    if (this.#started) return;
    this.#started = true;
    this.#start();
  }

  /** Finds the client and what the component needs from the server; again after a failure (Retry). */
  #start() {
    const run = ++this.#run;
    this.failure = null;
    this.refresh();
    clientFor(this).then(
      async (hp) => {
        if (run !== this.#run) return;
        this.hp = hp;
        if (!this.isConnected) return;
        this.#unsubscribe ??= hp.addListener(() => this.authChanged());
        try {
          await this.prepare?.(hp);
        } catch (error) {
          if (run === this.#run) this.failure = error;
        }
        if (run === this.#run) this.refresh();
      },
      (error) => {
        if (run !== this.#run) return;
        this.failure = error;
        this.refresh();
      },
    );
  }

  #restart() {
    this.#unsubscribe?.();
    this.#unsubscribe = null;
    this.hp = null;
    this.#start();
  }

  disconnectedCallback() {
    live.delete(this);
    this.#unsubscribe?.();
    this.#unsubscribe = null;
    this.#started = false;
    this.closed?.();
  }

  /** The auth state changed: components that show it re-render (forms do not, so typing is kept). */
  authChanged() {
    this.refresh();
  }

  /** Re-renders with the current props, provider and defaults. */
  refresh() {
    if (!this.isConnected) return;
    const provider = providerOf(this);
    const props = this.props;
    this.look = resolve(provider.appearance, props.appearance);
    this.t = translator(provider.localization, props.localization);
    ensureStyles(this.ownerDocument, this.look.cssLayerName);
    this.#dressHost();
    const kept = this.#typed();
    const body = this.hp === null && this.failure === null ? this.loading() : this.failure ? this.broken() : this.render(this.hp, props);
    this.replaceChildren(...[body].flat().filter(Boolean));
    this.#restore(kept);
  }

  /**
   * A part: `h(tag, attrs, …children)` with the part's class and the app's `elements` for it. (Not
   * called `part`: that is the element's own `part` attribute. Nor is any state of a component named
   * after an `HTMLElement` property — `popover` was, and made the component a popover.)
   */
  node(name, tag, attrs, ...children) {
    return dress(h(tag, attrs, ...children), name, this.look.elements);
  }

  loading() {
    return this.node("loading", "p", { class: "hp-formFieldHintText", "aria-busy": "true" }, this.t("loading"));
  }

  /** The failure, and a way to try again (the server may be back). */
  broken() {
    const retry = this.node("formButtonReset", "button", { type: "button", "data-focus-key": "retry" }, this.t("formButtonRetry"));
    retry.addEventListener("click", () => this.#start());
    return [this.node("alert", "p", { role: "alert" }, errorText(this.t, this.failure)), retry];
  }

  #dressHost() {
    for (const c of this.#hostClasses) this.classList.remove(c);
    const before = new Set(this.classList);
    dress(this, "rootBox", this.look.elements);
    if (this.look.layout.animations !== false) this.classList.add("hp-animated");
    this.#hostClasses = [...this.classList].filter((c) => !before.has(c));
    applyVariables(this, this.look.variables);
    // The strings' language, for screen readers — unless the app set the element's own `lang`.
    if (this.#ownLang || !this.hasAttribute("lang")) {
      this.#ownLang = true;
      this.setAttribute("lang", this.t.locale.split("-")[0]);
    }
  }

  /**
   * The values of named inputs, the focused one and its selection (the caret), and the fields'
   * errors, to survive a re-render: one may come in the middle of typing or just after a failed
   * attempt (the sessions read, a token refreshed).
   */
  #typed() {
    const values = {};
    for (const input of this.querySelectorAll("input[name], select[name]")) values[input.name] = input.value;
    const active = this.contains(document.activeElement) ? document.activeElement : null;
    // `selectionStart` is null for the inputs without a caret (email, number, checkbox…).
    const selection = typeof active?.selectionStart === "number"
      ? [active.selectionStart, active.selectionEnd, active.selectionDirection]
      : null;
    // What a field says is wrong stays said until the next attempt clears it.
    const errors = {};
    for (const root of this.querySelectorAll("[data-field]")) {
      const text = root.querySelector(".hp-formFieldErrorText")?.textContent;
      if (text) errors[root.dataset.field] = text;
    }
    return { values, focus: active?.getAttribute("name") ?? active?.dataset.focusKey ?? null, selection, errors };
  }

  #restore({ values, focus, selection, errors }) {
    for (const input of this.querySelectorAll("input[name], select[name]")) if (input.name in values) input.value = values[input.name];
    for (const [name, text] of Object.entries(errors)) {
      const root = this.querySelector(`[data-field="${CSS.escape(name)}"]`);
      const error = root?.querySelector(".hp-formFieldErrorText");
      if (!error || error.textContent) continue;
      error.textContent = text;
      root.querySelector("input")?.setAttribute("aria-invalid", "true");
    }
    if (focus === null) return;
    const target = this.querySelector(`[name="${CSS.escape(focus)}"], [data-focus-key="${CSS.escape(focus)}"]`);
    target?.focus();
    if (!target || !(focus in values)) return;
    // A new input takes the focus with its caret at the start; its value set again puts the caret at
    // the end (the only place an email input's can be put), then the selection where it was.
    target.value = values[focus];
    if (selection && typeof target.selectionStart === "number") target.setSelectionRange(...selection);
  }
}
