import type { Metadata } from "next";
import Link from "next/link";
import { HallpassProvider, SignedIn, SignedOut, UserButton } from "hallpass/nextjs";
import "./globals.css";

export const metadata: Metadata = {
  title: "Hallpass + Next.js",
  description: "Clerk's Next.js guide, running on Hallpass",
};

export default function RootLayout({ children }: Readonly<{ children: React.ReactNode }>) {
  return (
    <HallpassProvider>
      <html lang="en">
        <body>
          <header>
            <Link href="/">Home</Link>
            <Link href="/blog">Blog</Link>
            <Link href="/pricing">Pricing</Link>
            <span className="spacer" />
            <SignedOut>
              <Link href="/sign-in">Sign in</Link>
              <Link href="/sign-up">Sign up</Link>
            </SignedOut>
            <SignedIn>
              <Link href="/dashboard">Dashboard</Link>
              <Link href="/dashboard/users">Users</Link>
              <UserButton afterSignOutUrl="/" />
            </SignedIn>
          </header>
          <main>{children}</main>
        </body>
      </html>
    </HallpassProvider>
  );
}
