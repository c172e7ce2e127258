//! A small, strict, bounded JSON reader for the few documents the SDK parses itself (JWT payloads).
//!
//! Why not serde_json: it costs about 20 KiB gzip in the wasm, and everything else the SDK reads is
//! parsed by the browser. Why strict: the input is untrusted, so anything that is not plain RFC 8259
//! JSON is an error rather than a guess — no trailing commas, no leading zeros, no control characters
//! or lone surrogates in strings, no duplicate keys (two `exp` claims must not mean different things
//! to different readers), nothing after the value. Why bounded: input length and nesting depth are
//! capped, so garbage can cost neither the stack nor much time. It never panics.
//!
//! Numbers are accepted in full JSON syntax (fractions, exponents) but only integer values that fit an
//! `i64` are kept: `1.5e3` reads as `Number(Some(1500))`, `0.5` and `1e400` as `Number(None)`.

/// Longest input accepted, in bytes.
pub const MAX_INPUT: usize = 16 * 1024;
/// Deepest nesting of arrays and objects accepted.
pub const MAX_DEPTH: usize = 32;

/// A parsed JSON value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Null,
    Bool(bool),
    /// The number, when it is an integer that fits an `i64`.
    Number(Option<i64>),
    String(String),
    Array(Vec<Value>),
    /// Members in document order; keys are unique.
    Object(Vec<(String, Value)>),
}

impl Value {
    /// The member `key` of an object.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Object(members) => members.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The value of an integer number.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Number(n) => *n,
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&[Value]> {
        match self {
            Value::Array(items) => Some(items),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
}

/// Why a document was rejected. The message is static and never quotes the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JsonError(pub &'static str);

/// Parses one JSON document.
///
/// ```
/// use hallpass::core::json::{parse, Value};
///
/// let v = parse(r#"{"exp": 1700000000, "sub": "user_1"}"#).unwrap();
/// assert_eq!(v.get("exp").and_then(Value::as_i64), Some(1_700_000_000));
/// assert!(parse("{\"a\":1,}").is_err());
/// ```
pub fn parse(input: &str) -> Result<Value, JsonError> {
    if input.len() > MAX_INPUT {
        return Err(JsonError("JSON document too long"));
    }
    let mut p = Parser { s: input, b: input.as_bytes(), i: 0 };
    let v = p.value(0)?;
    p.ws();
    if p.i != p.b.len() {
        return Err(JsonError("trailing characters after JSON value"));
    }
    Ok(v)
}

struct Parser<'a> {
    s: &'a str,
    b: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.i += 1;
        }
    }

    fn eat(&mut self, lit: &[u8]) -> bool {
        if self.b.get(self.i..self.i + lit.len()) == Some(lit) {
            self.i += lit.len();
            true
        } else {
            false
        }
    }

    fn value(&mut self, depth: usize) -> Result<Value, JsonError> {
        self.ws();
        match self.peek() {
            Some(b'{') => self.object(depth + 1),
            Some(b'[') => self.array(depth + 1),
            Some(b'"') => self.string().map(Value::String),
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ if self.eat(b"true") => Ok(Value::Bool(true)),
            _ if self.eat(b"false") => Ok(Value::Bool(false)),
            _ if self.eat(b"null") => Ok(Value::Null),
            None => Err(JsonError("unexpected end of JSON")),
            _ => Err(JsonError("unexpected character in JSON")),
        }
    }

    fn object(&mut self, depth: usize) -> Result<Value, JsonError> {
        if depth > MAX_DEPTH {
            return Err(JsonError("JSON nested too deeply"));
        }
        self.i += 1; // '{'
        let mut members: Vec<(String, Value)> = Vec::new();
        self.ws();
        if self.eat(b"}") {
            return Ok(Value::Object(members));
        }
        loop {
            self.ws();
            if self.peek() != Some(b'"') {
                return Err(JsonError("expected a string key in JSON object"));
            }
            let key = self.string()?;
            self.ws();
            if !self.eat(b":") {
                return Err(JsonError("expected ':' in JSON object"));
            }
            let v = self.value(depth)?;
            if members.iter().any(|(k, _)| *k == key) {
                return Err(JsonError("duplicate key in JSON object"));
            }
            members.push((key, v));
            self.ws();
            if self.eat(b",") {
                continue;
            }
            if self.eat(b"}") {
                return Ok(Value::Object(members));
            }
            return Err(JsonError("expected ',' or '}' in JSON object"));
        }
    }

    fn array(&mut self, depth: usize) -> Result<Value, JsonError> {
        if depth > MAX_DEPTH {
            return Err(JsonError("JSON nested too deeply"));
        }
        self.i += 1; // '['
        let mut items = Vec::new();
        self.ws();
        if self.eat(b"]") {
            return Ok(Value::Array(items));
        }
        loop {
            items.push(self.value(depth)?);
            self.ws();
            if self.eat(b",") {
                continue;
            }
            if self.eat(b"]") {
                return Ok(Value::Array(items));
            }
            return Err(JsonError("expected ',' or ']' in JSON array"));
        }
    }

    /// Reads a string starting at its opening quote.
    fn string(&mut self) -> Result<String, JsonError> {
        self.i += 1; // '"'
        let mut out = String::new();
        let mut start = self.i;
        loop {
            let Some(c) = self.peek() else {
                return Err(JsonError("unterminated JSON string"));
            };
            match c {
                b'"' | b'\\' => {
                    // Both are ASCII, so `start..i` lies on char boundaries; `get` keeps it panic-free.
                    out.push_str(self.s.get(start..self.i).ok_or(JsonError("invalid JSON string"))?);
                    self.i += 1;
                    if c == b'"' {
                        return Ok(out);
                    }
                    self.escape(&mut out)?;
                    start = self.i;
                }
                0x00..=0x1f => return Err(JsonError("control character in JSON string")),
                _ => self.i += 1,
            }
        }
    }

    /// Reads the escape after a backslash.
    fn escape(&mut self, out: &mut String) -> Result<(), JsonError> {
        let c = self.peek().ok_or(JsonError("unterminated JSON string"))?;
        self.i += 1;
        let ch = match c {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let hi = self.hex4()?;
                let code = match hi {
                    0xd800..=0xdbff => {
                        if !self.eat(b"\\u") {
                            return Err(JsonError("lone surrogate in JSON string"));
                        }
                        let lo = self.hex4()?;
                        if !(0xdc00..=0xdfff).contains(&lo) {
                            return Err(JsonError("lone surrogate in JSON string"));
                        }
                        0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00)
                    }
                    0xdc00..=0xdfff => return Err(JsonError("lone surrogate in JSON string")),
                    _ => hi,
                };
                char::from_u32(code).ok_or(JsonError("invalid escape in JSON string"))?
            }
            _ => return Err(JsonError("invalid escape in JSON string")),
        };
        out.push(ch);
        Ok(())
    }

    fn hex4(&mut self) -> Result<u32, JsonError> {
        let mut n = 0u32;
        for _ in 0..4 {
            let c = self.peek().ok_or(JsonError("unterminated JSON string"))?;
            let d = match c {
                b'0'..=b'9' => c - b'0',
                b'a'..=b'f' => c - b'a' + 10,
                b'A'..=b'F' => c - b'A' + 10,
                _ => return Err(JsonError("invalid \\u escape in JSON string")),
            };
            n = n * 16 + u32::from(d);
            self.i += 1;
        }
        Ok(n)
    }

    /// Reads a number. The digits are accumulated as a decimal mantissa and exponent in integers —
    /// no floats (they would pull float formatting and parsing into the wasm).
    fn number(&mut self) -> Result<Value, JsonError> {
        let negative = self.eat(b"-");
        // Magnitude as u64 (room for |i64::MIN|); `None` once it overflows. No 128-bit maths: it
        // pulls compiler-builtins helpers into the wasm.
        let mut mantissa: Option<u64> = Some(0);
        let mut scale: i64 = 0; // value = mantissa * 10^scale
        // Integer part: "0" or a non-zero digit followed by digits.
        match self.peek() {
            Some(b'0') => {
                self.i += 1;
                if let Some(b'0'..=b'9') = self.peek() {
                    return Err(JsonError("leading zero in JSON number"));
                }
            }
            Some(b'1'..=b'9') => {
                while let Some(d @ b'0'..=b'9') = self.peek() {
                    push(&mut mantissa, d - b'0');
                    self.i += 1;
                }
            }
            _ => return Err(JsonError("invalid JSON number")),
        }
        if self.eat(b".") {
            let mut any = false;
            // Trailing zeros of a fraction do not change the value: they are held back and only
            // pushed when a non-zero digit follows, so `1.000…0` stays an integer however long.
            let mut zeros: u32 = 0;
            while let Some(d @ b'0'..=b'9') = self.peek() {
                any = true;
                if d == b'0' {
                    zeros = zeros.saturating_add(1);
                } else {
                    for _ in 0..zeros.min(64) {
                        push(&mut mantissa, 0);
                    }
                    if zeros > 64 {
                        mantissa = None;
                    }
                    scale -= i64::from(zeros);
                    zeros = 0;
                    push(&mut mantissa, d - b'0');
                    scale -= 1;
                }
                self.i += 1;
            }
            if !any {
                return Err(JsonError("invalid JSON number"));
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.i += 1;
            let exp_negative = match self.peek() {
                Some(b'-') => {
                    self.i += 1;
                    true
                }
                Some(b'+') => {
                    self.i += 1;
                    false
                }
                _ => false,
            };
            let mut exp: i64 = 0;
            let mut any = false;
            while let Some(d @ b'0'..=b'9') = self.peek() {
                any = true;
                exp = exp.saturating_mul(10).saturating_add(i64::from(d - b'0'));
                self.i += 1;
            }
            if !any {
                return Err(JsonError("invalid JSON number"));
            }
            scale = scale.saturating_add(if exp_negative { -exp } else { exp });
        }
        Ok(Value::Number(integer_value(mantissa, scale, negative)))
    }
}

/// Appends a decimal digit to the mantissa; `None` once it has overflowed.
fn push(m: &mut Option<u64>, d: u8) {
    *m = m.and_then(|v| v.checked_mul(10)).and_then(|v| v.checked_add(u64::from(d)));
}

/// `±mantissa * 10^scale` when it is an integer that fits an `i64`.
fn integer_value(mantissa: Option<u64>, scale: i64, negative: bool) -> Option<i64> {
    let mut m = mantissa?;
    if m == 0 {
        return Some(0);
    }
    let mut scale = scale;
    while scale < 0 {
        if m % 10 != 0 {
            return None;
        }
        m /= 10;
        scale += 1;
    }
    while scale > 0 {
        m = m.checked_mul(10)?;
        scale -= 1;
    }
    if negative { 0i64.checked_sub_unsigned(m) } else { i64::try_from(m).ok() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Option<i64> {
        parse(s).unwrap().as_i64()
    }

    #[test]
    fn parses_the_usual_document() {
        let v = parse(r#" {"a": [1, -2, true, false, null, "x"], "b": {"c": "d"}, "e": {}} "#).unwrap();
        let a = v.get("a").and_then(Value::as_array).unwrap();
        assert_eq!(a.len(), 6);
        assert_eq!(a[1].as_i64(), Some(-2));
        assert_eq!(a[2].as_bool(), Some(true));
        assert!(a[4].is_null());
        assert_eq!(v.get("b").and_then(|b| b.get("c")).and_then(Value::as_str), Some("d"));
        assert_eq!(v.get("e"), Some(&Value::Object(vec![])));
        assert_eq!(v.get("zz"), None);
        assert_eq!(parse("[]").unwrap(), Value::Array(vec![]));
        assert_eq!(parse("\"\"").unwrap(), Value::String(String::new()));
    }

    #[test]
    fn string_escapes_and_unicode() {
        let v = parse(r#""a\"b\\c\/d\b\f\n\r\t\u0041\u00e9\u20ac\ud83d\ude00 é€😀""#).unwrap();
        assert_eq!(v.as_str(), Some("a\"b\\c/d\u{8}\u{c}\n\r\tAé€😀 é€😀"));
        for bad in [
            r#""\ud83d""#,       // lone high surrogate
            r#""\ud83dx""#,      // high surrogate followed by text
            r#""\ud83d\u0041""#, // high surrogate followed by a non-low escape
            r#""\ude00""#,       // lone low surrogate
            r#""\u12""#,         // short escape
            r#""\u12g4""#,       // bad hex
            r#""\x""#,           // unknown escape
            "\"a\nb\"",          // raw control character
            "\"abc",             // unterminated
            "\"abc\\",           // unterminated after backslash
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn numbers_keep_only_integers() {
        assert_eq!(n("0"), Some(0));
        assert_eq!(n("-0"), Some(0));
        assert_eq!(n("1700000000"), Some(1_700_000_000));
        assert_eq!(n("9223372036854775807"), Some(i64::MAX));
        assert_eq!(n("-9223372036854775808"), Some(i64::MIN));
        assert_eq!(n("9223372036854775808"), None);
        assert_eq!(n("1.0"), Some(1));
        assert_eq!(n("1.500e3"), Some(1500));
        assert_eq!(n("17E+8"), Some(1_700_000_000));
        assert_eq!(n("1500e-3"), None);
        assert_eq!(n("15000e-3"), Some(15));
        assert_eq!(n("0.5"), None);
        assert_eq!(n("1e400"), None);
        assert_eq!(n("1e-400"), None);
        assert_eq!(n("0e99999999999999999999"), Some(0));
        assert_eq!(n("1e99999999999999999999"), None);
        assert_eq!(n(&format!("1.{}", "0".repeat(5000))), Some(1));
        assert_eq!(n(&"9".repeat(5000)), None);
        for bad in ["01", "-", "1.", ".5", "1e", "1e+", "+1", "--1", "0x10", "1.e3", "NaN", "Infinity"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn strictness() {
        for bad in [
            "",
            " ",
            "{",
            "}",
            "[1,]",
            "{\"a\":1,}",
            "{\"a\" 1}",
            "{a:1}",
            "{\"a\":1}x",
            "[1 2]",
            "tru",
            "nul",
            "{\"a\":1,\"a\":2}",
            "'a'",
            "[1]]",
            "\u{feff}1",
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn depth_and_length_limits() {
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(parse(&ok).is_ok());
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        assert_eq!(parse(&deep), Err(JsonError("JSON nested too deeply")));
        let objects = format!("{}1{}", "{\"a\":".repeat(MAX_DEPTH + 1), "}".repeat(MAX_DEPTH + 1));
        assert!(parse(&objects).is_err());
        // Far deeper than any stack could take recursively: still an error, not a crash.
        assert!(parse(&"[".repeat(MAX_INPUT)).is_err());
        let long = format!("\"{}\"", "a".repeat(MAX_INPUT));
        assert_eq!(parse(&long), Err(JsonError("JSON document too long")));
    }

    /// Random bytes and mutations of a valid document: the parser must return, never panic.
    #[test]
    fn fuzz_never_panics() {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let seed =
            br#"{"sub":"user_1","exp":1700000000,"o":{"per":["a","b"],"n":-1.5e3},"s":"\u00e9\ud83d\ude00"}"#;
        let alphabet = b"{}[]\",:\\-+.eE0123456789aeflnrstu \t\n";
        for round in 0..20_000 {
            let mut bytes = seed.to_vec();
            for _ in 0..(next() % 6) {
                let pos = (next() as usize) % (bytes.len() + 1);
                match next() % 3 {
                    0 if pos < bytes.len() => bytes[pos] = alphabet[(next() as usize) % alphabet.len()],
                    1 if pos < bytes.len() => {
                        bytes.remove(pos);
                    }
                    _ => bytes.insert(pos, alphabet[(next() as usize) % alphabet.len()]),
                }
            }
            if round % 4 == 0 {
                bytes = (0..(next() % 64)).map(|_| next() as u8).collect();
            }
            if let Ok(s) = std::str::from_utf8(&bytes) {
                let _ = parse(s);
            }
            let truncated = &seed[..(round % seed.len())];
            let _ = parse(std::str::from_utf8(truncated).unwrap_or(""));
        }
    }
}
