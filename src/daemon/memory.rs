//! Giving memory back after a large page.
//!
//! glibc's allocator serves a large allocation with its own mapping and unmaps it on free,
//! but then raises that threshold to the size just freed (up to 32 MiB), so the next
//! ten-megabyte body comes from the heap and stays in the process after it is freed. Four
//! sites with 10 MB titles held the daemon above 150 MB that way (issue 16). A fixed
//! threshold of 1 MiB keeps every body-sized buffer in its own mapping, returned when done;
//! small allocations are unaffected.

/// Fixes the threshold above which allocations get their own mapping (glibc only).
pub fn return_large_buffers() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter; called before the daemon's work.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1024 * 1024);
    }
}
