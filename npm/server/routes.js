// `createRouteMatcher`: Clerk's route patterns, as the middleware handlers of hallpass/nextjs (and
// hallpass-backend's `RouteMatcher`, with the same syntax) use them — `/pricing` (that path
// exactly), `/sign-in(.*)` (`(.*)` matches anything, `/` included), `/users/:id` (`:name` matches
// one non-empty segment); also a `RegExp`, or a function of the request.

/** Longest path matched; anything longer is never public (fail closed: it is then protected). */
const MAX_PATH = 8 * 1024;

/** A pattern as parts: a literal string, `PARAM` (`:name`) or `ANY` (`(.*)`). */
const PARAM = Symbol("param");
const ANY = Symbol("any");

function parse(pattern) {
  const parts = [];
  let literal = "";
  let rest = pattern;
  while (rest.length > 0) {
    if (rest.startsWith("(.*)")) {
      if (literal) parts.push(literal);
      literal = "";
      parts.push(ANY);
      rest = rest.slice(4);
    } else if (rest[0] === ":" && literal.endsWith("/")) {
      parts.push(literal);
      literal = "";
      parts.push(PARAM);
      rest = rest.slice(/^:[A-Za-z0-9_]*/.exec(rest)[0].length);
    } else {
      literal += rest[0];
      rest = rest.slice(1);
    }
  }
  if (literal) parts.push(literal);
  return parts;
}

/**
 * Dynamic programming over (part, position), as hallpass-backend's matcher: time linear in the path
 * per part whatever the path (a RegExp with several `.*` backtracks polynomially on hostile paths).
 */
function matches(parts, path) {
  const n = path.length;
  let reach = new Uint8Array(n + 1);
  reach[0] = 1;
  for (const part of parts) {
    const next = new Uint8Array(n + 1);
    if (part === ANY) {
      const first = reach.indexOf(1);
      if (first !== -1) next.fill(1, first);
    } else if (part === PARAM) {
      for (let i = 0; i < n; i++) {
        if (!reach[i]) continue;
        for (let j = i; j < n && path[j] !== "/"; ) {
          j++;
          if (next[j]) break;
          next[j] = 1;
        }
      }
    } else {
      for (let i = 0; i + part.length <= n; i++) if (reach[i] && path.startsWith(part, i)) next[i + part.length] = 1;
    }
    reach = next;
  }
  return reach[n] === 1;
}

/** The path of a `Request` (or `NextRequest`, or a URL string). */
function pathOf(request) {
  if (typeof request === "string") return new URL(request, "http://x").pathname;
  return request.nextUrl?.pathname ?? new URL(request.url).pathname;
}

/**
 * A function of a request that is true when its path matches one of `routes` (a pattern, a RegExp,
 * an array of them, or a function of the request).
 */
export function createRouteMatcher(routes) {
  if (typeof routes === "function") return (request) => Boolean(routes(request));
  const list = (Array.isArray(routes) ? routes : [routes]).map((r) => (r instanceof RegExp ? r : parse(String(r))));
  return (request) => {
    const path = pathOf(request);
    return path.length <= MAX_PATH && list.some((r) => (r instanceof RegExp ? r.test(path) : matches(r, path)));
  };
}
