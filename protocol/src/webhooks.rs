//! Webhooks: the event types, the body every delivery carries (Clerk's envelope), and the Backend
//! API's webhook endpoints, deliveries and delivery attempts.
//!
//! An event is `{ "data", "object": "event", "type", "timestamp", "instance_id" }` ([`WebhookEvent`]),
//! `data` being the JSON the Backend API returns for the resource (a `User`, a `Session`, an
//! `Organization`, an `OrganizationMembership`, an `OrganizationInvitation`, a `DeletedObject` for
//! `user.deleted` and `organization.deleted`). Deliveries are signed the way Svix signs them (the `svix`
//! npm package verifies them); the headers and the signing rules are in the server's README.

use serde::{Deserialize, Serialize};

use crate::{Metadata, Secret};

macro_rules! event_types {
    ($( $(#[$doc:meta])* $variant:ident = $name:literal ),* $(,)?) => {
        /// Every event type Hallpass sends. The list to extend when a resource gains events: the
        /// Backend API accepts exactly these in `event_types`.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum EventType {
            $( $(#[$doc])* $variant, )*
        }

        impl EventType {
            /// Every type, in the order they are documented.
            pub const ALL: &'static [EventType] = &[$(EventType::$variant,)*];

            /// The type as it appears in `type` and in `event_types` (`"user.created"`).
            pub fn as_str(self) -> &'static str {
                match self { $( EventType::$variant => $name, )* }
            }

            /// The type called `name`, if Hallpass sends it.
            pub fn parse(name: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|t| t.as_str() == name)
            }
        }
    };
}

event_types! {
    /// Sign-up. `data`: the `User`.
    UserCreated = "user.created",
    /// A change to the user's names or metadata (`PATCH /v1/client/me`, `PATCH /v1/users/{id}`,
    /// `PATCH /v1/users/{id}/metadata`). `data`: the `User` as changed.
    UserUpdated = "user.updated",
    /// `DELETE /v1/users/{id}`. `data`: `{ "id", "object": "user", "deleted": true }`.
    UserDeleted = "user.deleted",
    /// Sign-up and sign-in. `data`: the `Session`.
    SessionCreated = "session.created",
    /// Sign-out. `data`: the `Session`, `ended`.
    SessionEnded = "session.ended",
    /// A live session deleted with its user. `data`: the `Session`, `removed`.
    SessionRemoved = "session.removed",
    /// Revocation by the user, by the Backend API, or after refresh-token reuse. `data`: the
    /// `Session`, `revoked`.
    SessionRevoked = "session.revoked",
    /// `data`: the `Organization` (as the Backend API shows it).
    OrganizationCreated = "organization.created",
    /// Its name, slug, limits or metadata changed. `data`: the `Organization`.
    OrganizationUpdated = "organization.updated",
    /// `data`: `{ "id", "object": "organization", "deleted": true }`.
    OrganizationDeleted = "organization.deleted",
    /// A member joined (the creator at creation, the Backend API, an accepted invitation). `data`:
    /// the `OrganizationMembership`.
    OrganizationMembershipCreated = "organizationMembership.created",
    /// A member's role or metadata changed. `data`: the `OrganizationMembership`.
    OrganizationMembershipUpdated = "organizationMembership.updated",
    /// A member left or was removed, or their user was deleted. `data`: the `OrganizationMembership`
    /// as it was.
    OrganizationMembershipDeleted = "organizationMembership.deleted",
    /// `data`: the `OrganizationInvitation`, `pending`.
    OrganizationInvitationCreated = "organizationInvitation.created",
    /// The invitee accepted (an `organizationMembership.created` follows). `data`: the
    /// `OrganizationInvitation`, `accepted`.
    OrganizationInvitationAccepted = "organizationInvitation.accepted",
    /// Revoked by the organization, or declined by the invitee. `data`: the
    /// `OrganizationInvitation`, `revoked`.
    OrganizationInvitationRevoked = "organizationInvitation.revoked",
    /// An email was written for the server to send (or, when the instance leaves sending to the app,
    /// for the app to send): a code, a link, a reset code, an invitation. `data`: the `Email`, with
    /// its bodies and template `data` (`otp_code`, `magic_link`, …).
    EmailCreated = "email.created",
}

impl Serialize for EventType {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for EventType {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        EventType::parse(&name).ok_or_else(|| {
            serde::de::Error::custom(format!("unknown variant `{name}`, expected an event type"))
        })
    }
}

/// The body of every delivery (Clerk's envelope). Its id is not in the body: it is the `svix-id` /
/// `webhook-id` header (`evt_…`), the same on every retry.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WebhookEvent {
    /// The resource, as the Backend API returns it.
    pub data: Metadata,
    /// Always `"event"`.
    pub object: String,
    #[serde(rename = "type")]
    pub event_type: EventType,
    /// When the change was committed, in milliseconds since the epoch.
    pub timestamp: i64,
    /// This Hallpass instance (`ins_…`).
    pub instance_id: String,
}

/// Why an endpoint is disabled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DisabledReason {
    /// `PATCH … {"enabled": false}`.
    Manual,
    /// It answered `410 Gone`.
    Gone,
    /// Every attempt failed for days (see the server's README).
    Failing,
}

impl DisabledReason {
    pub fn as_str(self) -> &'static str {
        match self {
            DisabledReason::Manual => "manual",
            DisabledReason::Gone => "gone",
            DisabledReason::Failing => "failing",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [DisabledReason::Manual, DisabledReason::Gone, DisabledReason::Failing]
            .into_iter()
            .find(|r| r.as_str() == s)
    }
}

/// A webhook endpoint (Backend API).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WebhookEndpoint {
    /// Always `"webhook_endpoint"`.
    pub object: String,
    /// `ep_…`
    pub id: String,
    /// `http://` or `https://`.
    pub url: String,
    #[serde(default)]
    pub description: String,
    /// The event types it receives; `null`: all of them (types added later too).
    #[serde(default)]
    pub event_types: Option<Vec<EventType>>,
    pub enabled: bool,
    /// Why it is disabled; `null` while enabled.
    #[serde(default)]
    pub disabled_reason: Option<DisabledReason>,
    /// The signing secret, `whsec_<base64>`: only in the answers to the create and rotate calls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<Secret>,
    /// When the previous secret stops being used, after a rotation (`null`: no previous secret).
    #[serde(default)]
    pub previous_secret_expires_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// `POST /v1/webhook_endpoints`
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhookEndpointRequest {
    pub url: String,
    /// Absent or `null`: every type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_types: Option<Vec<EventType>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// `PATCH /v1/webhook_endpoints/{id}`: absent fields stay as they are; `event_types: null`
/// subscribes to every type. Enabling an endpoint resumes its pending deliveries.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateWebhookEndpointRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "crate::api::double_option")]
    pub event_types: Option<Option<Vec<EventType>>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

/// Where one event stands with one endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Not delivered yet: waiting for its turn (the endpoint's earlier events go first) or for its
    /// next attempt.
    Pending,
    /// An attempt got a 2xx answer.
    Succeeded,
    /// Every scheduled attempt failed; a resend queues it again.
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Succeeded => "succeeded",
            DeliveryStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [DeliveryStatus::Pending, DeliveryStatus::Succeeded, DeliveryStatus::Failed]
            .into_iter()
            .find(|d| d.as_str() == s)
    }
}

/// One event's delivery to one endpoint (`GET /v1/webhook_endpoints/{id}/deliveries`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookDelivery {
    /// Always `"webhook_delivery"`.
    pub object: String,
    pub endpoint_id: String,
    /// `evt_…`: the `svix-id` header of its requests.
    pub event_id: String,
    pub event_type: EventType,
    /// The event's `timestamp`.
    pub event_timestamp: i64,
    pub status: DeliveryStatus,
    /// Attempts since it was queued (or queued again by a resend).
    pub attempts: u32,
    /// When the next attempt is due, while `pending` (it also waits for the endpoint's earlier
    /// events).
    #[serde(default)]
    pub next_attempt_at: Option<i64>,
    pub updated_at: i64,
}

/// One HTTP request made to deliver an event (`GET /v1/webhook_endpoints/{id}/attempts`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookAttempt {
    /// Always `"webhook_attempt"`.
    pub object: String,
    /// `atmpt_…`
    pub id: String,
    pub endpoint_id: String,
    pub event_id: String,
    /// When the request started, in milliseconds since the epoch.
    pub attempted_at: i64,
    /// From the request's start to the end of its answer (or of the failure).
    pub duration_ms: i64,
    /// The answer's status; `null` when none came (refused connection, timeout, TLS, a refused
    /// address).
    #[serde(default)]
    pub status_code: Option<u16>,
    pub succeeded: bool,
    /// The start of the answer's body (at most 1 KiB, lossy UTF-8).
    #[serde(default)]
    pub response_excerpt: String,
    /// Why no answer counted, for people (`timeout`, `connection refused: …`); `null` on an answer.
    #[serde(default)]
    pub error: Option<String>,
}

/// `POST /v1/webhook_endpoints/{id}/recover`: queue again, for this endpoint, every event since
/// `since` (up to `until`, if given) of the types it receives.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecoverWebhookRequest {
    /// Milliseconds since the epoch.
    pub since: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<i64>,
}

/// The answer to a recover call.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookRecovery {
    /// Always `"webhook_recovery"`.
    pub object: String,
    /// How many events were queued.
    pub queued: i64,
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn event_types_round_trip_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for t in EventType::ALL {
            assert!(seen.insert(t.as_str()), "duplicate {}", t.as_str());
            assert_eq!(EventType::parse(t.as_str()), Some(*t));
            assert_eq!(serde_json::to_value(t).unwrap(), t.as_str());
            let (resource, action) = t.as_str().split_once('.').unwrap();
            assert!(!resource.is_empty() && !action.is_empty() && !action.contains('.'));
        }
        assert_eq!(EventType::parse("user.exploded"), None);
        assert!(serde_json::from_str::<EventType>(r#""user.exploded""#).is_err());
    }

    #[test]
    fn update_request_tells_absent_from_null_event_types() {
        let absent: UpdateWebhookEndpointRequest = serde_json::from_str(r#"{"enabled":true}"#).unwrap();
        assert_eq!(absent.event_types, None);
        let all: UpdateWebhookEndpointRequest = serde_json::from_str(r#"{"event_types":null}"#).unwrap();
        assert_eq!(all.event_types, Some(None));
        let some: UpdateWebhookEndpointRequest =
            serde_json::from_str(r#"{"event_types":["user.created"]}"#).unwrap();
        assert_eq!(some.event_types, Some(Some(vec![EventType::UserCreated])));
        assert!(serde_json::from_str::<UpdateWebhookEndpointRequest>(r#"{"secret":"x"}"#).is_err());
    }

    #[test]
    fn envelope_wire_shape() {
        let event = WebhookEvent {
            data: serde_json::from_value(serde_json::json!({"id": "user_1"})).unwrap(),
            object: "event".into(),
            event_type: EventType::UserCreated,
            timestamp: 1_700_000_000_000,
            instance_id: "ins_1".into(),
        };
        assert_eq!(
            serde_json::to_value(&event).unwrap(),
            serde_json::json!({"data": {"id": "user_1"}, "object": "event", "type": "user.created",
                               "timestamp": 1_700_000_000_000i64, "instance_id": "ins_1"})
        );
    }
}
