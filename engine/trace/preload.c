/*
 * libconcviz-trace.so: preloaded into a program by `concviz trace`, it records what the program's
 * threads do into the rings of the mapping named by CONCVIZ_TRACE (see shm.h), as the engine's
 * own primitives do in a run. It wraps the pthread, semaphore, sleep and blocking I/O calls of the
 * C library (the real ones are found with dlsym(RTLD_NEXT)); each wrapper records an event before
 * or after the real call, never holding anything of its own across it.
 *
 * Order matters where two lanes meet: a release is recorded before the real unlock, an
 * acquisition after the real lock returns, so that in time order a lock never has two holders.
 *
 * CPython 3.11's GIL is a mutex and a condition variable inside _PyRuntime: taking it locks the
 * mutex, waits on the condition (timed: the switch interval) while another thread holds it, and
 * unlocks; dropping it locks the mutex, signals the condition and unlocks. A thread made to drop
 * it (the switch interval passed) then waits on a second condition (switch_cond, with its own
 * mutex) until another thread has taken it, and asks for it again. The wrappers see those calls
 * on the four known addresses and record GIL events instead of locks: the GIL is waited for from
 * the first wait on either condition to the unlock that ends take_gil.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "concviz/ring.h"
#include "shm.h"

#define EXPORT __attribute__((visibility("default")))
#define TLS    __thread __attribute__((tls_model("initial-exec")))

/* ring.h stamps with the engine's clock: this library's copy, set from the mapping. */
struct cv_clock_state cv__clock;

static struct cv_trace_shm *g_shm;
static pid_t g_pid;
static pthread_key_t g_exit_key;
/* Objects retired in this process (destroyed, or made again at the same address): every thread's
 * cache of addresses is then stale. */
static _Atomic uint32_t g_retired;

/* The CPython GIL's parts, when this process is CPython 3.11 (0 otherwise). */
static uintptr_t g_gil_cond, g_gil_mutex, g_switch_cond, g_switch_mutex;
static uint32_t g_gil_obj = CV_NONE;

enum { T_NEW, T_ON, T_OFF, T_DONE };

struct tstate {
    struct cv_ring *ring;
    uint16_t lane;
    uint8_t state;    /* T_* */
    uint8_t busy;     /* inside a wrapper: calls the library makes itself are not traced */
    uint8_t gil_held; /* holds the GIL's mutex */
    uint8_t gil_signalled;
    uint8_t gil_waited;
    uint8_t named; /* its lane's name is the one the thread gave itself */
    uintptr_t cache_addr[8];
    uint32_t cache_id[8];
    uint32_t cache_gen; /* g_retired when the cache was last valid */
    /* An uncontended mutex acquisition not recorded yet (pend_addr 0: none): the thread's
     * release of the mutex records both as one lock.pair event; any other event of the thread
     * records the acquisition first, as lock.held (pend_flush). Semaphores are not folded: one
     * is often posted by another thread than the one that took it. */
    uintptr_t pend_addr;
    uint64_t pend_ts;
    uint32_t pend_obj;
};
static TLS struct tstate T;

/* ------------------------------------------------------------------ the real calls */

#define REAL(ret, name, args) static ret(*real_##name) args
REAL(int, pthread_create, (pthread_t *, const pthread_attr_t *, void *(*)(void *), void *));
REAL(int, pthread_join, (pthread_t, void **));
REAL(int, pthread_setname_np, (pthread_t, const char *));
REAL(int, pthread_mutex_lock, (pthread_mutex_t *));
REAL(int, pthread_mutex_trylock, (pthread_mutex_t *));
REAL(int, pthread_mutex_timedlock, (pthread_mutex_t *, const struct timespec *));
REAL(int, pthread_mutex_unlock, (pthread_mutex_t *));
REAL(int, pthread_cond_wait, (pthread_cond_t *, pthread_mutex_t *));
REAL(int, pthread_cond_timedwait, (pthread_cond_t *, pthread_mutex_t *, const struct timespec *));
REAL(int, pthread_cond_clockwait,
     (pthread_cond_t *, pthread_mutex_t *, clockid_t, const struct timespec *));
REAL(int, pthread_cond_signal, (pthread_cond_t *));
REAL(int, pthread_cond_broadcast, (pthread_cond_t *));
REAL(int, pthread_rwlock_rdlock, (pthread_rwlock_t *));
REAL(int, pthread_rwlock_wrlock, (pthread_rwlock_t *));
REAL(int, pthread_rwlock_tryrdlock, (pthread_rwlock_t *));
REAL(int, pthread_rwlock_trywrlock, (pthread_rwlock_t *));
REAL(int, pthread_rwlock_unlock, (pthread_rwlock_t *));
REAL(int, pthread_barrier_wait, (pthread_barrier_t *));
REAL(int, sem_wait, (sem_t *));
REAL(int, sem_trywait, (sem_t *));
REAL(int, sem_timedwait, (sem_t *, const struct timespec *));
REAL(int, sem_clockwait, (sem_t *, clockid_t, const struct timespec *));
REAL(int, sem_post, (sem_t *));
REAL(int, sem_init, (sem_t *, int, unsigned));
REAL(int, sem_destroy, (sem_t *));
REAL(int, pthread_mutex_init, (pthread_mutex_t *, const pthread_mutexattr_t *));
REAL(int, pthread_mutex_destroy, (pthread_mutex_t *));
REAL(int, nanosleep, (const struct timespec *, struct timespec *));
REAL(int, clock_nanosleep, (clockid_t, int, const struct timespec *, struct timespec *));
REAL(int, usleep, (useconds_t));
REAL(unsigned, sleep, (unsigned));
REAL(ssize_t, read, (int, void *, size_t));
REAL(ssize_t, write, (int, const void *, size_t));
REAL(ssize_t, recv, (int, void *, size_t, int));
REAL(ssize_t, send, (int, const void *, size_t, int));
REAL(ssize_t, recvfrom, (int, void *, size_t, int, struct sockaddr *, socklen_t *));
REAL(ssize_t, sendto, (int, const void *, size_t, int, const struct sockaddr *, socklen_t));
REAL(int, accept, (int, struct sockaddr *, socklen_t *));
REAL(int, accept4, (int, struct sockaddr *, socklen_t *, int));
REAL(int, connect, (int, const struct sockaddr *, socklen_t));
REAL(int, poll, (struct pollfd *, nfds_t, int));
REAL(int, select, (int, fd_set *, fd_set *, fd_set *, struct timeval *));
REAL(int, epoll_wait, (int, struct epoll_event *, int, int));
REAL(int, execve, (const char *, char *const[], char *const[]));
REAL(void, _exit, (int)) __attribute__((noreturn));
REAL(pid_t, waitpid, (pid_t, int *, int));
REAL(pid_t, wait4, (pid_t, int *, int, struct rusage *));
REAL(int, waitid, (idtype_t, id_t, siginfo_t *, int));

static void *find(const char *name, const char *version)
{
    void *p = version ? dlvsym(RTLD_NEXT, name, version) : NULL;
    return p ? p : dlsym(RTLD_NEXT, name);
}
#define FIND(name)      real_##name = (__typeof__(real_##name))find(#name, NULL)
#define FIND_V(name, v) real_##name = (__typeof__(real_##name))find(#name, v)

static void find_all(void)
{
    FIND(pthread_create), FIND(pthread_join), FIND(pthread_setname_np);
    FIND(pthread_mutex_lock), FIND(pthread_mutex_trylock), FIND(pthread_mutex_timedlock);
    FIND(pthread_mutex_unlock);
    /* the default versions: a plain dlsym finds the compatibility ones of glibc 2.2.5 */
    FIND_V(pthread_cond_wait, "GLIBC_2.3.2"), FIND_V(pthread_cond_timedwait, "GLIBC_2.3.2");
    FIND_V(pthread_cond_signal, "GLIBC_2.3.2"), FIND_V(pthread_cond_broadcast, "GLIBC_2.3.2");
    FIND(pthread_cond_clockwait);
    FIND(pthread_rwlock_rdlock), FIND(pthread_rwlock_wrlock), FIND(pthread_rwlock_tryrdlock);
    FIND(pthread_rwlock_trywrlock), FIND(pthread_rwlock_unlock), FIND(pthread_barrier_wait);
    FIND(sem_wait), FIND(sem_trywait), FIND(sem_timedwait), FIND(sem_clockwait), FIND(sem_post);
    FIND(sem_init), FIND(sem_destroy), FIND(pthread_mutex_init), FIND(pthread_mutex_destroy);
    FIND(nanosleep), FIND(clock_nanosleep), FIND(usleep), FIND(sleep);
    FIND(read), FIND(write), FIND(recv), FIND(send), FIND(recvfrom), FIND(sendto);
    FIND(accept), FIND(accept4), FIND(connect), FIND(poll), FIND(select), FIND(epoll_wait);
    FIND(execve), FIND(_exit), FIND(waitpid), FIND(wait4), FIND(waitid);
}

/* A wrapper called before the constructor ran (another library's constructor). dlsym does not
 * call back into a wrapped function in glibc 2.36 (its locks are the loader's own), so finding
 * the real functions cannot recurse. */
#define ENSURE(name)      \
    do {                  \
        if (!real_##name) \
            find_all();   \
    } while (0)

/* ------------------------------------------------------------------ lanes */

static void lane_name(struct cv_trace_lane *l, const char *name)
{
    uint32_t g = atomic_load_explicit(&l->name_gen, memory_order_relaxed);
    atomic_store_explicit(&l->name_gen, g + 1, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
    char buf[CV_NAME_MAX];
    snprintf(buf, sizeof buf, "%s", name);
    for (char *c = buf; *c; c++)
        if ((unsigned char)*c < 0x20)
            *c = ' ';
    memcpy(l->name, buf, sizeof buf);
    atomic_store_explicit(&l->name_gen, g + 2, memory_order_release);
}

static void pend_flush(void)
{
    cv_ring_record_since(T.ring, CV_EV_LOCK_HELD, T.lane, T.lane, T.pend_obj, T.pend_ts);
    T.pend_addr = 0;
}

static inline void emit(unsigned kind, uint32_t obj, uint64_t arg)
{
    if (__builtin_expect(T.pend_addr != 0, 0))
        pend_flush();
    cv_ring_record(T.ring, kind, T.lane, T.lane, obj, arg);
}

/* An uncontended acquisition of mutex obj at p, just made: stamped now, recorded later. */
static inline void pend_begin(const void *p, uint32_t obj)
{
    if (__builtin_expect(T.pend_addr != 0, 0))
        pend_flush(); /* one pending at a time: an outer hold is recorded now */
    T.pend_ts = cv_clock_stamp();
    T.pend_addr = (uintptr_t)p;
    T.pend_obj = obj;
}

/* The release of p: if its acquisition is pending, stamps the release (the caller records it
 * with pend_end once the real release is made, outside the critical section) and returns true. */
static inline bool pend_release(const void *p, uint64_t *now)
{
    if (T.pend_addr != (uintptr_t)p)
        return false;
    *now = cv_clock_stamp();
    return true;
}

static inline void pend_end(uint64_t now)
{
    T.pend_addr = 0;
    cv_ring_record_at(T.ring, now, CV_EV_LOCK_PAIR, T.lane, T.lane, T.pend_obj, now - T.pend_ts);
}

/* The calling thread's lane, claimed on its first traced call; false when it has none. */
static bool lane_claim(void)
{
    if (!g_shm || T.state == T_OFF || T.state == T_DONE)
        return false;
    uint32_t id = atomic_fetch_add(&g_shm->nlanes, 1);
    if (id >= g_shm->max_lanes || id > UINT16_MAX) {
        T.state = T_OFF;
        return false;
    }
    struct cv_trace_lane *l = &cv_trace_lanes(g_shm)[id];
    l->pid = g_pid;
    l->tid = (int32_t)syscall(SYS_gettid);
    char comm[17] = "";
    prctl(PR_GET_NAME, comm, 0, 0, 0);
    char name[CV_NAME_MAX];
    snprintf(name, sizeof name, "%.16s:%d", comm, l->tid);
    lane_name(l, name);
    T.ring = cv_ring_init(cv_trace_ring_mem(g_shm, id), g_shm->ring_capacity);
    T.lane = (uint16_t)id;
    T.state = T_ON;
    atomic_store_explicit(&l->state, CV_TRACE_READY, memory_order_release);
    pthread_setspecific(g_exit_key, (void *)1);
    /* the thread is the lane's one task: submitted, started and, at its end, completed */
    emit(CV_EV_WORKER_START, 0, 0);
    emit(CV_EV_TASK_SUBMIT, 0, 0);
    emit(CV_EV_TASK_START, 0, 0);
    return true;
}

static void lane_end(void)
{
    if (T.state != T_ON)
        return;
    emit(CV_EV_TASK_END, 0, 0);
    emit(CV_EV_WORKER_EXIT, 0, 0);
    atomic_store_explicit(&cv_trace_lanes(g_shm)[T.lane].ended, 1, memory_order_release);
    T.state = T_DONE;
}

/* The thread to trace this call on: set up, not inside another wrapper. */
static inline bool on(void)
{
    if (__builtin_expect(T.state == T_ON, 1))
        return !T.busy;
    if (T.state == T_NEW && !T.busy)
        return lane_claim();
    return false;
}

/* This process is leaving (exit, _exit) or has left an image behind (exec): each of its lanes
 * still open is stamped with when, which concviz gives them as their end once the threads are
 * gone (a thread that is killed with its process records nothing). `gone`: they are already. */
static void process_leaving(bool gone)
{
    if (!g_shm)
        return;
    uint64_t now = cv_clock_stamp();
    uint32_t n = atomic_load_explicit(&g_shm->nlanes, memory_order_acquire);
    if (n > g_shm->max_lanes)
        n = g_shm->max_lanes;
    struct cv_trace_lane *lanes = cv_trace_lanes(g_shm);
    for (uint32_t i = 0; i < n; i++) {
        struct cv_trace_lane *l = &lanes[i];
        if (atomic_load_explicit(&l->state, memory_order_acquire) != CV_TRACE_READY ||
            l->pid != g_pid || atomic_load_explicit(&l->ended, memory_order_relaxed))
            continue;
        uint64_t none = 0;
        atomic_compare_exchange_strong(&l->exit_ts, &none, now);
        if (gone)
            atomic_store_explicit(&l->gone, 1, memory_order_release);
    }
}

static void on_thread_exit(void *arg)
{
    (void)arg;
    lane_end();
}

/* ------------------------------------------------------------------ objects */

static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    return x;
}

/* The program's own data symbols (its .symtab: a global such as counter_lock is not in the
 * dynamic symbols dladdr reads unless the program was linked with -rdynamic), read once. */
struct sym {
    uintptr_t addr, size;
    const char *name; /* in the file's mapping, kept */
};
static struct sym *g_syms;
static size_t g_nsyms;
/* 0: not read, 1: a thread is reading it, 2: read (g_syms and g_nsyms published). Threads that
 * name an object meanwhile wait for it: reading it, as it was, on sight of a flag set before
 * the table was filled, named their objects by address (and a child forked during the read
 * inherited a flag saying read and an empty table, which after_fork_child now resets). */
static _Atomic int g_syms_state;

static int first_object(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    *(uintptr_t *)data = info->dlpi_addr; /* the first is the program itself */
    return 1;
}

static void syms_read(void)
{
    uintptr_t base = 0;
    dl_iterate_phdr(first_object, &base);
    int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || (size_t)st.st_size < sizeof(Elf64_Ehdr)) {
        if (fd >= 0)
            close(fd);
        return;
    }
    size_t len = (size_t)st.st_size;
    const char *f = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (f == MAP_FAILED)
        return;
    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)(const void *)f;
    if (memcmp(eh->e_ident, ELFMAG, SELFMAG) || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
        eh->e_shoff + (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr) > len) {
        munmap((void *)f, len);
        return;
    }
    const Elf64_Shdr *sh = (const Elf64_Shdr *)(const void *)(f + eh->e_shoff);
    for (unsigned i = 0; i < eh->e_shnum; i++) {
        if (sh[i].sh_type != SHT_SYMTAB || sh[i].sh_link >= eh->e_shnum)
            continue;
        const Elf64_Shdr *strs = &sh[sh[i].sh_link];
        if (sh[i].sh_offset + sh[i].sh_size > len || strs->sh_offset + strs->sh_size > len)
            continue;
        const Elf64_Sym *sy = (const Elf64_Sym *)(const void *)(f + sh[i].sh_offset);
        size_t n = sh[i].sh_size / sizeof *sy;
        /* mmap, not malloc: a program's own allocator may take a wrapped mutex */
        void *mem = mmap(NULL, n * sizeof *g_syms + 1, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (mem == MAP_FAILED)
            return;
        g_syms = mem;
        for (size_t k = 0; k < n; k++)
            if (ELF64_ST_TYPE(sy[k].st_info) == STT_OBJECT && sy[k].st_size &&
                sy[k].st_shndx != SHN_UNDEF && sy[k].st_name < strs->sh_size)
                g_syms[g_nsyms++] = (struct sym){base + sy[k].st_value, sy[k].st_size,
                                                 f + strs->sh_offset + sy[k].st_name};
        return;
    }
    munmap((void *)f, len);
}

/* "name" or "name+offset" for an address inside one of the program's globals, else NULL. */
static bool sym_name(uintptr_t addr, char *out, size_t n)
{
    Dl_info di;
    if (dladdr((void *)addr, &di) && di.dli_sname && (uintptr_t)di.dli_saddr == addr) {
        snprintf(out, n, "%s", di.dli_sname);
        return true;
    }
    int st = atomic_load_explicit(&g_syms_state, memory_order_acquire);
    if (st != 2) {
        int expect = 0;
        if (st == 0 && atomic_compare_exchange_strong(&g_syms_state, &expect, 1)) {
            syms_read();
            atomic_store_explicit(&g_syms_state, 2, memory_order_release);
        } else {
            struct timespec pause = {0, 100000};
            while (atomic_load_explicit(&g_syms_state, memory_order_acquire) != 2)
                nanosleep(&pause, NULL);
        }
    }
    for (size_t i = 0; i < g_nsyms; i++)
        if (addr >= g_syms[i].addr && addr < g_syms[i].addr + g_syms[i].size) {
            if (addr == g_syms[i].addr)
                snprintf(out, n, "%s", g_syms[i].name);
            else
                snprintf(out, n, "%s+%lu", g_syms[i].name, (unsigned long)(addr - g_syms[i].addr));
            return true;
        }
    return false;
}

static void obj_name(struct cv_trace_obj *o, uintptr_t addr, unsigned kind)
{
    if (kind == CV_OBJ_GIL)
        snprintf(o->name, sizeof o->name, "GIL");
    else if (sym_name(addr, o->name, sizeof o->name))
        ;
    else
        snprintf(o->name, sizeof o->name, "0x%lx", (unsigned long)addr);
    /* in another process (a forked child's copy, another interpreter's GIL) it is another
     * object: the first process's keep their plain names */
    if (g_pid != (pid_t)cv_trace_lanes(g_shm)[0].pid) {
        size_t n = strlen(o->name);
        snprintf(o->name + n, sizeof o->name - n, ":%d", (int)g_pid);
    }
}

/* The id of the object at addr in this process, claimed on first sight; CV_NONE past the budget. */
static uint32_t obj_id(const void *p, unsigned kind)
{
    uintptr_t addr = (uintptr_t)p;
    unsigned c = (unsigned)(addr >> 4) & 7;
    uint32_t gen = atomic_load_explicit(&g_retired, memory_order_acquire);
    if (__builtin_expect(gen != T.cache_gen, 0)) {
        memset(T.cache_addr, 0, sizeof T.cache_addr);
        T.cache_gen = gen;
    }
    if (T.cache_addr[c] == addr)
        return T.cache_id[c];
    struct cv_trace_obj *tab = cv_trace_objs(g_shm);
    uint32_t mask = g_shm->obj_slots - 1;
    uint32_t i = (uint32_t)mix(addr ^ ((uint64_t)g_pid << 48)) & mask;
    for (uint32_t n = 0; n <= mask; n++, i = (i + 1) & mask) {
        struct cv_trace_obj *o = &tab[i];
        uint32_t st = atomic_load_explicit(&o->state, memory_order_acquire);
        if (st == CV_TRACE_FREE) {
            uint32_t expect = CV_TRACE_FREE;
            if (!atomic_compare_exchange_strong(&o->state, &expect, CV_TRACE_CLAIMED)) {
                st = expect;
            } else {
                uint32_t id = atomic_fetch_add(&g_shm->nobjs, 1);
                o->addr = addr;
                o->pid = g_pid;
                if (id >= g_shm->max_objs) {
                    atomic_fetch_add(&g_shm->objs_untraced, 1);
                    o->id = CV_NONE;
                } else {
                    o->id = id;
                }
                o->kind = kind;
                uint8_t busy = T.busy;
                T.busy = 1; /* what naming calls is not traced */
                obj_name(o, addr, kind);
                T.busy = busy;
                atomic_store_explicit(&o->state, CV_TRACE_READY, memory_order_release);
                st = CV_TRACE_READY;
            }
        }
        while (st == CV_TRACE_CLAIMED)
            st = atomic_load_explicit(&o->state, memory_order_acquire);
        if (o->addr == addr && o->pid == g_pid) {
            T.cache_addr[c] = addr;
            T.cache_id[c] = o->id;
            return o->id;
        }
    }
    return CV_NONE;
}

/* The object at addr is gone (destroyed, or made anew): the next one there is another object.
 * Python's locks are malloc'd sem_t, freed and their memory reused. */
static void obj_retire(const void *p)
{
    if (!g_shm)
        return;
    uintptr_t addr = (uintptr_t)p;
    struct cv_trace_obj *tab = cv_trace_objs(g_shm);
    uint32_t mask = g_shm->obj_slots - 1;
    uint32_t i = (uint32_t)mix(addr ^ ((uint64_t)g_pid << 48)) & mask;
    for (uint32_t n = 0; n <= mask; n++, i = (i + 1) & mask) {
        struct cv_trace_obj *o = &tab[i];
        uint32_t st = atomic_load_explicit(&o->state, memory_order_acquire);
        if (st == CV_TRACE_FREE)
            return;
        if (st == CV_TRACE_READY && o->addr == addr && o->pid == g_pid) {
            o->addr = addr | 1ull << 63; /* no user address: lookups pass it by */
            atomic_fetch_add_explicit(&g_retired, 1, memory_order_release);
            return;
        }
    }
}

/* The id of a text (what a lane waits in), claimed on first sight; CV_NONE when the table is
 * full. Formatting and hashing cost less than the system call the text is about. */
static uint32_t text_id(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static uint32_t text_id(const char *fmt, ...)
{
    char buf[CV_TRACE_TEXT_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    uint64_t h = 1469598103934665603ull;
    for (const char *c = buf; *c; c++)
        h = (h ^ (unsigned char)*c) * 1099511628211ull;
    struct cv_trace_text *tx = cv_trace_texts(g_shm);
    for (uint32_t n = 0, i = (uint32_t)h % CV_TRACE_TEXTS; n < CV_TRACE_TEXTS;
         n++, i = (i + 1) % CV_TRACE_TEXTS) {
        uint32_t st = atomic_load_explicit(&tx[i].state, memory_order_acquire);
        if (st == CV_TRACE_FREE) {
            uint32_t expect = CV_TRACE_FREE;
            if (atomic_compare_exchange_strong(&tx[i].state, &expect, CV_TRACE_CLAIMED)) {
                memcpy(tx[i].text, buf, sizeof buf);
                atomic_store_explicit(&tx[i].state, CV_TRACE_READY, memory_order_release);
                return i;
            }
            st = expect;
        }
        while (st == CV_TRACE_CLAIMED)
            st = atomic_load_explicit(&tx[i].state, memory_order_acquire);
        if (!strncmp(tx[i].text, buf, sizeof buf))
            return i;
    }
    return CV_NONE;
}

/* ------------------------------------------------------------------ set-up */

static void gil_find(void)
{
    const unsigned long *ver = dlsym(RTLD_DEFAULT, "Py_Version");
    char *rt = dlsym(RTLD_DEFAULT, "_PyRuntime");
    if (!ver)
        return;
    unsigned long v = *ver;
    snprintf(g_shm->python, sizeof g_shm->python, "%lu.%lu.%lu", v >> 24, (v >> 16) & 255,
             (v >> 8) & 255);
    atomic_store(&g_shm->python_seen, 1);
    /* CPython 3.11, a release build: struct _gil_runtime_state sits at offset 360 of _PyRuntime
     * (interval, last_holder, locked, switch_number, then cond at 392 and mutex at 440) */
    if (rt && (v >> 16) == 0x030b) {
        g_gil_cond = (uintptr_t)(rt + 392);
        g_gil_mutex = (uintptr_t)(rt + 440);
        g_switch_cond = (uintptr_t)(rt + 480);
        g_switch_mutex = (uintptr_t)(rt + 528);
        T.busy = 1;
        g_gil_obj = obj_id((void *)g_gil_mutex, CV_OBJ_GIL);
        T.busy = 0;
        atomic_store(&g_shm->gil_found, 1);
    } else {
        atomic_store(&g_shm->gil_unknown, 1);
    }
}

static void after_fork_child(void)
{
    g_pid = getpid();
    if (atomic_load(&g_syms_state) == 1) { /* its reader is not in this process: read it again */
        g_syms = NULL;
        g_nsyms = 0;
        atomic_store(&g_syms_state, 0);
    }
    atomic_fetch_add(&g_shm->processes, 1);
    memset(T.cache_addr, 0, sizeof T.cache_addr);
    /* the forking thread's lane stays the parent's: the child's thread gets a lane of its own,
     * with the name the thread gave itself, which it keeps in the child (Python's MainThread) */
    char name[CV_NAME_MAX] = "";
    if (T.named && T.state == T_ON)
        memcpy(name, cv_trace_lanes(g_shm)[T.lane].name, sizeof name);
    name[CV_NAME_MAX - 1] = 0;
    T.state = T_NEW;
    T.busy = 0;
    T.gil_held = 0;
    T.pend_addr = 0; /* a hold pending in the parent is the parent's lane's */
    if (g_gil_mutex) {
        g_gil_obj = CV_NONE;
        T.busy = 1;
        g_gil_obj = obj_id((void *)g_gil_mutex, CV_OBJ_GIL);
        T.busy = 0;
    }
    if (lane_claim() && name[0])
        lane_name(&cv_trace_lanes(g_shm)[T.lane], name);
    else
        T.named = 0;
}

__attribute__((constructor)) static void trace_init(void)
{
    find_all();
    const char *path = getenv(CV_TRACE_ENV);
    if (!path)
        return;
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return;
    struct cv_trace_shm head;
    if (pread(fd, &head, sizeof head, 0) != (ssize_t)sizeof head || head.magic != CV_TRACE_MAGIC ||
        head.version != CV_TRACE_VERSION) {
        close(fd);
        return;
    }
    void *m = mmap(NULL, head.size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd, 0);
    close(fd);
    if (m == MAP_FAILED)
        return;
    g_shm = m;
    g_pid = getpid();
    cv__clock.source = (enum cv_clock_source)g_shm->clock_source;
    pthread_key_create(&g_exit_key, on_thread_exit);
    pthread_atfork(NULL, NULL, after_fork_child);
    atomic_fetch_add(&g_shm->processes, 1);
    /* a lane of this pid still open is a thread of the image this one replaced (execve,
     * execvp, posix_spawn's child): all of them ended at the exec */
    process_leaving(true);
    lane_claim();
    gil_find();
}

__attribute__((destructor)) static void trace_fini(void)
{
    lane_end();
    process_leaving(false);
}

/* _exit (os._exit in Python, a forked child's usual way out) runs no destructor. */
EXPORT void _exit(int status) __attribute__((noreturn));
EXPORT void _exit(int status)
{
    ENSURE(_exit);
    if (getpid() == g_pid) { /* not a vfork child, which shares the parent's memory and TLS */
        lane_end();
        process_leaving(false);
    }
    real__exit(status);
}
EXPORT void _Exit(int status) __attribute__((noreturn, alias("_exit")));

/* Python's threads name themselves through this (the start-up hook concviz puts on the
 * interpreter's path); any program may call it. */
EXPORT void concviz_trace_name_thread(const char *name);
EXPORT void concviz_trace_name_thread(const char *name)
{
    if (!name || !on())
        return;
    lane_name(&cv_trace_lanes(g_shm)[T.lane], name);
    T.named = 1;
}

/* ------------------------------------------------------------------ threads */

/* A new thread's routine and argument, passed to it through a fixed pool (the wrappers allocate
 * nothing); with every slot in use the thread starts unwrapped and claims its lane at its first
 * traced call instead. */
struct start {
    void *(*fn)(void *);
    void *arg;
};
#define START_SLOTS 256
static struct start g_starts[START_SLOTS];
static _Atomic uint8_t g_start_used[START_SLOTS];

static struct start *start_get(void)
{
    for (unsigned i = 0; i < START_SLOTS; i++) {
        uint8_t free_slot = 0;
        if (atomic_compare_exchange_strong(&g_start_used[i], &free_slot, 1))
            return &g_starts[i];
    }
    return NULL;
}

static void start_put(struct start *s)
{
    atomic_store(&g_start_used[s - g_starts], 0);
}

static void *thread_main(void *p)
{
    struct start s = *(struct start *)p;
    start_put(p);
    on();
    return s.fn(s.arg);
}

EXPORT int pthread_create(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *), void *arg)
{
    ENSURE(pthread_create);
    struct start *s = g_shm ? start_get() : NULL;
    if (!s)
        return real_pthread_create(t, attr, fn, arg);
    s->fn = fn;
    s->arg = arg;
    int rc = real_pthread_create(t, attr, thread_main, s);
    if (rc)
        start_put(s);
    return rc;
}

EXPORT int pthread_setname_np(pthread_t t, const char *name)
{
    ENSURE(pthread_setname_np);
    int rc = real_pthread_setname_np(t, name);
    if (rc == 0 && pthread_equal(t, pthread_self()))
        concviz_trace_name_thread(name);
    return rc;
}

/* ------------------------------------------------------------------ I/O, sleeps, joins */

/* An I/O wait of this kind, named by a text (its id is only made when the call is traced) */
#define IO_BEGIN(kind, text) \
    bool traced_ = on() && (T.busy = 1, emit(CV_EV_IO_BEGIN, (text), kind), 1)
#define IO_END()                            \
    do {                                    \
        if (traced_) {                      \
            int e_ = errno;                 \
            emit(CV_EV_IO_END, CV_NONE, 0); \
            T.busy = 0;                     \
            errno = e_;                     \
        }                                   \
    } while (0)

EXPORT int pthread_join(pthread_t t, void **ret)
{
    ENSURE(pthread_join);
    IO_BEGIN(CV_IO_WAIT, text_id("pthread_join"));
    int rc = real_pthread_join(t, ret);
    IO_END();
    return rc;
}

/* ------------------------------------------------------------------ GIL */

static void gil_unlock_event(void)
{
    /* drop_gil signals the condition before unlocking; take_gil never does */
    emit(T.gil_signalled ? CV_EV_GIL_RELEASE : CV_EV_GIL_ACQUIRE, g_gil_obj, 0);
    T.gil_held = T.gil_signalled = T.gil_waited = 0;
}

/* The GIL's parts that are not the GIL itself: passed through untraced. */
static inline bool gil_internal(const void *p)
{
    return g_gil_mutex && ((uintptr_t)p == g_switch_mutex || (uintptr_t)p == g_switch_cond);
}

/* ------------------------------------------------------------------ mutexes */

/* The lock calls in one shape: the lock, and a deadline where the call takes one. */
static int t_mutex(void *m)
{
    return real_pthread_mutex_trylock(m);
}
static int w_mutex(void *m, const void *t)
{
    (void)t;
    return real_pthread_mutex_lock(m);
}
static int w_mutex_timed(void *m, const void *t)
{
    return real_pthread_mutex_timedlock(m, t);
}
static int t_rdlock(void *rw)
{
    return real_pthread_rwlock_tryrdlock(rw);
}
static int w_rdlock(void *rw, const void *t)
{
    (void)t;
    return real_pthread_rwlock_rdlock(rw);
}
static int t_wrlock(void *rw)
{
    return real_pthread_rwlock_trywrlock(rw);
}
static int w_wrlock(void *rw, const void *t)
{
    (void)t;
    return real_pthread_rwlock_wrlock(rw);
}

/* One acquisition of a mutex or rwlock: the try first, so an uncontended one records no wait;
 * else the wait, then the acquisition or the wait given up (a timeout, an error). */
static int lock_traced(void *lock, int (*try)(void *), int (*wait)(void *, const void *),
                       const void *deadline, bool fold)
{
    uint32_t obj = obj_id(lock, CV_OBJ_MUTEX);
    if (obj == CV_NONE)
        return wait(lock, deadline);
    int rc = try(lock);
    if (rc == 0 && fold) { /* uncontended: recorded with its release, or before the next event */
        pend_begin(lock, obj);
        return 0;
    }
    if (rc == EBUSY) {
        emit(CV_EV_LOCK_WAIT, obj, 0);
        rc = wait(lock, deadline);
        if (rc)
            emit(CV_EV_WAIT_TIMEOUT, obj, 0);
    }
    if (rc == 0)
        emit(CV_EV_LOCK_ACQUIRE, obj, 0);
    return rc;
}

EXPORT int pthread_mutex_lock(pthread_mutex_t *m)
{
    ENSURE(pthread_mutex_lock);
    if (!on())
        return real_pthread_mutex_lock(m);
    if ((uintptr_t)m == g_gil_mutex) {
        int rc = real_pthread_mutex_lock(m);
        T.gil_held = rc == 0;
        T.gil_signalled = 0;
        return rc;
    }
    if (gil_internal(m))
        return real_pthread_mutex_lock(m);
    return lock_traced(m, t_mutex, w_mutex, NULL, true);
}

EXPORT int pthread_mutex_trylock(pthread_mutex_t *m)
{
    ENSURE(pthread_mutex_trylock);
    int rc = real_pthread_mutex_trylock(m);
    if (rc == 0 && on()) {
        if ((uintptr_t)m == g_gil_mutex) {
            T.gil_held = 1;
            T.gil_signalled = 0;
            return rc;
        }
        if (gil_internal(m))
            return rc;
        uint32_t obj = obj_id(m, CV_OBJ_MUTEX);
        if (obj != CV_NONE)
            pend_begin(m, obj);
    }
    return rc;
}

EXPORT int pthread_mutex_timedlock(pthread_mutex_t *m, const struct timespec *abs)
{
    ENSURE(pthread_mutex_timedlock);
    if (!on() || (uintptr_t)m == g_gil_mutex || gil_internal(m))
        return real_pthread_mutex_timedlock(m, abs);
    return lock_traced(m, t_mutex, w_mutex_timed, abs, true);
}

EXPORT int pthread_mutex_unlock(pthread_mutex_t *m)
{
    ENSURE(pthread_mutex_unlock);
    uint64_t now;
    if (T.pend_addr && on() && pend_release(m, &now)) {
        int rc = real_pthread_mutex_unlock(m);
        pend_end(now);
        return rc;
    }
    if (on()) {
        if ((uintptr_t)m == g_gil_mutex) {
            if (T.gil_held)
                gil_unlock_event();
        } else if (!gil_internal(m)) {
            uint32_t obj = obj_id(m, CV_OBJ_MUTEX);
            if (obj != CV_NONE)
                emit(CV_EV_LOCK_RELEASE, obj, 0);
        }
    }
    return real_pthread_mutex_unlock(m);
}

/* ------------------------------------------------------------------ condition variables */

/* A wait on a condition releases its mutex, waits, and takes the mutex back: the mutex is
 * released and acquired again, and the lane waits in between (shown as I/O of kind wait). */
static uint32_t cond_begin(pthread_cond_t *c, pthread_mutex_t *m)
{
    if (((uintptr_t)c == g_gil_cond && (uintptr_t)m == g_gil_mutex) ||
        ((uintptr_t)c == g_switch_cond && (uintptr_t)m == g_switch_mutex)) {
        if (!T.gil_waited)
            emit(CV_EV_GIL_WAIT, g_gil_obj, 0);
        T.gil_waited = 1;
        return CV_NONE;
    }
    uint32_t obj = obj_id(m, CV_OBJ_MUTEX);
    if (obj != CV_NONE)
        emit(CV_EV_LOCK_RELEASE, obj, 0);
    emit(CV_EV_IO_BEGIN, text_id("pthread_cond_wait on 0x%lx", (unsigned long)(uintptr_t)c),
         CV_IO_WAIT);
    return obj;
}

static void cond_end(pthread_cond_t *c, pthread_mutex_t *m, uint32_t obj, int rc)
{
    if ((uintptr_t)c == g_gil_cond && (uintptr_t)m == g_gil_mutex) {
        if (rc == ETIMEDOUT)
            emit(CV_EV_GIL_DROP_REQUEST, g_gil_obj, 0);
        return;
    }
    if ((uintptr_t)c == g_switch_cond && (uintptr_t)m == g_switch_mutex)
        return;
    emit(CV_EV_IO_END, CV_NONE, 0);
    if (obj != CV_NONE)
        emit(CV_EV_LOCK_ACQUIRE, obj, 0);
}

EXPORT int pthread_cond_wait(pthread_cond_t *c, pthread_mutex_t *m)
{
    ENSURE(pthread_cond_wait);
    if (!on())
        return real_pthread_cond_wait(c, m);
    uint32_t obj = cond_begin(c, m);
    int rc = real_pthread_cond_wait(c, m);
    cond_end(c, m, obj, rc);
    return rc;
}

EXPORT int pthread_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m, const struct timespec *t)
{
    ENSURE(pthread_cond_timedwait);
    if (!on())
        return real_pthread_cond_timedwait(c, m, t);
    uint32_t obj = cond_begin(c, m);
    int rc = real_pthread_cond_timedwait(c, m, t);
    cond_end(c, m, obj, rc);
    return rc;
}

EXPORT int pthread_cond_clockwait(pthread_cond_t *c, pthread_mutex_t *m, clockid_t clk,
                                  const struct timespec *t)
{
    ENSURE(pthread_cond_clockwait);
    if (!on())
        return real_pthread_cond_clockwait(c, m, clk, t);
    uint32_t obj = cond_begin(c, m);
    int rc = real_pthread_cond_clockwait(c, m, clk, t);
    cond_end(c, m, obj, rc);
    return rc;
}

EXPORT int pthread_cond_signal(pthread_cond_t *c)
{
    ENSURE(pthread_cond_signal);
    if ((uintptr_t)c == g_gil_cond && T.gil_held)
        T.gil_signalled = 1;
    return real_pthread_cond_signal(c);
}

EXPORT int pthread_cond_broadcast(pthread_cond_t *c)
{
    ENSURE(pthread_cond_broadcast);
    return real_pthread_cond_broadcast(c);
}

/* ------------------------------------------------------------------ rwlocks, barriers */

EXPORT int pthread_rwlock_rdlock(pthread_rwlock_t *rw)
{
    ENSURE(pthread_rwlock_rdlock);
    return on() ? lock_traced(rw, t_rdlock, w_rdlock, NULL, false) : real_pthread_rwlock_rdlock(rw);
}

EXPORT int pthread_rwlock_wrlock(pthread_rwlock_t *rw)
{
    ENSURE(pthread_rwlock_wrlock);
    return on() ? lock_traced(rw, t_wrlock, w_wrlock, NULL, false) : real_pthread_rwlock_wrlock(rw);
}

static int rw_try(pthread_rwlock_t *rw, int (*try)(pthread_rwlock_t *))
{
    int rc = try(rw);
    if (rc == 0 && on()) {
        uint32_t obj = obj_id(rw, CV_OBJ_MUTEX);
        if (obj != CV_NONE)
            emit(CV_EV_LOCK_ACQUIRE, obj, 0);
    }
    return rc;
}

EXPORT int pthread_rwlock_tryrdlock(pthread_rwlock_t *rw)
{
    ENSURE(pthread_rwlock_tryrdlock);
    return rw_try(rw, real_pthread_rwlock_tryrdlock);
}

EXPORT int pthread_rwlock_trywrlock(pthread_rwlock_t *rw)
{
    ENSURE(pthread_rwlock_trywrlock);
    return rw_try(rw, real_pthread_rwlock_trywrlock);
}

EXPORT int pthread_rwlock_unlock(pthread_rwlock_t *rw)
{
    ENSURE(pthread_rwlock_unlock);
    if (on()) {
        uint32_t obj = obj_id(rw, CV_OBJ_MUTEX);
        if (obj != CV_NONE)
            emit(CV_EV_LOCK_RELEASE, obj, 0);
    }
    return real_pthread_rwlock_unlock(rw);
}

EXPORT int pthread_barrier_wait(pthread_barrier_t *b)
{
    ENSURE(pthread_barrier_wait);
    if (!on())
        return real_pthread_barrier_wait(b);
    uint32_t obj = obj_id(b, CV_OBJ_BARRIER);
    if (obj != CV_NONE)
        emit(CV_EV_BARRIER_WAIT, obj, 0);
    int rc = real_pthread_barrier_wait(b);
    if (obj != CV_NONE)
        emit(CV_EV_BARRIER_RELEASE, obj, 0);
    return rc;
}

/* ------------------------------------------------------------------ semaphores */

/* One acquisition: a try first (uncontended), else a wait recorded as one. threading.Lock is a
 * sem_t in CPython 3.11: each Python lock is one object, its acquisitions counted exactly. */
static int sem_acquire(sem_t *s, int (*wait)(sem_t *, const void *, clockid_t), const void *t,
                       clockid_t clk)
{
    uint32_t obj = obj_id(s, CV_OBJ_SEMAPHORE);
    if (obj == CV_NONE)
        return wait(s, t, clk);
    int rc = real_sem_trywait(s);
    if (rc != 0 && errno == EAGAIN) {
        emit(CV_EV_SEM_WAIT, obj, 0);
        rc = wait(s, t, clk);
        if (rc) {
            int e = errno;
            emit(CV_EV_WAIT_TIMEOUT, obj, 0);
            errno = e;
        }
    }
    if (rc == 0)
        emit(CV_EV_SEM_ACQUIRE, obj, 0);
    return rc;
}

static int w_plain(sem_t *s, const void *t, clockid_t clk)
{
    (void)t, (void)clk;
    return real_sem_wait(s);
}
static int w_timed(sem_t *s, const void *t, clockid_t clk)
{
    (void)clk;
    return real_sem_timedwait(s, t);
}
static int w_clock(sem_t *s, const void *t, clockid_t clk)
{
    return real_sem_clockwait(s, clk, t);
}

EXPORT int sem_wait(sem_t *s)
{
    ENSURE(sem_wait);
    if (!on())
        return real_sem_wait(s);
    return sem_acquire(s, w_plain, NULL, 0);
}

EXPORT int sem_timedwait(sem_t *s, const struct timespec *t)
{
    ENSURE(sem_timedwait);
    if (!on())
        return real_sem_timedwait(s, t);
    return sem_acquire(s, w_timed, t, 0);
}

EXPORT int sem_clockwait(sem_t *s, clockid_t clk, const struct timespec *t)
{
    ENSURE(sem_clockwait);
    if (!on())
        return real_sem_clockwait(s, clk, t);
    return sem_acquire(s, w_clock, t, clk);
}

EXPORT int sem_trywait(sem_t *s)
{
    ENSURE(sem_trywait);
    int rc = real_sem_trywait(s);
    if (rc == 0 && on()) {
        uint32_t obj = obj_id(s, CV_OBJ_SEMAPHORE);
        if (obj != CV_NONE)
            emit(CV_EV_SEM_ACQUIRE, obj, 0);
    }
    return rc;
}

EXPORT int sem_init(sem_t *s, int pshared, unsigned value)
{
    ENSURE(sem_init);
    obj_retire(s);
    return real_sem_init(s, pshared, value);
}

EXPORT int sem_destroy(sem_t *s)
{
    ENSURE(sem_destroy);
    obj_retire(s);
    return real_sem_destroy(s);
}

EXPORT int pthread_mutex_init(pthread_mutex_t *m, const pthread_mutexattr_t *a)
{
    ENSURE(pthread_mutex_init);
    obj_retire(m);
    return real_pthread_mutex_init(m, a);
}

EXPORT int pthread_mutex_destroy(pthread_mutex_t *m)
{
    ENSURE(pthread_mutex_destroy);
    obj_retire(m);
    return real_pthread_mutex_destroy(m);
}

EXPORT int sem_post(sem_t *s)
{
    ENSURE(sem_post);
    if (on()) {
        uint32_t obj = obj_id(s, CV_OBJ_SEMAPHORE);
        if (obj != CV_NONE)
            emit(CV_EV_SEM_RELEASE, obj, 0);
    }
    return real_sem_post(s);
}

/* ------------------------------------------------------------------ sleeps and I/O */

EXPORT int nanosleep(const struct timespec *req, struct timespec *rem)
{
    ENSURE(nanosleep);
    IO_BEGIN(CV_IO_SLEEP, text_id("sleep"));
    int rc = real_nanosleep(req, rem);
    IO_END();
    return rc;
}

EXPORT int clock_nanosleep(clockid_t clk, int flags, const struct timespec *req,
                           struct timespec *rem)
{
    ENSURE(clock_nanosleep);
    IO_BEGIN(CV_IO_SLEEP, text_id("sleep"));
    int rc = real_clock_nanosleep(clk, flags, req, rem);
    IO_END();
    return rc;
}

EXPORT int usleep(useconds_t us)
{
    ENSURE(usleep);
    IO_BEGIN(CV_IO_SLEEP, text_id("sleep"));
    int rc = real_usleep(us);
    IO_END();
    return rc;
}

/* Waiting for a child process (a shell running a command, a pool reaping a worker); a poll
 * (WNOHANG) is no wait. wait() is waitpid(-1, st, 0) in the C library itself. */
EXPORT pid_t waitpid(pid_t pid, int *st, int opt)
{
    ENSURE(waitpid);
    if (opt & WNOHANG)
        return real_waitpid(pid, st, opt);
    IO_BEGIN(CV_IO_WAIT, pid > 0 ? text_id("waitpid %d", (int)pid) : text_id("waitpid"));
    pid_t rc = real_waitpid(pid, st, opt);
    IO_END();
    return rc;
}

EXPORT pid_t wait(int *st)
{
    return waitpid(-1, st, 0);
}

EXPORT pid_t wait4(pid_t pid, int *st, int opt, struct rusage *ru)
{
    ENSURE(wait4);
    if (opt & WNOHANG)
        return real_wait4(pid, st, opt, ru);
    IO_BEGIN(CV_IO_WAIT, pid > 0 ? text_id("waitpid %d", (int)pid) : text_id("waitpid"));
    pid_t rc = real_wait4(pid, st, opt, ru);
    IO_END();
    return rc;
}

EXPORT int waitid(idtype_t type, id_t id, siginfo_t *info, int opt)
{
    ENSURE(waitid);
    if (opt & WNOHANG)
        return real_waitid(type, id, info, opt);
    IO_BEGIN(CV_IO_WAIT, text_id("waitid"));
    int rc = real_waitid(type, id, info, opt);
    IO_END();
    return rc;
}

EXPORT unsigned sleep(unsigned s)
{
    ENSURE(sleep);
    IO_BEGIN(CV_IO_SLEEP, text_id("sleep"));
    unsigned rc = real_sleep(s);
    IO_END();
    return rc;
}

EXPORT ssize_t read(int fd, void *buf, size_t n)
{
    ENSURE(read);
    IO_BEGIN(CV_IO_FD, text_id("read on fd %d", fd));
    ssize_t rc = real_read(fd, buf, n);
    IO_END();
    return rc;
}

EXPORT ssize_t write(int fd, const void *buf, size_t n)
{
    ENSURE(write);
    IO_BEGIN(CV_IO_FD, text_id("write on fd %d", fd));
    ssize_t rc = real_write(fd, buf, n);
    IO_END();
    return rc;
}

EXPORT ssize_t recv(int fd, void *buf, size_t n, int flags)
{
    ENSURE(recv);
    IO_BEGIN(CV_IO_FD, text_id("recv on fd %d", fd));
    ssize_t rc = real_recv(fd, buf, n, flags);
    IO_END();
    return rc;
}

EXPORT ssize_t send(int fd, const void *buf, size_t n, int flags)
{
    ENSURE(send);
    IO_BEGIN(CV_IO_FD, text_id("send on fd %d", fd));
    ssize_t rc = real_send(fd, buf, n, flags);
    IO_END();
    return rc;
}

EXPORT ssize_t recvfrom(int fd, void *buf, size_t n, int flags, struct sockaddr *a, socklen_t *al)
{
    ENSURE(recvfrom);
    IO_BEGIN(CV_IO_FD, text_id("recvfrom on fd %d", fd));
    ssize_t rc = real_recvfrom(fd, buf, n, flags, a, al);
    IO_END();
    return rc;
}

EXPORT ssize_t sendto(int fd, const void *buf, size_t n, int flags, const struct sockaddr *a,
                      socklen_t al)
{
    ENSURE(sendto);
    IO_BEGIN(CV_IO_FD, text_id("sendto on fd %d", fd));
    ssize_t rc = real_sendto(fd, buf, n, flags, a, al);
    IO_END();
    return rc;
}

EXPORT int accept(int fd, struct sockaddr *a, socklen_t *al)
{
    ENSURE(accept);
    IO_BEGIN(CV_IO_FD, text_id("accept on fd %d", fd));
    int rc = real_accept(fd, a, al);
    IO_END();
    return rc;
}

EXPORT int accept4(int fd, struct sockaddr *a, socklen_t *al, int flags)
{
    ENSURE(accept4);
    IO_BEGIN(CV_IO_FD, text_id("accept on fd %d", fd));
    int rc = real_accept4(fd, a, al, flags);
    IO_END();
    return rc;
}

EXPORT int connect(int fd, const struct sockaddr *a, socklen_t al)
{
    ENSURE(connect);
    IO_BEGIN(CV_IO_FD, text_id("connect on fd %d", fd));
    int rc = real_connect(fd, a, al);
    IO_END();
    return rc;
}

EXPORT int poll(struct pollfd *fds, nfds_t n, int timeout)
{
    ENSURE(poll);
    IO_BEGIN(CV_IO_FD, text_id("poll on %lu fds", (unsigned long)n));
    int rc = real_poll(fds, n, timeout);
    IO_END();
    return rc;
}

EXPORT int select(int n, fd_set *r, fd_set *w, fd_set *e, struct timeval *t)
{
    ENSURE(select);
    IO_BEGIN(CV_IO_FD, text_id("select on %d fds", n));
    int rc = real_select(n, r, w, e, t);
    IO_END();
    return rc;
}

EXPORT int epoll_wait(int fd, struct epoll_event *ev, int n, int timeout)
{
    ENSURE(epoll_wait);
    IO_BEGIN(CV_IO_FD, text_id("epoll_wait on fd %d", fd));
    int rc = real_epoll_wait(fd, ev, n, timeout);
    IO_END();
    return rc;
}

/* ------------------------------------------------------------------ processes */

EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
    ENSURE(execve);
    /* the program image ends here for this thread: the new one claims a lane of its own (a
     * vfork child shares the parent's memory and TLS: the lane is the parent's, left alone) */
    bool traced = T.state == T_ON && getpid() == g_pid;
    if (traced)
        lane_end();
    int rc = real_execve(path, argv, envp);
    int e = errno;
    if (traced) { /* it failed: the thread goes on, on a new lane */
        T.state = T_NEW;
        on();
    }
    errno = e;
    return rc;
}
