// The browser half of `cargo xtask bench`: Debian's Chromium (headless, through playwright-core, the
// flags of tests/e2e/harness.mjs) against real hallpass-servers, with the release package in pkg/web.
//
// 1. Cached getToken(): ops/s and ns/op of `await hp.getToken()` beside the least a correct cache does
//    (`Date.now() <= expiry ? Promise.resolve(token) : …`, awaited) and the bare floor
//    (`await Promise.resolve(token)`) in the same page, alternating rounds, each bounded in count and
//    time.
// 2. Cold start: navigation → wasm instantiated → isLoaded, with a stored session and with none, and
//    the requests the SDK sent to the Frontend API before isLoaded (counted in the page by wrapping
//    fetch, and by Playwright for the whole load). Beside it, the parts the browser adds: the same
//    load with V8's lazy wasm compilation off, and a page's first localStorage access alone.
// 3. Refresh traffic: 1, 5, 20 tabs of one browser context (shared localStorage) calling getToken()
//    every 500 ms against a server with short tokens; refreshes counted at the test proxy, and the
//    shortest gap between two of them (from the tabs' refresh traces).
// 4. Many tabs, timed: how long a sign-out in one of 5 tabs takes to reach the last, and how long
//    after the server returns from an outage every tab has a token again (the many-tabs e2e suite
//    checks both happen; the strict numbers are here).
//
// Environment (set by `cargo xtask bench`): HALLPASS_BENCH_API (server with 60 s tokens),
// HALLPASS_BENCH_SHORT_API (test proxy in front of a server with HALLPASS_BENCH_TOKEN_SECS tokens),
// HALLPASS_BENCH_QUICK=1, HALLPASS_BENCH_OUT (JSON result), HALLPASS_REPO, HALLPASS_TOOLS, CHROMIUM.
import { createRequire } from "node:module";
import { createServer } from "node:http";
import { readFile, writeFile } from "node:fs/promises";
import { join, normalize, extname } from "node:path";

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run this with \`cargo xtask bench\``);
  return value;
};
const api = env("HALLPASS_BENCH_API");
const shortApi = env("HALLPASS_BENCH_SHORT_API");
const tokenSecs = Number(env("HALLPASS_BENCH_TOKEN_SECS"));
const quick = process.env.HALLPASS_BENCH_QUICK === "1";
const root = env("HALLPASS_REPO");
const require = createRequire(join(env("HALLPASS_TOOLS"), "noop.js"));
const { chromium } = require("playwright-core");

const TYPES = { ".html": "text/html", ".js": "text/javascript", ".mjs": "text/javascript",
  ".wasm": "application/wasm", ".json": "application/json" };
const PASSWORD = "correct horse battery staple";
const email = (tag) => `bench-${tag}-${Date.now()}-${Math.floor(Math.random() * 1e9)}@example.com`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length ? s[Math.floor((s.length - 1) / 2)] : null; };
const log = (...a) => console.error("bench(browser):", ...a);

/** The repository, read-only, on a free loopback port (no caching headers: every load fetches). */
async function serveRepo() {
  const server = createServer(async (req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url, "http://x").pathname));
    if (path.includes("..")) { res.writeHead(400).end(); return; }
    try {
      const body = await readFile(join(root, path));
      res.writeHead(200, { "content-type": TYPES[extname(path)] ?? "application/octet-stream" }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { origin: `http://127.0.0.1:${server.address().port}`, close: () => server.close() };
}

async function control(command) {
  const method = command.startsWith("counts") ? "GET" : "POST";
  const res = await fetch(`${shortApi}/__control/${command}`, { method });
  if (!res.ok) throw new Error(`control ${command}: ${res.status}`);
  return res.json();
}

const site = await serveRepo();
const launch = (extraArgs = []) => chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--no-first-run", "--disable-gpu", "--disable-quic", ...extraArgs],
});
const browser = await launch();
const page_url = (query = "") => `${site.origin}/bench/pages/bench.html${query}`;

async function open(context, query = "") {
  const page = await context.newPage();
  page.errors = [];
  page.on("pageerror", (e) => page.errors.push(String(e)));
  await page.goto(page_url(query));
  await page.waitForFunction(() => window.ready === true, null, { timeout: 30_000 });
  return page;
}

const result = { quick, chromium: browser.version() };
try {
  // ---- 1. cached getToken() vs the floor
  {
    const context = await browser.newContext();
    const page = await open(context);
    const maxN = quick ? 50_000 : 200_000;
    const maxMs = quick ? 500 : 2000;
    const rounds = quick ? 2 : 3;
    result.getToken = await page.evaluate(async ({ api, email, password, maxN, maxMs, rounds }) => {
      const hp = await window.Hallpass.load({ frontendApi: api, storage: "memory" });
      await hp.signUp({ emailAddress: email, password });
      const token = await hp.getToken();
      // Runs `fn` (awaited) in blocks of 256 until maxN calls or maxMs, whichever first.
      const loop = async (fn) => {
        let n = 0;
        const start = performance.now();
        const end = start + maxMs;
        while (n < maxN) {
          for (let k = 0; k < 256; k++) await fn();
          n += 256;
          if (performance.now() > end) break;
        }
        const ms = performance.now() - start;
        return { n, ms, nsPerOp: (ms * 1e6) / n, opsPerSec: (n / ms) * 1000 };
      };
      const sdk = () => hp.getToken();
      const floor = () => Promise.resolve(token);
      // Diagnostics: a synchronous call into the wasm (a getter returning a string), awaited; and
      // getToken with an options object (no `undefined` for the SDK to read options from).
      // The least a correct cache can do: compare the clock with the expiry (timers alone cannot be
      // trusted across a sleeping laptop), then hand out the token.
      const expiry = Date.now() + 3_600_000;
      const clockFloor = () => (Date.now() <= expiry ? Promise.resolve(token) : null);
      const sync = () => hp.frontendApi;
      const opts = {};
      const withOptions = () => hp.getToken(opts);
      // Warm-up (JIT), then alternating rounds so both see the same machine state.
      for (let i = 0; i < 5000; i++) { await sdk(); await floor(); }
      const sdkRounds = [], floorRounds = [], syncRounds = [], optionsRounds = [], clockRounds = [];
      let same = true;
      for (let r = 0; r < rounds; r++) {
        sdkRounds.push(await loop(sdk));
        floorRounds.push(await loop(floor));
        syncRounds.push(await loop(sync));
        optionsRounds.push(await loop(withOptions));
        clockRounds.push(await loop(clockFloor));
        same = same && (await hp.getToken()) === token;
      }
      return { token_len: token.length, sameTokenThroughout: same, sdkRounds, floorRounds, syncRounds, optionsRounds,
        clockRounds };
    }, { api, email: email("gettoken"), password: PASSWORD, maxN, maxMs, rounds });
    const best = (rs) => rs.reduce((a, b) => (b.nsPerOp < a.nsPerOp ? b : a));
    const s = best(result.getToken.sdkRounds), f = best(result.getToken.floorRounds);
    const y = best(result.getToken.syncRounds), o = best(result.getToken.optionsRounds);
    const k = best(result.getToken.clockRounds);
    Object.assign(result.getToken, {
      sdkNsPerOp: s.nsPerOp, sdkOpsPerSec: s.opsPerSec, floorNsPerOp: f.nsPerOp, floorOpsPerSec: f.opsPerSec,
      syncNsPerOp: y.nsPerOp, optionsNsPerOp: o.nsPerOp, ratio: s.nsPerOp / f.nsPerOp, errors: page.errors,
      clockFloorNsPerOp: k.nsPerOp, ratioToClockFloor: s.nsPerOp / k.nsPerOp,
    });
    log(`getToken ${s.nsPerOp.toFixed(0)} ns/op, floor ${f.nsPerOp.toFixed(0)} ns/op`);
    await context.close();
  }

  // ---- 2. cold start, with a stored session and with none
  {
    // Fresh pages on a 2-core machine vary by several milliseconds: enough of them for a steady median.
    const reps = quick ? 3 : 15;
    const settleMs = quick ? 500 : 3000;
    const coldLoad = async (context) => {
      const page = await context.newPage();
      const requests = [];
      page.on("request", (r) => { if (r.url().startsWith(api)) requests.push(`${r.method()} ${new URL(r.url()).pathname}`); });
      const errors = [];
      page.on("pageerror", (e) => errors.push(String(e)));
      await page.goto(page_url(`?api=${encodeURIComponent(api)}&auto=1`));
      await page.waitForFunction(() => window.ready === true, null, { timeout: 30_000 });
      const t = await page.evaluate(() => window.timings);
      const nav = await page.evaluate(() => {
        const e = performance.getEntriesByType("navigation")[0];
        return e ? { responseEnd: e.responseEnd, domInteractive: e.domInteractive } : {};
      });
      await sleep(1000); // let background revalidation show up in the Playwright count
      const after = await page.evaluate(() => window.apiFetches());
      await page.close();
      // A page closed a moment ago is still being torn down, and the browser commits its storage
      // writes (the background revalidation's) a little later: both land on the next page's first
      // localStorage access and add up to ~10 ms to some loads. Each page starts on a settled browser.
      await sleep(settleMs);
      return { ...t, ...nav, requestsWithin1sAfter: requests, fetchesWithin1sAfter: after, errors };
    };
    const summarise = (runs) => ({
      runs,
      wasmReadyMs: median(runs.map((r) => r.wasmReady)),
      loadedMs: median(runs.map((r) => r.loaded)),
      loadMs: median(runs.map((r) => r.loadMs)),
      secondLoadMs: median(runs.map((r) => r.secondLoadMs)),
      fetchesBeforeLoadedMax: Math.max(...runs.map((r) => r.fetchesBeforeLoaded)),
      allLoaded: runs.every((r) => r.isLoaded),
    });
    // No stored session: a fresh context (empty storage) each time.
    const none = [];
    for (let i = 0; i < reps; i++) {
      const context = await browser.newContext();
      none.push(await coldLoad(context));
      await context.close();
    }
    // Stored session: sign up once in a context, then fresh pages of it.
    // With `probe`, also the first localStorage access of a page, timed alone (no SDK) in fresh pages
    // of the same context: the origin's storage holds the stored session, as it does for the loads.
    const storedRuns = async (browser, probe) => {
      const context = await browser.newContext();
      const setup = await open(context);
      await setup.evaluate(async ({ api, email, password }) => {
        const hp = await window.Hallpass.load({ frontendApi: api });
        await hp.signUp({ emailAddress: email, password });
      }, { api, email: email("cold"), password: PASSWORD });
      await setup.close();
      const runs = [];
      for (let i = 0; i < reps; i++) runs.push(await coldLoad(context));
      const probes = [];
      for (let i = 0; probe && i < reps; i++) {
        const page = await context.newPage();
        await page.goto(page_url("?probe=storage"));
        await page.waitForFunction(() => window.ready === true, null, { timeout: 30_000 });
        probes.push((await page.evaluate(() => window.timings)).firstStorageMs);
        await page.close();
      }
      await context.close();
      return { runs, firstStorageAccessMs: median(probes) };
    };
    const { runs: stored, firstStorageAccessMs } = await storedRuns(browser, true);
    result.coldStart = { none: summarise(none), stored: summarise(stored) };
    result.coldStart.stored.allSignedIn = stored.every((r) => r.isSignedIn);
    // Where a stored-session load() goes, measured beside it. V8 compiles wasm functions lazily, on
    // their first call, on the main thread: the same load in a browser that compiles the whole
    // module while instantiating it shows how much of load() is that compilation.
    const eager = await launch(["--js-flags=--no-wasm-lazy-compilation"]);
    try {
      const { runs } = await storedRuns(eager, false);
      result.coldStart.storedEagerCompile = summarise(runs);
      result.coldStart.storedEagerCompile.allSignedIn = runs.every((r) => r.isSignedIn);
    } finally {
      await eager.close();
    }
    result.coldStart.firstStorageAccessMs = firstStorageAccessMs;
    log(`cold start: none ${result.coldStart.none.loadedMs?.toFixed(1)} ms, stored ${result.coldStart.stored.loadedMs?.toFixed(1)} ms`);
  }

  // ---- 3. refresh traffic for 1, 5, 20 tabs
  {
    const tabsList = quick ? [1, 5] : [1, 5, 20];
    const periods = quick ? 2 : 4;
    const start = async (page) => page.evaluate(async (api) => {
      const hp = window.hp ?? (await window.Hallpass.load({ frontendApi: api, minTokenLifetimeMs: 1000, debug: true }));
      window.hp = hp;
      window.stats = { ok: 0, nulls: 0, errors: 0 };
      setInterval(async () => {
        try { (await hp.getToken()) ? window.stats.ok++ : window.stats.nulls++; } catch { window.stats.errors++; }
      }, 500);
      return hp.useUser().isSignedIn;
    }, shortApi);
    result.traffic = { tokenSecs, periods, runs: [] };
    for (const tabs of tabsList) {
      const context = await browser.newContext();
      const first = await open(context);
      await first.evaluate(async ({ api, email, password }) => {
        window.hp = await window.Hallpass.load({ frontendApi: api, minTokenLifetimeMs: 1000, debug: true });
        await window.hp.signUp({ emailAddress: email, password });
      }, { api: shortApi, email: email(`tabs${tabs}`), password: PASSWORD });
      const pages = [first];
      for (let i = 1; i < tabs; i++) pages.push(await open(context));
      const signedIn = [];
      for (const p of pages) signedIn.push(await start(p));
      await sleep(1000);
      await control("reset");
      const t0 = Date.now();
      await sleep(periods * tokenSecs * 1000);
      const counts = await control("counts");
      const secs = (Date.now() - t0) / 1000;
      const stats = await Promise.all(pages.map((p) => p.evaluate(() => window.stats)));
      const sum = (k) => stats.reduce((a, s) => a + s[k], 0);
      const refreshes = counts["POST /v1/client/refresh"] ?? 0;
      // The shortest gap between two refreshes any tab of the browser sent during the run.
      const sent = (await Promise.all(pages.map((p) => p.evaluate(() => window.hp.refreshTrace()))))
        .flat().filter((e) => e.outcome === "network" && e.at >= t0).map((e) => e.at).sort((a, b) => a - b);
      const gaps = sent.slice(1).map((t, i) => t - sent[i]);
      result.traffic.runs.push({
        tabs, secs, refreshes, perPeriod: refreshes / (secs / tokenSecs), counts,
        minGapMs: gaps.length ? Math.min(...gaps) : null,
        signedInTabs: signedIn.filter(Boolean).length,
        getTokenOk: sum("ok"), getTokenNull: sum("nulls"), getTokenErrors: sum("errors"),
        pageErrors: pages.flatMap((p) => p.errors),
      });
      log(`${tabs} tab(s): ${refreshes} refreshes in ${secs.toFixed(1)} s`);
      await context.close();
    }
    const one = result.traffic.runs.find((r) => r.tabs === 1)?.perPeriod;
    for (const r of result.traffic.runs) r.ratioTo1 = one ? r.perPeriod / one : null;
  }

  // ---- 4. many tabs, timed: sign-out reaching every tab, recovery after an outage
  {
    const tabs = 5;
    const downMs = quick ? 3000 : 8000;
    const context = await browser.newContext();
    const pages = [];
    for (let i = 0; i < tabs; i++) pages.push(await open(context));
    for (const [i, page] of pages.entries()) {
      await page.evaluate(async ({ api, email, password, first }) => {
        window.hp = await window.Hallpass.load({ frontendApi: api, minTokenLifetimeMs: 1000 });
        window.hp.addListener((s) => { if (s.isSignedIn === false) window.signedOutAt ??= Date.now(); });
        if (first) await window.hp.signUp({ emailAddress: email, password });
      }, { api: shortApi, email: email("timed"), password: PASSWORD, first: i === 0 });
    }
    for (const page of pages) await page.waitForFunction(() => window.hp.useAuth().isSignedIn === true, null, { timeout: 10_000 });
    // The server is gone for a while (every token expires meanwhile), then back: each tab asks for
    // a fresh token every 50 ms until it has one; the time is counted from the server's return.
    await control("fault?mode=down");
    await sleep(downMs);
    await control("fault?mode=none");
    const back = Date.now();
    const recovered = await Promise.all(pages.map((p) => p.evaluate(async () => {
      const until = Date.now() + 30_000;
      while (Date.now() < until) {
        if (await window.hp.getToken({ skipCache: true }).catch(() => null)) return Date.now();
        await new Promise((r) => setTimeout(r, 50));
      }
      return null;
    })));
    const recoveryMs = recovered.every((t) => t !== null) ? Math.max(...recovered) - back : null;
    // One tab switches the active organization; every tab's listener records when its orgId (which
    // it adopts only with a token carrying it) became the new one. Timed from setActive's call and
    // from its resolving (the switching tab holds the token then).
    const orgId = await pages[0].evaluate(async () => (await window.hp.createOrganization({ name: "Bench" })).id);
    for (const page of pages) {
      await page.evaluate((orgId) => window.hp.addListener((s) => {
        if (s.orgId === orgId) window.switchedAt ??= Date.now();
      }), orgId);
    }
    const [switchCalled, switchResolved] = await pages[2].evaluate(async (orgId) => {
      const t = Date.now();
      await window.hp.setActive({ organization: orgId });
      return [t, Date.now()];
    }, orgId);
    for (const page of pages) await page.waitForFunction(() => window.switchedAt !== undefined, null, { timeout: 10_000 });
    const switched = await Promise.all(pages.map((p) => p.evaluate(() => window.switchedAt)));
    // One tab signs out; the others hear of it through BroadcastChannel (or the storage event).
    const signedOut = await pages[1].evaluate(async () => { const t = Date.now(); await window.hp.signOut(); return t; });
    for (const page of pages) await page.waitForFunction(() => window.signedOutAt !== undefined, null, { timeout: 10_000 });
    const reached = await Promise.all(pages.map((p) => p.evaluate(() => window.signedOutAt)));
    result.timed = { tabs, downMs, recoveryMs, signOutReachedAllMs: Math.max(...reached) - signedOut,
      orgSwitchReachedAllMs: Math.max(...switched) - switchResolved, orgSwitchFromCallMs: Math.max(...switched) - switchCalled,
      pageErrors: pages.flatMap((p) => p.errors) };
    log(`recovery ${recoveryMs} ms, sign-out reached ${tabs} tabs in ${result.timed.signOutReachedAllMs} ms, ` +
      `an organization switch in ${result.timed.orgSwitchReachedAllMs} ms after setActive resolved`);
    await context.close();
  }
} finally {
  await browser.close();
  site.close();
}
await writeFile(env("HALLPASS_BENCH_OUT"), JSON.stringify(result, null, 2) + "\n");
console.log(JSON.stringify(result));
