/* Exhaustion: a program that uses up a resource fails with the right error
 * (or is killed with the right signal), the kernel stays up, and the
 * resource can be used again afterwards.
 *
 * Runs on Linux too, but fills whatever /tmp is: run it there only where
 * /tmp is a tmpfs. */
#include "harness.h"
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>

static char chunk[1 << 20];

/* Writes 1 MiB pieces to `path` until a write fails; returns the errno
 * (0 if 64 GiB went in, which no test machine has). */
static int fill(const char *path, long *total) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        return errno;
    *total = 0;
    int error = 0;
    while (*total < (64L << 30)) {
        ssize_t n = write(fd, chunk, sizeof chunk);
        if (n < 0) {
            error = errno;
            break;
        }
        *total += n;
    }
    close(fd);
    return error;
}

/* One process of a fork bomb: forks until a fork fails, then waits for
 * its children. Exits 0 if its first failure was EAGAIN or ENOMEM. */
static int bomb(void) {
    int error = 0;
    for (;;) {
        pid_t pid = fork();
        if (pid == 0)
            continue; /* the child bombs too */
        if (pid < 0) {
            error = errno;
            break;
        }
    }
    while (wait(NULL) > 0) {
    }
    return error == EAGAIN || error == ENOMEM ? 0 : 1;
}

/* Maps and touches 1 MiB at a time until the kernel refuses: exits 0 on
 * an mmap failure; the OOM killer may kill it (SIGKILL) instead. */
static int hog(void) {
    for (;;) {
        char *p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
            return errno == ENOMEM ? 0 : 1;
        for (int i = 0; i < (1 << 20); i += 4096)
            p[i] = 1;
    }
}

/* A 64 GiB MAP_NORESERVE mapping touched page by page. */
static int noreserve(void) {
    char *p = mmap(NULL, 64L << 30, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        return errno == ENOMEM ? 0 : 1;
    for (long i = 0; i < (64L << 30); i += 4096)
        p[i] = 1;
    return 2;
}

static void *idle(void *stop) {
    while (!__atomic_load_n((int *)stop, __ATOMIC_ACQUIRE))
        usleep(1000);
    return NULL;
}

/* Starts threads until 10 000 run or one cannot start: exits 0 if every
 * start succeeded or the failure was EAGAIN, after joining them all. */
static int many_threads(void) {
    static pthread_t threads[10000];
    static int stop;
    int started = 0, error = 0;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 16384);
    while (started < 10000 && !(error = pthread_create(&threads[started], &attr, idle, &stop)))
        started++;
    __atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
    for (int i = 0; i < started; i++)
        pthread_join(threads[i], NULL);
    return error == 0 || error == EAGAIN ? 0 : 1;
}

/* BusyBox sh's fork bomb, `:(){ :|:& };:`, in a session of its own for 3
 * seconds, then SIGKILL to its process group; returns 0 once the group is
 * empty (its orphans are init's to reap) within 30 s. */
static int shell_fork_bomb(void) {
    pid_t leader = fork();
    if (leader == 0) {
        setsid();
        execl("/bin/sh", "sh", "-c", ":(){ :|:& };:", (char *)NULL);
        _exit(127);
    }
    if (leader < 0) return 10;
    sleep(3);
    kill(-leader, SIGKILL);
    waitpid(leader, NULL, 0);
    for (int tries = 0; tries < 300; tries++) {
        if (kill(-leader, 0) == -1 && errno == ESRCH) return 0;
        kill(-leader, SIGKILL);
        usleep(100 * 1000);
    }
    return 11;
}

/* Whether a fresh fork and a file write work (after an exhaustion). */
static int still_works(void) {
    pid_t pid = fork();
    if (pid == 0)
        _exit(9);
    int status, fd = open("/tmp/exhaust-after", O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int ok = pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 9 && fd >= 0 &&
             write(fd, "ok", 2) == 2;
    close(fd);
    unlink("/tmp/exhaust-after");
    return ok;
}

int main(int argc, char **argv) {
    ut_init(argv[0]);
    memset(chunk, 'x', sizeof chunk);

    long total = 0;
    int error = fill("/tmp/exhaust-fill", &total);
    CHECKF("fill_tmp_enospc", error == ENOSPC && total > 0, "errno %d (%s) after %ld bytes", error, strerror(error), total);
    struct stat st;
    CHECKF("full_file_keeps_what_was_written", stat("/tmp/exhaust-fill", &st) == 0 && st.st_size == total,
           "size %ld, wrote %ld", (long)st.st_size, total);
    CHECK_OK("unlink_full_file", unlink("/tmp/exhaust-fill"));
    /* The space is back: the same amount fits again. */
    long again = 0;
    error = fill("/tmp/exhaust-again", &again);
    CHECKF("space_returns_after_unlink", error == ENOSPC && again >= total - (1 << 20), "errno %d after %ld of %ld bytes",
           error, again, total);
    unlink("/tmp/exhaust-again");
    pid_t pid = fork();
    if (pid == 0)
        _exit(0);
    int status;
    CHECKF("fork_after_filling_tmp", pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status),
           "fork %d errno %d", pid, errno);
    /* A sparse file costs nothing: a terabyte hole. */
    int fd = open("/tmp/exhaust-sparse", O_RDWR | O_CREAT | O_TRUNC, 0600);
    CHECK_OK("ftruncate_terabyte_hole", ftruncate(fd, 1L << 40));
    CHECKF("hole_has_no_blocks", fstat(fd, &st) == 0 && st.st_size == 1L << 40 && st.st_blocks == 0,
           "size %ld blocks %ld", (long)st.st_size, (long)st.st_blocks);
    char byte = 1;
    CHECKF("hole_reads_zero", pread(fd, &byte, 1, (1L << 40) - 1) == 1 && byte == 0, "byte %d errno %d", byte, errno);
    CHECK_ERR("ftruncate_negative_einval", ftruncate(fd, -1), EINVAL);
    close(fd);
    unlink("/tmp/exhaust-sparse");

    CHECK_CHILD("fork_bomb_ends_in_eagain", bomb, WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK("fork_and_write_after_fork_bomb", still_works());
    CHECK_CHILD("shell_fork_bomb_ends_with_its_group", shell_fork_bomb, WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK("fork_and_write_after_shell_fork_bomb", still_works());
    CHECK_CHILD("memory_hog_fails_or_is_oom_killed", hog,
                (WIFEXITED(status) && WEXITSTATUS(status) == 0) || (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL));
    CHECK("fork_and_write_after_memory_hog", still_works());
    CHECK_CHILD("noreserve_64gib_touched_is_oom_killed", noreserve,
                (WIFEXITED(status) && WEXITSTATUS(status) == 0) || (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL));
    CHECK("fork_and_write_after_noreserve", still_works());
    CHECK_CHILD("ten_thousand_threads_or_eagain", many_threads, WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK("fork_and_write_after_threads", still_works());
    return ut_done();
}
