/* Hardtack user-space test harness: one line per case on stdout.
 *
 *   utest: PASS <program>.<case>
 *   utest: FAIL <program>.<case>: <detail, with errno>
 *   utest: DONE <program> <passed> <failed>
 *
 * Each line is one write(2) (so output of forked children cannot split it),
 * and a program exits 0 iff every case passed: `return ut_done();`.
 * Children report to their parent through exit statuses or pipes, never
 * through these lines. `cargo xtask test` parses them (xtask/src/usertests.rs). */
#ifndef HARDTACK_HARNESS_H
#define HARDTACK_HARNESS_H
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "line.h"

static const char *ut_prog = "?";
static int ut_passed, ut_failed;
static char ut_dir[256]; /* the directory the program was run from (helpers live in ut_dir/helpers) */

static __attribute__((unused)) void ut_init(const char *argv0) {
    const char *slash = strrchr(argv0, '/');
    ut_prog = slash ? slash + 1 : argv0;
    snprintf(ut_dir, sizeof ut_dir, "%.*s", slash ? (int)(slash - argv0) : 1, slash ? argv0 : ".");
}

/* Records one case. `detail` (printf-style) is printed on failure only. */
static __attribute__((unused)) int ut_report(const char *name, int ok, const char *fmt, ...) {
    if (ok) {
        ut_passed++;
        line_out("utest: PASS %s.%s", ut_prog, name);
    } else {
        char detail[768];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(detail, sizeof detail, fmt, ap);
        va_end(ap);
        ut_failed++;
        line_out("utest: FAIL %s.%s: %s", ut_prog, name, detail);
    }
    return ok;
}

static __attribute__((unused)) int ut_done(void) {
    line_out("utest: DONE %s %d %d", ut_prog, ut_passed, ut_failed);
    return ut_failed ? 1 : 0;
}

/* CHECK(name, cond): passes iff cond holds; the failure shows cond and errno. */
#define CHECK(name, cond)                                                                    \
    ({                                                                                       \
        int ok_ = !!(cond), e_ = errno;                                                      \
        ut_report(name, ok_, "%s is false (errno %d %s)", #cond, e_, strerror(e_));          \
    })

/* CHECKF(name, cond, fmt, ...): CHECK with a custom failure detail, whose
 * arguments are evaluated after cond (so they see its errno and results). */
#define CHECKF(name, cond, ...)                                                              \
    ({                                                                                       \
        int okf_ = !!(cond);                                                                 \
        ut_report(name, okf_, __VA_ARGS__);                                                  \
    })

/* CHECK_OK(name, call): passes iff call returns >= 0. Evaluates to its result. */
#define CHECK_OK(name, call)                                                                 \
    ({                                                                                       \
        errno = 0;                                                                           \
        long r_ = (long)(call);                                                              \
        int e_ = errno;                                                                      \
        ut_report(name, r_ >= 0, "%s = %ld (errno %d %s)", #call, r_, e_, strerror(e_));     \
        r_;                                                                                  \
    })

/* CHECK_ERR(name, call, E): passes iff call returns -1 with errno E. */
#define CHECK_ERR(name, call, E)                                                             \
    ({                                                                                       \
        errno = 0;                                                                           \
        long r_ = (long)(call);                                                              \
        int e_ = errno;                                                                      \
        ut_report(name, r_ == -1 && e_ == (E), "%s = %ld errno %d (%s), want -1 errno %s",   \
                  #call, r_, e_, strerror(e_), #E);                                          \
    })

/* BAD(addr): a pointer the compiler cannot see through, for EFAULT cases
 * and wild accesses (GCC would otherwise warn about them at -Werror). */
static __attribute__((unused)) void *ut_launder(unsigned long addr) {
    volatile unsigned long v = addr;
    return (void *)v;
}
#define BAD(addr) ut_launder((unsigned long)(addr))

/* Status words of wait4, for failure details. */
static __attribute__((unused)) const char *ut_status(int status) {
    static char buf[64];
    if (WIFEXITED(status)) snprintf(buf, sizeof buf, "exited %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status)) snprintf(buf, sizeof buf, "killed by signal %d", WTERMSIG(status));
    else snprintf(buf, sizeof buf, "status 0x%x", status);
    return buf;
}

/* Forks a child that runs fn() and exits with its return value; returns
 * the child's wait status (or -1 if fork/wait failed). */
static __attribute__((unused)) int ut_in_child(int (*fn)(void)) {
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) _exit(fn());
    int status;
    if (waitpid(pid, &status, 0) != pid) return -1;
    return status;
}

/* CHECK_CHILD(name, fn, cond_on_status): runs fn in a child, then checks
 * `status` (the wait status) against the condition. */
#define CHECK_CHILD(name, fn, cond)                                                          \
    ({                                                                                       \
        int status = ut_in_child(fn);                                                        \
        ut_report(name, status != -1 && (cond), "child %s; want %s", ut_status(status), #cond); \
    })

#endif
