/* abitest: proves a C program built by gcc runs on berth unchanged, using
 * only start.S, the generated stubs (usys.S, user.h) and ulib.c.
 *
 * Prints `test NAME: ok` or `test NAME: FAILED: why` per test, then
 * `N passed, M failed`; exits 0 only if nothing failed. Every test reaps
 * the children it creates. */

#include "ulib.h"

static int g_argc;
static char **g_argv;
static char why[256];

/* Fails the current test with a formatted reason unless cond holds. */
#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            snprintf(why, sizeof why, __VA_ARGS__);                                                \
            return why;                                                                            \
        }                                                                                          \
    } while (0)

/* The kernel's entry contract: 16-byte aligned stack, argv as described. */
static const char *test_entry(void) {
    __attribute__((aligned(16))) volatile char local[16];
    local[0] = 1;
    CHECK(entry_rsp % 16 == 0, "rsp at _start is %p, not 16-byte aligned", (void *)entry_rsp);
    CHECK(((unsigned long)local & 15) == 0, "16-aligned local at %p: main's stack is misaligned", (void *)local);
    CHECK(g_argc >= 1, "argc is %d", g_argc);
    CHECK(strcmp(g_argv[0], "abitest") == 0, "argv[0] is \"%s\"", g_argv[0]);
    CHECK(g_argv[g_argc] == NULL, "argv[argc] is %p, not null", (void *)g_argv[g_argc]);
    CHECK((unsigned long)g_argv >= entry_rsp, "argv %p is below the entry rsp %p", (void *)g_argv,
          (void *)entry_rsp);
    return NULL;
}

static const char *test_fork_wait_exit(void) {
    static const int statuses[] = {0, 42, 255, -7, 1234567};
    for (unsigned i = 0; i < sizeof statuses / sizeof statuses[0]; i++) {
        long pid = fork();
        CHECK(pid >= 0, "fork: %ld", pid);
        if (pid == 0)
            exit(statuses[i]);
        int status = 12345;
        long got = wait(&status);
        CHECK(got == pid, "wait returned %ld, want the child %ld", got, pid);
        CHECK(status == statuses[i], "child exited with %d, wait reported %d", statuses[i], status);
    }
    long pid = fork();
    CHECK(pid >= 0, "fork: %ld", pid);
    if (pid == 0)
        exit(3);
    long got = wait(0);
    CHECK(got == pid, "wait(null) returned %ld, want %ld", got, pid);
    got = wait(0);
    CHECK(got == -ECHILD, "wait without children returned %ld, want -ECHILD", got);
    return NULL;
}

static const char *test_getpid(void) {
    long me = getpid();
    CHECK(me > 0, "getpid: %ld", me);
    int p[2];
    CHECK(pipe(p) == 0, "pipe failed");
    long pid = fork();
    CHECK(pid >= 0, "fork: %ld", pid);
    if (pid == 0) {
        long child = getpid();
        write(p[1], &child, sizeof child);
        exit(0);
    }
    long child = 0;
    long n = read(p[0], &child, sizeof child);
    wait(0);
    close(p[0]);
    close(p[1]);
    CHECK(n == sizeof child, "read %ld bytes of the child's pid", n);
    CHECK(child == pid, "child's getpid %ld != fork's result %ld", child, pid);
    CHECK(child != me, "child and parent share pid %ld", me);
    CHECK(getpid() == me, "parent's pid changed");
    return NULL;
}

static const char *test_pipe_read_write(void) {
    int p[2] = {-1, -1};
    CHECK(pipe(p) == 0, "pipe failed");
    CHECK(p[0] > 2 && p[1] > 2 && p[0] != p[1], "pipe fds %d, %d", p[0], p[1]);
    long pid = fork();
    CHECK(pid >= 0, "fork: %ld", pid);
    if (pid == 0) {
        close(p[0]);
        write(p[1], "hello ", 6);
        write(p[1], "from child\n", 11);
        exit(0);
    }
    close(p[1]);
    char buf[64];
    long total = 0, n;
    while ((n = read(p[0], buf + total, sizeof buf - 1 - total)) > 0)
        total += n;
    buf[total] = 0;
    close(p[0]);
    int status = -1;
    wait(&status);
    CHECK(n == 0, "read ended with %ld instead of end of file", n);
    CHECK(strcmp(buf, "hello from child\n") == 0, "read \"%s\"", buf);
    CHECK(status == 0, "writer exited with %d", status);
    return NULL;
}

static const char *test_sbrk(void) {
    long old = sbrk(0);
    CHECK(old > 0 && old % 4096 == 0, "initial break %lx", old);
    long n = 3 * 4096 + 5;
    long p = sbrk(n);
    CHECK(p == old, "sbrk(%ld) returned %lx, want the old break %lx", n, p, old);
    CHECK(sbrk(0) == old + n, "break is %lx after growing, want %lx", sbrk(0), old + n);
    volatile unsigned char *mem = (volatile unsigned char *)p;
    for (long i = 0; i < n; i++)
        CHECK(mem[i] == 0, "new memory at +%ld is %d, not zero", i, mem[i]);
    for (long i = 0; i < n; i++)
        mem[i] = (unsigned char)(i * 7);
    for (long i = 0; i < n; i++)
        CHECK(mem[i] == (unsigned char)(i * 7), "memory at +%ld lost its value", i);
    long q = sbrk(-n);
    CHECK(q == old + n, "sbrk(-%ld) returned %lx, want %lx", n, q, old + n);
    CHECK(sbrk(0) == old, "break is %lx after shrinking, want %lx", sbrk(0), old);
    return NULL;
}

static const char *test_uptime_sleep(void) {
    long t0 = uptime();
    CHECK(t0 >= 0, "uptime: %ld", t0);
    CHECK(sleep(0) == 0, "sleep(0) failed");
    long r = sleep(5);
    long t1 = uptime();
    CHECK(r == 0, "sleep(5) returned %ld", r);
    CHECK(t1 - t0 >= 5, "slept 5 ticks but uptime went from %ld to %ld", t0, t1);
    return NULL;
}

static const char *test_dup_close(void) {
    int p[2];
    CHECK(pipe(p) == 0, "pipe failed");
    long d = dup(p[1]);
    CHECK(d > 2 && d != p[0] && d != p[1], "dup returned %ld", d);
    CHECK(write((int)d, "via dup", 7) == 7, "write through the dup failed");
    CHECK(close(p[1]) == 0, "close of the original failed");
    CHECK(write((int)d, "!", 1) == 1, "the dup stopped working after closing the original");
    CHECK(close((int)d) == 0, "close of the dup failed");
    long again = close((int)d);
    CHECK(again == -EBADF, "second close returned %ld, want -EBADF", again);
    char buf[16] = {0};
    long total = 0, n;
    while ((n = read(p[0], buf + total, sizeof buf - 1 - total)) > 0)
        total += n;
    close(p[0]);
    CHECK(n == 0, "no end of file after both write ends closed: %ld", n);
    CHECK(strcmp(buf, "via dup!") == 0, "read \"%s\"", buf);
    return NULL;
}

static const char *test_exec_echoargs(void) {
    int p[2];
    CHECK(pipe(p) == 0, "pipe failed");
    long pid = fork();
    CHECK(pid >= 0, "fork: %ld", pid);
    if (pid == 0) {
        close(1);
        if (dup(p[1]) != 1)
            exit(126);
        close(p[0]);
        close(p[1]);
        char *argv[] = {"echoargs", "one", "two words", "", 0};
        exec("echoargs", argv);
        exit(127);
    }
    close(p[1]);
    char buf[256];
    long total = 0, n;
    while ((n = read(p[0], buf + total, sizeof buf - 1 - total)) > 0)
        total += n;
    buf[total] = 0;
    close(p[0]);
    int status = -100;
    long got = wait(&status);
    CHECK(got == pid, "wait returned %ld", got);
    CHECK(status == 0, "echoargs exited with %d (127: exec failed)", status);
    const char *want = "argv[0]=echoargs\nargv[1]=one\nargv[2]=two words\nargv[3]=\n";
    CHECK(strcmp(buf, want) == 0, "echoargs printed \"%s\"", buf);
    return NULL;
}

static const char *test_kill(void) {
    long pid = fork();
    CHECK(pid >= 0, "fork: %ld", pid);
    if (pid == 0) {
        sleep(1000);
        exit(0);
    }
    long r = kill((int)pid);
    CHECK(r == 0, "kill returned %ld", r);
    int status = 0;
    CHECK(wait(&status) == pid, "wait did not return the killed child");
    CHECK(status == KILLED_STATUS, "killed child's status is %d, want %d", status, KILLED_STATUS);
    return NULL;
}

static const char *test_errors(void) {
    char buf[8];
    int p[2];
    long r;
    CHECK((r = read(-1, buf, 1)) == -EBADF, "read(-1): %ld", r);
    CHECK((r = write(NOFILE, buf, 1)) == -EBADF, "write(NOFILE): %ld", r);
    CHECK((r = close(NOFILE + 5)) == -EBADF, "close(NOFILE + 5): %ld", r);
    CHECK((r = write(1, (void *)0xffff800000000000UL, 4)) == -EFAULT, "write from the kernel half: %ld", r);
    CHECK((r = pipe(0)) == -EFAULT, "pipe(null): %ld", r);
    CHECK(pipe(p) == 0, "pipe failed");
    CHECK(write(p[1], "x", 1) == 1, "write to the pipe failed");
    CHECK((r = read(p[0], (void *)0x700000000000UL, 1)) == -EFAULT, "read into unmapped memory: %ld", r);
    CHECK((r = read(p[1], buf, 1)) == -EBADF, "read from a write end: %ld", r);
    CHECK((r = write(p[0], buf, 1)) == -EBADF, "write to a read end: %ld", r);
    close(p[0]);
    close(p[1]);
    CHECK((r = wait(0)) == -ECHILD, "wait without children: %ld", r);
    CHECK((r = syscall(999, 0, 0, 0, 0, 0, 0)) == -ENOSYS, "system call 999: %ld", r);
    CHECK((r = kill(-1)) == -ESRCH, "kill(-1): %ld", r);
    CHECK((r = sleep(-1)) == -EINVAL, "sleep(-1): %ld", r);
    char *argv[] = {"nosuchprogram", 0};
    CHECK((r = exec("nosuchprogram", argv)) == -ENOENT, "exec of a missing program: %ld", r);
    return NULL;
}

/* syscall() shifts its arguments into the kernel's registers. */
static const char *test_syscall_by_number(void) {
    CHECK(syscall(SYS_getpid, 0, 0, 0, 0, 0, 0) == getpid(), "syscall(SYS_getpid) differs from getpid()");
    int p[2];
    CHECK(syscall(SYS_pipe, (long)p, 0, 0, 0, 0, 0) == 0, "syscall(SYS_pipe) failed");
    long w = syscall(SYS_write, p[1], (long)"abc", 3, 0, 0, 0);
    char buf[4] = {0};
    long r = syscall(SYS_read, p[0], (long)buf, 3, 0, 0, 0);
    close(p[0]);
    close(p[1]);
    CHECK(w == 3 && r == 3 && strcmp(buf, "abc") == 0, "write %ld, read %ld: \"%s\"", w, r, buf);
    return NULL;
}

struct test {
    const char *name;
    const char *(*run)(void);
};

static const struct test tests[] = {
    {"entry", test_entry},
    {"fork_wait_exit", test_fork_wait_exit},
    {"getpid", test_getpid},
    {"pipe_read_write", test_pipe_read_write},
    {"sbrk", test_sbrk},
    {"uptime_sleep", test_uptime_sleep},
    {"dup_close", test_dup_close},
    {"exec_echoargs", test_exec_echoargs},
    {"kill", test_kill},
    {"errors", test_errors},
    {"syscall_by_number", test_syscall_by_number},
};

int main(int argc, char **argv) {
    g_argc = argc;
    g_argv = argv;
    int passed = 0, failed = 0;
    for (unsigned i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        const char *err = tests[i].run();
        if (err) {
            failed++;
            printf("test %s: FAILED: %s\n", tests[i].name, err);
        } else {
            passed++;
            printf("test %s: ok\n", tests[i].name);
        }
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
