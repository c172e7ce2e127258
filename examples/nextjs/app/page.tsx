import Link from "next/link";

export default function Home() {
  return (
    <>
      <h1>Hallpass + Next.js</h1>
      <p>
        A public page. Sign in to see your <Link href="/dashboard">dashboard</Link>.
      </p>
    </>
  );
}
