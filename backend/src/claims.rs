//! Reading a verified token's organization claims: the `o` claim decoded by the protocol crate (the
//! server writes it from the same definition), and `fea` split by scope as Clerk's
//! `splitByScope` does.

use hallpass_protocol::{OrgClaims, SessionClaims};

/// The active organization of a session token, if it has one: `o` and `fea` decoded as Clerk's
/// `jwtPayloadParser` does (the role with its `org:` prefix, the permissions from `per`/`fpm`).
pub(crate) fn organization(claims: &SessionClaims) -> Option<OrgClaims> {
    claims.organization()
}

/// `fea` (`o:a,u:b,ou:c`) as the organization's and the user's features (`ou`/`uo` are both);
/// `None` when an element has no scope.
pub(crate) fn split_by_scope(fea: &str) -> Option<(Vec<&str>, Vec<&str>)> {
    let (mut org, mut user) = (Vec::new(), Vec::new());
    if fea.is_empty() {
        return Some((org, user));
    }
    for part in fea.split(',') {
        let (scope, value) = part.trim().split_once(':')?;
        match scope {
            "o" => org.push(value),
            "u" => user.push(value),
            "ou" | "uo" => {
                org.push(value);
                user.push(value);
            }
            _ => {}
        }
    }
    Some((org, user))
}

#[cfg(test)]
mod tests {
    #[test]
    fn splits_fea_as_clerk_does() {
        let (org, user) = super::split_by_scope("o:a, u:b ,ou:c,x:d").unwrap();
        assert_eq!((org, user), (vec!["a", "c"], vec!["b", "c"]));
        assert_eq!(super::split_by_scope("o:a,b"), None);
        assert_eq!(super::split_by_scope(""), Some((vec![], vec![])));
    }
}
