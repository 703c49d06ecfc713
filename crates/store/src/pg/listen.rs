//! The live head: `LISTEN pacta_log` on a dedicated connection, feeding
//! the log's `watch` channel. The writer's transactions `NOTIFY` the new
//! head as `<position> <hash>`; after (re)connecting, the listener reads
//! the head once, so a head committed while it was away is not missed.

use std::time::Duration;

use pacta_domain::Digest;
use tokio::sync::{mpsc, watch};
use tokio_postgres::{AsyncMessage, Config};

use super::{AbortOnDrop, CHANNEL, Db, read_head};
use crate::{Error, Head};

/// The first wait before reconnecting; it doubles up to [`MAX_BACKOFF`].
const MIN_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Listens for as long as the log is open (the task is aborted when it
/// closes), reconnecting after a lost connection.
pub(super) async fn run(config: Config, head: watch::Sender<Head>) {
    let mut backoff = MIN_BACKOFF;
    loop {
        let mut listening = false;
        if let Err(e) = listen(&config, &head, &mut listening).await {
            tracing::warn!(error = %e, "the log's LISTEN connection failed; reconnecting");
        }
        if listening {
            backoff = MIN_BACKOFF;
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

async fn listen(
    config: &Config,
    head: &watch::Sender<Head>,
    listening: &mut bool,
) -> Result<(), Error> {
    let (client, mut connection) = config.connect(tokio_postgres::NoTls).await.db()?;
    let (tx, mut rx) = mpsc::unbounded_channel::<Result<String, Error>>();
    // Drives the connection (the client's queries too) and hands on the
    // notifications; ends with the connection.
    let _driver = AbortOnDrop(tokio::spawn(async move {
        loop {
            match std::future::poll_fn(|cx| connection.poll_message(cx)).await {
                Some(Ok(AsyncMessage::Notification(n))) => {
                    if tx.send(Ok(n.payload().to_owned())).is_err() {
                        return;
                    }
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => {
                    let _ = tx.send(Err(e).db());
                    return;
                }
                None => return,
            }
        }
    }));
    client
        .batch_execute(&format!("LISTEN {CHANNEL}"))
        .await
        .db()?;
    *listening = true;
    advance(head, read_head(&client).await?);
    while let Some(payload) = rx.recv().await {
        let payload = payload?;
        let next = match parse(&payload) {
            Some(next) => next,
            None => read_head(&client).await?,
        };
        advance(head, next);
    }
    Ok(())
}

/// Moves the watched head forward (never back: notifications of one
/// writer come in commit order, and a re-read head may be older than one
/// the writer in this process already published).
pub(super) fn advance(head: &watch::Sender<Head>, next: Head) {
    head.send_if_modified(|h| {
        let newer = next.position > h.position;
        if newer {
            *h = next;
        }
        newer
    });
}

/// The notification's payload: `<position> <hash>`.
pub(super) fn payload(head: Head) -> String {
    format!("{} {}", head.position, head.hash)
}

fn parse(payload: &str) -> Option<Head> {
    let (position, hash) = payload.split_once(' ')?;
    Some(Head {
        position: position.parse().ok()?,
        hash: Digest::parse(hash).ok()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_round_trip() {
        let head = Head {
            position: 42,
            hash: Digest([0xab; 32]),
        };
        assert_eq!(parse(&payload(head)), Some(head));
        assert_eq!(parse("42"), None);
    }
}
