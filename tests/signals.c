/* Signals: sigaction handlers (with siginfo), sigprocmask blocking and
 * delivery on unblock, SA_RESTART vs EINTR, SA_RESETHAND, sigsuspend,
 * SIGCHLD, ignoring, errors, and rt_sigreturn restoring every register
 * (general, SSE and MXCSR) of code interrupted asynchronously. */
#include "harness.h"
#include <setjmp.h>
#include <signal.h>
#include <sched.h>
#include <time.h>

static volatile sig_atomic_t hits, last_sig, blocked_inside, info_pid, info_code;

static void on_signal(int sig) {
    hits++;
    last_sig = sig;
    sigset_t now;
    sigprocmask(SIG_BLOCK, NULL, &now);
    blocked_inside = sigismember(&now, sig);
}

static void on_info(int sig, siginfo_t *info, void *uc) {
    (void)uc;
    hits++;
    last_sig = info->si_signo == sig ? sig : -1;
    info_pid = info->si_pid;
    info_code = info->si_code;
}

static void install(int sig, void (*fn)(int), int flags) {
    struct sigaction sa = {0};
    sa.sa_handler = fn;
    sa.sa_flags = flags;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, NULL);
}

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, ms % 1000 * 1000000};
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {}
}

/* A child that sends `sig` to the parent after `ms`, then writes a byte to fd. */
/* How long a poking child waits before it signals a parent that must be
 * blocked by then (in read or nanosleep, unmasked): long enough for a host
 * that stalls the parent's vCPU for a while. */
#define BLOCKED_BY_THEN_MS 300

static pid_t poke_later(int sig, long ms, int fd) {
    pid_t parent = getpid(), pid = fork();
    if (pid == 0) {
        sleep_ms(ms);
        kill(parent, sig);
        if (fd >= 0) {
            sleep_ms(ms);
            write(fd, "x", 1);
        }
        _exit(0);
    }
    return pid;
}

/* rt_sigreturn: the handler scrambles caller-saved registers and the SSE
 * rounding mode; the interrupted loop must not notice. */
static volatile long ticks;
static void scramble(int sig) {
    (void)sig;
    ticks++;
    unsigned mxcsr = 0x7f80; /* round toward zero, all exceptions masked */
    __asm__ volatile("ldmxcsr %0\n\t"
                     "pcmpeqd %%xmm0, %%xmm0\n\t"
                     "pcmpeqd %%xmm1, %%xmm1\n\t"
                     "pcmpeqd %%xmm2, %%xmm2\n\t"
                     "pcmpeqd %%xmm3, %%xmm3\n\t"
                     "pcmpeqd %%xmm4, %%xmm4\n\t"
                     "pcmpeqd %%xmm5, %%xmm5\n\t"
                     "pcmpeqd %%xmm6, %%xmm6\n\t"
                     "pcmpeqd %%xmm7, %%xmm7\n\t"
                     "pcmpeqd %%xmm8, %%xmm8\n\t"
                     "pcmpeqd %%xmm9, %%xmm9\n\t"
                     "pcmpeqd %%xmm10, %%xmm10\n\t"
                     "pcmpeqd %%xmm11, %%xmm11\n\t"
                     "pcmpeqd %%xmm12, %%xmm12\n\t"
                     "pcmpeqd %%xmm13, %%xmm13\n\t"
                     "pcmpeqd %%xmm14, %%xmm14\n\t"
                     "pcmpeqd %%xmm15, %%xmm15\n\t"
                     "mov $-1, %%rax\n\tmov $-1, %%rcx\n\tmov $-1, %%rdx\n\tmov $-1, %%rsi\n\tmov $-1, %%rdi\n\t"
                     "mov $-1, %%r8\n\tmov $-1, %%r9\n\tmov $-1, %%r10\n\tmov $-1, %%r11\n\t"
                     :
                     : "m"(mxcsr)
                     : "rax", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "xmm0", "xmm1", "xmm2", "xmm3",
                       "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14",
                       "xmm15", "memory", "cc");
}

static volatile long loop_len = 3000000;

__attribute__((noinline, noclone)) static void compute(double *out, unsigned long *iout) {
    long n = loop_len;
    double acc = 0, acc2 = 1;
    unsigned long h = 1469598103934665603UL;
    for (long i = 1; i <= n; i++) {
        acc += 1.0 / (double)i; /* rounds: sensitive to MXCSR */
        acc2 = acc2 * 1.0000001 + 0.1;
        h = (h ^ (unsigned long)i) * 1099511628211UL;
    }
    *out = acc + acc2;
    *iout = h;
}

static int resethand_child(void) {
    hits = 0;
    install(SIGUSR1, on_signal, SA_RESETHAND);
    raise(SIGUSR1);
    if (hits != 1) return 1;
    raise(SIGUSR1); /* now the default: terminate */
    return 2;
}

static int ignored_child(void) {
    signal(SIGTERM, SIG_IGN);
    raise(SIGTERM);
    kill(getpid(), SIGTERM);
    return 0;
}

static int default_ignored_child(void) {
    raise(SIGURG);
    raise(SIGWINCH);
    raise(SIGCHLD);
    return 0;
}

static int default_terminate_child(void) {
    signal(SIGUSR1, SIG_DFL);
    raise(SIGUSR1);
    return 0;
}

/* A handled signal arrives while the stack pointer is 8: there is no room
 * for the handler's frame, so the process dies of SIGSEGV (the kernel must
 * not compute the frame's address below 0). */
/* A handler left with siglongjmp, 200 times: nothing of its frame stays
 * behind in the kernel (the FPU state is in the user frame). */
static sigjmp_buf jump_back;
static void jump_out(int sig) {
    (void)sig;
    siglongjmp(jump_back, 1);
}
static int siglongjmp_many_times_child(void) {
    signal(SIGUSR1, jump_out);
    volatile int left = 200;
    sigsetjmp(jump_back, 1);
    if (left-- > 0) raise(SIGUSR1);
    return left == -1 ? 0 : 1;
}

static int no_room_for_frame_child(void) {
    install(SIGUSR1, on_signal, 0);
    long me = getpid();
    __asm__ volatile("mov %0, %%rdi\n\tmov %1, %%rsi\n\tmov %2, %%eax\n\tmov $8, %%rsp\n\tsyscall\n1:\tjmp 1b"
                     :
                     : "r"(me), "r"((long)SIGUSR1), "i"(SYS_kill)
                     : "rdi", "rsi", "rax", "rcx", "r11", "memory");
    return 0;
}

int main(int argc, char **argv) {
    (void)argc;
    ut_init(argv[0]);
    sigset_t set, old;
    struct sigaction sa = {0}, prev;
    int status;

    /* sigaction and delivery */
    install(SIGUSR1, on_signal, 0);
    CHECKF("sigaction_reads_back", sigaction(SIGUSR1, NULL, &prev) == 0 && prev.sa_handler == on_signal, "handler %p", (void *)prev.sa_handler);
    hits = 0;
    kill(getpid(), SIGUSR1);
    CHECKF("handler_runs_on_kill_self", hits == 1 && last_sig == SIGUSR1, "hits %d sig %d", hits, last_sig);
    CHECK("signal_blocked_inside_handler", blocked_inside);
    sigprocmask(SIG_BLOCK, NULL, &set);
    CHECKF("mask_restored_after_handler", !sigismember(&set, SIGUSR1), "SIGUSR1 still blocked");
    hits = 0;
    install(SIGUSR2, on_signal, SA_NODEFER);
    raise(SIGUSR2);
    CHECKF("sa_nodefer_leaves_unblocked", hits == 1 && !blocked_inside, "hits %d blocked %d", hits, blocked_inside);
    sa.sa_sigaction = on_info;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR2, &sa, NULL);
    hits = 0;
    kill(getpid(), SIGUSR2);
    CHECKF("sa_siginfo_fields", hits == 1 && last_sig == SIGUSR2 && info_pid == getpid() && info_code == SI_USER,
           "hits %d sig %d si_pid %d si_code %d", hits, last_sig, info_pid, info_code);

    CHECK_ERR("sigaction_sigkill_einval", sigaction(SIGKILL, &sa, NULL), EINVAL);
    CHECK_ERR("sigaction_sigstop_einval", sigaction(SIGSTOP, &sa, NULL), EINVAL);
    CHECK_ERR("sigaction_signal_0_einval", syscall(SYS_rt_sigaction, 0, NULL, &prev, 8), EINVAL);
    CHECK_ERR("sigaction_signal_65_einval", syscall(SYS_rt_sigaction, 65, NULL, &prev, 8), EINVAL);
    CHECK_ERR("rt_sigaction_bad_sigsetsize_einval", syscall(SYS_rt_sigaction, SIGUSR1, NULL, &prev, 4), EINVAL);
    CHECK_ERR("rt_sigaction_bad_pointer_efault", syscall(SYS_rt_sigaction, SIGUSR1, BAD(1), NULL, 8), EFAULT);
    CHECK_ERR("rt_sigprocmask_bad_how_einval", syscall(SYS_rt_sigprocmask, 99, &set, NULL, 8), EINVAL);
    CHECK_ERR("rt_sigprocmask_bad_pointer_efault", syscall(SYS_rt_sigprocmask, SIG_BLOCK, BAD(1), NULL, 8), EFAULT);

    int r;
    /* sigprocmask: blocked signals wait, then arrive on unblock. */
    install(SIGUSR1, on_signal, 0);
    hits = 0;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    CHECK_OK("sigprocmask_block", sigprocmask(SIG_BLOCK, &set, &old));
    kill(getpid(), SIGUSR1);
    CHECKF("blocked_signal_not_delivered", hits == 0, "hits %d", hits);
    sigset_t pending;
    r = sigpending(&pending);
    CHECKF("sigpending_shows_blocked", r == 0 && sigismember(&pending, SIGUSR1), "sigpending = %d errno %d, SIGUSR1 pending %d", r, errno, r ? -1 : sigismember(&pending, SIGUSR1));
    kill(getpid(), SIGUSR1); /* standard signals do not queue */
    CHECK_OK("sigprocmask_unblock", sigprocmask(SIG_SETMASK, &old, NULL));
    CHECKF("delivered_once_on_unblock", hits == 1, "hits %d", hits);
    sigemptyset(&set);
    sigaddset(&set, SIGKILL);
    sigaddset(&set, SIGSTOP);
    sigprocmask(SIG_BLOCK, &set, NULL);
    sigprocmask(SIG_BLOCK, NULL, &set);
    CHECKF("sigkill_cannot_be_blocked", !sigismember(&set, SIGKILL) && !sigismember(&set, SIGSTOP), "mask holds SIGKILL/SIGSTOP");
    sigprocmask(SIG_SETMASK, &old, NULL);

    /* Ignored and default-ignored signals do nothing. */
    CHECK_CHILD("sig_ign_survives_sigterm", ignored_child, WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK_CHILD("default_ignored_signals_survive", default_ignored_child, WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK_CHILD("default_sigusr1_terminates", default_terminate_child, WIFSIGNALED(status) && WTERMSIG(status) == SIGUSR1);
    CHECK_CHILD("sa_resethand", resethand_child, WIFSIGNALED(status) && WTERMSIG(status) == SIGUSR1);
    CHECK_CHILD("handler_left_by_siglongjmp_200_times", siglongjmp_many_times_child,
                WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK_CHILD("no_room_for_a_handler_frame_is_sigsegv", no_room_for_frame_child,
                WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV);

    /* SA_RESTART restarts a blocking read; without it, EINTR. */
    int p[2];
    char c;
    pipe(p);
    install(SIGUSR1, on_signal, SA_RESTART);
    hits = 0;
    pid_t pid = poke_later(SIGUSR1, BLOCKED_BY_THEN_MS, p[1]);
    ssize_t n = read(p[0], &c, 1);
    CHECKF("sa_restart_read_restarts", n == 1 && hits == 1, "read %zd errno %d hits %d", n, errno, hits);
    waitpid(pid, &status, 0);
    install(SIGUSR1, on_signal, 0);
    hits = 0;
    pid = poke_later(SIGUSR1, BLOCKED_BY_THEN_MS, p[1]);
    n = read(p[0], &c, 1);
    CHECKF("no_sa_restart_read_eintr", n == -1 && errno == EINTR && hits == 1, "read %zd errno %d hits %d", n, errno, hits);
    waitpid(pid, &status, 0);
    read(p[0], &c, 1);
    hits = 0;
    pid = poke_later(SIGUSR1, BLOCKED_BY_THEN_MS, -1);
    struct timespec ts = {5, 0}, rem = {0, 0};
    r = nanosleep(&ts, &rem);
    CHECKF("nanosleep_eintr_with_remaining", r == -1 && errno == EINTR && hits == 1 && rem.tv_sec >= 3, "r %d errno %d rem %lds", r, errno, (long)rem.tv_sec);
    waitpid(pid, &status, 0);
    close(p[0]), close(p[1]);

    /* sigsuspend and SIGCHLD */
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &set, &old);
    hits = 0;
    pid = poke_later(SIGUSR1, 50, -1);
    sigset_t none;
    sigemptyset(&none);
    r = sigsuspend(&none);
    CHECKF("sigsuspend_returns_eintr_after_handler", r == -1 && errno == EINTR && hits == 1, "r %d errno %d hits %d", r, errno, hits);
    sigprocmask(SIG_BLOCK, NULL, &set);
    CHECKF("sigsuspend_restores_mask", sigismember(&set, SIGUSR1), "SIGUSR1 unblocked after sigsuspend");
    sigprocmask(SIG_SETMASK, &old, NULL);
    waitpid(pid, &status, 0);
    install(SIGCHLD, on_signal, 0);
    hits = 0;
    pid = fork();
    if (pid == 0) _exit(0);
    waitpid(pid, &status, 0);
    CHECKF("sigchld_on_child_exit", hits == 1 && last_sig == SIGCHLD, "hits %d sig %d", hits, last_sig);
    signal(SIGCHLD, SIG_DFL);

    /* A handler in a child that the parent signals. */
    pipe(p);
    pid = fork();
    if (pid == 0) {
        hits = last_sig = 0;
        install(SIGTERM, on_signal, 0);
        write(p[1], "r", 1);
        while (!hits) pause();
        _exit(last_sig == SIGTERM ? 33 : 1);
    }
    read(p[0], &c, 1);
    kill(pid, SIGTERM);
    waitpid(pid, &status, 0);
    CHECKF("kill_sigterm_to_child_handler", WIFEXITED(status) && WEXITSTATUS(status) == 33, "child %s", ut_status(status));
    close(p[0]), close(p[1]);

    /* rt_sigreturn restores everything: compare a computation interrupted
     * by many signals with an undisturbed one. */
    double want_d, got_d;
    unsigned long want_h, got_h;
    compute(&want_d, &want_h);
    install(SIGALRM, scramble, SA_RESTART);
    pid_t parent = getpid();
    int rounds = 0;
    ticks = 0;
    for (; rounds < 50 && ticks < 20; rounds++) {
        pid = fork();
        if (pid == 0) {
            for (int i = 0; i < 1000; i++) {
                if (kill(parent, SIGALRM)) break;
                sched_yield();
            }
            _exit(0);
        }
        compute(&got_d, &got_h);
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        if (got_d != want_d || got_h != want_h) break;
    }
    CHECKF("sigreturn_restores_registers", got_d == want_d && got_h == want_h && ticks > 0,
           "got %.17g/%lx want %.17g/%lx after %ld signals", got_d, got_h, want_d, want_h, (long)ticks);
    signal(SIGALRM, SIG_DFL);
    return ut_done();
}
