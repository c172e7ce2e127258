// The handshake page's script (served by `hallpass/server` under `/__hallpass/`; see
// server/handshake.js): the server got a page request from a browser that is signed in but whose
// session cookie has expired. Load the SDK with the app's options and the session cookie on, get a
// fresh token — the SDK refreshes from the session it keeps in this browser and writes `__session`,
// or clears the cookies if the session is over — then reload, so the server sees the new cookie.
//
// Loop guard: `__hallpass_handshake` counts this page's reloads for 10 s; the server stops answering
// with this page once it reaches 3 and serves the request signed out. A refresh that fails (server
// down) still reloads, and so ends there after three attempts instead of looping.
import { Hallpass } from "./index.js";

const GUARD = "__hallpass_handshake";
const count = Number(/(?:^|;\s*)__hallpass_handshake=(\d+)/.exec(document.cookie)?.[1] ?? 0);
const secure = location.protocol === "https:" ? "; Secure" : "";
document.cookie = `${GUARD}=${count + 1}; Max-Age=10; Path=/; SameSite=Lax${secure}`;

try {
  const config = JSON.parse(document.getElementById("hallpass-handshake")?.textContent ?? "{}");
  const hp = await Hallpass.load({ frontendApi: config.frontendApi, storage: config.storage, sessionCookie: true });
  await hp.getToken();
} catch (error) {
  console.warn("hallpass: the handshake could not refresh the session", error);
}
location.reload();
