import { Suspense } from "react";
import { AuthForm } from "../../components/auth-form";

export default function SignUpPage() {
  return (
    <>
      <h1>Sign up</h1>
      <Suspense>
        <AuthForm mode="sign-up" />
      </Suspense>
    </>
  );
}
