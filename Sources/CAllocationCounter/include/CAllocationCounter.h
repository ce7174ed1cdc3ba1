// Counts heap allocations for `paybridge-profile` (docs/benchmarks.md, "Per-stage budget"). Linked into that
// executable only: it defines malloc, calloc, realloc, reallocarray, free, posix_memalign, aligned_alloc, memalign,
// valloc and pvalloc, which forward to glibc's own (__libc_malloc, …) after counting. Every symbol here is
// prefixed `pba_`.
#ifndef CALLOCATION_COUNTER_H
#define CALLOCATION_COUNTER_H

#include <stddef.h>
#include <stdint.h>

/// Allocations (malloc, calloc, realloc to a non-zero size, the aligned variants) made by the calling thread so
/// far, and their requested bytes; frees (free of a non-null pointer, realloc to size 0). Always counted.
uint64_t pba_thread_allocations(void);
uint64_t pba_thread_bytes(void);
uint64_t pba_thread_frees(void);

/// The same for every thread of the process, counted only while process counting is on (atomic counters).
void pba_set_process_counting(int on);
uint64_t pba_process_allocations(void);
uint64_t pba_process_bytes(void);
uint64_t pba_process_frees(void);

/// Allocation sites: while recording, every allocation (of the calling thread, or of every thread with
/// `all_threads`) stores its call stack (backtrace(3), up to `PBA_SITE_DEPTH` frames) until
/// `PBA_SITE_RECORDS` are stored. `pba_sites_start` forgets earlier records.
#define PBA_SITE_DEPTH 24
#define PBA_SITE_RECORDS 200000
void pba_sites_start(int all_threads);
/// Stops recording; returns how many records were stored.
size_t pba_sites_stop(void);
/// The file (executable or shared object) `address` is in, and the address it is loaded at (dladdr(3)); NULL
/// when none.
const char *_Nullable pba_module_of(const void *_Nullable address, uintptr_t *_Nonnull base);
/// Copies record `index`'s frames into `frames` (at most PBA_SITE_DEPTH) and its requested size into `size`;
/// returns how many frames.
int pba_site_frames(size_t index, void *_Nullable *_Nonnull frames, size_t *_Nonnull size);

#endif
