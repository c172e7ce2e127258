// The demo's drop-in components (hallpass/ui): the sign-in form (sign-up a click away), the user
// button in the top bar and the organization switcher are custom elements in index.html; this gives
// them the page's client, the demo's colours, and friendlier words for two failures (a localization
// override, Clerk's shape). `onSigningOut(true)` runs when the user button's "Sign out" (or the
// profile's account deletion) is chosen, before the SDK's state changes, so the page can tell that
// sign-out from one it did not ask for; `onSigningOut(false)` when a deletion was refused after all.
import { configure } from "hallpass/ui";

export function useComponents(hp, { onSigningOut, onSignedOut }) {
  configure({
    client: hp,
    appearance: {
      variables: { colorPrimary: "#4f46e5", borderRadius: "0.625rem", fontFamily: "inherit" },
      layout: { privacyPageUrl: "https://github.com/", termsPageUrl: "https://github.com/" },
    },
    localization: {
      unstable__errors: {
        network_error: "Can't reach the Hallpass server. Is `cargo xtask demo` still running?",
        form_password_incorrect: "Wrong email or password. Check both and try again.",
      },
    },
  });
  // The user button says so before it signs out (the event a router takes the navigation over with).
  document.addEventListener("hallpass:sign-out", () => onSigningOut(true));
  document.addEventListener("hallpass:sign-out-cancelled", () => onSigningOut(false));
  document.addEventListener("hallpass:signed-out", onSignedOut);
}
