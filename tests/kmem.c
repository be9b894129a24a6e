/* Kernel memory, Hardtack only (it reads /proc/hardtack): the census
 * files, a process's private heap coming and going with the process, a
 * pipe's ring counted as managed, and 10 000 fork/exit/wait leaving kernel
 * memory flat (under gc-none with one global heap, which never collects,
 * growing instead). */
#include "harness.h"
#include <fcntl.h>
#include <sys/wait.h>

static char text[16384];

/* The whole of a (small) file, NUL-terminated, or "" if unreadable. */
static const char *slurp(const char *path) {
    size_t len = 0;
    int fd = open(path, O_RDONLY);
    text[0] = 0;
    if (fd < 0) return text;
    for (ssize_t r; len < sizeof text - 1 && (r = read(fd, text + len, sizeof text - 1 - len)) > 0;) len += r;
    close(fd);
    text[len] = 0;
    return text;
}

/* The value of a "key value" line of /proc/hardtack/alloc, or -1. */
static long long census(const char *key) {
    const char *line = slurp("/proc/hardtack/alloc");
    size_t n = strlen(key);
    for (; *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : "") {
        if (!strncmp(line, key, n) && line[n] == ' ') return atoll(line + n + 1);
    }
    return -1;
}

/* Heaps named `name` in /proc/hardtack/heaps ("id name policy ..." lines). */
static int heaps_named(const char *name) {
    const char *line = slurp("/proc/hardtack/heaps");
    int count = 0;
    for (; *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : "") {
        char heap[64];
        if (*line != '#' && sscanf(line, "%*d %63s", heap) == 1 && !strcmp(heap, name)) count++;
    }
    return count;
}

/* The number of "process" heaps once it stops changing: a process that
 * just ended may still be letting go of its heap. */
static int settled_process_heaps(void) {
    int now = heaps_named("process");
    for (int i = 0; i < 100; i++) {
        usleep(20 * 1000);
        int next = heaps_named("process");
        if (next == now) break;
        now = next;
    }
    return now;
}

/* Whether the heaps file's header names `layout`. */
static int layout_is(const char *layout) {
    char header[64];
    snprintf(header, sizeof header, "# layout %s\n", layout);
    return strstr(slurp("/proc/hardtack/heaps"), header) != NULL;
}


static long long mem_free_kib(void) {
    const char *at = strstr(slurp("/proc/meminfo"), "MemFree:");
    return at ? atoll(at + strlen("MemFree:")) : -1;
}

static int fork_exit_wait(int n) {
    for (int i = 0; i < n; i++) {
        pid_t child = fork();
        if (child < 0) return -1;
        if (child == 0) _exit(0);
        if (waitpid(child, NULL, 0) != child) return -1;
    }
    return 0;
}

int main(int argc, char **argv) {
    (void)argc;
    ut_init(argv[0]);
    long long share = census("managed_share_permille");
    CHECKF("census_file", census("managed_bytes_allocated") > 0 && census("plain_bytes_allocated") > 0 &&
           share >= 0 && share <= 1000, "share %lld", share);
    int per_process = layout_is("per-process"), global = layout_is("global");
    CHECK("heaps_file_names_the_layout", per_process != global);
    int no_gc = strstr(slurp("/proc/hardtack/heaps"), " none ") != NULL;

    /* Per-process: one "process" heap per live process; global: none, and
     * one "kernel" heap. */
    int fds[2];
    pipe(fds);
    int before = settled_process_heaps();
    pid_t child = fork();
    if (child == 0) {
        char c;
        read(fds[0], &c, 1);
        _exit(0);
    }
    int during = heaps_named("process");
    write(fds[1], "x", 1);
    waitpid(child, NULL, 0);
    /* The heap goes with the process's last reference, which the child's
     * thread may still hold for a moment after the parent has reaped it
     * (on another CPU): give it up to 2 s. */
    int after = heaps_named("process");
    for (int i = 0; i < 200 && after != before; i++) {
        usleep(10 * 1000);
        after = heaps_named("process");
    }
    if (per_process)
        CHECKF("a_process_heap_comes_and_goes_with_its_process", during == before + 1 && after == before,
               "process heaps %d, %d with a child, %d after", before, during, after);
    else
        CHECKF("a_process_heap_comes_and_goes_with_its_process", before == 0 && during == 0 && heaps_named("kernel") == 1,
               "process heaps %d, %d; kernel heaps %d", before, during, heaps_named("kernel"));
    close(fds[0]), close(fds[1]);

    /* A pipe's ring is allocated as data arrives, in a GC heap. */
    static char full[65536];
    pipe(fds);
    long long managed = census("managed_bytes_allocated");
    ssize_t written = write(fds[1], full, sizeof full);
    long long grown = census("managed_bytes_allocated") - managed;
    CHECKF("a_pipe_ring_is_managed", written == sizeof full && grown >= (long long)sizeof full,
           "wrote %zd, managed bytes grew by %lld", written, grown);
    close(fds[0]), close(fds[1]);

    /* Warm up (size classes, run queues), then the real run. */
    CHECK_OK("fork_exit_wait_warm_up", fork_exit_wait(200));
    long long managed_live = census("managed_bytes_live"), plain_live = census("plain_bytes_live");
    long long free_kib = mem_free_kib();
    CHECK_OK("fork_exit_wait_10000", fork_exit_wait(10000));
    long long managed_growth = census("managed_bytes_live") - managed_live;
    long long plain_growth = census("plain_bytes_live") - plain_live, frames_kib = free_kib - mem_free_kib();
    /* A process's heap goes with it; what it leaves in shared heaps (its
     * place in the process tree, in the `proc` heap) and, in the one global
     * heap, all of its garbage wait for the collector, which lets a heap
     * grow by about its own size (at least 256 KiB; the file system's
     * 2 MiB of files in the global heap) before a cycle: a float of up to a
     * few MiB, where a leaked state per process would be 10 000 x 2.5 KiB.
     * gc-none never collects shared heaps: there, what they keep of each
     * process (a member of the tree, at least 64 bytes; everything, in the
     * global heap) must show as growth. */
    long long float_bound = global ? 8 << 20 : 1 << 20;
    CHECKF("fork_exit_wait_leaves_plain_kernel_memory_flat", plain_growth < 64 * 1024,
           "plain kernel heap live grew %lld bytes", plain_growth);
    if (no_gc) {
        long long kept = 10000LL * (global ? 1024 : 64);
        CHECKF("fork_exit_wait_leaves_managed_kernel_memory_flat", managed_growth > kept,
               "gc-none never collects shared heaps: expected growth over %lld, got %lld bytes", kept, managed_growth);
    } else
        CHECKF("fork_exit_wait_leaves_managed_kernel_memory_flat",
               managed_growth < float_bound && frames_kib < float_bound / 1024 + 1024,
               "managed kernel heap live grew %lld bytes (bound %lld), free memory fell %lld KiB", managed_growth,
               float_bound, frames_kib);
    return ut_done();
}
