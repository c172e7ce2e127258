// hallpass/ui in real Chromium against the real server: the drop-in components as a plain page uses
// them (fixtures/ui.html), from the release package. Sign up, sign in, a wrong password on its
// field, sign out from the user button, organizations created and switched through the switcher and
// created with <hallpass-create-organization>, the email steps (a sign-in by code and by link, the
// sign-up's verification by code and — without passwords, on a link-only instance — by link opened in
// another tab or browser, a second address on the profile; codes and links read from the server's
// development mailbox, the instance's settings switched through the Backend API) —
// each with the pointer and again with the keyboard only; axe-core (run in the page) on every
// component in every state, light and dark; appearance precedence read from computed styles; the
// French table; the string tables' keys. Screenshots of every state at 360, 768 and 1280 px, light and
// dark, go to target/e2e-output/ui/ (kept as output, never compared).
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { api, control, mailbox, mailboxCode, uniqueEmail, PASSWORD, signUpUser, suiteBrowser } from "./harness.mjs";

const repo = process.env.HALLPASS_REPO;
const output = join(repo, "target", "e2e-output", "ui");
mkdirSync(output, { recursive: true });
const axePath = join(process.env.HALLPASS_TOOLS, "axe-core", "axe.min.js");

const suite = suiteBrowser();

/** A new page (own context: own storage) on the fixture with `params`; `page.errors` collects page errors. */
async function open(params = {}, context) {
  const ctx = context ?? (await suite.browser.newContext());
  const page = await ctx.newPage();
  page.errors = [];
  page.on("pageerror", (e) => page.errors.push(e));
  await page.goto(fixture(params));
  await page.waitForFunction(() => window.ready === true);
  return page;
}

const fixture = (params) => `${suite.site.origin}/tests/e2e/fixtures/ui.html?${new URLSearchParams({ api, ...params })}`;

const signedIn = (page) => page.evaluate(() => window.hp.useUser().isSignedIn);
const until = (page, fn, arg) => page.waitForFunction(fn, arg, { timeout: 10_000 });
/** The focused element: an input's name, an organization row's name, or its text. */
const active = (page) => page.evaluate(() => {
  const el = document.activeElement;
  return el?.getAttribute("name") ?? el?.querySelector(".hp-organizationPreviewMainIdentifier")?.textContent ?? el?.textContent.trim() ?? "";
});

/**
 * Presses Tab until the focused element matches `selector` (at most 25 times), then Shift+Tab (at
 * most 25 more: it may be behind the focus); fails when neither reaches it.
 */
async function tabTo(page, selector) {
  for (const key of ["Tab", "Shift+Tab"]) {
    for (let i = 0; i < 25; i++) {
      await page.keyboard.press(key);
      if (await page.evaluate((s) => document.activeElement?.matches(s) ?? false, selector)) return;
    }
  }
  assert.fail(`${selector} is not reachable with Tab`);
}

/** The field's error text, whether the input is marked invalid, and whether the error is wired to it. */
const fieldState = (page, name) => page.evaluate((name) => {
  const root = document.querySelector(`[data-field="${name}"]`);
  const input = root.querySelector("input");
  const error = root.querySelector(".hp-formFieldErrorText");
  return {
    error: error.textContent,
    invalid: input.getAttribute("aria-invalid") === "true",
    described: input.getAttribute("aria-describedby").split(" ").includes(error.id) && error.getAttribute("aria-live") === "polite",
  };
}, name);

const alertText = (page) => page.locator("main .hp-alert").textContent();

test("the string tables: French has exactly English's keys and placeholders", async () => {
  const { enUS, frFR } = await import(pathToFileURL(join(repo, "pkg", "npm", "localizations.js")).href);
  const flat = (table, prefix = "") => Object.entries(table).flatMap(([k, v]) =>
    v && typeof v === "object" ? flat(v, `${prefix}${k}.`) : [[`${prefix}${k}`, v]]);
  const en = new Map(flat(enUS));
  const fr = new Map(flat(frFR));
  assert.ok(en.size > 50, `${en.size} English strings`);
  assert.deepEqual([...fr.keys()].sort(), [...en.keys()].sort());
  const holes = (s) => [...s.matchAll(/{{(\w+)}}/g)].map((m) => m[1]).sort().join();
  for (const [key, text] of en) {
    assert.equal(typeof text, "string", key);
    assert.ok(fr.get(key).length > 0, key);
    assert.equal(holes(fr.get(key)), holes(text), `placeholders of ${key}`);
  }
  assert.notEqual(fr.get("signIn.start.title"), en.get("signIn.start.title"));
});

test("sign up, sign out from the user button, a wrong password on its field, sign in and go to redirect_url", async () => {
  const email = uniqueEmail("ui");
  const page = await open({ c: "sign-up" });
  await page.getByLabel("First name").fill("Ada");
  await page.getByLabel("Last name").fill("Lovelace");
  await page.getByLabel("Email address").fill(email);
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await page.getByRole("button", { name: "Continue" }).click();
  await until(page, () => window.hp.useUser().isSignedIn === true);
  assert.equal(await page.evaluate(() => window.hp.useUser().user.fullName), "Ada Lovelace");

  // The user button: the avatar's initials, then the panel with who is signed in.
  const trigger = page.locator(".hp-userButtonTrigger");
  await trigger.waitFor();
  assert.equal(await page.getByRole("button", { name: "Open user menu for Ada Lovelace", exact: true }).count(), 1,
    "the trigger's accessible name");
  assert.equal(await trigger.getAttribute("aria-expanded"), "false");
  await trigger.click();
  assert.equal(await trigger.getAttribute("aria-expanded"), "true");
  assert.equal(await page.locator(".hp-userPreviewMainIdentifier").textContent(), "Ada Lovelace");
  assert.equal(await page.locator(".hp-userPreviewSecondaryIdentifier").textContent(), email);
  await page.getByRole("button", { name: "Sign out" }).click();
  await until(page, () => window.hp.useUser().isSignedIn === false);
  await until(page, () => !document.querySelector(".hp-userButtonTrigger"));

  // Sign in: the wrong password is said on the password field, which gets the focus.
  const landing = fixture({ c: "none", landed: "1" });
  await page.goto(fixture({ c: "sign-in", redirect_url: landing }));
  await page.waitForFunction(() => window.ready === true);
  await page.getByLabel("Email address").fill(email);
  await page.getByLabel("Password", { exact: true }).fill("not the password");
  await page.getByRole("button", { name: "Continue" }).click();
  await until(page, () => document.querySelector('[data-field="password"] .hp-formFieldErrorText').textContent !== "");
  assert.deepEqual(await fieldState(page, "password"),
    { error: "Password is incorrect. Try again, or use another method.", invalid: true, described: true });
  assert.deepEqual(await fieldState(page, "identifier"), { error: "", invalid: false, described: true });
  assert.equal(await active(page), "password");
  assert.equal(await alertText(page), "");
  assert.equal(await signedIn(page), false);

  // Typing clears the error; the right password signs in and goes to redirect_url (same origin).
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  assert.equal((await fieldState(page, "password")).invalid, false);
  await page.getByRole("button", { name: "Continue" }).click();
  await page.waitForURL(/landed=1/, { timeout: 10_000 });
  await page.waitForFunction(() => window.ready === true);
  assert.equal(await signedIn(page), true, "the session survived the navigation");
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test("the same with the keyboard only: sign up, sign out, wrong password, sign in; Escape closes the menu; focus is visible", async () => {
  const email = uniqueEmail("ui-keys");
  const page = await open({ c: "sign-up" });
  await tabTo(page, 'input[name="firstName"]');
  await page.keyboard.type("Grace");
  await page.keyboard.press("Tab");
  await page.keyboard.type("Hopper");
  await page.keyboard.press("Tab");
  assert.equal(await active(page), "emailAddress");
  await page.keyboard.type(email);
  await page.keyboard.press("Tab");
  assert.equal(await active(page), "password");
  await page.keyboard.type("short");
  await page.keyboard.press("Enter");
  // The server's minimum length, checked before sending.
  await until(page, () => document.querySelector('[data-field="password"] .hp-formFieldErrorText').textContent !== "");
  assert.match((await fieldState(page, "password")).error, /^Your password must contain \d+ or more characters\.$/);
  assert.equal(await active(page), "password");
  await page.keyboard.press("Control+A");
  await page.keyboard.type(PASSWORD);
  await page.keyboard.press("Enter");
  await until(page, () => window.hp.useUser().isSignedIn === true);

  // The user button from the keyboard: Enter opens it with the focus on its first entry; Escape
  // closes it and gives the focus back; the focus ring is drawn.
  await tabTo(page, ".hp-userButtonTrigger");
  const ring = await page.evaluate(() => {
    const s = getComputedStyle(document.activeElement);
    return [s.outlineStyle, s.outlineWidth];
  });
  assert.deepEqual(ring, ["solid", "2px"]);
  await page.keyboard.press("Enter");
  assert.equal(await active(page), "Manage account");
  await page.keyboard.press("Escape");
  assert.equal(await page.locator(".hp-userButtonTrigger").getAttribute("aria-expanded"), "false");
  assert.equal(await page.evaluate(() => document.activeElement.classList.contains("hp-userButtonTrigger")), true);
  await page.keyboard.press("Enter");
  await page.keyboard.press("ArrowDown");
  assert.equal(await active(page), "Sign out");
  await page.keyboard.press("Enter");
  await until(page, () => window.hp.useUser().isSignedIn === false);

  // Sign in: an empty form first (both fields said, the first focused), then the wrong password.
  // A cross-origin redirect_url is ignored: the page stays.
  await page.goto(fixture({ c: "sign-in", redirect_url: "https://evil.example/" }));
  await page.waitForFunction(() => window.ready === true);
  await tabTo(page, 'input[name="identifier"]');
  await page.keyboard.press("Enter");
  assert.equal((await fieldState(page, "identifier")).error, "Email address is required.");
  assert.equal((await fieldState(page, "password")).error, "Password is required.");
  assert.equal(await active(page), "identifier");
  await page.keyboard.type("not-an-address");
  await page.keyboard.press("Enter");
  assert.equal((await fieldState(page, "identifier")).error, "Enter an email address, such as name@example.com.");
  await page.keyboard.press("Control+A");
  await page.keyboard.type(email);
  await page.keyboard.press("Tab");
  await page.keyboard.type("wrong password");
  await page.keyboard.press("Enter");
  await until(page, () => document.querySelector('[data-field="password"] .hp-formFieldErrorText').textContent !== "");
  assert.equal(await active(page), "password");
  // The show-password toggle is the next stop, and says what it does.
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement.getAttribute("aria-label")), "Show password");
  await page.keyboard.press("Enter");
  assert.equal(await page.locator('input[name="password"]').getAttribute("type"), "text");
  await page.keyboard.press("Shift+Tab");
  await page.keyboard.press("Control+A");
  await page.keyboard.type(PASSWORD);
  await page.keyboard.press("Enter");
  await until(page, () => window.hp.useUser().isSignedIn === true);
  assert.match(page.url(), /c=sign-in/, "no cross-origin redirect");
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

for (const mode of ["pointer", "keyboard"]) {
  test(`organizations through the switcher (${mode}): create two, switch between them and back to the personal account`, async () => {
    const page = await open({ c: "none" });
    await page.evaluate(({ email, password }) => window.hp.signUp({ emailAddress: email, password }),
      { email: uniqueEmail(`ui-org-${mode}`), password: PASSWORD });
    const trigger = page.locator(".hp-organizationSwitcherTrigger");
    await trigger.waitFor();
    assert.equal(await page.getByRole("button", { name: "Switch organization, currently Personal account", exact: true }).count(), 1,
      "the trigger's accessible name");
    const tag = Math.random().toString(36).slice(2, 8);
    const names = [`Acme ${tag}`, `Beta ${tag}`];

    const openPanel = async () => {
      if (mode === "pointer") await trigger.click();
      else {
        await tabTo(page, ".hp-organizationSwitcherTrigger");
        await page.keyboard.press("Enter");
      }
      await page.locator(".hp-organizationSwitcherPopoverCard:not([hidden]) .hp-organizationSwitcherPreviewButton").first().waitFor();
      await until(page, () => !document.querySelector(".hp-organizationSwitcherLoading"));
    };
    const pick = async (name) => {
      if (mode === "pointer") {
        await page.locator(".hp-organizationSwitcherPreviewButton", { hasText: name }).click();
        return;
      }
      for (let i = 0; i < 10 && !(await active(page)).startsWith(name); i++) await page.keyboard.press("ArrowDown");
      assert.ok((await active(page)).startsWith(name), `${name} reached with the arrow keys`);
      await page.keyboard.press("Enter");
    };

    for (const name of names) {
      await openPanel();
      if (mode === "pointer") await page.getByRole("button", { name: "Create organization" }).click();
      else {
        await page.keyboard.press("End");
        assert.equal(await active(page), "+Create organization");
        await page.keyboard.press("Enter");
        assert.equal(await active(page), "organizationName");
      }
      if (mode === "pointer") await page.getByLabel("Name").fill(name);
      else await page.keyboard.type(name);
      if (mode === "pointer") await page.getByRole("button", { name: "Create organization" }).click();
      else await page.keyboard.press("Enter");
      await until(page, (n) => document.querySelector(".hp-organizationSwitcherTrigger .hp-srOnly")?.textContent.endsWith(n), name);
      assert.equal(await page.evaluate(() => window.hp.useAuth().orgRole), "org:admin");
      assert.equal(await page.locator(".hp-organizationSwitcherPopoverCard").isHidden(), true);
      assert.equal(await page.evaluate(() => document.activeElement.classList.contains("hp-organizationSwitcherTrigger")), true,
        "the focus is back on the switcher");
    }
    const orgOf = () => page.evaluate(() => window.hp.useAuth().orgSlug);
    assert.equal(await orgOf(), `beta-${tag}`);

    await openPanel();
    const current = page.locator('.hp-organizationSwitcherPreviewButton[aria-current="true"]');
    assert.equal(await current.locator(".hp-organizationPreviewMainIdentifier").textContent(), names[1], "the active one is marked");
    assert.match(await current.locator(".hp-organizationPreviewSecondaryIdentifier").textContent(), /^Role: \w+/);
    assert.equal(await page.locator(".hp-organizationSwitcherPreviewButton").count(), 3, "personal and both organizations");
    await pick(names[0]);
    await until(page, (slug) => window.hp.useAuth().orgSlug === slug, `acme-${tag}`);
    await until(page, (n) => document.querySelector(".hp-organizationSwitcherTrigger .hp-srOnly")?.textContent.endsWith(n), names[0]);

    await openPanel();
    await pick("Personal account");
    await until(page, () => window.hp.useAuth().orgId === null);
    assert.equal(await trigger.locator(".hp-srOnly").textContent(), "Switch organization, currently Personal account");
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });
}

test("<hallpass-create-organization>: with the keyboard, an empty name is said, a new organization becomes active", async () => {
  const page = await open({ c: "create-organization" });
  await page.evaluate(({ email, password }) => window.hp.signUp({ emailAddress: email, password }),
    { email: uniqueEmail("ui-create"), password: PASSWORD });
  await page.locator("main .hp-formButtonPrimary").waitFor();
  assert.equal(await page.locator("main .hp-headerTitle").textContent(), "Create organization");
  await tabTo(page, 'main input[name="organizationName"]');
  await page.keyboard.press("Enter");
  assert.equal((await fieldState(page, "organizationName")).error, "Name is required.");
  const name = `Solo ${Math.random().toString(36).slice(2, 8)}`;
  const created = page.evaluate(() => new Promise((resolve) =>
    document.addEventListener("hallpass:organization-created", (e) => resolve(e.detail.id), { once: true })));
  await page.keyboard.type(name);
  await page.keyboard.press("Enter");
  const id = await created;
  assert.match(id, /^org_/);
  assert.equal(await page.evaluate(() => window.hp.useAuth().orgId), id, "made active");
  assert.equal(await page.getByLabel("Name", { exact: true }).inputValue(), "", "the form is cleared for the next one");
  await until(page, (n) => document.querySelector(".hp-organizationSwitcherTrigger .hp-srOnly")?.textContent.endsWith(n), name);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

/** Accepts, as the user `guest` (a `signUpUser` answer), their pending invitation, through the Frontend API. */
async function accept(guest) {
  const headers = { authorization: `Bearer ${guest.jwt}`, origin: "http://localhost:3000" };
  const list = await (await fetch(`${api}/v1/client/me/organization_invitations?status=pending`, { headers })).json();
  assert.equal(list.data.length, 1, "one invitation for the guest");
  const res = await fetch(`${api}/v1/client/me/organization_invitations/${list.data[0].id}/accept`, { method: "POST", headers });
  assert.equal(res.status, 200, await res.clone().text());
}

for (const mode of ["pointer", "keyboard"]) {
  test(`<hallpass-organization-profile> (${mode}): invite, revoke, the invitee's role changed, removed; rename; delete after typing the name`, async () => {
    const page = await open({ c: "organization-profile" });
    const tag = Math.random().toString(36).slice(2, 8);
    await page.evaluate(async ({ email, password, name }) => {
      await window.hp.signUp({ emailAddress: email, password, firstName: "Owner" });
      const org = await window.hp.createOrganization({ name });
      await window.hp.setActive({ organization: org.id });
    }, { email: uniqueEmail(`ui-prof-${mode}`), password: PASSWORD, name: `Profile ${tag}` });
    await until(page, (n) => document.querySelector("main .hp-headerTitle")?.textContent === n, `Profile ${tag}`);
    const rows = () => page.locator("main .hp-organizationProfileMemberRow").allTextContents();
    assert.deepEqual((await rows()).length, 1);
    assert.match((await rows())[0], /Owner \(you\)/);
    const guest = await signUpUser({ firstName: "Guest" });
    const guestEmail = guest.user.email_addresses[0].email_address;
    const stranger = uniqueEmail("ui-stranger");

    const invite = async (email) => {
      if (mode === "pointer") {
        await page.getByLabel("Email address").fill(email);
        await page.getByRole("button", { name: "Send invitation" }).click();
      } else {
        await tabTo(page, 'main input[name="inviteEmailAddress"]');
        await page.keyboard.type(email);
        await page.keyboard.press("Enter");
      }
      await until(page, (e) => [...document.querySelectorAll("main .hp-organizationProfileInvitationRow")].some((r) => r.textContent.includes(e)), email);
    };
    /** The button named `label` (`selector` finds it for Tab), clicked or reached with Tab and pressed. */
    const press = async (label, selector) => {
      if (mode === "pointer") await page.getByRole("button", { name: label }).click();
      else {
        await tabTo(page, selector);
        await page.keyboard.press("Enter");
      }
    };
    await invite(guestEmail);
    await invite(stranger);
    assert.match(await page.locator("main .hp-organizationProfileInvitationRow", { hasText: stranger }).textContent(), /Invited as Member/);
    await press(`Revoke the invitation of ${stranger}`, `main button[aria-label="Revoke the invitation of ${stranger}"]`);
    await until(page, (e) => ![...document.querySelectorAll("main .hp-organizationProfileInvitationRow")].some((r) => r.textContent.includes(e)), stranger);

    await accept(guest);
    await page.reload();
    await page.waitForFunction(() => window.ready === true);
    await until(page, () => document.querySelectorAll("main .hp-organizationProfileMemberRow").length === 2);
    const select = page.getByLabel(`Role of ${guestEmail}`);
    assert.equal(await select.inputValue(), "org:member");
    if (mode === "pointer") await select.selectOption("org:admin");
    else {
      await tabTo(page, `main select[aria-label="Role of ${guestEmail}"]`);
      // One step towards Admin among the roles, in the order the server lists them.
      const up = await select.evaluate((el) => [...el.options].findIndex((o) => o.value === "org:admin") < el.selectedIndex);
      await page.keyboard.press(up ? "ArrowUp" : "ArrowDown");
    }
    await until(page, (e) => document.querySelector(`main select[aria-label="Role of ${e}"]`)?.value === "org:admin"
      && !document.querySelector(`main select[aria-label="Role of ${e}"]`).disabled && !document.querySelector("main [aria-busy=true]"), guestEmail);
    const seen = await fetch(`${api}/v1/client/me/organization_memberships`, { headers: { authorization: `Bearer ${guest.jwt}`, origin: "http://localhost:3000" } });
    assert.equal((await seen.json()).data[0].role, "org:admin", "the server has the new role");
    await press(`Remove ${guestEmail}`, `main button[aria-label="Remove ${guestEmail}"]`);
    await until(page, () => document.querySelectorAll("main .hp-organizationProfileMemberRow").length === 1);

    // Rename.
    const renamed = `Renamed ${tag}`;
    if (mode === "pointer") {
      await page.locator('main input[name="organizationName"]').fill(renamed);
      await page.getByRole("button", { name: "Save" }).click();
    } else {
      await tabTo(page, 'main input[name="organizationName"]');
      await page.keyboard.press("Control+A");
      await page.keyboard.type(renamed);
      await page.keyboard.press("Enter");
    }
    await until(page, (n) => document.querySelector("main .hp-headerTitle")?.textContent === n, renamed);

    // Delete: the name must be typed first.
    await press("Delete organization", 'main [data-focus-key="delete"]');
    assert.equal(await active(page), "confirmName");
    if (mode === "pointer") {
      await page.locator('main input[name="confirmName"]').fill("not the name");
      await page.locator("main form[aria-label='Delete organization'] button").click();
    } else {
      await page.keyboard.type("not the name");
      await page.keyboard.press("Enter");
    }
    assert.equal((await fieldState(page, "confirmName")).error, "The name does not match.");
    assert.ok(await page.evaluate(() => window.hp.useAuth().orgId), "nothing deleted");
    if (mode === "pointer") {
      await page.locator('main input[name="confirmName"]').fill(renamed);
      await page.locator("main form[aria-label='Delete organization'] button").click();
    } else {
      await page.keyboard.press("Control+A");
      await page.keyboard.type(renamed);
      await page.keyboard.press("Enter");
    }
    await until(page, () => window.hp.useAuth().orgId === null);
    await until(page, () => !document.querySelector("main .hp-card"));
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });
}

test("appearance: defaults over the page's reset; the page's variables and element classes style the parts; the component's own win", async () => {
  const styles = (page) => page.evaluate(() => {
    const s = (sel) => getComputedStyle(document.querySelector(sel));
    return {
      button: s("main .hp-formButtonPrimary").backgroundColor,
      radius: s("main .hp-formButtonPrimary").borderTopLeftRadius,
      spacing: s("main .hp-formButtonPrimary").letterSpacing,
      card: s("main .hp-card").backgroundColor,
      input: s("main .hp-formFieldInput").borderTopWidth,
      title: s("main .hp-headerTitle").fontWeight,
      font: s("main hallpass-sign-in").fontFamily,
      cardClasses: [...document.querySelector("main .hp-card").classList],
    };
  });
  const defaults = await open({ c: "sign-in" });
  await defaults.locator("main .hp-formButtonPrimary").waitFor();
  const d = await styles(defaults);
  assert.equal(d.button, "rgb(67, 56, 202)", "the light theme's colorPrimary, over the page's reset");
  assert.equal(d.input, "1px", "the input's border, over the reset");
  assert.equal(d.title, "700");
  assert.equal(d.card, "rgb(255, 255, 255)");
  assert.notEqual(d.radius, "0px");
  await defaults.context().close();

  const appearance = JSON.stringify({
    variables: { colorPrimary: "rgb(1, 2, 3)", fontFamily: "monospace" },
    elements: { card: "bg-rose-700", formButtonPrimary: "rounded-none tracking-wide" },
  });
  const provider = await open({ c: "sign-in", appearance });
  await provider.locator("main .hp-formButtonPrimary").waitFor();
  const p = await styles(provider);
  assert.equal(p.button, "rgb(1, 2, 3)", "the page's variable");
  assert.equal(p.font, "monospace");
  assert.equal(p.card, "rgb(190, 18, 60)", "the app's utility class beats the default background");
  assert.equal(p.radius, "0px", "…and the default radius");
  assert.notEqual(p.spacing, "normal");
  assert.ok(p.cardClasses.includes("hp-card") && p.cardClasses.includes("bg-rose-700"));
  await provider.context().close();

  const own = JSON.stringify({ variables: { colorPrimary: "rgb(4, 5, 6)" }, elements: { card: { backgroundColor: "rgb(7, 8, 9)" } } });
  const both = await open({ c: "sign-in", appearance, own });
  await both.locator("main .hp-formButtonPrimary").waitFor();
  const b = await styles(both);
  assert.equal(b.button, "rgb(4, 5, 6)", "the component's variable wins");
  assert.equal(b.card, "rgb(7, 8, 9)", "the component's element style wins");
  assert.equal(b.font, "monospace", "what the component leaves alone stays the page's");
  // Changing the page's appearance re-renders mounted components, keeping what was typed, the focus,
  // the caret (a re-render may come in the middle of typing) and what a field said was wrong.
  await both.locator("main .hp-formButtonPrimary").click();
  assert.equal((await fieldState(both, "identifier")).error, "Email address is required.");
  await both.evaluate(async () => (await import("/pkg/npm/ui.js")).configure({ appearance: { variables: { colorPrimary: "rgb(7, 7, 7)" } } }));
  assert.deepEqual(await fieldState(both, "identifier"), { error: "Email address is required.", invalid: true, described: true });
  await both.getByLabel("Email address").fill("kept@");
  await both.getByLabel("Email address").focus();
  await both.evaluate(async () => (await import("/pkg/npm/ui.js")).configure({ appearance: { variables: { colorPrimary: "rgb(9, 9, 9)" } } }));
  await both.keyboard.type("example.com");
  const after = await styles(both);
  assert.equal(after.button, "rgb(4, 5, 6)", "still the component's");
  assert.equal(after.font, "system-ui, -apple-system, \"Segoe UI\", Roboto, sans-serif", "the page's new appearance");
  assert.equal(await both.getByLabel("Email address").inputValue(), "kept@example.com");
  // A password's caret put at its start stays there.
  await both.getByLabel("Password", { exact: true }).fill("secret");
  await both.getByLabel("Password", { exact: true }).focus();
  await both.keyboard.press("Home");
  await both.evaluate(async () => (await import("/pkg/npm/ui.js")).configure({ appearance: { variables: { colorPrimary: "rgb(8, 8, 8)" } } }));
  await both.keyboard.type("my-");
  assert.equal(await both.getByLabel("Password", { exact: true }).inputValue(), "my-secret");
  await both.context().close();

  const dark = await open({ c: "sign-in", theme: "dark" });
  await dark.locator("main .hp-formButtonPrimary").waitFor();
  const k = await styles(dark);
  assert.equal(k.card, "rgb(31, 31, 35)", "the dark base theme");
  assert.equal(k.button, "rgb(165, 180, 252)");
  await dark.context().close();
});

test("the server's settings out of reach: the form says so, and Try again brings it once the server answers", async () => {
  const context = await suite.browser.newContext();
  let fail = true;
  await context.route("**/v1/environment", (route) => (fail ? route.abort("connectionrefused") : route.continue()));
  const page = await open({ c: "sign-in" }, context);
  const alert = page.locator("main .hp-alert");
  await alert.waitFor();
  assert.equal(await alert.textContent(), "The server could not be reached. Check your connection and try again.");
  fail = false;
  await page.getByRole("button", { name: "Try again" }).click();
  await page.locator("main .hp-formButtonPrimary").waitFor();
  assert.match(await page.locator("main .hp-headerTitle").textContent(), /^Sign in to /);
  assert.deepEqual(page.errors, []);
  await context.close();
});

test("French: every string from the table, the language set for screen readers", async () => {
  const page = await open({ c: "sign-in", lang: "fr" });
  const title = page.locator("main .hp-headerTitle");
  await title.waitFor();
  assert.match(await title.textContent(), /^Se connecter à .+/);
  assert.equal(await page.locator("main hallpass-sign-in").getAttribute("lang"), "fr");
  await page.getByRole("button", { name: "Continuer" }).click();
  assert.equal((await fieldState(page, "identifier")).error, "Adresse e-mail : ce champ est obligatoire.");
  await page.getByRole("button", { name: "S’inscrire" }).click();
  assert.equal(await page.locator("main .hp-headerTitle").textContent(), "Créez votre compte");
  assert.equal(await page.getByLabel("Prénom").count(), 1);
  await page.getByRole("button", { name: "Se connecter" }).click();
  await page.getByLabel("Adresse e-mail").fill(uniqueEmail("ui-fr"));
  await page.getByRole("button", { name: "Recevoir un code par e-mail" }).click();
  await page.locator('input[name="code"]').waitFor();
  assert.equal(await page.locator("main .hp-headerTitle").textContent(), "Vérifiez vos e-mails");
  assert.equal(await page.getByLabel("Code de vérification").count(), 1);
  assert.match(await page.locator('main [data-focus-key="resend"]').textContent(), /^Renvoyer dans \d+\u00a0s$/);
  assert.equal(await page.getByRole("button", { name: "Utiliser une autre méthode" }).count(), 1);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test("plain HTML: <hallpass-sign-in frontend-api> loads its own client; Sign up switches in place; a taken address", async () => {
  const page = await open({ attr: "1" });
  const link = page.getByRole("button", { name: "Sign up" });
  await link.waitFor();
  await link.click();
  assert.equal(await page.locator("main .hp-headerTitle").textContent(), "Create your account");
  assert.equal(await page.evaluate(() => document.activeElement.textContent), "Sign in", "the focus stays on the switch");
  // Taken: said on the email address's field.
  const taken = uniqueEmail("ui-attr-taken");
  await page.evaluate(async ({ api, email, password }) => {
    const res = await fetch(`${api}/v1/client/sign_ups`, { method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify({ email_address: email, password }) });
    if (!res.ok) throw new Error(String(res.status));
  }, { api, email: taken, password: PASSWORD });
  await page.getByLabel("Email address").fill(taken);
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await page.getByRole("button", { name: "Continue" }).click();
  await until(page, () => document.querySelector('[data-field="emailAddress"] .hp-formFieldErrorText').textContent !== "");
  assert.deepEqual(await fieldState(page, "emailAddress"),
    { error: "That email address is taken. Please try another.", invalid: true, described: true });
  assert.equal(await active(page), "emailAddress");
  const done = page.evaluate(() => new Promise((resolve) => document.addEventListener("hallpass:signed-up", () => resolve(true), { once: true })));
  await page.getByLabel("Email address").fill(uniqueEmail("ui-attr"));
  await page.getByRole("button", { name: "Continue" }).click();
  assert.equal(await done, true);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

// The email steps. The suites' server has every first factor on (its flags' default) and keeps its
// emails in the development mailbox; settings a test needs otherwise are switched through the
// Backend API and put back to the flags after it.

/** `PATCH /v1/instance` (Backend API, secret key) with `patch`. */
async function patchInstance(patch) {
  const res = await fetch(`${process.env.HALLPASS_TEST_SERVER}/v1/instance`, {
    method: "PATCH",
    headers: { authorization: `Bearer ${process.env.HALLPASS_TEST_SECRET_KEY}`, "content-type": "application/json" },
    body: JSON.stringify(patch),
    signal: AbortSignal.timeout(10_000),
  });
  assert.equal(res.status, 200, await res.text());
}

/** Runs `body` with the instance's settings `patch`ed, then puts those back to the server's flags. */
async function withInstance(patch, body) {
  await patchInstance(patch);
  try {
    return await body();
  } finally {
    await patchInstance(Object.fromEntries(Object.keys(patch).map((k) => [k, null])));
  }
}

/** A code that is not `code` (its last digit moved on). */
const wrongCode = (code) => code.slice(0, 5) + ((Number(code[5]) + 1) % 10);

const codeField = (page) => page.evaluate(() => {
  const input = document.querySelector('input[name="code"]');
  return [input.autocomplete, input.inputMode, document.querySelector(`label[for="${input.id}"]`).textContent];
});

test("sign-in by email code: offered beside the password; a malformed and a wrong code said on the field; Resend counts down; the right code signs in", async () => {
  const email = await profileUser("Code");
  const page = await open({ c: "sign-in" });
  await page.getByLabel("Password", { exact: true }).waitFor();
  // Both email ways are offered under the password form (the server has them on).
  assert.equal(await page.getByRole("button", { name: "Email me a link" }).count(), 1);
  // The address is needed first; the password is not.
  await page.getByRole("button", { name: "Email me a code" }).click();
  assert.equal((await fieldState(page, "identifier")).error, "Email address is required.");
  assert.equal((await fieldState(page, "password")).error, "");
  await page.getByLabel("Email address").fill(email);
  await page.getByRole("button", { name: "Email me a code" }).click();
  await page.locator('input[name="code"]').waitFor();
  assert.equal(await page.locator("main .hp-headerTitle").textContent(), "Check your email");
  assert.deepEqual(await codeField(page), ["one-time-code", "numeric", "Verification code"]);
  assert.equal(await active(page), "code", "the focus is on the code");
  const hint = await page.locator('[data-field="code"] .hp-formFieldHintText').textContent();
  assert.equal(hint, `Enter the 6-digit code sent to ${email}.`);
  // Resend waits out its cooldown, counting down, and says so.
  const resend = page.locator('main [data-focus-key="resend"]');
  assert.match(await resend.textContent(), /^Resend in \d+\u00a0s$/);
  assert.equal(await resend.getAttribute("aria-disabled"), "true");
  const code = await mailboxCode(email);
  assert.match(code, /^\d{6}$/);
  await resend.evaluate((b) => b.click()); // Playwright waits for an aria-disabled button; a user can press it
  assert.equal(await page.locator("main .hp-formFieldSuccessText").textContent(), "", "nothing sent while it waits");
  await until(page, (before) => document.querySelector('main [data-focus-key="resend"]').textContent !== before, await resend.textContent());

  await page.getByLabel("Verification code").fill("12 34");
  await page.getByRole("button", { name: "Continue" }).click();
  assert.equal((await fieldState(page, "code")).error, "Enter the 6-digit code from the email.");
  await page.getByLabel("Verification code").fill(wrongCode(code));
  await page.getByRole("button", { name: "Continue" }).click();
  await until(page, () => document.querySelector('[data-field="code"] .hp-formFieldErrorText').textContent !== "");
  assert.deepEqual(await fieldState(page, "code"), { error: "Incorrect code. Tries left: 4.", invalid: true, described: true });
  assert.equal(await active(page), "code");
  assert.equal(await signedIn(page), false);

  // Use another method: the start again, the address kept; the code again, and this time right.
  await page.getByRole("button", { name: "Use another method" }).click();
  assert.equal(await page.getByLabel("Email address").inputValue(), email);
  assert.equal(await active(page), "identifier");
  await page.getByRole("button", { name: "Email me a code" }).click();
  await page.locator('input[name="code"]').waitFor();
  const fresh = await mailboxCode(email);
  const done = page.evaluate(() => new Promise((resolve) => document.addEventListener("hallpass:signed-in", () => resolve(true), { once: true })));
  await page.getByLabel("Verification code").fill(` ${fresh.slice(0, 3)} ${fresh.slice(3)} `);
  await page.getByRole("button", { name: "Continue" }).click();
  assert.equal(await done, true);
  assert.equal(await signedIn(page), true);
  assert.equal(await page.evaluate(() => window.hp.useUser().user.primaryEmailAddress.emailAddress), email);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test("keyboard only, without passwords: the code step is the form's own way on; a wrong code, then the right one with Enter", async () => {
  const email = await profileUser("Keys");
  await withInstance({ first_factors: ["email_code"] }, async () => {
    const page = await open({ c: "sign-in" });
    await page.getByLabel("Email address").waitFor();
    assert.equal(await page.locator('main input[name="password"]').count(), 0, "no password field");
    assert.equal(await page.locator("main .hp-formButtonReset").count(), 0, "no other way offered");
    await tabTo(page, 'input[name="identifier"]');
    await page.keyboard.type(email);
    await page.keyboard.press("Enter");
    await page.locator('input[name="code"]').waitFor();
    assert.equal(await active(page), "code");
    const code = await mailboxCode(email);
    await page.keyboard.type(wrongCode(code));
    await page.keyboard.press("Enter");
    await until(page, () => document.querySelector('[data-field="code"] .hp-formFieldErrorText').textContent !== "");
    assert.equal((await fieldState(page, "code")).error, "Incorrect code. Tries left: 4.");
    assert.equal(await active(page), "code");
    // Resend and Use another method are reachable from the code field.
    await page.keyboard.press("Tab");
    await page.keyboard.press("Tab");
    assert.equal(await page.evaluate(() => document.activeElement.dataset.focusKey), "resend");
    await page.keyboard.press("Tab");
    assert.equal(await active(page), "Use another method");
    await tabTo(page, 'input[name="code"]');
    await page.keyboard.press("Control+A");
    await page.keyboard.type(code);
    await page.keyboard.press("Enter");
    await until(page, () => window.hp.useUser().isSignedIn === true);
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });
});

test("sign-in by email link: the card waits; the link opened in another browser signs this tab in by itself, and that page says so", async () => {
  const email = await profileUser("Link");
  const page = await open({ c: "sign-in" });
  await page.getByLabel("Email address").fill(email);
  await page.getByRole("button", { name: "Email me a link" }).click();
  await page.locator('main [data-focus-key="resend"]').waitFor();
  assert.equal(await page.locator("main .hp-headerTitle").textContent(), "Check your email");
  assert.ok((await page.locator("main .hp-main").textContent()).includes(`Open the link sent to ${email}.`));
  assert.equal(await page.evaluate(() => document.activeElement.dataset.focusKey), "resend");
  const link = (await mailbox(email)).magic_link;
  assert.match(link, /\/v1\/verify\?token=/);
  const elsewhere = await suite.browser.newContext();
  const other = await elsewhere.newPage();
  other.errors = [];
  other.on("pageerror", (e) => other.errors.push(e));
  assert.equal((await other.goto(link)).status(), 200);
  await Promise.all([other.waitForURL(/hallpass_status=verified/), other.click("button")]);
  // The link leads back to the page that asked (its sign-in), which says what happened there.
  await other.waitForFunction(() => window.ready === true);
  await other.locator("main .hp-headerTitle").waitFor();
  assert.equal(await other.locator("main .hp-headerTitle").textContent(), "Successfully verified email");
  assert.equal(await other.evaluate(() => window.hp.useUser().isSignedIn), false, "the other browser is not signed in");
  // This tab: signed in by itself (it asks every 2 s), no reload.
  await page.waitForFunction(() => window.hp.useUser().isSignedIn === true, null, { timeout: 20_000 });
  assert.equal(await page.evaluate(() => window.hp.useUser().user.primaryEmailAddress.emailAddress), email);
  // The link again: used.
  const again = await elsewhere.newPage();
  await again.goto(link);
  if (await again.locator("button").count()) await Promise.all([again.waitForNavigation(), again.click("button")]);
  assert.ok(!/hallpass_status=verified/.test(again.url()), again.url());
  assert.deepEqual(page.errors, []);
  assert.deepEqual(other.errors, []);
  await page.context().close();
  await elsewhere.close();
});

test("sign-in by email link: a resend the server refuses leaves the link sent before working; opened, it still signs this tab in through the card", async () => {
  const email = await profileUser("Relink");
  const page = await open({ c: "sign-in" });
  await page.evaluate(() => {
    window.signedInEvents = 0;
    document.addEventListener("hallpass:signed-in", () => window.signedInEvents++);
  });
  await page.getByLabel("Email address").fill(email);
  await page.getByRole("button", { name: "Email me a link" }).click();
  const resend = page.locator('main [data-focus-key="resend"]');
  await resend.waitFor();
  const link = (await mailbox(email)).magic_link;
  // The resend's cooldown ended (as 30 s later), and the server refuses the next send (its limit).
  const id = await page.evaluate(async () => {
    const signIn = (await import("/pkg/npm/flows.js")).getSignIn(window.hp);
    signIn._sent = {};
    return signIn.id;
  });
  await until(page, () => document.querySelector('main [data-focus-key="resend"]').getAttribute("aria-disabled") === null);
  await control(`fault?mode=status&code=429&retry_after=60&path=/v1/client/sign_ins/${id}/prepare_first_factor&times=1`);
  await resend.click();
  await until(page, () => document.querySelector("main .hp-alert").textContent !== "");
  assert.equal((await mailbox(email)).magic_link, link, "nothing was sent");
  await control("reset");
  // The first link, opened in another browser: this tab's card signs in by itself.
  const elsewhere = await suite.browser.newContext();
  const other = await elsewhere.newPage();
  await other.goto(link);
  await Promise.all([other.waitForURL(/hallpass_status=verified/), other.click("button")]);
  await page.waitForFunction(() => window.signedInEvents === 1, null, { timeout: 20_000 });
  assert.equal(await signedIn(page), true);
  assert.deepEqual(page.errors, []);
  await page.context().close();
  await elsewhere.close();
});

test("forgot password: the reset code, a new password (a short one said on its field) signs in; the old one is refused, the other browser signed out", async () => {
  const email = await profileUser("Reset");
  const other = await open({ c: "none" });
  assert.equal(await signInAs(other, email), "ok");
  const page = await open({ c: "sign-in" });
  const forgot = page.getByRole("button", { name: "Forgot password?" });
  await forgot.click();
  assert.equal((await fieldState(page, "identifier")).error, "Email address is required.", "the address first");
  await page.getByLabel("Email address").fill(email);
  await forgot.click();
  await page.locator('input[name="code"]').waitFor();
  assert.equal(await page.locator("main .hp-headerTitle").textContent(), "Reset your password");
  assert.equal(await active(page), "code");
  const code = await mailboxCode(email);
  await page.getByLabel("Verification code").fill(wrongCode(code));
  await page.getByRole("button", { name: "Continue" }).click();
  await until(page, () => document.querySelector('[data-field="code"] .hp-formFieldErrorText').textContent !== "");
  assert.equal((await fieldState(page, "code")).error, "Incorrect code. Tries left: 4.");
  await page.getByLabel("Verification code").fill(code);
  await page.getByRole("button", { name: "Continue" }).click();
  await page.locator('input[name="newPassword"]').waitFor();
  assert.equal(await page.locator("main .hp-headerTitle").textContent(), "Set a new password");
  assert.equal(await active(page), "newPassword");
  assert.equal(await signedIn(page), false, "not before the new password");
  await page.getByLabel("New password", { exact: true }).fill("short");
  await page.getByRole("button", { name: "Reset password" }).click();
  assert.match((await fieldState(page, "newPassword")).error, /^Your password must contain \d+ or more characters\.$/);
  const next = `${PASSWORD} renewed`;
  await page.getByLabel("New password", { exact: true }).fill(next);
  await page.getByRole("button", { name: "Reset password" }).click();
  await until(page, () => window.hp.useUser().isSignedIn === true);
  // The other browser's session was revoked: its next refresh hears it.
  await other.evaluate(() => window.hp.getToken({ skipCache: true }).catch(() => null));
  await until(other, () => window.hp.useUser().isSignedIn === false);
  const fresh = await open({ c: "none" });
  assert.equal(await signInAs(fresh, email, PASSWORD), "form_password_incorrect", "the old password no longer works");
  assert.equal(await signInAs(fresh, email, next), "ok");
  assert.deepEqual(page.errors, []);
  for (const p of [page, other, fresh]) await p.context().close();
});

test("sign-up with a verified address required: the code step until complete; a wrong code on its field; the address verified", async () => {
  await withInstance({ sign_up_requires_verified_email: true }, async () => {
    const email = uniqueEmail("ui-verify");
    const page = await open({ c: "sign-up" });
    await page.getByLabel("First name").fill("Vera");
    await page.getByLabel("Email address").fill(email);
    await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
    await page.getByRole("button", { name: "Continue" }).click();
    await page.locator('input[name="code"]').waitFor();
    assert.equal(await page.locator("main .hp-headerTitle").textContent(), "Verify your email");
    assert.deepEqual(await codeField(page), ["one-time-code", "numeric", "Verification code"]);
    assert.equal(await active(page), "code");
    assert.equal(await signedIn(page), false, "not before the address is verified");
    const code = await mailboxCode(email);
    await page.getByLabel("Verification code").fill(wrongCode(code));
    await page.getByRole("button", { name: "Continue" }).click();
    await until(page, () => document.querySelector('[data-field="code"] .hp-formFieldErrorText').textContent !== "");
    assert.deepEqual(await fieldState(page, "code"), { error: "Incorrect code. Tries left: 4.", invalid: true, described: true });
    const done = page.evaluate(() => new Promise((resolve) => document.addEventListener("hallpass:signed-up", () => resolve(true), { once: true })));
    await page.getByLabel("Verification code").fill(code);
    await page.getByRole("button", { name: "Continue" }).click();
    assert.equal(await done, true);
    const user = await page.evaluate(() => {
      const u = window.hp.useUser().user;
      return [u.firstName, u.primaryEmailAddress.emailAddress, u.primaryEmailAddress.verification?.status];
    });
    assert.deepEqual(user, ["Vera", email, "verified"]);
    // Use another email address goes back to the form (a second sign-up on the same page).
    await page.evaluate(() => window.hp.signOut());
    await page.getByLabel("Email address").fill(uniqueEmail("ui-verify-2"));
    await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
    await page.getByRole("button", { name: "Continue" }).click();
    await page.getByRole("button", { name: "Use another email address" }).click();
    assert.equal(await active(page), "emailAddress");
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });
});

// Instances where password is not a first factor: the sign-up asks for none, and verifies the
// address by code — or by link where users sign in by link and not by code.

const noPasswordField = async (page) => assert.equal(await page.locator('main input[name="password"]').count(), 0, "no password field");
const signedUpEvent = (page) =>
  page.evaluate(() => new Promise((resolve) => document.addEventListener("hallpass:signed-up", () => resolve(true), { once: true })));
/** The signed-in user: first name, primary address, its verification, whether it has a password. */
const userOf = (page) => page.evaluate(() => {
  const u = window.hp.useUser().user;
  return [u.firstName, u.primaryEmailAddress.emailAddress, u.primaryEmailAddress.verification?.status, u.passwordEnabled];
});

/**
 * Opens the email link of `email` in `other` (a page), confirms it, and checks the page it leads
 * back to (the component that asked) says the address was verified; returns the link.
 */
async function openLink(other, email) {
  const link = (await mailbox(email)).magic_link;
  assert.match(link, /\/v1\/verify\?token=/);
  assert.equal((await other.goto(link)).status(), 200);
  await Promise.all([other.waitForURL(/hallpass_status=verified/), other.click("button")]);
  await other.waitForFunction(() => window.ready === true);
  await other.locator("main .hp-headerTitle").waitFor();
  assert.equal(await other.locator("main .hp-headerTitle").textContent(), "Successfully verified email");
  return link;
}

/** A page of its own (`context`, or a new one: another browser), collecting its errors. */
async function blankPage(context) {
  const page = await (context ?? (await suite.browser.newContext())).newPage();
  page.errors = [];
  page.on("pageerror", (e) => page.errors.push(e));
  return page;
}

test("sign-up without passwords (code only): no password field; the code step; signed in with the address verified and no password", async () => {
  await withInstance({ first_factors: ["email_code"] }, async () => {
    const email = uniqueEmail("ui-nopass");
    const page = await open({ c: "sign-up" });
    await page.getByLabel("Email address").waitFor();
    await noPasswordField(page);
    await page.getByLabel("First name").fill("Ada");
    await page.getByLabel("Email address").fill(email);
    await page.getByRole("button", { name: "Continue" }).click();
    await page.locator('input[name="code"]').waitFor();
    assert.equal(await page.locator("main .hp-headerTitle").textContent(), "Verify your email");
    assert.equal(await active(page), "code");
    assert.equal(await signedIn(page), false, "not before the address is verified");
    const done = signedUpEvent(page);
    await page.getByLabel("Verification code").fill(await mailboxCode(email));
    await page.getByRole("button", { name: "Continue" }).click();
    assert.equal(await done, true);
    assert.deepEqual(await userOf(page), ["Ada", email, "verified", false]);
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });
});

for (const where of ["another tab", "another browser"]) {
  test(`sign-up by link (link only), opened in ${where}: no password; the card waits and signs this tab up by itself; the link's page says so`, async () => {
    await withInstance({ first_factors: ["email_link"] }, async () => {
      const email = uniqueEmail("ui-link-up");
      const page = await open({ c: "sign-up" });
      await page.getByLabel("Email address").waitFor();
      await noPasswordField(page);
      await page.getByLabel("First name").fill("Lin");
      await page.getByLabel("Email address").fill(email);
      await page.getByRole("button", { name: "Continue" }).click();
      await page.locator('main [data-focus-key="resend"]').waitFor();
      assert.equal(await page.locator("main .hp-headerTitle").textContent(), "Verify your email");
      assert.match(await page.locator("main .hp-headerSubtitle").textContent(), /^to continue to ./);
      assert.ok((await page.locator("main .hp-main").textContent()).includes(`Use the verification link sent to ${email}.`));
      assert.equal(await page.locator('main input[name="code"]').count(), 0, "no code to type");
      assert.equal(await page.evaluate(() => document.activeElement.dataset.focusKey), "resend");
      const resend = page.locator('main [data-focus-key="resend"]');
      assert.match(await resend.textContent(), /^Resend in \d+\u00a0s$/);
      assert.equal(await resend.getAttribute("aria-disabled"), "true");
      assert.equal(await signedIn(page), false, "not before the link is opened");
      // Completed without a reload: what the page set stays.
      await page.evaluate(() => { window.sameDocument = true; });
      const done = signedUpEvent(page);
      const other = await blankPage(where === "another tab" ? page.context() : undefined);
      const link = await openLink(other, email);
      assert.equal(await done, true);
      assert.deepEqual(await userOf(page), ["Lin", email, "verified", false]);
      assert.equal(await page.evaluate(() => window.sameDocument), true, "no reload");
      // The asking tab is back on the form (the step is over).
      assert.equal(await page.locator('main [data-focus-key="resend"]').count(), 0);
      // The link a second time: gone with the completed sign-up.
      const again = await blankPage(other.context());
      await again.goto(link);
      const [used] = await Promise.all([again.waitForNavigation(), again.click("button")]);
      assert.equal(used.status(), 404);
      assert.ok(!/hallpass_status/.test(again.url()), again.url());
      for (const p of [page, other, again]) assert.deepEqual(p.errors, []);
      await page.context().close();
      if (where === "another browser") await other.context().close();
    });
  });
}

test("keyboard only, link only: the link's wait, Use another email address back to the form, then the link signs up; the sign-in waits for its link too", async () => {
  await withInstance({ first_factors: ["email_link"] }, async () => {
    const page = await open({ c: "sign-up" });
    await page.getByLabel("Email address").waitFor();
    await tabTo(page, 'input[name="emailAddress"]');
    await page.keyboard.type(uniqueEmail("ui-link-keys-first"));
    await page.keyboard.press("Enter");
    await page.locator('main [data-focus-key="resend"]').waitFor();
    assert.equal(await page.evaluate(() => document.activeElement.dataset.focusKey), "resend");
    await page.keyboard.press("Tab");
    assert.equal(await active(page), "Use another email address");
    await page.keyboard.press("Enter");
    assert.equal(await active(page), "emailAddress", "back on the form, on the address");
    const email = uniqueEmail("ui-link-keys");
    await page.keyboard.type(email);
    await page.keyboard.press("Enter");
    await page.locator('main [data-focus-key="resend"]').waitFor();
    assert.equal(await page.evaluate(() => document.activeElement.dataset.focusKey), "resend");
    const done = signedUpEvent(page);
    const other = await blankPage();
    await openLink(other, email);
    assert.equal(await done, true);
    assert.equal(await signedIn(page), true);

    // <SignIn> on the same instance: no password, Continue sends the link; its wait signs in.
    const signIn = await open({ c: "sign-in" });
    await signIn.getByLabel("Email address").waitFor();
    await noPasswordField(signIn);
    assert.equal(await signIn.locator("main .hp-formButtonReset").count(), 0, "no other way offered");
    await tabTo(signIn, 'input[name="identifier"]');
    await signIn.keyboard.type(email);
    await signIn.keyboard.press("Enter");
    await signIn.locator('main [data-focus-key="resend"]').waitFor();
    assert.equal(await signIn.locator("main .hp-headerTitle").textContent(), "Check your email");
    assert.equal(await signIn.evaluate(() => document.activeElement.dataset.focusKey), "resend");
    await openLink(other, email);
    await signIn.waitForFunction(() => window.hp.useUser().isSignedIn === true, null, { timeout: 20_000 });
    for (const p of [page, other, signIn]) assert.deepEqual(p.errors, []);
    for (const p of [page, other, signIn]) await p.context().close();
  });
});

test("keyboard only, code only: the sign-up has no password; Enter sends the address, the code with Enter signs up", async () => {
  await withInstance({ first_factors: ["email_code"] }, async () => {
    const page = await open({ c: "sign-up" });
    await page.getByLabel("Email address").waitFor();
    await noPasswordField(page);
    const email = uniqueEmail("ui-code-keys");
    await tabTo(page, 'input[name="emailAddress"]');
    await page.keyboard.type(email);
    await page.keyboard.press("Enter");
    await page.locator('input[name="code"]').waitFor();
    assert.equal(await active(page), "code");
    const done = signedUpEvent(page);
    await page.keyboard.type(await mailboxCode(email));
    await page.keyboard.press("Enter");
    assert.equal(await done, true);
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });
});

test("<hallpass-user-profile>: a second address added, a wrong code said on its field, verified with the right one, then removed", async () => {
  const email = await profileUser("Two");
  const page = await open({ c: "user-profile" });
  assert.equal(await signInAs(page, email), "ok");
  const emails = section(page, "emailAddresses");
  await emails.getByRole("button", { name: "Add email address" }).click();
  assert.equal(await active(page), "newEmailAddress");
  const second = uniqueEmail("ui-second");
  await page.getByLabel("Email address", { exact: true }).fill(second);
  await emails.getByRole("button", { name: "Add email address" }).click();
  await page.locator('input[name="code"]').waitFor();
  assert.equal(await active(page), "code");
  assert.deepEqual(await codeField(page), ["one-time-code", "numeric", `Code sent to ${second}`]);
  const code = await mailboxCode(second);
  await page.getByLabel(`Code sent to ${second}`).fill(wrongCode(code));
  await emails.getByRole("button", { name: "Verify", exact: true }).click();
  await until(page, () => document.querySelector('[data-field="code"] .hp-formFieldErrorText').textContent !== "");
  assert.deepEqual(await fieldState(page, "code"), { error: "Incorrect code. Tries left: 4.", invalid: true, described: true });
  await page.getByLabel(`Code sent to ${second}`).fill(code);
  await emails.getByRole("button", { name: "Verify", exact: true }).click();
  await until(page, () => window.hp.useUser().user.emailAddresses.length === 2);
  await until(page, (e) => !!document.querySelector(`[data-email="${e}"]`), second);
  assert.equal(await profileStatus(page), "The email address was verified and added.");
  assert.deepEqual(await emails.locator(`[data-email="${second}"] .hp-badge`).allTextContents(), [], "verified, not primary");
  assert.equal(await active(page), "Add email address");
  // The new address signs in, by its own code.
  const fresh = await open({ c: "none" });
  const signedInByCode = await fresh.evaluate(async (second) => {
    const flows = await import("/pkg/npm/flows.js");
    const s = flows.getSignIn(window.hp);
    await s.create({ identifier: second, strategy: "email_code" });
    return s.status;
  }, second);
  assert.equal(signedInByCode, "needs_first_factor");
  const third = await mailboxCode(second);
  assert.equal(await fresh.evaluate(async (code) => {
    const flows = await import("/pkg/npm/flows.js");
    return (await flows.getSignIn(window.hp).attemptFirstFactor({ strategy: "email_code", code })).status;
  }, third), "complete");
  // Removed: its row goes.
  await emails.getByRole("button", { name: `Remove ${second}` }).click();
  await until(page, (e) => !document.querySelector(`[data-email="${e}"]`), second);
  assert.equal(await profileStatus(page), "The email address was removed.");
  assert.deepEqual(page.errors, []);
  assert.deepEqual(fresh.errors, []);
  for (const p of [page, fresh]) await p.context().close();
});

/** Adds a further address on the profile and verifies it with the code from the mailbox; the address. */
async function addVerifiedAddress(page, prefix) {
  const emails = section(page, "emailAddresses");
  const count = await page.evaluate(() => window.hp.useUser().user.emailAddresses.length);
  await emails.getByRole("button", { name: "Add email address" }).click();
  const address = uniqueEmail(prefix);
  await page.getByLabel("Email address", { exact: true }).fill(address);
  await emails.getByRole("button", { name: "Add email address" }).click();
  await page.getByLabel(`Code sent to ${address}`).fill(await mailboxCode(address));
  await emails.getByRole("button", { name: "Verify", exact: true }).click();
  await until(page, (n) => window.hp.useUser().user.emailAddresses.length === n, count + 1);
  await until(page, (e) => !!document.querySelector(`[data-email="${e}"]`), address);
  return address;
}

/** Each listed address with its badges, in the list's order. */
const addressRows = (page) => page.evaluate(() =>
  [...document.querySelectorAll('[data-section="emailAddresses"] [data-email]')].map((li) =>
    [li.dataset.email, ...[...li.querySelectorAll(".hp-badge")].map((b) => b.textContent)]));

test("<hallpass-user-profile>: a verified address made primary — the badge and the user follow, the old one can go; a failure in the alert", async () => {
  const email = await profileUser("Prim");
  const page = await open({ c: "user-profile" });
  assert.equal(await signInAs(page, email), "ok");
  const emails = section(page, "emailAddresses");
  const second = await addVerifiedAddress(page, "ui-primary");
  // Only a verified address that is not primary can be made primary: the sign-up's (unverified) cannot.
  assert.deepEqual(await addressRows(page), [[email, "Primary", "Unverified"], [second]]);
  assert.equal(await emails.getByRole("button", { name: `Set as primary: ${email}` }).count(), 0);
  assert.equal(await emails.getByRole("button", { name: /^Set as primary/ }).count(), 1);

  await emails.getByRole("button", { name: `Set as primary: ${second}` }).click();
  await until(page, (e) => window.hp.useUser().user.primaryEmailAddress?.emailAddress === e, second);
  await until(page, (e) => document.querySelector(`[data-email="${e}"] .hp-badge`)?.textContent === "Primary", second);
  assert.deepEqual(await addressRows(page), [[second, "Primary"], [email, "Unverified"]]);
  assert.equal(await profileStatus(page), `${second} is now your primary email address.`);
  assert.equal(await active(page), "Email addresses", "the focus on the section's title: the button is gone");
  assert.deepEqual(await page.evaluate(() => {
    const { user } = window.hp.useUser();
    return [user.primaryEmailAddressId === user.primaryEmailAddress.id, user.emailAddresses[0].id === user.primaryEmailAddressId];
  }), [true, true]);
  // The new primary cannot be removed, the old one can; no address is offered to be made primary.
  assert.equal(await emails.getByRole("button", { name: `Remove ${second}` }).count(), 0);
  assert.equal(await emails.getByRole("button", { name: /^Set as primary/ }).count(), 0);
  await emails.getByRole("button", { name: `Remove ${email}` }).click();
  await until(page, (e) => !document.querySelector(`[data-email="${e}"]`), email);

  // Clerk's `user.update({ primaryEmailAddressId })` (hallpass/user) does it too, and the list follows.
  const third = await addVerifiedAddress(page, "ui-primary-gone");
  assert.deepEqual(await page.evaluate(async (third) => {
    const { withUserMethods } = await import("/pkg/npm/user.js");
    const user = withUserMethods(window.hp, window.hp.useUser().user);
    const id = user.emailAddresses.find((e) => e.emailAddress === third).id;
    const updated = await user.update({ primaryEmailAddressId: id });
    const back = await updated.update({ primaryEmailAddressId: user.primaryEmailAddressId });
    return [updated.primaryEmailAddress.emailAddress, back.primaryEmailAddress.emailAddress, typeof back.update];
  }, third), [third, second, "function"]);
  await until(page, (e) => document.querySelector(`[data-email="${e}"] .hp-badge`)?.textContent === "Primary", second);
  // An address removed elsewhere meanwhile (another browser): the server refuses, the alert says so.
  const other = await open({ c: "none" });
  assert.equal(await signInAs(other, second), "ok");
  assert.equal(await other.evaluate(async (third) => {
    const flows = await import("/pkg/npm/flows.js");
    const address = flows.withUserResources(window.hp, window.hp.useUser().user).emailAddresses.find((e) => e.emailAddress === third);
    await address.destroy();
    return window.hp.useUser().user.emailAddresses.length;
  }, third), 1);
  await emails.getByRole("button", { name: `Set as primary: ${third}` }).click();
  await until(page, () => document.querySelector("main .hp-alert").textContent !== "");
  assert.equal(await alertText(page), "This was removed or changed elsewhere. Reload to see the latest.");
  assert.equal(await page.evaluate(() => window.hp.useUser().user.primaryEmailAddress.emailAddress), second);
  assert.deepEqual(page.errors, []);
  assert.deepEqual(other.errors, []);
  for (const p of [page, other]) await p.context().close();
});

test("keyboard only: Set as primary with Enter; the focus on the section's title, the badge moved", async () => {
  const email = await profileUser("Keys");
  const page = await open({ c: "user-profile" });
  assert.equal(await signInAs(page, email), "ok");
  const second = await addVerifiedAddress(page, "ui-primary-keys");
  await tabTo(page, `button[aria-label="Set as primary: ${second}"]`);
  assert.equal(await page.evaluate(() => document.activeElement.matches(":focus-visible")), true, "focus is visible");
  await page.keyboard.press("Enter");
  await until(page, (e) => window.hp.useUser().user.primaryEmailAddress?.emailAddress === e, second);
  await until(page, () => document.querySelector(".hp-formFieldSuccessText").textContent !== "");
  assert.deepEqual(await addressRows(page), [[second, "Primary"], [email, "Unverified"]]);
  assert.equal(await active(page), "Email addresses");
  // From the title, Tab goes on to the old (unverified) address's own actions.
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement.getAttribute("aria-label")), `Verify ${email}`);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

/** Runs axe-core in the page; returns the violations as `rule: target` lines. */
async function axe(page) {
  if (!(await page.evaluate(() => typeof window.axe === "object"))) await page.addScriptTag({ path: axePath });
  const violations = await page.evaluate(async () => (await window.axe.run(document, { resultTypes: ["violations"] })).violations);
  return violations.flatMap((v) => v.nodes.map((n) => `${v.id}: ${n.target.join(" ")} — ${n.failureSummary.split("\n").slice(1, 2).join("")}`));
}

for (const theme of ["light", "dark"]) {
  test(`axe-core finds nothing in any component's state (${theme}); screenshots at 360, 768, 1280 px`, async () => {
    const context = await suite.browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await open({ c: "sign-in", theme }, context);
    const found = [];
    const check = async (state) => {
      for (const line of await axe(page)) found.push(`${state}: ${line}`);
      for (const width of [360, 768, 1280]) {
        await page.setViewportSize({ width, height: 900 });
        await page.screenshot({ path: join(output, `${state}-${width}-${theme}.png`), fullPage: true });
      }
      await page.setViewportSize({ width: 1280, height: 900 });
    };
    const goto = async (c) => {
      await page.goto(fixture({ c, theme }));
      await page.waitForFunction(() => window.ready === true);
    };
    await page.locator("main .hp-formButtonPrimary").waitFor();
    await check("sign-in");
    await page.getByRole("button", { name: "Continue" }).click();
    await check("sign-in-errors");
    await page.getByLabel("Email address").fill(uniqueEmail("ui-axe"));
    await page.getByLabel("Password", { exact: true }).fill("wrong password");
    await page.getByRole("button", { name: "Continue" }).click();
    await until(page, () => document.querySelector('[data-field="password"] .hp-formFieldErrorText').textContent !== "");
    await check("sign-in-wrong-password");
    // The email steps: the code (with a wrong one: no code is right for an address without an
    // account), the link's wait, and the page a link leads back to.
    await page.getByRole("button", { name: "Email me a code" }).click();
    await page.locator('input[name="code"]').waitFor();
    await check("sign-in-email-code");
    await page.getByLabel("Verification code").fill("123456");
    await page.getByRole("button", { name: "Continue" }).click();
    await until(page, () => document.querySelector('[data-field="code"] .hp-formFieldErrorText').textContent !== "");
    await check("sign-in-email-code-wrong");
    await page.getByRole("button", { name: "Use another method" }).click();
    await page.getByRole("button", { name: "Email me a link" }).click();
    await page.locator('main [data-focus-key="resend"]').waitFor();
    await check("sign-in-email-link");
    // The password reset: its code, then the new password (a real account's code from the mailbox).
    const resetting = await profileUser("Axe");
    await goto("sign-in");
    await page.getByLabel("Email address").fill(resetting);
    await page.getByRole("button", { name: "Forgot password?" }).click();
    await page.locator('input[name="code"]').waitFor();
    await check("sign-in-reset-code");
    await page.getByLabel("Verification code").fill(await mailboxCode(resetting));
    await page.getByRole("button", { name: "Continue" }).click();
    await page.locator('input[name="newPassword"]').waitFor();
    await page.getByRole("button", { name: "Reset password" }).click();
    await check("sign-in-new-password-errors");
    for (const status of ["verified", "expired"]) {
      await page.goto(fixture({ c: "sign-in", theme, hallpass_status: status }));
      await page.waitForFunction(() => window.ready === true);
      await page.locator("main .hp-headerTitle").waitFor();
      await check(`email-link-${status}`);
    }
    await goto("sign-up");
    await page.locator("main .hp-formButtonPrimary").waitFor();
    await check("sign-up");
    await page.getByRole("button", { name: "Continue" }).click();
    await check("sign-up-errors");
    await withInstance({ sign_up_requires_verified_email: true }, async () => {
      await goto("sign-up");
      await page.getByLabel("Email address").fill(uniqueEmail("ui-axe-verify"));
      await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
      await page.getByRole("button", { name: "Continue" }).click();
      await page.locator('input[name="code"]').waitFor();
      await check("sign-up-verify");
    });
    // Without passwords: the form has none; where users sign in by link only, the link's wait.
    await withInstance({ first_factors: ["email_link"] }, async () => {
      await goto("sign-up");
      await page.getByLabel("Email address").waitFor();
      await check("sign-up-passwordless");
      await page.getByLabel("Email address").fill(uniqueEmail("ui-axe-link"));
      await page.getByRole("button", { name: "Continue" }).click();
      await page.locator('main [data-focus-key="resend"]').waitFor();
      await check("sign-up-verify-link");
    });
    await page.evaluate(({ email, password }) => window.hp.signUp({ emailAddress: email, password, firstName: "Axe", lastName: "Core" }),
      { email: uniqueEmail("ui-axe"), password: PASSWORD });
    await goto("none");
    await page.locator(".hp-userButtonTrigger").waitFor();
    await check("signed-in");
    await page.locator(".hp-userButtonTrigger").click();
    await check("user-button-open");
    await page.keyboard.press("Escape");
    await page.evaluate(async () => {
      const org = await window.hp.createOrganization({ name: "Axe Org" });
      await window.hp.setActive({ organization: org.id });
    });
    await page.locator(".hp-organizationSwitcherTrigger").click();
    await until(page, () => !document.querySelector(".hp-organizationSwitcherLoading"));
    await check("organization-switcher-open");
    await page.getByRole("button", { name: "Create organization" }).click();
    await page.getByRole("button", { name: "Create organization" }).click();
    await check("organization-switcher-create-errors");
    await goto("create-organization");
    await page.locator("main .hp-formButtonPrimary").waitFor();
    await check("create-organization");
    // The profile of the active organization ("Axe Org"), with a pending invitation, then asking to delete.
    await goto("organization-profile");
    await page.getByLabel("Email address").fill(uniqueEmail("ui-axe-invitee"));
    await page.getByRole("button", { name: "Send invitation" }).click();
    await page.locator("main .hp-organizationProfileInvitationRow").waitFor();
    await check("organization-profile");
    await page.getByRole("button", { name: "Delete organization" }).click();
    await page.locator('main input[name="confirmName"]').waitFor();
    await check("organization-profile-delete");
    assert.deepEqual(found, []);
    assert.deepEqual(page.errors, []);
    await context.close();
  });
}

// <hallpass-user-profile>: its own page (`c=user-profile`) or the user button's dialog (`modal=1`).

/** A user signed up through the Frontend API (a session of its own: a third device), and its address. */
async function profileUser(firstName) {
  const answer = await signUpUser({ firstName });
  return answer.user.email_addresses[0].email_address;
}

const signInAs = (page, email, password = PASSWORD) =>
  page.evaluate(({ email, password }) => window.hp.signIn({ identifier: email, password }).then(() => "ok", (e) => e.code), { email, password });

/** The profile's section `name` (`profile`, `emailAddresses`, `password`, `activeDevices`, `danger`). */
const section = (page, name) => page.locator(`[data-section="${name}"]`);
const profileStatus = (page) => page.locator(".hp-formFieldSuccessText").first().textContent();

/** Mobile Safari on an iPhone, as the second browser of the profile's tests says it is. */
const IPHONE_SAFARI = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1";

/** A session row's device line ("Chrome 131 on Linux") and its other lines. */
const deviceRow = (page, id) => page.evaluate((id) => {
  const text = document.querySelector(`[data-section="activeDevices"] [data-session="${id}"] .hp-profileSectionItemText`);
  return { device: text.firstChild.textContent, lines: [...text.querySelectorAll(".hp-profileSectionItemSubtext")].map((e) => e.textContent) };
}, id);

test("<hallpass-user-profile>: the name saved, the address marked primary, this device marked, another browser's session revoked", async () => {
  const email = await profileUser("Ada");
  const other = await open({ c: "none" }, await suite.browser.newContext({ userAgent: IPHONE_SAFARI }));
  assert.equal(await signInAs(other, email), "ok");
  const page = await open({ c: "user-profile" });
  assert.equal(await signInAs(page, email), "ok");

  // The sessions: this one, the other browser's and the sign-up's; only this one is marked.
  const devices = section(page, "activeDevices").locator(".hp-profileSectionItem");
  await until(page, () => document.querySelectorAll('[data-section="activeDevices"] .hp-profileSectionItem').length >= 3);
  const mine = await page.evaluate(() => window.hp.useAuth().sessionId);
  const theirs = await other.evaluate(() => window.hp.useAuth().sessionId);
  assert.equal(await devices.count(), 3);
  assert.equal(await section(page, "activeDevices").locator(`[data-session="${mine}"] .hp-badge`).textContent(), "This device");
  assert.equal(await section(page, "activeDevices").locator(`[data-session="${mine}"] button`).count(), 0, "no way to revoke this one here");
  assert.equal(await section(page, "activeDevices").locator(".hp-badge").count(), 1);
  // Each row says which browser on which system, and from which address (the test proxy's loopback).
  const chrome = (await page.evaluate(() => navigator.userAgent)).match(/Chrome\/(\d+)/)[1];
  const here = await deviceRow(page, mine);
  assert.equal(here.device, `Chrome ${chrome} on Linux`);
  assert.equal(here.lines[0], "IP address 127.0.0.1");
  assert.match(here.lines[1], /^Signed in /);
  assert.match(here.lines[2], /^Last active /);
  const phone = await deviceRow(page, theirs);
  assert.equal(phone.device, "Safari 18 on iOS");
  assert.equal(phone.lines[0], "IP address 127.0.0.1");

  // The address, primary (and not verified: a password sign-up on an instance that does not ask).
  assert.equal(await section(page, "emailAddresses").locator(".hp-profileSectionItemText").textContent(), email);
  assert.deepEqual(await section(page, "emailAddresses").locator(".hp-badge").allTextContents(), ["Primary", "Unverified"]);

  // The name: saved, and the user (the header's user button too) follows.
  assert.equal(await page.getByLabel("First name").inputValue(), "Ada");
  await page.getByLabel("First name").fill("Grace");
  await page.getByLabel("Last name").fill("Hopper");
  await section(page, "profile").getByRole("button", { name: "Save" }).click();
  await until(page, () => window.hp.useUser().user.fullName === "Grace Hopper");
  await until(page, () => document.querySelector(".hp-formFieldSuccessText").textContent !== "");
  assert.equal(await profileStatus(page), "Your profile was saved.");
  assert.equal(await page.locator(".hp-userButtonTrigger .hp-srOnly").textContent(), "Open user menu for Grace Hopper");

  // Revoking the other browser's session: its row goes, and that browser is signed out.
  await section(page, "activeDevices").locator(`[data-session="${theirs}"] button`).click();
  await until(page, (id) => !document.querySelector(`[data-session="${id}"]`), theirs);
  assert.equal(await profileStatus(page), "That device was signed out.");
  // Its next refresh hears that the session is over (whatever getToken then answers).
  await other.evaluate(() => window.hp.getToken({ skipCache: true }).catch(() => null));
  await until(other, () => window.hp.useUser().isSignedIn === false);
  assert.equal(await signedIn(page), true);
  assert.deepEqual(page.errors, []);
  assert.deepEqual(other.errors, []);
  await page.context().close();
  await other.context().close();
});

test("keyboard only: Manage account opens the profile in a dialog; the name saved with Enter; Escape gives the focus back", async () => {
  const email = await profileUser("Alan");
  const page = await open({ c: "none", modal: "1" });
  assert.equal(await signInAs(page, email), "ok");
  await tabTo(page, ".hp-userButtonTrigger");
  await page.keyboard.press("Enter");
  assert.equal(await active(page), "Manage account");
  await page.keyboard.press("Enter");
  const dialog = page.locator("dialog.hp-modalContent");
  await until(page, () => document.querySelector("dialog.hp-modalContent")?.open === true);
  assert.equal(await page.evaluate(() => document.querySelector("dialog").contains(document.activeElement)), true, "the focus is in the dialog");
  await dialog.locator('input[name="firstName"]').waitFor();
  await tabTo(page, 'input[name="firstName"]');
  await page.keyboard.press("Control+A");
  await page.keyboard.type("Alan M.");
  await page.keyboard.press("Tab");
  await page.keyboard.type("Turing");
  await page.keyboard.press("Enter");
  await until(page, () => window.hp.useUser().user.fullName === "Alan M. Turing");
  // The focus stays on the field Enter was pressed in, though the profile was drawn again.
  assert.equal(await active(page), "lastName");
  // The sign-up's session, another device, signed out with the keyboard; the focus goes to the
  // section's title, its row being gone.
  await until(page, () => document.querySelectorAll('dialog [data-section="activeDevices"] .hp-profileSectionItem').length === 2);
  await tabTo(page, '[data-section="activeDevices"] .hp-profileSectionItemButton');
  assert.match(await page.evaluate(() => document.activeElement.getAttribute("aria-label")), /^Sign out the device signed in /);
  await page.keyboard.press("Enter");
  await until(page, () => document.querySelectorAll('dialog [data-section="activeDevices"] .hp-profileSectionItem').length === 1);
  await until(page, () => document.activeElement?.textContent === "Active devices");
  assert.equal(await page.locator("dialog .hp-formFieldSuccessText").textContent(), "That device was signed out.");
  // Tab stays inside the dialog (modal: the page behind is inert).
  for (let i = 0; i < 30; i++) {
    await page.keyboard.press("Tab");
    assert.equal(await page.evaluate(() => document.querySelector("dialog").contains(document.activeElement) || document.activeElement === document.body), true);
  }
  await page.keyboard.press("Escape");
  await until(page, () => document.querySelector("dialog.hp-modalContent")?.open === false);
  // The dialog's `close` event (which gives the focus back) is a task queued after `open` turns false.
  await until(page, () => document.activeElement?.classList.contains("hp-userButtonTrigger") === true);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test("password: a wrong current one said on its field; changed, the old one no longer signs in and other devices are signed out", async () => {
  const email = await profileUser("Hedy");
  const other = await open({ c: "none" });
  assert.equal(await signInAs(other, email), "ok");
  const page = await open({ c: "user-profile" });
  assert.equal(await signInAs(page, email), "ok");
  const form = section(page, "password");
  await form.locator('input[name="newPassword"]').waitFor();
  assert.equal(await form.getByLabel("Sign out of all other devices").isChecked(), true, "on by default, as Clerk's");
  // Nothing typed: both fields said, the first focused.
  await form.getByRole("button", { name: "Update password" }).click();
  assert.equal((await fieldState(page, "currentPassword")).error, "Current password is required.");
  assert.equal((await fieldState(page, "newPassword")).error, "New password is required.");
  assert.equal(await active(page), "currentPassword");
  const next = `${PASSWORD} two`;
  await form.getByLabel("Current password").fill("not the password");
  await form.getByLabel("New password").fill(next);
  await form.getByRole("button", { name: "Update password" }).click();
  await until(page, () => document.querySelector('[data-field="currentPassword"] .hp-formFieldErrorText').textContent !== "");
  assert.deepEqual(await fieldState(page, "currentPassword"),
    { error: "Password is incorrect. Try again, or use another method.", invalid: true, described: true });
  assert.equal(await active(page), "currentPassword");
  await form.getByLabel("Current password").fill(PASSWORD);
  await form.getByRole("button", { name: "Update password" }).click();
  await until(page, () => document.querySelector(".hp-formFieldSuccessText").textContent !== "");
  assert.equal(await profileStatus(page), "Your password was updated.");
  assert.deepEqual(await page.evaluate(() => [...document.querySelectorAll('[data-section="password"] input[type="password"]')].map((i) => i.value)),
    ["", ""], "no password is left in the form");
  assert.equal(await signedIn(page), true, "this device stays signed in");
  await other.evaluate(() => window.hp.getToken({ skipCache: true }).catch(() => null));
  await until(other, () => window.hp.useUser().isSignedIn === false); // the other device was signed out
  const fresh = await open({ c: "none" });
  assert.equal(await signInAs(fresh, email, PASSWORD), "form_password_incorrect", "the old password no longer works");
  assert.equal(await signInAs(fresh, email, next), "ok");
  assert.deepEqual(page.errors, []);
  for (const p of [page, other, fresh]) await p.context().close();
});

/** A 2×2 PNG (red), and a file that says it is one and is not (an SVG: never taken as an image). */
const PNG = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAEElEQVR4nGM4o6QERAwQCgAgdgRBhNis/gAAAABJRU5ErkJggg==", "base64");
const NOT_PNG = Buffer.from("<svg xmlns='http://www.w3.org/2000/svg'/>");

test("avatar: an uploaded image is shown on the profile and the user button; a file that is not an image is refused; removed", async () => {
  const email = await profileUser("Ida");
  const page = await open({ c: "user-profile" });
  assert.equal(await signInAs(page, email), "ok");
  const picker = section(page, "profile").locator('input[type="file"]');
  await picker.waitFor({ state: "attached" });
  assert.equal(await section(page, "profile").getByRole("button", { name: "Remove image" }).count(), 0, "nothing to remove yet");
  await picker.setInputFiles({ name: "me.png", mimeType: "image/png", buffer: NOT_PNG });
  await until(page, () => document.querySelector("main .hp-alert").textContent !== "");
  assert.equal(await page.locator("main .hp-alert").textContent(), "That type of file is not supported. Use a PNG, JPEG, GIF or WebP image.");
  // Over the server's limit: said without sending it.
  await picker.setInputFiles({ name: "big.png", mimeType: "image/png", buffer: Buffer.concat([PNG, Buffer.alloc(1024 * 1024)]) });
  await until(page, () => document.querySelector("main .hp-alert").textContent.startsWith("That file is too large"));
  assert.equal(await page.evaluate(() => window.hp.useUser().user.imageUrl), "");
  await picker.setInputFiles({ name: "me.png", mimeType: "image/png", buffer: PNG });
  await until(page, () => window.hp.useUser().user.imageUrl !== "");
  assert.equal(await page.locator("main .hp-alert").textContent(), "", "the earlier failure is cleared");
  assert.equal(await profileStatus(page), "Your profile image was updated.");
  // The image itself, loaded by the browser (not only its URL), in the profile and the button.
  for (const box of [".hp-userProfileAvatarBox", ".hp-userButtonAvatarBox"]) {
    await until(page, (box) => {
      const img = document.querySelector(`${box} img`);
      return img?.complete === true && img.naturalWidth === 2;
    }, box);
  }
  await section(page, "profile").getByRole("button", { name: "Remove image" }).click();
  await until(page, () => window.hp.useUser().user.imageUrl === "");
  assert.equal(await page.locator(".hp-userProfileAvatarBox img").count(), 0, "the initials again");
  assert.equal(await profileStatus(page), "Your profile image was removed.");
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test("delete account: the confirmation must be typed; then the account is gone and the page signed out", async () => {
  const email = await profileUser("Kay");
  const page = await open({ c: "user-profile" });
  assert.equal(await signInAs(page, email), "ok");
  const danger = section(page, "danger");
  await danger.getByRole("button", { name: "Delete account" }).click();
  assert.equal(await active(page), "deleteConfirmation");
  await page.keyboard.type("delete it");
  await page.keyboard.press("Enter");
  assert.equal((await fieldState(page, "deleteConfirmation")).error, "The text does not match.");
  assert.equal(await signedIn(page), true);
  await danger.getByLabel("Type “Delete account” to continue").fill("Delete account");
  await danger.getByRole("button", { name: "Delete account" }).click();
  await until(page, () => window.hp.useUser().isSignedIn === false);
  await until(page, () => !document.querySelector("hallpass-user-profile").firstElementChild);
  const fresh = await open({ c: "none" });
  assert.notEqual(await signInAs(fresh, email), "ok", "the account is gone");
  assert.deepEqual(page.errors, []);
  for (const p of [page, fresh]) await p.context().close();
});

for (const theme of ["light", "dark"]) {
  test(`axe-core finds nothing in the user profile's states (${theme}); screenshots at 360, 768, 1280 px`, async () => {
    const context = await suite.browser.newContext({ viewport: { width: 1280, height: 900 } });
    const email = await profileUser("Axe");
    const page = await open({ c: "user-profile", theme }, context);
    assert.equal(await signInAs(page, email), "ok");
    const found = [];
    const check = async (state) => {
      for (const line of await axe(page)) found.push(`${state}: ${line}`);
      for (const width of [360, 768, 1280]) {
        await page.setViewportSize({ width, height: 900 });
        await page.screenshot({ path: join(output, `${state}-${width}-${theme}.png`), fullPage: true });
      }
      await page.setViewportSize({ width: 1280, height: 900 });
    };
    await until(page, () => document.querySelectorAll('[data-section="activeDevices"] .hp-profileSectionItem').length >= 2);
    await check("user-profile");
    await section(page, "emailAddresses").getByRole("button", { name: "Add email address" }).click();
    await check("user-profile-add-email");
    const second = uniqueEmail("ui-axe-second");
    await page.getByLabel("Email address", { exact: true }).fill(second);
    await section(page, "emailAddresses").getByRole("button", { name: "Add email address" }).click();
    await page.locator('input[name="code"]').waitFor();
    await page.getByRole("button", { name: "Verify", exact: true }).click();
    await check("user-profile-email-code");
    // Verified: a second address to make primary, then made primary (the status said).
    await page.getByLabel(`Code sent to ${second}`).fill(await mailboxCode(second));
    await page.getByRole("button", { name: "Verify", exact: true }).click();
    await section(page, "emailAddresses").getByRole("button", { name: `Set as primary: ${second}` }).waitFor();
    await check("user-profile-second-address");
    await section(page, "emailAddresses").getByRole("button", { name: `Set as primary: ${second}` }).click();
    await until(page, (e) => document.querySelector(`[data-email="${e}"] .hp-badge`)?.textContent === "Primary", second);
    await check("user-profile-primary-set");
    await section(page, "password").getByRole("button", { name: "Update password" }).click();
    await check("user-profile-password-errors");
    await section(page, "profile").getByRole("button", { name: "Save" }).click();
    await until(page, () => document.querySelector(".hp-formFieldSuccessText").textContent !== "");
    await check("user-profile-saved");
    await section(page, "danger").getByRole("button", { name: "Delete account" }).click();
    await page.locator('input[name="deleteConfirmation"]').waitFor();
    await check("user-profile-delete");
    // The user button's dialog.
    await page.goto(fixture({ c: "none", theme, modal: "1" }));
    await page.waitForFunction(() => window.ready === true);
    await page.locator(".hp-userButtonTrigger").click();
    await page.getByRole("button", { name: "Manage account" }).click();
    await page.locator("dialog .hp-userProfileAvatarBox").waitFor();
    await check("user-profile-dialog");
    assert.deepEqual(found, []);
    assert.deepEqual(page.errors, []);
    await context.close();
  });
}
