/* A small threaded program for the trace tests: its counts are known exactly.
 *   trace_prog race N ITERS   N threads each lock counter_lock ITERS times
 *   trace_prog timed          one thread holds a lock 300 ms; another's timedlock gives up
 *   trace_prog cond N         a producer signals N items to a consumer through a condition
 *                             (prints the consumer's waits: qmu is acquired 2N + waits times)
 *   trace_prog fork           a child process locks its own copy of counter_lock 1000 times
 *   trace_prog sem N          two threads pass a semaphore N times
 *   trace_prog exit C         exits with status C
 *   trace_prog closefds       closes every descriptor above stderr, then races 2 threads x 1000
 *   trace_prog forkthreads    forks while 4 threads race; the child takes a lock of its own 100
 *                             times (not counter_lock, which a racing thread may hold at the fork)
 *   trace_prog unpreload      clears LD_PRELOAD and runs itself again (race 2 1000): untraced
 *   trace_prog killed         a child with two threads that never end is killed (SIGKILL)
 *   trace_prog exitthreads    exit() while two threads sleep
 *   trace_prog execthreads    execvp of itself (exit 0) while a thread sleeps */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

pthread_mutex_t counter_lock = PTHREAD_MUTEX_INITIALIZER;
static long counter, iters;

/* Sleeps until its process ends. */
static void *sleeper(void *arg)
{
    (void)arg;
    for (;;)
        sleep(10);
    return NULL;
}

static void *racer(void *arg)
{
    (void)arg;
    for (long i = 0; i < iters; i++) {
        pthread_mutex_lock(&counter_lock);
        counter++;
        pthread_mutex_unlock(&counter_lock);
    }
    return NULL;
}

static void *holder(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&counter_lock);
    usleep(300000);
    pthread_mutex_unlock(&counter_lock);
    return NULL;
}

static pthread_mutex_t child_lock = PTHREAD_MUTEX_INITIALIZER;

static void race(int n)
{
    pthread_t t[64];
    for (int i = 0; i < n && i < 64; i++)
        pthread_create(&t[i], NULL, racer, NULL);
    for (int i = 0; i < n && i < 64; i++)
        pthread_join(t[i], NULL);
}

static pthread_mutex_t qmu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t qcv = PTHREAD_COND_INITIALIZER;
static long items, nitems, waits;

static void *consumer(void *arg)
{
    (void)arg;
    for (long got = 0; got < nitems; got++) {
        pthread_mutex_lock(&qmu);
        while (items == 0) {
            pthread_cond_wait(&qcv, &qmu);
            waits++;
        }
        items--;
        pthread_mutex_unlock(&qmu);
    }
    return NULL;
}

static sem_t ping, pong;
static void *ponger(void *arg)
{
    for (long i = 0; i < (long)arg; i++) {
        sem_wait(&ping);
        sem_post(&pong);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "race";
    if (!strcmp(mode, "race")) {
        int n = argc > 2 ? atoi(argv[2]) : 4;
        iters = argc > 3 ? atol(argv[3]) : 100000;
        pthread_t t[64];
        for (int i = 0; i < n && i < 64; i++)
            pthread_create(&t[i], NULL, racer, NULL);
        for (int i = 0; i < n && i < 64; i++)
            pthread_join(t[i], NULL);
        printf("counter %ld\n", counter);
    } else if (!strcmp(mode, "timed")) {
        pthread_t t;
        pthread_create(&t, NULL, holder, NULL);
        usleep(50000);
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 100000000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        int rc = pthread_mutex_timedlock(&counter_lock, &ts);
        printf("timedlock %s\n", rc == ETIMEDOUT ? "timed out" : "acquired");
        if (rc == 0)
            pthread_mutex_unlock(&counter_lock);
        pthread_join(t, NULL);
    } else if (!strcmp(mode, "cond")) {
        nitems = argc > 2 ? atol(argv[2]) : 1000;
        pthread_t t;
        pthread_create(&t, NULL, consumer, NULL);
        for (long i = 0; i < nitems; i++) {
            pthread_mutex_lock(&qmu);
            items++;
            pthread_cond_signal(&qcv);
            pthread_mutex_unlock(&qmu);
            if (i % 100 == 0)
                usleep(100);
        }
        pthread_join(t, NULL);
        printf("items %ld waits %ld\n", nitems, waits);
    } else if (!strcmp(mode, "fork")) {
        pid_t pid = fork();
        for (int i = 0; i < 1000; i++) {
            pthread_mutex_lock(&counter_lock);
            counter++;
            pthread_mutex_unlock(&counter_lock);
        }
        if (pid == 0)
            _exit(0);
        int st;
        waitpid(pid, &st, 0);
        printf("counter %ld\n", counter);
    } else if (!strcmp(mode, "sem")) {
        long n = argc > 2 ? atol(argv[2]) : 1000;
        sem_init(&ping, 0, 0);
        sem_init(&pong, 0, 0);
        pthread_t t;
        pthread_create(&t, NULL, ponger, (void *)n);
        for (long i = 0; i < n; i++) {
            sem_post(&ping);
            sem_wait(&pong);
        }
        pthread_join(t, NULL);
        printf("passes %ld\n", n);
    } else if (!strcmp(mode, "closefds")) {
        for (int fd = 3; fd < 4096; fd++)
            close(fd);
        iters = 1000;
        race(2);
        printf("counter %ld\n", counter);
    } else if (!strcmp(mode, "forkthreads")) {
        iters = 200000;
        pthread_t t[4];
        for (int i = 0; i < 4; i++)
            pthread_create(&t[i], NULL, racer, NULL);
        usleep(1000);
        pid_t pid = fork();
        if (pid == 0) {
            for (int i = 0; i < 100; i++) {
                pthread_mutex_lock(&child_lock);
                pthread_mutex_unlock(&child_lock);
            }
            _exit(0);
        }
        int st;
        waitpid(pid, &st, 0);
        for (int i = 0; i < 4; i++)
            pthread_join(t[i], NULL);
        printf("counter %ld child %d\n", counter, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    } else if (!strcmp(mode, "unpreload")) {
        unsetenv("LD_PRELOAD");
        execl("/proc/self/exe", argv[0], "race", "2", "1000", (char *)NULL);
        return 126;
    } else if (!strcmp(mode, "killed")) {
        pid_t pid = fork();
        if (pid == 0) {
            pthread_t t;
            pthread_create(&t, NULL, sleeper, NULL);
            for (;;)
                pause();
        }
        usleep(100000);
        kill(pid, SIGKILL);
        int st;
        waitpid(pid, &st, 0);
        printf("child %s\n", WIFSIGNALED(st) ? "killed" : "?");
    } else if (!strcmp(mode, "exitthreads")) {
        pthread_t t[2];
        for (int i = 0; i < 2; i++)
            pthread_create(&t[i], NULL, sleeper, NULL);
        usleep(50000);
        exit(0);
    } else if (!strcmp(mode, "execthreads")) {
        pthread_t t;
        pthread_create(&t, NULL, sleeper, NULL);
        usleep(50000);
        execlp(argv[0], argv[0], "exit", "0", (char *)NULL);
        return 126;
    } else if (!strcmp(mode, "exit")) {
        return argc > 2 ? atoi(argv[2]) : 0;
    }
    return 0;
}
