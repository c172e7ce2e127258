//! Clerk shortcodes in a template's claims, rendered for one user and session.
//!
//! - A string that is exactly one shortcode (`"{{user.public_metadata}}"`) becomes that value with
//!   its own JSON type: an object, a number, a boolean — or `null` when it is missing.
//! - A string with shortcodes among other text (`"{{user.first_name}} {{user.last_name}}"`) is
//!   interpolated as text: strings as they are, numbers and booleans as JSON, objects and arrays as
//!   compact JSON, missing values as nothing.
//! - A shortcode may list fallbacks: `{{user.public_metadata.role || 'member'}}` takes the first
//!   alternative that is not `null`. Alternatives are paths, `'single'` or `"double"` quoted strings,
//!   numbers, `true`, `false` and `null`.
//! - Objects and arrays are rendered recursively; keys, numbers, booleans and a `{{` without its
//!   `}}` are left as they are.
//!
//! Paths are looked up in a [`Context`] built from an allow-list of fields. `private_metadata` and
//! the password hash are never in it, so no template can put them into a token that a browser can
//! read: `{{user.private_metadata}}` is simply missing.

use hallpass_protocol::Metadata;
use serde_json::{Map, Value};

use crate::store::{SessionRecord, UserRecord};

/// What shortcodes can read: `{"user": {…}, "session": {…}}`.
#[derive(Clone, Debug)]
pub struct Context(Value);

impl Context {
    /// The context for `user` signed in with `session`.
    ///
    /// `user.email_verified` is whether the primary address was verified (by a code or link at
    /// sign-up, sign-in or later). Timestamps are seconds, as in JWTs.
    pub fn new(user: &UserRecord, session: &SessionRecord) -> Context {
        let full_name = [user.first_name.as_deref(), user.last_name.as_deref()]
            .into_iter()
            .flatten()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        let non_empty = |s: &str| if s.is_empty() { Value::Null } else { Value::from(s) };
        let mut u = Map::new();
        u.insert("id".into(), user.id.clone().into());
        u.insert("first_name".into(), user.first_name.clone().into());
        u.insert("last_name".into(), user.last_name.clone().into());
        u.insert("full_name".into(), non_empty(&full_name));
        u.insert("image_url".into(), non_empty(&user.image_url));
        u.insert("has_image".into(), (!user.image_url.is_empty()).into());
        u.insert("primary_email_address".into(), user.email.clone().into());
        u.insert("email_verified".into(), user.email_verified().into());
        u.insert("public_metadata".into(), Value::Object(user.public_metadata.clone()));
        u.insert("unsafe_metadata".into(), Value::Object(user.unsafe_metadata.clone()));
        u.insert("created_at".into(), user.created_at.div_euclid(1000).into());
        u.insert("updated_at".into(), user.updated_at.div_euclid(1000).into());
        let mut s = Map::new();
        s.insert("id".into(), session.id.clone().into());
        let mut root = Map::new();
        root.insert("user".into(), Value::Object(u));
        root.insert("session".into(), Value::Object(s));
        Context(Value::Object(root))
    }

    /// A context from any JSON value (tests).
    pub fn from_value(value: Value) -> Context {
        Context(value)
    }

    /// The value at a dotted path (`user.public_metadata.plan.tier`); array items by index.
    fn lookup(&self, path: &str) -> Option<&Value> {
        path.split('.').try_fold(&self.0, |v, segment| match v {
            Value::Object(map) => map.get(segment),
            Value::Array(items) => segment.parse::<usize>().ok().and_then(|i| items.get(i)),
            _ => None,
        })
    }
}

/// Rendering stopped: the output passed the byte budget (at least `rendered` bytes, roughly as
/// serialised JSON, when it stopped).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OverBudget {
    pub rendered: usize,
}

/// What is left of the output's size budget. Rendering charges every piece it produces (roughly its
/// JSON size) *before* producing more, so a template that repeats a large shortcode stops at the
/// budget instead of building megabytes first.
struct Budget {
    used: usize,
    limit: usize,
}

impl Budget {
    fn charge(&mut self, bytes: usize) -> Result<(), OverBudget> {
        self.used = self.used.saturating_add(bytes);
        if self.used > self.limit { Err(OverBudget { rendered: self.used }) } else { Ok(()) }
    }
}

/// Renders every shortcode in `claims`, giving up as soon as the output passes `limit` bytes.
pub fn render_claims(claims: &Metadata, ctx: &Context, limit: usize) -> Result<Metadata, OverBudget> {
    let mut budget = Budget { used: 2, limit };
    render_map(claims, ctx, &mut budget)
}

/// Renders one value (recursively), without a size limit (tests).
#[cfg(test)]
pub fn render(value: &Value, ctx: &Context) -> Value {
    let mut budget = Budget { used: 0, limit: usize::MAX };
    render_value(value, ctx, &mut budget).unwrap_or(Value::Null)
}

fn render_map(map: &Metadata, ctx: &Context, budget: &mut Budget) -> Result<Metadata, OverBudget> {
    let mut out = Metadata::new();
    for (k, v) in map {
        // `"key":` and a comma.
        budget.charge(k.len() + 4)?;
        out.insert(k.clone(), render_value(v, ctx, budget)?);
    }
    Ok(out)
}

fn render_value(value: &Value, ctx: &Context, budget: &mut Budget) -> Result<Value, OverBudget> {
    match value {
        Value::String(s) => render_string(s, ctx, budget),
        Value::Array(items) => {
            budget.charge(2)?;
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                budget.charge(1)?;
                out.push(render_value(item, ctx, budget)?);
            }
            Ok(Value::Array(out))
        }
        Value::Object(map) => {
            budget.charge(2)?;
            Ok(Value::Object(render_map(map, ctx, budget)?))
        }
        other => {
            budget.charge(json_len(other))?;
            Ok(other.clone())
        }
    }
}

/// The serialised size of `v` (bounded work: context values are metadata objects of at most 8 KiB).
fn json_len(v: &Value) -> usize {
    match v {
        Value::Null => 4,
        Value::Bool(b) => {
            if *b {
                4
            } else {
                5
            }
        }
        Value::String(s) => s.len() + 2,
        other => serde_json::to_vec(other).map_or(usize::MAX, |b| b.len()),
    }
}

/// A piece of a string: literal text or the expression inside `{{ }}`.
#[derive(Debug, PartialEq, Eq)]
enum Piece<'a> {
    Text(&'a str),
    Code(&'a str),
}

fn pieces(s: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(open) = rest.find("{{") {
        let Some(close) = rest[open + 2..].find("}}") else { break };
        if open > 0 {
            out.push(Piece::Text(&rest[..open]));
        }
        out.push(Piece::Code(&rest[open + 2..open + 2 + close]));
        rest = &rest[open + 2 + close + 2..];
    }
    if !rest.is_empty() {
        out.push(Piece::Text(rest));
    }
    out
}

fn render_string(s: &str, ctx: &Context, budget: &mut Budget) -> Result<Value, OverBudget> {
    let pieces = pieces(s);
    match pieces.as_slice() {
        [Piece::Code(code)] => {
            let v = evaluate(code, ctx);
            budget.charge(json_len(&v))?;
            Ok(v)
        }
        _ if !pieces.iter().any(|p| matches!(p, Piece::Code(_))) => {
            budget.charge(s.len() + 2)?;
            Ok(Value::String(s.to_owned()))
        }
        _ => {
            budget.charge(2)?;
            let mut out = String::with_capacity(s.len());
            for piece in &pieces {
                let text = match piece {
                    Piece::Text(t) => std::borrow::Cow::Borrowed(*t),
                    Piece::Code(code) => match evaluate(code, ctx) {
                        Value::Null => continue,
                        Value::String(v) => std::borrow::Cow::Owned(v),
                        other => std::borrow::Cow::Owned(other.to_string()),
                    },
                };
                budget.charge(text.len())?;
                out.push_str(&text);
            }
            Ok(Value::String(out))
        }
    }
}

/// The first alternative of `a || b || …` that is not `null`; `null` if none is.
fn evaluate(code: &str, ctx: &Context) -> Value {
    code.split("||").map(|alt| alternative(alt.trim(), ctx)).find(|v| !v.is_null()).unwrap_or(Value::Null)
}

fn alternative(alt: &str, ctx: &Context) -> Value {
    for quote in ['\'', '"'] {
        if alt.len() >= 2
            && let Some(inner) = alt.strip_prefix(quote).and_then(|a| a.strip_suffix(quote))
        {
            return Value::String(inner.to_owned());
        }
    }
    match alt {
        "true" => return Value::Bool(true),
        "false" => return Value::Bool(false),
        "null" | "" => return Value::Null,
        _ => {}
    }
    if alt.starts_with(|c: char| c.is_ascii_digit() || c == '-')
        && let Ok(n @ Value::Number(_)) = serde_json::from_str::<Value>(alt)
    {
        return n;
    }
    ctx.lookup(alt).cloned().unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ctx() -> Context {
        Context::from_value(json!({
            "user": {
                "id": "user_1", "first_name": "Ada", "last_name": null, "created_at": 1_700_000_000,
                "email_verified": false,
                "public_metadata": {"role": "admin", "plan": {"tier": 3}, "tags": ["a", "b"]},
            },
            "session": {"id": "sess_1"},
        }))
    }

    fn r(v: Value) -> Value {
        render(&v, &ctx())
    }

    #[test]
    fn a_whole_shortcode_keeps_the_json_type() {
        assert_eq!(r(json!("{{user.id}}")), json!("user_1"));
        assert_eq!(r(json!("{{user.created_at}}")), json!(1_700_000_000));
        assert_eq!(r(json!("{{user.email_verified}}")), json!(false));
        assert_eq!(
            r(json!("{{user.public_metadata}}")),
            json!({"role": "admin", "plan": {"tier": 3}, "tags": ["a", "b"]})
        );
        assert_eq!(r(json!("{{ user.public_metadata.plan.tier }}")), json!(3));
        assert_eq!(r(json!("{{user.public_metadata.tags.1}}")), json!("b"));
        assert_eq!(r(json!("{{session.id}}")), json!("sess_1"));
    }

    #[test]
    fn missing_values_are_null_whole_and_empty_inside_text() {
        for missing in [
            "{{user.last_name}}",
            "{{user.nope}}",
            "{{user.private_metadata}}",
            "{{user.id.deeper}}",
            "{{user..id}}",
            "{{}}",
            "{{user.public_metadata.tags.9}}",
        ] {
            assert_eq!(r(json!(missing)), Value::Null, "{missing}");
        }
        assert_eq!(r(json!("{{user.first_name}} {{user.last_name}}")), json!("Ada "));
        assert_eq!(r(json!("[{{user.private_metadata}}]")), json!("[]"));
    }

    #[test]
    fn interpolation_writes_values_as_text() {
        assert_eq!(
            r(json!("id={{user.id}}, tier={{user.public_metadata.plan.tier}}")),
            json!("id=user_1, tier=3")
        );
        assert_eq!(r(json!("p={{user.public_metadata.plan}}")), json!(r#"p={"tier":3}"#));
        assert_eq!(r(json!("{{user.id}}{{session.id}}")), json!("user_1sess_1"));
    }

    #[test]
    fn fallbacks_take_the_first_value_that_is_not_null() {
        assert_eq!(r(json!("{{user.last_name || 'Unknown'}}")), json!("Unknown"));
        assert_eq!(r(json!("{{user.public_metadata.nope || user.public_metadata.role}}")), json!("admin"));
        assert_eq!(r(json!("{{user.nope || 7}}")), json!(7));
        assert_eq!(r(json!("{{user.nope || true}}")), json!(true));
        assert_eq!(r(json!(r#"{{user.nope || "x y"}}"#)), json!("x y"));
        assert_eq!(r(json!("{{user.first_name || 'Unknown'}}")), json!("Ada"));
        assert_eq!(r(json!("{{user.email_verified || true}}")), json!(false), "false is a value, not null");
        assert_eq!(r(json!("{{user.nope || null}}")), Value::Null);
        assert_eq!(r(json!("Hi {{user.last_name || 'you'}}!")), json!("Hi you!"));
    }

    #[test]
    fn everything_else_is_left_alone() {
        let template = json!({
            "aud": "authenticated", "n": 1, "b": true, "nothing": null, "{{user.id}}": "key",
            "open": "{{user.id", "close": "user.id}}", "single": "{user.id}",
            "nested": [{"deep": ["{{user.id}}", 2]}],
        });
        assert_eq!(
            r(template),
            json!({
                "aud": "authenticated", "n": 1, "b": true, "nothing": null, "{{user.id}}": "key",
                "open": "{{user.id", "close": "user.id}}", "single": "{user.id}",
                "nested": [{"deep": ["user_1", 2]}],
            })
        );
        assert_eq!(r(json!("a {{user.id")), json!("a {{user.id"));
        assert_eq!(r(json!("{{user.id}} and {{")), json!("user_1 and {{"));
    }

    #[test]
    fn the_context_of_a_user_has_no_private_metadata() {
        let (user, session) = super::super::fixtures::user_and_session();
        let ctx = Context::new(&user, &session);
        let text = ctx.0.to_string();
        assert!(!text.contains("cus_secret") && !text.contains("argon2"), "{text}");
        assert_eq!(render(&json!("{{user.full_name}}"), &ctx), json!("Ada Lovelace"));
        assert_eq!(render(&json!("{{user.created_at}}"), &ctx), json!(1_700_000_000));
        assert_eq!(render(&json!("{{user.image_url}}"), &ctx), Value::Null);
        assert_eq!(render(&json!("{{user.primary_email_address}}"), &ctx), json!("ada@example.com"));
    }
}
