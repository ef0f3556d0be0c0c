//! The daemon: the scheduler loop, reload and shutdown, `/metrics` and `/healthz`, and
//! systemd's notifications.

pub mod handles;
pub mod memory;
pub mod metrics;
pub mod scheduler;
pub mod systemd;
