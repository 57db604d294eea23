/* leaker — a stand-in "language server" for the real-kernel tests.
 *
 * It does, in this order, whatever its options ask for:
 *   --mark FILE       append "start PID MONOTONIC_USEC" to FILE (fsync'd), so a
 *                     test can count starts and time them against CLOCK_MONOTONIC
 *   --list-fds        report "fds N N N" (the open descriptors, from /proc/self/fd)
 *   --child-leak MIB  fork a child that leaks MIB MiB (as --leak, paced by
 *                     --rate) and exits 0, wait for it, report "child PID signal S" or
 *                     "child PID status N", then go on (a server whose go list
 *                     is OOM-killed, e.g. --child-leak 200 --exit 0)
 *   --orphan MIB      fork a child that forks a grandchild and exits at once;
 *                     the grandchild leaves our process group (setsid), reports
 *                     "orphan PID", leaks MIB MiB (paced by --rate) and sleeps
 *                     (a double-forked go list that a plain parent loses track of)
 *   --keep-child      fork a child that stays in our process group and pauses,
 *                     without PR_SET_PDEATHSIG (a go list that outlives a killed
 *                     gopls), and report "kept PID"
 *   --exit N          exit with status N (after the steps above)
 *   --fork N          try to fork N children that pause and die with us
 *                     (PR_SET_PDEATHSIG); report "forked K errno E" to the mark
 *                     file, or to stdout without --mark
 *   --leak MIB        allocate MIB MiB in 1 MiB chunks, touching every page so
 *                     the memory is really charged (test_memcontrol.c habit)
 *   --rate MIB_PER_S  pace --leak (default: as fast as possible)
 *   --first-only      do --exit/--fork/--leak/--child-leak/--orphan only if the mark file had no
 *                     "start" line before ours (a server that fails once, then
 *                     runs: the replacement just sleeps)
 * and then one of:
 *   --echo            copy stdin to stdout until EOF, then exit 0
 *   --spin            burn CPU forever
 *   --sleep           pause forever (also the default after --fork/--leak)
 *
 * Exit statuses: the --exit value, 0 after --echo, 2 for a usage error, 1 when
 * a step fails (the message goes to stderr).  It never ends another process. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MIB (1024UL * 1024UL)

struct options {
        const char *mark;
        long exit_status; /* -1: not asked */
        long fork_count;  /* -1: not asked */
        long leak_mib;    /* -1: not asked */
        long child_leak_mib; /* -1: not asked */
        long orphan_mib;  /* -1: not asked */
        bool list_fds;
        bool keep_child;
        double rate;      /* MiB per second, 0: unpaced */
        bool first_only;
        enum { END_DEFAULT, END_ECHO, END_SPIN, END_SLEEP } end;
};

static uint64_t monotonic_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void usage(void) {
        fputs("usage: leaker [--mark FILE [--first-only]] [--list-fds] [--child-leak MIB] [--orphan MIB]\n"
              "              [--keep-child]\n"
              "              [--exit N] [--fork N] [--leak MIB [--rate MIB_PER_S]]\n"
              "              [--echo | --spin | --sleep]\n",
              stderr);
        exit(2);
}

static long parse_long(const char *opt, const char *s, long min, long max) {
        char *end;
        errno = 0;
        long v = strtol(s, &end, 10);
        if (errno != 0 || end == s || *end != '\0' || v < min || v > max) {
                fprintf(stderr, "leaker: %s: bad number \"%s\"\n", opt, s);
                exit(2);
        }
        return v;
}

static void parse(int argc, char **argv, struct options *o) {
        *o = (struct options){.exit_status = -1, .fork_count = -1, .leak_mib = -1,
                              .child_leak_mib = -1, .orphan_mib = -1};
        for (int i = 1; i < argc; i++) {
                const char *a = argv[i];
                bool has_arg = i + 1 < argc;
                if (strcmp(a, "--mark") == 0 && has_arg)
                        o->mark = argv[++i];
                else if (strcmp(a, "--exit") == 0 && has_arg)
                        o->exit_status = parse_long(a, argv[++i], 0, 255);
                else if (strcmp(a, "--fork") == 0 && has_arg)
                        o->fork_count = parse_long(a, argv[++i], 0, 100000);
                else if (strcmp(a, "--leak") == 0 && has_arg)
                        o->leak_mib = parse_long(a, argv[++i], 0, 1L << 20);
                else if (strcmp(a, "--child-leak") == 0 && has_arg)
                        o->child_leak_mib = parse_long(a, argv[++i], 0, 1L << 20);
                else if (strcmp(a, "--orphan") == 0 && has_arg)
                        o->orphan_mib = parse_long(a, argv[++i], 0, 1L << 20);
                else if (strcmp(a, "--list-fds") == 0)
                        o->list_fds = true;
                else if (strcmp(a, "--keep-child") == 0)
                        o->keep_child = true;
                else if (strcmp(a, "--rate") == 0 && has_arg) {
                        char *end;
                        o->rate = strtod(argv[++i], &end);
                        if (end == argv[i] || *end != '\0' || !(o->rate > 0)) {
                                fprintf(stderr, "leaker: --rate: bad number \"%s\"\n", argv[i]);
                                exit(2);
                        }
                } else if (strcmp(a, "--first-only") == 0)
                        o->first_only = true;
                else if (strcmp(a, "--echo") == 0)
                        o->end = END_ECHO;
                else if (strcmp(a, "--spin") == 0)
                        o->end = END_SPIN;
                else if (strcmp(a, "--sleep") == 0)
                        o->end = END_SLEEP;
                else
                        usage();
        }
}

/* One line, appended and fsync'd, so that a line a test reads is complete and
 * survives our being SIGKILLed right after. */
static int append_line(const char *path, const char *line) {
        int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (fd < 0)
                return -errno;
        size_t len = strlen(line);
        ssize_t n = write(fd, line, len);
        int r = n < 0 ? -errno : (size_t)n != len ? -EIO : 0;
        if (r == 0 && fsync(fd) < 0)
                r = -errno;
        close(fd);
        return r;
}

/* Whether PATH already holds a "start " line (a previous run's). */
static bool started_before(const char *path) {
        FILE *f = fopen(path, "re");
        if (!f)
                return false;
        char line[256];
        bool found = false;
        while (!found && fgets(line, sizeof line, f))
                found = strncmp(line, "start ", 6) == 0;
        fclose(f);
        return found;
}

static void report(const struct options *o, const char *line) {
        if (o->mark) {
                int r = append_line(o->mark, line);
                if (r < 0) {
                        fprintf(stderr, "leaker: %s: %s\n", o->mark, strerror(-r));
                        exit(1);
                }
        } else {
                fputs(line, stdout);
                fflush(stdout);
        }
}

static _Noreturn void hold(void) {
        for (;;)
                pause();
}

static void do_fork(const struct options *o) {
        pid_t parent = getpid();
        long forked = 0;
        int err = 0;
        for (long i = 0; i < o->fork_count; i++) {
                pid_t pid = fork();
                if (pid < 0) {
                        err = errno;
                        break;
                }
                if (pid == 0) {
                        /* SIGKILL, not SIGTERM: a child must not outlive us even if it
                         * were to block signals.  Check getppid() after prctl() for the
                         * parent dying between fork() and prctl(). */
                        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
                                _exit(1);
                        hold();
                }
                forked++;
        }
        char line[64];
        snprintf(line, sizeof line, "forked %ld errno %d\n", forked, err);
        report(o, line);
}

static void do_leak(const struct options *o) {
        long page = sysconf(_SC_PAGESIZE);
        if (page <= 0)
                page = 4096;
        uint64_t start = monotonic_usec();
        for (long i = 0; i < o->leak_mib; i++) {
                /* mmap, not malloc: every chunk is fresh anonymous memory. */
                char *p = mmap(NULL, MIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
                if (p == MAP_FAILED) {
                        fprintf(stderr, "leaker: mmap after %ld MiB: %s\n", i, strerror(errno));
                        exit(1);
                }
                for (size_t off = 0; off < MIB; off += (size_t)page)
                        p[off] = (char)(i + 1);
                if (o->rate > 0) {
                        /* Sleep until the time this many MiB are due, so that
                         * touching time does not slow the pace down. */
                        uint64_t due = start + (uint64_t)((double)(i + 1) * 1e6 / o->rate);
                        uint64_t now = monotonic_usec();
                        if (due > now) {
                                struct timespec ts = {.tv_sec = (time_t)((due - now) / 1000000u),
                                                      .tv_nsec = (long)((due - now) % 1000000u) * 1000};
                                while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                                        ;
                        }
                }
        }
}

static void do_list_fds(const struct options *o) {
        char line[1024] = "fds";
        DIR *d = opendir("/proc/self/fd");
        if (!d) {
                fprintf(stderr, "leaker: /proc/self/fd: %s\n", strerror(errno));
                exit(1);
        }
        struct dirent *de;
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.' || atoi(de->d_name) == dirfd(d))
                        continue;
                size_t len = strlen(line);
                snprintf(line + len, sizeof line - len, " %s", de->d_name);
        }
        closedir(d);
        strncat(line, "\n", sizeof line - strlen(line) - 1);
        report(o, line);
}

static void do_child_leak(const struct options *o) {
        pid_t pid = fork();
        if (pid < 0) {
                fprintf(stderr, "leaker: fork: %s\n", strerror(errno));
                exit(1);
        }
        if (pid == 0) {
                struct options c = *o;
                c.leak_mib = o->child_leak_mib;
                do_leak(&c);
                _exit(0); /* not killed: the test sees "status 0" */
        }
        int st;
        while (waitpid(pid, &st, 0) < 0)
                if (errno != EINTR) {
                        fprintf(stderr, "leaker: waitpid: %s\n", strerror(errno));
                        exit(1);
                }
        char line[96];
        if (WIFSIGNALED(st))
                snprintf(line, sizeof line, "child %ld signal %d\n", (long)pid, WTERMSIG(st));
        else
                snprintf(line, sizeof line, "child %ld status %d\n", (long)pid, WEXITSTATUS(st));
        report(o, line);
}

static void do_orphan(const struct options *o) {
        pid_t pid = fork();
        if (pid < 0) {
                fprintf(stderr, "leaker: fork: %s\n", strerror(errno));
                exit(1);
        }
        if (pid == 0) {
                pid_t g = fork();
                if (g < 0)
                        _exit(1);
                if (g > 0)
                        _exit(0);
                (void)setsid();
                char line[64];
                snprintf(line, sizeof line, "orphan %ld\n", (long)getpid());
                report(o, line);
                struct options c = *o;
                c.leak_mib = o->orphan_mib;
                do_leak(&c);
                hold();
        }
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                ;
}

static void do_keep_child(const struct options *o) {
        pid_t pid = fork();
        if (pid < 0) {
                fprintf(stderr, "leaker: fork: %s\n", strerror(errno));
                exit(1);
        }
        if (pid == 0)
                hold();
        char line[64];
        snprintf(line, sizeof line, "kept %ld\n", (long)pid);
        report(o, line);
}

static _Noreturn void do_echo(void) {
        char buf[65536];
        for (;;) {
                ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
                if (n == 0)
                        exit(0);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        fprintf(stderr, "leaker: read: %s\n", strerror(errno));
                        exit(1);
                }
                for (ssize_t off = 0; off < n;) {
                        ssize_t w = write(STDOUT_FILENO, buf + off, (size_t)(n - off));
                        if (w < 0) {
                                if (errno == EINTR)
                                        continue;
                                fprintf(stderr, "leaker: write: %s\n", strerror(errno));
                                exit(1);
                        }
                        off += w;
                }
        }
}

static _Noreturn void do_spin(void) {
        volatile uint64_t x = 0;
        for (;;)
                x = x + 1;
}

int main(int argc, char **argv) {
        struct options o;
        parse(argc, argv, &o);

        if (o.first_only && !o.mark) {
                fputs("leaker: --first-only needs --mark\n", stderr);
                exit(2);
        }
        if (o.mark) {
                if (o.first_only && started_before(o.mark))
                        o.exit_status = o.fork_count = o.leak_mib = o.child_leak_mib =
                                o.orphan_mib = -1;
                char line[96];
                snprintf(line, sizeof line, "start %ld %llu\n", (long)getpid(),
                         (unsigned long long)monotonic_usec());
                report(&o, line);
        }
        if (o.list_fds)
                do_list_fds(&o);
        if (o.child_leak_mib >= 0)
                do_child_leak(&o);
        if (o.orphan_mib >= 0)
                do_orphan(&o);
        if (o.keep_child)
                do_keep_child(&o);
        if (o.exit_status >= 0)
                exit((int)o.exit_status);
        if (o.fork_count >= 0)
                do_fork(&o);
        if (o.leak_mib >= 0)
                do_leak(&o);

        switch (o.end) {
        case END_ECHO:
                do_echo();
        case END_SPIN:
                do_spin();
        case END_SLEEP:
        case END_DEFAULT:
                break;
        }
        hold();
}
