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

/// The address a starting `pacta serve` prints on its first line.
pub fn listening_on(stdout: impl std::io::Read) -> String {
    use std::io::BufRead;
    let mut line = String::new();
    std::io::BufReader::new(stdout)
        .read_line(&mut line)
        .unwrap();
    line.trim()
        .strip_prefix("pacta listening on http://")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned()
}

/// A token made with `pacta token add NAME --role clerk --party PARTY`.
pub fn clerk_token(data: &Path, name: &str, party: &str) -> String {
    let token = ok(pacta(data).args(["token", "add", name, "--role", "clerk", "--party", party]));
    token.trim().to_owned()
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

    /// Sends a request and reads the whole response.
    pub fn request(
        addr: &str,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&str>,
    ) -> Response {
        let mut stream = TcpStream::connect(addr).expect("the server accepts");
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
        stream.write_all(req.as_bytes()).unwrap();
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).unwrap();
        let text = String::from_utf8_lossy(&raw).into_owned();
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let body = if head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked")
        {
            dechunk(body)
        } else {
            body.to_owned()
        };
        Response {
            status,
            headers: head.to_owned(),
            body,
        }
    }

    fn dechunk(mut body: &str) -> String {
        let mut out = String::new();
        while let Some((size, rest)) = body.split_once("\r\n") {
            let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
            if n == 0 {
                break;
            }
            out.push_str(&rest[..n]);
            body = rest[n..].trim_start_matches("\r\n");
        }
        out
    }
}
