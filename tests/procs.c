/* Processes: getpid/getppid/gettid/set_tid_address, fork + wait4 statuses,
 * execve (a helper, BusyBox, #! scripts, errors), 100 x fork+exec+wait,
 * kill with SIGKILL/SIGTERM, and faults in a child (a wild write gives
 * SIGSEGV in wait4, and only the child dies). */
#include "harness.h"
#include <limits.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

static char helper[300];
static int shared_value = 1;

static int wild_write(void) {
    *(volatile int *)BAD(0x10) = 1;
    return 0;
}
static int kernel_write(void) {
    *(volatile long *)BAD(0xffff800000001000UL) = 1;
    return 0;
}
static int jump_to_null(void) {
    ((void (*)(void))BAD(0))();
    return 0;
}
static int noncanonical_write(void) {
    *(volatile long *)BAD(0x0000800000000000UL) = 1;
    return 0;
}
static int ud2(void) {
    __asm__ volatile("ud2");
    return 0;
}
static int divide_by_zero(void) {
    volatile int zero = 0;
    return 10 / zero;
}
static int int3(void) {
    __asm__ volatile("int3");
    return 0;
}
static int modify_shared(void) {
    shared_value = 99;
    return shared_value;
}
static int exit_77(void) {
    exit(77);
}
static int raise_sigabrt(void) {
    abort();
}

/* execve(helper argv...) in a child; returns the wait status. */
static int run(char *const argv[], char *const envp[]) {
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        execve(argv[0], argv, envp);
        _exit(errno + 200);
    }
    int status;
    return waitpid(pid, &status, 0) == pid ? status : -1;
}

/* execve(path) in a child; returns its errno (-1 if the exec worked). */
static int exec_errno(const char *path, char *const *argv) {
    pid_t pid = fork();
    if (pid == 0) {
        execve(path, argv ? argv : (char *[]){"x", NULL}, (char *[]){NULL});
        _exit(errno);
    }
    int status;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

#define CHECK_EXEC_ERRNO(name, path, argv, want)                                             \
    ({                                                                                       \
        int e = exec_errno(path, argv);                                                      \
        CHECKF(name, e == want, "execve failed with errno %d, want %s", e, #want);           \
    })

int main(int argc, char **argv) {
    (void)argc;
    ut_init(argv[0]);
    snprintf(helper, sizeof helper, "%s/helpers/child", ut_dir);
    int status;
    char buf[256];

    pid_t me = getpid();
    CHECKF("getpid_positive", me > 0, "pid %d", me);
    CHECKF("getppid_differs", getppid() > 0 && getppid() != me, "ppid %d pid %d", getppid(), me);
    CHECKF("gettid_is_pid", syscall(SYS_gettid) == me, "tid %ld pid %d", syscall(SYS_gettid), me);
    int tidword;
    CHECKF("set_tid_address_returns_tid", syscall(SYS_set_tid_address, &tidword) == me, "errno %d", errno);

    /* fork and wait4 */
    pid_t pid = fork();
    if (pid == 0) _exit(getppid() == me ? 42 : 1);
    struct rusage ru;
    pid_t got = wait4(pid, &status, 0, &ru);
    CHECKF("fork_wait4_returns_pid", got == pid, "wait4 %d want %d errno %d", got, pid, errno);
    CHECKF("wait4_wexitstatus", WIFEXITED(status) && WEXITSTATUS(status) == 42, "child %s (42: exited, 1: wrong getppid)", ut_status(status));
    CHECKF("fork_child_pid_differs", pid > 0 && pid != me, "child pid %d", pid);
    CHECK_CHILD("fork_memory_is_private", modify_shared, WEXITSTATUS(status) == 99 && shared_value == 1);
    CHECK_CHILD("exit_runs_with_status", exit_77, WIFEXITED(status) && WEXITSTATUS(status) == 77);
    CHECK_CHILD("abort_sigabrt", raise_sigabrt, WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
    CHECK_ERR("wait4_no_children_echild", wait4(-1, &status, 0, NULL), ECHILD);
    CHECK_ERR("wait4_not_my_child_echild", wait4(1, &status, 0, NULL), ECHILD);
    pid = fork();
    if (pid == 0) {
        pause();
        _exit(0);
    }
    CHECKF("wait4_wnohang_running_is_0", wait4(pid, &status, WNOHANG, NULL) == 0, "errno %d", errno);
    CHECK_OK("kill_signal_0_probes", kill(pid, 0));
    CHECK_OK("kill_sigkill", kill(pid, SIGKILL));
    got = wait4(pid, &status, 0, NULL);
    CHECKF("wait4_sigkill_status", got == pid && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "wait4 %d: %s", got, ut_status(status));
    CHECK_ERR("kill_reaped_esrch", kill(pid, 0), ESRCH);
    CHECK_ERR("kill_bad_signal_einval", kill(me, 1000), EINVAL);
    CHECK_ERR("kill_int_min_esrch", kill(INT_MIN, 0), ESRCH);
    pid = fork();
    if (pid == 0) {
        pause();
        _exit(0);
    }
    kill(pid, SIGTERM);
    waitpid(pid, &status, 0);
    CHECKF("kill_sigterm_default_kills", WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM, "child %s", ut_status(status));
    /* A zombie keeps its status until waited for. */
    pid = fork();
    if (pid == 0) _exit(5);
    struct timespec ts = {0, 50 * 1000 * 1000};
    nanosleep(&ts, NULL);
    CHECK_OK("kill_zombie_succeeds", kill(pid, 0));
    got = waitpid(-1, &status, 0);
    CHECKF("wait_any_reaps_zombie", got == pid && WIFEXITED(status) && WEXITSTATUS(status) == 5, "got %d %s", got, ut_status(status));
    CHECK_ERR("wait4_bad_status_pointer_efault", (pid = fork()) == 0 ? (_exit(0), 0) : wait4(pid, BAD(1), 0, NULL), EFAULT);
    waitpid(-1, &status, WNOHANG);

    /* Faults kill only the faulting child, with the right signal. */
    CHECK_CHILD("wild_write_sigsegv", wild_write, WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV);
    CHECK_CHILD("kernel_address_write_sigsegv", kernel_write, WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV);
    CHECK_CHILD("noncanonical_write_sigsegv", noncanonical_write, WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV);
    CHECK_CHILD("jump_to_null_sigsegv", jump_to_null, WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV);
    CHECK_CHILD("ud2_sigill", ud2, WIFSIGNALED(status) && WTERMSIG(status) == SIGILL);
    CHECK_CHILD("divide_by_zero_sigfpe", divide_by_zero, WIFSIGNALED(status) && WTERMSIG(status) == SIGFPE);
    CHECK_CHILD("int3_sigtrap", int3, WIFSIGNALED(status) && WTERMSIG(status) == SIGTRAP);
    CHECKF("parent_survives_faults", getpid() == me, "pid changed");

    /* execve */
    status = run((char *[]){helper, "exit", "7", NULL}, (char *[]){NULL});
    CHECKF("execve_helper_exit_status", status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 7, "child %s (200+errno: execve failed)", ut_status(status));
    status = run((char *[]){helper, "args", "a b", "", NULL}, (char *[]){"X=1", "HARDTACK_T=yes", NULL});
    CHECKF("execve_passes_argv_envp", status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0, "child %s", ut_status(status));
    status = run((char *[]){"/bin/busybox", "true", NULL}, (char *[]){NULL});
    CHECKF("execve_busybox_true", WIFEXITED(status) && WEXITSTATUS(status) == 0, "child %s", ut_status(status));
    status = run((char *[]){"/bin/busybox", "false", NULL}, (char *[]){NULL});
    CHECKF("execve_busybox_false", WIFEXITED(status) && WEXITSTATUS(status) == 1, "child %s", ut_status(status));
    snprintf(buf, sizeof buf, "/tmp/procs.%d.sh", me);
    int fd = open(buf, O_CREAT | O_WRONLY | O_TRUNC, 0755);
    write(fd, "#!/bin/sh\nexit $((3 + 4))\n", 26);
    close(fd);
    status = run((char *[]){buf, NULL}, (char *[]){NULL});
    CHECKF("execve_shebang_script", WIFEXITED(status) && WEXITSTATUS(status) == 7, "child %s", ut_status(status));
    fd = open(buf, O_CREAT | O_WRONLY | O_TRUNC, 0755);
    write(fd, "garbage, not an executable\n", 27);
    close(fd);
    CHECK_EXEC_ERRNO("execve_garbage_enoexec", buf, NULL, ENOEXEC);
    chmod(buf, 0644);
    CHECK_EXEC_ERRNO("execve_not_executable_eacces", buf, NULL, EACCES);
    unlink(buf);
    CHECK_EXEC_ERRNO("execve_missing_enoent", "/no/such", NULL, ENOENT);
    CHECK_EXEC_ERRNO("execve_directory_eacces", "/tmp", NULL, EACCES);
    CHECK_EXEC_ERRNO("execve_bad_path_efault", BAD(1), NULL, EFAULT);
    CHECK_EXEC_ERRNO("execve_bad_argv_efault", helper, BAD(1), EFAULT);
    /* close-on-exec and inheritance */
    fd = open("/dev/null", O_RDONLY);
    dup2(fd, 40);
    fcntl(40, F_SETFD, FD_CLOEXEC);
    dup2(fd, 41);
    status = run((char *[]){helper, "fdclosed", "40", NULL}, (char *[]){NULL});
    CHECKF("execve_closes_cloexec_fd", WIFEXITED(status) && WEXITSTATUS(status) == 0, "child %s", ut_status(status));
    status = run((char *[]){helper, "fdopen", "41", NULL}, (char *[]){NULL});
    CHECKF("execve_keeps_other_fds", WIFEXITED(status) && WEXITSTATUS(status) == 0, "child %s", ut_status(status));
    close(40), close(41), close(fd);
    signal(SIGUSR1, SIG_IGN);
    signal(SIGUSR2, (void (*)(int))exit_77);
    status = run((char *[]){helper, "sigign", "10", NULL}, (char *[]){NULL});
    CHECKF("execve_keeps_ignored_signals", WIFEXITED(status) && WEXITSTATUS(status) == 0, "child %s", ut_status(status));
    status = run((char *[]){helper, "sigdfl", "12", NULL}, (char *[]){NULL});
    CHECKF("execve_resets_handlers", WIFEXITED(status) && WEXITSTATUS(status) == 0, "child %s", ut_status(status));
    signal(SIGUSR1, SIG_DFL), signal(SIGUSR2, SIG_DFL);
    /* The exec'd program sees its own pid and its parent. */
    int p[2];
    pipe(p);
    pid = fork();
    if (pid == 0) {
        dup2(p[1], 1);
        execve(helper, (char *[]){helper, "pid", NULL}, (char *[]){NULL});
        _exit(127);
    }
    close(p[1]);
    int n = read(p[0], buf, sizeof buf - 1);
    close(p[0]);
    waitpid(pid, &status, 0);
    buf[n > 0 ? n : 0] = 0;
    int cpid = 0, cppid = 0;
    sscanf(buf, "%d %d", &cpid, &cppid);
    CHECKF("execve_keeps_pid", cpid == pid && cppid == me, "helper printed '%s', want '%d %d'", buf, pid, me);

    /* 100 x fork + exec + wait */
    int bad = 0, first_bad = -1, first_status = 0;
    for (int i = 0; i < 100; i++) {
        char code[8];
        snprintf(code, sizeof code, "%d", i);
        status = run((char *[]){helper, "exit", code, NULL}, (char *[]){NULL});
        if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != i) {
            if (!bad++) first_bad = i, first_status = status;
        }
    }
    CHECKF("fork_exec_wait_100", bad == 0, "%d of 100 failed, first #%d: %s", bad, first_bad, ut_status(first_status));
    /* 20 children at once, reaped in any order. */
    int reaped = 0, sum = 0;
    for (int i = 0; i < 20; i++)
        if (fork() == 0) _exit(i);
    while ((got = wait(&status)) > 0) reaped++, sum += WEXITSTATUS(status);
    CHECKF("fork_20_concurrent_children", reaped == 20 && sum == 190 && errno == ECHILD, "reaped %d sum %d", reaped, sum);

    /* An orphan is adopted by init. */
    pipe(p);
    pid = fork();
    if (pid == 0) {
        if (fork() == 0) {
            struct timespec t = {0, 200 * 1000 * 1000};
            nanosleep(&t, NULL);
            int pp = getppid();
            write(p[1], &pp, sizeof pp);
            _exit(0);
        }
        _exit(0);
    }
    close(p[1]);
    waitpid(pid, &status, 0);
    int adopted = -1;
    n = read(p[0], &adopted, sizeof adopted);
    close(p[0]);
    CHECKF("orphan_reparented_to_init", n == sizeof adopted && adopted == 1, "orphan's ppid %d (read %d)", adopted, n);

    return ut_done();
}
