// Allocation counting by interposition (see include/CAllocationCounter.h). The executable's definitions of the
// allocator functions come first in symbol lookup, so libswiftCore, Foundation, NIO and glibc's own callers reach
// these; each counts and then calls glibc's allocator through its __libc_* entry points (no dlsym, so nothing here
// allocates). Counters of the calling thread are initial-exec TLS: reading or bumping them never allocates.
#define _GNU_SOURCE
#include "CAllocationCounter.h"

#include <dlfcn.h>
#include <errno.h>
#include <execinfo.h>
#include <stdatomic.h>

extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t count, size_t size);
extern void *__libc_realloc(void *pointer, size_t size);
extern void __libc_free(void *pointer);
extern void *__libc_memalign(size_t alignment, size_t size);
extern void *__libc_valloc(size_t size);
extern void *__libc_pvalloc(size_t size);

#define THREAD_LOCAL static _Thread_local __attribute__((tls_model("initial-exec")))

THREAD_LOCAL uint64_t thread_allocations;
THREAD_LOCAL uint64_t thread_bytes;
THREAD_LOCAL uint64_t thread_frees;
THREAD_LOCAL int thread_recording;
THREAD_LOCAL int inside_backtrace;

static atomic_int process_counting;
static atomic_uint_fast64_t process_allocations;
static atomic_uint_fast64_t process_bytes;
static atomic_uint_fast64_t process_frees;

static atomic_int recording_all;
static atomic_size_t site_count;
static void *site_frames[PBA_SITE_RECORDS][PBA_SITE_DEPTH];
static int site_depths[PBA_SITE_RECORDS];
static size_t site_sizes[PBA_SITE_RECORDS];

static void record_site(size_t size) {
    if (inside_backtrace) return;  // backtrace(3) may allocate the first time (it loads libgcc_s)
    size_t slot = atomic_fetch_add_explicit(&site_count, 1, memory_order_relaxed);
    if (slot >= PBA_SITE_RECORDS) return;
    inside_backtrace = 1;
    site_sizes[slot] = size;
    site_depths[slot] = backtrace(site_frames[slot], PBA_SITE_DEPTH);
    inside_backtrace = 0;
}

static inline void allocated(size_t size) {
    thread_allocations += 1;
    thread_bytes += size;
    if (atomic_load_explicit(&process_counting, memory_order_relaxed)) {
        atomic_fetch_add_explicit(&process_allocations, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&process_bytes, size, memory_order_relaxed);
    }
    if (thread_recording || atomic_load_explicit(&recording_all, memory_order_relaxed)) record_site(size);
}

static inline void freed(void) {
    thread_frees += 1;
    if (atomic_load_explicit(&process_counting, memory_order_relaxed)) {
        atomic_fetch_add_explicit(&process_frees, 1, memory_order_relaxed);
    }
}

void *malloc(size_t size) {
    allocated(size);
    return __libc_malloc(size);
}

void *calloc(size_t count, size_t size) {
    allocated(count * size);
    return __libc_calloc(count, size);
}

void *realloc(void *pointer, size_t size) {
    if (size == 0 && pointer != NULL) {
        freed();
    } else {
        allocated(size);
    }
    return __libc_realloc(pointer, size);
}

void *reallocarray(void *pointer, size_t count, size_t size) {
    size_t total;
    if (__builtin_mul_overflow(count, size, &total)) {
        errno = ENOMEM;
        return NULL;
    }
    return realloc(pointer, total);  // glibc's own would call its realloc directly, uncounted
}

void free(void *pointer) {
    if (pointer != NULL) freed();
    __libc_free(pointer);
}

void *memalign(size_t alignment, size_t size) {
    allocated(size);
    return __libc_memalign(alignment, size);
}

void *aligned_alloc(size_t alignment, size_t size) {
    allocated(size);
    return __libc_memalign(alignment, size);
}

int posix_memalign(void **result, size_t alignment, size_t size) {
    if (alignment % sizeof(void *) != 0 || (alignment & (alignment - 1)) != 0 || alignment == 0) return EINVAL;
    allocated(size);
    void *pointer = __libc_memalign(alignment, size);
    if (pointer == NULL) return ENOMEM;
    *result = pointer;
    return 0;
}

void *valloc(size_t size) {
    allocated(size);
    return __libc_valloc(size);
}

void *pvalloc(size_t size) {
    allocated(size);
    return __libc_pvalloc(size);
}

uint64_t pba_thread_allocations(void) { return thread_allocations; }
uint64_t pba_thread_bytes(void) { return thread_bytes; }
uint64_t pba_thread_frees(void) { return thread_frees; }

void pba_set_process_counting(int on) { atomic_store(&process_counting, on); }
uint64_t pba_process_allocations(void) { return atomic_load(&process_allocations); }
uint64_t pba_process_bytes(void) { return atomic_load(&process_bytes); }
uint64_t pba_process_frees(void) { return atomic_load(&process_frees); }

void pba_sites_start(int all_threads) {
    void *warm[4];
    inside_backtrace = 1;
    backtrace(warm, 4);  // loads the unwinder now, not inside the first recorded allocation
    inside_backtrace = 0;
    atomic_store(&site_count, 0);
    if (all_threads) {
        atomic_store(&recording_all, 1);
    } else {
        thread_recording = 1;
    }
}

size_t pba_sites_stop(void) {
    thread_recording = 0;
    atomic_store(&recording_all, 0);
    size_t count = atomic_load(&site_count);
    return count < PBA_SITE_RECORDS ? count : PBA_SITE_RECORDS;
}

const char *pba_module_of(const void *address, uintptr_t *base) {
    Dl_info info;
    if (dladdr(address, &info) == 0 || info.dli_fname == NULL) return NULL;
    *base = (uintptr_t)info.dli_fbase;
    return info.dli_fname;
}

int pba_site_frames(size_t index, void **frames, size_t *size) {
    if (index >= PBA_SITE_RECORDS) return 0;
    *size = site_sizes[index];
    int depth = site_depths[index];
    for (int i = 0; i < depth; i++) frames[i] = site_frames[index][i];
    return depth;
}
