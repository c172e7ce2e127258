import { listUsers } from "@/lib/db";

// The app's own users table, filled by the webhook route (app/api/webhooks/route.ts).
export const dynamic = "force-dynamic";

export default async function Users() {
  const users = await listUsers();
  return (
    <>
      <h1>Users</h1>
      <table id="users">
        <thead>
          <tr>
            <th>Name</th>
            <th>Email</th>
            <th>Since</th>
          </tr>
        </thead>
        <tbody>
          {users.map((user) => (
            <tr key={user.id} data-user-id={user.id}>
              <td>{[user.first_name, user.last_name].filter(Boolean).join(" ")}</td>
              <td>{user.email}</td>
              <td>{new Date(user.created_at).toISOString().slice(0, 10)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
