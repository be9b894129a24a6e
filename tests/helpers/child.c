/* Helper that the test programs execve (not a test itself).
 *   child exit N          exit with status N
 *   child stack K         touch K KiB of stack, then exit 0
 *   child args A B        exit 0 iff argv is exactly {child, args, A, B} and HARDTACK_T=yes is in envp
 *   child fdclosed N      exit 0 iff fd N is not open
 *   child fdopen N        exit 0 iff fd N is open
 *   child sigdfl S        exit 0 iff signal S's disposition is SIG_DFL
 *   child sigign S        exit 0 iff signal S's disposition is SIG_IGN
 *   child pid             write getpid() and getppid() to stdout
 *   child ids RU EU SU RG EG SG   exit 0 iff getresuid/getresgid give these ids */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

int main(int argc, char **argv) {
    if (argc < 2) return 100;
    const char *mode = argv[1];
    int arg = argc > 2 ? atoi(argv[2]) : 0;
    if (!strcmp(mode, "exit")) return arg;
    if (!strcmp(mode, "stack")) {
        volatile char frame[arg > 0 ? arg * 1024 : 1];
        for (int i = 0; i < arg * 1024; i += 4096) frame[i] = 1;
        return frame[0] == 1 || arg == 0 ? 0 : 1;
    }
    if (!strcmp(mode, "args")) {
        const char *t = getenv("HARDTACK_T");
        return argc == 4 && !strcmp(argv[2], "a b") && !strcmp(argv[3], "") && argv[4] == NULL && t && !strcmp(t, "yes") ? 0 : 1;
    }
    if (!strcmp(mode, "fdclosed")) return fcntl(arg, F_GETFD) == -1 && errno == EBADF ? 0 : 1;
    if (!strcmp(mode, "fdopen")) return fcntl(arg, F_GETFD) >= 0 ? 0 : 1;
    if (!strcmp(mode, "sigdfl") || !strcmp(mode, "sigign")) {
        struct sigaction sa;
        if (sigaction(arg, NULL, &sa)) return 2;
        return sa.sa_handler == (!strcmp(mode, "sigdfl") ? SIG_DFL : SIG_IGN) ? 0 : 1;
    }
    if (!strcmp(mode, "ids")) {
        uid_t u[3];
        gid_t g[3];
        if (argc != 8 || getresuid(&u[0], &u[1], &u[2]) || getresgid(&g[0], &g[1], &g[2])) return 2;
        for (int i = 0; i < 3; i++)
            if (u[i] != (uid_t)atoi(argv[2 + i]) || g[i] != (gid_t)atoi(argv[5 + i])) return 1;
        return 0;
    }
    if (!strcmp(mode, "pid")) {
        printf("%d %d\n", getpid(), getppid());
        return 0;
    }
    return 101;
}
