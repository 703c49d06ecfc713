//! Errors as RFC 9457 problem details, and the extractors whose rejections
//! are such errors.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use pacta_registry::CommandError;
use serde::Serialize;
use utoipa::ToSchema;

/// The media type of every error answer.
pub(crate) const PROBLEM_JSON: &str = "application/problem+json";

/// An RFC 9457 problem: `type`, `title`, `status`, `detail`, and for some
/// kinds extension members (the refused event's state and the events
/// allowed there; a conflict's versions).
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem, e.g. `urn:pacta:problem:refused`.
    #[serde(rename = "type")]
    pub kind: String,
    /// A short summary of the kind.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// What went wrong with this request.
    pub detail: String,
    /// For a refused event: the state it met.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// For a refused event: the event types that state accepts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed: Option<Vec<String>>,
    /// For a version conflict: the version expected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected_version: Option<u64>,
    /// For a version conflict: the stream's version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actual_version: Option<u64>,
    /// For a refused request field: its path (`source.title`, `valid_on`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// For a lookup that matched more than one: what it matched.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub candidates: Option<Vec<String>>,
    /// Sent as the `Retry-After` header, not in the body.
    #[serde(skip)]
    pub retry_after: Option<u64>,
}

/// Every error a handler returns.
#[derive(Debug)]
pub struct AppError(Box<Problem>);

impl AppError {
    /// A problem of a kind with a status and detail.
    pub fn new(status: StatusCode, kind: &str, title: &str, detail: impl Into<String>) -> AppError {
        AppError(Box::new(Problem {
            kind: format!("urn:pacta:problem:{kind}"),
            title: title.to_owned(),
            status: status.as_u16(),
            detail: detail.into(),
            state: None,
            allowed: None,
            expected_version: None,
            actual_version: None,
            field: None,
            candidates: None,
            retry_after: None,
        }))
    }

    /// 422 for one field of a request (its path; empty for the whole).
    pub fn invalid_field(field: &str, e: impl std::fmt::Display) -> AppError {
        AppError::invalid(format!("{}{e}", at(field))).with_field(field)
    }

    /// 400 for one field of a request (its path; empty for the whole).
    pub fn bad_request_field(field: &str, e: impl std::fmt::Display) -> AppError {
        AppError::bad_request(format!("{}{e}", at(field))).with_field(field)
    }

    /// The same problem naming the field it is about (none when empty).
    pub fn with_field(mut self, field: &str) -> AppError {
        if !field.is_empty() {
            self.0.field = Some(field.to_owned());
        }
        self
    }

    /// The same problem listing what an ambiguous lookup matched.
    pub fn with_candidates(mut self, candidates: Vec<String>) -> AppError {
        self.0.candidates = Some(candidates);
        self
    }

    /// Adds an answer header (e.g. `Retry-After`) to the problem; see
    /// [`IntoResponse`].
    pub fn retry_after(mut self, seconds: u64) -> AppError {
        self.0.retry_after = Some(seconds);
        self
    }

    /// 400: the request cannot be read.
    pub fn bad_request(detail: impl Into<String>) -> AppError {
        AppError::new(
            StatusCode::BAD_REQUEST,
            "malformed",
            "Malformed request",
            detail,
        )
    }

    /// 422: well-formed but not valid.
    pub fn invalid(detail: impl Into<String>) -> AppError {
        AppError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            "Invalid content",
            detail,
        )
    }

    /// 404.
    pub fn not_found(detail: impl Into<String>) -> AppError {
        AppError::new(StatusCode::NOT_FOUND, "not-found", "Not found", detail)
    }

    /// 401.
    pub fn unauthorized(detail: impl Into<String>) -> AppError {
        AppError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Authentication required",
            detail,
        )
    }

    /// 500; the detail is logged, not sent.
    pub fn internal(detail: impl std::fmt::Display) -> AppError {
        tracing::error!(error = %detail, "internal error");
        AppError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Internal error",
            "the server failed; the request id in the log has the details",
        )
    }

    /// A store error: a record too large is 413; a full disk 507; a store
    /// that stopped after a storage failure 503 (it recovers by
    /// restarting), as is a write to a PostgreSQL log another instance
    /// leads (this one takes over when that one stops); anything else 500.
    pub fn from_store(e: pacta_store::Error) -> AppError {
        use pacta_store::Error as E;
        match e {
            E::TooLarge { .. } => AppError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too-large",
                "Event too large",
                e.to_string(),
            ),
            e if e.is_disk_full() => {
                tracing::error!(error = %e, "the disk is full");
                AppError::new(
                    StatusCode::INSUFFICIENT_STORAGE,
                    "disk-full",
                    "Disk full",
                    "the registry's disk is full: this write was not acknowledged, and no \
                     write is until the registry restarts after space is freed; every \
                     acknowledged event is kept",
                )
            }
            E::NotLeader { .. } => {
                tracing::info!(error = %e, "write refused: another instance leads");
                AppError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "not-leader",
                    "Another instance writes",
                    e.to_string(),
                )
            }
            E::Stopped { .. } | E::Damaged { .. } | E::Shutdown => {
                tracing::error!(error = %e, "write refused");
                AppError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "Not accepting writes",
                    e.to_string(),
                )
            }
            e => AppError::internal(e),
        }
    }

    /// The problem.
    pub fn problem(&self) -> &Problem {
        &self.0
    }
}

/// The prefix naming a field before its message; none for the whole request.
fn at(field: &str) -> String {
    if field.is_empty() {
        String::new()
    } else {
        format!("{field}: ")
    }
}

impl From<CommandError> for AppError {
    fn from(e: CommandError) -> AppError {
        match e {
            CommandError::Invalid(d) => AppError::invalid(d),
            CommandError::UnknownParty(p) => AppError::invalid(format!("party {p} does not exist")),
            CommandError::Refused(r) => {
                let mut err = AppError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "refused",
                    "Refused by the lifecycle",
                    r.to_string(),
                );
                err.0.state = Some(r.state.clone());
                err.0.allowed = Some(r.allowed.iter().map(|t| t.to_string()).collect());
                err
            }
            CommandError::NotFound(d) => AppError::not_found(d),
            CommandError::Conflict { expected, actual } => {
                let mut err = AppError::new(
                    StatusCode::CONFLICT,
                    "conflict",
                    "Version conflict",
                    format!("expected version {expected}, the stream is at {actual}"),
                );
                err.0.expected_version = Some(expected);
                err.0.actual_version = Some(actual);
                err
            }
            CommandError::IdempotencyMismatch(d) => AppError::new(
                StatusCode::CONFLICT,
                "idempotency-mismatch",
                "Event id used by another request",
                d,
            ),
            CommandError::Taken(d) => {
                AppError::new(StatusCode::CONFLICT, "taken", "Already taken", d)
            }
            CommandError::Forbidden(d) => {
                AppError::new(StatusCode::FORBIDDEN, "forbidden", "Forbidden", d)
            }
            CommandError::Store(e) => AppError::from_store(e),
            e => AppError::internal(e),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.0.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, axum::Json(&*self.0)).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if let Some(seconds) = self.0.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}
