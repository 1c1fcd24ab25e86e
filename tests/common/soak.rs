//! The load of the soak test (tests/soak.rs): a keep-alive HTTP/1.1 client
//! that sends a fixed mix of requests for static files, a CGI script and
//! mod_status's page, checks every response and counts the requests of
//! each kind.

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// How long a client waits for a response before it counts the request as
/// failed. During a full restart, requests wait in the listen backlog until
/// the parent has reaped the old children and started new ones, which took
/// up to about 2.4 s with the event MPM on 2 cores.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a client waits before it resends a request. A full restart of
/// the prefork MPM signals every child at once, and a connection made at
/// once can reach a child that has not yet handled the signal and is reset
/// as well. In 2-minute runs with a full restart every 5 s (24 restarts, 2
/// cores), resending at once lost 17 requests without the library and 15
/// with it. A 100 ms pause lost none.
const RESEND_PAUSE: Duration = Duration::from_millis(100);

/// The largest body a client accepts, so that a malformed length cannot
/// make it allocate without bound.
const MAX_BODY: usize = 16 << 20;

/// A kind of request in the mix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Static,
    Cgi,
    Status,
}

impl Kind {
    pub const ALL: [Kind; 3] = [Kind::Static, Kind::Cgi, Kind::Status];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Static => "static file",
            Kind::Cgi => "CGI",
            Kind::Status => "server-status",
        }
    }
}

/// One entry of the request mix, with the response it must get.
#[derive(Clone, Debug)]
pub enum Target {
    /// A file whose body must equal `body`.
    File { path: String, body: Vec<u8> },
    /// A CGI script that prints `request <query string>` and then `rest`.
    Cgi { path: String, rest: String },
    /// mod_status's `?auto` page, which must name the MPM `mpm`.
    Status { mpm: String },
}

impl Target {
    pub fn kind(&self) -> Kind {
        match self {
            Target::File { .. } => Kind::Static,
            Target::Cgi { .. } => Kind::Cgi,
            Target::Status { .. } => Kind::Status,
        }
    }

    /// Returns the path of a request. A CGI request carries `request` as its
    /// query string, so that its response can be matched to it.
    fn path(&self, request: &str) -> String {
        match self {
            Target::File { path, .. } => path.clone(),
            Target::Cgi { path, .. } => format!("{}?{}", path, request),
            Target::Status { .. } => "/server-status?auto".to_string(),
        }
    }

    /// Checks the body of a 200 response.
    fn check(&self, request: &str, body: &[u8]) -> Result<(), String> {
        let text = String::from_utf8_lossy(body);
        let matches = match self {
            Target::File { body: expected, .. } => body == expected.as_slice(),
            Target::Cgi { rest, .. } => text == format!("request {}\n{}", request, rest),
            Target::Status { mpm } => text.contains(&format!("ServerMPM: {}\n", mpm)) && text.contains("\nScoreboard: "),
        };
        if matches {
            return Ok(());
        }
        let excerpt: String = text.chars().take(200).collect();
        Err(format!("wrong body ({} bytes): {:?}", body.len(), excerpt))
    }
}

/// Requests of one kind.
#[derive(Debug, Default, Clone, Copy)]
pub struct Counts {
    /// Requests that got status 200 and the expected body.
    pub ok: u64,
    /// Requests that got no complete response, another status, or a wrong body.
    pub failed: u64,
    /// Requests sent a second time because their connection was closed or
    /// reset before any byte of the response arrived.
    pub resent: u64,
    /// CGI requests that mod_cgid rejected with status 503. It stops its
    /// daemon at every restart, and tests/soak.rs checks that each one
    /// followed a restart.
    pub cgid_unavailable: u64,
}

/// What one or more clients counted.
#[derive(Debug, Default, Clone)]
pub struct Tally {
    /// Counts indexed like `Kind::ALL`.
    pub by_kind: [Counts; 3],
    /// When each resend happened, as time since the run started.
    pub resent_at: Vec<Duration>,
    /// When each CGI request got its 503 response, as time since the run started.
    pub cgid_unavailable_at: Vec<Duration>,
    /// Descriptions of the first failures.
    pub failures: Vec<String>,
}

impl Tally {
    pub fn counts(&self, kind: Kind) -> Counts {
        self.by_kind[kind as usize]
    }

    pub fn total(&self) -> Counts {
        let mut total = Counts::default();
        for counts in &self.by_kind {
            total.ok += counts.ok;
            total.failed += counts.failed;
            total.resent += counts.resent;
            total.cgid_unavailable += counts.cgid_unavailable;
        }
        total
    }

    pub fn add(&mut self, other: &Tally) {
        for (mine, theirs) in self.by_kind.iter_mut().zip(&other.by_kind) {
            mine.ok += theirs.ok;
            mine.failed += theirs.failed;
            mine.resent += theirs.resent;
            mine.cgid_unavailable += theirs.cgid_unavailable;
        }
        self.resent_at.extend(&other.resent_at);
        self.cgid_unavailable_at.extend(&other.cgid_unavailable_at);
        self.failures.extend(other.failures.iter().take(10).cloned());
    }
}

/// What became of one request on one connection.
enum Outcome {
    /// A complete response: status, body, and whether the connection stays open.
    Response(u16, Vec<u8>, bool),
    /// The connection was closed or reset before any byte of a response.
    ClosedBeforeResponse(String),
    /// Anything else: no connection, a cut-off or malformed response, a timeout.
    Broken(String),
}

/// A keep-alive client on 127.0.0.1:`port` that cycles through `targets`.
pub struct Client {
    id: usize,
    port: u16,
    targets: Vec<Target>,
    started: Instant,
    sent: u64,
    connection: Option<BufReader<TcpStream>>,
    pub tally: Tally,
}

impl Client {
    /// Creates client `id`. Each client starts at another place in the mix,
    /// so that the clients do not send the same kind at the same time.
    /// `started` is the start of the run, for the times of resends and
    /// failures.
    pub fn new(id: usize, port: u16, targets: &[Target], started: Instant) -> Client {
        let sent = id as u64;
        Client { id, port, targets: targets.to_vec(), started, sent, connection: None, tally: Tally::default() }
    }

    /// Sends the next request of the mix, on the open connection if there is
    /// one. A request whose connection is closed or reset before any byte of
    /// the response arrives is sent once more on a new connection after
    /// RESEND_PAUSE, as HTTP clients do with idempotent requests (RFC 9112,
    /// section 9.3.1).
    pub fn request(&mut self) {
        let target = self.targets[(self.sent % self.targets.len() as u64) as usize].clone();
        let request = format!("{}-{}", self.id, self.sent);
        self.sent += 1;
        let path = target.path(&request);

        let outcome = match self.exchange(&path) {
            Outcome::ClosedBeforeResponse(_) => {
                self.tally.by_kind[target.kind() as usize].resent += 1;
                self.tally.resent_at.push(self.started.elapsed());
                self.connection = None;
                std::thread::sleep(RESEND_PAUSE);
                match self.exchange(&path) {
                    Outcome::ClosedBeforeResponse(what) => Outcome::Broken(format!("resent on a new connection: {}", what)),
                    outcome => outcome,
                }
            }
            outcome => outcome,
        };

        let result = match outcome {
            Outcome::Response(503, _, keep) if target.kind() == Kind::Cgi => {
                if !keep {
                    self.connection = None;
                }
                self.tally.by_kind[Kind::Cgi as usize].cgid_unavailable += 1;
                self.tally.cgid_unavailable_at.push(self.started.elapsed());
                return;
            }
            Outcome::Response(200, body, keep) => {
                if !keep {
                    self.connection = None;
                }
                target.check(&request, &body)
            }
            Outcome::Response(status, body, _) => {
                let excerpt: String = String::from_utf8_lossy(&body).chars().take(200).collect();
                Err(format!("status {} with body {:?}", status, excerpt))
            }
            Outcome::ClosedBeforeResponse(what) | Outcome::Broken(what) => Err(what),
        };
        let counts = &mut self.tally.by_kind[target.kind() as usize];
        match result {
            Ok(()) => counts.ok += 1,
            Err(what) => {
                counts.failed += 1;
                self.connection = None;
                if self.tally.failures.len() < 10 {
                    let at = self.started.elapsed().as_secs_f64();
                    self.tally.failures.push(format!("at {:.1} s, GET {}: {}", at, path, what));
                }
            }
        }
    }

    fn exchange(&mut self, path: &str) -> Outcome {
        if self.connection.is_none() {
            match TcpStream::connect(("127.0.0.1", self.port)) {
                Ok(stream) => {
                    let _ = stream.set_read_timeout(Some(RESPONSE_TIMEOUT));
                    self.connection = Some(BufReader::new(stream));
                }
                Err(error) => return Outcome::Broken(format!("connect to 127.0.0.1:{}: {}", self.port, error)),
            }
        }
        let connection = self.connection.as_mut().expect("connected above");
        let request = format!("GET {} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", path);
        if let Err(error) = connection.get_mut().write_all(request.as_bytes()) {
            return Outcome::ClosedBeforeResponse(format!("send request: {}", error));
        }
        read_response(connection)
    }
}

/// Returns whether `error` means that the peer closed or reset the connection.
fn is_closed(error: &std::io::Error) -> bool {
    matches!(error.kind(), ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted | ErrorKind::BrokenPipe)
}

/// Reads one response, with a body delimited by Content-Length, chunked
/// transfer coding or the end of the connection.
fn read_response(connection: &mut BufReader<TcpStream>) -> Outcome {
    let mut status_line = String::new();
    match connection.read_line(&mut status_line) {
        Ok(0) => return Outcome::ClosedBeforeResponse("connection closed".to_string()),
        Err(error) if is_closed(&error) && status_line.is_empty() => {
            return Outcome::ClosedBeforeResponse(format!("read status line: {}", error))
        }
        Err(error) => return Outcome::Broken(format!("read status line: {}", error)),
        Ok(_) => {}
    }
    let status = match status_line.split_whitespace().nth(1).and_then(|code| code.parse().ok()) {
        Some(status) if status_line.ends_with('\n') => status,
        _ => return Outcome::Broken(format!("malformed or cut-off status line {:?}", status_line)),
    };

    let mut length = None;
    let mut chunked = false;
    let mut keep = true;
    loop {
        let mut header = String::new();
        match connection.read_line(&mut header) {
            Ok(0) => return Outcome::Broken("response cut off in the headers".to_string()),
            Err(error) => return Outcome::Broken(format!("read headers: {}", error)),
            Ok(_) => {}
        }
        let header = header.trim_end().to_ascii_lowercase();
        if header.is_empty() {
            break;
        }
        if let Some(value) = header.strip_prefix("content-length:") {
            match value.trim().parse::<usize>() {
                Ok(value) if value <= MAX_BODY => length = Some(value),
                _ => return Outcome::Broken(format!("invalid header {:?}", header)),
            }
        } else if header.starts_with("transfer-encoding:") && header.contains("chunked") {
            chunked = true;
        } else if header.starts_with("connection:") && header.contains("close") {
            keep = false;
        }
    }

    let body = if chunked {
        read_chunked(connection)
    } else if let Some(length) = length {
        let mut body = vec![0u8; length];
        connection.read_exact(&mut body).map(|()| body).map_err(|error| format!("read body of {} bytes: {}", length, error))
    } else {
        // Without a length the body ends with the connection.
        keep = false;
        let mut body = Vec::new();
        let limited = connection.take(MAX_BODY as u64 + 1).read_to_end(&mut body);
        limited.map(|_| body).map_err(|error| format!("read body up to the end of the connection: {}", error))
    };
    match body {
        Ok(body) => Outcome::Response(status, body, keep),
        Err(what) => Outcome::Broken(what),
    }
}

/// Reads a body in chunked transfer coding (RFC 9112, section 7.1),
/// skipping chunk extensions and trailer fields.
fn read_chunked(connection: &mut BufReader<TcpStream>) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    loop {
        let mut size_line = String::new();
        match connection.read_line(&mut size_line) {
            Ok(0) => return Err("response cut off before a chunk size".to_string()),
            Err(error) => return Err(format!("read chunk size: {}", error)),
            Ok(_) => {}
        }
        let digits = size_line.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(digits, 16).map_err(|_| format!("invalid chunk size line {:?}", size_line))?;
        if size == 0 {
            break;
        }
        if body.len() + size > MAX_BODY {
            return Err(format!("chunked body larger than {} bytes", MAX_BODY));
        }
        let start = body.len();
        body.resize(start + size + 2, 0);
        connection.read_exact(&mut body[start..]).map_err(|error| format!("read chunk of {} bytes: {}", size, error))?;
        if &body[start + size..] != b"\r\n" {
            return Err("chunk not followed by CRLF".to_string());
        }
        body.truncate(start + size);
    }

    // The trailer section ends with an empty line.
    loop {
        let mut line = String::new();
        match connection.read_line(&mut line) {
            Ok(0) => return Err("response cut off in the trailer section".to_string()),
            Err(error) => return Err(format!("read trailer section: {}", error)),
            Ok(_) if line.trim_end().is_empty() => return Ok(body),
            Ok(_) => {}
        }
    }
}
