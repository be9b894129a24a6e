/* Resource limits: getrlimit/setrlimit/prlimit64 and what each enforced
 * limit does (RLIMIT_NOFILE, RLIMIT_AS, RLIMIT_FSIZE, RLIMIT_STACK). Each
 * limit is lowered in a child, so the program keeps its own. */
#include "harness.h"
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>

static int set_soft(int resource, rlim_t cur) {
    struct rlimit r;
    if (getrlimit(resource, &r)) return -1;
    r.rlim_cur = cur;
    return setrlimit(resource, &r);
}

/* Soft RLIMIT_NOFILE 10: descriptors stop at 9. */
static int nofile(void) {
    if (set_soft(RLIMIT_NOFILE, 10)) return 10;
    int last = -1, fd;
    while ((fd = open("/dev/null", O_RDONLY)) >= 0) last = fd;
    if (errno != EMFILE || last != 9) return 11;
    if (dup2(0, 10) != -1 || errno != EBADF) return 12;
    if (fcntl(0, F_DUPFD, 10) != -1 || errno != EINVAL) return 13;
    close(5);
    if (fcntl(0, F_DUPFD, 3) != 5) return 14;
    return 0;
}

/* RLIMIT_AS 64 MiB above what is mapped: a 128 MiB mapping is ENOMEM, a
 * 1 MiB one works. */
static int address_space(void) {
    if (set_soft(RLIMIT_AS, 64 << 20)) return 10;
    void *big = mmap(NULL, 128 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (big != MAP_FAILED || errno != ENOMEM) return 11;
    void *small = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return small == MAP_FAILED ? 12 : 0;
}

/* RLIMIT_FSIZE 4096 with SIGXFSZ ignored: a write stops at the limit, the
 * next is EFBIG, and so is growing the file with ftruncate. */
static int fsize_ignored(void) {
    signal(SIGXFSZ, SIG_IGN);
    if (set_soft(RLIMIT_FSIZE, 4096)) return 10;
    int fd = open("/tmp/limits-fsize", O_RDWR | O_CREAT | O_TRUNC, 0600);
    static char data[5000];
    int first = write(fd, data, sizeof data);
    int second = write(fd, data, 1);
    int e = errno;
    int grow = ftruncate(fd, 8192);
    int e2 = errno;
    unlink("/tmp/limits-fsize");
    if (first != 4096) return 11;
    if (second != -1 || e != EFBIG) return 12;
    return grow == -1 && e2 == EFBIG ? 0 : 13;
}

/* The same with SIGXFSZ's default action: the writer dies of it. */
static int fsize_default(void) {
    if (set_soft(RLIMIT_FSIZE, 100)) return 10;
    int fd = open("/tmp/limits-fsize2", O_RDWR | O_CREAT | O_TRUNC, 0600);
    unlink("/tmp/limits-fsize2");
    static char data[200];
    if (write(fd, data, sizeof data) != 100) return 11;
    (void)write(fd, data, 1);
    return 12;
}

/* RLIMIT_STACK 256 KiB, then execve: the new program's stack stops there. */
static char helper[300];
static int stack_after_exec(void) {
    if (set_soft(RLIMIT_STACK, 256 << 10)) return 10;
    execl(helper, "child", "stack", "2048", (char *)NULL);
    return 11;
}
static int small_stack_is_enough(void) {
    if (set_soft(RLIMIT_STACK, 256 << 10)) return 10;
    execl(helper, "child", "stack", "64", (char *)NULL);
    return 11;
}

/* As a user (not root): RLIMIT_NPROC 4 lets it have 4 processes, so 3
 * forks work and the 4th is EAGAIN; a hard limit cannot go back up. */
static int nproc_as_user(void) {
    if (setgid(54321) || setuid(54321)) return 10;
    struct rlimit four = {4, 4};
    if (setrlimit(RLIMIT_NPROC, &four)) return 11;
    pid_t kids[8];
    int made = 0, error = 0;
    while (made < 8) {
        pid_t pid = fork();
        if (pid == 0) {
            pause();
            _exit(0);
        }
        if (pid < 0) {
            error = errno;
            break;
        }
        kids[made++] = pid;
    }
    for (int i = 0; i < made; i++) kill(kids[i], SIGKILL);
    while (wait(NULL) > 0) {
    }
    if (made != 3 || error != EAGAIN) return 12;
    struct rlimit up = {4, 5};
    if (setrlimit(RLIMIT_NPROC, &up) != -1 || errno != EPERM) return 13;
    /* Root's limits are not a user's to read. */
    if (syscall(SYS_prlimit64, 1, RLIMIT_NOFILE, NULL, &up) != -1 || errno != EPERM) return 14;
    return 0;
}

int main(int argc, char **argv) {
    ut_init(argv[0]);
    snprintf(helper, sizeof helper, "%s/helpers/child", ut_dir);
    struct rlimit r;
    CHECK_OK("getrlimit_nofile", getrlimit(RLIMIT_NOFILE, &r));
    CHECKF("nofile_soft_within_hard", r.rlim_cur <= r.rlim_max && r.rlim_cur >= 64, "cur %lu max %lu",
           (unsigned long)r.rlim_cur, (unsigned long)r.rlim_max);
    struct rlimit bad = {.rlim_cur = 10, .rlim_max = 5};
    CHECK_ERR("setrlimit_soft_above_hard_einval", setrlimit(RLIMIT_NOFILE, &bad), EINVAL);
    CHECK_ERR("getrlimit_bad_resource_einval", syscall(SYS_getrlimit, 99, &r), EINVAL);
    CHECK_ERR("prlimit_no_such_process_esrch", syscall(SYS_prlimit64, 99999, RLIMIT_NOFILE, NULL, &r), ESRCH);
    CHECK_ERR("getrlimit_bad_pointer_efault", syscall(SYS_getrlimit, RLIMIT_NOFILE, BAD(1)), EFAULT);
    CHECK_CHILD("nofile_limits_descriptors", nofile, WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK_CHILD("as_limits_mappings", address_space, WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK_CHILD("fsize_short_write_then_efbig", fsize_ignored, WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK_CHILD("fsize_default_action_kills", fsize_default, WIFSIGNALED(status) && WTERMSIG(status) == SIGXFSZ);
    CHECK_CHILD("stack_limit_follows_exec", stack_after_exec, WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV);
    CHECK_CHILD("stack_within_limit_works", small_stack_is_enough, WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK_CHILD("nproc_limits_a_user", nproc_as_user, WIFEXITED(status) && WEXITSTATUS(status) == 0);

    /* A child's limit, read and set by its parent with prlimit64. */
    int ready[2], go[2];
    pipe(ready);
    pipe(go);
    pid_t pid = fork();
    if (pid == 0) {
        set_soft(RLIMIT_NOFILE, 33);
        char c = 0;
        write(ready[1], &c, 1);
        read(go[0], &c, 1);
        getrlimit(RLIMIT_NOFILE, &r);
        _exit(r.rlim_cur == 44 ? 0 : 1);
    }
    char c;
    read(ready[0], &c, 1);
    struct rlimit seen = {0}, next;
    CHECK_OK("prlimit_reads_another_process", syscall(SYS_prlimit64, pid, RLIMIT_NOFILE, NULL, &seen));
    CHECKF("prlimit_sees_childs_limit", seen.rlim_cur == 33, "cur %lu", (unsigned long)seen.rlim_cur);
    next = seen;
    next.rlim_cur = 44;
    CHECK_OK("prlimit_sets_another_process", syscall(SYS_prlimit64, pid, RLIMIT_NOFILE, &next, NULL));
    write(go[1], &c, 1);
    int status;
    waitpid(pid, &status, 0);
    CHECKF("child_sees_limit_set_by_parent", WIFEXITED(status) && WEXITSTATUS(status) == 0, "child %s", ut_status(status));

    pid = fork();
    if (pid == 0) _exit(getrlimit(RLIMIT_NOFILE, &next) == 0 && next.rlim_cur == r.rlim_cur ? 0 : 1);
    waitpid(pid, &status, 0);
    CHECKF("fork_inherits_limits", WIFEXITED(status) && WEXITSTATUS(status) == 0, "child %s", ut_status(status));
    return ut_done();
}
