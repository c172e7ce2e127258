import { Suspense } from "react";
import { AuthForm } from "../../components/auth-form";

export default function SignInPage() {
  return (
    <>
      <h1>Sign in</h1>
      <Suspense>
        <AuthForm mode="sign-in" />
      </Suspense>
    </>
  );
}
