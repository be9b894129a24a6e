/* Hardtack's system call fuzzer: /init of its own boot (`cargo xtask fuzz`,
 * and a bounded slice in `cargo xtask test`).
 *
 * Init forks one child per round. The child makes random system calls with
 * arguments drawn from classes (0, -1, small, huge, flag bits, valid and
 * unmapped user pointers, kernel-half addresses, buffers that run into an
 * unmapped page, valid and stale descriptors, paths) and reports how many
 * calls it made through a pipe. Init kills a child that runs past the
 * round's time (a blocked call is no kernel fault), then kills every other
 * process and reaps them all: a process that outlives SIGKILL is a kernel
 * hang, reported with the round's seed. The kernel's own failures (panics,
 * warnings) are seen by xtask on the console.
 *
 * Configuration: /fuzz/config, one `key value` per line: seed, calls
 * (total; 0 for no limit), seconds (0 for no limit), per_round, first_round,
 * trace (1: the child prints each call before making it), and any number
 * of `replay SEED ROUND` lines: rounds run first, each once.
 *
 * Console lines (all start with `fuzz: `):
 *   fuzz: start seed S per_round N
 *   fuzz: replay seed S round R    (before a replayed round)
 *   fuzz: round R calls C          (before each round; C = calls so far)
 *   fuzz: call R.I nr(a,b,c,d,e,f) (trace only)
 *   fuzz: hang round R seed S: DETAIL
 *   fuzz: done calls C rounds R timeouts T signals K
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Descriptors the child keeps for itself, out of the pool's range. */
#define PROGRESS_FD 900
#define CONSOLE_FD 901
/* Init's /dev/null, opened before any child could remove the node. */
#define NULL_FD 902
/* Guest milliseconds a round may take before its child is killed. */
#define ROUND_MS 50
/* Guest milliseconds killed processes have to die before it is a hang. */
#define DEATH_MS 10000
/* Forks (fork, vfork, clone) one round's child may make; its children make none. */
#define FORKS_PER_ROUND 4
/* Scratch pages the child's valid pointers point into; one more, after
 * them, is unmapped (the page-boundary class). */
#define SCRATCH_PAGES 8
#define PAGE 4096

/* Rounds to replay at most. */
#define MAX_REPLAYS 64

struct config {
    uint64_t seed, calls, seconds, per_round, first_round, trace;
    uint64_t replay[MAX_REPLAYS][2]; /* seed, round */
    int replays;
};

static uint64_t rng_state;

/* splitmix64: small, fast, and good enough to draw arguments. */
static uint64_t rnd(void) {
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t below(uint64_t n) { return n ? rnd() % n : 0; }

static uint64_t mix(uint64_t seed, uint64_t round) {
    rng_state = seed ^ (round * 0xd1b54a32d192ed03ull);
    return rnd();
}

static long raw_syscall(long nr, long a, long b, long c, long d, long e, long f) {
    register long r10 __asm__("r10") = d, r8 __asm__("r8") = e, r9 __asm__("r9") = f;
    long ret;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;
}

static uint64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...) {
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if (n > (int)sizeof line - 2)
        n = sizeof line - 2;
    line[n++] = '\n';
    if (write(1, line, n) < 0) {
        /* Nothing to do: the console is all init has. */
    }
}

/* ---- the child: random calls ---- */

static char *scratch;           /* SCRATCH_PAGES mapped pages, then an unmapped one */
static int pool[16], pool_len;  /* open descriptors */
static int stale[4];            /* closed descriptors */
static int forks_left;

static const char *const PATHS[] = {
    "/tmp/fuzz/a", "/tmp/fuzz/b", "/tmp/fuzz/dir", "/tmp/fuzz/dir/x", "/tmp/fuzz/link", "/tmp/fuzz",
    "/tmp", "/", ".", "..", "", "/dev/null", "/dev/zero", "/proc/self/stat", "/proc/self", "/nonexistent/x",
    "/tmp/fuzz/a/", "/tmp/fuzz/./dir/../b", "//tmp///fuzz",
};
#define NPATHS (sizeof PATHS / sizeof PATHS[0])
/* Where each path string is copied in the scratch area (its last page
 * holds them; a long name fills the rest up to the unmapped page). */
static char *path_at[NPATHS + 1];

static uint64_t huge(void) {
    static const uint64_t values[] = {
        1ull << 63, 0x7fffffffffffffffull, 0xffffffffull, 0x80000000ull, 0x7fffffffull, 1ull << 47,
        (1ull << 47) - 1, 1ull << 32, 0xfffffffffffff000ull, 0xffffffff80000000ull, 1ull << 40,
    };
    return below(4) ? values[below(sizeof values / sizeof values[0])] : rnd();
}

static uint64_t argument(void) {
    switch (below(14)) {
    case 0: return 0;
    case 1: return (uint64_t)-1;
    case 2: return below(64);
    case 3: return below(1 << 16);
    case 4: return huge();
    case 5: return 1ull << below(64) | (below(2) ? 1ull << below(32) : 0); /* flag bits */
    case 6: /* a valid pointer, sometimes aligned */
    case 7: {
        uint64_t off = below(SCRATCH_PAGES * PAGE);
        return (uint64_t)scratch + (below(2) ? off & ~7ull : off);
    }
    case 8: /* unmapped user memory */
        switch (below(3)) {
        case 0: return below(PAGE * 16);
        case 1: return (uint64_t)scratch + SCRATCH_PAGES * PAGE + below(PAGE);
        default: return 0x700000000000ull + below(1ull << 30);
        }
    case 9: /* the kernel half */
        return 0xffff800000000000ull + below(2) * 0x7fff00000000ull + below(1ull << 40);
    case 10: /* a buffer that runs into the unmapped page */
        return (uint64_t)scratch + SCRATCH_PAGES * PAGE - 1 - below(64);
    case 11: return pool_len ? (uint64_t)pool[below(pool_len)] : 0;
    case 12: return (uint64_t)stale[below(4)];
    default: return (uint64_t)path_at[below(NPATHS + 1)];
    }
}

/* Numbers Linux x86_64 uses: 0..334 and 424..462; a few others. */
static long number(void) {
    for (;;) {
        long nr = below(20) ? (long)below(335) : below(4) ? 424 + (long)below(39) : (long)huge();
        if (nr == SYS_reboot)
            continue; /* the one call that legitimately ends the machine */
        if ((nr == SYS_exit || nr == SYS_exit_group) && below(8))
            continue; /* rarer, or rounds end early */
        if ((nr == SYS_fork || nr == SYS_vfork || nr == SYS_clone || nr == SYS_clone3) && forks_left <= 0)
            continue;
        return nr;
    }
}

static void setup_child(uint64_t seed) {
    rng_state = seed;
    /* Earlier rounds may have removed them. */
    mkdir("/tmp/fuzz", 0777);
    mkdir("/tmp/fuzz/dir", 0777);
    symlink("a", "/tmp/fuzz/link");
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    setpgid(0, 0);
    scratch = mmap(NULL, (SCRATCH_PAGES + 1) * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (scratch == MAP_FAILED)
        _exit(120);
    munmap(scratch + SCRATCH_PAGES * PAGE, PAGE);
    for (int i = 0; i < SCRATCH_PAGES * PAGE; i += 8)
        *(uint64_t *)(scratch + i) = rnd();
    char *at = scratch + (SCRATCH_PAGES - 1) * PAGE;
    for (size_t i = 0; i < NPATHS; i++) {
        path_at[i] = at;
        at = stpcpy(at, PATHS[i]) + 1;
    }
    /* A name without its terminator: it ends at the unmapped page. */
    path_at[NPATHS] = at;
    memset(at, 'n', scratch + SCRATCH_PAGES * PAGE - at);

    /* The console is init's alone: a child writing megabytes of random
     * bytes there would bury the report (and slow everything down). */
    for (int fd = 0; fd < 3; fd++)
        if (dup2(NULL_FD, fd) < 0)
            close(fd);
    close(NULL_FD);
    int fds[2];
    pool_len = 0;
    if (pipe2(fds, O_NONBLOCK) == 0) {
        pool[pool_len++] = fds[0];
        pool[pool_len++] = fds[1];
    }
    static const char *const opened[] = {"/tmp/fuzz/a", "/tmp/fuzz/b", "/dev/null", "/dev/zero", "/tmp/fuzz/dir", "/"};
    for (size_t i = 0; i < sizeof opened / sizeof opened[0]; i++) {
        int fd = open(opened[i], i < 2 ? O_RDWR | O_CREAT : O_RDONLY, 0644);
        if (fd >= 0)
            pool[pool_len++] = fd;
    }
    for (int i = 0; i < 4; i++) {
        stale[i] = dup(0);
        close(stale[i]);
    }
    forks_left = FORKS_PER_ROUND;
}

static void child(uint64_t round, uint64_t seed, uint64_t calls, int trace) {
    setup_child(seed);
    uint64_t made = 0;
    for (uint64_t i = 0; i < calls; i++) {
        long nr = number();
        long a[6];
        for (int j = 0; j < 6; j++)
            a[j] = (long)argument();
        if (trace)
            dprintf(CONSOLE_FD, "fuzz: call %llu.%llu %ld(%#lx,%#lx,%#lx,%#lx,%#lx,%#lx)\n", (unsigned long long)round,
                    (unsigned long long)i, nr, a[0], a[1], a[2], a[3], a[4], a[5]);
        int forking = nr == SYS_fork || nr == SYS_vfork || nr == SYS_clone || nr == SYS_clone3;
        forks_left -= forking;
        long ret = raw_syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
        if (forking && ret == 0) {
            /* A new process (or a thread on this very stack): it makes
             * calls of its own, forks no more, and reports nothing. */
            rng_state ^= (uint64_t)raw_syscall(SYS_gettid, 0, 0, 0, 0, 0, 0) * 0x9e3779b97f4a7c15ull;
            forks_left = 0;
            trace = 0;
            made = 1ull << 62;
        }
        if (++made % 16 == 0 && made < 1ull << 62 && write(PROGRESS_FD, &made, sizeof made) < 0) {
            /* The pipe may have been closed by a call: counts are a floor. */
        }
    }
    if (made < 1ull << 62 && write(PROGRESS_FD, &made, sizeof made) < 0) {
    }
    _exit(0);
}

/* ---- init: rounds, timeouts, reaping ---- */

/* Waits until `pid` (or, for -1, every child) has been reaped or
 * `deadline` (ms) passes; returns 1 if it did. Counts signal deaths. */
static int reap(pid_t pid, uint64_t deadline, uint64_t *signals) {
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    for (;;) {
        int status;
        pid_t got = waitpid(-1, &status, WNOHANG);
        if (got > 0) {
            if (WIFSIGNALED(status) && WTERMSIG(status) != SIGKILL)
                ++*signals;
            if (got == pid)
                return 1;
            continue;
        }
        if (got < 0)
            return errno == ECHILD;
        uint64_t now = now_ms();
        if (now >= deadline)
            return 0;
        struct timespec wait = {(time_t)((deadline - now) / 1000), (long)((deadline - now) % 1000) * 1000000};
        sigtimedwait(&chld, NULL, &wait);
    }
}

static uint64_t drain_progress(int fd) {
    uint64_t best = 0, value;
    while (read(fd, &value, sizeof value) == sizeof value)
        if (value > best && value < 1ull << 62)
            best = value;
    return best;
}

static void read_config(struct config *c) {
    *c = (struct config){.seed = 1, .calls = 100000, .per_round = 500};
    FILE *f = fopen("/fuzz/config", "r");
    if (!f)
        return;
    char key[32];
    unsigned long long value, round;
    while (fscanf(f, "%31s %llu", key, &value) == 2) {
        if (!strcmp(key, "replay") && fscanf(f, "%llu", &round) == 1 && c->replays < MAX_REPLAYS) {
            c->replay[c->replays][0] = value;
            c->replay[c->replays++][1] = round;
        }
        if (!strcmp(key, "seed")) c->seed = value;
        else if (!strcmp(key, "calls")) c->calls = value;
        else if (!strcmp(key, "seconds")) c->seconds = value;
        else if (!strcmp(key, "per_round")) c->per_round = value ? value : 1;
        else if (!strcmp(key, "first_round")) c->first_round = value;
        else if (!strcmp(key, "trace")) c->trace = value;
    }
    fclose(f);
}

/* What the rounds so far did. */
struct tally {
    uint64_t calls, rounds, timeouts, signals;
};

/* Runs round `round` of seed `seed`: a child making `per_round` calls,
 * killed if it outlives ROUND_MS, then every other process killed and
 * reaped. Returns 0, or init's exit status for a hang (reported). */
static int run_round(uint64_t seed, uint64_t round, const struct config *c, struct tally *t) {
    say("fuzz: round %llu calls %llu", (unsigned long long)round, (unsigned long long)t->calls);
    int progress[2];
    if (pipe2(progress, O_CLOEXEC) < 0) {
        say("fuzz: hang round %llu seed %llu: init cannot make a pipe (errno %d)", (unsigned long long)round,
            (unsigned long long)seed, errno);
        return 2;
    }
    pid_t pid = fork();
    if (pid == 0) {
        dup2(progress[1], PROGRESS_FD);
        if (c->trace)
            dup2(1, CONSOLE_FD);
        close(progress[0]);
        close(progress[1]);
        child(round, mix(seed, round), c->per_round, (int)c->trace);
    }
    close(progress[1]);
    if (pid < 0) {
        /* Memory may be short for a moment: let the last round's
         * processes finish dying, then go on. */
        close(progress[0]);
        reap(-1, now_ms() + DEATH_MS, &t->signals);
        return 0;
    }
    if (!reap(pid, now_ms() + ROUND_MS, &t->signals)) {
        t->timeouts++;
        kill(-pid, SIGKILL);
        kill(pid, SIGKILL);
        if (!reap(pid, now_ms() + DEATH_MS, &t->signals)) {
            say("fuzz: hang round %llu seed %llu: the child outlived SIGKILL for %d ms", (unsigned long long)round,
                (unsigned long long)seed, DEATH_MS);
            return 3;
        }
    }
    /* Every other process (grandchildren, new sessions) dies too. */
    kill(-1, SIGKILL);
    if (!reap(-1, now_ms() + DEATH_MS, &t->signals)) {
        say("fuzz: hang round %llu seed %llu: a process outlived SIGKILL for %d ms", (unsigned long long)round,
            (unsigned long long)seed, DEATH_MS);
        return 3;
    }
    fcntl(progress[0], F_SETFL, O_NONBLOCK);
    t->calls += drain_progress(progress[0]);
    close(progress[0]);
    t->rounds++;
    return 0;
}

int main(void) {
    struct config c;
    read_config(&c);
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, NULL);
    int null = open("/dev/null", O_RDWR);
    if (null >= 0 && null != NULL_FD) {
        dup2(null, NULL_FD);
        close(null);
    }
    say("fuzz: start seed %llu per_round %llu", (unsigned long long)c.seed, (unsigned long long)c.per_round);

    struct tally t = {0};
    /* The rounds that once found a kernel bug, first. */
    for (int i = 0; i < c.replays; i++) {
        say("fuzz: replay seed %llu round %llu", (unsigned long long)c.replay[i][0], (unsigned long long)c.replay[i][1]);
        int status = run_round(c.replay[i][0], c.replay[i][1], &c, &t);
        if (status)
            return status;
    }
    uint64_t start = now_ms();
    for (uint64_t round = c.first_round;; round++) {
        if (c.calls && t.calls >= c.calls)
            break;
        if (c.seconds && now_ms() - start >= c.seconds * 1000)
            break;
        int status = run_round(c.seed, round, &c, &t);
        if (status)
            return status;
    }
    say("fuzz: done calls %llu rounds %llu timeouts %llu signals %llu", (unsigned long long)t.calls,
        (unsigned long long)t.rounds, (unsigned long long)t.timeouts, (unsigned long long)t.signals);
    return 0;
}
