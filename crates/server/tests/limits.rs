//! The listener's limits over real sockets: a client that sends half a
//! header is cut off, connections over the cap are answered 503, shutdown
//! keeps its deadline, live-stream subscribers are capped, and one that
//! stops reading is dropped. The timeouts below only bound a failing test;
//! none of them measures speed.

use std::sync::Arc;
use std::time::Duration;

use pacta_registry::Registry;
use pacta_server::{AppState, Limits, app, listen};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Long enough that a test that fails by hanging does not hang CI.
const GIVE_UP: Duration = Duration::from_secs(60);

struct Server {
    addr: std::net::SocketAddr,
    state: AppState,
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
    _dir: tempfile::TempDir,
}

async fn start(limits: Limits, partnerships: u64) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_owned();
    let registry = tokio::task::spawn_blocking(move || {
        let registry = Registry::open(path).unwrap();
        if partnerships > 0 {
            pacta_registry::synthetic::generate(&registry, partnerships, 1, &mut |_, _| {})
                .unwrap();
        }
        registry
    })
    .await
    .unwrap();
    let (state, shutdown) = AppState::with_limits(Arc::new(registry), limits.clone()).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let router = app(state.clone());
    let task = tokio::spawn(async move {
        listen::serve(listener, router, &limits, async move {
            let _ = stopped.await;
            let _ = shutdown.send(true);
        })
        .await;
    });
    Server {
        addr,
        state,
        stop,
        task,
        _dir: dir,
    }
}

/// Everything the server sends until it closes the connection.
async fn read_to_close(stream: &mut TcpStream) -> String {
    let mut all = Vec::new();
    tokio::time::timeout(GIVE_UP, stream.read_to_end(&mut all))
        .await
        .expect("the server closed the connection")
        .ok();
    String::from_utf8_lossy(&all).into_owned()
}

/// The answer's head (status line and headers) to a request.
async fn head_of(stream: &mut TcpStream) -> String {
    let mut got = Vec::new();
    let mut byte = [0u8; 1];
    tokio::time::timeout(GIVE_UP, async {
        while !got.ends_with(b"\r\n\r\n") {
            if stream.read(&mut byte).await.unwrap() == 0 {
                break;
            }
            got.push(byte[0]);
        }
    })
    .await
    .expect("an answer");
    String::from_utf8_lossy(&got).into_owned()
}

#[tokio::test]
async fn half_a_header_is_cut_off() {
    let server = start(
        Limits {
            header_read: Duration::from_millis(300),
            ..Limits::default()
        },
        0,
    )
    .await;
    let mut slow = TcpStream::connect(server.addr).await.unwrap();
    slow.write_all(b"GET /livez HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    // Never finished: the server closes it (without a limit it would wait
    // forever, and this read with it).
    let answer = read_to_close(&mut slow).await;
    assert!(!answer.contains("200 OK"), "{answer}");
    // A client that sends its header in time is answered.
    let mut quick = TcpStream::connect(server.addr).await.unwrap();
    quick
        .write_all(b"GET /livez HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    assert!(read_to_close(&mut quick).await.contains("200 OK"));
}

#[tokio::test]
async fn connections_over_the_cap_are_answered_503() {
    let server = start(
        Limits {
            max_connections: 2,
            ..Limits::default()
        },
        0,
    )
    .await;
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut s = TcpStream::connect(server.addr).await.unwrap();
        s.write_all(b"GET /livez HTTP/1.1\r\n").await.unwrap();
        held.push(s);
    }
    // The accept loop takes connections in order: give it the two first.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut third = TcpStream::connect(server.addr).await.unwrap();
    let answer = read_to_close(&mut third).await;
    assert!(answer.starts_with("HTTP/1.1 503"), "over the cap: {answer}");
    assert!(answer.contains("application/problem+json"), "{answer}");
    assert!(answer.to_lowercase().contains("retry-after: 1"), "{answer}");
    assert!(answer.contains("\"status\":503"), "{answer}");
    // A place freed is a place taken again.
    drop(held.pop());
    let answered = tokio::time::timeout(GIVE_UP, async {
        loop {
            let mut s = TcpStream::connect(server.addr).await.unwrap();
            s.write_all(b"GET /livez HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                .await
                .unwrap();
            let answer = read_to_close(&mut s).await;
            if answer.contains("200 OK") {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    assert!(answered.is_ok(), "a freed place is used again");
}

#[tokio::test]
async fn shutdown_keeps_its_deadline() {
    let server = start(
        Limits {
            shutdown_grace: Duration::from_millis(300),
            ..Limits::default()
        },
        0,
    )
    .await;
    // A request whose body never arrives is in flight until the deadline.
    let mut stuck = TcpStream::connect(server.addr).await.unwrap();
    stuck
        .write_all(
            b"POST /api/v1/parties HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
              Content-Length: 1000\r\n\r\n{\"id\":",
        )
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    server.stop.send(()).unwrap();
    tokio::time::timeout(GIVE_UP, server.task)
        .await
        .expect("shutdown ends at its deadline, whatever is in flight")
        .unwrap();
    drop(stuck);
}

#[tokio::test]
async fn live_stream_subscribers_are_capped() {
    let server = start(
        Limits {
            max_subscribers: 1,
            ..Limits::default()
        },
        0,
    )
    .await;
    let request = b"GET /api/v1/events/stream HTTP/1.1\r\nHost: x\r\n\r\n";
    let mut first = TcpStream::connect(server.addr).await.unwrap();
    first.write_all(request).await.unwrap();
    assert!(head_of(&mut first).await.starts_with("HTTP/1.1 200"));
    let mut second = TcpStream::connect(server.addr).await.unwrap();
    second.write_all(request).await.unwrap();
    let head = head_of(&mut second).await;
    assert!(head.starts_with("HTTP/1.1 503"), "{head}");
    assert!(head.to_lowercase().contains("retry-after: 5"), "{head}");
    // The place is the subscriber's while it is connected.
    drop(first);
    let taken = tokio::time::timeout(GIVE_UP, async {
        loop {
            let mut again = TcpStream::connect(server.addr).await.unwrap();
            again.write_all(request).await.unwrap();
            if head_of(&mut again).await.starts_with("HTTP/1.1 200") {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    assert!(
        taken.is_ok(),
        "a subscriber's place is freed when it leaves"
    );
}

#[tokio::test]
async fn a_subscriber_that_stops_reading_is_dropped() {
    // Enough records that the stream from position 0 fills every buffer
    // between the server and a reader that does not read.
    let server = start(
        Limits {
            stalled_reader: Duration::from_millis(500),
            ..Limits::default()
        },
        3000,
    )
    .await;
    let head = server.state.registry.store().head().position;
    assert!(head > 20_000, "{head} records");
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut reader = socket.connect(server.addr).await.unwrap();
    reader
        .write_all(b"GET /api/v1/events/stream HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    // It reads nothing for a while: the server gives up on it...
    tokio::time::sleep(Duration::from_secs(3)).await;
    // ...so reading now ends at what was already on its way, not with the
    // whole log followed by a stream that never ends.
    let got = read_to_close(&mut reader).await;
    let records = got.matches("event: record").count();
    assert!(
        (records as u64) < head,
        "dropped before the end: {records} of {head} records"
    );
}
