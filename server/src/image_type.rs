//! The image types a profile image may have, told by their first bytes ("magic numbers") as well as
//! by the `Content-Type` the client sent: the two must agree, so what is stored and served as
//! `image/png` is a PNG by its signature, never an HTML or SVG document a browser could be talked into
//! rendering. (Served with `nosniff` and a sandboxing CSP besides: see `crate::routes::images`.)

use hallpass_protocol::Image;

/// The accepted type a `Content-Type` header names (`image/png; charset=x` → `image/png`), matched
/// without regard to case; `None` for any other.
pub fn declared(content_type: &str) -> Option<&'static str> {
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    Image::TYPES.iter().copied().find(|t| t.eq_ignore_ascii_case(essence))
}

/// The accepted type whose signature `bytes` start with; `None` for anything else.
pub fn sniffed(bytes: &[u8]) -> Option<&'static str> {
    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n";
    if bytes.starts_with(PNG) {
        Some("image/png")
    } else if bytes.starts_with(b"\xff\xd8\xff") {
        Some("image/jpeg")
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if bytes.len() >= 12 && bytes.starts_with(b"RIFF") && bytes.get(8..12) == Some(b"WEBP".as_slice())
    {
        Some("image/webp")
    } else {
        None
    }
}

/// The file-name extension of an accepted type (the `Image`'s `name`).
pub fn extension(content_type: &str) -> &'static str {
    match content_type {
        "image/png" => "png",
        "image/jpeg" => "jpg",
        "image/gif" => "gif",
        "image/webp" => "webp",
        _ => "bin",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_types_are_the_four_whatever_the_case_and_parameters() {
        assert_eq!(declared("image/png"), Some("image/png"));
        assert_eq!(declared(" Image/JPEG ; q=1"), Some("image/jpeg"));
        assert_eq!(declared("image/webp"), Some("image/webp"));
        for other in ["image/svg+xml", "text/html", "", "image/png2", "image/", "application/octet-stream"] {
            assert_eq!(declared(other), None, "{other}");
        }
    }

    #[test]
    fn signatures_tell_the_four_apart_and_nothing_else_passes() {
        assert_eq!(sniffed(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), Some("image/png"));
        assert_eq!(sniffed(b"\xff\xd8\xff\xe0\0\x10JFIF"), Some("image/jpeg"));
        assert_eq!(sniffed(b"GIF89a\x01\0\x01\0"), Some("image/gif"));
        assert_eq!(sniffed(b"GIF87a"), Some("image/gif"));
        assert_eq!(sniffed(b"RIFF\x24\0\0\0WEBPVP8 "), Some("image/webp"));
        for bad in [
            &b""[..],
            b"\x89PNG",
            b"<svg xmlns='http://www.w3.org/2000/svg'/>",
            b"<html><script>alert(1)</script>",
            b"RIFF\x24\0\0\0WAVEfmt ",
            b"RIFF",
            b"GIF90a",
            b"\xff\xd8",
        ] {
            assert_eq!(sniffed(bad), None, "{bad:?}");
        }
        for t in Image::TYPES {
            assert_ne!(extension(t), "bin");
        }
    }
}
