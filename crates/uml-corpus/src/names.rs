//! Who writes a file: the model version, organisation and pods a seed stands
//! for, and kubelet file names (docs/contract.md, "Log files" and "The five
//! sources").
//!
//! The identity depends on the seed alone, not on the source, so the files
//! of one seed belong together: `generate(ModelContainer, …, 7)` and
//! `noise(QueueProxy, …, 7)` are the `model` container and the sidecar of
//! the same pod, and the build and GPU build of seed 7 build that model
//! version.

use crate::text::{ALNUM, HEX, SUFFIX, push_random, random_string};
use fastrand::Rng;

/// The names one seed stands for.
pub(crate) struct Identity {
    /// The model version id: 7 characters of `[a-z0-9]`, like `x5qe2qo`.
    pub mvid: String,
    /// The organisation's namespace: `org-<32 hex>`.
    pub org: String,
    /// The model Deployment's pod-template hash (8 to 10 characters).
    pub model_hash: String,
    /// The model pod's replica suffix.
    pub replica: String,
    /// The build TaskRun's suffix.
    pub build_suffix: String,
    /// The GPU build Job pod's suffix.
    pub gpu_suffix: String,
    watcher_hash: String,
    watcher_suffix: String,
    django_hash: String,
    django_suffix: String,
    celery_hash: String,
    celery_suffix: String,
    coredns_hash: String,
    coredns_suffix: String,
}

/// Where a file's lines come from, as its kubelet file name says.
pub(crate) struct Origin {
    pub pod: String,
    pub namespace: String,
    pub container: String,
}

impl Identity {
    pub(crate) fn new(seed: u64) -> Identity {
        let mut rng = Rng::with_seed(seed ^ 0x3c6e_f372_fe94_f82b);
        let hash = |rng: &mut Rng| {
            let len = rng.usize(8..=10);
            random_string(rng, SUFFIX, len)
        };
        let mvid = random_string(&mut rng, ALNUM, 7);
        let org = format!("org-{}", random_string(&mut rng, HEX, 32));
        let model_hash = hash(&mut rng);
        let watcher_hash = hash(&mut rng);
        let django_hash = hash(&mut rng);
        let celery_hash = hash(&mut rng);
        let coredns_hash = hash(&mut rng);
        let mut suffix = || random_string(&mut rng, SUFFIX, 5);
        Identity {
            mvid,
            org,
            model_hash,
            replica: suffix(),
            build_suffix: suffix(),
            gpu_suffix: suffix(),
            watcher_hash,
            watcher_suffix: suffix(),
            django_hash,
            django_suffix: suffix(),
            celery_hash,
            celery_suffix: suffix(),
            coredns_hash,
            coredns_suffix: suffix(),
        }
    }

    pub(crate) fn model_pod(&self) -> String {
        format!("model-{}-{}-{}", self.mvid, self.model_hash, self.replica)
    }

    pub(crate) fn build_pod(&self) -> String {
        format!("build-{}-{}-pod", self.mvid, self.build_suffix)
    }

    pub(crate) fn gpu_build_pod(&self) -> String {
        format!("gpu-build-{}-{}", self.mvid, self.gpu_suffix)
    }

    pub(crate) fn watcher_pod(&self) -> String {
        format!("kube-pod-lifecycle-watcher-{}-{}", self.watcher_hash, self.watcher_suffix)
    }

    pub(crate) fn django_pod(&self) -> String {
        format!("django-{}-{}", self.django_hash, self.django_suffix)
    }

    pub(crate) fn celery_pod(&self) -> String {
        format!("celery-worker-{}-{}", self.celery_hash, self.celery_suffix)
    }

    pub(crate) fn coredns_pod(&self) -> String {
        format!("coredns-{}-{}", self.coredns_hash, self.coredns_suffix)
    }
}

/// FNV-1a of `name`: a seed's variation per container.
pub(crate) fn salt(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// A container id: 64 hex digits, the same for the same seed and container.
pub(crate) fn container_id(seed: u64, pod: &str, container: &str) -> String {
    let h = seed ^ salt(pod) ^ salt(container).rotate_left(17);
    let mut out = Vec::with_capacity(64);
    push_random(&mut out, &mut Rng::with_seed(h), HEX, 64);
    String::from_utf8(out).expect("hex is ASCII")
}

/// `<pod>_<namespace>_<container>-<id>.log`, the kubelet's name.
pub(crate) fn file_name(origin: &Origin, id: &str) -> String {
    format!("{}_{}_{}-{}.log", origin.pod, origin.namespace, origin.container, id)
}

/// A pool of other model versions: the watcher and Django see the whole
/// cluster, not one model. The seed's own model version comes first.
pub(crate) fn model_versions(identity: &Identity, rng: &mut Rng, count: usize) -> Vec<ModelVersion> {
    let mut orgs = vec![identity.org.clone()];
    for _ in 0..count.div_ceil(3) {
        orgs.push(format!("org-{}", random_string(rng, HEX, 32)));
    }
    let mut pool = vec![ModelVersion {
        mvid: identity.mvid.clone(),
        org: identity.org.clone(),
        hash: identity.model_hash.clone(),
        replicas: vec![identity.replica.clone(), random_string(rng, SUFFIX, 5)],
    }];
    while pool.len() < count {
        let org = orgs[rng.usize(..orgs.len())].clone();
        let len = rng.usize(8..=10);
        let replicas = (0..rng.usize(1..=4)).map(|_| random_string(rng, SUFFIX, 5)).collect();
        pool.push(ModelVersion {
            mvid: random_string(rng, ALNUM, 7),
            org,
            hash: random_string(rng, SUFFIX, len),
            replicas,
        });
    }
    pool
}

/// One model version somewhere in the cluster, with its running pods.
pub(crate) struct ModelVersion {
    pub mvid: String,
    pub org: String,
    pub hash: String,
    pub replicas: Vec<String>,
}

impl ModelVersion {
    pub(crate) fn push_pod(&self, out: &mut Vec<u8>, replica: &str) {
        out.extend_from_slice(b"model-");
        out.extend_from_slice(self.mvid.as_bytes());
        out.push(b'-');
        out.extend_from_slice(self.hash.as_bytes());
        out.push(b'-');
        out.extend_from_slice(replica.as_bytes());
    }
}
