//! JSON written exactly as JavaScript writes it, so that a delivery's body is byte-identical to
//! `JSON.stringify(JSON.parse(body))`: a handler that parses the body and stringifies it again before
//! verifying the signature (as Next.js route handlers written for Clerk do) still verifies.
//!
//! Where serde_json's compact output differs from that, and what this writer does instead:
//! - **Numbers.** JavaScript has only doubles, and `JSON.stringify` writes one as
//!   `Number.prototype.toString` does. Every number is written that way, as the double nearest to it:
//!   `1.0` → `1`, `-0.0` → `0`, `1e21` → `1e+21`, `1e20` → `100000000000000000000`, `1e-7` → `1e-7`,
//!   and an integer beyond 2^53 as its nearest double (`12345678901234567890` →
//!   `12345678901234567000`). The stored value is untouched; the body says what any JavaScript reader
//!   of it would see anyway.
//! - **Key order.** A JavaScript object lists its array-index keys (`"0"`, `"7"`, up to 2^32 − 2)
//!   first, in numeric order, then the others in insertion order. Index keys come first here too, in
//!   numeric order, then the others in the map's order.
//! - **Strings** are escaped as `JSON.stringify` escapes them: `"`, `\` and the control characters
//!   (`\b \f \n \r \t`, the others as `\u00xx` in lower-case hex); everything else as it is — `/`,
//!   U+2028/U+2029, DEL and all non-ASCII. (A Rust string holds no lone surrogate, the one other
//!   thing `JSON.stringify` escapes.)
//!
//! `tests/webhooks.rs` holds this against Node's own `JSON.stringify(JSON.parse(…))` on real bodies.

use serde_json::{Map, Value};

/// `value` as `JSON.stringify(JSON.parse(<any JSON text of value>))` writes it.
pub fn to_string(value: &Value) -> String {
    let mut out = String::with_capacity(256);
    write_value(&mut out, value);
    out
}

fn write_value(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        // `as_f64` is the nearest double for integers too (round half to even, as JavaScript parses).
        Value::Number(n) => out.push_str(&number(n.as_f64().unwrap_or(0.0))),
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => write_object(out, map),
    }
}

fn write_object(out: &mut String, map: &Map<String, Value>) {
    let mut indexed: Vec<(u32, &String, &Value)> =
        map.iter().filter_map(|(k, v)| array_index(k).map(|i| (i, k, v))).collect();
    indexed.sort_by_key(|(i, _, _)| *i);
    let named = map.iter().filter(|(k, _)| array_index(k).is_none());
    out.push('{');
    let mut first = true;
    for (key, value) in indexed.into_iter().map(|(_, k, v)| (k, v)).chain(named) {
        if !first {
            out.push(',');
        }
        first = false;
        write_string(out, key);
        out.push(':');
        write_value(out, value);
    }
    out.push('}');
}

/// The key's value when JavaScript treats it as an array index: the canonical decimal form of an
/// integer from 0 to 2^32 − 2.
fn array_index(key: &str) -> Option<u32> {
    let canonical = key == "0" || (!key.starts_with('0') && !key.is_empty() && key.len() <= 10);
    if !canonical || !key.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    key.parse::<u64>().ok().filter(|&n| n < u64::from(u32::MAX)).and_then(|n| u32::try_from(n).ok())
}

fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// ECMAScript's `Number::toString(x)` for a finite double (ECMA-262 §6.1.6.1.20): the shortest
/// digits that read back as `x` (Rust's `{:e}` finds the same ones), placed by the spec's rules.
pub fn number(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        // -0 is written "0"; JSON has no NaN or infinities (JSON.stringify writes them as null, and
        // serde_json cannot hold them).
        return if x == 0.0 { "0".into() } else { "null".into() };
    }
    let sign = if x < 0.0 { "-" } else { "" };
    let exp_form = format!("{:e}", x.abs());
    let (mantissa, exponent) = exp_form.split_once('e').unwrap_or((&exp_form, "0"));
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let k = digits.len() as i64;
    // The spec's n: the value is 0.d₁d₂…d_k × 10^n.
    let n = exponent.parse::<i64>().unwrap_or(0) + 1;
    let body = if k <= n && n <= 21 {
        format!("{digits}{}", "0".repeat((n - k) as usize))
    } else if 0 < n && n <= 21 {
        let (int, frac) = digits.split_at(n as usize);
        format!("{int}.{frac}")
    } else if -6 < n && n <= 0 {
        format!("0.{}{digits}", "0".repeat((-n) as usize))
    } else {
        let e = n - 1;
        let e_sign = if e >= 0 { "+" } else { "-" };
        let (first, rest) = digits.split_at(1);
        let rest = if rest.is_empty() { String::new() } else { format!(".{rest}") };
        format!("{first}{rest}e{e_sign}{}", e.abs())
    };
    format!("{sign}{body}")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn numbers_as_javascript_writes_them() {
        for (x, js) in [
            (1.0, "1"),
            (-0.0, "0"),
            (0.1, "0.1"),
            (-1.5, "-1.5"),
            (123.456, "123.456"),
            (1e21, "1e+21"),
            (1e20, "100000000000000000000"),
            (1.2345678901234568e20, "123456789012345680000"),
            (1e-6, "0.000001"),
            (1e-7, "1e-7"),
            (1.5e-7, "1.5e-7"),
            (5e-324, "5e-324"),
            (f64::MAX, "1.7976931348623157e+308"),
            (0.1 + 0.2, "0.30000000000000004"),
            (9007199254740993.0, "9007199254740992"),
            (12345678901234567890.0, "12345678901234567000"),
        ] {
            assert_eq!(number(x), js, "{x:e}");
        }
    }

    #[test]
    fn integers_beyond_2_pow_53_become_their_nearest_double() {
        let v: Value =
            serde_json::from_str(r#"[12345678901234567890, -9223372036854775808, 9007199254740993]"#)
                .unwrap();
        assert_eq!(to_string(&v), "[12345678901234567000,-9223372036854776000,9007199254740992]");
    }

    #[test]
    fn index_keys_first_in_numeric_order_then_the_others() {
        let v = json!({"b": 1, "a": 2, "10": 3, "2": 4, "01": 5, "-1": 6, "4294967295": 7, "4294967294": 8});
        assert_eq!(
            to_string(&v),
            r#"{"2":4,"10":3,"4294967294":8,"-1":6,"01":5,"4294967295":7,"a":2,"b":1}"#
        );
    }

    #[test]
    fn strings_escaped_as_json_stringify_does() {
        let v = json!("q\" b\\ /\u{08}\u{0c}\n\r\t\u{01}\u{1f}\u{7f}\u{2028}\u{2029}é😀");
        assert_eq!(to_string(&v), "\"q\\\" b\\\\ /\\b\\f\\n\\r\\t\\u0001\\u001f\u{7f}\u{2028}\u{2029}é😀\"");
    }

    #[test]
    fn nested_values_are_compact() {
        let v = json!({"a": [1, 2.5, null, true, {"x": []}], "o": {}});
        assert_eq!(to_string(&v), r#"{"a":[1,2.5,null,true,{"x":[]}],"o":{}}"#);
    }
}
