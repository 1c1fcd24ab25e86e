//! A minimal HTTP/1.0 client for loopback requests.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// A response: status code and body.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub body: String,
}

/// Sends `GET path` to 127.0.0.1:`port` and reads the whole response.
pub fn get(port: u16, path: &str) -> Result<Response, String> {
    let mut stream =
        TcpStream::connect(("127.0.0.1", port)).map_err(|error| format!("connect to 127.0.0.1:{}: {}", port, error))?;
    stream.set_read_timeout(Some(Duration::from_secs(30))).map_err(|error| error.to_string())?;
    let request = format!("GET {} HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", path);
    stream.write_all(request.as_bytes()).map_err(|error| format!("send request: {}", error))?;

    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).map_err(|error| format!("read response to GET {}: {}", path, error))?;
    let text = String::from_utf8_lossy(&raw).to_string();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| format!("no status line in response to GET {}: {:?}", path, text))?;
    let body = text.split_once("\r\n\r\n").map(|(_, body)| body.to_string()).unwrap_or_default();
    Ok(Response { status, body })
}

/// Returns whether something accepts connections on 127.0.0.1:`port`.
pub fn is_listening(port: u16) -> bool {
    TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(200)).is_ok()
}
