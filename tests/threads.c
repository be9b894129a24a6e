/* Threads: clone(CLONE_THREAD) through musl's pthreads, futexes (mutexes,
 * condition variables, join), per-thread ids, TLS and signal masks, and
 * how exit and exit_group end threads. */
#include "harness.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <limits.h>
#include <time.h>

/* From <linux/futex.h>, which musl does not ship. */
#define FUTEX_WAIT 0
#define FUTEX_WAKE 1
#define FUTEX_CMP_REQUEUE 4
#define FUTEX_WAKE_OP 5
#define FUTEX_WAIT_BITSET 9
#define FUTEX_WAKE_BITSET 10
#define FUTEX_OP(op, oparg, cmp, cmparg) ((((op) & 0xf) << 28) | (((cmp) & 0xf) << 24) | (((oparg) & 0xfff) << 12) | ((cmparg) & 0xfff))
#define FUTEX_WAIT_PRIVATE 128
#define FUTEX_WAKE_PRIVATE 129

#define THREADS 4
#define ROUNDS 20000

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long counter;
static __thread long tls_slot;

struct ids {
    pid_t pid, tid;
    long tls;
};

static void *count(void *arg) {
    struct ids *ids = arg;
    tls_slot = (long)ids->tid + 1000;
    for (int i = 0; i < ROUNDS; i++) {
        pthread_mutex_lock(&lock);
        counter++;
        pthread_mutex_unlock(&lock);
        if (i % 1000 == 0) sched_yield();
    }
    ids->pid = getpid();
    ids->tid = (pid_t)syscall(SYS_gettid);
    ids->tls = tls_slot;
    return ids;
}

static pthread_mutex_t cond_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int ready;

static void *signal_later(void *arg) {
    (void)arg;
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
    pthread_mutex_lock(&cond_lock);
    ready = 1;
    pthread_cond_signal(&cond);
    pthread_mutex_unlock(&cond_lock);
    return NULL;
}

static void *spin_forever(void *arg) {
    (void)arg;
    for (;;) sched_yield();
    return NULL;
}

/* exit_group from the main thread ends a spinning sibling too. */
static int exit_group_ends_all(void) {
    pthread_t t;
    if (pthread_create(&t, NULL, spin_forever, NULL) != 0) return 90;
    struct timespec ts = {0, 10 * 1000 * 1000};
    nanosleep(&ts, NULL);
    exit(7);
}

static void *sleep_forever(void *arg) {
    (void)arg;
    for (;;) pause();
    return NULL;
}

/* execve from a process with two more threads (one spinning, one asleep):
 * they end, and the new program runs alone. */
static int exec_ends_the_other_threads(void) {
    pthread_t spinner, sleeper;
    if (pthread_create(&spinner, NULL, spin_forever, NULL) != 0) return 90;
    if (pthread_create(&sleeper, NULL, sleep_forever, NULL) != 0) return 91;
    char helper[300];
    snprintf(helper, sizeof helper, "%s/helpers/child", ut_dir);
    execve(helper, (char *[]){helper, "exit", "11", NULL}, (char *[]){NULL});
    return 92;
}

/* Two threads call execve at the same moment: one image wins (exit 12 or
 * 13), and neither thread waits forever for the other. */
static pthread_barrier_t exec_race;
static char race_helper[300];

static void *exec_too(void *arg) {
    (void)arg;
    pthread_barrier_wait(&exec_race);
    execve(race_helper, (char *[]){race_helper, "exit", "13", NULL}, (char *[]){NULL});
    return NULL;
}

static int two_threads_exec_at_once(void) {
    pthread_t other;
    snprintf(race_helper, sizeof race_helper, "%s/helpers/child", ut_dir);
    pthread_barrier_init(&exec_race, NULL, 2);
    if (pthread_create(&other, NULL, exec_too, NULL) != 0) return 90;
    pthread_barrier_wait(&exec_race);
    execve(race_helper, (char *[]){race_helper, "exit", "12", NULL}, (char *[]){NULL});
    /* This thread lost the race: it is being ended by the winner. */
    for (;;) pause();
}

static void *exit_whole_process(void *arg) {
    (void)arg;
    exit(9); /* exit_group from a thread */
}

static int thread_exit_group(void) {
    pthread_t t;
    if (pthread_create(&t, NULL, exit_whole_process, NULL) != 0) return 90;
    for (;;) pause();
}

static atomic_int got_usr1;
static void on_usr1(int sig) {
    (void)sig;
    atomic_store(&got_usr1, (int)syscall(SYS_gettid));
}

static void *take_usr1(void *arg) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    *(pid_t *)arg = (pid_t)syscall(SYS_gettid);
    for (int i = 0; i < 500 && !atomic_load(&got_usr1); i++) {
        struct timespec ts = {0, 2 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

/* Many threads on one condition variable (pthread_cond_broadcast may
 * requeue them onto the mutex's word), and on one futex word moved to
 * another with FUTEX_CMP_REQUEUE. */
#define CROWD 12
static pthread_mutex_t crowd_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t crowd_cond = PTHREAD_COND_INITIALIZER;
static int crowd_go, crowd_waiting;
static atomic_int word_a, word_b, crowd_done;

static void *crowd_cond_waiter(void *arg) {
    (void)arg;
    pthread_mutex_lock(&crowd_lock);
    crowd_waiting++;
    while (!crowd_go) pthread_cond_wait(&crowd_cond, &crowd_lock);
    pthread_mutex_unlock(&crowd_lock);
    return NULL;
}

static void *crowd_futex_waiter(void *arg) {
    (void)arg;
    while (atomic_load(&word_a) == 0) syscall(SYS_futex, &word_a, FUTEX_WAIT, 0, NULL, NULL, 0);
    atomic_fetch_add(&crowd_done, 1);
    return NULL;
}

/* CMP_REQUEUE from word_a to word_b, then a wake of word_b, must end
 * every wait on word_a. */
static long crowd_requeued(void) {
    pthread_t t[CROWD];
    for (int i = 0; i < CROWD; i++)
        if (pthread_create(&t[i], NULL, crowd_futex_waiter, NULL)) return -1;
    struct timespec pause = {0, 100 * 1000 * 1000};
    nanosleep(&pause, NULL); /* most are asleep on word_a by now */
    atomic_store(&word_a, 1);
    long moved = syscall(SYS_futex, &word_a, FUTEX_CMP_REQUEUE, 1, (void *)(long)INT_MAX, &word_b, 1);
    syscall(SYS_futex, &word_b, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
    for (int i = 0; i < CROWD; i++) pthread_join(t[i], NULL);
    return moved < 0 ? -1 : atomic_load(&crowd_done);
}

static int crowd_wakes_everyone(void) {
    pthread_t t[CROWD];
    for (int i = 0; i < CROWD; i++)
        if (pthread_create(&t[i], NULL, crowd_cond_waiter, NULL)) return 0;
    for (;;) {
        pthread_mutex_lock(&crowd_lock);
        int all = crowd_waiting == CROWD;
        if (all) {
            crowd_go = 1;
            pthread_cond_broadcast(&crowd_cond);
        }
        pthread_mutex_unlock(&crowd_lock);
        if (all) break;
        sched_yield();
    }
    for (int i = 0; i < CROWD; i++) pthread_join(t[i], NULL);
    return 1;
}

/* A thread asleep on word_c until it changes; FUTEX_WAKE_OP on word_c
 * and word_d must wake it and change word_d atomically. */
static atomic_int word_c, word_d, op_woken;

static void *op_waiter(void *arg) {
    (void)arg;
    while (atomic_load(&word_c) == 0) syscall(SYS_futex, &word_c, FUTEX_WAIT_BITSET, 0, NULL, NULL, -1);
    atomic_store(&op_woken, 1);
    return NULL;
}

/* Returns 0 if the waiter was woken and word_d went from 5 to 0 (SET 0,
 * and the old value 5 > 1 woke word_d's waiters too, of which there are
 * none). */
static int wake_op_works(void) {
    pthread_t t;
    atomic_store(&word_d, 5);
    if (pthread_create(&t, NULL, op_waiter, NULL)) return 10;
    struct timespec pause = {0, 50 * 1000 * 1000};
    nanosleep(&pause, NULL);
    atomic_store(&word_c, 1);
    long woken = syscall(SYS_futex, &word_c, FUTEX_WAKE_OP, 1, (void *)1L, &word_d, FUTEX_OP(0, 0, 4, 1));
    pthread_join(t, NULL);
    if (woken < 0) return 11;
    return atomic_load(&op_woken) == 1 && atomic_load(&word_d) == 0 ? 0 : 12;
}

int main(int argc, char **argv) {
    (void)argc;
    ut_init(argv[0]);

    pthread_t threads[THREADS];
    struct ids ids[THREADS];
    int created = 0;
    for (int i = 0; i < THREADS; i++) {
        ids[i].tid = i;
        created += pthread_create(&threads[i], NULL, count, &ids[i]) == 0;
    }
    CHECKF("pthread_create_4", created == THREADS, "created %d", created);
    int joined = 0;
    for (int i = 0; i < created; i++) joined += pthread_join(threads[i], NULL) == 0;
    CHECKF("pthread_join_4", joined == created, "joined %d", joined);
    CHECKF("mutex_counter_exact", counter == (long)created * ROUNDS, "counter %ld want %ld", counter, (long)created * ROUNDS);
    int same_pid = 1, distinct_tids = 1, own_tls = 1;
    for (int i = 0; i < created; i++) {
        same_pid &= ids[i].pid == getpid();
        distinct_tids &= ids[i].tid != getpid();
        for (int j = 0; j < i; j++) distinct_tids &= ids[i].tid != ids[j].tid;
        own_tls &= ids[i].tls == i + 1000;
    }
    CHECK("threads_share_the_pid", same_pid);
    CHECK("threads_have_their_own_tids", distinct_tids);
    CHECK("threads_have_their_own_tls", own_tls);
    CHECKF("main_tid_is_pid", syscall(SYS_gettid) == getpid(), "tid %ld pid %d", syscall(SYS_gettid), getpid());

    pthread_t signaller;
    pthread_create(&signaller, NULL, signal_later, NULL);
    pthread_mutex_lock(&cond_lock);
    while (!ready) pthread_cond_wait(&cond, &cond_lock);
    pthread_mutex_unlock(&cond_lock);
    CHECK("cond_wait_woken", ready == 1);
    pthread_join(signaller, NULL);

    struct timespec soon;
    clock_gettime(CLOCK_REALTIME, &soon);
    soon.tv_nsec += 20 * 1000 * 1000;
    if (soon.tv_nsec >= 1000000000) {
        soon.tv_sec++;
        soon.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&cond_lock);
    int timed = pthread_cond_timedwait(&cond, &cond_lock, &soon);
    pthread_mutex_unlock(&cond_lock);
    CHECKF("cond_timedwait_times_out", timed == ETIMEDOUT, "returned %d", timed);

    int word = 1;
    CHECK_ERR("futex_wait_value_changed_eagain", syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 2, NULL), EAGAIN);
    struct timespec short_wait = {0, 5 * 1000 * 1000};
    CHECK_ERR("futex_wait_timeout_etimedout", syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 1, &short_wait), ETIMEDOUT);
    CHECKF("futex_wake_nobody", syscall(SYS_futex, &word, FUTEX_WAKE_PRIVATE, 1) == 0, "errno %d", errno);
    CHECK_ERR("futex_unaligned_einval", syscall(SYS_futex, (char *)&word + 1, FUTEX_WAKE_PRIVATE, 1), EINVAL);
    CHECK_ERR("futex_bad_pointer_efault", syscall(SYS_futex, BAD(0x10), FUTEX_WAIT_PRIVATE, 0, NULL), EFAULT);

    struct timespec past = {0, 0};
    CHECK_ERR("futex_wait_bitset_absolute_past_etimedout",
              syscall(SYS_futex, &word, FUTEX_WAIT_BITSET, 1, &past, NULL, -1), ETIMEDOUT);
    CHECK_ERR("futex_wait_bitset_zero_einval", syscall(SYS_futex, &word, FUTEX_WAIT_BITSET, 1, NULL, NULL, 0), EINVAL);
    CHECKF("futex_wake_bitset_nobody", syscall(SYS_futex, &word, FUTEX_WAKE_BITSET, 1, NULL, NULL, -1) == 0,
           "errno %d", errno);
    int other = 3;
    CHECKF("futex_wake_op_changes_the_word",
           syscall(SYS_futex, &word, FUTEX_WAKE_OP, 1, (void *)1L, &other, FUTEX_OP(1, 4, 0, 0)) == 0 && other == 7,
           "other %d errno %d", other, errno);
    CHECK_ERR("futex_wake_op_bad_op_enosys",
              syscall(SYS_futex, &word, FUTEX_WAKE_OP, 1, (void *)1L, &other, FUTEX_OP(7, 0, 0, 0)), ENOSYS);
    CHECK_ERR("futex_wake_op_bad_pointer_efault",
              syscall(SYS_futex, &word, FUTEX_WAKE_OP, 1, (void *)1L, BAD(0x10), FUTEX_OP(0, 0, 0, 0)), EFAULT);
    CHECK_CHILD("futex_wake_op_wakes_and_changes_atomically", wake_op_works, WIFEXITED(status) && WEXITSTATUS(status) == 0);

    int status = ut_in_child(exit_group_ends_all);
    CHECKF("exit_group_ends_all_threads", WIFEXITED(status) && WEXITSTATUS(status) == 7, "child %s", ut_status(status));
    status = ut_in_child(exec_ends_the_other_threads);
    CHECKF("exec_ends_the_other_threads", WIFEXITED(status) && WEXITSTATUS(status) == 11, "child %s", ut_status(status));
    status = ut_in_child(two_threads_exec_at_once);
    CHECKF("two_threads_exec_at_once_one_wins", WIFEXITED(status) && (WEXITSTATUS(status) == 12 || WEXITSTATUS(status) == 13),
           "child %s", ut_status(status));
    status = ut_in_child(thread_exit_group);
    CHECKF("exit_from_a_thread_ends_the_process", WIFEXITED(status) && WEXITSTATUS(status) == 9, "child %s", ut_status(status));

    /* A signal to the process goes to the thread that does not block it. */
    signal(SIGUSR1, on_usr1);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    pid_t taker = 0;
    pthread_t t;
    pthread_create(&t, NULL, take_usr1, &taker);
    while (!__atomic_load_n(&taker, __ATOMIC_SEQ_CST)) sched_yield();
    kill(getpid(), SIGUSR1);
    pthread_join(t, NULL);
    CHECKF("process_signal_goes_to_unblocking_thread", atomic_load(&got_usr1) == taker, "handled in %d, want %d",
           atomic_load(&got_usr1), taker);
    atomic_store(&got_usr1, 0);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    CHECK_OK("tgkill_self", syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), SIGUSR1));
    CHECKF("tgkill_reaches_the_thread", atomic_load(&got_usr1) == syscall(SYS_gettid), "handled in %d",
           atomic_load(&got_usr1));
    CHECK_ERR("tgkill_wrong_group_esrch", syscall(SYS_tgkill, getpid() + 100000, syscall(SYS_gettid), 0), ESRCH);

    CHECK("condvar_broadcast_wakes_a_crowd", crowd_wakes_everyone());
    CHECK_ERR("futex_cmp_requeue_stale_value_eagain",
              syscall(SYS_futex, &word_a, FUTEX_CMP_REQUEUE, 1, (void *)(long)INT_MAX, &word_b, 5), EAGAIN);
    CHECK_ERR("futex_requeue_negative_count_einval",
              syscall(SYS_futex, &word_a, FUTEX_CMP_REQUEUE, -1, (void *)(long)1, &word_b, 0), EINVAL);
    long done = crowd_requeued();
    CHECKF("futex_cmp_requeue_then_wake_ends_every_wait", done == CROWD, "%ld of %d threads done", done, CROWD);

    return ut_done();
}
