"use client";

// A small sign-in / sign-up form on the SDK, standing in for Clerk's <SignIn /> and <SignUp />
// until Hallpass's drop-in components exist.
import { useState } from "react";
import { useRouter, useSearchParams } from "next/navigation";
import { isHallpassError } from "hallpass";
import { useHallpass } from "hallpass/nextjs";

/** Only paths of this site are followed after signing in. */
function safeRedirect(value: string | null): string {
  return value !== null && value.startsWith("/") && !value.startsWith("//") ? value : "/dashboard";
}

export function AuthForm({ mode }: { mode: "sign-in" | "sign-up" }) {
  const hp = useHallpass();
  const router = useRouter();
  const params = useSearchParams();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(form: FormData) {
    if (!hp) return;
    setBusy(true);
    setError(null);
    const email = String(form.get("email") ?? "");
    const password = String(form.get("password") ?? "");
    try {
      if (mode === "sign-up") {
        await hp.signUp({ emailAddress: email, password, firstName: String(form.get("firstName") ?? "") || undefined });
      } else {
        await hp.signIn({ identifier: email, password });
      }
      router.push(safeRedirect(params.get("redirect_url")));
    } catch (e) {
      setError(isHallpassError(e) ? e.message : "Something went wrong.");
      setBusy(false);
    }
  }

  return (
    <form action={submit}>
      {mode === "sign-up" && <input name="firstName" placeholder="First name" autoComplete="given-name" />}
      <input name="email" type="email" placeholder="Email address" autoComplete="email" required />
      <input name="password" type="password" placeholder="Password" autoComplete={mode === "sign-up" ? "new-password" : "current-password"} required />
      <button type="submit" disabled={!hp || busy}>
        {mode === "sign-up" ? "Sign up" : "Sign in"}
      </button>
      {error && <p className="error" role="alert">{error}</p>}
    </form>
  );
}
