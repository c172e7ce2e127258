//! The TypeScript declarations of the npm package (`src/js/types.d.ts`, `npm/server.d.ts`,
//! `npm/organizations.d.ts`) against the Rust definitions they describe: every error code, the fields of the resources the JS facade and the
//! Backend API client shape (the wire's snake_case names in camelCase, as `facade.js` and
//! `server/api.js` convert them), the session statuses, the parameters of `signUp`, `signIn` and
//! `updateUser`, those of the Backend API client (the protocol's request types), and hallpass/organizations'
//! resources and routes (against the SDK's route table). A field or code added on one side and not the
//! other fails here.

#![cfg(not(target_arch = "wasm32"))]

use std::collections::BTreeSet;

use hallpass_protocol::organizations::{
    InvitationStatus, Organization, OrganizationInvitation, OrganizationMembership, Permission,
    PermissionType, PublicOrganizationData, PublicUserData, Role,
};
use hallpass_protocol::{
    CreateJwtTemplateRequest, CreateOrganizationRequest, DeletedObject, DeviceType, EmailAddress, ErrorCode,
    EventType, Instance, JwtAlgorithm, JwtTemplate, Session, SessionActivity, SessionStatus,
    SessionWithActivities, SignInRequest, SignUpRequest, Strategy, UpdateInstanceRequest,
    UpdateMetadataRequest, UpdateProfileRequest, UpdateUserRequest, User, Wire, paths,
};

const DTS: &str = include_str!("../src/js/types.d.ts");
/// `hallpass/server`'s declarations (the Backend API client's resources and parameters).
const SERVER_DTS: &str = include_str!("../npm/server.d.ts");
/// `hallpass/organizations`' declarations (the organization resources the browser entry shapes).
const ORGS_DTS: &str = include_str!("../npm/organizations.d.ts");
/// `hallpass/user`'s declarations (the sessions with their devices).
const USER_DTS: &str = include_str!("../npm/user.d.ts");
/// `hallpass/flows`' declarations and its one implementation (`src/js/flows.js`, which the package
/// ships as `flows.js` and the Yew hooks import).
const FLOWS_DTS: &str = include_str!("../npm/flows.d.ts");
const FLOWS_JS: &str = include_str!("../src/js/flows.js");

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

/// The field names of `export interface <name> { … }` (its top level only, not those it extends) in
/// the SDK's `.d.ts`.
fn interface_fields(name: &str) -> BTreeSet<String> {
    interface_fields_in(DTS, name)
}

/// The same in `dts`.
fn interface_fields_in(dts: &str, name: &str) -> BTreeSet<String> {
    let src = without_comments(dts);
    let start = src
        .find(&format!("export interface {name} {{"))
        .or_else(|| src.find(&format!("export interface {name} extends ")))
        .unwrap_or_else(|| panic!("no interface {name}"));
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

/// The camelCase fields a `SessionWithActivities` has beyond a `Session`'s (`latestActivity`).
fn activities_added() -> BTreeSet<String> {
    let wire = serde_json::to_value(SessionWithActivities::default()).unwrap();
    let keys = wire.as_object().unwrap().keys();
    keys.filter(|k| !Session::NAMES.contains(&k.as_str())).map(|k| camel(k)).collect()
}

#[test]
fn hallpass_users_sessions_carry_the_protocols_activity() {
    let fields = |name| interface_fields_in(USER_DTS, name);
    // The activity is hallpass/server's declaration (checked against the protocol there), taken as it is.
    assert!(USER_DTS.contains(r#"export type { DeviceType, SessionActivity } from "./server.js";"#));
    assert!(!USER_DTS.contains("interface SessionActivity") && !USER_DTS.contains("type DeviceType ="));
    // `SessionWithActivities` extends `Session`: its own fields are what the wire adds to a session,
    // and the method hallpass/user adds.
    let added: BTreeSet<String> = activities_added().into_iter().chain(["revoke".to_owned()]).collect();
    assert_eq!(fields("SessionWithActivities"), added);
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
    assert_eq!(
        interface_fields("Organization"),
        shaped::<Organization>(&["object", "private_metadata"], &[])
    );
    let statuses: BTreeSet<String> = SessionStatus::NAMES.iter().map(|s| s.to_string()).collect();
    assert_eq!(string_union("SessionStatus"), statuses);
}

#[test]
fn organization_resources_have_the_protocols_fields() {
    // hallpass/organizations adds each resource's methods.
    let hidden = ["object", "private_metadata"];
    assert_eq!(
        interface_fields_in(ORGS_DTS, "OrganizationMembership"),
        shaped::<OrganizationMembership>(&hidden, &["update", "destroy"])
    );
    assert_eq!(
        interface_fields_in(ORGS_DTS, "OrganizationInvitation"),
        shaped::<OrganizationInvitation>(&hidden, &["revoke", "accept", "decline"])
    );
    assert_eq!(interface_fields_in(ORGS_DTS, "PublicUserData"), shaped::<PublicUserData>(&[], &[]));
    assert_eq!(
        interface_fields_in(ORGS_DTS, "PublicOrganizationData"),
        shaped::<PublicOrganizationData>(&[], &[])
    );
    assert_eq!(interface_fields_in(ORGS_DTS, "Role"), shaped::<Role>(&["object"], &[]));
    assert_eq!(interface_fields_in(ORGS_DTS, "Permission"), shaped::<Permission>(&["object"], &[]));
    let names = |n: &[&str]| n.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
    assert_eq!(string_union_in(ORGS_DTS, "InvitationStatus"), names(InvitationStatus::NAMES));
    assert_eq!(string_union_in(ORGS_DTS, "PermissionType"), names(PermissionType::NAMES));
}

#[test]
fn parameters_are_the_protocols_requests() {
    assert_eq!(interface_fields("SignUpParams"), shaped::<SignUpRequest>(&[], &[]));
    assert_eq!(interface_fields("SignInParams"), shaped::<SignInRequest>(&[], &[]));
    assert_eq!(interface_fields("UpdateUserParams"), shaped::<UpdateProfileRequest>(&[], &[]));
    assert_eq!(interface_fields("CreateOrganizationParams"), shaped::<CreateOrganizationRequest>(&[], &[]));
}

/// The organization routes facade.js sends itself (`[method, path, answer]`) are the protocol's: the
/// same as the SDK's table (`hallpass::client::ORGANIZATION_ROUTES`), method, path and kind of answer.
#[test]
fn the_facades_organization_routes_are_the_protocols() {
    use hallpass::core::routes::{Answer as OrganizationAnswer, ROUTES as ORGANIZATION_ROUTES};
    // The core's routes (facade.js) and hallpass/organizations': together, every route but none twice.
    let facade = concat!(include_str!("../src/js/facade.js"), include_str!("../npm/organizations.js"));
    let kind = |k: OrganizationAnswer| match k {
        OrganizationAnswer::One => 0,
        OrganizationAnswer::Page => 1,
        OrganizationAnswer::Touch => 2,
        OrganizationAnswer::Attempt => 7,
    };
    let mut found = 0;
    for (method, path, answer) in ORGANIZATION_ROUTES {
        let entry = format!("[\"{method}\", \"{path}\", {}]", kind(answer));
        if facade.contains(&entry) {
            found += 1;
        }
    }
    // Every `[…, "/v1/…", n]` entry of the facade is one of the table's.
    let entries = facade.matches(", \"/v1/").count();
    assert_eq!(found, entries, "facade.js has a route that is not the protocol's");
    assert_eq!(found, ORGANIZATION_ROUTES.len(), "every route is sent from JavaScript, once");
}

/// hallpass/user's routes (`[method, path, answer]`, sent through the core's one path) are the
/// protocol's: each once, and no other.
#[test]
fn the_user_entrys_routes_are_the_protocols() {
    let user = include_str!("../npm/user.js");
    let routes = [
        ("POST", paths::MY_PASSWORD, 0),
        ("DELETE", paths::ME, 0),
        ("POST", paths::MY_PROFILE_IMAGE, 0),
        ("DELETE", paths::MY_PROFILE_IMAGE, 0),
        ("GET", paths::SESSIONS, 1),
        ("POST", paths::SESSION_REVOKE, 0),
    ];
    for (method, path, answer) in routes {
        let entry = format!("[\"{method}\", \"{path}\", {answer}]");
        assert_eq!(user.matches(&entry).count(), 1, "npm/user.js sends {entry} once");
    }
    assert_eq!(
        user.matches(", \"/v1/").count(),
        routes.len(),
        "npm/user.js has a route that is not the protocol's"
    );
}

#[test]
fn get_token_options_are_the_ones_the_sdk_reads() {
    let expected: BTreeSet<String> = ["skipCache", "template", "organizationId"].map(String::from).into();
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
    // The Backend API answers sessions with their device (`SessionWithActivities`).
    let session: BTreeSet<String> =
        shaped::<Session>(&["object"], &[]).into_iter().chain(activities_added()).collect();
    assert_eq!(fields("Session"), session);
    assert_eq!(fields("SessionActivity"), shaped::<SessionActivity>(&["object"], &[]));
    let kinds: BTreeSet<String> = DeviceType::NAMES.iter().map(|s| s.to_string()).collect();
    assert_eq!(string_union_in(SERVER_DTS, "DeviceType"), kinds);
    assert_eq!(fields("JwtTemplate"), shaped::<JwtTemplate>(&["object"], &[]));
    assert_eq!(fields("DeletedObject"), shaped::<DeletedObject>(&[], &[]));
    assert_eq!(fields("UpdateUserMetadataParams"), shaped::<UpdateMetadataRequest>(&[], &[]));
    // Clerk's spelling `primaryEmailAddressID` is taken too (api.js reads `…ID` as `…Id`).
    assert_eq!(fields("UpdateUserParams"), shaped::<UpdateUserRequest>(&[], &["primaryEmailAddressID"]));
    assert_eq!(fields("CreateJwtTemplateParams"), shaped::<CreateJwtTemplateRequest>(&[], &[]));
    let statuses: BTreeSet<String> = SessionStatus::NAMES.iter().map(|s| s.to_string()).collect();
    assert_eq!(string_union_in(SERVER_DTS, "SessionStatus"), statuses);
    let algorithms: BTreeSet<String> = JwtAlgorithm::NAMES.iter().map(|s| s.to_string()).collect();
    assert_eq!(string_union_in(SERVER_DTS, "JwtAlgorithm"), algorithms);
}

#[test]
fn the_backend_api_clients_instance_is_the_protocols() {
    let fields = |name| interface_fields_in(SERVER_DTS, name);
    assert_eq!(fields("Instance"), shaped::<Instance>(&["object"], &[]));
    assert_eq!(fields("UpdateInstanceParams"), shaped::<UpdateInstanceRequest>(&[], &[]));
    let strategies: BTreeSet<String> = Strategy::NAMES.iter().map(|s| s.to_string()).collect();
    assert_eq!(string_union_in(SERVER_DTS, "Strategy"), strategies);
    // `overridden` names the settings as the client's fields are named (api.js converts them).
    let settings: BTreeSet<String> = UpdateInstanceRequest::NAMES.iter().map(|n| camel(n)).collect();
    let src = without_comments(SERVER_DTS);
    let line = src.lines().find(|l| l.trim_start().starts_with("overridden:")).expect("Instance.overridden");
    let named: BTreeSet<String> = line.split('"').skip(1).step_by(2).map(str::to_owned).collect();
    assert_eq!(named, settings);
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

#[test]
fn webhook_events_are_the_servers() {
    let fields = |name| interface_fields_in(SERVER_DTS, name);
    // `data` is the Backend API's JSON as it is on the wire: every field, snake_case, `object` too.
    let wire = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<BTreeSet<_>>();
    assert_eq!(fields("UserJSON"), wire(User::NAMES));
    assert_eq!(fields("EmailAddressJSON"), wire(EmailAddress::NAMES));
    assert_eq!(fields("VerificationJSON"), wire(hallpass_protocol::Verification::NAMES));
    assert_eq!(fields("EmailJSON"), wire(hallpass_protocol::Email::NAMES));
    assert_eq!(fields("SessionJSON"), wire(Session::NAMES));
    assert_eq!(fields("OrganizationJSON"), wire(Organization::NAMES));
    assert_eq!(fields("PublicUserDataJSON"), wire(PublicUserData::NAMES));
    assert_eq!(fields("OrganizationMembershipJSON"), wire(OrganizationMembership::NAMES));
    assert_eq!(fields("PublicOrganizationDataJSON"), wire(PublicOrganizationData::NAMES));
    assert_eq!(fields("OrganizationInvitationJSON"), wire(OrganizationInvitation::NAMES));
    assert_eq!(fields("DeletedObjectJSON"), wire(DeletedObject::NAMES));
    // Every event type the server sends, and no other.
    let declared: BTreeSet<String> =
        fields("WebhookEventDataMap").into_iter().map(|k| k.trim_matches('"').to_owned()).collect();
    let sent: BTreeSet<String> = EventType::ALL.iter().map(|t| t.as_str().to_owned()).collect();
    assert_eq!(declared, sent);
}

/// The camelCase names of `value`'s serialised fields, less `dropped` (for the protocol's types that
/// have no `Wire` names: an instance with every optional field set shows them all).
fn serialised_fields<T: serde::Serialize>(value: &T, dropped: &[&str]) -> BTreeSet<String> {
    let json = serde_json::to_value(value).expect("serialisable");
    json.as_object()
        .expect("an object")
        .keys()
        .filter(|k| !dropped.contains(&k.as_str()))
        .map(|k| camel(k))
        .collect()
}

#[test]
fn the_backend_api_clients_webhook_endpoints_are_the_protocols() {
    use hallpass_protocol::{
        CreateWebhookEndpointRequest, DeliveryStatus, DisabledReason, RecoverWebhookRequest,
        UpdateWebhookEndpointRequest, WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookRecovery,
    };
    let fields = |name| interface_fields_in(SERVER_DTS, name);
    let endpoint = WebhookEndpoint {
        object: "webhook_endpoint".into(),
        id: "ep_1".into(),
        url: "https://app.example.com/api/webhooks".into(),
        description: String::new(),
        event_types: Some(vec![EventType::UserCreated]),
        enabled: true,
        disabled_reason: Some(DisabledReason::Manual),
        secret: Some(hallpass_protocol::Secret::new("whsec_x".to_owned())),
        previous_secret_expires_at: Some(1),
        created_at: 1,
        updated_at: 1,
    };
    assert_eq!(fields("WebhookEndpoint"), serialised_fields(&endpoint, &["object"]));
    let create = CreateWebhookEndpointRequest {
        url: "https://a.example".into(),
        event_types: Some(vec![]),
        description: Some(String::new()),
    };
    assert_eq!(fields("CreateWebhookEndpointParams"), serialised_fields(&create, &[]));
    let update = UpdateWebhookEndpointRequest {
        url: Some(String::new()),
        event_types: Some(None),
        description: Some(String::new()),
        enabled: Some(true),
    };
    assert_eq!(fields("UpdateWebhookEndpointParams"), serialised_fields(&update, &[]));
    let delivery = WebhookDelivery {
        object: "webhook_delivery".into(),
        endpoint_id: "ep_1".into(),
        event_id: "evt_1".into(),
        event_type: EventType::UserCreated,
        event_timestamp: 1,
        status: DeliveryStatus::Pending,
        attempts: 0,
        next_attempt_at: Some(1),
        updated_at: 1,
    };
    assert_eq!(fields("WebhookDelivery"), serialised_fields(&delivery, &["object"]));
    let attempt = WebhookAttempt {
        object: "webhook_attempt".into(),
        id: "atmpt_1".into(),
        endpoint_id: "ep_1".into(),
        event_id: "evt_1".into(),
        attempted_at: 1,
        duration_ms: 1,
        status_code: Some(200),
        succeeded: true,
        response_excerpt: String::new(),
        error: None,
    };
    assert_eq!(fields("WebhookAttempt"), serialised_fields(&attempt, &["object"]));
    assert_eq!(
        fields("RecoverWebhookParams"),
        serialised_fields(&RecoverWebhookRequest { since: 1, until: Some(2) }, &[])
    );
    assert_eq!(
        fields("WebhookRecovery"),
        serialised_fields(&WebhookRecovery { object: "webhook_recovery".into(), queued: 1 }, &["object"])
    );
    let statuses: BTreeSet<String> =
        [DeliveryStatus::Pending, DeliveryStatus::Succeeded, DeliveryStatus::Failed]
            .iter()
            .map(|s| s.as_str().to_owned())
            .collect();
    assert_eq!(string_union_in(SERVER_DTS, "WebhookDeliveryStatus"), statuses);
    let reasons: BTreeSet<String> = [DisabledReason::Manual, DisabledReason::Gone, DisabledReason::Failing]
        .iter()
        .map(|r| r.as_str().to_owned())
        .collect();
    assert_eq!(string_union_in(SERVER_DTS, "WebhookDisabledReason"), reasons);
}

/// hallpass/flows' resources are the protocol's attempts and verifications, shaped (camelCase,
/// `object` dropped), with their methods; its unions are the protocol's enums.
#[test]
fn the_flows_resources_are_the_protocols() {
    use hallpass_protocol::{
        Environment, PasswordSettings, SignInAttempt, SignInFactor, SignInSettings, SignInStatus,
        SignUpAttempt, SignUpSettings, SignUpStatus, Strategy, Verification, VerificationStatus,
    };
    let fields = |name| interface_fields_in(FLOWS_DTS, name);
    let sign_in_methods = [
        "create",
        "prepareFirstFactor",
        "attemptFirstFactor",
        "resetPassword",
        "reload",
        "createEmailLinkFlow",
        "resendAvailableAt",
    ];
    assert_eq!(fields("SignIn"), shaped::<SignInAttempt>(&["object"], &sign_in_methods));
    let sign_up_methods = [
        "create",
        "prepareEmailAddressVerification",
        "attemptEmailAddressVerification",
        "reload",
        "createEmailLinkFlow",
        "resendAvailableAt",
    ];
    assert_eq!(fields("SignUp"), shaped::<SignUpAttempt>(&["object"], &sign_up_methods));
    assert_eq!(fields("Verification"), shaped::<Verification>(&["object"], &[]));
    assert_eq!(fields("SignInFirstFactor"), shaped::<SignInFactor>(&[], &[]));
    assert_eq!(fields("Environment"), shaped::<Environment>(&["object"], &[]));
    // The environment's nested settings, as the .d.ts writes them inline.
    let env = without_comments(FLOWS_DTS);
    for names in [SignInSettings::NAMES, SignUpSettings::NAMES, PasswordSettings::NAMES] {
        for name in names {
            assert!(env.contains(&format!("{}:", camel(name))), "Environment lacks {name}");
        }
    }
    let names = |n: &[&str]| n.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
    assert_eq!(string_union_in(FLOWS_DTS, "Strategy"), names(Strategy::NAMES));
    assert_eq!(string_union_in(FLOWS_DTS, "VerificationStatus"), names(VerificationStatus::NAMES));
    assert_eq!(string_union_in(FLOWS_DTS, "SignInStatus"), names(SignInStatus::NAMES));
    assert_eq!(string_union_in(FLOWS_DTS, "SignUpStatus"), names(SignUpStatus::NAMES));
}

/// hallpass/flows' routes (`[method, path, answer]`) are the protocol's paths, each once: the steps
/// (answer 7: no session token, a session adopted when one is carried) and the user's addresses (0).
#[test]
fn the_flows_routes_are_the_protocols() {
    use hallpass_protocol::paths;
    let routes = [
        ("POST", paths::SIGN_INS, 7),
        ("GET", paths::SIGN_IN, 7),
        ("POST", paths::SIGN_IN_PREPARE_FIRST_FACTOR, 7),
        ("POST", paths::SIGN_IN_ATTEMPT_FIRST_FACTOR, 7),
        ("POST", paths::SIGN_IN_RESET_PASSWORD, 7),
        ("POST", paths::SIGN_UPS, 7),
        ("GET", paths::SIGN_UP, 7),
        ("POST", paths::SIGN_UP_PREPARE_VERIFICATION, 7),
        ("POST", paths::SIGN_UP_ATTEMPT_VERIFICATION, 7),
        ("GET", paths::ENVIRONMENT, 7),
        ("POST", paths::MY_EMAIL_ADDRESSES, 0),
        ("GET", paths::MY_EMAIL_ADDRESS, 0),
        ("DELETE", paths::MY_EMAIL_ADDRESS, 0),
        ("POST", paths::MY_EMAIL_ADDRESS_PREPARE_VERIFICATION, 0),
        ("POST", paths::MY_EMAIL_ADDRESS_ATTEMPT_VERIFICATION, 0),
    ];
    for (method, path, answer) in routes {
        let entry = format!("[\"{method}\", \"{path}\", {answer}]");
        assert_eq!(FLOWS_JS.matches(&entry).count(), 1, "flows.js lacks {entry}");
    }
    assert_eq!(
        FLOWS_JS.matches(", \"/v1/").count(),
        routes.len(),
        "flows.js has a route that is not the protocol's"
    );
}
