//! Browser suite: the JS readers and writers `#[derive(Wire)]` generates from the protocol types
//! (the SDK's only way in and out of the browser's JSON), on values `JSON.parse` made — serde's
//! semantics for absent, `null` and defaulted fields, and `None` (never a panic) for any other shape.

#![cfg(target_arch = "wasm32")]

use hallpass::core::state::{STORED_SESSION_VERSION, StoredSession};
use hallpass_protocol::wire::js::{FromJs, ParamError, ToJs};
use hallpass_protocol::{
    AuthResponse, ErrorBody, SessionStatus, SignUpRequest, TemplateTokenResponse, UpdateProfileRequest, User,
};
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn parse(json: &str) -> JsValue {
    js_sys::JSON::parse(json).unwrap()
}

fn stringify(v: &JsValue) -> String {
    js_sys::JSON::stringify(v).unwrap().as_string().unwrap()
}

const USER: &str = r#"{"object":"user","id":"user_1","first_name":"Ada","last_name":null,"image_url":"",
    "email_addresses":[{"object":"email_address","id":"idn_1","email_address":"ada@example.com",
    "verification":{"object":"verification","status":"verified","strategy":"email_link","attempts":0,"expire_at":5}}],
    "primary_email_address_id":"idn_1","public_metadata":{"plan":"pro"},"unsafe_metadata":{},
    "password_enabled":true,"last_sign_in_at":null,"created_at":1,"updated_at":2}"#;

#[wasm_bindgen_test]
fn a_user_reads_as_serde_would_and_writes_back_the_same_json() {
    let user = User::from_js(&parse(USER)).expect("a user");
    assert_eq!(
        (user.id.as_str(), user.first_name.as_deref(), user.last_name.as_deref()),
        ("user_1", Some("Ada"), None)
    );
    assert_eq!(user.primary_email_address().map(|e| e.email_address.as_str()), Some("ada@example.com"));
    let verification = user.email_addresses[0].verification.as_ref().expect("its verification");
    assert_eq!(
        (verification.status, verification.strategy),
        (hallpass_protocol::VerificationStatus::Verified, hallpass_protocol::Strategy::EmailLink)
    );
    assert_eq!(js_sys::Reflect::get(user.public_metadata.as_js(), &"plan".into()).unwrap(), "pro");
    assert!(user.password_enabled && user.private_metadata.is_none());
    let back = stringify(&user.to_js());
    assert_eq!(back, stringify(&parse(USER)), "private_metadata (None) is skipped, as serde skips it");
}

#[wasm_bindgen_test]
fn absent_defaulted_fields_take_serdes_defaults() {
    // Only what has no default: `object` comes from its default function, the rest from `Default`.
    let user = User::from_js(&parse(r#"{"id":"user_1"}"#)).expect("defaults fill the rest");
    assert_eq!(user.object, "user");
    assert_eq!((user.first_name, user.image_url.as_str(), user.created_at), (None, "", 0));
    assert!(user.email_addresses.is_empty());
    let token = TemplateTokenResponse::from_js(&parse(r#"{"jwt":"a.b.c","expires_in":60}"#)).unwrap();
    assert_eq!((token.object.as_str(), token.jwt.expose(), token.expires_in), ("token", "a.b.c", 60));
}

#[wasm_bindgen_test]
fn any_other_shape_is_none_never_a_panic() {
    for bad in [
        "null",
        "[]",
        "\"user\"",
        "{}",                                           // no id
        r#"{"id":5}"#,                                  // wrong type
        r#"{"id":"u","created_at":1.5}"#,               // not an integer
        r#"{"id":"u","created_at":1e300}"#,             // not one a JS number holds exactly
        r#"{"id":"u","first_name":7}"#,                 // an Option of the wrong type
        r#"{"id":"u","email_addresses":[{"id":"x"}]}"#, // one element that does not read
        r#"{"id":"u","email_addresses":{}}"#,           // not an array
        r#"{"id":"u","public_metadata":[1]}"#,          // metadata must be an object
        r#"{"id":"u","public_metadata":null}"#,         // not even null (serde refuses it too)
    ] {
        assert_eq!(User::from_js(&parse(bad)), None, "{bad}");
    }
    let session = |status: &str| {
        let json = format!(r#"{{"id":"sess_1","user_id":"user_1","status":{status}}}"#);
        hallpass_protocol::Session::from_js(&parse(&json)).map(|s| s.status)
    };
    assert_eq!(session("\"revoked\""), Some(SessionStatus::Revoked));
    assert_eq!(session("\"Revoked\""), None);
    assert_eq!(session("null"), None);
    let negative = r#"{"user":{"id":"u"},"session":{"id":"s","user_id":"u"},"jwt":"j","expires_in":-1,
        "refresh_token":"r","server_time":1}"#;
    assert_eq!(AuthResponse::from_js(&parse(negative)), None, "expires_in is a u32");
}

#[wasm_bindgen_test]
fn error_bodies_read_every_error_or_none() {
    let body = ErrorBody::from_js(&parse(
        r#"{"errors":[{"code":"rate_limited","message":"m","meta":{"retry_after":3}},{"code":"x","message":"n"}]}"#,
    ))
    .unwrap();
    assert_eq!(body.errors.len(), 2);
    assert_eq!((body.errors[0].code.as_str(), body.errors[0].long_message.as_str()), ("rate_limited", ""));
    assert_eq!(ErrorBody::from_js(&parse(r#"{"errors":[{"message":"no code"}]}"#)), None);
}

#[wasm_bindgen_test]
fn the_stored_session_round_trips_and_older_data_still_reads() {
    let json = format!(
        r#"{{"v":{STORED_SESSION_VERSION},"user":{USER},"session":{{"id":"sess_1","user_id":"user_1"}},
            "refresh_token":"rt","jwt":"a.b.c","jwt_expires_at":60000,"server_offset_ms":-5,"saved_at":3}}"#
    );
    let stored = StoredSession::from_js(&parse(&json)).expect("written before jwt_issued_at was kept");
    assert_eq!((stored.jwt_issued_at, stored.server_offset_ms), (0, -5));
    assert_eq!((stored.refresh_token.expose(), stored.session.object.as_str()), ("rt", "session"));
    assert_eq!(StoredSession::from_js(&stored.to_js()), Some(stored));
}

#[wasm_bindgen_test]
fn requests_are_written_as_the_server_reads_them() {
    let sign_up = SignUpRequest::new("ada@example.com", "pw").with_name(Some("Ada".into()), None);
    assert_eq!(
        stringify(&sign_up.to_js()),
        r#"{"email_address":"ada@example.com","password":"pw","first_name":"Ada"}"#,
        "absent options are left out"
    );
    let profile = UpdateProfileRequest {
        first_name: Some(None),
        last_name: Some(Some("L".into())),
        ..Default::default()
    };
    assert_eq!(
        stringify(&profile.to_js()),
        r#"{"first_name":null,"last_name":"L"}"#,
        "null clears, absent stays"
    );
}

#[wasm_bindgen_test]
fn js_parameters_read_in_camel_case_and_name_the_field_that_is_wrong() {
    let ok = SignUpRequest::from_js_params(&parse(
        r#"{"emailAddress":"a@b.co","password":"pw","lastName":"L","unsafeMetadata":{"k":1}}"#,
    ))
    .unwrap();
    assert_eq!(
        (ok.email_address.as_str(), ok.password.expose(), ok.last_name.as_deref()),
        ("a@b.co", "pw", Some("L"))
    );
    assert!(ok.unsafe_metadata.is_some() && ok.first_name.is_none());
    let err = |json: &str| SignUpRequest::from_js_params(&parse(json)).unwrap_err();
    assert_eq!(err(r#"{"password":"pw"}"#), ParamError { name: "emailAddress", missing: true });
    assert_eq!(err(r#"{"emailAddress":"a","password":1}"#), ParamError { name: "password", missing: false });
    assert_eq!(err(r#"{"emailAddress":"a","password":"p","unsafeMetadata":[]}"#).name, "unsafeMetadata");
    assert_eq!(err("\"not an object\""), ParamError { name: "", missing: false });
    // `with = "double_option"`: absent leaves a name, null clears it.
    let profile = UpdateProfileRequest::from_js_params(&parse(r#"{"firstName":null}"#)).unwrap();
    assert_eq!((profile.first_name, profile.last_name), (Some(None), None));
    assert_eq!(
        UpdateProfileRequest::from_js_params(&parse(r#"{"lastName":3}"#)).unwrap_err(),
        ParamError { name: "lastName", missing: false }
    );
    // `updateUser({ primaryEmailAddressId })` (Clerk's name), sent as the server reads it.
    let primary =
        UpdateProfileRequest::from_js_params(&parse(r#"{"primaryEmailAddressId":"idn_2"}"#)).unwrap();
    assert_eq!(stringify(&primary.to_js()), r#"{"primary_email_address_id":"idn_2"}"#);
    assert_eq!(
        UpdateProfileRequest::from_js_params(&parse(r#"{"primaryEmailAddressId":{}}"#)).unwrap_err(),
        ParamError { name: "primaryEmailAddressId", missing: false }
    );
}
