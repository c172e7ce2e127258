// The demo's email flows: hallpass/flows' sign-up and sign-in by code, by link and by password, the
// password reset, further email addresses, and the development mailbox through the demo's backend.
import { Hallpass, isHallpassError } from "hallpass";
import {
  createEmailAddress, getEnvironment, getSignIn, getSignUp, handleEmailLinkVerification, setActive,
  withUserResources,
} from "hallpass/flows";

const $ = (id) => document.getElementById(id);
const hp = await Hallpass.load({ frontendApi: location.origin });
const signUp = getSignUp(hp);
const signIn = getSignIn(hp);
const here = `${location.origin}${location.pathname}`;

/** What a failed step means for the person at the keyboard. */
function describe(error) {
  if (!isHallpassError(error)) return `Something went wrong: ${error?.message ?? error}`;
  switch (error.code) {
    case "form_code_incorrect":
      return `That code is not right: ${error.attemptsLeft ?? "a few"} tries left.`;
    case "verification_failed":
      return "Too many wrong codes: send a new one.";
    case "verification_expired":
      return "That code expired (codes work for 10 minutes): send a new one.";
    case "rate_limited":
      return `Wait ${error.retryAfter ?? 30} s before sending another email.`;
    case "form_identifier_exists":
      return "An account with this address exists already: sign in instead.";
    case "form_password_incorrect":
      return "Wrong email or password.";
    default:
      return error.message || error.code;
  }
}

function say(id, text) {
  $(id).textContent = text;
}

/** Runs a step from a form: its button disabled meanwhile, its failure said in `stateId`. */
function onSubmit(formId, stateId, work) {
  $(formId).addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      await work(Object.fromEntries(new FormData(form)));
    } catch (error) {
      say(stateId, describe(error));
    } finally {
      button.disabled = false;
    }
  });
}

/** Once a step completed: the session is this page's; Clerk's `setActive` confirms it. */
async function completed(resource, stateId) {
  await setActive(hp, { session: resource.createdSessionId });
  say(stateId, `Signed in (session ${resource.createdSessionId}).`);
  for (const id of ["up-code", "in-code", "in-reset"]) $(id).hidden = true;
}

function showMailbox(to) {
  $("mail-form").elements.to.value = to;
  loadMailbox(to);
}

// Sign-up.
onSubmit("up-form", "up-state", async ({ email, password, strategy }) => {
  await signUp.create({ emailAddress: email, password: password || undefined });
  if (signUp.status === "complete") return completed(signUp, "up-state");
  if (strategy === "email_link") {
    say("up-state", `A link is on its way to ${email}: open it here or anywhere. This tab waits for it.`);
    showMailbox(email);
    const done = await signUp.createEmailLinkFlow().startEmailLinkFlow({ redirectUrl: here });
    if (done.status === "complete") return completed(done, "up-state");
    return say("up-state", `The link ${done.verifications.emailAddress?.status ?? "failed"}: try again.`);
  }
  await signUp.prepareEmailAddressVerification({ strategy: "email_code" });
  $("up-code").hidden = false;
  say("up-state", `A 6-digit code is on its way to ${email}.`);
  showMailbox(email);
});
onSubmit("up-code", "up-state", async ({ code }) => {
  await signUp.attemptEmailAddressVerification({ code });
  await completed(signUp, "up-state");
});

// Sign-in.
const inForm = $("in-form");
inForm.elements.strategy.addEventListener("change", () => {
  inForm.querySelector("[data-for=password]").hidden = inForm.elements.strategy.value !== "password";
});
onSubmit("in-form", "in-state", async ({ email, strategy, password }) => {
  const link = strategy === "email_link";
  await signIn.create({ identifier: email, strategy: link ? undefined : strategy, password: strategy === "password" ? password : undefined });
  if (signIn.status === "complete") return completed(signIn, "in-state");
  showMailbox(email);
  if (link) {
    say("in-state", `A link is on its way to ${email}. Open it in any tab or browser: this tab signs in.`);
    $("cancel-link").hidden = false;
    const done = await signIn.createEmailLinkFlow().startEmailLinkFlow({ redirectUrl: here });
    $("cancel-link").hidden = true;
    if (done.status === "complete") return completed(done, "in-state");
    return say("in-state", `The link ${done.firstFactorVerification?.status ?? "failed"}: try again.`);
  }
  $("in-code").hidden = false;
  say("in-state", `A 6-digit code is on its way to ${email} (if it has an account).`);
});
$("cancel-link").addEventListener("click", () => {
  signIn.createEmailLinkFlow().cancelEmailLinkFlow();
  $("cancel-link").hidden = true;
  say("in-state", "Stopped waiting for the link.");
});
onSubmit("in-code", "in-state", async ({ code }) => {
  const strategy = signIn.firstFactorVerification?.strategy ?? "email_code";
  await signIn.attemptFirstFactor({ strategy, code });
  if (signIn.status === "needs_new_password") {
    $("in-code").hidden = true;
    $("in-reset").hidden = false;
    return say("in-state", "Right code. Choose a new password.");
  }
  await completed(signIn, "in-state");
});
onSubmit("in-reset", "in-state", async ({ password }) => {
  await signIn.resetPassword({ password, signOutOfOtherSessions: true });
  await completed(signIn, "in-state");
});

// "Send a new code": the resource refuses a resend within 30 s (`rate_limited`, said as a wait).
for (const button of document.querySelectorAll("[data-resend]")) {
  button.addEventListener("click", async () => {
    const up = button.dataset.resend === "up";
    const stateId = up ? "up-state" : "in-state";
    try {
      if (up) await signUp.prepareEmailAddressVerification({ strategy: "email_code" });
      else await signIn.prepareFirstFactor({ strategy: signIn.firstFactorVerification?.strategy ?? "email_code" });
      say(stateId, "A new code is on its way.");
    } catch (error) {
      say(stateId, describe(error));
    }
  });
}

// Further email addresses (signed in).
let pending = null;
function renderAddresses() {
  const { isSignedIn, user } = hp.useUser();
  $("addresses").hidden = !isSignedIn;
  $("sign-out").hidden = !isSignedIn;
  $("status").dataset.state = isSignedIn ? "signed-in" : "signed-out";
  say("status-text", isSignedIn ? `Signed in as ${user.primaryEmailAddress?.emailAddress}` : "Signed out");
  if (!isSignedIn) return;
  const list = $("addr-list");
  list.replaceChildren();
  const resource = withUserResources(hp, user);
  for (const address of resource.emailAddresses) {
    const li = document.createElement("li");
    const who = document.createElement("span");
    who.className = "who";
    const primary = address.id === user.primaryEmailAddressId ? " (primary)" : "";
    who.textContent = `${address.emailAddress}${primary} — ${address.verification?.status ?? "not verified"}`;
    li.append(who);
    if (!primary) {
      const remove = document.createElement("button");
      remove.className = "ghost";
      remove.textContent = "Remove";
      remove.addEventListener("click", () => address.destroy().catch((e) => say("addr-state", describe(e))));
      li.append(remove);
    }
    list.append(li);
  }
}
onSubmit("addr-add", "addr-state", async ({ email }) => {
  pending = await createEmailAddress(hp, { email });
  await pending.prepareVerification({ strategy: "email_code" });
  $("addr-code").hidden = false;
  say("addr-state", `A code is on its way to ${email}.`);
  showMailbox(email);
});
onSubmit("addr-code", "addr-state", async ({ code }) => {
  await pending.attemptVerification({ code });
  $("addr-code").hidden = true;
  say("addr-state", `${pending.emailAddress} is yours now.`);
});
$("sign-out").addEventListener("click", () => hp.signOut());
hp.addListener(renderAddresses);
renderAddresses();

// The development mailbox, through the demo's backend.
async function loadMailbox(to) {
  const list = $("mail-list");
  const response = await fetch(`/demo/api/mailbox?to=${encodeURIComponent(to)}`);
  if (response.status === 404) {
    say("mail-note", "This server sends its emails through a mail server: look in the inbox.");
    return;
  }
  const page = await response.json();
  say("mail-note", page.data.length ? "" : `Nothing sent to ${to} yet.`);
  list.replaceChildren(
    ...page.data.map((email) => {
      const li = document.createElement("li");
      const who = document.createElement("span");
      who.className = "who";
      who.textContent = `${new Date(email.created_at).toLocaleTimeString()} · ${email.subject}`;
      li.append(who);
      if (email.data?.magic_link) {
        const a = document.createElement("a");
        a.href = email.data.magic_link;
        a.target = "_blank";
        a.rel = "noreferrer";
        a.textContent = "Open the link";
        li.append(a);
      }
      return li;
    }),
  );
}
onSubmit("mail-form", "mail-note", ({ to }) => loadMailbox(to));
// While a code or link is awaited, the mailbox follows.
setInterval(() => {
  const to = $("mail-form").elements.to.value;
  if (to && !document.hidden) loadMailbox(to).catch(() => {});
}, 3000);

// What the instance offers, and what an email link's page said when it sent the browser here.
getEnvironment(hp).then(
  (env) => {
    say("env-verify", env.signUp.requiresVerifiedEmail ? "it does" : "it does not");
    say("env-factors", env.signIn.firstFactors.join(", "));
  },
  (error) => say("env-factors", describe(error)),
);
if (new URLSearchParams(location.search).has("hallpass_status")) {
  handleEmailLinkVerification().then(
    () => say("in-state", "The link worked: the tab that asked for it is signed in (this one too, when it is the same browser)."),
    (error) => say("in-state", error.code === "expired" ? "That link expired: ask for a new one." : "That link was used already or is not valid."),
  );
}
