//! The Frontend API's origin allow-list: exact origins, `scheme://host:*` for any port, or `*`.

/// A parsed allow-list.
#[derive(Clone, Debug, Default)]
pub struct OriginList {
    any: bool,
    exact: Vec<String>,
    /// `scheme://host` prefixes that match with any port (or none).
    any_port: Vec<String>,
}

impl OriginList {
    pub fn new<S: AsRef<str>>(patterns: &[S]) -> Self {
        let mut list = OriginList::default();
        for p in patterns {
            let p = p.as_ref().trim().trim_end_matches('/').to_ascii_lowercase();
            if p.is_empty() {
                continue;
            }
            if p == "*" {
                list.any = true;
            } else if let Some(base) = p.strip_suffix(":*") {
                list.any_port.push(base.to_owned());
            } else {
                list.exact.push(p);
            }
        }
        list
    }

    /// True if a request from `origin` (the `Origin` header value) may call the Frontend API.
    pub fn allows(&self, origin: &str) -> bool {
        let origin = origin.to_ascii_lowercase();
        if self.any {
            return true;
        }
        if self.exact.contains(&origin) {
            return true;
        }
        self.any_port.iter().any(|base| match origin.strip_prefix(base.as_str()) {
            Some("") => true,
            Some(rest) => rest.strip_prefix(':').is_some_and(|port| {
                !port.is_empty() && port.len() <= 5 && port.bytes().all(|b| b.is_ascii_digit())
            }),
            None => false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_wildcards_exact_matches_and_lookalikes() {
        let l = OriginList::new(&["http://localhost:*", "http://127.0.0.1:*", "https://app.example.com"]);
        assert!(l.allows("http://localhost:3000"));
        assert!(l.allows("http://localhost"));
        assert!(l.allows("http://127.0.0.1:45123"));
        assert!(l.allows("https://app.example.com"));
        assert!(l.allows("HTTPS://APP.EXAMPLE.COM"));
        assert!(!l.allows("http://localhost.evil.com"));
        assert!(!l.allows("http://localhost:3000.evil.com"));
        assert!(!l.allows("http://localhost:"));
        assert!(!l.allows("https://localhost:3000"));
        assert!(!l.allows("https://app.example.com:8443"));
        assert!(!l.allows("null"));
        assert!(OriginList::new(&["*"]).allows("https://anything.test"));
        assert!(!OriginList::new::<&str>(&[]).allows("http://localhost:1"));
    }
}
