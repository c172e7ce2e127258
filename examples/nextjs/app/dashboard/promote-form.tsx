"use client";

import { useActionState } from "react";
import { promoteToAdmin } from "../actions";

export function PromoteForm({ userId }: { userId?: string }) {
  const [state, action, pending] = useActionState(promoteToAdmin, { message: "" });
  return (
    <form action={action}>
      <input name="userId" placeholder="user_…" defaultValue={userId} required />
      <button type="submit" disabled={pending}>
        Promote to admin
      </button>
      {state.message && <p role="status">{state.message}</p>}
    </form>
  );
}
