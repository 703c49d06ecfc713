//! Token administration while the server runs: an admin adds, lists and
//! revokes bearer tokens over HTTP, effective at the next request (the
//! CLI's `pacta token …` needs the store to itself, so it works only while
//! no server holds it).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use pacta_registry::tokens::{TokenError, TokenInfo};
use pacta_registry::{Actor, Role};
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::error::{AppError, Problem};
use crate::request::{AddTokenBody, Body, NoQuery, Query};
use crate::routes::Writer;

/// A token's record (never the token).
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct TokenDto {
    /// Its name.
    pub name: String,
    /// `reader`, `clerk` or `admin`.
    pub role: String,
    /// A clerk's party.
    pub party: Option<String>,
    /// When it was made (RFC 3339).
    pub created_at: String,
    /// When it was revoked; absent while it works.
    pub revoked_at: Option<String>,
}

impl From<&TokenInfo> for TokenDto {
    fn from(t: &TokenInfo) -> Self {
        TokenDto {
            name: t.name.to_string(),
            role: t.role.to_string(),
            party: t.party.as_ref().map(|p| p.to_string()),
            created_at: t.created_at.to_string(),
            revoked_at: t.revoked_at.map(|t| t.to_string()),
        }
    }
}

/// Every token.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct TokenList {
    /// The tokens, in name order.
    pub items: Vec<TokenDto>,
}

/// A token just made: the only time it is shown.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct NewTokenDto {
    /// The bearer token; only its hash is kept, so keep it now.
    pub token: String,
    /// Its record.
    #[serde(flatten)]
    pub info: TokenDto,
}

fn admin_only(actor: &Actor) -> Result<(), AppError> {
    if actor.role == Role::Admin {
        Ok(())
    } else {
        Err(AppError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "Forbidden",
            format!(
                "token {} is a {}; tokens are managed by admins",
                actor.name, actor.role
            ),
        ))
    }
}

fn token_error(e: TokenError) -> AppError {
    match e {
        TokenError::Exists(_) => AppError::new(
            StatusCode::CONFLICT,
            "exists",
            "Already exists",
            e.to_string(),
        ),
        TokenError::Unknown(_) => AppError::not_found(e.to_string()),
        TokenError::Invalid(d) => AppError::invalid(d),
        e => AppError::internal(e),
    }
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, TokenError> + Send + 'static,
) -> Result<T, AppError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(AppError::internal)?
        .map_err(token_error)
}

/// Every token (admin).
#[utoipa::path(get, path = "/api/v1/admin/tokens", tag = "admin",
    params(NoQuery),
    security(("bearer" = [])),
    responses((status = 200, description = "Every token, revoked ones included", body = TokenList),
        (status = 401, description = "No valid bearer token", body = Problem),
        (status = 403, description = "Not an admin's token", body = Problem)))]
pub(crate) async fn list_tokens(
    State(state): State<AppState>,
    Writer(actor): Writer,
    _: Query<NoQuery>,
) -> Result<Json<TokenList>, AppError> {
    admin_only(&actor)?;
    let tokens = state.tokens.clone();
    let all = blocking(move || tokens.list()).await?;
    Ok(Json(TokenList {
        items: all.iter().map(TokenDto::from).collect(),
    }))
}

/// Makes a token (admin): 201 with the token, shown this once.
#[utoipa::path(post, path = "/api/v1/admin/tokens", tag = "admin",
    request_body = AddTokenBody,
    security(("bearer" = [])),
    responses((status = 201, description = "Made; `token` is shown only now", body = NewTokenDto),
        (status = 403, description = "Not an admin's token", body = Problem),
        (status = 409, description = "The name was used before (names are never reused)", body = Problem)))]
pub(crate) async fn add_token(
    State(state): State<AppState>,
    Writer(actor): Writer,
    Body(body): Body<AddTokenBody>,
) -> Result<Response, AppError> {
    admin_only(&actor)?;
    if let Some(party) = &body.party
        && !state
            .registry
            .projections()
            .parties()
            .contains(party.as_str())
    {
        return Err(AppError::invalid_field(
            "party",
            format!("no party {party}"),
        ));
    }
    let tokens = state.tokens.clone();
    let (token, info) = blocking(move || {
        let token = tokens.add(&body.name, body.role, body.party)?;
        let info = tokens
            .list()?
            .into_iter()
            .find(|t| t.name == body.name)
            .ok_or_else(|| TokenError::Unknown(body.name.to_string()))?;
        Ok((token, info))
    })
    .await?;
    tracing::info!(by = %actor.name, name = %info.name, role = %info.role, "token made");
    Ok((
        StatusCode::CREATED,
        Json(NewTokenDto {
            token,
            info: TokenDto::from(&info),
        }),
    )
        .into_response())
}

/// Revokes a token (admin): it stops working at once, and its name stays
/// taken (events name it as their author).
#[utoipa::path(delete, path = "/api/v1/admin/tokens/{name}", tag = "admin",
    params(("name" = String, Path, description = "The token's name")),
    security(("bearer" = [])),
    responses((status = 200, description = "Revoked; its record", body = TokenDto),
        (status = 403, description = "Not an admin's token", body = Problem),
        (status = 409, description = "The token of this very request (another admin token revokes it)", body = Problem),
        (status = 404, description = "No token of that name", body = Problem)))]
pub(crate) async fn revoke_token(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Writer(actor): Writer,
    _: Query<NoQuery>,
) -> Result<Json<TokenDto>, AppError> {
    admin_only(&actor)?;
    if actor.name == name {
        // Revoking the token in use would lock its holder out mid-request;
        // another admin token does it.
        return Err(AppError::new(
            StatusCode::CONFLICT,
            "token-in-use",
            "Token in use",
            format!("{name} is the token of this request; revoke it with another admin token"),
        ));
    }
    let tokens = state.tokens.clone();
    let info = blocking(move || tokens.revoke(&name)).await?;
    tracing::info!(by = %actor.name, name = %info.name, "token revoked");
    Ok(Json(TokenDto::from(&info)))
}
