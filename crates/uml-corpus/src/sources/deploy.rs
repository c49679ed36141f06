//! Django's deployment and lifecycle logs: python-json-logger objects of
//! the web app, of which only those with a `model_version_id` are meant for
//! a user (docs/contract.md, "The five sources").
//!
//! The mix, per line:
//!
//! | share | what |
//! | --- | --- |
//! | 36 % | deployment logs: `model_version_id`, `org_namespace`, sometimes `replica`; INFO, some WARNING (`Replica q7rg5 is not ready after 120s`), some unicode model names |
//! | 0.6 % | failed deployments: ERROR with `exc_info` |
//! | 0.4 % | broken deployment logs: `model_version_id` without `org_namespace`, or `null` |
//! | 42 % | request logs and health checks (`GET /health 200`) with a `request_id`, `Not Found` warnings |
//! | 14.5 % | other app logs: celery tasks, webhooks, an `Internal Server Error` with `exc_info` |
//! | 6.5 % | plain text: gunicorn (`[2026-11-20 10:00:00 +0000] [7] [INFO] Booting worker with pid: 7`), the autoreloader, system checks |
//!
//! Everything goes to stderr except the plain text of the management
//! commands, on stdout.

use crate::frame::{Burst, Cx, Generator, Stream};
use crate::names::{Identity, ModelVersion, model_versions};
use crate::sources::{py_json_head, py_key, py_str};
use crate::text::{HEX, pick, pick_ref, push_py_json, push_random, push_u64, push_uuid};
use crate::traceback::{self, Pool};

pub(crate) struct Deploy {
    pool: Vec<ModelVersion>,
    text: Vec<u8>,
}

const POOL: Pool = Pool {
    outer: &[("/app/baseten/deploy/tasks.py", "deploy_model_version", "deployer.deploy(model_version)")],
    failures: &[
        (
            &[
                ("/app/baseten/deploy/deployer.py", "deploy", "self._wait_for_image(model_version)"),
                ("/app/baseten/deploy/deployer.py", "_wait_for_image", "raise DeployError(\"image pull failed\")"),
            ],
            "DeployError: image pull failed",
        ),
        (
            &[
                ("/app/baseten/deploy/deployer.py", "deploy", "self._k8s.apply(spec)"),
                ("/app/baseten/deploy/k8s.py", "apply", "return self._api.create_namespaced_custom_object(**spec)"),
                (
                    "/usr/local/lib/python3.11/site-packages/kubernetes/client/rest.py",
                    "request",
                    "raise ApiException(http_resp=r)",
                ),
            ],
            "kubernetes.client.exceptions.ApiException: (409)\nReason: Conflict",
        ),
        (
            &[
                ("/app/baseten/deploy/deployer.py", "deploy", "self._wait_ready(model_version, timeout=1800)"),
                (
                    "/app/baseten/deploy/deployer.py",
                    "_wait_ready",
                    "raise TimeoutError(f\"model version did not become ready in {timeout}s\")",
                ),
            ],
            "TimeoutError: model version did not become ready in 1800s",
        ),
    ],
};

/// Model names as users type them, unicode included.
const NAMES: [&str; 6] =
    ["Llama 3 8B – chat", "whisper-large-v3", "SDXL «turbo»", "Qwen2.5 14B 🚀", "my_model", "Mistral 7B Instruct"];

impl Deploy {
    pub(crate) fn new(identity: &Identity, seed: u64) -> Deploy {
        let mut rng = fastrand::Rng::with_seed(seed ^ 0x510e_527f_ade6_82d1);
        Deploy { pool: model_versions(identity, &mut rng, 8), text: Vec::new() }
    }

    fn deployment(&mut self, cx: &mut Cx, b: &mut Burst) {
        let civil = cx.clock.civil();
        let rng = &mut cx.rng;
        let model = &self.pool[if rng.u8(..3) == 0 { 0 } else { rng.usize(..self.pool.len()) }];
        let mvid = model.mvid.as_bytes();
        let text = &mut self.text;
        text.clear();
        let mut replica = None;
        let mut level = "INFO";
        let mut exc_info = false;
        match rng.u8(..20) {
            0..3 => {
                text.extend_from_slice(b"Deploying model version ");
                text.extend_from_slice(mvid);
                if rng.bool() {
                    text.extend_from_slice(b" (");
                    text.extend_from_slice(pick(rng, &NAMES).as_bytes());
                    text.push(b')');
                }
            }
            3..5 => {
                text.extend_from_slice(b"Building image for model version ");
                text.extend_from_slice(mvid);
            }
            5..7 => {
                text.extend_from_slice(b"Scaling model version ");
                text.extend_from_slice(mvid);
                text.extend_from_slice(b" to ");
                push_u64(text, rng.u64(0..8));
                text.extend_from_slice(b" replicas");
            }
            7..11 => {
                let r = pick_ref(rng, &model.replicas);
                text.extend_from_slice(b"Replica ");
                text.extend_from_slice(r.as_bytes());
                text.extend_from_slice(b" is ready");
                replica = Some(r);
            }
            11..13 => {
                let r = pick_ref(rng, &model.replicas);
                text.extend_from_slice(b"Replica ");
                text.extend_from_slice(r.as_bytes());
                text.extend_from_slice(b" is not ready after ");
                push_u64(text, pick(rng, &[60, 120, 300, 600]));
                text.push(b's');
                replica = Some(r);
                level = "WARNING";
            }
            13..15 => {
                text.extend_from_slice(b"Model version ");
                text.extend_from_slice(mvid);
                text.extend_from_slice(b" is active");
            }
            15..17 => {
                text.extend_from_slice(b"Scaling model version ");
                text.extend_from_slice(mvid);
                text.extend_from_slice(b" to zero after ");
                push_u64(text, pick(rng, &[300, 900, 3600]));
                text.extend_from_slice(b"s without traffic");
            }
            17 => {
                text.extend_from_slice(b"Deactivating model version ");
                text.extend_from_slice(mvid);
            }
            18 if rng.u8(..3) == 0 => {
                text.extend_from_slice(b"Deployment of ");
                text.extend_from_slice(mvid);
                text.extend_from_slice(b" failed");
                level = "ERROR";
                exc_info = true;
            }
            _ => {
                text.extend_from_slice(b"Image for model version ");
                text.extend_from_slice(mvid);
                text.extend_from_slice(b" built in ");
                push_u64(text, rng.u64(40..1800));
                text.push(b's');
            }
        }
        let out = b.line(Stream::Stderr);
        py_json_head(out, &civil, level);
        py_str(out, "message", text);
        py_str(out, "model_version_id", mvid);
        match rng.u16(..200) {
            0 => {} // no org_namespace: not deliverable
            1 => {
                out.truncate(out.len() - mvid.len() - 2);
                out.extend_from_slice(b"null");
            }
            _ => py_str(out, "org_namespace", model.org.as_bytes()),
        }
        if let Some(r) = replica {
            py_str(out, "replica", r.as_bytes());
        }
        if exc_info {
            let mut lines = Burst::default();
            traceback::python(rng, &POOL, &mut lines, Stream::Stderr);
            let text = &mut self.text;
            text.clear();
            for i in 0..lines.len() {
                if i > 0 {
                    text.push(b'\n');
                }
                text.extend_from_slice(lines.get(i).1);
            }
            py_str(out, "exc_info", text);
        }
        out.push(b'}');
    }

    fn request(&mut self, cx: &mut Cx, b: &mut Burst) {
        let civil = cx.clock.civil();
        let rng = &mut cx.rng;
        let text = &mut self.text;
        text.clear();
        let mut level = "INFO";
        match rng.u8(..10) {
            0..4 => text.extend_from_slice(b"GET /health 200"),
            4..6 => {
                text.extend_from_slice(b"GET /api/v1/models/");
                push_random(text, rng, crate::text::ALNUM, 7);
                text.extend_from_slice(b" 200");
            }
            6..8 => {
                text.extend_from_slice(b"POST /graphql 200");
            }
            8 => {
                text.extend_from_slice(b"GET /metrics 200");
            }
            _ => {
                text.extend_from_slice(b"Not Found: /favicon.ico");
                level = "WARNING";
            }
        }
        let out = b.line(Stream::Stderr);
        py_json_head(out, &civil, level);
        py_str(out, "message", text);
        py_key(out, "request_id");
        out.push(b'"');
        push_random(out, rng, HEX, 8);
        out.push(b'"');
        if rng.bool() {
            py_key(out, "duration_ms");
            push_u64(out, rng.u64(1..900));
        }
        out.push(b'}');
    }

    fn other(&mut self, cx: &mut Cx, b: &mut Burst) {
        let civil = cx.clock.civil();
        let rng = &mut cx.rng;
        let out = b.line(Stream::Stderr);
        match rng.u8(..20) {
            0..8 => {
                py_json_head(out, &civil, "INFO");
                py_key(out, "message");
                let mut text = b"Task baseten.deploy.tasks.sync_model_versions[".to_vec();
                push_uuid(&mut text, rng);
                text.extend_from_slice(b"] succeeded in 0.");
                push_u64(&mut text, rng.u64(10..999));
                text.extend_from_slice(b"s: None");
                push_py_json(out, &text, true);
            }
            8..14 => {
                py_json_head(out, &civil, "INFO");
                py_str(out, "message", b"Sending webhook for organization");
                py_str(out, "org_namespace", self.pool[rng.usize(..self.pool.len())].org.as_bytes());
            }
            14..19 => {
                py_json_head(out, &civil, "DEBUG");
                py_str(out, "message", b"Cache miss for feature flags, fetching from LaunchDarkly");
            }
            _ => {
                py_json_head(out, &civil, "ERROR");
                py_str(out, "message", b"Internal Server Error: /api/v1/billing");
                py_str(
                    out,
                    "exc_info",
                    b"Traceback (most recent call last):\n  File \"/app/baseten/billing/views.py\", line 88, in usage\n    return self.client.get_usage(org)\nstripe.error.RateLimitError: Request rate limit exceeded",
                );
            }
        }
        out.push(b'}');
    }

    fn plain(cx: &mut Cx, b: &mut Burst) {
        let civil = cx.clock.civil();
        let rng = &mut cx.rng;
        match rng.u8(..10) {
            0..6 => {
                let out = b.line(Stream::Stderr);
                civil.gunicorn(out);
                let pid = rng.u64(7..40);
                out.extend_from_slice(b" [");
                push_u64(out, pid);
                let (what, close): (&[u8], &[u8]) = match rng.u8(..4) {
                    0 => (b"] [INFO] Booting worker with pid: ", b""),
                    1 => (b"] [WARNING] Worker graceful timeout (pid:", b")"),
                    _ => (b"] [INFO] Handling signal: winch (pid:", b")"),
                };
                out.extend_from_slice(what);
                push_u64(out, pid);
                out.extend_from_slice(close);
            }
            6..8 => b.line(Stream::Stderr).extend_from_slice(b"Watching for file changes with StatReloader"),
            _ => b.line(Stream::Stdout).extend_from_slice(b"System check identified no issues (0 silenced)."),
        }
    }
}

impl Generator for Deploy {
    fn burst(&mut self, cx: &mut Cx, b: &mut Burst) {
        match cx.rng.u16(..1000) {
            0..370 => self.deployment(cx, b),
            370..790 => self.request(cx, b),
            790..935 => self.other(cx, b),
            _ => Self::plain(cx, b),
        }
    }

    fn single(&mut self, cx: &mut Cx, b: &mut Burst) {
        self.request(cx, b);
    }

    fn mean_gap_ns(&self) -> u64 {
        100_000_000
    }

    fn mean_line_len(&self) -> usize {
        260
    }
}
