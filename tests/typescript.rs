//! The TypeScript declarations of the npm package (`src/js/types.d.ts`, `npm/server.d.ts`) against the
//! Rust definitions they describe: every error code, the fields of the resources the JS facade and the
//! Backend API client shape (the wire's snake_case names in camelCase, as `facade.js` and
//! `server/api.js` convert them), the session statuses, the parameters of `signUp`, `signIn` and
//! `updateUser`, and those of the Backend API client (the protocol's request types). A field or code
//! added on one side and not the other fails here.

#![cfg(not(target_arch = "wasm32"))]

use std::collections::BTreeSet;

use hallpass_protocol::organizations::{
    InvitationStatus, Organization, OrganizationInvitation, OrganizationMembership, Permission,
    PermissionType, PublicOrganizationData, PublicUserData, Role,
};
use hallpass_protocol::{
    CreateJwtTemplateRequest, DeletedObject, EmailAddress, ErrorCode, JwtAlgorithm, JwtTemplate, Session,
    SessionStatus, SignInRequest, SignUpRequest, UpdateMetadataRequest, UpdateProfileRequest,
    UpdateUserRequest, User, Wire,
};

const DTS: &str = include_str!("../src/js/types.d.ts");
/// `hallpass/server`'s declarations (the Backend API client's resources and parameters).
const SERVER_DTS: &str = include_str!("../npm/server.d.ts");

/// `src` without `/* … */` and `// …` comments.
fn without_comments(src: &str) -> String {
    let mut out = String::new();
    let mut rest = src;
    while let Some(i) = rest.find("/*") {
        out.push_str(&rest[..i]);
        rest = rest[i..].split_once("*/").map_or("", |(_, after)| after);
    }
    out.push_str(rest);
    out.lines().map(|l| l.split("//").next().unwrap_or("")).collect::<Vec<_>>().join("\n")
}

/// The field names of `export interface <name> { … }` (its top level only) in the SDK's `.d.ts`.
fn interface_fields(name: &str) -> BTreeSet<String> {
    interface_fields_in(DTS, name)
}

/// The same in `dts`.
fn interface_fields_in(dts: &str, name: &str) -> BTreeSet<String> {
    let src = without_comments(dts);
    let start =
        src.find(&format!("export interface {name} {{")).unwrap_or_else(|| panic!("no interface {name}"));
    let body = &src[start..];
    let body = &body[body.find('{').unwrap() + 1..];
    let (mut depth, mut fields, mut line) = (0, BTreeSet::new(), String::new());
    for c in body.chars() {
        match c {
            '{' | '(' | '[' => depth += 1,
            '}' | ')' | ']' if depth == 0 => break,
            '}' | ')' | ']' => depth -= 1,
            ';' | '\n' if depth == 0 => {
                let field = line.trim().split([':', '?']).next().unwrap_or("").trim().to_owned();
                if !field.is_empty() {
                    fields.insert(field);
                }
                line.clear();
            }
            c if depth == 0 => line.push(c),
            _ => {}
        }
    }
    fields
}

/// The string literals of `export type <name> = "a" | "b" …;` in the SDK's `.d.ts`.
fn string_union(name: &str) -> BTreeSet<String> {
    string_union_in(DTS, name)
}

/// The same in `dts`.
fn string_union_in(dts: &str, name: &str) -> BTreeSet<String> {
    let src = without_comments(dts);
    let start = src.find(&format!("export type {name} =")).unwrap_or_else(|| panic!("no type {name}"));
    let body = &src[start..];
    let body = &body[..body.find(';').unwrap()];
    body.split('"').skip(1).step_by(2).map(str::to_owned).collect()
}

/// `first_name` → `firstName`, as `facade.js` shapes wire objects.
fn camel(name: &str) -> String {
    let mut out = String::new();
    let mut upper = false;
    for c in name.chars() {
        match c {
            '_' => upper = true,
            c if upper => {
                out.extend(c.to_uppercase());
                upper = false;
            }
            c => out.push(c),
        }
    }
    out
}

/// The camelCase names of a wire type, without the ones the facade drops, plus the ones it adds.
fn shaped<T: Wire>(dropped: &[&str], added: &[&str]) -> BTreeSet<String> {
    T::NAMES
        .iter()
        .filter(|n| !dropped.contains(n))
        .map(|n| camel(n))
        .chain(added.iter().map(|s| s.to_string()))
        .collect()
}

#[test]
fn every_error_code_and_nothing_else() {
    let rust: BTreeSet<String> = ErrorCode::ALL.iter().map(|c| c.as_str().to_owned()).collect();
    assert_eq!(string_union("ErrorCode"), rust);
}

#[test]
fn resources_have_the_protocols_fields() {
    // `object` is dropped by the facade; `private_metadata` never reaches a browser; `fullName` and
    // `primaryEmailAddress` are the facade's conveniences, as in Clerk.
    assert_eq!(
        interface_fields("User"),
        shaped::<User>(&["object", "private_metadata"], &["fullName", "primaryEmailAddress"])
    );
    assert_eq!(interface_fields("EmailAddress"), shaped::<EmailAddress>(&["object"], &[]));
    assert_eq!(interface_fields("Session"), shaped::<Session>(&["object"], &[]));
    let statuses: BTreeSet<String> = SessionStatus::NAMES.iter().map(|s| s.to_string()).collect();
    assert_eq!(string_union("SessionStatus"), statuses);
}

#[test]
fn parameters_are_the_protocols_requests() {
    assert_eq!(interface_fields("SignUpParams"), shaped::<SignUpRequest>(&[], &[]));
    assert_eq!(interface_fields("SignInParams"), shaped::<SignInRequest>(&[], &[]));
    assert_eq!(interface_fields("UpdateUserParams"), shaped::<UpdateProfileRequest>(&[], &[]));
}

#[test]
fn get_token_options_are_the_ones_the_sdk_reads() {
    // `organizationId` is refused until organizations exist, so it is not declared.
    let expected: BTreeSet<String> = ["skipCache", "template"].map(String::from).into();
    assert_eq!(interface_fields("GetTokenOptions"), expected);
    // The reader itself: a method signature is one field, a nested object type does not leak.
    let hallpass = interface_fields("Hallpass");
    assert!(hallpass.contains("fetch") && hallpass.contains("useAuth") && !hallpass.contains("callback"));
}

#[test]
fn the_backend_api_clients_resources_and_parameters_are_the_protocols() {
    let fields = |name| interface_fields_in(SERVER_DTS, name);
    // The Backend API's user has `private_metadata`; `fullName` and `primaryEmailAddress` are the
    // client's conveniences, as Clerk's backend `User` has them. `object` is dropped.
    assert_eq!(fields("User"), shaped::<User>(&["object"], &["fullName", "primaryEmailAddress"]));
    assert_eq!(fields("EmailAddress"), shaped::<EmailAddress>(&["object"], &[]));
    assert_eq!(fields("Session"), shaped::<Session>(&["object"], &[]));
    assert_eq!(fields("JwtTemplate"), shaped::<JwtTemplate>(&["object"], &[]));
    assert_eq!(fields("DeletedObject"), shaped::<DeletedObject>(&[], &[]));
    assert_eq!(fields("UpdateUserMetadataParams"), shaped::<UpdateMetadataRequest>(&[], &[]));
    assert_eq!(fields("UpdateUserParams"), shaped::<UpdateUserRequest>(&[], &[]));
    assert_eq!(fields("CreateJwtTemplateParams"), shaped::<CreateJwtTemplateRequest>(&[], &[]));
    let statuses: BTreeSet<String> = SessionStatus::NAMES.iter().map(|s| s.to_string()).collect();
    assert_eq!(string_union_in(SERVER_DTS, "SessionStatus"), statuses);
    let algorithms: BTreeSet<String> = JwtAlgorithm::NAMES.iter().map(|s| s.to_string()).collect();
    assert_eq!(string_union_in(SERVER_DTS, "JwtAlgorithm"), algorithms);
}

#[test]
fn the_backend_api_clients_organizations_are_the_protocols() {
    let fields = |name| interface_fields_in(SERVER_DTS, name);
    assert_eq!(fields("Organization"), shaped::<Organization>(&["object"], &[]));
    assert_eq!(fields("OrganizationMembership"), shaped::<OrganizationMembership>(&["object"], &[]));
    assert_eq!(fields("PublicUserData"), shaped::<PublicUserData>(&[], &[]));
    assert_eq!(fields("OrganizationInvitation"), shaped::<OrganizationInvitation>(&["object"], &[]));
    assert_eq!(fields("PublicOrganizationData"), shaped::<PublicOrganizationData>(&[], &[]));
    assert_eq!(fields("Permission"), shaped::<Permission>(&["object"], &[]));
    assert_eq!(fields("Role"), shaped::<Role>(&["object"], &[]));
    let statuses: BTreeSet<String> = InvitationStatus::NAMES.iter().map(|s| s.to_string()).collect();
    assert_eq!(string_union_in(SERVER_DTS, "InvitationStatus"), statuses);
    let kinds: BTreeSet<String> = PermissionType::NAMES.iter().map(|s| s.to_string()).collect();
    assert_eq!(string_union_in(SERVER_DTS, "PermissionType"), kinds);
}
