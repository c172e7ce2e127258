//! Publishable keys: `pk_test_…` / `pk_live_…` followed by the base64 of the Frontend API URL and a
//! `$`, as Clerk encodes them. The SDK accepts a publishable key instead of a URL.

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Encodes a publishable key for `frontend_api` (`live` picks `pk_live_`, else `pk_test_`).
pub fn encode_publishable_key(frontend_api: &str, live: bool) -> String {
    let prefix = if live { "pk_live_" } else { "pk_test_" };
    let mut input = frontend_api.as_bytes().to_vec();
    input.push(b'$');
    let mut out = String::with_capacity(prefix.len() + input.len().div_ceil(3) * 4);
    out.push_str(prefix);
    for chunk in input.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Decodes the Frontend API URL from a publishable key; `None` for anything that is not one.
///
/// Never inlined: the browser compiles a wasm function on its first call, so a caller that inlined
/// this would pay for compiling the decoder on every `load()`, given a publishable key or not.
#[inline(never)]
pub fn decode_publishable_key(key: &str) -> Option<String> {
    let body = key.strip_prefix("pk_test_").or_else(|| key.strip_prefix("pk_live_"))?;
    // The padding, compared as bytes (`trim_end_matches` decodes UTF-8 backwards: bytes in the wasm).
    let mut body = body;
    while let Some(shorter) = body.strip_suffix('=') {
        body = shorter;
    }
    if body.is_empty() || body.len() > 4096 {
        return None;
    }
    let mut bytes = Vec::with_capacity(body.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for c in body.bytes() {
        let v = ALPHABET.iter().position(|&a| a == c)? as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            bytes.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    // A URL is ASCII (international hosts are punycode), and checking that is far smaller in wasm
    // than UTF-8 validation.
    if !bytes.is_ascii() {
        return None;
    }
    let url: String = bytes.iter().map(|&b| char::from(b)).collect();
    let url = url.strip_suffix('$')?;
    if url.starts_with("http://") || url.starts_with("https://") { Some(url.to_owned()) } else { None }
}

/// True for a secret key (`sk_test_…` / `sk_live_…`).
pub fn is_secret_key(key: &str) -> bool {
    key.starts_with("sk_test_") || key.starts_with("sk_live_")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_urls_of_every_length() {
        for url in
            ["http://a", "http://ab", "http://abc", "http://127.0.0.1:8787", "https://auth.example.com"]
        {
            let key = encode_publishable_key(url, false);
            assert!(key.starts_with("pk_test_"));
            assert_eq!(decode_publishable_key(&key).as_deref(), Some(url), "{key}");
        }
        assert!(encode_publishable_key("https://x.io", true).starts_with("pk_live_"));
    }

    #[test]
    fn matches_clerk_encoding() {
        // base64("http://localhost:8787$")
        assert_eq!(
            encode_publishable_key("http://localhost:8787", false),
            "pk_test_aHR0cDovL2xvY2FsaG9zdDo4Nzg3JA=="
        );
    }

    #[test]
    fn rejects_garbage() {
        for key in
            ["", "pk_test_", "sk_test_abc", "pk_test_!!!!", "pk_test_Zm9v", "pk_live_aHR0cDovL3g=", "hello"]
        {
            assert_eq!(decode_publishable_key(key), None, "{key}");
        }
        assert!(is_secret_key("sk_live_x") && !is_secret_key("pk_live_x"));
    }

    #[test]
    fn rejects_urls_that_are_not_ascii() {
        let key = encode_publishable_key("https://bücher.example", false);
        assert_eq!(decode_publishable_key(&key), None);
        let key = encode_publishable_key("https://xn--bcher-kva.example", true);
        assert_eq!(decode_publishable_key(&key).as_deref(), Some("https://xn--bcher-kva.example"));
    }
}
