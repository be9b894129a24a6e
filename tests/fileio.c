/* Files and descriptors: read/write/readv/writev/pread/pwrite/lseek,
 * open/openat/close flags, dup/dup2/dup3/fcntl, ioctl, /dev/null, /dev/zero,
 * and their error paths (EBADF, EFAULT, ENOENT, ENOTDIR, EEXIST, EISDIR, EINVAL). */
#include "harness.h"
#include <fcntl.h>
#include <signal.h>
#include <time.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <termios.h>

static char dir[128], path[160];

/* Writes from a parent and a child sharing one open file description each
 * take the offset for the whole write (POSIX: regular-file writes are
 * atomic with respect to the offset): the file ends up as whole blocks of
 * one writer each. (Hardtack keeps this for writes of up to 64 KiB, see
 * docs/fs.md.) */
#define BIG_WRITE (64 << 10)
#define BIG_WRITES 8
static void shared_offset_transfers(void) {
    static char block[BIG_WRITE];
    int fd = CHECK_OK("big_open", open(path, O_CREAT | O_RDWR | O_TRUNC, 0644));
    pid_t child = fork();
    if (child == 0) {
        memset(block, 'c', sizeof block);
        for (int i = 0; i < BIG_WRITES; i++)
            if (write(fd, block, sizeof block) != (ssize_t)sizeof block) _exit(1);
        _exit(0);
    }
    memset(block, 'p', sizeof block);
    int wrote = 1;
    for (int i = 0; i < BIG_WRITES; i++) wrote &= write(fd, block, sizeof block) == (ssize_t)sizeof block;
    int status = 0;
    waitpid(child, &status, 0);
    CHECKF("big_writes_complete", wrote && WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %#x errno %d", status, errno);
    struct stat st;
    CHECKF("big_writes_do_not_overlap", fstat(fd, &st) == 0 && st.st_size == 2L * BIG_WRITES * BIG_WRITE,
           "size %ld, want %ld", (long)st.st_size, 2L * BIG_WRITES * BIG_WRITE);
    int whole = 1, blocks = 0;
    for (off_t at = 0; at + BIG_WRITE <= st.st_size; at += BIG_WRITE, blocks++) {
        if (pread(fd, block, BIG_WRITE, at) != BIG_WRITE) whole = 0;
        for (size_t i = 1; i < BIG_WRITE; i++) whole &= block[i] == block[0];
    }
    CHECKF("big_writes_are_whole_blocks", whole && blocks == 2 * BIG_WRITES, "%d blocks, whole %d", blocks, whole);
    close(fd);
}

int main(int argc, char **argv) {
    (void)argc;
    ut_init(argv[0]);
    snprintf(dir, sizeof dir, "/tmp/fileio.%d", getpid());
    mkdir(dir, 0755);
    snprintf(path, sizeof path, "%s/f", dir);
    char buf[256];

    /* open / write / read / lseek */
    int fd = CHECK_OK("open_creat", open(path, O_CREAT | O_RDWR | O_TRUNC, 0644));
    CHECKF("write_returns_count", write(fd, "hello world", 11) == 11, "errno %d", errno);
    CHECKF("lseek_set", lseek(fd, 0, SEEK_SET) == 0, "errno %d", errno);
    memset(buf, 0, sizeof buf);
    ssize_t n = read(fd, buf, sizeof buf);
    CHECKF("read_back", n == 11 && memcmp(buf, "hello world", 11) == 0, "read %zd '%.*s' errno %d", n, (int)(n > 0 ? n : 0), buf, errno);
    CHECKF("read_at_eof_is_0", read(fd, buf, sizeof buf) == 0, "errno %d", errno);
    CHECKF("read_count_0", read(fd, buf, 0) == 0, "errno %d", errno);
    CHECKF("lseek_end", lseek(fd, 0, SEEK_END) == 11, "errno %d", errno);
    CHECKF("lseek_cur", lseek(fd, -5, SEEK_CUR) == 6, "errno %d", errno);
    n = read(fd, buf, 5);
    CHECKF("read_after_lseek_cur", n == 5 && memcmp(buf, "world", 5) == 0, "read %zd", n);
    CHECK_ERR("lseek_negative_einval", lseek(fd, -100, SEEK_SET), EINVAL);
    CHECK_ERR("lseek_bad_whence_einval", lseek(fd, 0, 99), EINVAL);

    /* A hole past the end reads back as zeros. */
    CHECKF("lseek_past_end", lseek(fd, 100, SEEK_SET) == 100, "errno %d", errno);
    CHECKF("write_past_end", write(fd, "!", 1) == 1, "errno %d", errno);
    struct stat st;
    CHECKF("fstat_size_after_hole", fstat(fd, &st) == 0 && st.st_size == 101, "size %ld errno %d", (long)st.st_size, errno);
    memset(buf, 0xff, sizeof buf);
    n = pread(fd, buf, 10, 50);
    int zeros = n == 10;
    for (int i = 0; i < 10; i++) zeros &= buf[i] == 0;
    CHECKF("hole_reads_zeros", zeros, "pread %zd, first byte %d", n, buf[0]);

    /* pread / pwrite do not move the offset. */
    lseek(fd, 3, SEEK_SET);
    CHECKF("pwrite", pwrite(fd, "HE", 2, 0) == 2, "errno %d", errno);
    n = pread(fd, buf, 5, 0);
    CHECKF("pread", n == 5 && memcmp(buf, "HEllo", 5) == 0, "pread %zd '%.5s'", n, buf);
    CHECKF("pread_pwrite_keep_offset", lseek(fd, 0, SEEK_CUR) == 3, "offset %ld", (long)lseek(fd, 0, SEEK_CUR));
    CHECKF("pread_past_eof_is_0", pread(fd, buf, 5, 1000) == 0, "errno %d", errno);
    CHECK_ERR("pread_negative_offset_einval", syscall(SYS_pread64, fd, buf, 5, -1L), EINVAL);

    /* readv / writev */
    CHECK_OK("ftruncate_0", ftruncate(fd, 0));
    lseek(fd, 0, SEEK_SET);
    struct iovec wv[3] = {{"abc", 3}, {"", 0}, {"defgh", 5}};
    CHECKF("writev", writev(fd, wv, 3) == 8, "errno %d", errno);
    lseek(fd, 0, SEEK_SET);
    char a[2], b[10];
    struct iovec rv[2] = {{a, 2}, {b, 10}};
    n = readv(fd, rv, 2);
    CHECKF("readv_scatters", n == 8 && memcmp(a, "ab", 2) == 0 && memcmp(b, "cdefgh", 6) == 0, "readv %zd", n);
    CHECK_ERR("readv_bad_iov_efault", readv(fd, (void *)1, 2), EFAULT);
    CHECK_ERR("writev_negative_count_einval", writev(fd, wv, -1), EINVAL);
    CHECK_OK("ftruncate_grow", ftruncate(fd, 4096));
    CHECKF("ftruncate_size", fstat(fd, &st) == 0 && st.st_size == 4096, "size %ld", (long)st.st_size);

    /* EFAULT */
    lseek(fd, 0, SEEK_SET);
    CHECK_ERR("read_bad_buffer_efault", read(fd, (void *)1, 10), EFAULT);
    CHECK_ERR("read_kernel_buffer_efault", read(fd, (void *)0xffff800000000000UL, 10), EFAULT);
    CHECK_ERR("write_bad_buffer_efault", write(fd, (void *)0xdead0000, 4), EFAULT);
    CHECK_ERR("write_console_bad_buffer_efault", write(1, (void *)0xdead0000, 4), EFAULT);
    CHECK_ERR("open_bad_path_efault", open((char *)1, O_RDONLY), EFAULT);
    CHECK_ERR("open_kernel_path_efault", syscall(SYS_open, 0xffffffff81000000UL, O_RDONLY), EFAULT);
    close(fd);

    /* EBADF */
    CHECK_ERR("read_fd_minus1_ebadf", read(-1, buf, 1), EBADF);
    CHECK_ERR("write_fd_999_ebadf", write(999, buf, 1), EBADF);
    CHECK_ERR("close_999_ebadf", close(999), EBADF);
    CHECK_ERR("close_twice_ebadf", close(fd), EBADF);
    CHECK_ERR("lseek_bad_fd_ebadf", lseek(999, 0, SEEK_SET), EBADF);
    CHECK_ERR("fstat_bad_fd_ebadf", fstat(-5, &st), EBADF);
    fd = open(path, O_RDONLY);
    CHECK_ERR("write_readonly_fd_ebadf", write(fd, "x", 1), EBADF);
    close(fd);
    fd = open(path, O_WRONLY);
    CHECK_ERR("read_writeonly_fd_ebadf", read(fd, buf, 1), EBADF);
    close(fd);

    /* open flags */
    CHECK_ERR("open_excl_existing_eexist", open(path, O_CREAT | O_EXCL | O_WRONLY, 0644), EEXIST);
    fd = open(path, O_WRONLY | O_TRUNC);
    CHECKF("open_trunc", fd >= 0 && fstat(fd, &st) == 0 && st.st_size == 0, "fd %d size %ld", fd, (long)st.st_size);
    write(fd, "12345", 5);
    close(fd);
    fd = open(path, O_WRONLY | O_APPEND);
    lseek(fd, 0, SEEK_SET);
    write(fd, "678", 3);
    CHECKF("append_offset_at_end", lseek(fd, 0, SEEK_CUR) == 8, "offset %ld", (long)lseek(fd, 0, SEEK_CUR));
    close(fd);
    fd = open(path, O_RDONLY);
    n = read(fd, buf, sizeof buf);
    CHECKF("append_writes_at_end", n == 8 && memcmp(buf, "12345678", 8) == 0, "read %zd '%.*s'", n, (int)(n > 0 ? n : 0), buf);
    close(fd);
    CHECK_ERR("open_directory_flag_on_file_enotdir", open(path, O_RDONLY | O_DIRECTORY), ENOTDIR);
    fd = CHECK_OK("open_directory_flag_on_dir", open("/", O_RDONLY | O_DIRECTORY));
    close(fd);
    CHECK_ERR("open_dir_for_write_eisdir", open(dir, O_WRONLY), EISDIR);
    CHECK_ERR("open_creat_on_dir_eisdir", open(dir, O_CREAT | O_WRONLY, 0644), EISDIR);
    CHECK_ERR("open_missing_enoent", open("/no/such/file", O_RDONLY), ENOENT);
    CHECK_ERR("open_creat_missing_parent_enoent", open("/no-such-dir/x", O_CREAT | O_WRONLY, 0644), ENOENT);
    snprintf(buf, sizeof buf, "%s/x", path);
    CHECK_ERR("open_through_file_enotdir", open(buf, O_RDONLY), ENOTDIR);
    CHECK_ERR("open_empty_path_enoent", open("", O_RDONLY), ENOENT);

    /* openat */
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    fd = CHECK_OK("openat_dirfd", openat(dfd, "f", O_RDONLY));
    n = read(fd, buf, 3);
    CHECKF("openat_dirfd_reads_file", n == 3 && memcmp(buf, "123", 3) == 0, "read %zd", n);
    close(fd);
    int ffd = open(path, O_RDONLY);
    CHECK_ERR("openat_file_dirfd_enotdir", openat(ffd, "x", O_RDONLY), ENOTDIR);
    CHECK_ERR("openat_bad_dirfd_ebadf", openat(999, "x", O_RDONLY), EBADF);
    fd = CHECK_OK("openat_absolute_ignores_dirfd", openat(999, path, O_RDONLY));
    close(fd);
    close(ffd);

    /* dup / dup2 / dup3 / fcntl */
    fd = open(path, O_RDWR);
    int d = dup(fd);
    CHECKF("dup_new_fd", d >= 0 && d != fd, "dup %d errno %d", d, errno);
    lseek(fd, 2, SEEK_SET);
    CHECKF("dup_shares_offset", lseek(d, 0, SEEK_CUR) == 2, "offset %ld", (long)lseek(d, 0, SEEK_CUR));
    close(d);
    int lowest = dup(fd);
    CHECKF("dup_lowest_free", lowest == d, "got %d want %d", lowest, d);
    close(lowest);
    CHECKF("dup2_same_fd", dup2(fd, fd) == fd, "errno %d", errno);
    CHECKF("dup2_to_100", dup2(fd, 100) == 100 && lseek(100, 0, SEEK_CUR) == 2, "errno %d", errno);
    CHECKF("dup2_replaces_open_fd", dup2(0, 100) == 100 && lseek(100, 0, SEEK_CUR) != 2, "errno %d", errno);
    close(100);
    CHECK_ERR("dup_bad_fd_ebadf", dup(999), EBADF);
    CHECK_ERR("dup2_bad_old_ebadf", dup2(999, 50), EBADF);
    CHECK_ERR("dup2_bad_new_ebadf", dup2(fd, -1), EBADF);
    CHECK_ERR("dup3_same_fd_einval", syscall(SYS_dup3, fd, fd, 0), EINVAL);
    CHECK_ERR("dup3_bad_flags_einval", syscall(SYS_dup3, fd, 60, 0x1234), EINVAL);
    CHECKF("dup3_cloexec", dup3(fd, 60, O_CLOEXEC) == 60 && fcntl(60, F_GETFD) == FD_CLOEXEC, "getfd %d errno %d", fcntl(60, F_GETFD), errno);
    close(60);
    CHECKF("fcntl_getfd_default_0", fcntl(fd, F_GETFD) == 0, "got %d", fcntl(fd, F_GETFD));
    CHECKF("fcntl_setfd", fcntl(fd, F_SETFD, FD_CLOEXEC) == 0 && fcntl(fd, F_GETFD) == FD_CLOEXEC, "errno %d", errno);
    d = dup(fd);
    CHECKF("dup_clears_cloexec", fcntl(d, F_GETFD) == 0, "got %d", fcntl(d, F_GETFD));
    close(d);
    int fl = fcntl(fd, F_GETFL);
    CHECKF("fcntl_getfl_rdwr", fl >= 0 && (fl & O_ACCMODE) == O_RDWR && !(fl & O_APPEND), "flags 0x%x", fl);
    CHECKF("fcntl_setfl_append", fcntl(fd, F_SETFL, fl | O_APPEND) == 0 && (fcntl(fd, F_GETFL) & O_APPEND), "flags 0x%x", fcntl(fd, F_GETFL));
    CHECKF("fcntl_setfl_keeps_access_mode", (fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDWR, "flags 0x%x", fcntl(fd, F_GETFL));
    d = fcntl(fd, F_DUPFD, 50);
    CHECKF("fcntl_dupfd_min", d >= 50 && fcntl(d, F_GETFD) == 0, "got %d", d);
    int d2 = fcntl(fd, F_DUPFD, 50);
    CHECKF("fcntl_dupfd_next", d2 > 50 && d2 != d, "got %d after %d", d2, d);
    close(d), close(d2);
    d = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    CHECKF("fcntl_dupfd_cloexec", d >= 0 && fcntl(d, F_GETFD) == FD_CLOEXEC, "got %d", d);
    close(d);
    CHECK_ERR("fcntl_bad_fd_ebadf", fcntl(999, F_GETFD), EBADF);
    CHECK_ERR("fcntl_bad_cmd_einval", fcntl(fd, 9999), EINVAL);
    CHECK_ERR("ioctl_tcgets_on_file_enotty", ioctl(fd, TCGETS, &(struct termios){0}), ENOTTY);
    CHECK_ERR("ioctl_bad_fd_ebadf", ioctl(999, TCGETS, &(struct termios){0}), EBADF);
    close(fd);

    /* The console. */
    int con = CHECK_OK("open_dev_console", open("/dev/console", O_RDWR | O_NOCTTY));
    struct termios t;
    CHECK_OK("ioctl_tcgets_console", ioctl(con, TCGETS, &t));
    struct winsize ws = {0};
    CHECK_OK("ioctl_tiocgwinsz_console", ioctl(con, TIOCGWINSZ, &ws));
    CHECK_ERR("ioctl_tcgets_bad_pointer_efault", ioctl(con, TCGETS, (void *)8), EFAULT);
    /* Into memory the process has but has not touched yet (a fresh page of
     * the break): the kernel makes it present, as for read(2). */
    unsigned long brk = syscall(SYS_brk, 0);
    syscall(SYS_brk, brk + 3 * 4096);
    struct termios *fresh = (struct termios *)((brk + 4095) & ~4095UL);
    CHECK_OK("ioctl_tcgets_into_untouched_brk_page", ioctl(con, TCGETS, fresh));
    CHECK("isatty_console", isatty(con));
    CHECKF("console_stat_is_chr", fstat(con, &st) == 0 && S_ISCHR(st.st_mode), "mode 0%o", st.st_mode);
    close(con);

    /* /dev/null and /dev/zero */
    fd = CHECK_OK("open_dev_null", open("/dev/null", O_RDWR));
    CHECKF("dev_null_write_count", write(fd, buf, 100) == 100, "errno %d", errno);
    CHECKF("dev_null_read_eof", read(fd, buf, 100) == 0, "errno %d", errno);
    close(fd);
    fd = CHECK_OK("open_dev_zero", open("/dev/zero", O_RDONLY));
    memset(buf, 0x5a, sizeof buf);
    n = read(fd, buf, sizeof buf);
    zeros = n == (ssize_t)sizeof buf;
    for (size_t i = 0; i < sizeof buf; i++) zeros &= buf[i] == 0;
    CHECKF("dev_zero_reads_zeros", zeros, "read %zd", n);
    close(fd);

    shared_offset_transfers();

    /* A sendfile that would run for ages (2^47 bytes from /dev/zero) ends
     * when its process is killed. */
    pid_t copier = fork();
    if (copier == 0) {
        int zero = open("/dev/zero", O_RDONLY), null = open("/dev/null", O_WRONLY);
        syscall(SYS_sendfile, null, zero, NULL, 1L << 47);
        _exit(0);
    }
    struct timespec moment = {0, 200 * 1000 * 1000};
    nanosleep(&moment, NULL);
    kill(copier, SIGKILL);
    int copier_status = 0;
    waitpid(copier, &copier_status, 0);
    CHECKF("endless_sendfile_ends_with_sigkill", WIFSIGNALED(copier_status) && WTERMSIG(copier_status) == SIGKILL,
           "status %#x", copier_status);
    unlink(path);
    rmdir(dir);
    return ut_done();
}
