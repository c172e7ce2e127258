// Configuration from `HALLPASS_*` environment variables, for the framework entries (hallpass/express,
// hallpass/nextjs), so that an app configures Hallpass with no code, as Clerk's `CLERK_*` variables.
// Options given in code win over the environment.

/** The options the environment gives (`undefined` where a variable is not set). */
export function envOptions(env = globalThis.process?.env ?? {}) {
  const get = (...names) => {
    for (const name of names) {
      const value = env[name];
      if (typeof value === "string" && value.trim() !== "") return value.trim();
    }
    return undefined;
  };
  const list = (name) => get(name)?.split(",").map((s) => s.trim()).filter(Boolean);
  return {
    publishableKey: get("HALLPASS_PUBLISHABLE_KEY", "NEXT_PUBLIC_HALLPASS_PUBLISHABLE_KEY"),
    frontendApi: get("HALLPASS_FRONTEND_API", "NEXT_PUBLIC_HALLPASS_FRONTEND_API"),
    secretKey: get("HALLPASS_SECRET_KEY"),
    apiUrl: get("HALLPASS_API_URL"),
    jwtKey: get("HALLPASS_JWT_KEY"),
    authorizedParties: list("HALLPASS_AUTHORIZED_PARTIES"),
    signInUrl: get("HALLPASS_SIGN_IN_URL", "NEXT_PUBLIC_HALLPASS_SIGN_IN_URL"),
    signUpUrl: get("HALLPASS_SIGN_UP_URL", "NEXT_PUBLIC_HALLPASS_SIGN_UP_URL"),
    storage: get("HALLPASS_STORAGE", "NEXT_PUBLIC_HALLPASS_STORAGE"),
  };
}

/** `options` over the environment's: a value given in code (not `undefined`) wins. */
export function withEnv(options = {}, env) {
  const merged = envOptions(env);
  for (const [key, value] of Object.entries(options)) if (value !== undefined) merged[key] = value;
  return merged;
}
