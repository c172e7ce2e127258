import { SignUp } from "hallpass/nextjs";

export default function SignUpPage() {
  return <SignUp fallbackRedirectUrl="/dashboard" signInUrl="/sign-in" />;
}
