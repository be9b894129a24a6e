/* Odds and ends: uname, clock_gettime, gettimeofday, nanosleep, getrandom,
 * umask, rlimits, sched_yield, ENOSYS for unknown syscall numbers. */
#include "harness.h"
#include <sched.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <time.h>

static long ns_between(struct timespec a, struct timespec b) {
    return (b.tv_sec - a.tv_sec) * 1000000000L + (b.tv_nsec - a.tv_nsec);
}

int main(int argc, char **argv) {
    (void)argc;
    ut_init(argv[0]);

    struct utsname u;
    CHECK_OK("uname", uname(&u));
    CHECKF("uname_sysname_linux", !strcmp(u.sysname, "Linux"), "sysname '%s'", u.sysname);
    CHECKF("uname_machine_x86_64", !strcmp(u.machine, "x86_64"), "machine '%s'", u.machine);
    CHECKF("uname_release_nonempty", u.release[0] >= '0' && u.release[0] <= '9', "release '%s'", u.release);
    CHECK_ERR("uname_bad_pointer_efault", syscall(SYS_uname, BAD(1)), EFAULT);

    struct timespec a, b, r;
    CHECK_OK("clock_gettime_monotonic", clock_gettime(CLOCK_MONOTONIC, &a));
    for (volatile int i = 0; i < 1000000; i++) {}
    clock_gettime(CLOCK_MONOTONIC, &b);
    CHECKF("monotonic_increases", ns_between(a, b) > 0, "%ld.%09ld then %ld.%09ld", (long)a.tv_sec, a.tv_nsec, (long)b.tv_sec, b.tv_nsec);
    CHECKF("timespec_normalized", b.tv_nsec >= 0 && b.tv_nsec < 1000000000, "tv_nsec %ld", b.tv_nsec);
    CHECK_OK("clock_gettime_realtime", clock_gettime(CLOCK_REALTIME, &r));
    CHECKF("realtime_after_2020", r.tv_sec > 1577836800, "realtime %ld", (long)r.tv_sec);
    struct timeval tv;
    CHECK_OK("gettimeofday", gettimeofday(&tv, NULL));
    CHECKF("gettimeofday_matches_realtime", labs(tv.tv_sec - r.tv_sec) <= 2, "gettimeofday %ld realtime %ld", (long)tv.tv_sec, (long)r.tv_sec);
    CHECK_OK("clock_gettime_boottime", clock_gettime(CLOCK_BOOTTIME, &a));
    CHECK_OK("clock_gettime_process_cputime", clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a));
    CHECK_ERR("clock_gettime_bad_clock_einval", syscall(SYS_clock_gettime, 12345, &a), EINVAL);
    CHECK_ERR("clock_gettime_bad_pointer_efault", syscall(SYS_clock_gettime, CLOCK_MONOTONIC, BAD(1)), EFAULT);

    struct timespec req = {0, 50 * 1000 * 1000};
    clock_gettime(CLOCK_MONOTONIC, &a);
    int rc = nanosleep(&req, NULL);
    clock_gettime(CLOCK_MONOTONIC, &b);
    CHECKF("nanosleep_50ms_at_least", rc == 0 && ns_between(a, b) >= 50 * 1000 * 1000, "rc %d slept %ld ns", rc, ns_between(a, b));
    CHECKF("nanosleep_50ms_not_forever", ns_between(a, b) < 5000L * 1000 * 1000, "slept %ld ns", ns_between(a, b));
    CHECK_ERR("nanosleep_bad_nsec_einval", nanosleep(&(struct timespec){0, 1000000000}, NULL), EINVAL);
    CHECK_ERR("nanosleep_negative_einval", nanosleep(&(struct timespec){-1, 0}, NULL), EINVAL);
    CHECK_ERR("nanosleep_bad_pointer_efault", syscall(SYS_nanosleep, BAD(1), NULL), EFAULT);
    clock_gettime(CLOCK_MONOTONIC, &a);
    struct timespec until = {a.tv_sec, a.tv_nsec + 20 * 1000 * 1000};
    if (until.tv_nsec >= 1000000000) until.tv_sec++, until.tv_nsec -= 1000000000;
    rc = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL);
    clock_gettime(CLOCK_MONOTONIC, &b);
    CHECKF("clock_nanosleep_abstime", rc == 0 && ns_between(until, b) >= 0, "rc %d woke %ld ns early", rc, -ns_between(until, b));

    unsigned char r1[64], r2[64];
    memset(r1, 0, sizeof r1), memset(r2, 0, sizeof r2);
    CHECKF("getrandom", getrandom(r1, sizeof r1, 0) == sizeof r1, "errno %d", errno);
    getrandom(r2, sizeof r2, 0);
    int zeros = 0;
    for (int i = 0; i < 64; i++) zeros += r1[i] == 0;
    CHECKF("getrandom_not_zero", zeros < 16, "%d zero bytes of 64", zeros);
    CHECK("getrandom_differs", memcmp(r1, r2, sizeof r1) != 0);
    CHECK_ERR("getrandom_bad_pointer_efault", syscall(SYS_getrandom, BAD(1), 16, 0), EFAULT);
    CHECK_ERR("getrandom_bad_flags_einval", syscall(SYS_getrandom, r1, 16, 0x1000), EINVAL);

    mode_t old = umask(027);
    CHECKF("umask_returns_previous", umask(old) == 027, "umask");
    struct rlimit rl;
    CHECKF("getrlimit_stack", getrlimit(RLIMIT_STACK, &rl) == 0 && rl.rlim_cur > 0, "errno %d", errno);
    CHECKF("getrlimit_nofile", getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur >= 64, "cur %lu errno %d", (unsigned long)rl.rlim_cur, errno);
    CHECK_OK("sched_yield", sched_yield());
    CHECKF("getuid_matches_geteuid", getuid() == geteuid() && getgid() == getegid(), "uid %d euid %d", getuid(), geteuid());

    CHECK_ERR("unknown_syscall_5000_enosys", syscall(5000), ENOSYS);
    CHECK_ERR("unknown_syscall_1023_enosys", syscall(1023), ENOSYS);
    CHECK_ERR("negative_syscall_enosys", syscall(-1L), ENOSYS);
    return ut_done();
}
