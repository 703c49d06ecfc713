//! Reading beside a running server: `pacta serve` holds the store (one
//! process at a time may open it) and names the address it answers on in
//! the data directory ([`pacta_server::ADDRESS_FILE`]). While it runs,
//! the read commands ask it over HTTP for the same answers (the API's
//! JSON is what they print) instead of opening the store.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, bail};
use serde::de::DeserializeOwned;

/// How long a connection to a local server may take to open.
const CONNECT: Duration = Duration::from_secs(2);
/// How long an answer may take (reports and verification of a large log
/// take seconds).
const ANSWER: Duration = Duration::from_secs(600);

/// A running server of the same data directory.
pub struct Remote {
    address: SocketAddr,
}

impl Remote {
    /// The server the data directory names, if it answers.
    pub fn find(data: &Path) -> Option<Remote> {
        let text = std::fs::read(data.join(pacta_server::ADDRESS_FILE)).ok()?;
        let announced: pacta_server::Announcement = serde_json::from_slice(&text).ok()?;
        let remote = Remote {
            address: announced.address,
        };
        let (status, _) = remote.raw("/livez", "application/json").ok()?;
        (status == 200).then_some(remote)
    }

    /// Where it answers.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// `GET path` answered with JSON, read as `T`; an answer other than
    /// 2xx is an error with the problem's detail.
    pub fn get<T: DeserializeOwned>(&self, path: &str) -> anyhow::Result<T> {
        let body = self.text(path, "application/json")?;
        serde_json::from_str(&body)
            .with_context(|| format!("the server's answer to {path} cannot be read"))
    }

    /// `GET path` with an `Accept` header, the body as text; an answer
    /// other than 2xx is an error with the problem's detail.
    pub fn text(&self, path: &str, accept: &str) -> anyhow::Result<String> {
        let (status, body) = self
            .raw(path, accept)
            .with_context(|| format!("the server at {} did not answer", self.address))?;
        if !(200..300).contains(&status) {
            let detail = serde_json::from_str::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v["detail"].as_str().map(str::to_owned))
                .unwrap_or_else(|| format!("the server answered {status}"));
            bail!("{detail}");
        }
        Ok(body)
    }

    /// One request on its own connection: status and body.
    fn raw(&self, path: &str, accept: &str) -> std::io::Result<(u16, String)> {
        let mut stream = TcpStream::connect_timeout(&self.address, CONNECT)?;
        stream.set_read_timeout(Some(ANSWER))?;
        stream.set_write_timeout(Some(CONNECT))?;
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: {}\r\nAccept: {accept}\r\nConnection: close\r\n\r\n",
            self.address
        )?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw)?;
        let split = raw
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .ok_or_else(|| std::io::Error::other("an answer without a head"))?;
        let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
        let body = &raw[split + 4..];
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| std::io::Error::other("an answer without a status"))?;
        let body = if head.contains("transfer-encoding: chunked") {
            dechunk(body)?
        } else {
            body.to_vec()
        };
        let body = String::from_utf8(body).map_err(std::io::Error::other)?;
        Ok((status, body))
    }
}

/// The data of a chunked body.
fn dechunk(mut body: &[u8]) -> std::io::Result<Vec<u8>> {
    let cut = || std::io::Error::other("a chunked answer cut short");
    let mut out = Vec::new();
    loop {
        let line = body.windows(2).position(|w| w == b"\r\n").ok_or_else(cut)?;
        let size = std::str::from_utf8(&body[..line]).map_err(|_| cut())?;
        let size = size.split(';').next().unwrap_or("").trim();
        let n = usize::from_str_radix(size, 16).map_err(|_| cut())?;
        if n == 0 {
            return Ok(out);
        }
        let chunk = body.get(line + 2..line + 2 + n).ok_or_else(cut)?;
        out.extend_from_slice(chunk);
        body = body.get(line + 4 + n..).ok_or_else(cut)?;
    }
}

/// A query string of the pairs that have a value (`?a=1&b=x%20y`, or
/// nothing), percent-encoded.
pub fn query(pairs: &[(&str, Option<String>)]) -> String {
    let mut out = String::new();
    for (key, value) in pairs {
        let Some(value) = value else { continue };
        out.push(if out.is_empty() { '?' } else { '&' });
        out.push_str(key);
        out.push('=');
        out.push_str(&encode(value));
    }
    out
}

pub use pacta_documents::web::encode;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_encoded() {
        assert_eq!(
            query(&[
                ("party", Some("Plzeň Region".into())),
                ("status", None),
                ("as_known_at", Some("2026-01-01T00:00:00.000000Z".into())),
            ]),
            "?party=Plze%C5%88%20Region&as_known_at=2026-01-01T00%3A00%3A00.000000Z"
        );
        assert_eq!(query(&[("x", None)]), "");
    }

    #[test]
    fn chunked_bodies_are_joined() {
        assert_eq!(
            dechunk(b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n").unwrap(),
            b"abcde"
        );
        assert!(dechunk(b"5\r\nab").is_err());
    }
}
