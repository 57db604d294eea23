/* The watcher on a fake leaf: inotify fires on regular files too, so the
 * diffing of coalesced notifications is tested without a kernel cgroup. */
#include <fcntl.h>
#include <unistd.h>

#include "check.h"
#include "fake.h"
#include "watch.h"

struct seen {
        unsigned memory_calls, populated_calls;
        struct cg_memory_events before, now;
        int populated;
};

static void on_memory(void *u, const struct cg_memory_events *before,
                      const struct cg_memory_events *now)
{
        struct seen *s = u;
        s->memory_calls++;
        s->before = *before;
        s->now = *now;
}

static void on_populated(void *u, int populated)
{
        struct seen *s = u;
        s->populated_calls++;
        s->populated = populated;
}

/* Run the loop until nothing is pending (bounded). */
static void drain(sd_event *e)
{
        for (int i = 0; i < 20; i++)
                if (sd_event_run(e, 50 * 1000) == 0)
                        break;
}

static void test_counters_are_diffed(void)
{
        char *dir = fake_dir();
        sd_event *e = NULL;
        struct watch w;
        struct seen s = {0};

        fake_write(dir, "memory.events", "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n");
        fake_write(dir, "cgroup.events", "populated 1\nfrozen 0\n");
        int fd = open(dir, O_RDONLY | O_DIRECTORY);
        CHECK_INT(sd_event_new(&e), 0);
        CHECK_INT(watch_start(&w, e, dir, fd, on_memory, on_populated, &s), 0);
        drain(e);
        CHECK_INT(s.memory_calls, 0);

        /* Three OOM kills behind what may be a single notification: one
         * callback with the whole difference. */
        fake_write(dir, "memory.events", "low 0\nhigh 5\nmax 9\noom 3\noom_kill 3\n");
        drain(e);
        CHECK_INT(s.memory_calls, 1);
        CHECK_U64(s.before.oom_kill, 0);
        CHECK_U64(s.now.oom_kill, 3);
        CHECK_U64(s.now.high, 5);
        CHECK(watch_oom_since(&s.before, &s.now));

        /* A rewrite with equal counters is not a change. */
        fake_write(dir, "memory.events", "low 0\nhigh 5\nmax 9\noom 3\noom_kill 3\n");
        drain(e);
        CHECK_INT(s.memory_calls, 1);

        fake_write(dir, "cgroup.events", "populated 0\nfrozen 0\n");
        drain(e);
        CHECK_INT(s.populated_calls, 1);
        CHECK_INT(s.populated, 0);

        watch_stop(&w);
        close(fd);
        sd_event_unref(e);
        fake_rm_rf(dir);
        free(dir);
}

static void test_poll_is_a_safety_net(void)
{
        char *dir = fake_dir();
        sd_event *e = NULL;
        struct watch w;
        struct seen s = {0};

        fake_write(dir, "memory.events", "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n");
        fake_write(dir, "cgroup.events", "populated 1\n");
        int fd = open(dir, O_RDONLY | O_DIRECTORY);
        CHECK_INT(sd_event_new(&e), 0);
        CHECK_INT(watch_start(&w, e, dir, fd, on_memory, on_populated, &s), 0);
        /* Change the file but do not run the loop: as if the event were
         * lost.  watch_poll() finds it. */
        fake_write(dir, "memory.events", "low 0\nhigh 0\nmax 1\noom 1\noom_kill 1\n");
        CHECK_INT(watch_poll(&w), 1);
        CHECK_INT(s.memory_calls, 1);
        CHECK_U64(s.now.oom_kill, 1);
        CHECK_INT(watch_poll(&w), 0);
        /* and the late notification does not count it twice */
        drain(e);
        CHECK_INT(s.memory_calls, 1);

        /* a group kill alone is an OOM too */
        struct cg_memory_events a = {0}, b = {.oom_group_kill = 1};
        CHECK(watch_oom_since(&a, &b));
        CHECK(!watch_oom_since(&b, &b));

        watch_stop(&w);
        close(fd);
        sd_event_unref(e);
        fake_rm_rf(dir);
        free(dir);
}

static void test_missing_files_are_errors(void)
{
        char *dir = fake_dir();
        sd_event *e = NULL;
        struct watch w;
        int fd = open(dir, O_RDONLY | O_DIRECTORY);
        CHECK_INT(sd_event_new(&e), 0);
        CHECK(watch_start(&w, e, dir, fd, NULL, NULL, NULL) < 0);
        close(fd);
        sd_event_unref(e);
        fake_rm_rf(dir);
        free(dir);
}

static void test_oom_events(void)
{
        struct cg_memory_events a = {.oom_kill = 3, .oom_group_kill = 1};
        /* a group kill: the victim counted twice in oom_kill, one event */
        struct cg_memory_events b = {.oom_kill = 5, .oom_group_kill = 2};
        /* without oom.group: one kill, one event each */
        struct cg_memory_events c = {.oom_kill = 7, .oom_group_kill = 2};
        CHECK_U64(watch_oom_events(&a, &b), 1);
        CHECK_U64(watch_oom_events(&b, &c), 2);
        CHECK_U64(watch_oom_events(&c, &c), 0);
        /* counters never go back, but a reset leaf must not count negative */
        CHECK_U64(watch_oom_events(&c, &a), 0);
}

int main(void)
{
        RUN(test_counters_are_diffed);
        RUN(test_poll_is_a_safety_net);
        RUN(test_missing_files_are_errors);
        RUN(test_oom_events);
        return check_summary();
}
