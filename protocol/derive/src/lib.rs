//! `#[derive(Wire)]`: every view of a wire type that is not serde's, generated from the type's one
//! definition — the same fields and the same `#[serde(…)]` attributes serde reads.
//!
//! For a struct (which must derive `Default`: the readers fill a default value field by field, and
//! an absent `default` or `Option` field keeps the derived default, as serde's does):
//! - `Wire::NAMES`: its fields' wire names (what the TypeScript declarations are checked against);
//! - in wasm32, `FromJs` and `ToJs` (`hallpass_protocol::wire::js`): the struct from and to the JS
//!   value that the browser's `JSON.parse` makes / `JSON.stringify` takes, with serde's semantics
//!   (`default`, `default = "…"`, `rename`, `skip_serializing_if`, an absent `Option` is `None`,
//!   `with = "double_option"`), field by field through `Reflect` — no serde deserializer in the wasm,
//!   so none of its float-formatting error messages (`hallpass_protocol::wire` says why);
//! - with `#[wire(params)]`, also `from_js_params`: the same fields read from the camelCase object
//!   the JS API takes (`SignUpParams` for `SignUpRequest`), reporting the first field that is missing
//!   or of the wrong type.
//!
//! For an enum of unit variants: `Wire::NAMES`, `as_str()` / `parse()` with serde's names
//! (`rename`, `rename_all`), and `FromJs` / `ToJs` as those strings.
//!
//! A `#[serde(…)]` attribute this derive does not know is a compile error, so serde and the JS
//! views can never silently disagree.

use proc_macro::TokenStream;
use proc_macro2::{Span, TokenStream as Tokens};
use quote::quote;
use syn::{Data, DeriveInput, Error, Fields, Ident, LitStr, Path, Type, parse_macro_input};

#[proc_macro_derive(Wire, attributes(wire))]
pub fn derive_wire(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    match expand(&input) {
        Ok(tokens) => tokens.into(),
        Err(error) => error.to_compile_error().into(),
    }
}

/// What `#[serde(…)]` and `#[wire(…)]` say about the type itself.
#[derive(Default)]
struct Container {
    rename_all: Option<String>,
    params: bool,
}

/// What `#[serde(…)]` says about one field.
#[derive(Default)]
struct FieldAttrs {
    rename: Option<String>,
    /// `Some(None)`: `default`; `Some(Some(path))`: `default = "path"`.
    default: Option<Option<Path>>,
    skip_serializing_if: Option<Path>,
    double_option: bool,
}

fn container(input: &DeriveInput) -> syn::Result<Container> {
    let mut c = Container::default();
    for attr in &input.attrs {
        if attr.path().is_ident("serde") {
            attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("rename_all") {
                    c.rename_all = Some(meta.value()?.parse::<LitStr>()?.value());
                } else if meta.path.is_ident("deny_unknown_fields") {
                    // Only the server reads requests with serde; the SDK's readers take responses,
                    // which accept unknown fields.
                } else {
                    return Err(meta.error("Wire does not know this serde attribute"));
                }
                Ok(())
            })?;
        } else if attr.path().is_ident("wire") {
            attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("params") {
                    c.params = true;
                    Ok(())
                } else {
                    Err(meta.error("expected `params`"))
                }
            })?;
        }
    }
    Ok(c)
}

fn field_attrs(field: &syn::Field) -> syn::Result<FieldAttrs> {
    let mut f = FieldAttrs::default();
    for attr in field.attrs.iter().filter(|a| a.path().is_ident("serde")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("rename") {
                f.rename = Some(meta.value()?.parse::<LitStr>()?.value());
            } else if meta.path.is_ident("default") {
                f.default = Some(match meta.value() {
                    Ok(value) => Some(value.parse::<LitStr>()?.parse::<Path>()?),
                    Err(_) => None,
                });
            } else if meta.path.is_ident("skip_serializing_if") {
                f.skip_serializing_if = Some(meta.value()?.parse::<LitStr>()?.parse::<Path>()?);
            } else if meta.path.is_ident("with") {
                let module = meta.value()?.parse::<LitStr>()?;
                if module.value() != "double_option" {
                    return Err(Error::new(module.span(), "Wire knows only `with = \"double_option\"`"));
                }
                f.double_option = true;
            } else {
                return Err(meta.error("Wire does not know this serde attribute"));
            }
            Ok(())
        })?;
    }
    Ok(f)
}

/// `first_name` → `firstName`, as the JS facade shapes wire objects.
fn camel_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// A variant's wire name under `rename_all`.
fn renamed_variant(ident: &Ident, rename_all: Option<&str>) -> syn::Result<String> {
    let name = ident.to_string();
    Ok(match rename_all {
        None => name,
        Some("lowercase") => name.to_lowercase(),
        Some("snake_case") => {
            let mut out = String::new();
            for (i, c) in name.chars().enumerate() {
                if c.is_uppercase() && i > 0 {
                    out.push('_');
                }
                out.extend(c.to_lowercase());
            }
            out
        }
        Some(other) => {
            return Err(Error::new(ident.span(), format!("Wire does not know rename_all = \"{other}\"")));
        }
    })
}

fn is_option(ty: &Type) -> bool {
    matches!(ty, Type::Path(p) if p.qself.is_none()
        && p.path.segments.last().is_some_and(|s| s.ident == "Option"))
}

fn expand(input: &DeriveInput) -> syn::Result<Tokens> {
    if !input.generics.params.is_empty() {
        return Err(Error::new_spanned(&input.generics, "Wire does not support generic types"));
    }
    let c = container(input)?;
    match &input.data {
        Data::Struct(s) => expand_struct(input, &c, &s.fields),
        Data::Enum(e) => expand_enum(input, &c, e),
        Data::Union(_) => Err(Error::new(Span::call_site(), "Wire does not support unions")),
    }
}

fn expand_struct(input: &DeriveInput, c: &Container, fields: &Fields) -> syn::Result<Tokens> {
    let Fields::Named(fields) = fields else {
        return Err(Error::new_spanned(fields, "Wire needs named fields"));
    };
    if c.rename_all.is_some() {
        return Err(Error::new(Span::call_site(), "Wire does not support rename_all on structs"));
    }
    let name = &input.ident;
    let mut names = Vec::new();
    let mut reads = Vec::new();
    let mut param_reads = Vec::new();
    let mut writes = Vec::new();
    for field in &fields.named {
        let attrs = field_attrs(field)?;
        let ident = field.ident.as_ref().ok_or_else(|| Error::new_spanned(field, "unnamed field"))?;
        let wire = attrs.rename.clone().unwrap_or_else(|| ident.to_string());
        let camel = camel_case(&wire);
        // serde: an absent `Option` is `None` even without `default`.
        let absent = match (&attrs.default, is_option(&field.ty)) {
            (Some(Some(path)), _) => Some(Some(path.clone())),
            (Some(None), _) | (None, true) => Some(None),
            (None, false) => None,
        };
        let ty = &field.ty;
        let read = |key: &str| {
            if attrs.double_option {
                quote! { __js::double_option(v, #key, &mut out.#ident) }
            } else {
                quote! { <#ty as __js::FromJs>::read_field(v, #key, &mut out.#ident) }
            }
        };
        // Absent: a `default = "fn"` field takes the function's value; a `default` or `Option` field
        // keeps what the derived `Default` put there (the field type's default, as serde's); any
        // other field is required.
        let (on_absent, param_absent) = match &absent {
            Some(Some(path)) => (quote! { out.#ident = #path() }, quote! { out.#ident = #path() }),
            Some(None) => (quote! {}, quote! {}),
            None => (
                quote! { return ::core::option::Option::None },
                quote! { return ::core::result::Result::Err(__js::ParamError { name: #camel, missing: true }) },
            ),
        };
        let read_wire = read(&wire);
        reads.push(quote! {
            match #read_wire {
                __js::Read::Done => {}
                __js::Read::Absent => { #on_absent }
                __js::Read::Invalid => return ::core::option::Option::None,
            }
        });
        let read_camel = read(&camel);
        param_reads.push(quote! {
            match #read_camel {
                __js::Read::Done => {}
                __js::Read::Absent => { #param_absent }
                __js::Read::Invalid => {
                    return ::core::result::Result::Err(__js::ParamError { name: #camel, missing: false });
                }
            }
        });
        let set = quote! { __js::set(&o, #wire, __js::ToJs::to_js(&self.#ident)); };
        writes.push(match &attrs.skip_serializing_if {
            Some(skip) => quote! { if !#skip(&self.#ident) { #set } },
            None => set,
        });
        names.push(wire);
    }
    let params = c.params.then(|| {
        quote! {
            impl #name {
                /// Reads the camelCase object the JavaScript API takes (field names as the JS facade
                /// shows them): the first field that is missing or of the wrong type is the error.
                pub fn from_js_params(v: &__js::JsValue) -> ::core::result::Result<Self, __js::ParamError> {
                    let v = __js::object(v).ok_or(__js::ParamError { name: "", missing: false })?;
                    let mut out = <Self as ::core::default::Default>::default();
                    #(#param_reads)*
                    ::core::result::Result::Ok(out)
                }
            }
        }
    });
    Ok(quote! {
        impl ::hallpass_protocol::wire::Wire for #name {
            const NAMES: &'static [&'static str] = &[#(#names),*];
        }

        #[cfg(target_arch = "wasm32")]
        const _: () = {
            use ::hallpass_protocol::wire::js as __js;

            impl __js::FromJs for #name {
                fn from_js(v: &__js::JsValue) -> ::core::option::Option<Self> {
                    let v = __js::object(v)?;
                    // Field by field into a default value: a failure drops one value, whatever
                    // field it happens at (smaller in the wasm than a struct literal's drops).
                    let mut out = <Self as ::core::default::Default>::default();
                    #(#reads)*
                    ::core::option::Option::Some(out)
                }
            }

            impl __js::ToJs for #name {
                fn to_js(&self) -> __js::JsValue {
                    let o = __js::Object::new();
                    #(#writes)*
                    o.into()
                }
            }

            #params
        };
    })
}

fn expand_enum(input: &DeriveInput, c: &Container, e: &syn::DataEnum) -> syn::Result<Tokens> {
    if c.params {
        return Err(Error::new(Span::call_site(), "`#[wire(params)]` is for structs"));
    }
    let name = &input.ident;
    let mut variants = Vec::new();
    let mut names = Vec::new();
    for v in &e.variants {
        if !matches!(v.fields, Fields::Unit) {
            return Err(Error::new_spanned(v, "Wire supports enums of unit variants only"));
        }
        let mut wire = None;
        for attr in v.attrs.iter().filter(|a| a.path().is_ident("serde")) {
            attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("rename") {
                    wire = Some(meta.value()?.parse::<LitStr>()?.value());
                    Ok(())
                } else {
                    Err(meta.error("Wire does not know this serde attribute"))
                }
            })?;
        }
        let wire = match wire {
            Some(w) => w,
            None => renamed_variant(&v.ident, c.rename_all.as_deref())?,
        };
        variants.push(v.ident.clone());
        names.push(wire);
    }
    Ok(quote! {
        impl ::hallpass_protocol::wire::Wire for #name {
            const NAMES: &'static [&'static str] = &[#(#names),*];
        }

        impl #name {
            /// The name on the wire (serde's).
            pub fn as_str(self) -> &'static str {
                match self { #(#name::#variants => #names,)* }
            }

            /// The variant for a wire name, if it is one of ours.
            pub fn parse(s: &str) -> ::core::option::Option<Self> {
                match s {
                    #(#names => ::core::option::Option::Some(#name::#variants),)*
                    _ => ::core::option::Option::None,
                }
            }
        }

        #[cfg(target_arch = "wasm32")]
        const _: () = {
            use ::hallpass_protocol::wire::js as __js;

            impl __js::FromJs for #name {
                fn from_js(v: &__js::JsValue) -> ::core::option::Option<Self> {
                    Self::parse(&v.as_string()?)
                }
            }

            impl __js::ToJs for #name {
                fn to_js(&self) -> __js::JsValue {
                    __js::JsValue::from_str(self.as_str())
                }
            }
        };
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_as_serde_and_the_js_facade_spell_them() {
        assert_eq!(camel_case("primary_email_address_id"), "primaryEmailAddressId");
        assert_eq!(camel_case("id"), "id");
        let ident = |s: &str| Ident::new(s, Span::call_site());
        assert_eq!(renamed_variant(&ident("SignedOut"), Some("snake_case")).unwrap(), "signed_out");
        assert_eq!(renamed_variant(&ident("Active"), Some("lowercase")).unwrap(), "active");
        assert_eq!(renamed_variant(&ident("Rs256"), None).unwrap(), "Rs256");
        assert!(renamed_variant(&ident("X"), Some("kebab-case")).is_err());
    }
}
