/* plain-relay — the baseline for bench-proxy: a byte pump with no framing.
 *
 *   plain-relay [--keep] [--] COMMAND [ARG...]
 *
 * Runs COMMAND with its stdin and stdout on pipes and copies bytes both
 * ways, stdin -> COMMAND and COMMAND -> stdout, with poll() and
 * non-blocking read()/write() through one 256 KiB buffer per direction,
 * so a side that is slow to read never stops the other direction.  That is
 * the least any proxy has to do; what the guard costs beyond it is its
 * framing, session and event loop.
 *
 * At the end of stdin (once the buffer is written) COMMAND's stdin is
 * closed; at the end of COMMAND's stdout (once written) plain-relay waits
 * for COMMAND and exits with its status (128+N for signal N).  If stdout
 * goes away, it closes COMMAND's pipes and waits likewise.  stderr is
 * inherited.  Exit status 2 for a usage error, 1 when COMMAND cannot run.
 *
 * With --keep it also keeps a copy of every byte of stdin, in memory it
 * maps for that as the guard maps its text store (4 MiB chunks advised
 * for huge pages, never given back): a pump that stores what the editor
 * sent, as any relay that can replay it must.  What the guard costs
 * beyond that is its parsing, checking and event loop. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define BUF_SIZE ((size_t)256 << 10)
#define KEEP_CHUNK ((size_t)4 << 20)
#define HUGE ((size_t)2 << 20)

/* --keep: the chunk being filled. */
static bool keep;
static char *keep_chunk;
static size_t keep_used = KEEP_CHUNK;

static void keep_bytes(const char *p, size_t n)
{
        while (n) {
                if (keep_used == KEEP_CHUNK) {
                        /* on a 2 MiB boundary, so that THP can back all of it:
                           map 2 MiB more and use the aligned part */
                        char *m = mmap(NULL, KEEP_CHUNK + HUGE, PROT_READ | PROT_WRITE,
                                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
                        if (m == MAP_FAILED) {
                                perror("plain-relay: mmap");
                                exit(1);
                        }
                        keep_chunk = (char *)(((uintptr_t)m + HUGE - 1) & ~(uintptr_t)(HUGE - 1));
                        (void)madvise(keep_chunk, KEEP_CHUNK, MADV_HUGEPAGE);
                        keep_used = 0;
                }
                size_t k = n < KEEP_CHUNK - keep_used ? n : KEEP_CHUNK - keep_used;
                memcpy(keep_chunk + keep_used, p, k);
                keep_used += k;
                p += k;
                n -= k;
        }
}

struct pump {
        int in, out; /* -1 once closed */
        char *buf;
        size_t head, tail; /* unsent bytes are [head, tail) */
        bool eof;
};

static void set_nonblock(int fd)
{
        int fl = fcntl(fd, F_GETFL);

        if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
                perror("plain-relay: fcntl");
                exit(1);
        }
}

static void close_fd(int *fd)
{
        if (*fd >= 0) {
                close(*fd);
                *fd = -1;
        }
}

/* Read what is there; false on a read error. */
static bool pump_read(struct pump *p)
{
        if (p->head == p->tail)
                p->head = p->tail = 0;
        for (;;) {
                if (p->tail == BUF_SIZE)
                        return true;
                ssize_t n = read(p->in, p->buf + p->tail, BUF_SIZE - p->tail);
                if (n > 0) {
                        if (keep && p->in == STDIN_FILENO)
                                keep_bytes(p->buf + p->tail, (size_t)n);
                        p->tail += (size_t)n;
                        continue;
                }
                if (n == 0) {
                        p->eof = true;
                        close_fd(&p->in);
                        return true;
                }
                if (errno == EINTR)
                        continue;
                return errno == EAGAIN;
        }
}

/* Write what is buffered; false when the destination is gone. */
static bool pump_write(struct pump *p)
{
        while (p->head < p->tail) {
                ssize_t n = write(p->out, p->buf + p->head, p->tail - p->head);
                if (n > 0) {
                        p->head += (size_t)n;
                        continue;
                }
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        return true;
                return false;
        }
        p->head = p->tail = 0;
        return true;
}

static int wait_child(pid_t pid)
{
        int st;

        while (waitpid(pid, &st, 0) < 0)
                if (errno != EINTR)
                        return 1;
        if (WIFEXITED(st))
                return WEXITSTATUS(st);
        return 128 + WTERMSIG(st);
}

int main(int argc, char **argv)
{
        int to_child[2], from_child[2];
        int arg = 1;

        if (arg < argc && strcmp(argv[arg], "--keep") == 0) {
                keep = true;
                arg++;
        }
        if (arg < argc && strcmp(argv[arg], "--") == 0)
                arg++;
        if (arg >= argc) {
                fprintf(stderr, "usage: plain-relay [--keep] [--] COMMAND [ARG...]\n");
                return 2;
        }
        signal(SIGPIPE, SIG_IGN);
        if (pipe2(to_child, O_CLOEXEC) < 0 || pipe2(from_child, O_CLOEXEC) < 0) {
                perror("plain-relay: pipe");
                return 1;
        }
        pid_t pid = fork();
        if (pid < 0) {
                perror("plain-relay: fork");
                return 1;
        }
        if (pid == 0) {
                signal(SIGPIPE, SIG_DFL);
                if (dup2(to_child[0], STDIN_FILENO) < 0 || dup2(from_child[1], STDOUT_FILENO) < 0)
                        _exit(127);
                execvp(argv[arg], argv + arg);
                fprintf(stderr, "plain-relay: cannot run %s: %s\n", argv[arg], strerror(errno));
                _exit(127);
        }
        close(to_child[0]);
        close(from_child[1]);

        struct pump up = {.in = STDIN_FILENO, .out = to_child[1], .buf = malloc(BUF_SIZE)};
        struct pump down = {.in = from_child[0], .out = STDOUT_FILENO, .buf = malloc(BUF_SIZE)};
        if (!up.buf || !down.buf) {
                fprintf(stderr, "plain-relay: out of memory\n");
                return 1;
        }
        set_nonblock(STDIN_FILENO);
        set_nonblock(STDOUT_FILENO);
        set_nonblock(up.out);
        set_nonblock(down.in);

        while (!(down.eof && down.head == down.tail)) {
                struct pollfd fds[4];
                struct pump *owner[4];
                bool reading[4];
                nfds_t n = 0;

                struct pump *pumps[2] = {&up, &down};
                for (int i = 0; i < 2; i++) {
                        struct pump *p = pumps[i];
                        if (p->in >= 0 && p->tail < BUF_SIZE) {
                                fds[n] = (struct pollfd){.fd = p->in, .events = POLLIN};
                                owner[n] = p;
                                reading[n++] = true;
                        }
                        if (p->out >= 0 && p->head < p->tail) {
                                fds[n] = (struct pollfd){.fd = p->out, .events = POLLOUT};
                                owner[n] = p;
                                reading[n++] = false;
                        }
                }
                if (n == 0)
                        break;
                if (poll(fds, n, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        perror("plain-relay: poll");
                        break;
                }
                for (nfds_t i = 0; i < n; i++) {
                        struct pump *p = owner[i];
                        bool ok = true;

                        if (!fds[i].revents)
                                continue;
                        if (reading[i]) {
                                ok = pump_read(p);
                                /* Write at once what just came: one poll() less per message. */
                                if (ok && p->out >= 0 && p->head < p->tail)
                                        ok = pump_write(p);
                        } else {
                                ok = pump_write(p);
                        }
                        if (!ok) {
                                /* Either end of this direction is broken: drop it. */
                                close_fd(&p->in);
                                close_fd(&p->out);
                                p->eof = true;
                                p->head = p->tail = 0;
                        }
                }
                if (up.eof && up.head == up.tail)
                        close_fd(&up.out);
                if (down.out < 0) /* stdout is gone: nobody to relay to */
                        close_fd(&up.out);
        }
        close_fd(&up.out);
        close_fd(&down.in);
        free(up.buf);
        free(down.buf);
        return wait_child(pid);
}
