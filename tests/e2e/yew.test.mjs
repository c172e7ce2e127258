// hallpass/ui's drop-in components in a Yew app, in real Chromium: examples/yew as its README builds it
// (`wasm-pack build --target web`, which `cargo xtask test` runs into examples/yew/pkg/) and served with
// its own index.html, whose `./node_modules/hallpass/` is the package built in pkg/npm. The elements
// take the app's client (`use_ui_provider()`): a sign-in through `<hallpass-sign-in>` is the Yew hooks'
// sign-in, a sign-out from `<hallpass-user-button>` theirs, and the other way round — one SDK in the
// page (the package's own wasm is never fetched).
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { api, signUpUser, suiteBrowser, uniqueEmail, PASSWORD } from "./harness.mjs";

const repo = process.env.HALLPASS_REPO;
const suite = suiteBrowser();

const TYPES = { ".js": "text/javascript", ".wasm": "application/wasm", ".json": "application/json" };

/**
 * A page of the example; `./node_modules/hallpass/*` answered from pkg/npm (what `npm install hallpass`
 * puts there), `html` rewriting its index.html. `page.wasm` lists the wasm files fetched.
 */
async function open({ html } = {}) {
  const context = await suite.browser.newContext();
  const page = await context.newPage();
  page.errors = [];
  page.wasm = [];
  page.on("pageerror", (e) => page.errors.push(e));
  page.on("console", (m) => m.type() === "error" && page.errors.push(m.text()));
  page.on("request", (r) => r.url().endsWith(".wasm") && page.wasm.push(new URL(r.url()).pathname));
  await page.route("**/examples/yew/node_modules/hallpass/**", async (route) => {
    const path = new URL(route.request().url()).pathname.split("/node_modules/hallpass/")[1];
    const type = TYPES[path.slice(path.lastIndexOf("."))] ?? "application/octet-stream";
    await route.fulfill({ body: await readFile(join(repo, "pkg", "npm", path)), contentType: type });
  });
  let at = "/examples/yew/index.html";
  if (html) {
    // Served by the repository's server, not by a route: a page Playwright answers is not on
    // loopback for Chromium, which then refuses its requests to the (loopback) API.
    const original = await readFile(join(repo, "examples", "yew", "index.html"), "utf8");
    const dir = join(repo, "target", "tmp", "yew-page");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "index.html"), html(original).replaceAll('"./', '"/examples/yew/'));
    at = "/target/tmp/yew-page/index.html";
  }
  await page.goto(`${suite.site.origin}${at}?api=${encodeURIComponent(api)}`);
  return page;
}

const greeting = (page) => page.locator("#greeting");
const dropIn = (page) => page.locator("main hallpass-sign-in");

/** Signs in `email` through the drop-in `<hallpass-sign-in>`. */
async function signInThroughTheElement(page, email) {
  const card = dropIn(page);
  await card.getByLabel("Email address").fill(email);
  await card.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await card.getByRole("button", { name: "Continue" }).click();
}

test("the drop-in sign-in signs the Yew app in (use_user follows); its user button signs it out; and the other way round; one SDK", async () => {
  const { user } = await signUpUser({ firstName: "Grace" });
  const email = user.email_addresses[0].email_address;
  const page = await open();
  // Signed out: the element, drawn with the app's client, beside the app's own form.
  await dropIn(page).getByRole("button", { name: "Continue" }).waitFor();
  assert.equal(await page.locator("form.sign-in").count(), 1);

  await signInThroughTheElement(page, email);
  await greeting(page).waitFor();
  assert.equal(await greeting(page).textContent(), "Signed in as Grace");
  assert.match(await page.locator("#session").textContent(), /^Session sess_/);
  assert.equal(await dropIn(page).count(), 0, "the Yew page re-rendered signed in");

  // The user button (on the same client) shows the user; its Sign out is the app's sign-out.
  const trigger = page.locator("hallpass-user-button .hp-userButtonTrigger");
  await trigger.waitFor();
  assert.equal(await page.getByRole("button", { name: "Open user menu for Grace", exact: true }).count(), 1);
  await trigger.click();
  await page.locator("hallpass-user-button").getByRole("button", { name: "Sign out" }).click();
  await dropIn(page).getByRole("button", { name: "Continue" }).waitFor();
  assert.equal(await greeting(page).count(), 0);

  // The app's own form (Rust, `Hallpass::sign_in`): the user button follows.
  await page.locator("form.sign-in input[name=email]").fill(email);
  await page.locator("form.sign-in input[name=password]").fill(PASSWORD);
  await page.locator("form.sign-in button[type=submit]").click();
  await trigger.waitFor();
  assert.equal(await page.getByRole("button", { name: "Open user menu for Grace", exact: true }).count(), 1);
  // …and the app's sign-out: the button goes with the signed-in page.
  await page.locator("#sign-out").click();
  await dropIn(page).getByRole("button", { name: "Continue" }).waitFor();

  assert.deepEqual(page.wasm, ["/examples/yew/pkg/hallpass_yew_example_bg.wasm"], "only the app's wasm: the elements loaded no client");
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test("elements Yew rendered before hallpass/ui defined them take the app's client once it is loaded", async () => {
  const { user } = await signUpUser({ firstName: "Barbara" });
  const email = user.email_addresses[0].email_address;
  // hallpass/ui imported after the app has mounted: the elements exist (undefined) with their
  // `provider` set as a plain property first.
  const page = await open({
    html: (original) => {
      const late = original.replace('import "./node_modules/hallpass/ui.js";', "");
      assert.notEqual(late, original);
      // Once the app has drawn the (undefined) element, at most 10 s later, hallpass/ui is imported.
      const wait = 'for (let i = 0; i < 200 && !document.querySelector("main hallpass-sign-in"); i++) await new Promise((r) => setTimeout(r, 50));';
      const note = 'window.before = { defined: !!customElements.get("hallpass-sign-in"), own: Object.hasOwn(document.querySelector("main hallpass-sign-in") ?? {}, "provider") };';
      return late.replace(/(start\([^;]*\);)/, `$1\n    ${wait}\n    ${note}\n    await import("./node_modules/hallpass/ui.js");`);
    },
  });
  await dropIn(page).getByRole("button", { name: "Continue" }).waitFor();
  assert.deepEqual(await page.evaluate(() => window.before), { defined: false, own: true }, "the element existed, undefined, with its provider");
  // Upgraded, the element's own accessors are in charge: a new provider (here another appearance)
  // draws it again.
  const color = (selector) => page.evaluate((s) => getComputedStyle(document.querySelector(s)).backgroundColor, selector);
  await page.evaluate(() => {
    const e = document.querySelector("hallpass-sign-in");
    e.provider = { ...e.provider, appearance: { variables: { colorPrimary: "rgb(1, 2, 3)" } } };
  });
  assert.equal(await color("hallpass-sign-in .hp-formButtonPrimary"), "rgb(1, 2, 3)");
  // An element with no client waits (nothing configured the page); given the app's client as its
  // provider later, it starts with it.
  await page.evaluate(() => document.body.append(Object.assign(document.createElement("hallpass-sign-in"), { id: "later" })));
  await page.locator("#later [aria-busy=true]").waitFor();
  await page.evaluate(() => (document.getElementById("later").provider = { client: document.querySelector("main hallpass-sign-in").provider.client }));
  await page.locator("#later").getByRole("button", { name: "Continue" }).waitFor();
  assert.equal(await page.evaluate(() => document.getElementById("later").hp === document.querySelector("main hallpass-sign-in").hp), true);
  await page.evaluate(() => document.getElementById("later").remove());

  await signInThroughTheElement(page, email);
  await greeting(page).waitFor();
  assert.equal(await greeting(page).textContent(), "Signed in as Barbara");
  await page.locator("hallpass-user-button .hp-userButtonTrigger").waitFor();
  assert.deepEqual(page.wasm, ["/examples/yew/pkg/hallpass_yew_example_bg.wasm"]);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test("a sign-up through the app's own form: the user button shows the new user, on the same session", async () => {
  const page = await open();
  await page.locator("form.sign-in button.link").click();
  const email = uniqueEmail("yew-ui");
  await page.locator("form.sign-in input[name=email]").fill(email);
  await page.locator("form.sign-in input[name=password]").fill(PASSWORD);
  await page.locator("form.sign-in button[type=submit]").click();
  const trigger = page.locator("hallpass-user-button .hp-userButtonTrigger");
  await trigger.waitFor();
  // No name: the button is named by the address.
  assert.equal(await page.getByRole("button", { name: `Open user menu for ${email}`, exact: true }).count(), 1);
  assert.equal(await page.evaluate(() => document.querySelector("#session").textContent.slice(8)),
    await page.evaluate(() => document.querySelector("hallpass-user-button").hp.useAuth().sessionId));
  assert.deepEqual(page.errors, []);
  await page.context().close();
});
