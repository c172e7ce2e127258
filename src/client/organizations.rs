//! Organizations from the browser: one path for every organization call of the Frontend API —
//! setting the active organization (answered with a session token carrying it), create, list,
//! invite, change a role, remove, leave, accept, … — as [`Hallpass::route`] (the method and URL)
//! and [`Hallpass::settle`] (the answer), with [`Hallpass::request`] and `set_active` over them for
//! Rust.
//!
//! Why this shape: each async method the wasm exports is its own state machine, and reading each
//! organization resource in Rust would ship a reader per shape — kilobytes the 48 KiB budget does
//! not have. So in the browser build the JS facade (`src/js/facade.js`) sends the organization calls
//! itself through http.js's `exchange` (the one every call uses) with the token `getToken()` gives,
//! from its copy of [`ROUTES`] (checked against this one by `tests/facade.rs`) with the ids checked
//! as [`is_path_id`] does, and the wasm does only what is synchronous and needs the SDK,
//! [`Hallpass::settle`]: the error codes (http.rs `settle`, as for every call), signing out when the
//! server says the session is over, applying a `setActive` answer. The answer — a protocol
//! resource, or a `{ data, total_count }` page of them — goes to JavaScript as the server's JSON,
//! checked for its kind, and the facade shapes it (camelCase, as every resource) and pages it. The
//! Rust API (Yew) takes [`Hallpass::request`] over the same table and the same `settle`, and reads
//! the answers as the protocol's types: [`Hallpass::get_organization`], the member and invitation
//! actions, and the lists a [`Page`] at a time ([`PageParams`]: Clerk's paging).

use hallpass_protocol::wire::js::{FromJs, ToJs, get};
use hallpass_protocol::{
    CreateInvitationRequest, CreateOrganizationRequest, InvitationStatus, Organization,
    OrganizationInvitation, OrganizationMembership, Role, SessionTokenResponse, TouchSessionRequest,
    UpdateMembershipRequest, UpdateOrganizationRequest, paths,
};
use js_sys::{Array, Reflect};
use wasm_bindgen::JsValue;

use super::{GetTokenOptions, Hallpass, auth_response, invalid};
use crate::core::error::Error;
use crate::core::routes::{self, Answer, ROUTES, TOUCH, is_path_id};
use crate::core::state::Event;
use crate::platform::http;
use Answer::{Attempt, Touch};

/// Which page of a list, and its filters: Clerk's `initialPage` (from 1) and `pageSize` (10 by
/// default; the server takes 1 to 500), and the filters of the lists that have them.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct PageParams {
    pub initial_page: u32,
    pub page_size: u32,
    /// Members: part of a member's email address or name.
    pub query: Option<String>,
    /// Members: only those with this role key.
    pub role: Option<String>,
    /// Invitations: only those in this status.
    pub status: Option<InvitationStatus>,
}

impl Default for PageParams {
    fn default() -> Self {
        PageParams { initial_page: 1, page_size: 10, query: None, role: None, status: None }
    }
}

impl PageParams {
    /// Page `page` (from 1).
    pub fn page(mut self, page: u32) -> Self {
        self.initial_page = page.max(1);
        self
    }

    pub fn page_size(mut self, size: u32) -> Self {
        self.page_size = size;
        self
    }

    pub fn query(mut self, query: impl Into<String>) -> Self {
        self.query = Some(query.into());
        self
    }

    pub fn role(mut self, role: impl Into<String>) -> Self {
        self.role = Some(role.into());
        self
    }

    pub fn status(mut self, status: InvitationStatus) -> Self {
        self.status = Some(status);
        self
    }

    /// The query string (`?limit=…&offset=…`, then the filters, encoded): the protocol's list
    /// parameters (`MembershipListParams`, `InvitationListParams`).
    fn to_query(&self) -> String {
        let offset = u64::from(self.initial_page.max(1) - 1) * u64::from(self.page_size);
        let mut query = String::from("?limit=");
        query.push_str(&self.page_size.to_string());
        query.push_str("&offset=");
        query.push_str(&offset.to_string());
        let filters = [("query", self.query.as_deref()), ("role", self.role.as_deref())];
        let status = self.status.map(InvitationStatus::as_str);
        for (name, value) in filters.into_iter().chain([("status", status)]) {
            if let Some(value) = value {
                query.push('&');
                query.push_str(name);
                query.push('=');
                query.push_str(&String::from(js_sys::encode_uri_component(value)));
            }
        }
        query
    }
}

/// A page of a list (Clerk's `ClerkPaginatedResponse`): its items and how many there are in all.
#[derive(Clone, Debug, PartialEq)]
pub struct Page<T> {
    pub data: Vec<T>,
    pub total_count: i64,
}

/// True when `answer` is the kind of answer a route of `kind` gives: a resource (an object with a
/// string `id`), a page (`data` an array, `total_count` a number), or anything for [`TOUCH`].
pub fn is_answer(kind: Answer, answer: &JsValue) -> bool {
    let field = |name: &str| Reflect::get(answer, &JsValue::from_str(name)).unwrap_or_default();
    match kind {
        Answer::One => field("id").is_string(),
        Answer::Page => Array::is_array(&field("data")) && field("total_count").as_f64().is_some(),
        Touch | Attempt => true,
    }
}

impl Hallpass {
    /// Sets the session's active organization — an id or slug of one of the user's organizations, or
    /// `Some(None)` for the personal account; `None` keeps the active one and just gets a fresh token
    /// for it (after a membership change). Resolves once this tab holds the token carrying it; other
    /// tabs adopt that token and organization together (they never show one and hand out the other).
    pub async fn set_active(&self, organization: Option<Option<String>>) -> Result<(), Error> {
        let body = TouchSessionRequest { active_organization_id: organization }.to_js();
        self.send(TOUCH, &[], "", Some(&body)).await.map(drop)
    }

    /// One organization call: `ROUTES[route]` with `ids` in its path and `query` (`""` or
    /// `?limit=…`, already encoded) after it, `body` as JSON, the session token as Bearer. Answers
    /// the server's JSON, checked as [`settle`](Self::settle) does. After a change of or in the
    /// active organization ([`routes::changes_active`]) it resolves once this tab holds a fresh
    /// session token, so `org_role`, `has()` and every tab's tokens say what the server now says.
    pub async fn request(
        &self,
        route: usize,
        ids: &[&str],
        query: &str,
        body: Option<&JsValue>,
    ) -> Result<JsValue, Error> {
        let active = self.with_state(|s| s.org_id().map(str::to_owned));
        let answer = self.send(route, ids, query, body).await?;
        let method = ROUTES.get(route).map_or("GET", |r| r.0);
        if routes::changes_active(method, ids, active.as_deref()) {
            // As a failed refresh would: the change itself is done, and the next refresh catches up.
            let _ = self.set_active(None).await;
        }
        Ok(answer)
    }

    /// [`request`](Self::request) without the fresh token after a change.
    async fn send(
        &self,
        route: usize,
        ids: &[&str],
        query: &str,
        body: Option<&JsValue>,
    ) -> Result<JsValue, Error> {
        let (method, url) = self.route(route, ids, query)?;
        let token = self.get_token(GetTokenOptions::default()).await?.ok_or_else(Error::not_signed_in)?;
        let timeout_ms = self.inner.request_timeout_ms;
        let outcome = http::call(method, &url, body, Some(&token), &*self.inner.clock, timeout_ms).await;
        let kind = ROUTES.get(route).map_or(Answer::One, |r| r.2);
        let answer = self.settle(kind, outcome)?;
        if is_answer(kind, &answer) { Ok(answer) } else { Err(Error::invalid_response()) }
    }

    /// The method and URL of `ROUTES[route]` with `ids` in its path (the session's own id for
    /// [`TOUCH`]) and `query` after it. Refuses what could change the path.
    pub fn route(&self, route: usize, ids: &[&str], query: &str) -> Result<(&'static str, String), Error> {
        let &(method, path, kind) = ROUTES.get(route).ok_or_else(|| invalid("unknown route"))?;
        let session_id =
            self.with_state(|s| s.session_id().map(str::to_owned)).ok_or_else(Error::not_signed_in)?;
        let ids = if let Touch = kind { &[session_id.as_str()] } else { ids };
        if !ids.iter().all(|id| is_path_id(id))
            || path.bytes().filter(|&b| b == b'{').count() != ids.len()
            || !(query.is_empty() || query.starts_with('?'))
        {
            return Err(invalid("ids must be ids or slugs"));
        }
        let mut url = self.url(&paths::fill(path, ids));
        url.push_str(query);
        Ok((method, url))
    }

    /// Settles the exchange of a route whose answer is of `kind`: an error as for every call (an
    /// answer that says the session is over signs out, as a failed refresh does); a `setActive`
    /// answer applied (the token and organization it carries); a sign-in or sign-up step that
    /// carries a session adopted as a password sign-in's (the same event: storage, every tab, the
    /// token cache); any other answer handed on as it is (its reader checks it: [`is_answer`] here,
    /// hallpass/organizations and hallpass/flows in JavaScript).
    pub fn settle(
        &self,
        kind: Answer,
        outcome: Result<http::Answer, http::Failure>,
    ) -> Result<JsValue, Error> {
        let answer = match outcome {
            Ok(answer) => answer,
            Err(failure) => {
                self.inner.observe(&failure);
                if failure.error.ends_session() {
                    self.apply(Event::RefreshFailed(failure.error.clone()));
                }
                return Err(failure.error);
            }
        };
        let body = answer.body;
        let ok = match kind {
            // Checked where they are read: JavaScript (hallpass/organizations), Rust (`is_answer`).
            Answer::One | Answer::Page => true,
            Attempt => {
                // Only the step that completes an attempt carries a session (once); hallpass/flows
                // checks that the SDK took it.
                if let Ok(response) = auth_response(&body) {
                    self.apply(Event::SignedIn {
                        response: Box::new(response),
                        sent_at_ms: answer.sent_at,
                        received_at_ms: answer.received_at,
                    });
                }
                true
            }
            Touch => {
                let response = SessionTokenResponse::from_js(&body)
                    .filter(|r| r.expires_in > 0)
                    .ok_or_else(Error::invalid_response)?;
                self.apply(Event::OrganizationSet {
                    response: Box::new(response),
                    sent_at_ms: answer.sent_at,
                    received_at_ms: answer.received_at,
                });
                return Ok(JsValue::UNDEFINED);
            }
        };
        if ok { Ok(body) } else { Err(Error::invalid_response()) }
    }

    /// The device clock of the SDK (an injected one in tests).
    pub fn now_ms(&self) -> i64 {
        self.inner.clock.now_ms()
    }

    /// `ROUTES[route]`'s resource, read as `T`.
    async fn one<T: FromJs>(&self, route: usize, ids: &[&str], body: Option<JsValue>) -> Result<T, Error> {
        let answer = self.request(route, ids, "", body.as_ref()).await?;
        T::from_js(&answer).ok_or_else(Error::invalid_response)
    }

    /// A page of `ROUTES[route]`'s list (a route whose answer is a page), its items read as `T`.
    pub async fn page<T: FromJs>(
        &self,
        route: usize,
        ids: &[&str],
        params: &PageParams,
    ) -> Result<Page<T>, Error> {
        let answer = self.request(route, ids, &params.to_query(), None).await?;
        let data = Vec::<T>::from_js(&get(&answer, "data")).ok_or_else(Error::invalid_response)?;
        let total_count = i64::from_js(&get(&answer, "total_count")).ok_or_else(Error::invalid_response)?;
        Ok(Page { data, total_count })
    }

    /// Creates an organization with the user as its admin (Clerk's `createOrganization`); it does not
    /// become the active one (see [`set_active`](Self::set_active)).
    pub async fn create_organization(&self, name: &str, slug: Option<&str>) -> Result<Organization, Error> {
        let body = CreateOrganizationRequest { name: name.to_owned(), slug: slug.map(str::to_owned) };
        self.one(routes::CREATE_ORGANIZATION, &[], Some(body.to_js())).await
    }

    /// An organization of the user's, by id or slug (Clerk's `getOrganization`).
    pub async fn get_organization(&self, id_or_slug: &str) -> Result<Organization, Error> {
        self.one(routes::GET_ORGANIZATION, &[id_or_slug], None).await
    }

    /// Renames an organization or changes its slug (absent fields stay).
    pub async fn update_organization(
        &self,
        organization_id: &str,
        update: &UpdateOrganizationRequest,
    ) -> Result<Organization, Error> {
        self.one(routes::UPDATE_ORGANIZATION, &[organization_id], Some(update.to_js())).await
    }

    /// Deletes an organization (needs `org:sys_profile:delete`).
    pub async fn delete_organization(&self, organization_id: &str) -> Result<(), Error> {
        self.request(routes::DELETE_ORGANIZATION, &[organization_id], "", None).await.map(drop)
    }

    /// The organization's members, paged (`query` and `role` filter).
    pub async fn organization_memberships(
        &self,
        organization_id: &str,
        params: &PageParams,
    ) -> Result<Page<OrganizationMembership>, Error> {
        self.page(routes::MEMBERSHIPS, &[organization_id], params).await
    }

    /// The organization's invitations, paged (`status` filters).
    pub async fn organization_invitations(
        &self,
        organization_id: &str,
        params: &PageParams,
    ) -> Result<Page<OrganizationInvitation>, Error> {
        self.page(routes::INVITATIONS, &[organization_id], params).await
    }

    /// The roles a member of the organization may be given, paged.
    pub async fn organization_roles(
        &self,
        organization_id: &str,
        params: &PageParams,
    ) -> Result<Page<Role>, Error> {
        self.page(routes::ROLES, &[organization_id], params).await
    }

    /// Invites `email_address` with `role` (the instance's default role when `None`).
    pub async fn invite_member(
        &self,
        organization_id: &str,
        email_address: &str,
        role: Option<&str>,
    ) -> Result<OrganizationInvitation, Error> {
        let body = CreateInvitationRequest {
            email_address: email_address.to_owned(),
            role: role.map(str::to_owned),
        };
        self.one(routes::INVITE, &[organization_id], Some(body.to_js())).await
    }

    /// Revokes a pending invitation.
    pub async fn revoke_invitation(
        &self,
        organization_id: &str,
        invitation_id: &str,
    ) -> Result<OrganizationInvitation, Error> {
        self.one(routes::REVOKE_INVITATION, &[organization_id, invitation_id], None).await
    }

    /// Gives a member another role.
    pub async fn update_member(
        &self,
        organization_id: &str,
        user_id: &str,
        role: &str,
    ) -> Result<OrganizationMembership, Error> {
        let body = UpdateMembershipRequest { role: role.to_owned() };
        self.one(routes::UPDATE_MEMBER, &[organization_id, user_id], Some(body.to_js())).await
    }

    /// Removes a member; answers the membership that ended.
    pub async fn remove_member(
        &self,
        organization_id: &str,
        user_id: &str,
    ) -> Result<OrganizationMembership, Error> {
        self.one(routes::REMOVE_MEMBER, &[organization_id, user_id], None).await
    }

    /// The user's memberships, each with its organization (Clerk's `user.getOrganizationMemberships`).
    pub async fn user_memberships(&self, params: &PageParams) -> Result<Page<OrganizationMembership>, Error> {
        self.page(routes::MY_MEMBERSHIPS, &[], params).await
    }

    /// The invitations addressed to the user's email addresses (`status` filters).
    pub async fn user_invitations(&self, params: &PageParams) -> Result<Page<OrganizationInvitation>, Error> {
        self.page(routes::MY_INVITATIONS, &[], params).await
    }

    /// Accepts an invitation addressed to the user; answers the new membership.
    pub async fn accept_invitation(&self, invitation_id: &str) -> Result<OrganizationMembership, Error> {
        self.one(routes::ACCEPT_INVITATION, &[invitation_id], None).await
    }

    /// Declines an invitation addressed to the user.
    pub async fn decline_invitation(&self, invitation_id: &str) -> Result<OrganizationInvitation, Error> {
        self.one(routes::DECLINE_INVITATION, &[invitation_id], None).await
    }

    /// Leaves an organization (Clerk's `user.leaveOrganization`); answers the membership that ended.
    pub async fn leave_organization(&self, organization_id: &str) -> Result<OrganizationMembership, Error> {
        self.one(routes::LEAVE, &[organization_id], None).await
    }
}
