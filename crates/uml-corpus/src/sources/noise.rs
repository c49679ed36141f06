//! Files that no rule may route: the sidecars and init containers of the
//! model and build pods, and platform pods in other namespaces
//! (docs/contract.md, "The five sources"). Their content is made to tempt a
//! careless rule: JSON with `message` and levels, tracebacks,
//! `model_version_id` keys, the model's own pod name.

use crate::Noise;
use crate::frame::{Burst, Cx, Generator, Stream};
use crate::names::Identity;
use crate::sources::{py_json_head, py_str};
use crate::text::{HEX, pick, push_go_json, push_pod_address, push_random, push_u64, push_uuid};

pub(crate) struct NoiseGenerator {
    kind: Noise,
    mvid: String,
    org: String,
    model_pod: String,
}

impl NoiseGenerator {
    pub(crate) fn new(kind: Noise, identity: &Identity) -> NoiseGenerator {
        NoiseGenerator { kind, mvid: identity.mvid.clone(), org: identity.org.clone(), model_pod: identity.model_pod() }
    }

    /// knative's queue-proxy: zap JSON objects.
    fn queue_proxy(&self, cx: &mut Cx, b: &mut Burst) {
        let civil = cx.clock.civil();
        let rng = &mut cx.rng;
        let out = b.line(Stream::Stderr);
        let (severity, caller, message): (&[u8], &[u8], &[u8]) = match rng.u8(..10) {
            0..3 => (b"INFO", b"sharedmain/main.go:259", b"Starting queue-proxy"),
            3..5 => (b"INFO", b"sharedmain/main.go:265", b"Starting http server main:8012"),
            5 => (b"INFO", b"sharedmain/main.go:301", b"Received TERM signal, attempting to gracefully shutdown servers."),
            6 => (b"INFO", b"sharedmain/main.go:305", b"Sleeping 30s to allow K8s propagation of non-ready state"),
            7 | 8 => (b"WARN", b"readiness/probe.go:95", b"Probe failed: HTTP probe did not respond Ready, got status code: 503"),
            _ => (b"ERROR", b"network/error_handler.go:33", b"error reverse proxying request; sockstat: sockets: used 12\nTCP: inuse 5 orphan 0 tw 2 alloc 9 mem 1\n"),
        };
        out.extend_from_slice(b"{\"severity\":\"");
        out.extend_from_slice(severity);
        out.extend_from_slice(b"\",\"timestamp\":\"");
        civil.rfc3339_digits(out, 3);
        out.extend_from_slice(b"\",\"logger\":\"queueproxy\",\"caller\":\"");
        out.extend_from_slice(caller);
        out.extend_from_slice(b"\",\"message\":");
        push_go_json(out, message);
        out.extend_from_slice(b",\"commit\":\"4c1d2e9\",\"knative.dev/key\":\"");
        out.extend_from_slice(self.org.as_bytes());
        out.extend_from_slice(b"/model-");
        out.extend_from_slice(self.mvid.as_bytes());
        out.extend_from_slice(b"-00001\",\"knative.dev/pod\":\"");
        out.extend_from_slice(self.model_pod.as_bytes());
        out.push(b'"');
        if severity == b"ERROR" {
            out.extend_from_slice(b",\"error\":\"context canceled\",\"stacktrace\":\"knative.dev/pkg/network.ErrorHandler.func1\\n\\tknative.dev/pkg@v0.0.0-20240416145024-0f34a8815650/network/error_handler.go:33\\nnet/http/httputil.(*ReverseProxy).ServeHTTP\\n\\tnet/http/httputil/reverseproxy.go:475\"");
        }
        out.push(b'}');
    }

    /// istio-proxy: pilot-agent's tab-separated lines and envoy's access log.
    fn istio_proxy(&self, cx: &mut Cx, b: &mut Burst) {
        let civil = cx.clock.civil();
        let rng = &mut cx.rng;
        let out = b.line(Stream::Stdout);
        match rng.u8(..10) {
            0..6 => {
                out.push(b'[');
                civil.rfc3339_digits(out, 3);
                out.extend_from_slice(b"] \"POST /v1/models/model:predict HTTP/1.1\" ");
                out.extend_from_slice(pick(rng, &[&b"200"[..], b"200", b"200", b"503", b"504"]));
                out.extend_from_slice(b" - via_upstream - \"-\" ");
                push_u64(out, rng.u64(100..9000));
                out.push(b' ');
                push_u64(out, rng.u64(100..90_000));
                out.push(b' ');
                let ms = rng.u64(5..9000);
                push_u64(out, ms);
                out.push(b' ');
                push_u64(out, ms - 1);
                out.extend_from_slice(b" \"-\" \"python-requests/2.32.3\" \"");
                push_uuid(out, rng);
                out.extend_from_slice(b"\" \"model-");
                out.extend_from_slice(self.mvid.as_bytes());
                out.push(b'.');
                out.extend_from_slice(self.org.as_bytes());
                out.extend_from_slice(b".svc.cluster.local\" \"127.0.0.1:8080\" inbound|8080|| 127.0.0.6:");
                push_u64(out, rng.u64(32768..61000));
                out.push(b' ');
                push_pod_address(out, rng);
                out.push(b' ');
                push_pod_address(out, rng);
                out.extend_from_slice(b" - default");
            }
            6..8 => {
                civil.rfc3339_digits(out, 6);
                out.extend_from_slice(pick(
                    rng,
                    &[
                        &b"\tinfo\tEnvoy proxy is ready"[..],
                        b"\tinfo\txdsproxy\tconnected to upstream XDS server: istiod.istio-system.svc:15012",
                        b"\tinfo\tads\tADS: \"\" 1 closed",
                    ],
                ));
            }
            _ => {
                civil.rfc3339_digits(out, 6);
                out.extend_from_slice(b"\twarning\tenvoy config external/envoy/source/extensions/config_subscription/grpc/grpc_stream.h:155\tStreamAggregatedResources gRPC config stream to xds-grpc closed since 40s ago: 14, connection error: desc = \"transport: Error while dialing: dial tcp 10.0.12.4:15012: i/o timeout\"");
            }
        }
    }

    /// KServe's storage-initializer, downloading the model before it starts.
    fn storage_initializer(&self, cx: &mut Cx, b: &mut Burst) {
        let civil = cx.clock.civil();
        let rng = &mut cx.rng;
        if rng.u8(..50) == 0 {
            let lines: [&[u8]; 5] = [
                b"Traceback (most recent call last):",
                b"  File \"/storage-initializer/scripts/initializer-entrypoint\", line 21, in <module>",
                b"    Storage.download(src_uri, dest_path)",
                b"  File \"/kserve/kserve/storage/storage.py\", line 88, in download",
                b"google.api_core.exceptions.Forbidden: 403 GET https://storage.googleapis.com/storage/v1/b/models/o?prefix=x: Permission denied",
            ];
            for line in lines {
                b.line(Stream::Stderr).extend_from_slice(line);
            }
            return;
        }
        let out = b.line(Stream::Stderr);
        civil.loguru(out);
        out.extend_from_slice(b" 1 kserve ");
        match rng.u8(..4) {
            0 => {
                out.extend_from_slice(b"INFO [storage.py:download():68] Copying contents of gs://models/");
                out.extend_from_slice(self.mvid.as_bytes());
                out.extend_from_slice(b" to local");
            }
            1 | 2 => {
                out.extend_from_slice(b"INFO [storage.py:_download_gcs():302] Downloading: /mnt/models/model-0000");
                push_u64(out, rng.u64(1..8));
                out.extend_from_slice(b"-of-00008.safetensors");
            }
            _ => {
                out.extend_from_slice(b"INFO [storage.py:download():112] Successfully copied gs://models/");
                out.extend_from_slice(self.mvid.as_bytes());
                out.extend_from_slice(b" to /mnt/models");
            }
        }
    }

    /// Tekton's `place-scripts` init container of the build pod.
    fn tekton_init(&self, cx: &mut Cx, b: &mut Burst) {
        let civil = cx.clock.civil();
        let rng = &mut cx.rng;
        let out = b.line(Stream::Stdout);
        civil.go_log(out);
        out.extend_from_slice(b" Decoded script /tekton/scripts/script-");
        push_u64(out, rng.u64(0..4));
        out.push(b'-');
        push_random(out, rng, crate::text::SUFFIX, 5);
    }

    /// CoreDNS in `kube-system`.
    fn coredns(&self, cx: &mut Cx, b: &mut Burst) {
        let rng = &mut cx.rng;
        let out = b.line(Stream::Stdout);
        match rng.u8(..20) {
            0 => {
                out.extend_from_slice(b"[INFO] plugin/reload: Running configuration SHA512 = ");
                push_random(out, rng, HEX, 128);
            }
            1 => {
                out.extend_from_slice(b"[ERROR] plugin/errors: 2 model-");
                out.extend_from_slice(self.mvid.as_bytes());
                out.extend_from_slice(b". A: read udp 10.4.0.12:41235->10.0.0.2:53: i/o timeout");
            }
            _ => {
                out.extend_from_slice(b"[INFO] ");
                push_pod_address(out, rng);
                out.extend_from_slice(b" - ");
                push_u64(out, rng.u64(1..65535));
                out.extend_from_slice(b" \"A IN model-");
                out.extend_from_slice(self.mvid.as_bytes());
                out.push(b'.');
                out.extend_from_slice(self.org.as_bytes());
                out.extend_from_slice(b".svc.cluster.local. udp 80 false 1232\" NOERROR qr,aa,rd 160 0.000");
                push_u64(out, rng.u64(100..999));
                out.push(b's');
            }
        }
    }

    /// A celery worker of the web app, in `baseten`: python-json-logger
    /// objects with `model_version_id`, like Django's, from a pod and
    /// container the deploy rule does not take.
    fn celery(&self, cx: &mut Cx, b: &mut Burst) {
        let civil = cx.clock.civil();
        let rng = &mut cx.rng;
        let out = b.line(Stream::Stderr);
        py_json_head(out, &civil, pick(rng, &["INFO", "INFO", "INFO", "WARNING"]));
        let mut text = b"Task baseten.deploy.tasks.deploy_model_version[".to_vec();
        push_uuid(&mut text, rng);
        text.extend_from_slice(b"] received");
        py_str(out, "message", &text);
        py_str(out, "model_version_id", self.mvid.as_bytes());
        py_str(out, "org_namespace", self.org.as_bytes());
        out.push(b'}');
    }
}

impl Generator for NoiseGenerator {
    fn burst(&mut self, cx: &mut Cx, b: &mut Burst) {
        match self.kind {
            Noise::QueueProxy => self.queue_proxy(cx, b),
            Noise::IstioProxy => self.istio_proxy(cx, b),
            Noise::StorageInitializer => self.storage_initializer(cx, b),
            Noise::TektonInit => self.tekton_init(cx, b),
            Noise::CoreDns => self.coredns(cx, b),
            Noise::CeleryWorker => self.celery(cx, b),
        }
    }

    fn single(&mut self, cx: &mut Cx, b: &mut Burst) {
        loop {
            self.burst(cx, b);
            if b.len() == 1 {
                return;
            }
            b.clear();
        }
    }

    fn mean_gap_ns(&self) -> u64 {
        200_000_000
    }

    fn mean_line_len(&self) -> usize {
        480
    }
}
