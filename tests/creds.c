/* Credentials and permissions: the id calls and their rules, file
 * permission checks for unprivileged users, the sticky bit, chmod/chown,
 * access with real and effective ids, set-user-id executables, signals
 * across users. Runs as root; each unprivileged case drops its ids in a
 * child, which exits with the number of the step that went wrong (0: all
 * fine), so a failure names the step. */
#include "harness.h"

#include <fcntl.h>
#include <grp.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#define USER 1000
#define OTHER 1001
#define GROUP 100
#define DIR "/tmp/creds_t"

static char helper[300];

/* Fails with step n unless cond holds. */
#define STEP(n, cond)         \
    do {                      \
        if (!(cond)) return n; \
    } while (0)

/* Whether getresuid gives r, e, s. */
static int uids_are(uid_t r, uid_t e, uid_t s) {
    uid_t a, b, c;
    return getresuid(&a, &b, &c) == 0 && a == r && b == e && c == s;
}

static int gids_are(gid_t r, gid_t e, gid_t s) {
    gid_t a, b, c;
    return getresgid(&a, &b, &c) == 0 && a == r && b == e && c == s;
}

/* Becomes uid `uid`, group `gid`, no supplementary groups. */
static int become(uid_t uid, gid_t gid) {
    return setgroups(0, NULL) == 0 && setgid(gid) == 0 && setuid(uid) == 0 ? 0 : -1;
}

static mode_t perm_of(const char *path) {
    struct stat st;
    return stat(path, &st) ? (mode_t)-1 : st.st_mode & 07777;
}

static int make_file(const char *path, mode_t mode, uid_t uid, gid_t gid) {
    int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0600);
    if (fd < 0 || close(fd) || chown(path, uid, gid) || chmod(path, mode)) return -1;
    return 0;
}

static int copy_file(const char *from, const char *to) {
    int in = open(from, O_RDONLY), out = open(to, O_CREAT | O_WRONLY | O_TRUNC, 0755);
    char buf[4096];
    long n;
    if (in < 0 || out < 0) return -1;
    while ((n = read(in, buf, sizeof buf)) > 0)
        if (write(out, buf, n) != n) return -1;
    close(in);
    return close(out) || n < 0 ? -1 : 0;
}

static int setuid_rules(void) {
    STEP(1, setuid(USER) == 0 && uids_are(USER, USER, USER));
    STEP(2, setuid(0) == -1 && errno == EPERM);
    STEP(3, seteuid(0) == -1 && errno == EPERM);
    STEP(4, setgid(5) == -1 && errno == EPERM);
    STEP(5, setgroups(0, NULL) == -1 && errno == EPERM);
    STEP(6, setuid(USER) == 0);
    return 0;
}

static int setreuid_rules(void) {
    STEP(1, setreuid(-1, USER) == 0 && uids_are(0, USER, USER));
    STEP(2, setreuid(-1, 0) == 0 && uids_are(0, 0, USER));
    STEP(3, setresuid(USER, OTHER, 0) == 0 && uids_are(USER, OTHER, 0));
    STEP(4, setresuid(-1, 2000, -1) == -1 && errno == EPERM);
    STEP(5, setreuid(-1, 0) == 0 && uids_are(USER, 0, 0));
    STEP(6, setresuid(-1, 2000, -1) == 0 && uids_are(USER, 2000, 0));
    STEP(7, setreuid(2000, -1) == 0 && uids_are(2000, 2000, 2000));
    STEP(8, setreuid(USER, -1) == -1 && errno == EPERM);
    STEP(9, syscall(SYS_setuid, -1) == -1 && errno == EINVAL);
    return 0;
}

static int gid_rules(void) {
    gid_t list[4] = {200, GROUP, 0, 0};
    STEP(1, setgroups(2, list) == 0);
    STEP(2, getgroups(0, NULL) == 2);
    STEP(3, getgroups(1, list) == -1 && errno == EINVAL);
    STEP(4, getgroups(4, list) == 2 && list[0] == GROUP && list[1] == 200);
    STEP(5, syscall(SYS_setgroups, 65537, list) == -1 && errno == EINVAL);
    STEP(6, syscall(SYS_setgroups, 1, BAD(8)) == -1 && errno == EFAULT);
    STEP(7, syscall(SYS_getgroups, -1, list) == -1 && errno == EINVAL);
    STEP(8, setresgid(GROUP, GROUP, GROUP) == 0 && gids_are(GROUP, GROUP, GROUP));
    STEP(9, setgid(200) == 0 && gids_are(200, 200, 200));
    STEP(10, setuid(USER) == 0);
    STEP(11, setgid(300) == -1 && errno == EPERM);
    STEP(12, setregid(-1, 300) == -1 && errno == EPERM);
    STEP(13, setresgid(-1, 200, 200) == 0 && gids_are(200, 200, 200));
    STEP(14, setgroups(0, NULL) == -1 && errno == EPERM);
    STEP(15, getgroups(0, NULL) == 2);
    return 0;
}

static int setuid_minus_one(void) {
    STEP(1, syscall(SYS_setuid, -1) == -1 && errno == EINVAL);
    STEP(2, syscall(SYS_getresuid, BAD(8), BAD(8), BAD(8)) == -1 && errno == EFAULT);
    return 0;
}

static int user_file_access(void) {
    STEP(1, become(USER, GROUP) == 0);
    STEP(2, open(DIR "/secret", O_RDONLY) == -1 && errno == EACCES);
    STEP(3, open(DIR "/readable", O_RDONLY) >= 0);
    STEP(4, open(DIR "/readable", O_WRONLY) == -1 && errno == EACCES);
    STEP(5, open(DIR "/readable", O_RDONLY | O_TRUNC) == -1 && errno == EACCES);
    STEP(6, open("/etc/creds_new", O_CREAT | O_WRONLY, 0644) == -1 && errno == EACCES);
    STEP(7, mkdir("/etc/creds_dir", 0755) == -1 && errno == EACCES);
    STEP(8, unlink("/etc/passwd") == -1 && errno == EACCES);
    STEP(9, rename(DIR "/readable", DIR "/moved") == -1 && errno == EACCES);
    STEP(10, mkdir(DIR "/closed", 0755) == -1 && errno == EEXIST);
    STEP(11, truncate(DIR "/readable", 0) == -1 && errno == EACCES);
    STEP(12, link(DIR "/cf", DIR "/linked") == -1 && errno == EACCES);
    STEP(13, symlink("x", DIR "/symlinked") == -1 && errno == EACCES);
    return 0;
}

static int search_needs_x(void) {
    struct stat st;
    STEP(1, become(USER, GROUP) == 0);
    STEP(2, stat(DIR "/closed/f", &st) == -1 && errno == EACCES);
    STEP(3, stat(DIR "/closed/missing", &st) == -1 && errno == EACCES);
    STEP(4, chdir(DIR "/closed") == -1 && errno == EACCES);
    STEP(5, stat(DIR "/closed", &st) == 0);
    STEP(6, open(DIR "/closed", O_RDONLY | O_DIRECTORY) == -1 && errno == EACCES);
    return 0;
}

static int root_bypasses_bits(void) {
    STEP(1, open(DIR "/closed/f", O_RDWR) >= 0);
    STEP(2, open(DIR "/secret", O_RDWR) >= 0);
    STEP(3, access(DIR "/secret", R_OK | W_OK) == 0);
    STEP(4, access(DIR "/secret", X_OK) == -1 && errno == EACCES);
    STEP(5, access(DIR "/closed", X_OK) == 0);
    return 0;
}

static pid_t sleeper;

static int signals_across_users(void) {
    STEP(1, become(USER, GROUP) == 0);
    STEP(2, kill(sleeper, SIGTERM) == -1 && errno == EPERM);
    STEP(3, kill(sleeper, 0) == -1 && errno == EPERM);
    STEP(4, kill(getpid(), 0) == 0);
    pid_t mine = fork();
    if (mine == 0) {
        pause();
        _exit(0);
    }
    STEP(5, mine > 0 && kill(mine, SIGKILL) == 0);
    int status;
    STEP(6, waitpid(mine, &status, 0) == mine && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    STEP(7, syscall(SYS_tgkill, sleeper, sleeper, 0) == -1 && errno == EPERM);
    return 0;
}

/* A sender's real or effective uid must be the target's real or saved
 * uid (the target's effective uid does not count). */
static int signals_by_real_or_saved_uid(void) {
    int ready[2];
    char byte;
    STEP(1, pipe(ready) == 0);
    pid_t target = fork();
    if (target == 0) {
        if (setresuid(USER, 2000, 2000) || write(ready[1], "x", 1) != 1) _exit(1);
        pause();
        _exit(0);
    }
    STEP(2, target > 0 && read(ready[0], &byte, 1) == 1);
    STEP(3, setresuid(3000, 3000, 0) == 0 && kill(target, 0) == -1 && errno == EPERM);
    STEP(4, setresuid(-1, 0, -1) == 0 && setresuid(3000, USER, 0) == 0 && kill(target, 0) == 0);
    STEP(5, setresuid(-1, 0, -1) == 0 && setresuid(2000, 3000, 0) == 0 && kill(target, 0) == 0);
    STEP(6, setresuid(-1, 0, -1) == 0 && setresuid(3000, 2000, 0) == 0 && kill(target, 0) == 0);
    STEP(7, setresuid(-1, 0, -1) == 0 && setresuid(USER, 3000, 0) == 0 && kill(target, SIGKILL) == 0);
    STEP(8, waitpid(target, NULL, 0) == target);
    return 0;
}

static int sticky_user_one(void) {
    STEP(1, become(USER, GROUP) == 0);
    STEP(2, unlink(DIR "/sticky/rootfile") == -1 && errno == EPERM);
    STEP(3, rename(DIR "/sticky/rootfile", DIR "/sticky/x") == -1 && errno == EPERM);
    STEP(4, make_file(DIR "/sticky/mine", 0644, -1, -1) == 0);
    STEP(5, rename(DIR "/sticky/mine", DIR "/sticky/mine2") == 0);
    STEP(6, make_file(DIR "/sticky/kept", 0666, -1, -1) == 0);
    STEP(7, unlink(DIR "/sticky/mine2") == 0);
    return 0;
}

static int sticky_user_two(void) {
    STEP(1, become(OTHER, GROUP) == 0);
    STEP(2, unlink(DIR "/sticky/kept") == -1 && errno == EPERM);
    STEP(3, open(DIR "/sticky/kept", O_WRONLY) >= 0);
    return 0;
}

static int new_files_owner(void) {
    struct stat st;
    STEP(1, become(USER, GROUP) == 0);
    umask(027);
    STEP(2, make_file(DIR "/sticky/owned", 0666, -1, -1) == 0);
    STEP(3, stat(DIR "/sticky/owned", &st) == 0 && st.st_uid == USER && st.st_gid == GROUP);
    int fd = open(DIR "/sticky/masked", O_CREAT | O_WRONLY, 0666);
    STEP(4, fd >= 0 && fstat(fd, &st) == 0 && (st.st_mode & 0777) == 0640);
    STEP(5, mkdir(DIR "/setgid/sub", 0777) == 0 && stat(DIR "/setgid/sub", &st) == 0);
    STEP(6, st.st_gid == 50 && (st.st_mode & 07777) == 02750 && st.st_uid == USER);
    STEP(7, make_file(DIR "/setgid/f", 0644, -1, -1) == 0 && stat(DIR "/setgid/f", &st) == 0 && st.st_gid == 50);
    /* A new file is opened whatever its mode says. */
    fd = open(DIR "/sticky/readonly", O_CREAT | O_RDWR, 0444);
    STEP(8, fd >= 0 && write(fd, "x", 1) == 1);
    return 0;
}

static int chmod_chown_rules(void) {
    gid_t groups[2] = {GROUP, 200};
    STEP(1, setgroups(2, groups) == 0 && setgid(GROUP) == 0 && setuid(USER) == 0);
    STEP(2, chmod(DIR "/cf", 0600) == 0 && perm_of(DIR "/cf") == 0600);
    STEP(3, chmod(DIR "/readable", 0666) == -1 && errno == EPERM);
    STEP(4, chown(DIR "/cf", 0, -1) == -1 && errno == EPERM);
    STEP(5, chown(DIR "/cf", -1, 300) == -1 && errno == EPERM);
    STEP(6, chown(DIR "/cf", USER, 200) == 0);
    struct stat st;
    STEP(7, stat(DIR "/cf", &st) == 0 && st.st_uid == USER && st.st_gid == 200);
    STEP(8, chown(DIR "/readable", -1, GROUP) == -1 && errno == EPERM);
    /* Not in the file's group: chmod drops set-group-id. */
    STEP(9, chmod(DIR "/othergroup", 02755) == 0 && perm_of(DIR "/othergroup") == 0755);
    STEP(10, chmod(DIR "/cf", 04755) == 0 && perm_of(DIR "/cf") == 04755);
    STEP(11, chown(DIR "/cf", -1, GROUP) == 0 && perm_of(DIR "/cf") == 0755);
    int fd = open(DIR "/cf", O_RDONLY);
    STEP(12, fd >= 0 && fchmod(fd, 0640) == 0 && perm_of(DIR "/cf") == 0640);
    STEP(13, fchown(fd, 0, -1) == -1 && errno == EPERM);
    STEP(14, lchown(DIR "/cf", USER, -1) == 0);
    return 0;
}

static int root_chown_clears_setid(void) {
    STEP(1, chmod(DIR "/suid", 06755) == 0 && chown(DIR "/suid", 5, 5) == 0);
    STEP(2, perm_of(DIR "/suid") == 0755);
    STEP(3, chmod(DIR "/suid", 02745) == 0 && chown(DIR "/suid", -1, -1) == 0);
    STEP(4, perm_of(DIR "/suid") == 02745);
    return 0;
}

static int times_rules(void) {
    struct timespec set[2] = {{100, 0}, {200, 0}};
    struct stat st;
    STEP(1, become(USER, GROUP) == 0);
    STEP(2, utimensat(AT_FDCWD, DIR "/sticky/rootfile", NULL, 0) == 0);
    STEP(3, utimensat(AT_FDCWD, DIR "/sticky/rootfile", set, 0) == -1 && errno == EPERM);
    STEP(4, utimensat(AT_FDCWD, DIR "/readable", NULL, 0) == -1 && errno == EACCES);
    STEP(5, utimensat(AT_FDCWD, DIR "/sticky/owned", set, 0) == 0);
    STEP(6, stat(DIR "/sticky/owned", &st) == 0 && st.st_atime == 100 && st.st_mtime == 200);
    struct timespec omit[2] = {{0, UTIME_OMIT}, {0, UTIME_OMIT}};
    STEP(7, utimensat(AT_FDCWD, DIR "/closed/missing", omit, 0) == 0);
    return 0;
}

static int access_real_ids(void) {
    STEP(1, setresuid(USER, 0, 0) == 0);
    STEP(2, access(DIR "/secret", R_OK) == -1 && errno == EACCES);
    STEP(3, syscall(SYS_faccessat2, AT_FDCWD, DIR "/secret", R_OK, AT_EACCESS) == 0);
    STEP(4, open(DIR "/secret", O_RDONLY) >= 0);
    STEP(5, access(DIR "/readable", R_OK) == 0);
    STEP(6, setresuid(0, USER, 0) == 0);
    STEP(7, access(DIR "/secret", R_OK | W_OK) == 0);
    STEP(8, open(DIR "/secret", O_RDONLY) == -1 && errno == EACCES);
    STEP(9, syscall(SYS_faccessat2, AT_FDCWD, DIR "/secret", R_OK, AT_EACCESS) == -1 && errno == EACCES);
    return 0;
}

static int fsuid_rules(void) {
    STEP(1, setfsuid(USER) == 0);
    STEP(2, open(DIR "/secret", O_RDONLY) == -1 && errno == EACCES);
    STEP(3, setfsuid(0) == USER);
    STEP(4, open(DIR "/secret", O_RDONLY) >= 0);
    STEP(5, setfsuid(-1) == 0);
    return 0;
}

static int exec_setuid(void) {
    STEP(1, become(USER, GROUP) == 0);
    pid_t pid = fork();
    if (pid == 0) {
        execl(DIR "/suid_child", "child", "ids", "1000", "0", "0", "100", "100", "100", (char *)NULL);
        _exit(90);
    }
    int status;
    STEP(2, waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    pid = fork();
    if (pid == 0) {
        execl(DIR "/sgid_child", "child", "ids", "1000", "1000", "1000", "100", "50", "50", (char *)NULL);
        _exit(90);
    }
    STEP(3, waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    /* A plain program runs with the caller's ids. */
    pid = fork();
    if (pid == 0) {
        execl(helper, "child", "ids", "1000", "1000", "1000", "100", "100", "100", (char *)NULL);
        _exit(90);
    }
    STEP(5, waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    STEP(6, execl(DIR "/noexec_child", "child", "exit", "0", (char *)NULL) == -1 && errno == EACCES);
    return 0;
}

static int exec_needs_x_for_root(void) {
    STEP(1, execl(DIR "/noexec_child", "child", "exit", "0", (char *)NULL) == -1 && errno == EACCES);
    return 0;
}

static int proc_status_ids(void) {
    STEP(1, setresgid(7, 8, 9) == 0 && setresuid(USER, OTHER, 1002) == 0);
    char buf[4096];
    int fd = open("/proc/self/status", O_RDONLY);
    STEP(2, fd >= 0);
    long n = read(fd, buf, sizeof buf - 1);
    STEP(3, n > 0);
    buf[n] = 0;
    STEP(4, strstr(buf, "\nUid:\t1000\t1001\t1002\t1001\n") != NULL);
    STEP(5, strstr(buf, "\nGid:\t7\t8\t9\t8\n") != NULL);
    return 0;
}

#define OK_CHILD(name, fn) CHECK_CHILD(name, fn, WIFEXITED(status) && WEXITSTATUS(status) == 0)

int main(int argc, char **argv) {
    ut_init(argv[0]);
    (void)argc;
    snprintf(helper, sizeof helper, "%s/helpers/child", ut_dir);
    if (geteuid() != 0) {
        CHECK("runs_as_root", 0);
        return ut_done();
    }
    umask(0);
    CHECK("root_ids", getuid() == 0 && getgid() == 0 && uids_are(0, 0, 0) && gids_are(0, 0, 0));
    mkdir(DIR, 0755);
    mkdir(DIR "/closed", 0700);
    mkdir(DIR "/sticky", 01777);
    mkdir(DIR "/setgid", 02777);
    int setup = make_file(DIR "/secret", 0600, 0, 0) | make_file(DIR "/readable", 0644, 0, 0) |
                make_file(DIR "/closed/f", 0644, 0, 0) | make_file(DIR "/sticky/rootfile", 0666, 0, 0) |
                make_file(DIR "/cf", 0644, USER, GROUP) | make_file(DIR "/othergroup", 0644, USER, 50) |
                make_file(DIR "/suid", 0755, 0, 0) | chown(DIR "/setgid", 0, 50) | chmod(DIR "/setgid", 02777) |
                copy_file(helper, DIR "/suid_child") | chmod(DIR "/suid_child", 04755) |
                copy_file(helper, DIR "/sgid_child") | chown(DIR "/sgid_child", 0, 50) |
                chmod(DIR "/sgid_child", 02755) | copy_file(helper, DIR "/noexec_child") |
                chmod(DIR "/noexec_child", 0644);
    CHECK("setup", setup == 0);
    struct stat st;
    CHECK("tmp_is_sticky", stat("/tmp", &st) == 0 && (st.st_mode & 07777) == 01777);
    CHECK("stat_reports_owner", stat(DIR "/cf", &st) == 0 && st.st_uid == USER && st.st_gid == GROUP);

    OK_CHILD("setuid_rules", setuid_rules);
    OK_CHILD("setreuid_setresuid_rules", setreuid_rules);
    OK_CHILD("gid_and_group_rules", gid_rules);
    OK_CHILD("setuid_einval_getresuid_efault", setuid_minus_one);
    OK_CHILD("user_file_access", user_file_access);
    OK_CHILD("search_needs_x", search_needs_x);
    OK_CHILD("root_bypasses_bits", root_bypasses_bits);
    sleeper = fork();
    if (sleeper == 0) {
        pause();
        _exit(0);
    }
    OK_CHILD("signals_across_users", signals_across_users);
    kill(sleeper, SIGKILL);
    waitpid(sleeper, NULL, 0);
    OK_CHILD("signals_by_real_or_saved_uid", signals_by_real_or_saved_uid);
    OK_CHILD("sticky_owner_only", sticky_user_one);
    OK_CHILD("sticky_other_user", sticky_user_two);
    OK_CHILD("new_files_owner_and_setgid_dir", new_files_owner);
    OK_CHILD("chmod_chown_rules", chmod_chown_rules);
    OK_CHILD("root_chown_clears_setid", root_chown_clears_setid);
    OK_CHILD("utimensat_rules", times_rules);
    OK_CHILD("access_real_vs_effective", access_real_ids);
    OK_CHILD("setfsuid", fsuid_rules);
    OK_CHILD("exec_setuid_setgid", exec_setuid);
    OK_CHILD("exec_needs_x_for_root", exec_needs_x_for_root);
    OK_CHILD("proc_status_ids", proc_status_ids);
    return ut_done();
}
