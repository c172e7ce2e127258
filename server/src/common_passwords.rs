//! The common-password list compiled into the server (`data/common-passwords.txt`, ~18,000
//! passwords of 8+ characters from a corpus of leaked ones; provenance in `data/README.md`).
//!
//! The file is sorted by bytes, one password a line, so a lookup is a binary search over the text
//! itself: no index is built at start and nothing is allocated per lookup beyond the lower-cased
//! candidate.

const LIST: &str = include_str!("../data/common-passwords.txt");

/// How many passwords the list holds.
pub fn len() -> usize {
    LIST.lines().count()
}

/// True if `password`, lower-cased, is on the list.
pub fn contains(password: &str) -> bool {
    let wanted = password.to_lowercase();
    let bytes = LIST.as_bytes();
    // Invariant: every line starting before `lo` is < wanted; every line starting at or after `hi`
    // is > wanted. Positions are always line starts.
    let (mut lo, mut hi) = (0usize, bytes.len());
    while lo < hi {
        let mid = line_start(bytes, lo + (hi - lo) / 2).max(lo);
        let end = bytes[mid..].iter().position(|&b| b == b'\n').map_or(bytes.len(), |i| mid + i);
        match LIST[mid..end].cmp(wanted.as_str()) {
            std::cmp::Ordering::Equal => return true,
            std::cmp::Ordering::Less => lo = end + 1,
            std::cmp::Ordering::Greater => hi = mid,
        }
    }
    false
}

/// The start of the line that holds byte `at`.
fn line_start(bytes: &[u8], at: usize) -> usize {
    bytes[..at].iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_is_sorted_unique_and_every_entry_is_found() {
        let lines: Vec<&str> = LIST.lines().collect();
        assert!(lines.len() > 15_000, "{}", lines.len());
        assert!(lines.windows(2).all(|w| w[0] < w[1]), "sorted by bytes, no duplicates");
        assert!(lines.iter().all(|l| l.chars().count() >= 8 && *l == l.to_lowercase()));
        for l in &lines {
            assert!(contains(l), "{l}");
        }
        assert_eq!(len(), lines.len());
    }

    #[test]
    fn common_passwords_are_found_in_any_case_and_others_are_not() {
        for p in ["password", "12345678", "PASSWORD", "Password1", "iloveyou", "qwertyuiop"] {
            assert!(contains(p), "{p}");
        }
        for p in ["correct horse battery", "", "a", "zzzzzzzzzzzzzzzzzzzzzzzzzz~", "passwor", "password!x9"] {
            assert!(!contains(p), "{p}");
        }
    }
}
