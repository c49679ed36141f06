//! Test support for the agent's integration tests: a Loki that can be told to misbehave and a kubelet that writes
//! container logs the way the real one lays them out.
//!
//! The agent's promise is that it loses nothing between a container's log file and Loki. Proving that takes two
//! things an end-to-end test cannot get from the real systems: a Loki that fails on cue (status codes, hangs,
//! resets, partial rejections) while checking every record against the output contract, and a log writer whose
//! rotations, compressions and restarts happen at chosen moments with names and contents byte for byte like
//! kubelet's and containerd's. Both live here so that every integration test uses the same, self-tested versions.

#![allow(dead_code)]

pub mod fake_loki;
pub mod kubelet;

use std::time::{Duration, Instant};

/// How often [`wait_until`] looks at its condition.
const POLL: Duration = Duration::from_millis(20);

/// The deadline the tests use when they wait for the agent: generous, because a loaded CI machine with two cores
/// can stall a thread for seconds, and a passing test never waits for it anyway.
pub const DEADLINE: Duration = Duration::from_secs(20);

/// Polls `cond` every 20 ms until it holds, or panics naming `what` once `deadline` has passed.
///
/// Tests wait for conditions rather than sleeping for fixed times: a fixed sleep is either too short on a slow
/// machine or wasted on a fast one.
#[track_caller]
pub fn wait_until(deadline: Duration, what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    loop {
        if cond() {
            return;
        }
        if start.elapsed() >= deadline {
            panic!("timed out after {deadline:?} waiting for {what}");
        }
        std::thread::sleep(POLL);
    }
}
