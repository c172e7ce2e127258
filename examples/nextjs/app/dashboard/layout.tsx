import { redirect } from "next/navigation";
import { currentUser } from "hallpass/nextjs/server";

export default async function DashboardLayout({ children }: { children: React.ReactNode }) {
  const user = await currentUser();
  if (!user) redirect("/sign-in");

  return (
    <section>
      <p id="welcome">Welcome, {user.firstName ?? user.primaryEmailAddress?.emailAddress}!</p>
      {children}
    </section>
  );
}
