//! The HTTP client that pushes bodies to Loki, what Loki's answers mean, and how long to wait before retrying.
//!
//! The agent loses nothing, so a push is retried until Loki has taken it, with one exception. Loki answers:
//!
//! - 2xx when it stored every entry;
//! - 429 when the tenant or a stream is over its rate limit, 5xx when an ingester or the distributor is in trouble:
//!   nothing was stored and the same request may be sent again ([`Answer::Retry`]); so is anything else unexpected
//!   (a 404 from a misconfigured URL, a proxy's 502, a redirect), and so is a connection error or a timeout;
//! - 400 when it refused some entries (too old, too far in the future, a line too long, bad labels). Loki checks
//!   each stream on its own and *stores the others*: sending the request again would duplicate them, and the
//!   refused entries would be refused again forever, holding up everything behind them. A 400 is therefore never
//!   retried as a whole ([`Answer::Rejected`]); the caller counts and logs the loss with Loki's reason;
//! - 413 when the body is over the size limit: the caller splits the batch ([`Answer::TooLarge`],
//!   [`crate::push::Batch::split`]); a single entry too large for Loki is the caller's to drop;
//! - 401 or 403 when the credentials are wrong ([`Answer::Unauthorized`]): retried slowly
//!   ([`unauthorized_delay`]) until someone fixes them, the agent reporting itself not ready meanwhile.
//!
//! Retries back off exponentially with full jitter ([`Backoff`]) so that a fleet of agents does not hammer a
//! recovering Loki in step, and never sooner than Loki's `Retry-After`.
//!
//! One [`Client`] holds one `ureq` agent: connections are kept alive and reused between pushes. Every request has
//! a whole-request deadline ([`ClientConfig::timeout`]): a Loki that accepts the connection and never answers
//! must cost a retry, not hang the agent.

use std::fmt;
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ureq::http::HeaderValue;
use ureq::tls::{Certificate, PemItem, RootCerts, TlsConfig};

/// The path of Loki's push API, appended to [`ClientConfig::url`].
pub const PUSH_PATH: &str = "/loki/api/v1/push";

/// The content type of a protobuf body ([`crate::push::Batch::encode`]).
pub const CONTENT_TYPE_PROTOBUF: &str = "application/x-protobuf";

/// The content type of a JSON body ([`crate::push::Batch::encode_json`]).
pub const CONTENT_TYPE_JSON: &str = "application/json";

/// At most this much of Loki's answer is kept as a reason, in bytes.
const REASON_MAX: usize = 512;

/// At most this much of Loki's answer is read, in bytes; a longer one is cut off (and its connection closed).
const BODY_READ_MAX: u64 = 64 * 1024;

/// How to reach Loki.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientConfig {
    /// Loki's base URL, `http://…` or `https://…`; pushes go to `{url}/loki/api/v1/push`. A trailing slash, or a
    /// URL that already ends in the push path, is taken as meant.
    pub url: String,
    /// The tenant, sent as `X-Scope-OrgID` (multi-tenant Loki); none for a single-tenant Loki.
    pub tenant: Option<String>,
    /// The credentials.
    pub auth: Auth,
    /// A PEM bundle of CA certificates trusted for `https`, in addition to Mozilla's roots.
    pub ca_file: Option<PathBuf>,
    /// The deadline of a whole request, from resolving the host to reading the answer.
    pub timeout: Duration,
    /// The `User-Agent` header.
    pub user_agent: String,
}

impl Default for ClientConfig {
    fn default() -> ClientConfig {
        ClientConfig {
            url: String::new(),
            tenant: None,
            auth: Auth::None,
            ca_file: None,
            timeout: Duration::from_secs(10),
            user_agent: concat!("uml-agent/", env!("CARGO_PKG_VERSION")).to_owned(),
        }
    }
}

/// The credentials sent with each push.
#[derive(Clone, Default, PartialEq, Eq)]
pub enum Auth {
    /// No `Authorization` header.
    #[default]
    None,
    /// HTTP basic authentication (a Grafana Cloud user and API key, a reverse proxy's user).
    Basic {
        /// The user name.
        user: String,
        /// The password.
        password: String,
    },
    /// A bearer token.
    Bearer(String),
}

impl fmt::Debug for Auth {
    /// Names the kind and the user, never a secret.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Auth::None => f.write_str("None"),
            Auth::Basic { user, .. } => f.debug_struct("Basic").field("user", user).finish_non_exhaustive(),
            Auth::Bearer(_) => f.write_str("Bearer(…)"),
        }
    }
}

/// What Loki's answer means for the batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// Loki stored the batch (any 2xx).
    Accepted {
        /// The status, 204 from Loki itself.
        status: u16,
    },
    /// Nothing was stored, or it cannot be known: send the same body again after a [`Backoff`] delay. A 429, a
    /// 5xx, a connection error, a timeout, and any status not named by the other answers.
    Retry {
        /// The status; `None` for a connection error or a timeout.
        status: Option<u16>,
        /// Loki's `Retry-After`, when it sent one.
        retry_after: Option<Duration>,
        /// Loki's answer (trimmed), the status's name when the answer is empty, or the connection error.
        reason: String,
    },
    /// 400: Loki refused some entries and stored the rest; never send this body again.
    Rejected {
        /// Loki's answer, trimmed to a few hundred bytes: which entry it refused and why.
        reason: String,
    },
    /// 413: the body is too large; split the batch and push the halves.
    TooLarge,
    /// 401 or 403: the credentials are wrong; retry after [`unauthorized_delay`] and report not ready.
    Unauthorized {
        /// The status.
        status: u16,
        /// Loki's (or the proxy's) answer, trimmed.
        reason: String,
    },
}

/// Pushes bodies to one Loki over kept-alive connections; share it by reference between the pushing threads.
pub struct Client {
    agent: ureq::Agent,
    push_url: String,
    tenant: Option<HeaderValue>,
    authorization: Option<HeaderValue>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("push_url", &self.push_url)
            .field("tenant", &self.tenant)
            .field("authorization", &self.authorization.as_ref().map(|_| "…"))
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client for `config`; an error names what is wrong with it (a bad URL, an unreadable CA file, a header
    /// value that is not valid in HTTP).
    pub fn new(config: &ClientConfig) -> Result<Client, String> {
        let push_url = push_url(&config.url)?;
        let tenant = match &config.tenant {
            Some(tenant) => Some(header_value(tenant, "the tenant")?),
            None => None,
        };
        let authorization = match &config.auth {
            Auth::None => None,
            Auth::Basic { user, password } => {
                let mut credentials = String::from("Basic ");
                base64(format!("{user}:{password}").as_bytes(), &mut credentials);
                Some(header_value(&credentials, "the basic credentials")?)
            }
            Auth::Bearer(token) => Some(header_value(&format!("Bearer {token}"), "the bearer token")?),
        }
        .map(|mut value| {
            value.set_sensitive(true);
            value
        });
        header_value(&config.user_agent, "the user agent")?;
        if config.timeout.is_zero() {
            return Err("the push timeout must not be zero".to_owned());
        }
        let mut tls = TlsConfig::builder();
        if let Some(path) = &config.ca_file {
            tls = tls.root_certs(root_certs(path)?);
        }
        let agent = ureq::Agent::config_builder()
            // Every status is an answer to classify, not an error.
            .http_status_as_error(false)
            // A redirect is unexpected: retried and reported as it is, never followed with the body.
            .max_redirects(0)
            .timeout_global(Some(config.timeout))
            .user_agent(config.user_agent.as_str())
            .tls_config(tls.build())
            .build()
            .new_agent();
        Ok(Client { agent, push_url, tenant, authorization })
    }

    /// The URL pushes go to.
    pub fn push_url(&self) -> &str {
        &self.push_url
    }

    /// Sends one push body (`content_type`: [`CONTENT_TYPE_PROTOBUF`] or [`CONTENT_TYPE_JSON`]) and says what
    /// Loki's answer means. Returns within the configured timeout.
    pub fn push(&self, body: &[u8], content_type: &str) -> Answer {
        let mut request = self.agent.post(&self.push_url).header("Content-Type", content_type);
        if let Some(tenant) = &self.tenant {
            request = request.header("X-Scope-OrgID", tenant.clone());
        }
        if let Some(authorization) = &self.authorization {
            request = request.header("Authorization", authorization.clone());
        }
        let mut response = match request.send(body) {
            Ok(response) => response,
            Err(error) => return Answer::Retry { status: None, retry_after: None, reason: error.to_string() },
        };
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("Retry-After")
            .and_then(|value| value.to_str().ok())
            .and_then(|value| parse_retry_after(value, SystemTime::now()));
        // Read the answer to its end even when it is not needed, so that the connection can be reused.
        let text = match response.body_mut().with_config().limit(BODY_READ_MAX).lossy_utf8(true).read_to_string() {
            Ok(text) => text,
            Err(error) => format!("(the answer could not be read: {error})"),
        };
        classify(status, retry_after, &text, response.status().canonical_reason())
    }
}

/// What a status means; `text` is Loki's answer, `name` the status's canonical reason.
fn classify(status: u16, retry_after: Option<Duration>, text: &str, name: Option<&str>) -> Answer {
    let reason = || {
        let reason = trim_reason(text);
        if reason.is_empty() { name.unwrap_or("no reason given").to_owned() } else { reason }
    };
    match status {
        200..=299 => Answer::Accepted { status },
        400 => Answer::Rejected { reason: reason() },
        413 => Answer::TooLarge,
        401 | 403 => Answer::Unauthorized { status, reason: reason() },
        _ => Answer::Retry { status: Some(status), retry_after, reason: reason() },
    }
}

/// The push URL of a base URL.
fn push_url(url: &str) -> Result<String, String> {
    let base = url.trim().trim_end_matches('/');
    let base = base.strip_suffix(PUSH_PATH).unwrap_or(base);
    let push_url = format!("{base}{PUSH_PATH}");
    let uri: ureq::http::Uri = push_url.parse().map_err(|e| format!("the Loki URL {url:?}: {e}"))?;
    match uri.scheme_str() {
        Some("http" | "https") if uri.host().is_some_and(|host| !host.is_empty()) => Ok(push_url),
        _ => Err(format!("the Loki URL {url:?} is not an http:// or https:// URL with a host")),
    }
}

/// A header value, or an error naming `what`.
fn header_value(value: &str, what: &str) -> Result<HeaderValue, String> {
    HeaderValue::from_str(value).map_err(|_| format!("{what} holds a character not allowed in an HTTP header"))
}

/// Mozilla's roots and the certificates of the PEM bundle at `path`.
fn root_certs(path: &std::path::Path) -> Result<RootCerts, String> {
    let pem = std::fs::read(path).map_err(|e| format!("the CA file {}: {e}", path.display()))?;
    let mut certs: Vec<Certificate<'static>> =
        webpki_root_certs::TLS_SERVER_ROOT_CERTS.iter().map(|der| Certificate::from_der(der.as_ref())).collect();
    let mozilla = certs.len();
    for item in ureq::tls::parse_pem(&pem) {
        // A private key has no business in a CA bundle, but does no harm: it is skipped.
        if let PemItem::Certificate(cert) = item.map_err(|e| format!("the CA file {}: {e}", path.display()))? {
            certs.push(cert);
        }
    }
    if certs.len() == mozilla {
        return Err(format!("the CA file {} holds no PEM certificate", path.display()));
    }
    Ok(RootCerts::from(certs))
}

/// Standard base64 with padding, for basic credentials.
fn base64(bytes: &[u8], out: &mut String) {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, &b)| n | (u32::from(b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
}

/// Loki's answer as a reason: trimmed, and cut to [`REASON_MAX`] bytes at a character boundary.
fn trim_reason(text: &str) -> String {
    let text = text.trim();
    if text.len() <= REASON_MAX {
        return text.to_owned();
    }
    let mut end = REASON_MAX;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// Parses a `Retry-After` value (RFC 9110): delta-seconds, or an HTTP date (IMF-fixdate, the form every current
/// server sends) taken relative to `now`, a date in the past meaning now. The obsolete date forms are ignored.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        return Some(Duration::from_secs(value.parse().unwrap_or(u64::MAX)));
    }
    let at = parse_imf_fixdate(value)?;
    let now = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
    Some(Duration::from_secs(at.saturating_sub(now).max(0) as u64))
}

/// Seconds since the epoch of an IMF-fixdate, `Sun, 06 Nov 1994 08:49:37 GMT`.
fn parse_imf_fixdate(value: &str) -> Option<i64> {
    let b = value.as_bytes();
    if b.len() != 29 || &b[3..5] != b", " || b[7] != b' ' || b[11] != b' ' || b[16] != b' ' || &b[25..] != b" GMT" {
        return None;
    }
    if !["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"].contains(&&value[..3]) {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> Option<i64> {
        let digits = value.get(range)?;
        if digits.bytes().all(|b| b.is_ascii_digit()) { digits.parse().ok() } else { None }
    };
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let month = MONTHS.iter().position(|&m| m == &value[8..11])? as i64 + 1;
    let (day, year) = (number(5..7)?, number(12..16)?);
    if b[19] != b':' || b[22] != b':' {
        return None;
    }
    let (hour, minute, second) = (number(17..19)?, number(20..22)?, number(23..25)?);
    if !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The longest `Retry-After` honoured: a Loki asking for more is still retried after this.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(5 * 60);

/// The delay between retries while Loki refuses the credentials ([`Answer::Unauthorized`]), before jitter.
pub const UNAUTHORIZED_DELAY: Duration = Duration::from_secs(30);

/// [`UNAUTHORIZED_DELAY`] with ±20 % jitter: wrong credentials are not fixed in a second, and a fleet of agents
/// should not retry in step.
pub fn unauthorized_delay() -> Duration {
    UNAUTHORIZED_DELAY.mul_f64(0.8 + 0.4 * fastrand::f64())
}

/// Exponential backoff with full jitter for [`Answer::Retry`]: the n-th delay in a row is drawn uniformly between
/// `min` and `min · 2ⁿ⁻¹` capped at `max`, and is never shorter than Loki's `Retry-After` (itself capped at
/// [`MAX_RETRY_AFTER`]). The floor at `min` keeps a flapping Loki from being retried in a tight loop.
#[derive(Clone, Debug)]
pub struct Backoff {
    min: Duration,
    max: Duration,
    attempt: u32,
}

impl Default for Backoff {
    /// From 500 ms up to 30 s.
    fn default() -> Backoff {
        Backoff::new(Duration::from_millis(500), Duration::from_secs(30))
    }
}

impl Backoff {
    /// A backoff from `min` up to `max` (raised to `min` if below it).
    pub fn new(min: Duration, max: Duration) -> Backoff {
        Backoff { min, max: max.max(min), attempt: 0 }
    }

    /// The delay before the next retry; each call without a [`Backoff::reset`] doubles the ceiling.
    pub fn next_delay(&mut self, retry_after: Option<Duration>) -> Duration {
        let ceiling = self.min.saturating_mul(1u32 << self.attempt.min(31)).min(self.max);
        self.attempt = self.attempt.saturating_add(1);
        let (low, high) = (self.min.as_nanos() as u64, ceiling.as_nanos() as u64);
        let delay = Duration::from_nanos(fastrand::u64(low..=high));
        delay.max(retry_after.unwrap_or_default().min(MAX_RETRY_AFTER))
    }

    /// Starts over after a success.
    pub fn reset(&mut self) {
        self.attempt = 0;
    }

    /// The number of delays drawn since the last reset: the retries in a row.
    pub fn attempt(&self) -> u32 {
        self.attempt
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::{TcpListener, TcpStream};
    use std::sync::mpsc;
    use std::time::Instant;

    /// What the test server does with a request.
    #[derive(Clone)]
    enum Reply {
        /// Answers with this status, extra header lines and body.
        With(u16, &'static str, String),
        /// Closes the connection without answering.
        Close,
        /// Never answers (keeps the connection until the client drops it).
        Hang,
    }

    /// A request as the test server saw it.
    #[derive(Debug)]
    struct Seen {
        connection: usize,
        method: String,
        path: String,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    }

    impl Seen {
        fn header(&self, name: &str) -> Option<&str> {
            self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
        }
    }

    /// A one-thread HTTP/1.1 server that plays `replies` in order over kept-alive connections and reports each
    /// request; returns its base URL.
    fn serve(replies: Vec<Reply>) -> (String, mpsc::Receiver<Seen>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut replies = replies.into_iter();
            for (connection, stream) in listener.incoming().enumerate() {
                let mut stream = BufReader::new(stream.unwrap());
                while let Some(seen) = read_request(&mut stream, connection) {
                    let Some(reply) = replies.next() else { return };
                    let _ = tx.send(seen);
                    match reply {
                        Reply::With(status, headers, body) => {
                            let head =
                                format!("HTTP/1.1 {status} X\r\n{headers}Content-Length: {}\r\n\r\n", body.len());
                            let socket = stream.get_mut();
                            socket.write_all(head.as_bytes()).unwrap();
                            socket.write_all(body.as_bytes()).unwrap();
                        }
                        Reply::Close => break,
                        Reply::Hang => {
                            // Wait for the client to give up and close.
                            let _ = stream.read_to_end(&mut Vec::new());
                            break;
                        }
                    }
                }
            }
        });
        (url, rx)
    }

    /// Reads one request; `None` at the end of the connection.
    fn read_request(stream: &mut BufReader<TcpStream>, connection: usize) -> Option<Seen> {
        let mut head = Vec::new();
        while !head.ends_with(b"\r\n\r\n") {
            if stream.read_until(b'\n', &mut head).ok()? == 0 {
                return None;
            }
        }
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut request = httparse::Request::new(&mut headers);
        assert!(request.parse(&head).unwrap().is_complete());
        let headers: Vec<(String, String)> =
            request.headers.iter().map(|h| (h.name.to_owned(), String::from_utf8(h.value.to_vec()).unwrap())).collect();
        let length = headers.iter().find(|(n, _)| n.eq_ignore_ascii_case("content-length")).map(|(_, v)| v);
        let mut body = vec![0; length.map_or(0, |v| v.parse().unwrap())];
        stream.read_exact(&mut body).ok()?;
        Some(Seen {
            connection,
            method: request.method.unwrap().to_owned(),
            path: request.path.unwrap().to_owned(),
            headers,
            body,
        })
    }

    fn client(url: &str, configure: impl FnOnce(&mut ClientConfig)) -> Client {
        let mut config = ClientConfig { url: url.to_owned(), ..ClientConfig::default() };
        configure(&mut config);
        Client::new(&config).unwrap()
    }

    fn recv(rx: &mpsc::Receiver<Seen>) -> Seen {
        rx.recv_timeout(Duration::from_secs(10)).expect("the server saw the request")
    }

    #[test]
    fn pushes_with_headers_over_one_connection() {
        let (url, rx) = serve(vec![Reply::With(204, "", String::new()), Reply::With(200, "", "ok".into())]);
        let client = client(&format!("{url}/"), |c| {
            c.tenant = Some("org-50a9".into());
            c.auth = Auth::Basic { user: "user".into(), password: "pass:word".into() };
            c.user_agent = "uml-agent/test".into();
        });
        assert_eq!(client.push_url(), format!("{url}/loki/api/v1/push"));
        assert_eq!(client.push(b"\x00body\xff", CONTENT_TYPE_PROTOBUF), Answer::Accepted { status: 204 });
        let seen = recv(&rx);
        assert_eq!((seen.method.as_str(), seen.path.as_str()), ("POST", "/loki/api/v1/push"));
        assert_eq!(seen.header("Content-Type"), Some("application/x-protobuf"));
        assert_eq!(seen.header("Content-Length"), Some("6"));
        assert_eq!(seen.header("X-Scope-OrgID"), Some("org-50a9"));
        assert_eq!(seen.header("Authorization"), Some("Basic dXNlcjpwYXNzOndvcmQ="));
        assert_eq!(seen.header("User-Agent"), Some("uml-agent/test"));
        assert_eq!(seen.body, b"\x00body\xff");

        assert_eq!(client.push(b"{}", CONTENT_TYPE_JSON), Answer::Accepted { status: 200 });
        let second = recv(&rx);
        assert_eq!(second.header("Content-Type"), Some("application/json"));
        assert_eq!(second.body, b"{}");
        assert_eq!(second.connection, seen.connection, "the connection is kept alive");
    }

    #[test]
    fn bearer_token_and_no_tenant() {
        let (url, rx) = serve(vec![Reply::With(204, "", String::new())]);
        let client = client(&format!("{url}/loki/api/v1/push"), |c| c.auth = Auth::Bearer("t0k3n".into()));
        assert_eq!(client.push_url(), format!("{url}/loki/api/v1/push"));
        assert_eq!(client.push(b"x", CONTENT_TYPE_PROTOBUF), Answer::Accepted { status: 204 });
        let seen = recv(&rx);
        assert_eq!(seen.header("Authorization"), Some("Bearer t0k3n"));
        assert_eq!(seen.header("X-Scope-OrgID"), None);
        assert_eq!(seen.path, "/loki/api/v1/push");
    }

    #[test]
    fn classifies_answers() {
        let long = "é".repeat(1000);
        let replies = vec![
            Reply::With(500, "", "ingester unavailable\n".into()),
            Reply::With(429, "Retry-After: 7\r\n", "rate limited".into()),
            Reply::With(503, "Retry-After: Sun, 06 Nov 1994 08:49:37 GMT\r\n", String::new()),
            Reply::With(400, "", "  entry for stream '{a=\"1\"}' has timestamp too old  \n".into()),
            Reply::With(400, "", long.clone()),
            Reply::With(413, "", "too big".into()),
            Reply::With(401, "", "no org id".into()),
            Reply::With(403, "", String::new()),
            Reply::With(404, "", "404 page not found".into()),
            Reply::With(302, "Location: http://elsewhere/\r\n", String::new()),
            Reply::With(204, "", String::new()),
        ];
        let count = replies.len();
        let (url, rx) = serve(replies);
        let client = client(&url, |_| {});
        let answers: Vec<Answer> = (0..count).map(|_| client.push(b"x", CONTENT_TYPE_PROTOBUF)).collect();
        let retry = |status, retry_after: Option<u64>, reason: &str| Answer::Retry {
            status: Some(status),
            retry_after: retry_after.map(Duration::from_secs),
            reason: reason.to_owned(),
        };
        let cut = format!("{}…", &long[..512]);
        assert_eq!(
            answers,
            [
                retry(500, None, "ingester unavailable"),
                retry(429, Some(7), "rate limited"),
                retry(503, Some(0), "Service Unavailable"),
                Answer::Rejected { reason: "entry for stream '{a=\"1\"}' has timestamp too old".into() },
                Answer::Rejected { reason: cut },
                Answer::TooLarge,
                Answer::Unauthorized { status: 401, reason: "no org id".into() },
                Answer::Unauthorized { status: 403, reason: "Forbidden".into() },
                retry(404, None, "404 page not found"),
                retry(302, None, "Found"),
                Answer::Accepted { status: 204 },
            ]
        );
        let connections: std::collections::BTreeSet<usize> = rx.try_iter().map(|seen| seen.connection).collect();
        assert_eq!(connections.len(), 1, "every answer read to its end keeps the connection");
    }

    #[test]
    fn a_connection_closed_without_answer_is_retried() {
        let (url, rx) = serve(vec![Reply::Close]);
        let answer = client(&url, |_| {}).push(b"x", CONTENT_TYPE_PROTOBUF);
        assert!(matches!(answer, Answer::Retry { status: None, retry_after: None, .. }), "{answer:?}");
        recv(&rx);
    }

    #[test]
    fn a_refused_connection_is_retried() {
        let url = {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            format!("http://{}", listener.local_addr().unwrap())
        };
        let answer = client(&url, |_| {}).push(b"x", CONTENT_TYPE_PROTOBUF);
        assert!(matches!(answer, Answer::Retry { status: None, .. }), "{answer:?}");
    }

    #[test]
    fn a_loki_that_never_answers_costs_the_timeout() {
        let (url, rx) = serve(vec![Reply::Hang]);
        let client = client(&url, |c| c.timeout = Duration::from_millis(300));
        let started = Instant::now();
        let answer = client.push(b"x", CONTENT_TYPE_PROTOBUF);
        let elapsed = started.elapsed();
        assert!(matches!(answer, Answer::Retry { status: None, retry_after: None, .. }), "{answer:?}");
        assert!(elapsed >= Duration::from_millis(300) && elapsed < Duration::from_secs(3), "{elapsed:?}");
        recv(&rx);
    }

    #[test]
    fn bad_configurations_are_errors() {
        let new = |configure: fn(&mut ClientConfig)| {
            let mut config = ClientConfig { url: "http://loki:3100".into(), ..ClientConfig::default() };
            configure(&mut config);
            Client::new(&config)
        };
        assert!(new(|_| {}).is_ok());
        assert!(new(|c| c.url = "https://loki.example/".into()).is_ok());
        for configure in [
            (|c: &mut ClientConfig| c.url = "loki:3100".into()) as fn(&mut ClientConfig),
            |c| c.url = "ftp://loki".into(),
            |c| c.url = "http://".into(),
            |c| c.url = "http://lo ki".into(),
            |c| c.tenant = Some("a\nb".into()),
            |c| c.auth = Auth::Bearer("a\rb".into()),
            |c| c.timeout = Duration::ZERO,
            |c| c.ca_file = Some("/nonexistent/ca.pem".into()),
        ] {
            assert!(new(configure).is_err());
        }
    }

    #[test]
    fn a_ca_file_must_hold_certificates() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        // A real CA certificate, written as PEM.
        let der = webpki_root_certs::TLS_SERVER_ROOT_CERTS[0].as_ref();
        let mut encoded = String::new();
        base64(der, &mut encoded);
        let mut pem = String::from("-----BEGIN CERTIFICATE-----\n");
        for line in encoded.as_bytes().chunks(64) {
            pem.push_str(std::str::from_utf8(line).unwrap());
            pem.push('\n');
        }
        pem.push_str("-----END CERTIFICATE-----\n");
        let good = dir.path().join("ca.pem");
        std::fs::write(&good, &pem).unwrap();

        let config = |path: &std::path::Path| ClientConfig {
            url: "https://loki.example".into(),
            ca_file: Some(path.to_owned()),
            ..ClientConfig::default()
        };
        let error = Client::new(&config(&empty)).unwrap_err();
        assert!(error.contains("holds no PEM certificate"), "{error}");
        let RootCerts::Specific(certs) = root_certs(&good).unwrap() else { panic!("specific roots") };
        assert_eq!(certs.len(), webpki_root_certs::TLS_SERVER_ROOT_CERTS.len() + 1);
        assert_eq!(certs.last().unwrap().der(), der);
        assert!(Client::new(&config(&good)).is_ok());
    }

    #[test]
    fn the_client_is_shared_between_threads() {
        fn shared<T: Send + Sync>() {}
        shared::<Client>();
        shared::<crate::push::Batch>();
    }

    #[test]
    fn secrets_stay_out_of_debug() {
        let config = ClientConfig {
            url: "http://loki".into(),
            auth: Auth::Basic { user: "u".into(), password: "hunter2".into() },
            ..ClientConfig::default()
        };
        assert!(!format!("{config:?}").contains("hunter2"));
        assert!(!format!("{:?}", Client::new(&config).unwrap()).contains("dTpodW50ZXIy"));
        assert!(!format!("{:?}", Auth::Bearer("t0k3n".into())).contains("t0k3n"));
    }

    #[test]
    fn base64_matches_rfc_4648() {
        for (input, output) in
            [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE=")]
        {
            let mut out = String::new();
            base64(input.as_bytes(), &mut out);
            assert_eq!(out, output);
        }
    }

    #[test]
    fn retry_after_forms() {
        let date = UNIX_EPOCH + Duration::from_secs(784_111_777); // Sun, 06 Nov 1994 08:49:37 GMT
        let before = date - Duration::from_secs(90);
        assert_eq!(parse_retry_after("120", before), Some(Duration::from_secs(120)));
        assert_eq!(parse_retry_after(" 0 ", before), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("99999999999999999999999", before), Some(Duration::from_secs(u64::MAX)));
        assert_eq!(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", before), Some(Duration::from_secs(90)));
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", date + Duration::from_secs(5)),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_imf_fixdate("Thu, 29 Feb 2024 23:59:59 GMT"), Some(i64::try_from(1_709_251_199u64).unwrap()));
        assert_eq!(parse_imf_fixdate("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
        for bad in [
            "",
            "-1",
            "1.5",
            "soon",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
            "Sun, 06 Nov 1994 08:49:37 UTC",
            "Sun, 06 Foo 1994 08:49:37 GMT",
            "Sun, 32 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 24:49:37 GMT",
            "Sun, 06 Nov 1994 08-49-37 GMT",
            "Sun, +6 Nov 1994 08:49:37 GMT",
        ] {
            assert_eq!(parse_retry_after(bad, before), None, "{bad:?}");
        }
    }

    #[test]
    fn backoff_grows_with_jitter_and_honours_retry_after() {
        let mut backoff = Backoff::default();
        let min = Duration::from_millis(500);
        for attempt in 0..40u32 {
            let delay = backoff.next_delay(None);
            let ceiling = min.saturating_mul(1 << attempt.min(31)).min(Duration::from_secs(30));
            assert!(delay >= min && delay <= ceiling, "attempt {attempt}: {delay:?}");
        }
        assert_eq!(backoff.attempt(), 40);
        // Late attempts are spread over the whole range, not stuck at the ends.
        let late: Vec<Duration> = (0..200).map(|_| backoff.next_delay(None)).collect();
        assert!(late.iter().any(|d| *d < Duration::from_secs(10)) && late.iter().any(|d| *d > Duration::from_secs(20)));
        backoff.reset();
        assert_eq!(backoff.attempt(), 0);
        assert_eq!(backoff.next_delay(None), min, "the first delay after a reset is the minimum");
        assert_eq!(backoff.next_delay(Some(Duration::from_secs(45))), Duration::from_secs(45));
        assert_eq!(backoff.next_delay(Some(Duration::from_secs(3600))), MAX_RETRY_AFTER);
        let tight = Backoff::new(Duration::from_secs(2), Duration::from_secs(1)).next_delay(None);
        assert_eq!(tight, Duration::from_secs(2));
    }

    #[test]
    fn unauthorized_delay_is_slow_with_jitter() {
        for _ in 0..100 {
            let delay = unauthorized_delay();
            assert!(delay >= Duration::from_secs(24) && delay <= Duration::from_secs(36), "{delay:?}");
        }
    }
}
