// Keeps the app's own users table in step with Hallpass: the route of Clerk's guide, verifying each
// delivery with the `svix` package (Hallpass signs exactly as Svix does) before touching the database.
// Public in proxy.ts (`/api/webhooks(.*)`): the signature is its authentication.
import { Webhook } from "svix";
import type { WebhookEvent } from "hallpass/nextjs/server";
import { deleteUser, upsertUser } from "@/lib/db";

export async function POST(req: Request) {
  const secret = process.env.HALLPASS_WEBHOOK_SIGNING_SECRET;
  if (!secret) {
    return new Response("HALLPASS_WEBHOOK_SIGNING_SECRET is not set", { status: 500 });
  }

  const svixId = req.headers.get("svix-id");
  const svixTimestamp = req.headers.get("svix-timestamp");
  const svixSignature = req.headers.get("svix-signature");
  if (!svixId || !svixTimestamp || !svixSignature) {
    return new Response("Missing svix headers", { status: 400 });
  }

  // The raw body, exactly as signed.
  const body = await req.text();
  let evt: WebhookEvent;
  try {
    evt = new Webhook(secret).verify(body, {
      "svix-id": svixId,
      "svix-timestamp": svixTimestamp,
      "svix-signature": svixSignature,
    }) as WebhookEvent;
  } catch {
    return new Response("Invalid signature", { status: 400 });
  }

  switch (evt.type) {
    case "user.created":
    case "user.updated": {
      const { id, email_addresses, primary_email_address_id, first_name, last_name, created_at, updated_at } = evt.data;
      const email = email_addresses.find((e) => e.id === primary_email_address_id)?.email_address ?? null;
      await upsertUser({ id, email, first_name, last_name, created_at, updated_at });
      break;
    }
    case "user.deleted":
      await deleteUser(evt.data.id);
      break;
    default:
      // Other events are not this app's concern; a 2xx tells Hallpass not to retry them.
      break;
  }
  return new Response("", { status: 200 });
}
