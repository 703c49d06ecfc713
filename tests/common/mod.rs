//! Helpers shared by the end-to-end tests: run the real `pacta` binary.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};

/// The `pacta` binary with `--data dir`.
pub fn pacta(data: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pacta"));
    cmd.arg("--data").arg(data);
    cmd.env_remove("PACTA_DATA");
    cmd.env("RUST_LOG", "warn");
    cmd
}

/// Runs and requires success; returns stdout.
#[track_caller]
pub fn ok(cmd: &mut Command) -> String {
    let out = cmd.output().expect("pacta runs");
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

/// Runs and requires failure; returns the output.
#[track_caller]
pub fn fails(cmd: &mut Command) -> Output {
    let out = cmd.output().expect("pacta runs");
    assert!(
        !out.status.success(),
        "{cmd:?} should have failed: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    out
}

/// The address a starting `pacta serve` (or `pacta witness serve`)
/// prints on its first line.
pub fn listening_on(stdout: impl std::io::Read) -> String {
    use std::io::BufRead;
    let mut line = String::new();
    std::io::BufReader::new(stdout)
        .read_line(&mut line)
        .unwrap();
    line.trim()
        .strip_prefix("pacta listening on http://")
        .or_else(|| {
            line.trim()
                .strip_prefix("pacta witness listening on http://")
        })
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned()
}

/// Starts a server command (`pacta … serve --listen 127.0.0.1:0`) and
/// returns it with the address it listens on.
pub fn serving(cmd: &mut Command) -> (std::process::Child, String) {
    let mut child = cmd
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let addr = listening_on(child.stdout.take().unwrap());
    (child, addr)
}

/// A token made with `pacta token add NAME --role clerk --party PARTY`.
pub fn clerk_token(data: &Path, name: &str, party: &str) -> String {
    let token = ok(pacta(data).args(["token", "add", name, "--role", "clerk", "--party", party]));
    token.trim().to_owned()
}

/// Stops a `pacta serve` with SIGTERM and requires a clean exit.
#[track_caller]
pub fn stop(server: &mut std::process::Child) {
    Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .expect("kill runs");
    let status = server.wait().expect("the server exits");
    assert!(status.success(), "the server stopped with {status}");
}

/// Stderr as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A minimal HTTP/1.1 client for the end-to-end tests: one request per
/// connection, `Connection: close`, the body read to the end.
pub mod http {
    use std::io::{Read, Write};
    use std::net::TcpStream;
    use std::time::Duration;

    /// Status and body of a response.
    pub struct Response {
        pub status: u16,
        pub headers: String,
        pub body: String,
    }

    impl Response {
        /// The body as JSON.
        pub fn json(&self) -> serde_json::Value {
            serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
        }
    }

    /// Sends a request and reads the whole response (the server must
    /// answer: any failure to connect, write or read panics).
    pub fn request(
        addr: &str,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&str>,
    ) -> Response {
        let text = exchange(addr, method, path, token, body, None).expect("the server answers");
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let body = if is_chunked(head) {
            dechunk(body).0
        } else {
            body.to_owned()
        };
        Response {
            status,
            headers: head.to_owned(),
            body,
        }
    }

    /// [`request`] for a server that may die meanwhile: a failed
    /// connection, a read or write past `timeout`, or an answer cut short
    /// is an error to handle.
    pub fn try_request(
        addr: &str,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&str>,
        timeout: Duration,
    ) -> std::io::Result<Response> {
        let text = exchange(addr, method, path, token, body, Some(timeout))?;
        let Some((head, body)) = text.split_once("\r\n\r\n") else {
            return Err(std::io::Error::other(format!(
                "no complete answer: {text:?}"
            )));
        };
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| std::io::Error::other(format!("no status line: {head:?}")))?;
        let body = if is_chunked(head) {
            match dechunk(body) {
                (body, true) => body,
                (_, false) => return Err(std::io::Error::other("a chunked body cut short")),
            }
        } else {
            body.to_owned()
        };
        Ok(Response {
            status,
            headers: head.to_owned(),
            body,
        })
    }

    /// Sends one request on its own connection and reads the answer to
    /// its end, as text.
    fn exchange(
        addr: &str,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&str>,
        timeout: Option<Duration>,
    ) -> std::io::Result<String> {
        let mut stream = TcpStream::connect(addr)?;
        stream.set_read_timeout(timeout)?;
        stream.set_write_timeout(timeout)?;
        let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
        if let Some(t) = token {
            req.push_str(&format!("Authorization: Bearer {t}\r\n"));
        }
        let body = body.unwrap_or("");
        if !body.is_empty() {
            req.push_str(&format!(
                "Content-Type: application/json\r\nContent-Length: {}\r\n",
                body.len()
            ));
        }
        req.push_str("\r\n");
        req.push_str(body);
        stream.write_all(req.as_bytes())?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw)?;
        Ok(String::from_utf8_lossy(&raw).into_owned())
    }

    fn is_chunked(head: &str) -> bool {
        head.to_ascii_lowercase()
            .contains("transfer-encoding: chunked")
    }

    /// The chunks of a chunked body, and whether it reached its last
    /// chunk (what came before a cut is kept).
    fn dechunk(mut body: &str) -> (String, bool) {
        let mut out = String::new();
        while let Some((size, rest)) = body.split_once("\r\n") {
            let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
                return (out, false);
            };
            if n == 0 {
                return (out, true);
            }
            let Some(chunk) = rest.get(..n) else {
                return (out, false);
            };
            out.push_str(chunk);
            body = rest[n..].trim_start_matches("\r\n");
        }
        (out, false)
    }
}
