"use client";

import { useAuth } from "hallpass/nextjs";

export function SignOutButton() {
  const { signOut } = useAuth();
  return <button onClick={() => signOut({ redirectUrl: "/" })}>Sign out</button>;
}
