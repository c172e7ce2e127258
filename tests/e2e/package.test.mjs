// The npm package as a user gets it: `npm pack` pkg/npm, install the tarball into a scratch Vite app
// (offline: its one dependency, jose, is in npm's cache since .tools has it; React, an optional peer,
// and Vite come from .tools), build
// it with no plugin and no config, check the bundle carries the wasm, and run the built app in
// Chromium. Then the same installed package with no bundler at all, through an import map.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { api, serveRepo, launch, uniqueEmail, PASSWORD } from "./harness.mjs";

const repo = process.env.HALLPASS_REPO;
const tools = process.env.HALLPASS_TOOLS;
const work = join(repo, "target", "tmp", "package-test");
const app = join(work, "app");
let site, browser, packed;

const run = (file, args, cwd) => execFileSync(file, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

const MAIN_JS = `
import { createElement as h, StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { isHallpassError } from "hallpass";
import { HallpassProvider, SignedIn, SignedOut, useHallpass, useUser } from "hallpass/react";

function Status() {
  const { isLoaded, isSignedIn, user } = useUser();
  window.hp = useHallpass();
  window.isHallpassError = isHallpassError;
  return h("p", { id: "status" }, !isLoaded ? "loading" : isSignedIn ? "hello " + user.firstName : "signed out");
}

const api = new URLSearchParams(location.search).get("api");
createRoot(document.getElementById("root")).render(
  h(StrictMode, null,
    h(HallpassProvider, { frontendApi: api, storage: "memory" },
      h(Status),
      h(SignedIn, null, h("p", { id: "in" }, "in")),
      h(SignedOut, null, h("p", { id: "out" }, "out")))));
`;

const PLAIN_HTML = `<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,">
<script type="importmap">{ "imports": { "hallpass": "./node_modules/hallpass/index.js" } }</script>
<script type="module">
  import { Hallpass, isHallpassError } from "hallpass";
  const hp = await Hallpass.load({ frontendApi: new URLSearchParams(location.search).get("api"), storage: "memory" });
  let code = null;
  try { await hp.signIn({ identifier: "nobody@example.com", password: "wrong password" }); }
  catch (e) { code = isHallpassError(e) ? e.code : String(e); }
  window.result = { signedIn: hp.useUser().isSignedIn, code };
</script>`;

before(async () => {
  rmSync(work, { recursive: true, force: true });
  mkdirSync(app, { recursive: true });
  const [info] = JSON.parse(run("npm", ["pack", join(repo, "pkg", "npm"), "--json", "--pack-destination", work], work));
  packed = info;
  writeFileSync(join(app, "package.json"), JSON.stringify({
    name: "scratch-vite-app", private: true, type: "module",
    dependencies: { hallpass: `file:../${info.filename}` },
  }, null, 2));
  run("npm", ["install", "--offline", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"], app);
  // React from the project's tools (an optional peer: npm does not install it).
  for (const name of ["react", "react-dom"]) symlinkSync(join(tools, name), join(app, "node_modules", name), "dir");
  mkdirSync(join(app, "node_modules", "@types"));
  for (const name of ["react", "express", "node"]) {
    symlinkSync(join(tools, "@types", name), join(app, "node_modules", "@types", name), "dir");
  }
  // Express and Next.js too (optional peers), for the types of hallpass/express and hallpass/nextjs;
  // Next.js as the example installed it (`cargo xtask test` prepares it for this suite).
  symlinkSync(join(tools, "express"), join(app, "node_modules", "express"), "dir");
  symlinkSync(join(process.env.HALLPASS_NEXTJS_EXAMPLE, "node_modules", "next"), join(app, "node_modules", "next"), "dir");
  writeFileSync(join(app, "index.html"),
    '<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><div id="root"></div><script type="module" src="/main.js"></script>');
  writeFileSync(join(app, "main.js"), MAIN_JS);
  writeFileSync(join(app, "plain.html"), PLAIN_HTML);
  site = await serveRepo();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  site?.close();
});

test("npm pack: the tarball holds the SDK, its types, the wasm, and every entry (react, organizations, flows, user, ui, server, express, nextjs)", () => {
  const files = packed.files.map((f) => f.path).sort();
  for (const file of ["LICENSE", "README.md", "package.json", "index.js", "index.d.ts", "hallpass.js", "hallpass.d.ts",
    "hallpass_bg.wasm", "react.js", "react.d.ts", "organizations.js", "organizations.d.ts", "flows.js", "flows.d.ts", "user.js", "user.d.ts", "server.js", "server.d.ts", "server/verify.js", "server/assets.js",
    "handshake.js", "express.js", "express.d.ts", "nextjs.d.ts", "nextjs/client.js", "nextjs/provider.server.js",
    "nextjs/server.js", "nextjs/server.d.ts", "ui.js", "ui.d.ts", "themes.js", "themes.d.ts", "localizations.js",
    "localizations.d.ts"]) {
    assert.ok(files.includes(file), `${file} is packed (${files.join(", ")})`);
  }
  const manifest = JSON.parse(readFileSync(join(app, "node_modules", "hallpass", "package.json"), "utf8"));
  assert.equal(manifest.type, "module");
  assert.deepEqual(Object.keys(manifest.exports), [".", "./react", "./server", "./express", "./nextjs", "./nextjs/server", "./organizations", "./flows", "./user", "./ui", "./themes", "./localizations", "./hallpass_bg.wasm", "./package.json"]);
  // Server-side entries never load the WebAssembly: they import jose, node: modules, each other, and
  // (hallpass/nextjs/server) React and Next.js.
  const serverSide = files.filter((f) => ["server.js", "express.js", "nextjs/server.js"].includes(f) || f.startsWith("server/"));
  for (const file of serverSide) {
    const text = readFileSync(join(app, "node_modules", "hallpass", file), "utf8");
    for (const [, from, dynamic] of text.matchAll(/\bfrom\s*"([^"]+)"|\bimport\(\s*"([^"]+)"\s*\)/g)) {
      const specifier = from ?? dynamic;
      const own = file.startsWith("server/") ? /^\.\/[a-z]+\.js$/.test(specifier)
        : file.startsWith("nextjs/") ? /^\.\.\/server(\.js|\/[a-z]+\.js)$/.test(specifier)
        : /^\.\/server(\.js|\/[a-z]+\.js)$/.test(specifier);
      const framework = file.startsWith("nextjs/") && (specifier === "react" || specifier.startsWith("next/"));
      assert.ok(specifier === "jose" || specifier.startsWith("node:") || own || framework, `${file} imports ${specifier}`);
    }
  }
  assert.equal(manifest.version, packed.version);
  console.log(`npm pack: ${packed.filename}, ${(packed.size / 1024).toFixed(1)} KiB packed, ` +
    `${(packed.unpackedSize / 1024).toFixed(1)} KiB unpacked, ${files.length} files`);
});

test("a Vite app builds with the package and no plugin, the bundle carries the wasm, and it runs", async () => {
  run(process.execPath, [join(tools, "vite", "bin", "vite.js"), "build", "--base", "./", "--logLevel", "warn"], app);
  const assets = readdirSync(join(app, "dist", "assets"));
  const wasm = assets.filter((f) => f.endsWith(".wasm"));
  assert.equal(wasm.length, 1, `one .wasm among ${assets.join(", ")}`);
  const shipped = readFileSync(join(app, "dist", "assets", wasm[0]));
  assert.ok(shipped.equals(readFileSync(join(repo, "pkg", "npm", "hallpass_bg.wasm"))), "the package's wasm, unchanged");
  const js = assets.filter((f) => f.endsWith(".js"));
  const bundle = js.map((f) => readFileSync(join(app, "dist", "assets", f), "utf8")).join("\n");
  assert.ok(bundle.includes(wasm[0]), "the bundle points at the emitted wasm");
  const jsBytes = js.reduce((n, f) => n + readFileSync(join(app, "dist", "assets", f)).length, 0);
  console.log(`vite build: ${js.length} JS file(s) ${(jsBytes / 1024).toFixed(1)} KiB (React included), ` +
    `wasm ${(shipped.length / 1024).toFixed(1)} KiB`);

  const page = await browser.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e));
  const base = `${site.origin}/target/tmp/package-test/app/dist/index.html?api=${encodeURIComponent(api)}`;
  await page.goto(base);
  await page.locator("#out").waitFor();
  assert.equal(await page.textContent("#status"), "signed out");
  await page.evaluate(({ email, password }) => window.hp.signUp({ emailAddress: email, password, firstName: "Vite" }),
    { email: uniqueEmail("vite"), password: PASSWORD });
  await page.locator("#in").waitFor();
  assert.equal(await page.textContent("#status"), "hello Vite");
  assert.deepEqual(errors, []);
  await page.close();
});

test("the installed package works in a plain <script type=module> page, no bundler", async () => {
  const page = await browser.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e));
  await page.goto(`${site.origin}/target/tmp/package-test/app/plain.html?api=${encodeURIComponent(api)}`);
  await page.waitForFunction(() => window.result !== undefined);
  assert.deepEqual(await page.evaluate(() => window.result), { signedIn: false, code: "form_password_incorrect" });
  assert.deepEqual(errors, []);
  await page.close();
});

test("the .d.ts files are precise: tsc --strict accepts right uses and rejects wrong ones", () => {
  const file = join(app, "types-check.tsx");
  copyFileSync(join(repo, "tests", "e2e", "fixtures", "package-types.tsx"), file);
  const serverFile = join(app, "server-types.ts");
  copyFileSync(join(repo, "tests", "e2e", "fixtures", "server-types.ts"), serverFile);
  const expressFile = join(app, "express-types.ts");
  copyFileSync(join(repo, "tests", "e2e", "fixtures", "express-types.ts"), expressFile);
  const nextFile = join(app, "nextjs-types.tsx");
  copyFileSync(join(repo, "tests", "e2e", "fixtures", "nextjs-types.tsx"), nextFile);
  // Unused `@ts-expect-error`s fail too, so every wrong use must really be an error. `esnext`: the
  // glue declares `[Symbol.dispose]()` (with `skipLibCheck`, the default of most templates, es2022 does).
  const tsc = join(tools, "typescript", "bin", "tsc");
  const check = (files, extra = []) => {
    try {
      run(process.execPath, [tsc, "--noEmit", "--strict", "--jsx", "react-jsx", "--module", "esnext",
        "--moduleResolution", "bundler", "--target", "es2022", "--lib", "dom,esnext", "--types", "react", "--esModuleInterop",
        ...extra, ...files], app);
    } catch (e) {
      assert.fail(`tsc found errors:\n${e.stdout}${e.stderr}`);
    }
  };
  check([file, serverFile, expressFile]);
  // Next.js's own declarations need types no app installs by default (react-dom's, webpack's):
  // Next.js apps type-check with skipLibCheck, as here. A broken declaration of ours would then be
  // \`any\`, which the fixture's @ts-expect-errors catch.
  check([nextFile], ["--skipLibCheck"]);
});
