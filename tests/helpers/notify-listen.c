/* notify-listen.c — a stand-in for the service manager's notification
 * socket: binds a unix datagram socket at PATH, prints "ready", then
 * appends each datagram it receives to OUT as one line (newlines inside a
 * datagram, which separate its assignments, become '|'), until killed.
 *
 *   notify-listen PATH OUT */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        char buf[4096];

        if (argc != 3 || strlen(argv[1]) >= sizeof sa.sun_path) {
                fprintf(stderr, "usage: notify-listen PATH OUT\n");
                return 2;
        }
        FILE *out = fopen(argv[2], "a");
        if (!out) {
                perror(argv[2]);
                return 1;
        }
        int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        strcpy(sa.sun_path, argv[1]);
        if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
                perror(argv[1]);
                return 1;
        }
        printf("ready\n");
        fflush(stdout);
        for (;;) {
                ssize_t n = recv(fd, buf, sizeof buf - 1, 0);
                if (n < 0)
                        return 1;
                for (ssize_t i = 0; i < n; i++)
                        if (buf[i] == '\n')
                                buf[i] = '|';
                /* sd_notify sends no trailing newline; one line per datagram. */
                fprintf(out, "%.*s\n", (int)n, buf);
                fflush(out);
        }
}
