/* Pipes: pipe/pipe2, blocking reads, EOF, EPIPE with SIGPIPE ignored and the
 * default SIGPIPE kill, O_NONBLOCK, poll, and 10 MiB from a child intact. */
#include "harness.h"
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>

#define BIG (10u << 20)

static int p[2];

static int write_to_closed_pipe(void) {
    /* Default SIGPIPE disposition: the write kills us. */
    if (write(p[1], "x", 1) < 0) return 10 + errno % 100;
    return 0;
}

/* Deterministic byte stream: xorshift. */
static unsigned next_byte(unsigned *s) {
    *s ^= *s << 13, *s ^= *s >> 17, *s ^= *s << 5;
    return *s & 0xff;
}

int main(int argc, char **argv) {
    (void)argc;
    ut_init(argv[0]);
    char buf[4096];
    struct stat st;

    CHECK_OK("pipe", pipe(p));
    CHECKF("pipe_write", write(p[1], "hello", 5) == 5, "errno %d", errno);
    ssize_t n = read(p[0], buf, sizeof buf);
    CHECKF("pipe_read", n == 5 && !memcmp(buf, "hello", 5), "read %zd", n);
    CHECKF("pipe_fstat_fifo", fstat(p[0], &st) == 0 && S_ISFIFO(st.st_mode), "mode 0%o", st.st_mode);
    CHECK_ERR("pipe_read_end_write_ebadf", write(p[0], "x", 1), EBADF);
    CHECK_ERR("pipe_write_end_read_ebadf", read(p[1], buf, 1), EBADF);
    CHECK_ERR("pipe_lseek_espipe", lseek(p[0], 0, SEEK_SET), ESPIPE);
    CHECK_ERR("pipe_write_bad_buffer_efault", write(p[1], (void *)0x10, 4), EFAULT);
    write(p[1], "abc", 3);
    CHECK_ERR("pipe_read_bad_buffer_efault", read(p[0], (void *)0x10, 3), EFAULT);
    close(p[1]);
    n = read(p[0], buf, sizeof buf);
    CHECKF("pipe_data_survives_efault", n == 3 && !memcmp(buf, "abc", 3), "read %zd", n);
    CHECKF("pipe_eof_after_writer_closes", read(p[0], buf, sizeof buf) == 0, "errno %d", errno);
    close(p[0]);
    CHECK_ERR("pipe_bad_pointer_efault", syscall(SYS_pipe, (int *)1), EFAULT);

    /* pipe2 flags */
    CHECK_OK("pipe2_cloexec", pipe2(p, O_CLOEXEC));
    CHECKF("pipe2_cloexec_set", fcntl(p[0], F_GETFD) == FD_CLOEXEC && fcntl(p[1], F_GETFD) == FD_CLOEXEC, "getfd %d", fcntl(p[0], F_GETFD));
    close(p[0]), close(p[1]);
    CHECK_OK("pipe2_nonblock", pipe2(p, O_NONBLOCK));
    CHECK_ERR("pipe_nonblock_empty_eagain", read(p[0], buf, 1), EAGAIN);
    CHECKF("pipe2_nonblock_getfl", fcntl(p[0], F_GETFL) & O_NONBLOCK, "flags 0x%x", fcntl(p[0], F_GETFL));
    /* Fill it: a non-blocking writer gets a short write, then EAGAIN. */
    long filled = 0;
    memset(buf, 'f', sizeof buf);
    for (int i = 0; i < 100000; i++) {
        n = write(p[1], buf, sizeof buf);
        if (n < 0) break;
        filled += n;
    }
    CHECKF("pipe_nonblock_full_eagain", n == -1 && errno == EAGAIN && filled >= 4096, "last %zd errno %d after %ld bytes", n, errno, filled);
    struct pollfd pf = {p[1], POLLOUT, 0};
    int pr = poll(&pf, 1, 0);
    CHECKF("poll_full_pipe_not_writable", pr == 0, "poll = %d, revents 0x%x", pr, pf.revents);
    pf = (struct pollfd){p[0], POLLIN, 0};
    pr = poll(&pf, 1, 0);
    CHECKF("poll_readable", pr == 1 && (pf.revents & POLLIN), "poll = %d, revents 0x%x", pr, pf.revents);
    close(p[0]), close(p[1]);
    CHECK_ERR("pipe2_bad_flags_einval", pipe2(p, 0x12345678), EINVAL);

    pipe(p);
    pf = (struct pollfd){p[0], POLLIN, 0};
    pr = poll(&pf, 1, 10);
    CHECKF("poll_empty_pipe_times_out", pr == 0, "poll = %d, revents 0x%x", pr, pf.revents);
    close(p[1]);
    pr = poll(&pf, 1, 0);
    CHECKF("poll_hup_after_writer_closes", pr == 1 && (pf.revents & POLLHUP), "poll = %d, revents 0x%x", pr, pf.revents);
    close(p[0]);

    /* A blocking read waits for a writer. */
    pipe(p);
    pid_t pid = fork();
    if (pid == 0) {
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, 0);
        _exit(write(p[1], "late", 4) == 4 ? 0 : 1);
    }
    close(p[1]);
    n = read(p[0], buf, sizeof buf);
    CHECKF("pipe_blocking_read_waits", n == 4 && !memcmp(buf, "late", 4), "read %zd errno %d", n, errno);
    int status;
    waitpid(pid, &status, 0);
    CHECKF("pipe_eof_after_child_exits", read(p[0], buf, sizeof buf) == 0, "errno %d", errno);
    close(p[0]);

    /* EPIPE: SIGPIPE ignored, and the default kill. */
    pipe(p);
    close(p[0]);
    CHECK_CHILD("sigpipe_default_kills_writer", write_to_closed_pipe, WIFSIGNALED(status) && WTERMSIG(status) == SIGPIPE);
    signal(SIGPIPE, SIG_IGN);
    CHECK_ERR("epipe_with_sigpipe_ignored", write(p[1], "x", 1), EPIPE);
    close(p[1]);
    signal(SIGPIPE, SIG_DFL);

    /* Writes of at most PIPE_BUF bytes are atomic, even with 4 concurrent
     * writers (on several CPUs). */
    pipe(p);
    enum { WRITERS = 4, RECORDS = 500, RECORD = 128 };
    for (int w = 0; w < WRITERS; w++) {
        if (fork() == 0) {
            close(p[0]);
            char rec[RECORD];
            for (int i = 0; i < RECORDS; i++) {
                memset(rec, 'A' + w, RECORD);
                memcpy(rec, &i, sizeof i);
                if (write(p[1], rec, RECORD) != RECORD) _exit(1);
            }
            _exit(0);
        }
    }
    close(p[1]);
    int next[WRITERS] = {0}, torn = 0, out_of_order = 0, records = 0;
    char rec[RECORD];
    for (;;) {
        int got = 0;
        while (got < RECORD && (n = read(p[0], rec + got, RECORD - got)) > 0) got += n;
        if (got < RECORD) break;
        int w = rec[RECORD - 1] - 'A', i;
        memcpy(&i, rec, sizeof i);
        for (int k = sizeof i; k < RECORD; k++) torn += rec[k] != rec[RECORD - 1];
        if (w < 0 || w >= WRITERS) { torn++; continue; }
        out_of_order += i != next[w];
        next[w] = i + 1;
        records++;
    }
    close(p[0]);
    int writers_ok = 0;
    for (int w = 0; w < WRITERS; w++) writers_ok += wait(&status) > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    CHECKF("pipe_small_writes_atomic", torn == 0 && out_of_order == 0 && records == WRITERS * RECORDS && writers_ok == WRITERS,
           "%d records, %d torn bytes, %d out of order, %d writers ok", records, torn, out_of_order, writers_ok);

    /* 10 MiB from a child, in odd-sized writes, checked byte for byte. */
    pipe(p);
    pid = fork();
    if (pid == 0) {
        close(p[0]);
        static char out[65536];
        unsigned s = 12345, sent = 0, chunk = 1;
        while (sent < BIG) {
            chunk = chunk * 7 % 65521 + 1;
            unsigned len = chunk < BIG - sent ? chunk : BIG - sent;
            for (unsigned i = 0; i < len; i++) out[i] = next_byte(&s);
            for (unsigned off = 0; off < len;) {
                ssize_t w = write(p[1], out + off, len - off);
                if (w <= 0) _exit(2);
                off += w;
            }
            sent += len;
        }
        _exit(0);
    }
    close(p[1]);
    unsigned s = 12345, received = 0, mismatch = 0, first_bad = 0;
    unsigned long sum = 0;
    static char in[65536];
    while ((n = read(p[0], in, sizeof in - (received % 1000))) > 0) {
        for (ssize_t i = 0; i < n; i++) {
            unsigned want = next_byte(&s);
            sum = sum * 31 + (unsigned char)in[i];
            if ((unsigned char)in[i] != want && !mismatch++) first_bad = received + i;
        }
        received += n;
    }
    close(p[0]);
    waitpid(pid, &status, 0);
    CHECKF("pipe_10mib_length", received == BIG, "received %u of %u bytes (last read %zd errno %d)", received, BIG, n, errno);
    CHECKF("pipe_10mib_intact", received == BIG && mismatch == 0, "%u bytes differ, first at %u (checksum %lx)", mismatch, first_bad, sum);
    CHECKF("pipe_10mib_writer_exits_0", WIFEXITED(status) && WEXITSTATUS(status) == 0, "writer %s", ut_status(status));
    return ut_done();
}
