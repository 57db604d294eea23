#include "escape.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static bool keep_char(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == ':' || c == '_' || c == '.';
}

int escape_path(const char *path, char **ret)
{
        static const char hex[] = "0123456789abcdef";

        if (!path || path[0] != '/')
                return -EINVAL;
        /* Each byte becomes at most four ("\xNN"); "-" for the root. */
        size_t n = strlen(path);
        char *out = malloc(4 * n + 2);
        if (!out)
                return -ENOMEM;
        size_t o = 0;
        for (const char *p = path; *p;) {
                while (*p == '/')
                        p++;
                size_t len = strcspn(p, "/");
                if (len == 0)
                        break;
                if (len == 1 && p[0] == '.') {
                        p += len;
                        continue;
                }
                if (len == 2 && p[0] == '.' && p[1] == '.') {
                        free(out);
                        return -EINVAL;
                }
                if (o > 0)
                        out[o++] = '-';
                for (size_t i = 0; i < len; i++) {
                        char c = p[i];
                        if (keep_char(c) && !(o == 0 && c == '.'))
                                out[o++] = c;
                        else {
                                unsigned char u = (unsigned char)c;
                                out[o++] = '\\';
                                out[o++] = 'x';
                                out[o++] = hex[u >> 4];
                                out[o++] = hex[u & 15];
                        }
                }
                p += len;
        }
        if (o == 0)
                out[o++] = '-';
        out[o] = '\0';
        *ret = out;
        return 0;
}
