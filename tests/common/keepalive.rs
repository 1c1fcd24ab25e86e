//! An HTTP/1.1 client that keeps its connection open between requests, as
//! browsers and load generators do, and counts what happened to each
//! request.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// Counts of one client's requests.
#[derive(Debug, Default, Clone)]
pub struct Tally {
    /// Requests that got status 200 and the expected body.
    pub ok: u64,
    /// Requests that got another status, a wrong body or a cut-off
    /// response, or that failed on a fresh connection.
    pub failed: u64,
    /// Requests sent again on a new connection because the server had
    /// closed the reused one before responding.
    pub retried: u64,
    /// Descriptions of the first failures.
    pub failures: Vec<String>,
}

impl Tally {
    pub fn add(&mut self, other: &Tally) {
        self.ok += other.ok;
        self.failed += other.failed;
        self.retried += other.retried;
        self.failures.extend(other.failures.iter().take(10).cloned());
    }

    fn fail(&mut self, what: String) {
        self.failed += 1;
        if self.failures.len() < 10 {
            self.failures.push(what);
        }
    }
}

/// What became of one request on one connection.
enum Outcome {
    /// A complete response: status, body, and whether the server keeps the
    /// connection open.
    Answer(u16, Vec<u8>, bool),
    /// The server closed the connection before sending any byte of a response.
    ClosedBeforeAnswer,
    /// Anything else: a cut-off response, a timeout, a malformed response.
    Broken(String),
}

/// A keep-alive client for `GET path` on 127.0.0.1:`port`.
pub struct Client {
    port: u16,
    path: String,
    expected: Vec<u8>,
    connection: Option<BufReader<TcpStream>>,
    pub tally: Tally,
}

impl Client {
    pub fn new(port: u16, path: &str, expected: &[u8]) -> Client {
        Client { port, path: path.to_string(), expected: expected.to_vec(), connection: None, tally: Tally::default() }
    }

    /// Sends one request, on the open connection if there is one. A request
    /// that finds its reused connection closed by the server before any
    /// response is sent once more on a new connection, which is what HTTP
    /// clients do with idempotent requests (RFC 9112, section 9.3.1).
    pub fn request(&mut self) {
        let reused = self.connection.is_some();
        match self.exchange() {
            Outcome::ClosedBeforeAnswer if reused => {
                self.tally.retried += 1;
                self.connection = None;
                let outcome = self.exchange();
                self.count(outcome);
            }
            outcome => self.count(outcome),
        }
    }

    fn count(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Answer(200, body, keep) if body == self.expected => {
                self.tally.ok += 1;
                if !keep {
                    self.connection = None;
                }
            }
            Outcome::Answer(status, body, _) => {
                self.connection = None;
                self.tally.fail(format!("status {} with body {:?}", status, String::from_utf8_lossy(&body)));
            }
            Outcome::ClosedBeforeAnswer => {
                self.connection = None;
                self.tally.fail("a new connection was closed before the response".to_string());
            }
            Outcome::Broken(what) => {
                self.connection = None;
                self.tally.fail(what);
            }
        }
    }

    fn exchange(&mut self) -> Outcome {
        if self.connection.is_none() {
            match TcpStream::connect(("127.0.0.1", self.port)) {
                Ok(stream) => {
                    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
                    self.connection = Some(BufReader::new(stream));
                }
                Err(error) => return Outcome::Broken(format!("connect: {}", error)),
            }
        }
        let connection = self.connection.as_mut().expect("connected above");
        let request = format!("GET {} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", self.path);
        if connection.get_mut().write_all(request.as_bytes()).is_err() {
            return Outcome::ClosedBeforeAnswer;
        }
        read_response(connection)
    }
}

/// Reads one response with a Content-Length body.
fn read_response(connection: &mut BufReader<TcpStream>) -> Outcome {
    let mut status_line = String::new();
    match connection.read_line(&mut status_line) {
        Ok(0) => return Outcome::ClosedBeforeAnswer,
        Err(error) if error.kind() == std::io::ErrorKind::ConnectionReset => return Outcome::ClosedBeforeAnswer,
        Err(error) => return Outcome::Broken(format!("read status line: {}", error)),
        Ok(_) => {}
    }
    let status = match status_line.split_whitespace().nth(1).and_then(|code| code.parse().ok()) {
        Some(status) => status,
        None => return Outcome::Broken(format!("malformed status line {:?}", status_line)),
    };

    let mut length = 0usize;
    let mut keep = true;
    loop {
        let mut header = String::new();
        match connection.read_line(&mut header) {
            Ok(0) => return Outcome::Broken("response cut off in the headers".to_string()),
            Err(error) => return Outcome::Broken(format!("read headers: {}", error)),
            Ok(_) => {}
        }
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        let lower = header.to_ascii_lowercase();
        if let Some(value) = lower.strip_prefix("content-length:") {
            length = value.trim().parse().unwrap_or(0);
        } else if lower.starts_with("connection:") && lower.contains("close") {
            keep = false;
        }
    }

    let mut body = vec![0u8; length];
    match connection.read_exact(&mut body) {
        Ok(()) => Outcome::Answer(status, body, keep),
        Err(error) => Outcome::Broken(format!("read body of {} bytes: {}", length, error)),
    }
}
