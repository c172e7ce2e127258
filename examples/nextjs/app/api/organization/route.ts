import { auth } from "hallpass/nextjs/server";

// The active organization's admins only: anyone else gets 404, as Clerk's auth.protect() answers.
export async function GET() {
  const { orgId, orgRole, orgPermissions, has } = await auth.protect({ role: "org:admin" });
  return Response.json({ orgId, orgRole, canManageMembers: has({ permission: "org:sys_memberships:manage" }), orgPermissions });
}
