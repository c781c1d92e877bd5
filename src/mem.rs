//! Returning free heap memory to the operating system between the stages of a large audit. It
//! owns that one allocator hint and must not do anything else: no allocation, no accounting.
//!
//! Why: glibc keeps memory a program frees for reuse by the same allocator arena. Between stages
//! the freed memory is large (the attributes `link` replaced, its indexes, the kinds dropped
//! before evaluation), and with one arena per thread it is not always the arena that allocates
//! next: evaluation's second thread grew its own arena beside the memory the first one freed.
//! Returned, it stops counting towards the audit's peak resident memory, which is what the 300 MB
//! target of a 100,000-resource audit measures (issue #7: 314 MB without, 285 MB with; calling it
//! during evaluation as well lowered nothing more). On other platforms and allocators this is a
//! no-op.

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
