// hallpass/ui's elements from Vue and Svelte (plain HTML is ui.test.mjs, React react.test.mjs, Yew
// yew.test.mjs), in real Chromium against the real server: a Vue 3 app (in-page template) and a Svelte 5
// component (compiled with svelte/compiler), each bundled with esbuild from the package in pkg/npm. Each
// hands its client to the elements (`configure({ client })`) and follows `useUser()` in its own state;
// an object prop bound in the framework's syntax reaches the element; a sign-in through
// `<hallpass-sign-in>` and a sign-out from `<hallpass-user-button>` re-render the framework's view.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { api, launch, serveRepo, signUpUser, PASSWORD } from "./harness.mjs";

const repo = process.env.HALLPASS_REPO;
const tools = process.env.HALLPASS_TOOLS;
const require = createRequire(join(tools, "noop.js"));
const fixtures = join(repo, "tests", "e2e", "fixtures");
const out = join(repo, "target", "tmp", "frameworks-page");
let site, browser;

/** Bundles `entry` into `out/<name>/app.js` beside the package's wasm and a page that loads it. */
async function page(name, entry, options = {}) {
  const dir = join(out, name);
  mkdirSync(dir, { recursive: true });
  await require("esbuild").build({
    entryPoints: [entry],
    bundle: true,
    format: "esm",
    outfile: join(dir, "app.js"),
    nodePaths: [tools],
    alias: { hallpass: join(repo, "pkg", "npm"), ...options.alias },
    define: { "process.env.NODE_ENV": '"development"', ...options.define },
    logLevel: "error",
  });
  // What a bundler does with `new URL("hallpass_bg.wasm", import.meta.url)`: the wasm beside the bundle.
  copyFileSync(join(repo, "pkg", "npm", "hallpass_bg.wasm"), join(dir, "hallpass_bg.wasm"));
  writeFileSync(join(dir, "index.html"),
    '<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><div id="app"></div><script type="module" src="./app.js"></script>');
}

before(async () => {
  rmSync(out, { recursive: true, force: true });
  // Vue: the esm-bundler build, which compiles templates in the page.
  await page("vue", join(fixtures, "vue-app.js"), {
    alias: { vue: require.resolve("vue/dist/vue.esm-bundler.js") },
    define: { __VUE_OPTIONS_API__: "true", __VUE_PROD_DEVTOOLS__: "false", __VUE_PROD_HYDRATION_MISMATCH_DETAILS__: "false" },
  });
  // Svelte: the component compiled for the browser next to its entry, then bundled.
  const { compile } = require("svelte/compiler");
  const source = readFileSync(join(fixtures, "svelte-app.svelte"), "utf8");
  const build = join(out, "svelte-src");
  mkdirSync(build, { recursive: true });
  writeFileSync(join(build, "App.js"), compile(source, { filename: "App.svelte", generate: "client" }).js.code);
  copyFileSync(join(fixtures, "svelte-main.js"), join(build, "main.js"));
  await page("svelte", join(build, "main.js"));
  site = await serveRepo();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  site?.close();
});

for (const framework of ["vue", "svelte"]) {
  test(`${framework}: an object prop reaches the element; signed in through <hallpass-sign-in> and out through <hallpass-user-button>, the ${framework} view follows`, async () => {
    const { user } = await signUpUser({ firstName: "Ada" });
    const email = user.email_addresses[0].email_address;
    const page = await browser.newPage();
    const errors = [];
    const wasm = [];
    page.on("pageerror", (e) => errors.push(e));
    page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
    page.on("request", (r) => r.url().endsWith(".wasm") && wasm.push(r.url()));
    await page.goto(`${site.origin}/target/tmp/frameworks-page/${framework}/index.html?api=${encodeURIComponent(api)}`);
    const state = page.locator("#state");
    await state.waitFor();
    assert.equal(await state.textContent(), "Signed out");

    const card = page.locator("hallpass-sign-in");
    const continueButton = card.getByRole("button", { name: "Continue" });
    await continueButton.waitFor();
    // The framework set `props` (an object) as the element's property: its appearance is applied.
    assert.equal(await continueButton.evaluate((b) => getComputedStyle(b).backgroundColor), "rgb(10, 20, 30)");

    await card.getByLabel("Email address").fill(email);
    await card.getByLabel("Password", { exact: true }).fill(PASSWORD);
    await continueButton.click();
    await page.waitForFunction(() => document.getElementById("state")?.textContent === "Signed in as Ada");
    const trigger = page.locator("hallpass-user-button .hp-userButtonTrigger");
    await trigger.waitFor();
    assert.equal(await card.count(), 0, `${framework} removed the sign-in`);

    await trigger.click();
    await page.locator("hallpass-user-button").getByRole("button", { name: "Sign out" }).click();
    await page.waitForFunction(() => document.getElementById("state")?.textContent === "Signed out");
    await continueButton.waitFor();
    assert.equal(await page.evaluate(() => window.hp.useUser().isSignedIn), false);
    assert.equal(wasm.length, 1, "one SDK in the page: the elements use the app's client");
    assert.deepEqual(errors, []);
    await page.close();
  });
}
