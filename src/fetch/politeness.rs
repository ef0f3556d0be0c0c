//! Being a good guest on the sites we watch: at most a few requests at a time to one host,
//! and a minimum pause between two requests to it.
//!
//! Many sources are list pages of one government portal; polled together, they would look
//! like an attack and get the agency's address blocked, which is the worst outcome for a
//! monitor. The gate is per host name, in memory (one daemon); the scheduler enters it
//! before each poll.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

#[derive(Debug)]
struct Host {
    slots: Arc<Semaphore>,
    /// The earliest moment the next request may start.
    next_start: Instant,
}

/// Per-host concurrency limit and minimum delay.
#[derive(Debug)]
pub struct HostGate {
    per_host: usize,
    delay: Duration,
    hosts: Mutex<HashMap<String, Host>>,
}

/// Held while a request to the host runs.
pub struct Pass {
    _slot: OwnedSemaphorePermit,
}

impl HostGate {
    pub fn new(per_host: usize, delay: Duration) -> HostGate {
        HostGate {
            per_host: per_host.max(1),
            delay,
            hosts: Mutex::new(HashMap::new()),
        }
    }

    /// Waits for a free slot for `host` and for its minimum delay, then lets one request in.
    pub async fn enter(&self, host: &str) -> Pass {
        let slots = {
            let mut hosts = self.hosts.lock().unwrap_or_else(|e| e.into_inner());
            hosts
                .entry(host.to_string())
                .or_insert_with(|| Host {
                    slots: Arc::new(Semaphore::new(self.per_host)),
                    next_start: Instant::now(),
                })
                .slots
                .clone()
        };
        let slot = slots
            .acquire_owned()
            .await
            .expect("the gate never closes its semaphores");
        // Reserve a start time under the lock, then wait for it outside the lock.
        let start = {
            let mut hosts = self.hosts.lock().unwrap_or_else(|e| e.into_inner());
            let h = hosts.get_mut(host).expect("entry created above");
            let start = h.next_start.max(Instant::now());
            h.next_start = start + self.delay;
            start
        };
        tokio::time::sleep_until(start).await;
        Pass { _slot: slot }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn requests_to_one_host_are_spaced_and_others_are_not() {
        let gate = Arc::new(HostGate::new(2, Duration::from_secs(1)));
        let t0 = Instant::now();
        let mut starts = Vec::new();
        for _ in 0..3 {
            let _p = gate.enter("gov.example.cn").await;
            starts.push(Instant::now() - t0);
        }
        assert_eq!(
            starts,
            [
                Duration::ZERO,
                Duration::from_secs(1),
                Duration::from_secs(2)
            ]
        );
        let _p = gate.enter("bbs.example.cn").await;
        assert_eq!(
            Instant::now() - t0,
            Duration::from_secs(2),
            "another host does not wait"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn at_most_per_host_requests_at_once() {
        let gate = Arc::new(HostGate::new(2, Duration::ZERO));
        let a = gate.enter("h").await;
        let _b = gate.enter("h").await;
        let g = gate.clone();
        let third = tokio::spawn(async move {
            let _c = g.enter("h").await;
        });
        tokio::time::sleep(Duration::from_secs(5)).await;
        assert!(!third.is_finished(), "a third request waits for a slot");
        drop(a);
        third.await.unwrap();
    }
}
