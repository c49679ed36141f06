//! Tests of the test support itself: the fake Loki and the kubelet simulator must do what they claim, or the
//! agent's integration tests prove nothing.

mod support;

use std::fs;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use proptest::prelude::*;
use support::fake_loki::{
    FakeLoki, PUSH_PATH, Step, check_line, contract_labels, contract_line, format_labels, parse_labels, push_body,
};
use support::kubelet::{
    self, DEFAULT_ORG, FsOp, Kubelet, START_NS, make_containers_symlink, model_line, model_pod, pod_uid, rfc3339_nano,
    seq_of,
};
use support::{DEADLINE, wait_until};

// ---------------------------------------------------------------------------------------------------------------
// Helpers.

const MVID: &str = "x5qe2qo";

/// A client that hands back 4xx and 5xx responses instead of turning them into errors.
fn client() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .new_agent()
}

/// What a push answered: the status, the `Retry-After` header and the body.
#[derive(Debug)]
struct Answer {
    status: u16,
    retry_after: Option<String>,
    body: String,
}

fn push_with(agent: &ureq::Agent, loki: &FakeLoki, content_type: &str, body: &[u8]) -> Result<Answer, ureq::Error> {
    let mut response = agent
        .post(loki.push_url())
        .header("Content-Type", content_type)
        .header("X-Scope-OrgID", "tenant-1")
        .header("Authorization", "Basic dXNlcjpwYXNz")
        .send(body)?;
    let retry_after = response.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned());
    let body = response.body_mut().read_to_string()?;
    Ok(Answer { status: response.status().as_u16(), retry_after, body })
}

fn push(loki: &FakeLoki, body: &[u8]) -> Result<Answer, ureq::Error> {
    push_with(&client(), loki, "application/x-protobuf", body)
}

fn ns() -> String {
    DEFAULT_ORG.to_owned()
}

/// A valid body of one stream with `lines` contract-abiding entries, timestamps from `START_NS`.
fn valid_body(mvid: &str, lines: &[&str]) -> Vec<u8> {
    let labels = contract_labels(mvid, &ns());
    let payloads: Vec<String> = lines.iter().map(|m| contract_line("q7rg5", m)).collect();
    let entries: Vec<(i64, &str)> =
        payloads.iter().enumerate().map(|(i, line)| (START_NS + i as i64, line.as_str())).collect();
    push_body(&[(&labels, &entries)])
}

/// A raw HTTP/1.1 push on a new connection, for what a client library cannot do (hang up at a chosen moment,
/// pipeline, send chunks).
fn raw_request(addr: SocketAddr, head_extra: &str, body: &[u8]) -> TcpStream {
    let mut stream = TcpStream::connect(addr).unwrap();
    let head = format!(
        "POST {PUSH_PATH} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-protobuf\r\n\
         X-Scope-OrgID: tenant-1\r\nContent-Length: {}\r\n{head_extra}\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    stream
}

/// Reads one response (head and `Content-Length` body) off a raw connection, leaving anything after it in `buf`.
fn read_response(stream: &mut TcpStream, buf: &mut Vec<u8>) -> (u16, String) {
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    loop {
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut response = httparse::Response::new(&mut headers);
        if let httparse::Status::Complete(head_len) = response.parse(buf).unwrap() {
            let status = response.code.unwrap();
            let length = response
                .headers
                .iter()
                .find(|h| h.name.eq_ignore_ascii_case("content-length"))
                .map_or(0, |h| std::str::from_utf8(h.value).unwrap().parse::<usize>().unwrap());
            if buf.len() >= head_len + length {
                let body = String::from_utf8(buf[head_len..head_len + length].to_vec()).unwrap();
                buf.drain(..head_len + length);
                return (status, body);
            }
        }
        let mut chunk = [0u8; 4096];
        let n = stream.read(&mut chunk).unwrap();
        assert!(n > 0, "connection closed before a full response");
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Whether the server closed the connection (end of stream or reset) rather than answering.
fn closed_without_answer(stream: &mut TcpStream) -> bool {
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut byte = [0u8; 1];
    match stream.read(&mut byte) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => e.kind() == io::ErrorKind::ConnectionReset,
    }
}

fn assert_no_errors(loki: &FakeLoki) {
    assert_eq!(loki.errors(), Vec::<String>::new());
}

/// The violations a fresh server reports for one protobuf push of `streams`.
fn violations_of(streams: &[(&str, &[(i64, &str)])]) -> Vec<String> {
    let loki = FakeLoki::start();
    push(&loki, &push_body(streams)).unwrap();
    loki.errors()
}

// ---------------------------------------------------------------------------------------------------------------
// Fake Loki: the protocol.

#[test]
fn protobuf_push_is_stored_in_order_with_tenant_and_labels() {
    let loki = FakeLoki::start();
    assert!(loki.url().starts_with("http://127.0.0.1:"));
    let a = contract_labels("aaaa1", &ns());
    let b = contract_labels("bbbb2", &ns());
    let (a1, a2, b1) = (contract_line("q7rg5", "a1"), contract_line("q7rg5", "a2"), contract_line("h4k2p", "b1"));
    let body = push_body(&[(&a, &[(START_NS + 5, &a1), (START_NS + 1, &a2)]), (&b, &[(START_NS + 3, &b1)])]);

    let answer = push(&loki, &body).unwrap();
    assert_eq!((answer.status, answer.body.as_str()), (204, ""));

    let entries = loki.entries();
    let got: Vec<(&str, i64, Option<String>)> =
        entries.iter().map(|e| (e.labels["model_version_id"].as_str(), e.timestamp_ns, e.message())).collect();
    assert_eq!(
        got,
        [
            ("aaaa1", START_NS + 5, Some("a1".into())),
            ("aaaa1", START_NS + 1, Some("a2".into())),
            ("bbbb2", START_NS + 3, Some("b1".into())),
        ]
    );
    assert!(entries.iter().all(|e| e.tenant.as_deref() == Some("tenant-1") && e.request == 0));
    assert_eq!(entries[0].labels_raw, a);
    assert_eq!(entries[0].labels["unified_model_logs"], "1");

    let requests = loki.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!((request.method.as_str(), request.path.as_str(), request.status), ("POST", PUSH_PATH, Some(204)));
    assert_eq!((request.streams, request.entries, request.stored), (2, 3, 3));
    assert_eq!(request.step, Some(Step::Accept));
    assert_eq!(request.authorization.as_deref(), Some("Basic dXNlcjpwYXNz"));
    assert_eq!(request.tenant.as_deref(), Some("tenant-1"));
    assert_eq!(request.body_len, body.len());
    assert!(loki.wait_for_entries(3, Duration::ZERO));
    assert!(!loki.wait_for_entries(4, Duration::from_millis(10)));
    assert_no_errors(&loki);
}

#[test]
fn json_push_is_stored() {
    let loki = FakeLoki::start();
    let line = contract_line("q7rg5", "from json");
    let body = serde_json::json!({"streams": [{
        "stream": {"job": "fluent-bit", "model_version_id": MVID, "namespace": ns(), "unified_model_logs": "1"},
        "values": [[(START_NS + 7).to_string(), line]],
    }]});
    let answer = push_with(&client(), &loki, "application/json", body.to_string().as_bytes()).unwrap();
    assert_eq!(answer.status, 204);
    let entries = loki.entries();
    assert_eq!(entries.len(), 1);
    assert_eq!((entries[0].timestamp_ns, entries[0].line.as_str()), (START_NS + 7, line.as_str()));
    assert_eq!(entries[0].labels_raw, contract_labels(MVID, &ns()));
    assert_no_errors(&loki);
}

#[test]
fn keep_alive_serves_pipelined_requests_on_one_connection() {
    let loki = FakeLoki::start();
    let first = valid_body(MVID, &["one"]);
    let second = valid_body(MVID, &["two"]);
    let mut stream = raw_request(loki.addr(), "", &first);
    // The second request follows before the first is answered: the server must keep the bytes it read ahead.
    let head = format!(
        "POST {PUSH_PATH} HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\nContent-Length: {}\r\n\r\n",
        second.len()
    );
    stream.write_all(&[head.as_bytes(), &second].concat()).unwrap();
    let mut buf = Vec::new();
    assert_eq!(read_response(&mut stream, &mut buf).0, 204);
    assert_eq!(read_response(&mut stream, &mut buf).0, 204);

    // A client library's pooled connection is reused too.
    let agent = client();
    for _ in 0..3 {
        assert_eq!(push_with(&agent, &loki, "application/x-protobuf", &first).unwrap().status, 204);
    }
    let connections: Vec<usize> = loki.requests().iter().map(|r| r.connection).collect();
    assert_eq!(connections[0], connections[1]);
    assert!(connections[2..].iter().all(|&c| c == connections[2]), "{connections:?}");
    let messages: Vec<_> = loki.entries().iter().map(|e| e.message().unwrap()).collect();
    assert_eq!(messages, ["one", "two", "one", "one", "one"]);
    assert_no_errors(&loki);
}

#[test]
fn chunked_bodies_are_decoded() {
    let loki = FakeLoki::start();
    let body = valid_body(MVID, &["chunked"]);
    let mut stream = TcpStream::connect(loki.addr()).unwrap();
    let (a, b) = body.split_at(body.len() / 2);
    let mut request = format!(
        "POST {PUSH_PATH} HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\n\
         Transfer-Encoding: chunked\r\n\r\n{:x}\r\n",
        a.len()
    )
    .into_bytes();
    request.extend_from_slice(a);
    request.extend_from_slice(format!("\r\n{:x}\r\n", b.len()).as_bytes());
    request.extend_from_slice(b);
    request.extend_from_slice(b"\r\n0\r\n\r\n");
    stream.write_all(&request).unwrap();
    assert_eq!(read_response(&mut stream, &mut Vec::new()).0, 204);
    assert_eq!(loki.entries()[0].message().as_deref(), Some("chunked"));
    assert_no_errors(&loki);
}

// ---------------------------------------------------------------------------------------------------------------
// Fake Loki: the scripted steps.

#[test]
fn status_steps_answer_as_scripted_and_store_nothing() {
    let loki = FakeLoki::start();
    let body = valid_body(MVID, &["x"]);
    loki.script(vec![
        Step::Status(500, "boom".into()),
        Step::Status(401, "no".into()),
        Step::TooManyRequests { retry_after_secs: 7 },
        Step::TooLargeOver(body.len() - 1),
        Step::TooLargeOver(body.len()),
    ]);
    assert_eq!(loki.script_left(), 5);
    let agent = client();
    let mut answers = Vec::new();
    for _ in 0..6 {
        let answer = push_with(&agent, &loki, "application/x-protobuf", &body).unwrap();
        answers.push((answer.status, answer.retry_after, answer.body.is_empty()));
    }
    assert_eq!(
        answers,
        [
            (500, None, false),
            (401, None, false),
            (429, Some("7".into()), false),
            (413, None, false),
            (204, None, true),
            (204, None, true),
        ]
    );
    assert_eq!(loki.script_left(), 0);
    // Only the last two (within the size limit, then the default Accept) were stored.
    let stored: Vec<usize> = loki.entries().iter().map(|e| e.request).collect();
    assert_eq!(stored, [4, 5]);
    let statuses: Vec<Option<u16>> = loki.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [Some(500), Some(401), Some(429), Some(413), Some(204), Some(204)]);
    assert_no_errors(&loki);
}

#[test]
fn a_status_body_reaches_the_client_and_ureq_reports_statuses_as_errors_by_default() {
    let loki = FakeLoki::start();
    loki.script(vec![Step::Status(500, "boom".into()), Step::Status(503, "down".into())]);
    let body = valid_body(MVID, &["x"]);
    assert_eq!(push(&loki, &body).unwrap().body, "boom");
    let default_client = ureq::post(loki.push_url()).header("Content-Type", "application/x-protobuf").send(&body[..]);
    assert!(matches!(default_client, Err(ureq::Error::StatusCode(503))), "{default_client:?}");
}

#[test]
fn set_default_answers_once_the_script_is_used_up() {
    let loki = FakeLoki::start();
    loki.set_default(Step::Status(503, "unavailable".into()));
    loki.script(vec![Step::Accept]);
    let body = valid_body(MVID, &["x"]);
    let statuses: Vec<u16> = (0..3).map(|_| push(&loki, &body).unwrap().status).collect();
    assert_eq!(statuses, [204, 503, 503]);
    assert_eq!(loki.entries().len(), 1);
}

#[test]
fn reset_closes_the_connection_without_answering() {
    let loki = FakeLoki::start();
    loki.script(vec![Step::Reset]);
    let body = valid_body(MVID, &["lost"]);
    let mut stream = raw_request(loki.addr(), "", &body);
    assert!(closed_without_answer(&mut stream));
    assert!(loki.entries().is_empty());
    assert_eq!(loki.requests()[0].status, None);

    // With a client library it is an error that is not a status; the next request is served normally.
    loki.script(vec![Step::Reset]);
    let error = push(&loki, &body).unwrap_err();
    assert!(!matches!(error, ureq::Error::StatusCode(_)), "{error:?}");
    assert_eq!(push(&loki, &body).unwrap().status, 204);
    assert_eq!(loki.entries().len(), 1);
    assert_no_errors(&loki);
}

#[test]
fn accept_then_reset_stores_but_loses_the_acknowledgement() {
    let loki = FakeLoki::start();
    loki.script(vec![Step::AcceptThenReset]);
    let body = valid_body(MVID, &["twice"]);
    let mut stream = raw_request(loki.addr(), "", &body);
    assert!(closed_without_answer(&mut stream));
    // The client retries, as it must: Loki holds two copies, which a query shows once.
    assert_eq!(push(&loki, &body).unwrap().status, 204);
    assert_eq!(loki.entries().len(), 2);
    assert_eq!(loki.unique_entries().len(), 1);
    assert_eq!(loki.requests()[0].stored, 1);
}

#[test]
fn hang_does_not_answer_until_released() {
    let loki = FakeLoki::start();
    loki.script(vec![Step::Hang]);
    let mut stream = raw_request(loki.addr(), "", &valid_body(MVID, &["held"]));
    assert!(loki.wait_for_hung(1, DEADLINE));

    // The deliberate wait: nothing arrives within a second.
    stream.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
    let mut byte = [0u8; 1];
    let error = stream.read(&mut byte).expect_err("a hung request is not answered");
    assert!(matches!(error.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut), "{error:?}");

    loki.release_hung();
    assert!(closed_without_answer(&mut stream));
    wait_until(DEADLINE, "the released request to stop hanging", || loki.hung() == 0);
    assert!(loki.entries().is_empty());
    assert_eq!(loki.requests()[0].status, None);

    // A later Hang hangs again.
    loki.script(vec![Step::Hang]);
    let _again = raw_request(loki.addr(), "", &valid_body(MVID, &["held"]));
    assert!(loki.wait_for_hung(1, DEADLINE));
    assert_no_errors(&loki);
}

#[test]
fn hang_ends_when_the_client_gives_up() {
    let loki = FakeLoki::start();
    loki.set_default(Step::Hang);
    let stream = raw_request(loki.addr(), "", &valid_body(MVID, &["held"]));
    assert!(loki.wait_for_hung(1, DEADLINE));
    drop(stream);
    wait_until(DEADLINE, "the abandoned request to stop hanging", || loki.hung() == 0);

    // A client with a timeout gets an error that is not a status.
    let agent: ureq::Agent =
        ureq::Agent::config_builder().timeout_global(Some(Duration::from_millis(300))).build().new_agent();
    let error = push_with(&agent, &loki, "application/x-protobuf", &valid_body(MVID, &["x"])).unwrap_err();
    assert!(!matches!(error, ureq::Error::StatusCode(_)), "{error:?}");
}

#[test]
fn dropping_the_server_with_a_hung_request_returns_promptly() {
    let loki = FakeLoki::start();
    loki.script(vec![Step::Hang]);
    let mut stream = raw_request(loki.addr(), "", &valid_body(MVID, &["held"]));
    assert!(loki.wait_for_hung(1, DEADLINE));
    let started = Instant::now();
    drop(loki);
    assert!(started.elapsed() < Duration::from_secs(2), "drop took {:?}", started.elapsed());
    assert!(closed_without_answer(&mut stream));
}

#[test]
fn reject_streams_stores_only_the_other_streams() {
    let loki = FakeLoki::start();
    loki.script(vec![
        Step::RejectStreams {
            label: "model_version_id".into(),
            value: "bad1".into(),
            reason: "stream 'bad1' rejected: entry too far behind".into(),
        },
        Step::RejectStreams { label: "model_version_id".into(), value: "absent".into(), reason: "unused".into() },
    ]);
    let (good, bad) = (contract_labels("good1", &ns()), contract_labels("bad1", &ns()));
    let (g1, g2, b1) = (contract_line("q7rg5", "g1"), contract_line("q7rg5", "g2"), contract_line("q7rg5", "b1"));
    let body = push_body(&[(&good, &[(START_NS, &g1)]), (&bad, &[(START_NS, &b1)]), (&good, &[(START_NS + 1, &g2)])]);
    let answer = push(&loki, &body).unwrap();
    assert_eq!((answer.status, answer.body.as_str()), (400, "stream 'bad1' rejected: entry too far behind"));
    let kept: Vec<String> = loki.entries().iter().map(|e| e.message().unwrap()).collect();
    assert_eq!(kept, ["g1", "g2"]);
    assert_eq!(loki.requests()[0].stored, 2);

    // With no stream to reject, it is a plain success.
    assert_eq!(push(&loki, &body).unwrap().status, 204);
    assert_eq!(loki.entries().len(), 5);
    assert_no_errors(&loki);
}

#[test]
fn slow_answers_after_the_delay_and_serves_others_meanwhile() {
    let loki = std::sync::Arc::new(FakeLoki::start());
    loki.script(vec![Step::Slow(Duration::from_millis(300))]);
    let started = Instant::now();
    let slow = {
        let loki = loki.clone();
        std::thread::spawn(move || push(&loki, &valid_body(MVID, &["slow"])).unwrap().status)
    };
    assert!(loki.wait_for_requests(1, DEADLINE));
    assert_eq!(loki.requests()[0].status, None, "still waiting");
    assert_eq!(push(&loki, &valid_body(MVID, &["fast"])).unwrap().status, 204);
    assert_eq!(slow.join().unwrap(), 204);
    assert!(started.elapsed() >= Duration::from_millis(300));
    let stored: Vec<(String, usize)> = loki.entries().iter().map(|e| (e.message().unwrap(), e.request)).collect();
    assert_eq!(stored, [("fast".to_owned(), 1), ("slow".to_owned(), 0)]);
    assert_eq!(loki.requests()[0].status, Some(204));
}

#[test]
fn down_refuses_connections_and_up_serves_on_the_same_port() {
    let mut loki = FakeLoki::start();
    let body = valid_body(MVID, &["before"]);
    let agent = client();
    assert_eq!(push_with(&agent, &loki, "application/x-protobuf", &body).unwrap().status, 204);
    let addr = loki.addr();
    loki.down();
    assert!(!loki.is_up());
    assert_eq!(TcpStream::connect(addr).unwrap_err().kind(), io::ErrorKind::ConnectionRefused);
    // The agent's pooled connection was closed too: the request fails rather than reaching a dead server.
    assert!(push_with(&agent, &loki, "application/x-protobuf", &body).is_err());

    loki.up();
    assert_eq!(loki.addr(), addr);
    assert_eq!(push_with(&agent, &loki, "application/x-protobuf", &valid_body(MVID, &["after"])).unwrap().status, 204);
    let messages: Vec<_> = loki.entries().iter().map(|e| e.message().unwrap()).collect();
    assert_eq!(messages, ["before", "after"]);
}

// ---------------------------------------------------------------------------------------------------------------
// Fake Loki: contract checks.

#[test]
fn valid_records_raise_no_violation() {
    let labels = contract_labels(MVID, &ns());
    let line = r#"{"levelname":"ERROR","message":"m","replica":"q7rg5","source":"gpu_build","exc_info":"Traceback","request_id":"r1","attempt":2,"ok":true}"#;
    assert_eq!(violations_of(&[(&labels, &[(START_NS, line)])]), Vec::<String>::new());
}

#[test]
fn label_violations_are_reported() {
    let line = contract_line("q7rg5", "m");
    let entries: &[(i64, &str)] = &[(START_NS, &line)];
    let cases = [
        (r#"{job="fluent-bit", model_version_id="x", namespace="n"}"#, "are not exactly"),
        (r#"{job="fluent-bit", model_version_id="x", namespace="n", unified_model_logs="1", pod="p"}"#, "not exactly"),
        (r#"{job="promtail", model_version_id="x", namespace="n", unified_model_logs="1"}"#, "label job"),
        (r#"{job="fluent-bit", model_version_id="x", namespace="n", unified_model_logs="true"}"#, "unified_model_logs"),
        (r#"{job="fluent-bit", model_version_id="", namespace="n", unified_model_logs="1"}"#, "empty label"),
    ];
    for (labels, expected) in cases {
        let errors = violations_of(&[(labels, entries)]);
        assert!(errors.len() == 1 && errors[0].contains(expected), "{labels}: {errors:?}");
    }
}

#[test]
fn line_violations_are_reported() {
    let cases = [
        ("not json", "not JSON"),
        ("[1]", "not a JSON object"),
        (r#"{"levelname":"TRACE","message":"m","replica":"r","source":"build"}"#, "levelname"),
        (r#"{"levelname":"INFO","message":"m","replica":"r","source":"istio"}"#, "source"),
        (r#"{"levelname":"INFO","message":"m","replica":1,"source":"build"}"#, "replica"),
        (r#"{"levelname":"INFO","replica":"r","source":"build"}"#, "without message"),
        (r#"{"levelname":"INFO","message":"m","replica":"r","source":"build","exc_info":null}"#, "exc_info"),
        (r#"{"levelname":"INFO","message":"m","replica":"r","source":"build","extra":[1]}"#, "extra"),
    ];
    for (line, expected) in cases {
        let error = check_line(line).expect_err(line);
        assert!(error.contains(expected), "{line}: {error}");
    }
    let labels = contract_labels(MVID, &ns());
    let huge = contract_line("q7rg5", &"x".repeat(256 * 1024));
    let errors = violations_of(&[(&labels, &[(START_NS, &huge), (0, &contract_line("q7rg5", "epoch"))])]);
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(errors[0].contains("bytes is over 262144"), "{errors:?}");
    assert!(errors[1].contains("not after the epoch"), "{errors:?}");
}

#[test]
fn protocol_violations_are_reported() {
    let loki = FakeLoki::start();
    let body = valid_body(MVID, &["x"]);
    let agent = client();
    assert_eq!(agent.get(format!("{}/ready", loki.url())).call().unwrap().status().as_u16(), 404);
    assert_eq!(agent.get(loki.push_url()).call().unwrap().status().as_u16(), 405);
    assert_eq!(push_with(&agent, &loki, "text/plain", &body).unwrap().status, 204);
    // The framed snappy format is not what Loki reads.
    let mut framed = Vec::new();
    snap::write::FrameEncoder::new(&mut framed)
        .write_all(&snap::raw::Decoder::new().decompress_vec(&body).unwrap())
        .unwrap();
    assert_eq!(push(&loki, &framed).unwrap().status, 400);
    // Labels that are not a selector make Loki reject the whole request.
    let bad_labels = push_body(&[("job=fluent-bit", &[(START_NS, "x")])]);
    assert_eq!(push(&loki, &bad_labels).unwrap().status, 400);

    let errors = loki.errors();
    let expected = [
        "GET /ready is not POST",
        "GET /loki/api/v1/push is not POST",
        "Content-Type \"text/plain\"",
        "snappy",
        "labels",
    ];
    assert_eq!(errors.len(), expected.len(), "{errors:?}");
    for (error, expected) in errors.iter().zip(expected) {
        assert!(error.contains(expected), "{error} lacks {expected}");
    }
    assert_eq!(loki.entries().len(), 1);
}

#[test]
fn a_request_abandoned_midway_is_not_a_violation_but_garbage_is() {
    let loki = FakeLoki::start();
    let body = valid_body(MVID, &["half"]);
    // A client killed in the middle of its body.
    let mut stream = TcpStream::connect(loki.addr()).unwrap();
    let head = format!("POST {PUSH_PATH} HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n", body.len());
    stream.write_all(&[head.as_bytes(), &body[..body.len() / 2]].concat()).unwrap();
    drop(stream);
    wait_until(DEADLINE, "the abandoned request to be noticed", || !loki.aborted().is_empty());
    assert!(loki.aborted()[0].contains("body bytes"), "{:?}", loki.aborted());
    assert!(loki.requests().is_empty() && loki.entries().is_empty());
    assert_no_errors(&loki);

    let mut stream = TcpStream::connect(loki.addr()).unwrap();
    stream.write_all(b"this is not HTTP\r\n\r\n").unwrap();
    assert_eq!(read_response(&mut stream, &mut Vec::new()).0, 400);
    assert_eq!(loki.errors().len(), 1, "{:?}", loki.errors());
    assert!(loki.errors()[0].contains("malformed request head"));
}

// ---------------------------------------------------------------------------------------------------------------
// Fake Loki: the label parser.

#[test]
fn labels_parse_as_a_strict_selector() {
    let parsed = parse_labels(r#" { job="fluent-bit",namespace = "a\"b\\c\nd\t\u00e9\x41\101" } "#).unwrap();
    assert_eq!(parsed["job"], "fluent-bit");
    assert_eq!(parsed["namespace"], "a\"b\\c\nd\té\u{41}A");
    assert!(parse_labels("{}").unwrap().is_empty());
    for bad in [
        "job=\"x\"",
        "{job=\"x\"",
        "{job='x'}",
        "{job=`x`}",
        "{job!=\"x\"}",
        "{job=~\"x\"}",
        "{job=\"x\",}",
        "{job=\"x\", job=\"y\"}",
        "{1job=\"x\"}",
        "{job=\"x\\q\"}",
        "{job=\"x\ny\"}",
        "{job=\"\\xff\"}",
        "{job=\"x\"} trailing",
    ] {
        assert!(parse_labels(bad).is_err(), "{bad:?} parsed");
    }
}

proptest! {
    #[test]
    fn formatted_labels_parse_back(labels in prop::collection::btree_map("[a-zA-Z_][a-zA-Z0-9_]{0,8}", any::<String>(), 0..5)) {
        prop_assert_eq!(parse_labels(&format_labels(&labels)).unwrap(), labels);
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Kubelet simulator.

fn lines_of(path: &std::path::Path) -> Vec<String> {
    fs::read_to_string(path).unwrap().lines().map(str::to_owned).collect()
}

fn gunzip(path: &std::path::Path) -> String {
    let mut text = String::new();
    flate2::read::GzDecoder::new(fs::File::open(path).unwrap()).read_to_string(&mut text).unwrap();
    text
}

fn file_name(path: &std::path::Path) -> String {
    path.file_name().unwrap().to_string_lossy().into_owned()
}

#[test]
fn timestamps_are_rfc3339_nano_with_trimmed_fractions() {
    assert_eq!(rfc3339_nano(START_NS), "2026-11-20T10:00:00Z");
    assert_eq!(rfc3339_nano(START_NS + 1_123_456_789), "2026-11-20T10:00:01.123456789Z");
    assert_eq!(rfc3339_nano(START_NS + 1_000_000), "2026-11-20T10:00:00.001Z");
    assert_eq!(rfc3339_nano(START_NS + 120_000_000), "2026-11-20T10:00:00.12Z");
    assert_eq!(rfc3339_nano(0), "1970-01-01T00:00:00Z");
    assert_eq!(rfc3339_nano(951_782_400_000_000_000), "2000-02-29T00:00:00Z");
    assert_eq!(kubelet::asctime(START_NS + 42_000_000), "2026-11-20 10:00:00,042");
}

#[test]
fn layout_and_cri_lines_are_as_on_a_node() {
    let root = tempfile::tempdir().unwrap();
    let mut kubelet = Kubelet::new(root.path());
    let (namespace, pod) = model_pod(MVID, "q7rg5");
    let mut log = kubelet.container(&namespace, &pod, "model");
    let uid = pod_uid(&namespace, &pod);
    assert_eq!(log.path(), root.path().join(format!("{namespace}_{pod}_{uid}/model/0.log")));
    assert!(log.path().exists());

    log.write_line("stdout", "hello");
    log.write_line("stderr", "world");
    log.write_pieces("stdout", &["a long ", "line in ", "pieces"]);
    log.write_partial("stderr", "unfinished");
    log.write_raw(b"torn");
    assert_eq!(
        fs::read_to_string(log.path()).unwrap(),
        "2026-11-20T10:00:00Z stdout F hello\n\
         2026-11-20T10:00:00.001Z stderr F world\n\
         2026-11-20T10:00:00.002Z stdout P a long \n\
         2026-11-20T10:00:00.003Z stdout P line in \n\
         2026-11-20T10:00:00.004Z stdout F pieces\n\
         2026-11-20T10:00:00.005Z stderr P unfinished\n\
         torn"
    );
    assert_eq!(kubelet.now_ns(), START_NS + 6_000_000);
    kubelet.advance(Duration::from_secs(1));
    assert_eq!(kubelet.now_ns(), START_NS + 1_006_000_000);
}

#[test]
fn pod_uids_and_names_follow_the_platform() {
    let (namespace, pod) = model_pod(MVID, "q7rg5");
    assert_eq!(
        (namespace.as_str(), pod.as_str()),
        ("org-50a9bc6b456e47aa88e0d81e622ea315", "model-x5qe2qo-7d9f8b6c5d-q7rg5")
    );
    let uid = pod_uid(&namespace, &pod);
    assert_eq!(uid, pod_uid(&namespace, &pod));
    assert_ne!(uid, pod_uid(&namespace, "model-x5qe2qo-7d9f8b6c5d-h4k2p"));
    let groups: Vec<usize> = uid.split('-').map(str::len).collect();
    assert_eq!(groups, [8, 4, 4, 4, 12], "{uid}");
    assert!(uid.chars().all(|c| c == '-' || c.is_ascii_hexdigit() && !c.is_ascii_uppercase()), "{uid}");
    let org = kubelet::org_namespace("another");
    assert!(org.len() == 36 && org.starts_with("org-") && org[4..].chars().all(|c| c.is_ascii_hexdigit()), "{org}");
}

#[test]
#[should_panic(expected = "replica suffix")]
fn model_pod_refuses_impossible_replica_names() {
    // Vowels never appear in Kubernetes' random suffixes.
    model_pod(MVID, "aeiou");
}

#[test]
fn rotation_renames_compresses_through_tmp_and_keeps_max_files() {
    let root = tempfile::tempdir().unwrap();
    let mut kubelet = Kubelet::new(root.path());
    let (namespace, pod) = model_pod(MVID, "q7rg5");
    let mut log = kubelet.container(&namespace, &pod, "model");
    let live = log.path();

    log.write_line("stdout", "first");
    log.rotate();
    let rotated = log.rotated_files();
    assert_eq!(rotated.iter().map(|p| file_name(p)).collect::<Vec<_>>(), ["0.log.20261120-100000"]);
    assert_eq!(fs::read_to_string(&live).unwrap(), "", "the new live file starts empty");
    assert_eq!(lines_of(&rotated[0]), ["2026-11-20T10:00:00Z stdout F first"]);

    // The second rotation in the same second moves the clock, and compresses the first rotated file.
    log.write_line("stdout", "second");
    let ops_before = log.ops().len();
    log.rotate();
    let names: Vec<String> = log.rotated_files().iter().map(|p| file_name(p)).collect();
    assert_eq!(names, ["0.log.20261120-100000.gz", "0.log.20261120-100001"]);
    let first = log.dir().join("0.log.20261120-100000");
    let tmp = log.dir().join("0.log.20261120-100000.tmp");
    let gz = log.dir().join("0.log.20261120-100000.gz");
    assert_eq!(
        log.ops()[ops_before..],
        [
            FsOp::Create(tmp.clone()),
            FsOp::Rename { from: tmp, to: gz.clone() },
            FsOp::Remove(first),
            FsOp::Rename { from: live.clone(), to: log.dir().join("0.log.20261120-100001") },
        ]
    );
    assert_eq!(gunzip(&gz), "2026-11-20T10:00:00Z stdout F first\n");
    assert_eq!(kubelet.now_ns(), START_NS + 1_000_000_000);

    // Many rotations: never more than max_files files, only the newest rotated one uncompressed, every name later
    // than the one before.
    let mut previous = file_name(log.rotated_files().last().unwrap());
    for i in 0..8 {
        log.write_line("stdout", &format!("line {i}"));
        log.rotate();
        let rotated = log.rotated_files();
        assert!(rotated.len() < 5, "{rotated:?}");
        let (newest, older) = rotated.split_last().unwrap();
        assert!(file_name(newest) > previous, "{newest:?} is not later than {previous}");
        previous = file_name(newest);
        assert!(!previous.ends_with(".gz"));
        assert!(older.iter().all(|p| file_name(p).ends_with(".gz")), "{older:?}");
    }
    assert_eq!(fs::read_dir(log.dir()).unwrap().count(), 5);
    assert_eq!(log.rotated_files().len(), 4);
    // Every rotation fell in the second of the one before, so each moved the clock to the next second.
    assert_eq!(lines_of(log.rotated_files().last().unwrap()), ["2026-11-20T10:00:08Z stdout F line 7"]);

    // A smaller limit applies at the next rotation.
    log.set_max_files(2);
    log.rotate();
    assert_eq!(log.rotated_files().len(), 1);
    assert!(!log.ops().iter().any(|op| matches!(op, FsOp::Create(p) if p.exists())), "no .tmp is left behind");
}

#[test]
fn rotation_cleans_up_an_interrupted_compression() {
    let root = tempfile::tempdir().unwrap();
    let mut kubelet = Kubelet::new(root.path());
    let mut log = kubelet.container("ns", "pod", "c");
    log.write_line("stdout", "x");
    let rotated = log.rotate_begin();
    log.reopen();
    // A kubelet that crashed mid-compression left a .tmp; the next rotation removes it.
    let leftover = std::path::PathBuf::from(format!("{}.tmp", rotated.display()));
    fs::write(&leftover, b"half a gzip").unwrap();
    log.rotate();
    assert!(!leftover.exists());
    assert!(log.ops().contains(&FsOp::Remove(leftover)));
    assert_eq!(log.rotated_files().len(), 2);
}

#[test]
fn writes_between_rename_and_reopen_land_in_the_rotated_file() {
    let root = tempfile::tempdir().unwrap();
    let mut kubelet = Kubelet::new(root.path());
    let mut log = kubelet.container("ns", "pod", "c");
    log.write_line("stdout", "before");
    let rotated = log.rotate_begin();
    assert!(!log.path().exists(), "the live name is free until containerd reopens");
    log.write_line("stdout", "in between");
    log.reopen();
    log.write_line("stdout", "after");
    assert_eq!(lines_of(&rotated).len(), 2);
    assert!(lines_of(&rotated)[1].ends_with("in between"));
    assert_eq!(lines_of(&log.path()), ["2026-11-20T10:00:00.002Z stdout F after"]);
}

#[test]
fn restart_writes_the_next_file_and_delete_removes_the_pod() {
    let root = tempfile::tempdir().unwrap();
    let mut kubelet = Kubelet::new(root.path());
    let (namespace, pod) = model_pod(MVID, "q7rg5");
    let mut log = kubelet.container(&namespace, &pod, "model");
    let mut sidecar = kubelet.container(&namespace, &pod, "istio-proxy");
    sidecar.write_line("stdout", "proxy");
    let id0 = log.container_id();
    log.write_line("stdout", "run 0");
    log.restart();
    log.write_line("stdout", "run 1");
    assert_eq!(log.restart_count(), 1);
    assert_eq!(file_name(&log.path()), "1.log");
    assert!(lines_of(&log.dir().join("0.log"))[0].ends_with("run 0"));
    assert!(lines_of(&log.path())[0].ends_with("run 1"));
    assert_ne!(log.container_id(), id0);
    assert!(log.container_id().len() == 64 && log.container_id().chars().all(|c| c.is_ascii_hexdigit()));

    let pod_dir = log.pod_dir().to_owned();
    log.delete_pod();
    assert!(!pod_dir.exists());
    sidecar.delete_pod();
}

#[test]
fn containers_symlinks_point_at_the_live_file() {
    let root = tempfile::tempdir().unwrap();
    let pods = root.path().join("pods");
    let containers = root.path().join("containers");
    let mut kubelet = Kubelet::new(&pods);
    let (namespace, pod) = model_pod(MVID, "q7rg5");
    let mut log = kubelet.container(&namespace, &pod, "model");
    let link = make_containers_symlink(&pods, &containers, &log);
    assert_eq!(
        file_name(&link),
        format!("model-x5qe2qo-7d9f8b6c5d-q7rg5_org-50a9bc6b456e47aa88e0d81e622ea315_model-{}.log", log.container_id())
    );
    assert_eq!(fs::read_link(&link).unwrap(), log.path());
    log.write_line("stdout", "via link");
    assert!(lines_of(&link)[0].ends_with("via link"));

    log.restart();
    let second = make_containers_symlink(&pods, &containers, &log);
    assert_ne!(second, link);
    assert_eq!(fs::read_link(&second).unwrap(), log.path());
    assert_eq!(fs::read_dir(&containers).unwrap().count(), 2);
}

#[test]
fn model_lines_carry_their_sequence_number() {
    let line = model_line(42);
    assert_eq!(
        line,
        r#"{"asctime": "2026-11-20 10:00:00,042", "levelname": "INFO", "message": "request seq=42 done"}"#
    );
    let value: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(seq_of(value["message"].as_str().unwrap()), Some(42));
    assert_eq!(seq_of("no sequence here"), None);
    assert_eq!(seq_of("seq= seq=x seq=7 seq=8"), Some(7));
}

proptest! {
    #[test]
    fn seq_of_reads_back_model_line(seq in 0u64..10_000_000_000) {
        let value: serde_json::Value = serde_json::from_str(&model_line(seq)).unwrap();
        prop_assert_eq!(seq_of(value["message"].as_str().unwrap()), Some(seq));
    }
}

#[test]
fn an_entry_reads_back_the_sequence_of_its_message() {
    let loki = FakeLoki::start();
    let line = contract_line("q7rg5", "request seq=9 done");
    let labels = contract_labels(MVID, &ns());
    push(&loki, &push_body(&[(&labels, &[(START_NS, &line)])])).unwrap();
    assert_eq!(loki.entries()[0].seq(), Some(9));
}

// ---------------------------------------------------------------------------------------------------------------
// Shared helpers.

#[test]
fn wait_until_returns_once_the_condition_holds() {
    let started = Instant::now();
    let mut calls = 0;
    wait_until(DEADLINE, "the third call", || {
        calls += 1;
        calls == 3
    });
    assert!(started.elapsed() < Duration::from_secs(1));
}

#[test]
#[should_panic(expected = "waiting for the impossible")]
fn wait_until_names_what_it_waited_for() {
    wait_until(Duration::from_millis(50), "the impossible", || false);
}
