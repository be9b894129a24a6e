/* Memory: brk/sbrk, anonymous mmap/munmap/mprotect (faults in children),
 * MAP_SHARED across fork, copy-on-write, stack growth, TLS via arch_prctl. */
#include "harness.h"
#define ARCH_SET_FS 0x1002
#define ARCH_GET_FS 0x1003
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>

static char *region;
static volatile char sink;
static __thread int tls_value = 1234;
static __thread char tls_zero[64];

static int write_region(void) {
    region[0] = 1;
    return 0;
}
static int read_region(void) {
    sink = region[0];
    return 0;
}
static int write_region_page1(void) {
    region[4096] = 1;
    return 0;
}
static int read_region_page1(void) {
    sink = region[4096];
    return 0;
}

__attribute__((noinline)) static int deep_stack(void) {
    volatile char big[1 << 20];
    for (unsigned i = 0; i < sizeof big; i += 512) big[i] = (char)i;
    int sum = 0;
    for (unsigned i = 0; i < sizeof big; i += 512) sum += big[i] == (char)i;
    return sum == (1 << 20) / 512 ? 0 : 1;
}

/* Moves the break as high as the kernel lets it (near the mmap area),
 * then forks: the fork must copy what is there, not walk every page of
 * the 100 TiB the break may span. Exits 0 if the child ran. */
static int fork_after_high_brk(void) {
    syscall(SYS_brk, 0x700000000000UL);
    pid_t pid = fork();
    if (pid == 0)
        _exit(7);
    int status;
    return pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 7 ? 0 : 1;
}

/* Unmaps and protects the whole lower half: sparse ranges cost their
 * pages, not their length. The process cannot survive it (its code is
 * gone) and dies of SIGSEGV. */
static int munmap_everything(void) {
    syscall(SYS_mprotect, 0x10000UL, 0x7fffffff0000UL - 0x10000UL, PROT_READ);
    syscall(SYS_munmap, 0x10000UL, 0x7fffffff0000UL - 0x10000UL);
    return 0;
}

int main(int argc, char **argv) {
    (void)argc;
    ut_init(argv[0]);
    int status;

    /* brk */
    long cur = syscall(SYS_brk, 0);
    CHECKF("brk_query", cur > 0, "brk(0) = %lx", cur);
    long grown = syscall(SYS_brk, cur + 256 * 1024);
    CHECKF("brk_grow", grown == cur + 256 * 1024, "brk(%lx) = %lx", cur + 256 * 1024, grown);
    int zero = 1;
    for (long a = cur; a < grown; a += 4096) zero &= *(volatile char *)a == 0;
    CHECK("brk_memory_zeroed", zero);
    memset((void *)cur, 0xab, 256 * 1024);
    CHECKF("brk_memory_writable", ((unsigned char *)cur)[256 * 1024 - 1] == 0xab, "readback differs");
    CHECKF("brk_shrink", syscall(SYS_brk, cur + 4096) == cur + 4096, "brk = %lx", syscall(SYS_brk, 0));
    CHECKF("brk_below_start_fails", syscall(SYS_brk, 4096) == cur + 4096, "brk(4096) = %lx", syscall(SYS_brk, 4096));
    syscall(SYS_brk, cur);
    CHECKF("sbrk0_is_brk", sbrk(0) == (void *)cur, "sbrk(0) %p brk %lx", sbrk(0), cur);

    /* mmap anonymous */
    region = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECKF("mmap_anonymous", region != MAP_FAILED && (uintptr_t)region % 4096 == 0, "mmap %p errno %d", (void *)region, errno);
    if (region == MAP_FAILED) return ut_done();
    zero = 1;
    for (int i = 0; i < 1 << 20; i += 4096) zero &= region[i] == 0;
    CHECK("mmap_zero_filled", zero);
    for (int i = 0; i < 1 << 20; i++) region[i] = (char)(i * 7);
    int same = 1;
    for (int i = 0; i < 1 << 20; i++) same &= region[i] == (char)(i * 7);
    CHECK("mmap_write_read", same);
    CHECK_CHILD("mmap_fork_copy_on_write", write_region, WIFEXITED(status) && region[0] == 0);
    CHECK_OK("mprotect_read_only", mprotect(region, 8192, PROT_READ));
    CHECK_CHILD("write_after_prot_read_sigsegv", write_region, WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV);
    CHECK_CHILD("read_after_prot_read_ok", read_region, WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK_OK("mprotect_none", mprotect(region + 4096, 4096, PROT_NONE));
    CHECK_CHILD("read_prot_none_sigsegv", read_region_page1, WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV);
    CHECK_OK("mprotect_read_write", mprotect(region, 8192, PROT_READ | PROT_WRITE));
    region[0] = 5, region[4096] = 6;
    CHECKF("mprotect_restored_keeps_data", region[0] == 5 && region[4096] == 6 && region[8192] == (char)(8192 * 7), "data changed");
    CHECK_ERR("mprotect_unaligned_einval", syscall(SYS_mprotect, region + 1, 4096, PROT_READ), EINVAL);
    CHECK_ERR("mprotect_unmapped_enomem", syscall(SYS_mprotect, BAD(0x1000), 4096, PROT_READ), ENOMEM);
    CHECK_OK("munmap_page", munmap(region + 4096, 4096));
    CHECK_CHILD("access_after_munmap_sigsegv", write_region_page1, WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV);
    CHECKF("munmap_keeps_neighbours", region[0] == 5 && region[8192] == (char)(8192 * 7), "neighbour data changed");
    CHECK_ERR("munmap_unaligned_einval", munmap(region + 1, 4096), EINVAL);
    CHECK_ERR("munmap_zero_length_einval", munmap(region, 0), EINVAL);
    CHECK_OK("munmap_unmapped_is_ok", munmap(region + 4096, 4096));
    char *fixed = mmap(region + 4096, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    CHECKF("mmap_fixed", fixed == region + 4096 && fixed[0] == 0, "mmap %p want %p errno %d", (void *)fixed, (void *)(region + 4096), errno);
    munmap(region, 1 << 20);
    CHECK_ERR("mmap_zero_length_einval", mmap(NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), EINVAL);
    CHECK_ERR("mmap_no_sharing_type_einval", mmap(NULL, 4096, PROT_READ, MAP_ANONYMOUS, -1, 0), EINVAL);
    CHECK_ERR("mmap_fixed_unaligned_einval", mmap(BAD(0x10000001), 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0), EINVAL);
    CHECK_ERR("mmap_bad_fd_ebadf", mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, 999, 0), EBADF);

    /* MAP_SHARED anonymous memory is not implemented (pages are copied at
     * fork, never shared): Hardtack refuses it with EINVAL rather than give
     * silently private memory (docs/userspace.md). Linux accepts it. */
    CHECK_ERR("mmap_shared_anonymous_refused_einval",
              mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0), EINVAL);

    /* A big allocation, touched. */
    size_t big = 64 << 20;
    char *m = malloc(big);
    if (m) memset(m, 1, big);
    CHECKF("malloc_64mib_touched", m && m[big - 1] == 1 && m[0] == 1, "malloc %p", (void *)m);
    free(m);

    /* The stack grows (1 MiB frame). */
    CHECK_CHILD("stack_1mib_frame", deep_stack, WIFEXITED(status) && WEXITSTATUS(status) == 0);

    /* TLS: musl sets FS with arch_prctl(ARCH_SET_FS) at start-up. */
    CHECKF("tls_initial_value", tls_value == 1234, "tls_value %d", tls_value);
    zero = 1;
    for (int i = 0; i < 64; i++) zero &= tls_zero[i] == 0;
    CHECK("tls_bss_zero", zero);
    tls_value = 77;
    CHECKF("tls_write", tls_value == 77, "tls_value %d", tls_value);
    unsigned long fs = 0;
    CHECKF("arch_prctl_get_fs", syscall(SYS_arch_prctl, ARCH_GET_FS, &fs) == 0 && fs == (unsigned long)pthread_self(),
           "fs %lx self %lx errno %d", fs, (unsigned long)pthread_self(), errno);
    pid_t pid = fork();
    if (pid == 0) _exit(tls_value == 77 ? 0 : 1);
    waitpid(pid, &status, 0);
    CHECKF("tls_survives_fork", WIFEXITED(status) && WEXITSTATUS(status) == 0, "child %s", ut_status(status));
    CHECK_ERR("arch_prctl_bad_code_einval", syscall(SYS_arch_prctl, 0x9999, 0), EINVAL);
    CHECK_ERR("arch_prctl_get_fs_bad_pointer_efault", syscall(SYS_arch_prctl, ARCH_GET_FS, BAD(1)), EFAULT);
    CHECK_ERR("arch_prctl_set_fs_noncanonical_eperm", syscall(SYS_arch_prctl, ARCH_SET_FS, 0x8000000000000000UL), EPERM);
    CHECK_CHILD("fork_after_brk_near_mmap_area", fork_after_high_brk, WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK_CHILD("munmap_whole_lower_half_sigsegv", munmap_everything, WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV);
    return ut_done();
}
