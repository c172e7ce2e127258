//! [`RouteMatcher`]: Clerk's `createRouteMatcher` patterns for the public routes of
//! [`crate::axum::HallpassLayer`] — `/pricing` (that path exactly), `/sign-in(.*)` (`(.*)` matches
//! anything, `/` included), `/users/:id` (`:name` matches one non-empty path segment). The same
//! patterns as `hallpass/nextjs` and `hallpass/express` take.
//!
//! Matching is linear in the path per pattern part (no backtracking blow-up whatever the path), and a
//! path longer than 8 KiB matches nothing (fail closed: it is then a protected route).

/// Longest path matched; anything longer is never public.
const MAX_PATH: usize = 8 * 1024;

#[derive(Clone, Debug, PartialEq, Eq)]
enum Part {
    Literal(String),
    /// `:name`: one segment, not empty, no `/`.
    Param,
    /// `(.*)`: anything, possibly empty.
    Any,
}

/// A set of route patterns; a path matches when any pattern does.
#[derive(Clone, Debug, Default)]
pub struct RouteMatcher {
    patterns: Vec<Vec<Part>>,
}

impl RouteMatcher {
    /// Patterns as Clerk's `createRouteMatcher([...])` takes them.
    pub fn new<I: IntoIterator<Item = S>, S: AsRef<str>>(patterns: I) -> RouteMatcher {
        RouteMatcher { patterns: patterns.into_iter().map(|p| parse(p.as_ref())).collect() }
    }

    /// Whether `path` (a URL path, without the query) matches one of the patterns.
    pub fn matches(&self, path: &str) -> bool {
        path.len() <= MAX_PATH && self.patterns.iter().any(|parts| matches(parts, path.as_bytes()))
    }
}

fn parse(pattern: &str) -> Vec<Part> {
    let mut parts = Vec::new();
    let mut literal = String::new();
    let mut rest = pattern;
    while let Some(c) = rest.chars().next() {
        if let Some(after) = rest.strip_prefix("(.*)") {
            flush(&mut literal, &mut parts);
            parts.push(Part::Any);
            rest = after;
        } else if c == ':' && literal.ends_with('/') {
            flush(&mut literal, &mut parts);
            parts.push(Part::Param);
            let name_len = rest[1..]
                .find(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_'))
                .map_or(rest.len() - 1, |n| n);
            rest = &rest[1 + name_len..];
        } else {
            literal.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    flush(&mut literal, &mut parts);
    parts
}

fn flush(literal: &mut String, parts: &mut Vec<Part>) {
    if !literal.is_empty() {
        parts.push(Part::Literal(std::mem::take(literal)));
    }
}

/// Dynamic programming over (part, position): `reach[i]` says the parts so far can end at byte `i`.
fn matches(parts: &[Part], path: &[u8]) -> bool {
    let n = path.len();
    let mut reach = vec![false; n + 1];
    reach[0] = true;
    for part in parts {
        let mut next = vec![false; n + 1];
        match part {
            Part::Literal(lit) => {
                let lit = lit.as_bytes();
                for i in (0..=n).filter(|&i| reach[i]) {
                    if path[i..].starts_with(lit) {
                        next[i + lit.len()] = true;
                    }
                }
            }
            Part::Param => {
                for i in (0..n).filter(|&i| reach[i]) {
                    let mut j = i;
                    while j < n && path[j] != b'/' {
                        j += 1;
                        if next[j] {
                            break; // reached from an earlier start: the rest is marked already
                        }
                        next[j] = true;
                    }
                }
            }
            Part::Any => {
                if let Some(first) = reach.iter().position(|&r| r) {
                    next[first..].iter_mut().for_each(|r| *r = true);
                }
            }
        }
        reach = next;
    }
    reach[n]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clerk_style_patterns() {
        let public = RouteMatcher::new([
            "/",
            "/sign-in(.*)",
            "/sign-up(.*)",
            "/api/webhooks(.*)",
            "/blog(.*)",
            "/pricing",
        ]);
        for path in [
            "/",
            "/sign-in",
            "/sign-in/factor-one",
            "/sign-up",
            "/api/webhooks/user",
            "/blog",
            "/blog/a/b",
            "/pricing",
        ] {
            assert!(public.matches(path), "{path}");
        }
        for path in ["/dashboard", "/pricing/x", "/api/posts", "/sign", "", "//"] {
            assert!(!public.matches(path), "{path}");
        }
        let params = RouteMatcher::new(["/users/:id", "/orgs/:org/members(.*)"]);
        assert!(params.matches("/users/42"));
        assert!(!params.matches("/users/"));
        assert!(!params.matches("/users/42/posts"));
        assert!(params.matches("/orgs/acme/members"));
        assert!(params.matches("/orgs/acme/members/7"));
        assert!(!params.matches("/orgs//members"));
    }

    #[test]
    fn hostile_paths_are_cheap_and_long_ones_never_public() {
        let many = RouteMatcher::new(["(.*)a(.*)a(.*)a(.*)a(.*)b"]);
        let path = "a".repeat(MAX_PATH);
        let started = std::time::Instant::now();
        assert!(!many.matches(&path));
        assert!(started.elapsed() < std::time::Duration::from_secs(5), "no exponential backtracking");
        assert!(!RouteMatcher::new(["(.*)"]).matches(&"a".repeat(MAX_PATH + 1)));
    }
}
