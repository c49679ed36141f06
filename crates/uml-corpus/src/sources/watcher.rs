//! The kube-pod-lifecycle-watcher: one JSON object per lifecycle event of a
//! model pod anywhere in the cluster, among the watcher's own klog lines
//! (docs/contract.md, "The five sources").
//!
//! The mix, per line:
//!
//! | share | what | stream |
//! | --- | --- | --- |
//! | 72 % | klog operational lines (`I1120 10:00:00.000000       1 watcher.go:88] resync`, informer warnings, `E` errors) | stderr |
//! | 18 % | `container_terminated`: `OOMKilled` (exit 137), `Error` (1, 2, 139, 255, sometimes with a message), `Completed` (0), `ContainerCannotRun` (128, with the runtime's message) | stdout |
//! | 7 % | `crash_loop_backoff` with `back-off 5m0s restarting failed container=model pod=…`, no `exit_code` | stdout |
//! | 3 % | `pod_evicted` (memory or ephemeral storage), no `exit_code` | stdout |
//!
//! One event in a hundred is about a pod that is not a model (a build pod):
//! it has no `model_version_id`.
//!
//! The events name a pool of model versions across several organisations,
//! the seed's own model version first.

use crate::frame::{Burst, Cx, Generator, Stream};
use crate::names::{Identity, ModelVersion, model_versions};
use crate::text::{pick, pick_ref, push_go_json, push_u64};

pub(crate) struct Watcher {
    pool: Vec<ModelVersion>,
    text: Vec<u8>,
}

impl Watcher {
    pub(crate) fn new(identity: &Identity, seed: u64) -> Watcher {
        let mut rng = fastrand::Rng::with_seed(seed ^ 0xa54f_f53a_5f1d_36f1);
        Watcher { pool: model_versions(identity, &mut rng, 12), text: Vec::new() }
    }

    fn klog(cx: &mut Cx, b: &mut Burst) {
        let civil = cx.clock.civil();
        let rng = &mut cx.rng;
        let (severity, rest): (u8, &[u8]) = match rng.u8(..40) {
            0..20 => (b'I', b"watcher.go:88] resync"),
            20..28 => (b'I', b"watcher.go:142] \"Pod event\" phase=\"Running\" ready=true"),
            28..32 => (b'I', b"shared_informer.go:313] Waiting for caches to sync for pod-lifecycle"),
            32..35 => (b'I', b"shared_informer.go:320] Caches are synced for pod-lifecycle"),
            35..38 => (
                b'W',
                b"reflector.go:539] k8s.io/client-go/informers/factory.go:160: watch of *v1.Pod ended with: an error on the server (\"unable to decode an event from the watch stream: http2: client connection lost\") has prevented the request from succeeding",
            ),
            38 => (b'E', b"watcher.go:233] \"Failed to publish event\" err=\"context deadline exceeded\""),
            _ => (b'I', b"leaderelection.go:260] successfully acquired lease baseten-system/kube-pod-lifecycle-watcher"),
        };
        let out = b.line(Stream::Stderr);
        civil.klog(out, severity);
        out.extend_from_slice(b"       1 ");
        out.extend_from_slice(rest);
    }

    fn event(&mut self, cx: &mut Cx, b: &mut Burst) {
        let civil = cx.clock.civil();
        let rng = &mut cx.rng;
        let model = &self.pool[if rng.u8(..3) == 0 { 0 } else { rng.usize(..self.pool.len()) }];
        let replica = pick_ref(rng, &model.replicas).as_str();
        let text = &mut self.text;
        text.clear();
        let out = b.line(Stream::Stdout);
        out.extend_from_slice(b"{\"time\":\"");
        civil.rfc3339_seconds(out);
        out.extend_from_slice(b"\",\"event\":\"");
        let (event, reason, exit, message): (&[u8], &[u8], Option<u64>, &[u8]) = match rng.u32(..1000) {
            0..270 => (b"container_terminated", b"OOMKilled", Some(137), b""),
            270..500 => (
                b"container_terminated",
                b"Error",
                Some(pick(rng, &[1, 1, 1, 2, 139, 255])),
                pick(rng, &[&b""[..], b"", b"exit status 1"]),
            ),
            500..590 => (b"container_terminated", b"Completed", Some(0), b""),
            590..650 => (
                b"container_terminated",
                b"ContainerCannotRun",
                Some(128),
                b"failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: \"python\": executable file not found in $PATH: unknown",
            ),
            650..900 => {
                text.extend_from_slice(b"back-off ");
                text.extend_from_slice(pick(rng, &[&b"10s"[..], b"20s", b"40s", b"1m20s", b"2m40s", b"5m0s", b"5m0s"]));
                text.extend_from_slice(b" restarting failed container=model pod=");
                model.push_pod(text, replica);
                text.push(b'_');
                text.extend_from_slice(model.org.as_bytes());
                text.push(b'(');
                crate::text::push_uuid(text, rng);
                text.push(b')');
                (b"crash_loop_backoff", b"CrashLoopBackOff", None, &text[..])
            }
            _ => (
                b"pod_evicted",
                b"Evicted",
                None,
                pick(
                    rng,
                    &[
                        &b"The node was low on resource: memory. Threshold quantity: 100Mi, available: 52Mi. Container model was using 30Gi, request is 16Gi, has larger consumption of memory. "[..],
                        b"The node was low on resource: ephemeral-storage. Threshold quantity: 10Gi, available: 8Gi. Container model was using 12Gi, request is 0, has larger consumption of ephemeral-storage. ",
                        b"Pod ephemeral local storage usage exceeds the total limit of containers 20Gi. ",
                    ],
                ),
            ),
        };
        let not_a_model = rng.u8(..100) == 0;
        out.extend_from_slice(event);
        out.extend_from_slice(b"\",\"namespace\":\"");
        out.extend_from_slice(model.org.as_bytes());
        out.extend_from_slice(b"\",\"pod\":\"");
        if not_a_model {
            out.extend_from_slice(b"build-");
            out.extend_from_slice(model.mvid.as_bytes());
            out.push(b'-');
            out.extend_from_slice(replica.as_bytes());
            out.extend_from_slice(b"-pod\",\"container\":\"step-build\"");
        } else {
            model.push_pod(out, replica);
            out.extend_from_slice(b"\",\"container\":\"model\",\"model_version_id\":\"");
            out.extend_from_slice(model.mvid.as_bytes());
            out.push(b'"');
        }
        out.extend_from_slice(b",\"reason\":\"");
        out.extend_from_slice(reason);
        out.push(b'"');
        if let Some(code) = exit {
            out.extend_from_slice(b",\"exit_code\":");
            push_u64(out, code);
        }
        out.extend_from_slice(b",\"message\":");
        push_go_json(out, message);
        out.push(b'}');
    }
}

impl Generator for Watcher {
    fn burst(&mut self, cx: &mut Cx, b: &mut Burst) {
        if cx.rng.u8(..100) < 72 { Self::klog(cx, b) } else { self.event(cx, b) }
    }

    fn single(&mut self, cx: &mut Cx, b: &mut Burst) {
        Self::klog(cx, b);
    }

    fn mean_gap_ns(&self) -> u64 {
        400_000_000
    }

    fn mean_line_len(&self) -> usize {
        240
    }
}
