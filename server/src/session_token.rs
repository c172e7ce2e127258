//! Minting session tokens: the claims every session token carries (Clerk's v2 shape, see
//! `hallpass_protocol::claims`), with the active organization — or another organization the user
//! belongs to, for `getToken({ organizationId })` — as `o` and `fea`, read from the membership at that
//! moment: a role change shows in the next token, a removed member's next token has no `o`.

use hallpass_protocol::{OrgClaims, OrgClaimsV2, SessionClaims};

use crate::error::{ApiError, ApiResult};
use crate::secret::random_base62;
use crate::state::AppState;
use crate::store::{MemberGrant, StoreError};

/// A minted session token.
pub struct Minted {
    pub jwt: String,
    /// Whole seconds left from `now`, rounded down: never promises more than the token has.
    pub expires_in: u32,
    /// The server time the token was minted at (ms).
    pub now: i64,
    /// The organization the token carries, decoded (what the SDK is sent beside it).
    pub organization: Option<OrgClaims>,
}

/// The organization a token is for: the session's active one, looked up now (`None` when the user
/// is not a member any more, so the token has no `o`).
pub async fn active_grant(
    state: &AppState,
    active_organization_id: Option<&str>,
    user_id: &str,
) -> Result<Option<MemberGrant>, StoreError> {
    match active_organization_id {
        Some(org) => state.store.member_grant(org, user_id).await,
        None => Ok(None),
    }
}

/// Signs a session token for `user_id`'s session `session_id`, carrying `org` when given, on a
/// signing slot with the key that signs now, leased past the token's expiry (see `crate::keyring`).
/// `origin` becomes `azp` (only allow-listed origins reach a handler).
pub async fn mint(
    state: &AppState,
    user_id: &str,
    session_id: &str,
    org: Option<&MemberGrant>,
    origin: Option<String>,
) -> ApiResult<Minted> {
    let now = state.now_ms();
    let iat = now.div_euclid(1000);
    let (o, fea) = match org {
        Some(g) => {
            let (o, fea) = OrgClaimsV2::encode(&g.organization_id, &g.slug, &g.role_key, &g.permissions);
            (Some(o), fea)
        }
        None => (None, None),
    };
    let claims = SessionClaims {
        sub: user_id.to_owned(),
        sid: session_id.to_owned(),
        iss: state.public_url(),
        azp: origin,
        exp: iat + i64::from(state.config.token_lifetime_secs),
        iat,
        nbf: iat,
        jti: random_base62(20)?,
        v: crate::jwt::SESSION_TOKEN_VERSION,
        fea,
        o,
    };
    let exp = claims.exp;
    let jwt = state.keys.sign(claims, now, exp * 1000).await.map_err(ApiError::internal)?;
    let expires_in = u32::try_from((exp * 1000 - now).div_euclid(1000)).unwrap_or(0);
    let organization = org.map(MemberGrant::to_claims);
    Ok(Minted { jwt, expires_in, now, organization })
}
