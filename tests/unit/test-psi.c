/* test-psi.c — what psi_trigger_open() writes where, and the errors the
 * guard turns into its messages ("the kernel has no PSI", ...), against a
 * scratch directory standing in for the server leaf.  Whether a real
 * kernel fires the trigger is proven in the VM tier (proactive-psi). */
#include <errno.h>

#include "check.h"
#include "fake.h"
#include "psi.h"

static void test_writes_the_trigger_with_its_nul(void)
{
        char *dir = fake_dir();
        char buf[64] = {0};
        fake_write(dir, "memory.pressure", "");
        int leaf = open(dir, O_RDONLY | O_DIRECTORY);
        int fd = psi_trigger_open(leaf, "some 150000 1000000");
        CHECK(fd >= 0);
        int rd = openat(leaf, "memory.pressure", O_RDONLY);
        ssize_t n = read(rd, buf, sizeof buf);
        /* The kernel's parser wants the terminating NUL (psi.rst). */
        CHECK_INT(n, (ssize_t)sizeof "some 150000 1000000");
        CHECK_STR(buf, "some 150000 1000000");
        close(rd);
        if (fd >= 0)
                close(fd);
        close(leaf);
        fake_rm_rf(dir);
        free(dir);
}

static void test_no_psi_is_enoent(void)
{
        char *dir = fake_dir();
        int leaf = open(dir, O_RDONLY | O_DIRECTORY);
        CHECK_INT(psi_trigger_open(leaf, "some 150000 1000000"), -ENOENT);
        close(leaf);
        fake_rm_rf(dir);
        free(dir);
}

static void test_no_symlink_followed(void)
{
        char *dir = fake_dir(), path[1024], victim[1024];
        snprintf(victim, sizeof victim, "%s/victim", dir);
        snprintf(path, sizeof path, "%s/memory.pressure", dir);
        fake_write(dir, "victim", "precious\n");
        CHECK_INT(symlink(victim, path), 0);
        int leaf = open(dir, O_RDONLY | O_DIRECTORY);
        CHECK_INT(psi_trigger_open(leaf, "some 150000 1000000"), -ELOOP);
        char buf[32] = {0};
        int fd = open(victim, O_RDONLY);
        CHECK_INT(read(fd, buf, sizeof buf - 1), 9);
        CHECK_STR(buf, "precious\n");
        close(fd);
        close(leaf);
        fake_rm_rf(dir);
        free(dir);
}

static void test_unprivileged_window(void)
{
        char buf[64];
        /* The default policy's trigger: the same 15% over 2 s. */
        CHECK_INT(psi_trigger_unprivileged("some 150000 1000000", buf, sizeof buf), 1);
        CHECK_STR(buf, "some 300000 2000000");
        CHECK_INT(psi_trigger_unprivileged("full 500000 3000000", buf, sizeof buf), 1);
        CHECK_STR(buf, "full 666666 4000000");
        /* Already a whole number of 2 s: nothing to change. */
        CHECK_INT(psi_trigger_unprivileged("some 1000000 4000000", buf, sizeof buf), 0);
        CHECK_STR(buf, "some 1000000 4000000");
        CHECK_INT(psi_trigger_unprivileged("some 150ms 1s", buf, sizeof buf), -EINVAL);
        CHECK_INT(psi_trigger_unprivileged("some 150000 1000000 x", buf, sizeof buf), -EINVAL);
        CHECK_INT(psi_trigger_unprivileged("some 150000 0", buf, sizeof buf), -EINVAL);
        CHECK_INT(psi_trigger_unprivileged("some 150000 1000000", buf, 8), -ENOBUFS);
}

int main(void)
{
        RUN(test_unprivileged_window);
        RUN(test_writes_the_trigger_with_its_nul);
        RUN(test_no_psi_is_enoent);
        RUN(test_no_symlink_followed);
        return check_summary();
}
