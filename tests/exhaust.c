/* Exhaustion: a program that uses up a resource fails with the right error
 * (or is killed with the right signal), the kernel stays up, and the
 * resource can be used again afterwards.
 *
 * Runs on Linux too, but fills whatever /tmp is: run it there only where
 * /tmp is a tmpfs. */
#include "harness.h"
#include <fcntl.h>
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
    return ut_done();
}
