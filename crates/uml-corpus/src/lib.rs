//! Realistic kubelet log files of the five `uml` sources, generated
//! deterministically from a seed, at any size, for tests and benchmarks.
//!
//! A node keeps one file per container under `/var/log/containers/`
//! (docs/contract.md, "Log files"). This crate writes such files for the five
//! sources of docs/contract.md, "The five sources" (the model container, the
//! Tekton build, the GPU build job, the pod-lifecycle watcher and the Django
//! deployment logs) and for the containers no rule may route ([`Noise`]:
//! sidecars, init containers, platform pods), in either on-disk format
//! ([`Framing`]).
//!
//! | item | what |
//! | --- | --- |
//! | [`generate`] | a [`File`] of one source: its kubelet name and exactly `lines` raw lines |
//! | [`noise`] | the same for a container that must produce nothing |
//! | [`messages`] | just what the container wrote, one `String` per line, for library-level benchmarks |
//!
//! ```
//! use uml_corpus::{Framing, Source, generate};
//!
//! let file = generate(Source::ModelContainer, Framing::Cri, 100, 7);
//! assert_eq!(file.lines, 100);
//! assert_eq!(file.bytes.iter().filter(|&&b| b == b'\n').count(), 100);
//! assert_eq!(file.container, "model");
//! assert!(file.name.starts_with(&format!("{}_{}_model-", file.pod, file.namespace)));
//! // The same seed gives the same bytes.
//! assert_eq!(generate(Source::ModelContainer, Framing::Cri, 100, 7).bytes, file.bytes);
//! ```
//!
//! # What the files hold
//!
//! Each source's module documents its mix: the share of each kind of line and
//! its stream. Across sources, what docs/contract.md ("Log files" to
//! "Tracebacks") asks a reader to handle is there, rare but present: stdout
//! and stderr interleaved, CRI timestamps with 0 to 9 fraction digits
//! (docker's always 9), messages longer than 16 KiB cut into partial pieces
//! (`P` … `F`, or docker pieces without `\n`) with lines of the other stream
//! between them and UTF-8 characters split across pieces, empty lines
//! (`<ts> stdout F `), `\r` progress bars, ANSI colours, multi-line
//! tracebacks and Go panics, every level spelling of the sources, JSON with
//! escapes, `\uXXXX` unicode, lone surrogates, `NaN`, non-string and missing
//! messages, and (model container) bytes that are not UTF-8.
//!
//! # Invariants
//!
//! - **Deterministic**: the same arguments give the same bytes (nothing
//!   reads the clock or the environment). The bytes are those of fastrand's
//!   generator, as locked in `Cargo.lock`, on a 64-bit target: fastrand
//!   draws `usize` ranges differently on 32-bit ones.
//! - **Exact size**: a file has exactly `lines` raw lines, each ended by
//!   `\n`; [`messages`] returns exactly `lines` strings.
//! - **Well framed**: every raw line is a valid CRI or docker json-file
//!   line, and timestamps never go backwards. Malformed lines (junk) are
//!   left to the hand-written sample tree `examples/var/log/containers/`
//!   (see `examples/README.md`).
//! - **One identity per seed**: the pod names, namespace and model version
//!   come from the seed alone, so [`noise`]`(QueueProxy, …, seed)` is the
//!   sidecar of the pod of [`generate`]`(ModelContainer, …, seed)`.
//! - **Fast**: a million lines take a fraction of a second in release
//!   builds; messages are written straight into one buffer, without
//!   `std::fmt`.
#![forbid(unsafe_code)]

mod clock;
mod frame;
mod names;
mod sources;
mod text;
mod traceback;

use frame::Generator;
use names::{Identity, Origin};

/// The five sources of docs/contract.md, "The five sources".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Source {
    /// The running model: pod `model-<mvid>-<hash>-<replica>`, container `model`.
    ModelContainer,
    /// The Tekton build: pod `build-<mvid>-<suffix>-pod`, container `step-build`.
    Build,
    /// The GPU engine build: pod `gpu-build-<mvid>-<suffix>`, container `builder`.
    GpuBuild,
    /// The watcher: pod `kube-pod-lifecycle-watcher-<hash>-<suffix>` in `baseten-system`.
    PodLifecycleWatcher,
    /// Django: pod `django-<hash>-<suffix>` in `baseten`, container `django`.
    Deploy,
}

impl Source {
    pub const ALL: [Source; 5] =
        [Source::ModelContainer, Source::Build, Source::GpuBuild, Source::PodLifecycleWatcher, Source::Deploy];

    /// The source's name, as its rule file `rules/<name>.uml` spells it;
    /// the rule in `rules/pod_lifecycle_watcher.uml` is called
    /// `kube_pod_lifecycle_watcher`.
    pub fn name(&self) -> &'static str {
        match self {
            Source::ModelContainer => "model_container",
            Source::Build => "build",
            Source::GpuBuild => "gpu_build",
            Source::PodLifecycleWatcher => "pod_lifecycle_watcher",
            Source::Deploy => "deploy",
        }
    }

    /// The source called `name` (see [`Source::name`]).
    pub fn from_name(name: &str) -> Option<Source> {
        Source::ALL.into_iter().find(|s| s.name() == name)
    }
}

/// Containers whose lines no rule may route (docs/contract.md, "The five
/// sources").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Noise {
    /// knative's `queue-proxy` sidecar of the model pod: zap JSON.
    QueueProxy,
    /// The `istio-proxy` sidecar of the model pod: envoy and pilot-agent.
    IstioProxy,
    /// KServe's `storage-initializer` init container of the model pod.
    StorageInitializer,
    /// Tekton's `place-scripts` init container of the build pod.
    TektonInit,
    /// CoreDNS in `kube-system`.
    CoreDns,
    /// A celery worker in `baseten`, logging `model_version_id` like Django.
    CeleryWorker,
}

impl Noise {
    pub const ALL: [Noise; 6] = [
        Noise::QueueProxy,
        Noise::IstioProxy,
        Noise::StorageInitializer,
        Noise::TektonInit,
        Noise::CoreDns,
        Noise::CeleryWorker,
    ];

    /// The container's name.
    pub fn name(&self) -> &'static str {
        match self {
            Noise::QueueProxy => "queue-proxy",
            Noise::IstioProxy => "istio-proxy",
            Noise::StorageInitializer => "storage-initializer",
            Noise::TektonInit => "place-scripts",
            Noise::CoreDns => "coredns",
            Noise::CeleryWorker => "celery",
        }
    }
}

/// The on-disk format of a container log file (docs/contract.md, "Log
/// files").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Framing {
    /// containerd and CRI-O: `<timestamp> <stdout|stderr> <F|P> <message>`.
    Cri,
    /// docker's json-file: `{"log":"…\n","stream":"stderr","time":"…"}`.
    Docker,
}

/// A generated log file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct File {
    /// The kubelet's file name, `<pod>_<namespace>_<container>-<64 hex id>.log`.
    pub name: String,
    pub pod: String,
    pub namespace: String,
    pub container: String,
    /// 64 lowercase hex digits.
    pub container_id: String,
    /// The file's content: CRI or docker json-file lines, each ended by `\n`.
    pub bytes: Vec<u8>,
    /// The number of raw lines in `bytes`.
    pub lines: usize,
}

/// A file of exactly `lines` raw lines of `source`, from `seed`.
pub fn generate(source: Source, framing: Framing, lines: usize, seed: u64) -> File {
    let identity = Identity::new(seed);
    let (mut generator, origin) = source_generator(source, &identity, seed);
    make_file(&mut *generator, origin, framing, lines, seed)
}

/// The first `lines` messages `source` writes from `seed`: what the
/// container wrote, one line each, before the runtime frames it. Bytes that
/// are not UTF-8 are replaced by U+FFFD. Not the messages of [`generate`]
/// with the same seed: a file also spends random numbers on framing.
pub fn messages(source: Source, lines: usize, seed: u64) -> Vec<String> {
    let identity = Identity::new(seed);
    let (mut generator, origin) = source_generator(source, &identity, seed);
    frame::messages(&mut *generator, lines, seed, names::salt(&origin.container))
}

/// A file of exactly `lines` raw lines of a container that no rule may
/// route, from `seed` (of the same pods as [`generate`] with that seed).
pub fn noise(kind: Noise, framing: Framing, lines: usize, seed: u64) -> File {
    let identity = Identity::new(seed);
    let (pod, namespace) = match kind {
        Noise::QueueProxy | Noise::IstioProxy | Noise::StorageInitializer => {
            (identity.model_pod(), identity.org.clone())
        }
        Noise::TektonInit => (identity.build_pod(), identity.org.clone()),
        Noise::CoreDns => (identity.coredns_pod(), "kube-system".to_owned()),
        Noise::CeleryWorker => (identity.celery_pod(), "baseten".to_owned()),
    };
    let origin = Origin { pod, namespace, container: kind.name().to_owned() };
    let mut generator = sources::noise::NoiseGenerator::new(kind, &identity);
    make_file(&mut generator, origin, framing, lines, seed)
}

fn source_generator(source: Source, identity: &Identity, seed: u64) -> (Box<dyn Generator>, Origin) {
    let org = || identity.org.clone();
    let (generator, pod, namespace, container): (Box<dyn Generator>, _, _, _) = match source {
        Source::ModelContainer => {
            (Box::new(sources::model::Model::new(identity)), identity.model_pod(), org(), "model")
        }
        Source::Build => (Box::new(sources::build::Build::new(identity)), identity.build_pod(), org(), "step-build"),
        Source::GpuBuild => (Box::new(sources::gpu_build::GpuBuild::new()), identity.gpu_build_pod(), org(), "builder"),
        Source::PodLifecycleWatcher => (
            Box::new(sources::watcher::Watcher::new(identity, seed)),
            identity.watcher_pod(),
            "baseten-system".to_owned(),
            "watcher",
        ),
        Source::Deploy => (
            Box::new(sources::deploy::Deploy::new(identity, seed)),
            identity.django_pod(),
            "baseten".to_owned(),
            "django",
        ),
    };
    (generator, Origin { pod, namespace, container: container.to_owned() })
}

fn make_file(generator: &mut dyn Generator, origin: Origin, framing: Framing, lines: usize, seed: u64) -> File {
    let container_id = names::container_id(seed, &origin.pod, &origin.container);
    let name = names::file_name(&origin, &container_id);
    let bytes = frame::file(generator, framing, lines, seed, names::salt(&origin.container));
    File { name, pod: origin.pod, namespace: origin.namespace, container: origin.container, container_id, bytes, lines }
}
