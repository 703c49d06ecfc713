//! The transparency log over HTTP: the latest signed checkpoint
//! (`GET /checkpoint`, the C2SP tlog-checkpoint note), the verifier key,
//! inclusion and consistency proofs of the Merkle tree, and a record's
//! offline proof bundle (C2SP tlog-proof). Monitors and auditors read
//! them; nothing here writes.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use pacta_registry::transparency::{LogKey, SignedCheckpoint};

use crate::AppState;
use crate::api::{ConsistencyProofDto, InclusionProofDto};
use crate::error::{AppError, Problem};
use crate::request::{BundleQuery, ConsistencyQuery, InclusionQuery, NoQuery, Query};

/// A new checkpoint is signed when the tree grew and the latest is this
/// old: every checkpoint served is at most this much behind the tree.
pub const PUBLISH_EVERY: Duration = Duration::from_secs(5);

/// The log's key and its latest checkpoint, shared by the handlers.
#[derive(Default)]
pub struct Published {
    key: Mutex<Option<Arc<LogKey>>>,
    latest: Mutex<Option<(SignedCheckpoint, Instant)>>,
}

fn unavailable(e: impl std::fmt::Display) -> AppError {
    AppError::new(
        axum::http::StatusCode::SERVICE_UNAVAILABLE,
        "no-tree",
        "No Merkle tree",
        e.to_string(),
    )
}

impl Published {
    /// The log's key, loaded (or made) on first use.
    pub(crate) fn key(&self, state: &AppState) -> Result<Arc<LogKey>, AppError> {
        let mut key = self.key.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(k) = key.as_ref() {
            return Ok(k.clone());
        }
        let loaded = Arc::new(
            LogKey::load_or_create(state.registry.store().path()).map_err(AppError::internal)?,
        );
        *key = Some(loaded.clone());
        Ok(loaded)
    }

    /// The latest checkpoint, signed anew when the tree grew and it is
    /// [`PUBLISH_EVERY`] old, or when `covering` is beyond it.
    fn latest(&self, state: &AppState, covering: u64) -> Result<SignedCheckpoint, AppError> {
        let mut latest = self.latest.lock().unwrap_or_else(|p| p.into_inner());
        let size = state.registry.store().tree_size().map_err(unavailable)?;
        if let Some((checkpoint, at)) = latest.as_ref()
            && checkpoint.size >= covering
            && (checkpoint.size == size || at.elapsed() < PUBLISH_EVERY)
        {
            return Ok(checkpoint.clone());
        }
        let key = self.key(state)?;
        let checkpoint = state
            .registry
            .checkpoint(&key)
            .map_err(AppError::internal)?;
        *latest = Some((checkpoint.clone(), Instant::now()));
        Ok(checkpoint)
    }
}

fn text(body: String) -> Response {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; charset=utf-8",
        )],
        body,
    )
        .into_response()
}

/// The tree's size now, or 503 where there is no tree (PostgreSQL).
fn tree_size(state: &AppState) -> Result<u64, AppError> {
    state.registry.store().tree_size().map_err(unavailable)
}

/// The latest checkpoint of the log's Merkle tree: a C2SP signed note
/// (origin, size, base64 root, then the log's Ed25519 signature). It is
/// at most five seconds behind the tree, which follows the log behind
/// the acknowledgement.
#[utoipa::path(get, path = "/checkpoint", tag = "proofs",
    params(NoQuery),
    responses(
        (status = 200, description = "The signed checkpoint note", body = String, content_type = "text/plain"),
        (status = 503, description = "This store keeps no Merkle tree (PostgreSQL)", body = Problem)))]
pub(crate) async fn checkpoint(
    State(state): State<AppState>,
    _: Query<NoQuery>,
) -> Result<Response, AppError> {
    let published = state.published.clone();
    let s = state.clone();
    let checkpoint = tokio::task::spawn_blocking(move || published.latest(&s, 0))
        .await
        .map_err(AppError::internal)??;
    Ok(text(checkpoint.note))
}

/// The log's verifier key in the signed-note format, to check
/// checkpoints and proof bundles with (`pacta proof verify --key`).
#[utoipa::path(get, path = "/api/v1/proofs/key", tag = "proofs",
    params(NoQuery),
    responses((status = 200, description = "The verifier key", body = String, content_type = "text/plain")))]
pub(crate) async fn key(
    State(state): State<AppState>,
    _: Query<NoQuery>,
) -> Result<Response, AppError> {
    let published = state.published.clone();
    let s = state.clone();
    let key = tokio::task::spawn_blocking(move || published.key(&s))
        .await
        .map_err(AppError::internal)??;
    Ok(text(format!("{}\n", key.verifier_key())))
}

/// The inclusion proof (RFC 9162) of the record at `position` in the
/// tree of the first `size` records (default: the latest checkpoint's).
#[utoipa::path(get, path = "/api/v1/proofs/inclusion", tag = "proofs",
    params(InclusionQuery),
    responses(
        (status = 200, description = "The proof", body = InclusionProofDto),
        (status = 400, description = "A parameter cannot be read", body = Problem),
        (status = 404, description = "The position or size is beyond the tree", body = Problem),
        (status = 503, description = "This store keeps no Merkle tree (PostgreSQL)", body = Problem)))]
pub(crate) async fn inclusion(
    State(state): State<AppState>,
    Query(q): Query<InclusionQuery>,
) -> Result<Json<InclusionProofDto>, AppError> {
    if q.position == 0 || q.size == Some(0) {
        return Err(AppError::bad_request("position and size count from 1"));
    }
    let s = state.clone();
    tokio::task::spawn_blocking(move || {
        let size = match q.size {
            Some(size) => size,
            None => s.published.latest(&s, q.position)?.size,
        };
        let tree = tree_size(&s)?;
        if size > tree {
            return Err(AppError::not_found(format!(
                "the tree holds {tree} records, not {size}"
            )));
        }
        if q.position > size {
            return Err(AppError::not_found(format!(
                "position {} is not in a tree of {size} records",
                q.position
            )));
        }
        let store = s.registry.store();
        let hashes = store
            .prove_inclusion(q.position, size)
            .map_err(AppError::internal)?;
        let leaf = store
            .leaf_bytes(q.position)
            .map_err(AppError::internal)?
            .ok_or_else(|| AppError::not_found(format!("no record at {}", q.position)))?;
        Ok(Json(InclusionProofDto {
            position: q.position,
            index: q.position - 1,
            size,
            root: store
                .tree_root(size)
                .map_err(AppError::internal)?
                .to_base64(),
            leaf_hash: pacta_tlog::leaf_hash(&leaf).to_base64(),
            hashes: hashes.iter().map(|h| h.to_base64()).collect(),
        }))
    })
    .await
    .map_err(AppError::internal)?
}

/// The consistency proof (RFC 9162) that the tree of the first `to`
/// records extends the tree of the first `from`.
#[utoipa::path(get, path = "/api/v1/proofs/consistency", tag = "proofs",
    params(ConsistencyQuery),
    responses(
        (status = 200, description = "The proof", body = ConsistencyProofDto),
        (status = 400, description = "A parameter cannot be read", body = Problem),
        (status = 404, description = "A size is beyond the tree", body = Problem),
        (status = 422, description = "`from` is above `to`", body = Problem),
        (status = 503, description = "This store keeps no Merkle tree (PostgreSQL)", body = Problem)))]
pub(crate) async fn consistency(
    State(state): State<AppState>,
    Query(q): Query<ConsistencyQuery>,
) -> Result<Json<ConsistencyProofDto>, AppError> {
    if q.from == 0 || q.to == 0 {
        return Err(AppError::bad_request("from and to count from 1"));
    }
    let s = state.clone();
    tokio::task::spawn_blocking(move || {
        let tree = tree_size(&s)?;
        if q.to > tree {
            return Err(AppError::not_found(format!(
                "the tree holds {tree} records, not {}",
                q.to
            )));
        }
        if q.from > q.to {
            return Err(AppError::invalid(format!(
                "from ({}) is above to ({})",
                q.from, q.to
            )));
        }
        let store = s.registry.store();
        let hashes = store
            .prove_consistency(q.from, q.to)
            .map_err(AppError::internal)?;
        Ok(Json(ConsistencyProofDto {
            from: q.from,
            to: q.to,
            from_root: store
                .tree_root(q.from)
                .map_err(AppError::internal)?
                .to_base64(),
            to_root: store
                .tree_root(q.to)
                .map_err(AppError::internal)?
                .to_base64(),
            hashes: hashes.iter().map(|h| h.to_base64()).collect(),
        }))
    })
    .await
    .map_err(AppError::internal)?
}

/// The offline proof bundle of the record at `position` (C2SP
/// tlog-proof): the record's canonical bytes as its `extra` line, its
/// index, its inclusion path, and the latest signed checkpoint (signed
/// anew if it does not hold the record yet). `pacta proof verify FILE
/// --key VKEY` checks it with no store.
#[utoipa::path(get, path = "/api/v1/proofs/bundle", tag = "proofs",
    params(BundleQuery),
    responses(
        (status = 200, description = "The bundle", body = String, content_type = "text/plain"),
        (status = 400, description = "A parameter cannot be read", body = Problem),
        (status = 404, description = "The position is beyond the tree", body = Problem),
        (status = 503, description = "This store keeps no Merkle tree (PostgreSQL)", body = Problem)))]
pub(crate) async fn bundle(
    State(state): State<AppState>,
    Query(q): Query<BundleQuery>,
) -> Result<Response, AppError> {
    if q.position == 0 {
        return Err(AppError::bad_request("position counts from 1"));
    }
    let s = state.clone();
    let bundle = tokio::task::spawn_blocking(move || {
        let tree = tree_size(&s)?;
        if q.position > tree {
            return Err(AppError::not_found(format!(
                "position {} is beyond the tree of {tree} records",
                q.position
            )));
        }
        let checkpoint = s.published.latest(&s, q.position)?;
        s.registry
            .proof_bundle(q.position, &checkpoint)
            .map_err(AppError::internal)
    })
    .await
    .map_err(AppError::internal)??;
    Ok(text(bundle))
}
