import { SignIn } from "hallpass/nextjs";

export default function SignInPage() {
  return <SignIn fallbackRedirectUrl="/dashboard" signUpUrl="/sign-up" />;
}
