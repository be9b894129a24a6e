/* Paths and directories: stat/fstat/lstat/fstatat, getdents64 (readdir),
 * mkdir/rmdir/unlink/rename/symlink/readlink/link, chdir/getcwd/fchdir,
 * access, and their errors (ENOENT, ENOTDIR, EEXIST, EISDIR, ENOTEMPTY,
 * EINVAL, EFAULT, ERANGE, ENAMETOOLONG). */
#include "harness.h"
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

static char dir[128];

static void put(const char *name, const char *text) {
    int fd = open(name, O_CREAT | O_WRONLY | O_TRUNC, 0644);
    if (fd >= 0) {
        if (write(fd, text, strlen(text)) < 0) {}
        close(fd);
    }
}

static int readfile(const char *name, char *buf, int size) {
    int fd = open(name, O_RDONLY);
    if (fd < 0) return -1;
    int n = read(fd, buf, size - 1);
    close(fd);
    buf[n > 0 ? n : 0] = 0;
    return n;
}

int main(int argc, char **argv) {
    (void)argc;
    ut_init(argv[0]);
    snprintf(dir, sizeof dir, "/tmp/paths.%d", getpid());
    struct stat st, st2;
    char buf[512];

    CHECK_OK("mkdir", mkdir(dir, 0755));
    CHECK_ERR("mkdir_existing_eexist", mkdir(dir, 0755), EEXIST);
    CHECK_ERR("mkdir_missing_parent_enoent", mkdir("/no-such-dir/sub", 0755), ENOENT);
    CHECK_ERR("mkdir_bad_path_efault", mkdir((char *)16, 0755), EFAULT);
    CHECK_OK("chdir", chdir(dir));
    char *cwd = getcwd(buf, sizeof buf);
    CHECKF("getcwd", cwd && strcmp(buf, dir) == 0, "getcwd '%s'", cwd ? buf : "(null)");
    CHECK_ERR("getcwd_small_erange", syscall(SYS_getcwd, buf, 3), ERANGE);
    CHECK_ERR("getcwd_bad_pointer_efault", syscall(SYS_getcwd, (void *)1, 100), EFAULT);

    put("file", "0123456789");
    CHECKF("stat_file", stat("file", &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 10 && st.st_nlink == 1,
           "mode 0%o size %ld nlink %ld errno %d", st.st_mode, (long)st.st_size, (long)st.st_nlink, errno);
    CHECKF("stat_mode_bits", (st.st_mode & 0777) == (0644 & ~umask(022)), "mode 0%o", st.st_mode);
    CHECKF("stat_dir", stat(dir, &st2) == 0 && S_ISDIR(st2.st_mode), "mode 0%o errno %d", st2.st_mode, errno);
    CHECKF("stat_root", stat("/", &st2) == 0 && S_ISDIR(st2.st_mode), "errno %d", errno);
    int fd = open("file", O_RDONLY);
    CHECKF("fstat_matches_stat", fstat(fd, &st2) == 0 && st2.st_ino == st.st_ino && st2.st_dev == st.st_dev && st2.st_size == 10,
           "ino %lu vs %lu", (unsigned long)st2.st_ino, (unsigned long)st.st_ino);
    close(fd);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    CHECKF("fstatat_dirfd", fstatat(dfd, "file", &st2, 0) == 0 && st2.st_ino == st.st_ino, "errno %d", errno);
    CHECKF("fstatat_empty_path", fstatat(dfd, "", &st2, AT_EMPTY_PATH) == 0 && S_ISDIR(st2.st_mode), "errno %d", errno);
    CHECK_ERR("fstatat_empty_path_without_flag_enoent", syscall(SYS_newfstatat, dfd, "", &st2, 0), ENOENT);
    CHECK_ERR("fstatat_bad_dirfd_ebadf", fstatat(999, "file", &st2, 0), EBADF);
    CHECK_ERR("stat_bad_buffer_efault", syscall(SYS_stat, "/", (void *)1), EFAULT);
    CHECK_ERR("stat_bad_path_efault", syscall(SYS_stat, (void *)1, &st), EFAULT);
    CHECK_ERR("stat_missing_enoent", stat("missing", &st2), ENOENT);
    CHECK_ERR("stat_empty_enoent", stat("", &st2), ENOENT);
    CHECK_ERR("stat_through_file_enotdir", stat("file/x", &st2), ENOTDIR);
    CHECK_ERR("stat_file_trailing_slash_enotdir", stat("file/", &st2), ENOTDIR);
    memset(buf, 'a', 300);
    buf[300] = 0;
    CHECK_ERR("stat_long_name_enametoolong", stat(buf, &st2), ENAMETOOLONG);
    CHECK_OK("access_f_ok", access("file", F_OK));
    CHECK_ERR("access_missing_enoent", access("missing", F_OK), ENOENT);

    /* symlink / readlink / lstat */
    CHECK_OK("symlink", symlink("file", "link"));
    CHECK_ERR("symlink_existing_eexist", symlink("file", "link"), EEXIST);
    ssize_t n = readlink("link", buf, sizeof buf);
    CHECKF("readlink", n == 4 && memcmp(buf, "file", 4) == 0, "readlink %zd", n);
    n = readlink("link", buf, 2);
    CHECKF("readlink_truncates", n == 2 && memcmp(buf, "fi", 2) == 0, "readlink %zd", n);
    CHECK_ERR("readlink_not_link_einval", readlink("file", buf, sizeof buf), EINVAL);
    CHECK_ERR("readlink_missing_enoent", readlink("missing", buf, sizeof buf), ENOENT);
    CHECK_ERR("readlink_bad_buffer_efault", readlink("link", (void *)1, 100), EFAULT);
    CHECKF("lstat_symlink", lstat("link", &st2) == 0 && S_ISLNK(st2.st_mode) && st2.st_size == 4, "mode 0%o size %ld", st2.st_mode, (long)st2.st_size);
    CHECKF("stat_follows_symlink", stat("link", &st2) == 0 && S_ISREG(st2.st_mode) && st2.st_ino == st.st_ino, "mode 0%o", st2.st_mode);
    CHECKF("fstatat_nofollow", fstatat(dfd, "link", &st2, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st2.st_mode), "mode 0%o", st2.st_mode);
    CHECKF("open_through_symlink", readfile("link", buf, sizeof buf) == 10 && strcmp(buf, "0123456789") == 0, "read '%s'", buf);
    symlink("missing", "dangling");
    CHECK_ERR("open_dangling_symlink_enoent", open("dangling", O_RDONLY), ENOENT);
    CHECK_ERR("open_nofollow_eloop", open("link", O_RDONLY | O_NOFOLLOW), ELOOP);
    symlink("loop", "loop");
    CHECK_ERR("symlink_loop_eloop", open("loop", O_RDONLY), ELOOP);
    symlink(dir, "dirlink");
    CHECKF("path_through_dir_symlink", stat("dirlink/file", &st2) == 0 && st2.st_ino == st.st_ino, "errno %d", errno);

    /* link */
    CHECK_OK("link", link("file", "hard"));
    CHECKF("link_same_inode_nlink2", stat("hard", &st2) == 0 && st2.st_ino == st.st_ino && st2.st_nlink == 2, "ino %lu nlink %ld",
           (unsigned long)st2.st_ino, (long)st2.st_nlink);
    put("hard", "new");
    CHECKF("link_shares_data", readfile("file", buf, sizeof buf) == 3 && strcmp(buf, "new") == 0, "file holds '%s'", buf);
    CHECK_ERR("link_existing_eexist", link("file", "hard"), EEXIST);
    CHECK_ERR("link_dir_eperm", link(dir, "dirhard"), EPERM);
    CHECK_ERR("link_missing_enoent", link("missing", "x"), ENOENT);
    CHECK_OK("unlink", unlink("hard"));
    CHECKF("unlink_drops_nlink", stat("file", &st2) == 0 && st2.st_nlink == 1, "nlink %ld", (long)st2.st_nlink);
    CHECK_ERR("unlink_missing_enoent", unlink("hard"), ENOENT);
    CHECK_ERR("unlink_dir_eisdir", unlink(dir), EISDIR);

    /* rename */
    CHECK_OK("rename", rename("file", "file2"));
    CHECKF("rename_old_gone", stat("file", &st2) == -1 && errno == ENOENT, "errno %d", errno);
    CHECKF("rename_new_same_inode", stat("file2", &st2) == 0 && st2.st_ino == st.st_ino, "errno %d", errno);
    put("other", "other");
    CHECK_OK("rename_replaces_file", rename("other", "file2"));
    CHECKF("rename_replaced_content", readfile("file2", buf, sizeof buf) == 5 && strcmp(buf, "other") == 0, "holds '%s'", buf);
    CHECK_ERR("rename_missing_enoent", rename("missing", "x"), ENOENT);
    mkdir("sub", 0755);
    mkdir("sub/inner", 0755);
    CHECK_ERR("rename_into_own_subdir_einval", rename("sub", "sub/inner/x"), EINVAL);
    CHECK_ERR("rename_dir_over_file_enotdir", rename("sub", "file2"), ENOTDIR);
    CHECK_ERR("rename_file_over_dir_eisdir", rename("file2", "sub"), EISDIR);
    CHECK_OK("rename_dir", rename("sub", "sub2"));
    CHECKF("rename_dir_moves_children", stat("sub2/inner", &st2) == 0 && S_ISDIR(st2.st_mode), "errno %d", errno);

    /* rmdir */
    CHECK_ERR("rmdir_not_empty_enotempty", rmdir("sub2"), ENOTEMPTY);
    CHECK_ERR("rmdir_file_enotdir", rmdir("file2"), ENOTDIR);
    CHECK_ERR("rmdir_missing_enoent", rmdir("missing"), ENOENT);
    CHECK_OK("rmdir", rmdir("sub2/inner"));
    CHECK_ERR("rmdir_gone_enoent", stat("sub2/inner", &st2), ENOENT);

    /* readdir (getdents64) */
    mkdir("list", 0755);
    put("list/a", "");
    put("list/bb", "");
    mkdir("list/c", 0755);
    DIR *d = opendir("list");
    int seen = 0, others = 0, dtype_ok = 1;
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".")) seen |= 1;
        else if (!strcmp(e->d_name, "..")) seen |= 2;
        else if (!strcmp(e->d_name, "a")) seen |= 4, dtype_ok &= e->d_type == DT_REG || e->d_type == DT_UNKNOWN;
        else if (!strcmp(e->d_name, "bb")) seen |= 8;
        else if (!strcmp(e->d_name, "c")) seen |= 16, dtype_ok &= e->d_type == DT_DIR || e->d_type == DT_UNKNOWN;
        else others++;
    }
    CHECKF("readdir_lists_entries", d && seen == 31 && others == 0, "seen mask %d, %d unexpected", seen, others);
    CHECK("readdir_d_type", dtype_ok);
    if (d) closedir(d);
    fd = open("list", O_RDONLY | O_DIRECTORY);
    char dbuf[64];
    long total = 0, r;
    while ((r = syscall(SYS_getdents64, fd, dbuf, sizeof dbuf)) > 0) total += r;
    CHECKF("getdents64_small_buffer_pages", r == 0 && total > 0, "last %ld total %ld errno %d", r, total, errno);
    CHECK_ERR("getdents64_tiny_buffer_einval", (lseek(fd, 0, SEEK_SET), syscall(SYS_getdents64, fd, dbuf, 4)), EINVAL);
    CHECK_ERR("getdents64_bad_buffer_efault", (lseek(fd, 0, SEEK_SET), syscall(SYS_getdents64, fd, (void *)1, 4096)), EFAULT);
    close(fd);
    fd = open("file2", O_RDONLY);
    CHECK_ERR("getdents64_on_file_enotdir", syscall(SYS_getdents64, fd, dbuf, sizeof dbuf), ENOTDIR);
    close(fd);
    CHECK_ERR("getdents64_bad_fd_ebadf", syscall(SYS_getdents64, 999, dbuf, sizeof dbuf), EBADF);

    /* chdir / fchdir / getcwd */
    CHECK_OK("chdir_relative", chdir("list/c"));
    cwd = getcwd(buf, sizeof buf);
    CHECKF("getcwd_after_relative_chdir", cwd && !strcmp(buf + strlen(dir), "/list/c") && !strncmp(buf, dir, strlen(dir)), "'%s'", buf);
    CHECK_OK("chdir_dotdot", chdir("../.."));
    cwd = getcwd(buf, sizeof buf);
    CHECKF("getcwd_after_dotdot", cwd && !strcmp(buf, dir), "'%s'", buf);
    CHECK_ERR("chdir_file_enotdir", chdir("file2"), ENOTDIR);
    CHECK_ERR("chdir_missing_enoent", chdir("missing"), ENOENT);
    CHECK_OK("chdir_root", chdir("/"));
    CHECK_OK("fchdir", fchdir(dfd));
    cwd = getcwd(buf, sizeof buf);
    CHECKF("getcwd_after_fchdir", cwd && !strcmp(buf, dir), "'%s'", buf);
    fd = open("file2", O_RDONLY);
    CHECK_ERR("fchdir_file_enotdir", fchdir(fd), ENOTDIR);
    CHECK_ERR("fchdir_bad_fd_ebadf", fchdir(999), EBADF);
    close(fd);

    /* An unlinked file lives on while open. */
    put("tmpfile", "still here");
    fd = open("tmpfile", O_RDONLY);
    unlink("tmpfile");
    n = read(fd, buf, sizeof buf);
    CHECKF("unlinked_open_file_readable", n == 10 && !memcmp(buf, "still here", 10), "read %zd", n);
    CHECKF("unlinked_file_nlink0", fstat(fd, &st2) == 0 && st2.st_nlink == 0, "nlink %ld", (long)st2.st_nlink);
    close(fd);

    /* mkdirat / unlinkat / renameat / symlinkat / readlinkat / linkat */
    CHECK_OK("mkdirat", mkdirat(dfd, "at", 0755));
    CHECK_OK("symlinkat", symlinkat("target", dfd, "at/l"));
    n = readlinkat(dfd, "at/l", buf, sizeof buf);
    CHECKF("readlinkat", n == 6 && !memcmp(buf, "target", 6), "readlinkat %zd", n);
    CHECK_OK("linkat", linkat(dfd, "file2", dfd, "at/h", 0));
    CHECK_OK("renameat", renameat(dfd, "at/h", dfd, "at/h2"));
    CHECK_OK("unlinkat", unlinkat(dfd, "at/h2", 0));
    CHECK_OK("unlinkat_symlink", unlinkat(dfd, "at/l", 0));
    CHECK_ERR("unlinkat_dir_without_flag_eisdir", unlinkat(dfd, "at", 0), EISDIR);
    CHECK_OK("unlinkat_removedir", unlinkat(dfd, "at", AT_REMOVEDIR));
    CHECK_ERR("unlinkat_removedir_on_file_enotdir", unlinkat(dfd, "file2", AT_REMOVEDIR), ENOTDIR);
    CHECK_ERR("unlinkat_bad_flags_einval", unlinkat(dfd, "file2", 0x1234), EINVAL);
    close(dfd);

    /* Clean up with the shell's help is not available; do it by hand. */
    unlink("list/a"), unlink("list/bb"), rmdir("list/c"), rmdir("list");
    unlink("file2"), unlink("link"), unlink("dangling"), unlink("loop"), unlink("dirlink"), rmdir("sub2");
    chdir("/");
    CHECK_OK("rmdir_emptied_test_dir", rmdir(dir));
    /* /proc/self names the calling process, in a child too. */
    char self[32], want[32];
    n = readlink("/proc/self", self, sizeof self - 1);
    self[n > 0 ? n : 0] = 0;
    snprintf(want, sizeof want, "%d", (int)getpid());
    CHECKF("proc_self_is_the_caller", n > 0 && !strcmp(self, want), "readlink gave \"%s\", pid %s", self, want);
    pid_t kid = fork();
    if (kid == 0) {
        char mine[32];
        ssize_t len = readlink("/proc/self", mine, sizeof mine - 1);
        mine[len > 0 ? len : 0] = 0;
        _exit(len > 0 && atoi(mine) == getpid() ? 0 : 1);
    }
    int status = 0;
    waitpid(kid, &status, 0);
    CHECKF("proc_self_in_a_child", WIFEXITED(status) && WEXITSTATUS(status) == 0, "child %s", ut_status(status));
    return ut_done();
}
