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
use pacta_registry::witnessing::{Answer, Witnesses};

use crate::AppState;
use crate::api::{ConsistencyProofDto, InclusionProofDto, WitnessDto};
use crate::error::{AppError, Problem};
use crate::request::{BundleQuery, ConsistencyQuery, InclusionQuery, NoQuery, Query};

/// A new checkpoint is signed when the tree grew and the latest is this
/// old: every checkpoint served is at most this much behind the tree.
pub const PUBLISH_EVERY: Duration = Duration::from_secs(5);

/// A file's inode and modification time: a rotation changes both.
type FileIdentity = (u64, std::time::SystemTime);

/// The log's key, its latest checkpoint and its witnesses, shared by the
/// handlers and the publisher.
#[derive(Default)]
pub struct Published {
    /// The key, and its file's identity (inode, modification time) when
    /// it was read.
    key: Mutex<Option<(Arc<LogKey>, FileIdentity)>>,
    /// The latest checkpoint, when it was signed, and by which key.
    latest: Mutex<Option<(SignedCheckpoint, Instant, Arc<LogKey>)>>,
    witnesses: Option<Arc<Witnesses>>,
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
    /// Publishing submits each new checkpoint to these witnesses.
    pub fn with_witnesses(witnesses: Witnesses) -> Published {
        Published {
            witnesses: Some(Arc::new(witnesses)),
            ..Published::default()
        }
    }

    /// The witnesses, if any are configured.
    pub(crate) fn witnesses(&self) -> Option<&Witnesses> {
        self.witnesses.as_deref()
    }

    /// `checkpoint` with the cosignatures the witnesses gave it.
    fn cosigned(&self, mut checkpoint: SignedCheckpoint) -> SignedCheckpoint {
        if let Some(w) = &self.witnesses {
            checkpoint.note = w.cosigned(&checkpoint);
        }
        checkpoint
    }

    /// The log's key, loaded (or made) on first use, and read again when
    /// its file changed (after `pacta key rotate`), so that a rotation
    /// takes effect without a restart.
    pub(crate) fn key(&self, state: &AppState) -> Result<Arc<LogKey>, AppError> {
        let dir = state.registry.store().path();
        let path = dir.join(pacta_registry::transparency::KEY_FILE);
        // A rotation writes a new file (a new inode) in its place.
        let modified = || {
            use std::os::unix::fs::MetadataExt as _;
            let m = std::fs::metadata(&path).ok()?;
            Some((m.ino(), m.modified().ok()?))
        };
        let mut key = self.key.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((k, at)) = key.as_ref()
            && modified() == Some(*at)
        {
            return Ok(k.clone());
        }
        let loaded = Arc::new(LogKey::load_or_create(dir).map_err(AppError::internal)?);
        if let Some(at) = modified() {
            if key.is_some() {
                tracing::info!(key = %loaded.verifier_key(), "the log's key changed; signing with the new one");
            }
            *key = Some((loaded.clone(), at));
        }
        Ok(loaded)
    }

    /// The latest checkpoint, signed anew when the tree grew and it is
    /// [`PUBLISH_EVERY`] old, when `covering` is beyond it, or when the
    /// key changed.
    fn latest(&self, state: &AppState, covering: u64) -> Result<SignedCheckpoint, AppError> {
        let key = self.key(state)?;
        let mut latest = self.latest.lock().unwrap_or_else(|p| p.into_inner());
        let size = state.registry.store().tree_size().map_err(unavailable)?;
        if let Some((checkpoint, at, by)) = latest.as_ref()
            && Arc::ptr_eq(by, &key)
            && checkpoint.size >= covering
            && (checkpoint.size == size || at.elapsed() < PUBLISH_EVERY)
        {
            return Ok(checkpoint.clone());
        }
        let checkpoint = state
            .registry
            .checkpoint(&key)
            .map_err(AppError::internal)?;
        *latest = Some((checkpoint.clone(), Instant::now(), key));
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
/// (origin, size, base64 root, then the log's Ed25519 signature, then
/// the cosignatures of the registry's witnesses that cosigned this very
/// checkpoint). It is at most a few seconds behind the tree, which
/// follows the log behind the acknowledgement.
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
    Ok(text(state.published.cosigned(checkpoint).note))
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
        let checkpoint = s.published.cosigned(s.published.latest(&s, q.position)?);
        s.registry
            .proof_bundle(q.position, &checkpoint)
            .map_err(AppError::internal)
    })
    .await
    .map_err(AppError::internal)??;
    Ok(text(bundle))
}

/// The registry's witnesses and what each has cosigned: its name, URL
/// and key, the latest tree size it cosigned with the cosignature line,
/// and the last error, if its last submission failed. Empty when no
/// witness is configured (`pacta serve --witness URL=VKEY`).
#[utoipa::path(get, path = "/api/v1/proofs/witnesses", tag = "proofs",
    params(NoQuery),
    responses((status = 200, description = "The witnesses", body = Vec<WitnessDto>)))]
pub(crate) async fn witnesses(
    State(state): State<AppState>,
    _: Query<NoQuery>,
) -> Json<Vec<WitnessDto>> {
    let held = state
        .published
        .witnesses()
        .map(Witnesses::status)
        .unwrap_or_default();
    Json(held.into_iter().map(WitnessDto::from).collect())
}

/// How long a witness has to answer a submission.
const WITNESS_ANSWER: Duration = Duration::from_secs(10);

/// Publishes checkpoints while the server runs: every [`PUBLISH_EVERY`],
/// when the tree grew, a new checkpoint is signed and submitted to each
/// witness that has not cosigned it (C2SP tlog-witness `add-checkpoint`,
/// resubmitted once from the size a 409 names). Where the store keeps no
/// tree (PostgreSQL) there is nothing to publish.
pub(crate) async fn publish(state: AppState) {
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<http_body_util::Full<axum::body::Bytes>>();
    let mut tick = tokio::time::interval(PUBLISH_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let s = state.clone();
        let signed = tokio::task::spawn_blocking(move || s.published.latest(&s, 0)).await;
        let (Ok(Ok(checkpoint)), Some(witnesses)) = (signed, state.published.witnesses.clone())
        else {
            continue;
        };
        for witness in witnesses.refs() {
            let name = witness.verifier.name();
            let known_error = witnesses
                .status()
                .into_iter()
                .find(|h| h.name == name)
                .and_then(|h| h.error);
            let answer = submit_to(&state, &witnesses, witness, &checkpoint, &client).await;
            match answer {
                Some(Answer::Cosigned) => {
                    tracing::info!(witness = %name, size = checkpoint.size, "cosigned");
                }
                // Said once per new reason, not every round.
                Some(Answer::Failed(why)) if known_error.as_deref() != Some(why.as_str()) => {
                    tracing::warn!(witness = %name, size = checkpoint.size, error = %why,
                        "the witness did not cosign");
                }
                // Nothing to submit, a known failure, or a second 409: the
                // next round tries again.
                _ => {}
            }
        }
    }
}

type WitnessClient = hyper_util::client::legacy::Client<
    hyper_util::client::legacy::connect::HttpConnector,
    http_body_util::Full<axum::body::Bytes>,
>;

/// Submits `checkpoint` to `witness` unless it cosigned it already
/// (`None`), and once more from the size a 409 names: what came of it.
/// A failure is said in the log once per new reason, by the caller.
async fn submit_to(
    state: &AppState,
    witnesses: &Arc<Witnesses>,
    witness: &pacta_registry::witnessing::WitnessRef,
    checkpoint: &SignedCheckpoint,
    client: &WitnessClient,
) -> Option<Answer> {
    let name = witness.verifier.name().to_owned();
    let mut answer = None;
    for _ in 0..2 {
        let (s, w, n, c) = (
            state.clone(),
            witnesses.clone(),
            name.clone(),
            checkpoint.clone(),
        );
        let body = tokio::task::spawn_blocking(move || w.request(&s.registry, &n, &c))
            .await
            .map_err(|e| e.to_string())
            .and_then(|r| r.map_err(|e| e.to_string()));
        let body = match body {
            Ok(Some(body)) => body,
            Ok(None) => return answer,
            Err(e) => return Some(Answer::Failed(format!("cannot prepare a submission: {e}"))),
        };
        let (w, n, c) = (witnesses.clone(), name.clone(), checkpoint.clone());
        let answered = match submit(client, &witness.url, body).await {
            Ok((status, text)) => {
                tokio::task::spawn_blocking(move || w.answered(&n, &c, status, &text)).await
            }
            Err(why) => {
                let failed = Answer::Failed(format!("unreachable: {why}"));
                tokio::task::spawn_blocking(move || w.unreachable(&n, &why))
                    .await
                    .map(|()| failed)
            }
        };
        match answered.unwrap_or_else(|e| Answer::Failed(e.to_string())) {
            Answer::Resubmit => answer = Some(Answer::Resubmit),
            done => return Some(done),
        }
    }
    answer
}

/// Posts `body` to the witness's `add-checkpoint`: its status and body.
async fn submit(client: &WitnessClient, url: &str, body: String) -> Result<(u16, String), String> {
    use http_body_util::BodyExt as _;
    let request = axum::http::Request::post(format!("{url}/add-checkpoint"))
        .header(axum::http::header::CONTENT_TYPE, "text/plain")
        .body(http_body_util::Full::new(axum::body::Bytes::from(body)))
        .map_err(|e| e.to_string())?;
    let answer = tokio::time::timeout(WITNESS_ANSWER, async {
        let response = client.request(request).await.map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let body = http_body_util::Limited::new(response.into_body(), 64 * 1024)
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes();
        Ok::<_, String>((status, String::from_utf8_lossy(&body).into_owned()))
    })
    .await;
    answer.unwrap_or_else(|_| Err(format!("no answer within {WITNESS_ANSWER:?}")))
}

/// A tile of the tree for mirrors and monitors (C2SP tlog-tiles):
/// `GET /tile/L/N[.p/W]` (hashes) and `GET /tile/entries/N[.p/W]`
/// (records' canonical bytes, each prefixed by its length as a uint16).
/// A tile never changes once the tree holds it, so it may be cached for
/// good; one the tree does not hold yet is 404.
pub(crate) async fn tile(
    State(state): State<AppState>,
    axum::extract::Path(path): axum::extract::Path<String>,
) -> Result<Response, AppError> {
    let tile = pacta_tlog::tile::Tile::parse(&path).map_err(|e| {
        AppError::bad_request(format!(
            "{e}: a tile is tile/LEVEL/INDEX[.p/WIDTH] or tile/entries/INDEX[.p/WIDTH], \
             INDEX in groups of three digits (x001/x234/067)"
        ))
    })?;
    let s = state.clone();
    let bytes = tokio::task::spawn_blocking(move || {
        tree_size(&s)?;
        s.registry.store().tile(&tile).map_err(AppError::internal)
    })
    .await
    .map_err(AppError::internal)??
    .ok_or_else(|| {
        AppError::not_found(format!(
            "{} is beyond the tree as it stands",
            tile.to_path()
        ))
    })?;
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "application/octet-stream"),
            (
                axum::http::header::CACHE_CONTROL,
                "public, max-age=31536000, immutable",
            ),
        ],
        bytes,
    )
        .into_response())
}
