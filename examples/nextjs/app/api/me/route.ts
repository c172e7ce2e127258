import { auth } from "hallpass/nextjs/server";

// A protected Route Handler: signed out, auth.protect() answers 404 (as Clerk's does for non-page
// requests); the middleware would have refused it first anyway.
export async function GET() {
  const { userId, sessionId } = await auth.protect();
  return Response.json({ userId, sessionId });
}
