//! What the auditor asks of the machine: how many worker threads the parallel stages use, how
//! the binary's allocator is tuned, and returning free heap memory to the operating system
//! between the stages of a large audit. It owns these hints and must not do anything else: no
//! allocation, no accounting.
//!
//! The binary, the benchmark and `stage_cpu` allocate with mimalloc (`src/main.rs`), tuned by
//! [`tune_allocator`] and returning freed memory on its own after a short delay; the library's
//! tests allocate with the system's, glibc's on Linux, which [`trim`] is for. Each is a no-op
//! for the allocator not in use.
//!
//! Why the trim: glibc keeps memory a program frees for reuse by the same allocator arena.
//! Between stages the freed memory is large (the attributes `link` replaced, its indexes, the
//! kinds dropped before evaluation), and with one arena per thread it is not always the arena
//! that allocates next: evaluation's second thread grew its own arena beside the memory the first
//! one freed. Returned, it stops counting towards the audit's peak resident memory, which the
//! memory target of a large audit measures (docs/performance.md). On other platforms and
//! allocators it is a no-op.

/// Worker threads for the parallel stages (link, evaluation, JSON serialisation): the machine's
/// cores, at most 8 (beyond that the merge and the allocator's contention eat the gain).
pub fn threads() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8)
}

/// Tunes mimalloc for an audit's shape, before the program allocates much: memory freed is
/// returned to the system after 50 ms, not mimalloc's default second. An audit frees the
/// inventory text, the attributes `link` replaced and each resource as it is evaluated, and
/// allocates the findings at once; held for a second, the freed pages add to the peak resident
/// memory instead of being reused or returned (figures: docs/performance.md).
pub fn tune_allocator() {
    // `mi_option_purge_delay` in mimalloc.h's `mi_option_e` (v2 and v3 alike); the bindings
    // name only some of the options.
    const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
    // SAFETY: sets one integer option of the allocator's global table; no memory is touched.
    unsafe {
        libmimalloc_sys::mi_option_set(PURGE_DELAY, 50);
    }
}

/// Gives free pages of every malloc arena back to the system (`malloc_trim(0)`): a walk of the
/// free lists, milliseconds for hundreds of megabytes of heap. Call it where a stage has just
/// freed much, not in loops.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn trim() {
    extern "C" {
        /// glibc ≥ 2.8: releases free memory from the top of the heap and, with madvise, from
        /// within every arena. Returns 1 if memory was released.
        fn malloc_trim(pad: usize) -> std::ffi::c_int;
    }
    // SAFETY: malloc_trim takes no pointer, touches no memory the program owns (only free
    // chunks, under the arena's lock) and may be called from any thread at any time.
    unsafe {
        malloc_trim(0);
    }
}

/// Not glibc: nothing to do (other allocators return memory on their own terms).
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn trim() {}
