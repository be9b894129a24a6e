/* Hardtack benchmark runner: /init of the guest, on Hardtack and on Linux.
 *
 *   bench-start: <name>
 *   bench: <name> <ns per op, one decimal> ns <iterations>
 *   bench-error: <name> <what> errno=<n>
 *   census: <name> <managed_bytes> <plain_bytes>   (Hardtack only: kernel heap
 *                                         bytes allocated in the timed run, less
 *                                         what reading the census allocates)
 *   gcwindow: <t0_ns> <t1_ns>             (after churn: its timed loop)
 *   gclog: <recorded> <dropped>           (Hardtack only)
 *   gcpause: <heap> <cause> <start_ns> <duration_ns> <work>
 *   bench: done
 *
 * Every line is one write(2) to fd 1, printed only outside timed loops.
 * Iterations = base × the scale in /bench/scale. `cargo xtask bench`
 * parses the lines; see bench/README.md. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../tests/line.h"

/* Host test builds put the fixed paths under a scratch directory. */
#ifndef BENCH_ROOT
#define BENCH_ROOT ""
#endif
#define SCALE_PATH BENCH_ROOT "/bench/scale"
#define NOP_PATH BENCH_ROOT "/bench/nop"
#define TMP_DIR BENCH_ROOT "/bench-tmp"
#ifndef CENSUS_PATH
#define CENSUS_PATH "/proc/hardtack/alloc"
#endif
#ifndef GCPAUSES_PATH
#define GCPAUSES_PATH "/proc/hardtack/gcpauses"
#endif

static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* The failure of the current benchmark, printed by the runner. */
static char err_what[96];
static int err_no;

/* Records a failure; call it right after the failing call (it reads errno). */
static int fail(const char *what) {
    err_no = errno;
    snprintf(err_what, sizeof err_what, "%s", what);
    return -1;
}

/* A short read: EOF (the peer is gone) or an error. */
static int fail_read(ssize_t r) {
    if (r >= 0) errno = 0;
    return fail(r == 0 ? "read-eof" : "read");
}

/* A child that did not exit 0: its wait status in the name, errno 0. */
static int fail_status(const char *who, int status) {
    err_no = 0;
    snprintf(err_what, sizeof err_what, "%s-status-0x%x", who, status);
    return -1;
}

/* --- benchmarks: each runs n operations and sets *ns to ns per op --- */

static int b_null_syscall(long n, double *ns) {
    long long t0 = now_ns();
    for (long i = 0; i < n; i++) syscall(SYS_getppid);
    *ns = (double)(now_ns() - t0) / n;
    return 0;
}

/* n times: one byte written to `out`, then one read from `in`. */
static int write_read(int out, int in, long n) {
    char c = 'x';
    for (long i = 0; i < n; i++) {
        ssize_t r;
        if (write(out, &c, 1) != 1) return fail("write");
        if ((r = read(in, &c, 1)) != 1) return fail_read(r);
    }
    return 0;
}

/* n one-byte round trips between this process and a forked child. */
static int pingpong(long n, double *ns) {
    int ab[2], ba[2];
    if (pipe(ab) < 0) return fail("pipe");
    if (pipe(ba) < 0) {
        int rc = fail("pipe");
        close(ab[0]), close(ab[1]);
        return rc;
    }
    pid_t pid = fork();
    if (pid < 0) {
        int rc = fail("fork");
        close(ab[0]), close(ab[1]), close(ba[0]), close(ba[1]);
        return rc;
    }
    if (pid == 0) {
        close(ab[1]), close(ba[0]);
        char c;
        for (long i = 0; i < n; i++) {
            if (read(ab[0], &c, 1) != 1) _exit(1);
            if (write(ba[1], &c, 1) != 1) _exit(2);
        }
        _exit(0);
    }
    close(ab[0]), close(ba[1]);
    long long t0 = now_ns();
    int rc = write_read(ab[1], ba[0], n);
    long long t1 = now_ns();
    close(ab[1]), close(ba[0]);
    int status;
    if (waitpid(pid, &status, 0) != pid) return rc ? rc : fail("waitpid");
    if (rc == 0 && status != 0) return fail_status("child", status);
    *ns = (double)(t1 - t0) / n;
    return rc;
}

static int b_pipe_pingpong(long n, double *ns) {
    return pingpong(n, ns);
}

/* lat_ctx with 2 processes: half a round trip minus one write+read. */
static int b_ctx_switch(long n, double *ns) {
    double rt, overhead;
    if (pingpong(n, &rt) < 0) return -1;
    int p[2];
    if (pipe(p) < 0) return fail("pipe");
    long long t0 = now_ns();
    int rc = write_read(p[1], p[0], n);
    overhead = (double)(now_ns() - t0) / n;
    close(p[0]), close(p[1]);
    if (rc < 0) return rc;
    *ns = rt / 2 - overhead;
    if (*ns < 0) *ns = 0;
    return 0;
}

static int b_fork_exit_wait(long n, double *ns) {
    int rc = 0, status = 0;
    long long t0 = now_ns();
    for (long i = 0; i < n && rc == 0; i++) {
        pid_t pid = fork();
        if (pid == 0) _exit(0);
        if (pid < 0) rc = fail("fork");
        else if (waitpid(pid, &status, 0) != pid) rc = fail("waitpid");
        else if (status != 0) rc = fail_status("child", status);
    }
    *ns = (double)(now_ns() - t0) / n;
    return rc;
}

static int b_fork_exec_wait(long n, double *ns) {
    char *argv[] = {"nop", NULL}, *envp[] = {NULL};
    int rc = 0, status = 0;
    long long t0 = now_ns();
    for (long i = 0; i < n && rc == 0; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            execve(NOP_PATH, argv, envp);
            _exit(127);
        }
        if (pid < 0) rc = fail("fork");
        else if (waitpid(pid, &status, 0) != pid) rc = fail("waitpid");
        else if (status != 0) rc = fail_status("nop", status);
    }
    *ns = (double)(now_ns() - t0) / n;
    return rc;
}

/* /bench-tmp, once (it may exist already). */
static int ensure_tmp(void) {
    if (mkdir(TMP_DIR, 0755) < 0 && errno != EEXIST) return fail("mkdir-bench-tmp");
    return 0;
}

static int b_open_close(long n, double *ns) {
    if (ensure_tmp() < 0) return -1;
    int fd = open(TMP_DIR "/f", O_CREAT | O_WRONLY, 0644);
    if (fd < 0) return fail("create");
    close(fd);
    int rc = 0;
    long long t0 = now_ns();
    for (long i = 0; i < n && rc == 0; i++) {
        fd = open(TMP_DIR "/f", O_RDONLY);
        if (fd < 0) rc = fail("open");
        else if (close(fd) < 0) rc = fail("close");
    }
    *ns = (double)(now_ns() - t0) / n;
    return rc;
}

#define MAP_BYTES (1 << 20)
#define PAGE 4096

static int b_mmap_touch_1m(long n, double *ns) {
    int rc = 0;
    long long t0 = now_ns();
    for (long i = 0; i < n && rc == 0; i++) {
        volatile char *p = mmap(NULL, MAP_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) {
            rc = fail("mmap");
            break;
        }
        for (int off = 0; off < MAP_BYTES; off += PAGE) p[off] = 1;
        if (munmap((void *)p, MAP_BYTES) < 0) rc = fail("munmap");
    }
    *ns = (double)(now_ns() - t0) / n;
    return rc;
}

/* The timed loop of the last churn run, for the GC pause log. */
static long long gc_t0, gc_t1;

#define CHURN_NAMES 64
static char churn_file[CHURN_NAMES][128], churn_dir[CHURN_NAMES][128];

/* One churn iteration: pipe, file and directory created and destroyed. */
static int churn_once(long i) {
    int p[2], k = i % CHURN_NAMES, rc = 0;
    char buf[64] = "churn";
    ssize_t r;
    if (pipe2(p, 0) < 0) return fail("pipe2");
    if (write(p[1], buf, 16) != 16) rc = fail("pipe-write");
    else if ((r = read(p[0], buf, 16)) != 16) rc = fail_read(r);
    if (close(p[0]) < 0 && rc == 0) rc = fail("pipe-close");
    if (close(p[1]) < 0 && rc == 0) rc = fail("pipe-close");
    if (rc < 0) return rc;
    int fd = open(churn_file[k], O_CREAT | O_WRONLY | O_TRUNC, 0644);
    if (fd < 0) return fail("create");
    if (write(fd, buf, 64) != 64) rc = fail("file-write");
    if (close(fd) < 0 && rc == 0) rc = fail("file-close");
    if (rc < 0) return rc;
    if (mkdir(churn_dir[k], 0755) < 0) return fail("mkdir");
    if (rmdir(churn_dir[k]) < 0) return fail("rmdir");
    if (unlink(churn_file[k]) < 0) return fail("unlink");
    return 0;
}

static int b_churn(long n, double *ns) {
    if (ensure_tmp() < 0) return -1;
    for (int k = 0; k < CHURN_NAMES; k++) {
        snprintf(churn_file[k], sizeof churn_file[k], TMP_DIR "/c%d", k);
        snprintf(churn_dir[k], sizeof churn_dir[k], TMP_DIR "/d%d", k);
        rmdir(churn_dir[k]); /* leftovers of a failed run */
    }
    int rc = 0;
    gc_t0 = now_ns();
    for (long i = 0; i < n && rc == 0; i++) rc = churn_once(i);
    gc_t1 = now_ns();
    *ns = (double)(gc_t1 - gc_t0) / n;
    return rc;
}

/* --- the GC pause log (Hardtack only) --- */

/* The whole file in a malloc'd, NUL-terminated buffer, or NULL. */
static char *slurp(int fd) {
    size_t cap = 64 << 10, len = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (len + 1 == cap) {
            char *bigger = realloc(buf, cap * 2);
            if (!bigger) break;
            buf = bigger, cap *= 2;
        }
        ssize_t r = read(fd, buf + len, cap - 1 - len);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) break;
        if (r == 0) {
            buf[len] = 0;
            return buf;
        }
        len += r;
    }
    free(buf);
    return NULL;
}

/* gclog: the totals, then the pauses that started inside the churn loop. */
static void gc_report(int have_window) {
    int fd = open(GCPAUSES_PATH, O_RDONLY);
    if (fd < 0) return;
    char *text = slurp(fd);
    int e = errno;
    close(fd);
    if (!text) {
        line_out("bench-error: gclog read errno=%d", e);
        return;
    }
    unsigned long long recorded, dropped;
    if (sscanf(text, "# pauses %llu dropped %llu", &recorded, &dropped) != 2) {
        line_out("bench-error: gclog header errno=0");
        free(text);
        return;
    }
    line_out("gclog: %llu %llu", recorded, dropped);
    char *line = strchr(text, '\n');
    while (line && have_window) {
        line++;
        char *end = strchr(line, '\n');
        if (end) *end = 0;
        char heap[64], cause[64];
        unsigned long long start, dur, work;
        if (sscanf(line, "%63s %63s %llu %llu %llu", heap, cause, &start, &dur, &work) == 5 &&
            start >= (unsigned long long)gc_t0 && start <= (unsigned long long)gc_t1)
            line_out("gcpause: %s", line);
        line = end;
    }
    free(text);
}

/* --- the census of kernel heap bytes (Hardtack only) --- */

/* Managed and plain bytes the kernel heap has allocated since boot; 0 on
 * success, -1 where there is no census (Linux). */
static int census_read(unsigned long long *managed, unsigned long long *plain) {
    char buf[1024];
    int fd = open(CENSUS_PATH, O_RDONLY);
    if (fd < 0) return -1;
    ssize_t r = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (r <= 0) return -1;
    buf[r] = 0;
    int found = 0;
    for (char *line = buf; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        found += sscanf(line, "managed_bytes_allocated %llu", managed) == 1;
        found += sscanf(line, "plain_bytes_allocated %llu", plain) == 1;
    }
    return found == 2 ? 0 : -1;
}

/* --- the runner --- */

struct bench {
    const char *name;
    long base; /* iterations at scale 1 */
    int (*run)(long n, double *ns);
};

static const struct bench benches[] = {
    {"null_syscall", 20000, b_null_syscall},
    {"pipe_pingpong", 2000, b_pipe_pingpong},
    {"ctx_switch", 2000, b_ctx_switch},
    {"fork_exit_wait", 100, b_fork_exit_wait},
    {"fork_exec_wait", 50, b_fork_exec_wait},
    {"open_close", 2000, b_open_close},
    {"mmap_touch_1m", 100, b_mmap_touch_1m},
    {"churn", 2000, b_churn},
};

/* The decimal in /bench/scale, or 1. */
static long read_scale(void) {
    char buf[32] = {0};
    int fd = open(SCALE_PATH, O_RDONLY);
    if (fd < 0) return 1;
    ssize_t r = read(fd, buf, sizeof buf - 1);
    close(fd);
    long scale = r > 0 ? strtol(buf, NULL, 10) : 0;
    return scale > 0 ? scale : 1;
}

/* Warm-up (5%, at least 3), then the timed run; 0 iff both succeeded. */
static int run_bench(const struct bench *b, long scale) {
    long n = b->base * scale, warm = n / 20 > 3 ? n / 20 : 3;
    double ns = 0;
    unsigned long long managed[3], plain[3];
    line_out("bench-start: %s", b->name);
    if (b->run(warm, &ns) < 0) goto failed;
    /* Two readings back to back price the reading itself (the kernel
     * allocates to answer it), which the window then leaves out. */
    int census = census_read(&managed[0], &plain[0]) == 0 && census_read(&managed[1], &plain[1]) == 0;
    if (b->run(n, &ns) < 0) goto failed;
    census = census && census_read(&managed[2], &plain[2]) == 0;
    line_out("bench: %s %.1f ns %ld", b->name, ns, n);
    if (census) {
        long long m = (long long)(managed[2] - managed[1]) - (long long)(managed[1] - managed[0]);
        long long p = (long long)(plain[2] - plain[1]) - (long long)(plain[1] - plain[0]);
        line_out("census: %s %lld %lld", b->name, m > 0 ? m : 0, p > 0 ? p : 0);
    }
    return 0;
failed:
    line_out("bench-error: %s %s errno=%d", b->name, err_what, err_no);
    return -1;
}

int main(void) {
    long long boot = now_ns();
    line_out("bench: boot_to_init %.1f ns 1", (double)boot);
    signal(SIGPIPE, SIG_IGN); /* a dead peer is an EPIPE error, not a kill */
    long scale = read_scale();
    int churn_ok = 0;
    for (size_t i = 0; i < sizeof benches / sizeof benches[0]; i++) {
        int ok = run_bench(&benches[i], scale) == 0;
        if (benches[i].run == b_churn && ok) {
            churn_ok = 1;
            line_out("gcwindow: %lld %lld", gc_t0, gc_t1);
        }
    }
    gc_report(churn_ok);
    line_out("bench: done");
#ifndef BENCH_NO_REBOOT
    sync();
    reboot(RB_POWER_OFF);
#endif
    _exit(0);
}
