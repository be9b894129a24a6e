/* One formatted line on fd 1 in a single write(2) (a newline is
 * appended), so output of forked processes never splits it. Shared by
 * the test harness (harness.h) and the benchmark runner (bench/hbench.c). */
#ifndef HARDTACK_LINE_H
#define HARDTACK_LINE_H
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

static __attribute__((unused, format(printf, 1, 2))) void line_out(const char *fmt, ...) {
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf - 1, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if (n > (int)sizeof buf - 2) n = sizeof buf - 2;
    buf[n++] = '\n';
    for (int off = 0; off < n;) {
        ssize_t w = write(1, buf + off, n - off);
        if (w <= 0) return;
        off += w;
    }
}
#endif
