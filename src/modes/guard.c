#include "guard.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <systemd/sd-event.h>
#include <unistd.h>

#include "cgroup.h"
#include "events.h"
#include "hang.h"
#include "exit-class.h"
#include "incident.h"
#include "log.h"
#include "notify.h"
#include "proactive.h"
#include "psi.h"
#include "procfs.h"
#include "placement.h"
#include "recovery.h"
#include "relay.h"
#include "restart.h"
#include "sentinel.h"
#include "server.h"
#include "stderr-tail.h"
#include "status.h"
#include "supervisor.h"
#include "util.h"
#include "watch.h"

/* Without a cgroup nothing stops the server's growth between two polls;
 * poll at least this often. */
#define DEGRADED_POLL_USEC (500 * USEC_PER_MSEC)

struct guard {
        const struct guard_options *o;
        const struct policy *p;
        sd_event *event;
        struct supervisor sv;

        struct cg_tree cg;
        bool have_cgroup;
        char **env; /* policy env + GOMEMLIMIT */

        /* the current server generation */
        struct server_proc srv;
        bool running;
        bool killed_at_limit; /* degraded mode killed it */
        sd_event_source *child_src;

        /* the editor's side */
        struct relay *relay;
        bool stop_by_signal; /* the stop came from a signal, not from the editor */
        /* File status flags of stdin/stdout as the guard found them: the
         * open file descriptions are shared with the editor or the terminal,
         * and the relay's O_NONBLOCK must not outlive the guard there. */
        int stdin_flags, stdout_flags;
        sd_event_source *term_timer;

        struct watch watch;
        bool watching;
        sd_event_source *sample_timer, *sv_timer, *oom_check, *reap_later;
        bool poll_failed; /* degraded: reading /proc failed (said once) */
        pid_t oom_check_pid;
        /* OOM attribution (exit-class.h): the baseline of this generation,
         * and the counters that showed the kill the pending check is for. */
        struct cg_memory_events oom_base, oom_seen;
        uint64_t max_hits_base; /* memory.events "max" at this generation's spawn */
        uint64_t peak;     /* of this generation */
        int peak_fd;       /* server/memory.peak reset at the spawn (6.12+), or -1 */
        uint64_t oom_kills;
        struct cg_sample last;
        usec_t last_exit_usec, last_spawn_usec, started_usec;
        char *status_path;
        struct notifier notify; /* sd_notify: READY, STATUS, WATCHDOG, STOPPING */

        /* [pressure] proactive: restart before the kernel kills. */
        struct proactive proactive;
        usec_t proactive_at; /* when the pending proactive restart was decided */
        /* The server's stderr, passed through with its last lines kept, and
         * the newest incident written (incident.h). */
        struct stderr_tail err;
        bool err_ok;
        char last_incident[PATH_MAX]; /* its directory, or "" */
        /* server/memory.stat as last seen while the server ran: after an
         * OOM kill the leaf's own is empty. */
        char *stat_snap;
        usec_t stat_snap_usec, stat_try_usec;
        uint64_t stat_snap_anon;
        bool purged; /* [recovery] purge_cache done in this crash streak */
        /* [incidents] heap_profile: where gopls writes its -profile.mem at a
         * graceful end, and the command line that asks it to (NULL: not
         * asked). */
        char *heap_path;
        char **argv_heap;

        /* [health] request_timeout (hang.h): the CPU time of the server,
         * from the last sample, and whether that sample could be read */
        struct hang_watch hang;
        bool cpu_known;
        uint64_t tree_cpu_usec; /* degraded mode: /proc utime+stime of the tree */
        bool refusing;          /* in the cooldown after giving up */

        unsigned long long starttime; /* the guard's own, for its status file */

        /* Ends what the guard started if the guard dies (sentinel.h). */
        struct sentinel sentinel;
        char marker[SENTINEL_MARKER_MAX]; /* in every server's environment */
};

static void act(struct guard *g, struct sv_action a);

/* ---- the editors: one on stdio (the relay), or daemon mode's front ---- */

static void editors_show_message(struct guard *g, int type, const char *msg)
{
        if (g->o->front)
                g->o->front->show_message(g->o->front->userdata, type, msg);
        else
                session_show_message(relay_session(g->relay), type, msg);
}

static void editors_fail_pending(struct guard *g, const char *msg)
{
        if (g->o->front)
                g->o->front->fail_pending(g->o->front->userdata, msg);
        else
                session_fail_pending(relay_session(g->relay), msg);
}

/* The server that is about to be detached crashed (poison requests). */
static void editors_note_crash(struct guard *g)
{
        if (!g->o->front)
                session_note_crash(relay_session(g->relay));
        else if (g->o->front->note_crash)
                g->o->front->note_crash(g->o->front->userdata);
}

/* After giving up with [restart] after_give_up = wait: answer every
 * request with `msg` until a server runs again (NULL: stop, it starts). */
static void editors_refuse_requests(struct guard *g, const char *msg)
{
        if (!g->o->front) {
                if (session_refuse_requests(relay_session(g->relay), msg) < 0 && msg)
                        session_fail_pending(relay_session(g->relay), msg);
        } else if (g->o->front->refuse_requests)
                g->o->front->refuse_requests(g->o->front->userdata, msg);
        else if (msg)
                g->o->front->fail_pending(g->o->front->userdata, msg);
}

/* The oldest editor request hang detection watches (session.h), 0: none. */
static uint64_t editors_watched_request(struct guard *g)
{
        if (!g->o->front)
                return session_watched_request(relay_session(g->relay));
        return g->o->front->watched_request ? g->o->front->watched_request(g->o->front->userdata)
                                            : 0;
}

/* Whether the editor asked for the server's end (shutdown or exit): a
 * shared server's editors end only their own sessions, never the server. */
static bool editors_asked_end(struct guard *g)
{
        if (g->o->front)
                return false;
        struct lsp_session *session = relay_session(g->relay);
        return ec_end_asked_for(session_shutdown_requested(session),
                                session_exit_requested(session));
}

/* ---- status and sampling ------------------------------------------- */

static void write_status(struct guard *g)
{
        const struct policy *p = g->p;
        struct status s = {
                .guard_pid = getpid(),
                .workspace = g->o->workspace,
                .cgroup = g->have_cgroup ? g->cg.path : NULL,
                .command = g->o->argv[0],
                .state = sv_state_name(g->sv.state),
                .server_pid = g->running ? g->srv.pid : 0,
                .generation = g->sv.generation,
                .restarts = g->sv.total_restarts,
                .oom_kills = g->oom_kills,
                .proactive_restarts = g->sv.proactive_restarts,
                .memory_current = g->last.memory_current,
                .memory_peak = g->peak,
                .memory_high = p->memory.high,
                .memory_max = p->memory.max,
                .cpu_usage_usec = g->last.cpu_usage_usec,
                .cpu_throttled_usec = g->last.cpu_throttled_usec,
                .pids_current = g->last.pids_current,
                .pids_max = p->pids.max,
                .degraded = !g->have_cgroup,
                .started_usec = g->started_usec,
                .last_exit_usec = g->last_exit_usec,
                .last_spawn_usec = g->last_spawn_usec,
                .updated_usec = now_usec(),
                .last_end = g->sv.generation > 1 || g->last_exit_usec
                                    ? sv_end_kind_name(g->sv.last_end)
                                    : NULL,
                .last_incident = g->last_incident[0] ? g->last_incident : NULL,
                .hangs = g->sv.hangs,
                .requested_restarts = g->sv.requested_restarts,
                .pid_starttime = g->starttime,
        };
        if (g->relay) {
                struct lsp_session_stats st;
                session_stats(relay_session(g->relay), &st);
                s.poisoned = st.poisoned;
        } else if (g->o->front && g->o->front->poisoned) {
                s.poisoned = g->o->front->poisoned(g->o->front->userdata);
        }
        if (!g->status_path)
                return;
        int r = status_write(g->status_path, &s);
        if (r < 0)
                log_debug_errno(r, "Cannot write %s: %m", g->status_path);
}

/* The journal fields of one event (events.h) from the guard's state: the
 * server `pid` it is about, how it ended (`e`, may be NULL), the restart
 * `delay`.  Empty when they do not fit (the message still goes out). */
static void event_fields_of(struct guard *g, enum guard_event kind, pid_t pid,
                            const struct sv_exit *e, usec_t delay, char *buf, size_t len)
{
        struct event_info ev = {
                .kind = kind,
                .workspace = g->o->workspace,
                .server_pid = (int)pid,
                .generation = g->sv.generation,
                .restarts = g->sv.total_restarts,
                .memory_current = g->last.memory_current,
                .memory_peak = g->peak,
                .memory_high = g->p->memory.high,
                .memory_max = g->p->memory.max,
                .degraded = !g->have_cgroup,
                .exit_status = e && !e->signal ? e->status : -1,
                .signal = e ? e->signal : 0,
                .delay_usec = delay,
        };
        if (event_fields(&ev, buf, len) < 0)
                buf[0] = '\0';
}

/* Log an event with its journal fields; a macro so that CODE_LINE names
 * the place that decided. */
#define log_event(g, kind, level, pid, e, delay, ...)                                              \
        do {                                                                                       \
                char ef_[2048];                                                                    \
                event_fields_of(g, kind, pid, e, delay, ef_, sizeof ef_);                          \
                log_fields(level, ef_[0] ? ef_ : NULL, __VA_ARGS__);                               \
        } while (0)

/* Whether the server has ended (its exit may be waiting for dispatch). */
static bool server_alive(struct guard *g)
{
        siginfo_t si = {0};
        int fd = g->child_src ? sd_event_source_get_child_pidfd(g->child_src) : -1;
        if (!g->running || fd < 0)
                return false;
        if (waitid((idtype_t)P_PIDFD, (id_t)fd, &si, WEXITED | WNOHANG | WNOWAIT) < 0)
                return false;
        return si.si_pid == 0;
}

static int on_child_oom_check(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct guard *g = userdata;
        (void)s;
        (void)usec;
        if (!g->running || g->srv.pid != g->oom_check_pid)
                return 0;
        bool alive = server_alive(g);
        bool group = g->oom_seen.oom_group_kill > g->oom_base.oom_group_kill;
        /* Still running a moment after the kill: the victim was one of its
         * children (a go list), which gopls reports as a failed load.  That
         * kill is spent: a later end of this server is judged without it.
         * (Not after a group kill, which takes the server too.) */
        g->oom_base = ec_baseline_after_check(&g->oom_base, &g->oom_seen, alive);
        if (alive && !group)
                log_warning("The kernel OOM-killed a process in the server's cgroup at "
                            "memory.max; %s itself (pid %d) is still running.",
                            g->o->argv[0], (int)g->srv.pid);
        return 0;
}

/* Keep server/memory.stat for an incident: read at each sample, and while
 * the server presses on its limits (memory.events high/max climbing) at
 * most every SNAP_MIN_USEC, so a leak that outruns the sampling is still
 * seen near its end; the read with the most anonymous memory of the
 * generation is kept (one taken while the OOM killer empties the leaf
 * would show nothing: measured on 6.1). */
#define SNAP_MIN_USEC (250 * USEC_PER_MSEC)
static void snap_memory_stat(struct guard *g)
{
        usec_t now = now_usec();
        char *text = NULL;
        uint64_t anon = 0;
        if (!g->have_cgroup || !g->running || now - g->stat_try_usec < SNAP_MIN_USEC)
                return;
        g->stat_try_usec = now;
        if (read_file_at(g->cg.server_fd, "memory.stat", &text, 64 * 1024) < 0)
                return;
        (void)cg_parse_kv(text, "anon", &anon);
        if (g->stat_snap && anon < g->stat_snap_anon) {
                free(text);
                return;
        }
        free(g->stat_snap);
        g->stat_snap = text;
        g->stat_snap_usec = now;
        g->stat_snap_anon = anon;
}

static void on_memory_change(void *userdata, const struct cg_memory_events *before,
                             const struct cg_memory_events *now)
{
        struct guard *g = userdata;
        uint64_t kills = watch_oom_events(before, now);

        if (now->high > before->high || now->max > before->max)
                snap_memory_stat(g);

        if (kills > 0) {
                g->oom_kills += kills;
                /* Whether the server itself was the victim shows only when
                 * its exit is reaped; look again shortly. */
                if (g->running) {
                        g->oom_check_pid = g->srv.pid;
                        g->oom_seen = *now;
                        g->oom_check = sd_event_source_disable_unref(g->oom_check);
                        (void)sd_event_add_time_relative(g->event, &g->oom_check,
                                                         CLOCK_MONOTONIC, 200 * USEC_PER_MSEC,
                                                         USEC_PER_MSEC, on_child_oom_check, g);
                }
        }
        proactive_high(&g->proactive, now_usec(), now->high);
        if (now->high > before->high)
                log_debug("memory.high was exceeded %" PRIu64 " more time(s); the kernel is "
                          "reclaiming from the server.",
                          now->high - before->high);
        if (now->max > before->max)
                log_debug("memory.max was reached %" PRIu64 " more time(s).",
                          now->max - before->max);
}

static void on_populated_change(void *userdata, int populated)
{
        (void)userdata;
        /* populated can flip before or after the pidfd reports the exit;
         * nothing depends on the order, so this only feeds the log. */
        log_debug("The server cgroup is %s.", populated ? "populated" : "empty");
}

/* Re-read the event files now (they may not have notified yet). */
static void check_memory_events(struct guard *g, const char *why)
{
        if (!g->watching)
                return;
        int r = watch_poll(&g->watch);
        if (r < 0)
                log_debug_errno(r, "Cannot read the server's event files (%s): %m", why);
}

/* Sample the leaf's counters and keep this generation's peak (memory.peak
 * reset at the spawn where the kernel can, 6.12+; else the largest
 * memory.current seen, since the leaf's own memory.peak spans every
 * generation), then re-read the event files: at every sample as the safety
 * net for a lost inotify event, and at an exit before it is classified. */
static void read_cgroup(struct guard *g, const char *why)
{
        struct cg_sample s;
        int r = cg_read_sample(&g->cg, &s);
        g->cpu_known = r >= 0;
        if (r < 0)
                log_debug_errno(r, "Cannot sample the server's cgroup (%s): %m", why);
        else {
                g->last = s;
                uint64_t peak = s.memory_current;
                if (g->peak_fd >= 0 && cg_peak_read(g->peak_fd, &peak) < 0)
                        peak = s.memory_current;
                if (peak > g->peak)
                        g->peak = peak;
        }
        check_memory_events(g, why);
}

/* SIGKILL the server's process group (the server leads it, see server.c)
 * and the server itself, in case it left its group; without a cgroup also
 * every other descendant of the guard (a subreaper: what the server
 * double-forked away is the guard's now). */
static void kill_server_tree(struct guard *g, pid_t pid)
{
        if (pid > 0) {
                (void)kill(-pid, SIGKILL);
                (void)kill(pid, SIGKILL);
        }
        if (!g->have_cgroup)
                (void)proc_kill_descendants(g->o->proc_root, getpid(), g->sentinel.pid, 50);
}

static void start_sentinel(struct guard *g);

/* Reap what was reparented to the guard (it is a child subreaper) and has
 * ended.  The server itself is left to its pidfd source, which reaps it
 * after classifying its end; while it is a zombie, others wait for the
 * next pass (reap_later). */
static void reap_orphans(struct guard *g)
{
        for (;;) {
                siginfo_t si = {0};
                if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) < 0 || si.si_pid == 0)
                        return;
                if (g->child_src && si.si_pid == g->srv.pid)
                        return;
                (void)waitid(P_PID, (id_t)si.si_pid, &si, WEXITED | WNOHANG);
                if (sentinel_is(&g->sentinel, si.si_pid)) {
                        /* Only SIGKILL ends it early (it ignores the rest). */
                        log_warning("The guard's sentinel process (pid %d) ended unexpectedly; "
                                    "starting a new one.",
                                    (int)si.si_pid);
                        sentinel_forget(&g->sentinel);
                        start_sentinel(g);
                }
        }
}

static int on_sigchld(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
        (void)s;
        (void)si;
        reap_orphans(userdata);
        return 0;
}

static int on_reap_later(sd_event_source *s, void *userdata)
{
        (void)s;
        reap_orphans(userdata);
        return 0;
}

/* Degraded mode: the resident memory of the whole tree against [memory] max. */
static void poll_proc(struct guard *g)
{
        struct proc_tree t;
        int r = proc_descendants(g->o->proc_root, getpid(), g->sentinel.pid, &t);
        g->cpu_known = r >= 0;
        if (r < 0) {
                if (!g->poll_failed)
                        log_warning_errno(r, "Cannot read the server's memory from %s: %m; "
                                             "[memory] max is not enforced while this lasts.",
                                          g->o->proc_root);
                g->poll_failed = true;
                return;
        }
        if (g->poll_failed)
                log_notice("Reading the server's memory from %s works again.", g->o->proc_root);
        g->poll_failed = false;
        uint64_t rss = t.rss;
        g->last.memory_current = rss;
        g->last.pids_current = t.n;
        g->tree_cpu_usec = t.cpu_usec;
        proc_tree_free(&t);
        if (rss > g->peak)
                g->peak = rss;
        if (ec_over_limit(rss, g->p->memory.max, g->killed_at_limit)) {
                char a[32], b[32];
                format_size_human(rss, a, sizeof a);
                format_size_human(g->p->memory.max, b, sizeof b);
                log_warning("The server's processes use %s, over [memory] max = %s; "
                            "killing them (degraded mode: no cgroup limit).",
                            a, b);
                g->killed_at_limit = true;
                kill_server_tree(g, g->srv.pid);
        }
}

/* STATUS= for the service manager (systemctl status shows it). */
static void send_status(struct guard *g)
{
        char cur[32], max[32], line[NOTIFY_STATUS_MAX];
        format_size_human(g->last.memory_current, cur, sizeof cur);
        format_size_human(g->p->memory.max, max, sizeof max);
        notify_status_line(line, sizeof line, sv_state_name(g->sv.state), g->sv.generation, cur,
                           max, !g->have_cgroup);
        notify_status(&g->notify, line);
}

/* [health] request_timeout: kill a server that holds a request without
 * using CPU (hang.h decides; the supervisor restarts it as after a crash). */
static void check_hang(struct guard *g)
{
        usec_t now = now_usec();
        struct hang_sample hs = {
            .request = g->running ? editors_watched_request(g) : 0,
            .cpu_known = g->cpu_known,
            .cpu_usec = g->have_cgroup ? g->last.cpu_usage_usec : g->tree_cpu_usec,
        };
        if (!hang_check(&g->hang, now, &hs))
                return;
        char waited[32], limit[32];
        format_duration_human(hang_stretch(&g->hang, now), waited, sizeof waited);
        format_duration(g->p->health.request_timeout, limit, sizeof limit);
        hang_reset(&g->hang);
        if (sv_hung(&g->sv, now).kind != SV_ACT_KILL)
                return;
        log_event(g, GE_HANG, LOG_WARNING, g->srv.pid, NULL, 0,
                  "%s (pid %d) is hung: a request has waited %s with no progress in its CPU "
                  "use ([health] request_timeout = %s); killing it to start a new one.",
                  g->o->argv[0], (int)g->srv.pid, waited, limit);
        if (g->have_cgroup)
                (void)cg_kill_server(&g->cg);
        kill_server_tree(g, g->srv.pid);
}

static void sample(struct guard *g)
{
        if (g->have_cgroup) {
                read_cgroup(g, "sample");
                snap_memory_stat(g);
        } else if (g->running)
                poll_proc(g);
        check_hang(g);
        send_status(g);
        write_status(g);
}

static int on_sample(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct guard *g = userdata;
        usec_t interval = g->p->cpu.sample_interval;
        (void)usec;

        if (!g->have_cgroup && interval > DEGRADED_POLL_USEC)
                interval = DEGRADED_POLL_USEC;
        sample(g);
        (void)sd_event_source_set_time_relative(s, interval);
        return 0;
}

/* ---- the server's life --------------------------------------------- */

static int on_server_exit(sd_event_source *s, const siginfo_t *si, void *userdata);

static void log_degraded(const char *why)
{
        log_warning("No usable cgroup: %s. Running in degraded mode: the server's "
                    "memory is polled from /proc and it is stopped at [memory] max; "
                    "memory.high, swap, cpu and pids limits are not enforced.",
                    why);
}

#define DEGRADED_NOTICE                                                                            \
        "gopls-guard found no usable cgroup and runs degraded: the language server's memory is "   \
        "only polled, not limited by the kernel. See the guard's log for why."

static void tell_editor_degraded(struct guard *g)
{
        if (g->p->lsp.notify)
                editors_show_message(g, 2, DEGRADED_NOTICE);
}

const char *guard_degraded_notice(const struct guard *g)
{
        return !g->have_cgroup && g->p->lsp.notify ? DEGRADED_NOTICE : NULL;
}

/* Fork the sentinel for the guard's current mode: in cgroup mode it empties
 * server/ should the guard die, in degraded mode it kills the server's
 * process group and every process carrying the guard's marker.  Without
 * one the guard still serves: it says what is then not guaranteed. */
static void start_sentinel(struct guard *g)
{
        struct sentinel_spec spec = {.kill_fd = -1, .procs_fd = -1};
        int r = 0;

        if (g->have_cgroup)
                r = cg_server_kill_fds(&g->cg, &spec.kill_fd, &spec.procs_fd);
        else {
                spec.proc_root = g->o->proc_root;
                spec.marker = g->marker;
        }
        if (r >= 0)
                r = sentinel_start(&spec, &g->sentinel);
        if (spec.kill_fd >= 0)
                close(spec.kill_fd);
        if (spec.procs_fd >= 0)
                close(spec.procs_fd);
        if (r < 0) {
                log_warning_errno(r, "No sentinel process (%s: %m): should the guard be "
                                     "killed, what the server started may outlive it.",
                                  g->have_cgroup ? "for server/cgroup.kill" : "degraded mode");
                return;
        }
        if (g->running)
                (void)sentinel_tell_server(&g->sentinel, g->srv.pid);
        log_debug("Sentinel process started (pid %d).", (int)g->sentinel.pid);
}

/* Give the cgroup up: nothing of it stays behind (server/ and
 * supervisor/ are removed), and the guard goes on degraded or exits. */
static void drop_cgroup(struct guard *g)
{
        char why[CG_WHY_MAX];
        if (g->watching)
                watch_stop(&g->watch);
        g->watching = false;
        proactive_psi_close(&g->proactive);
        if (g->peak_fd >= 0)
                close(g->peak_fd);
        g->peak_fd = -1;
        /* The sentinel lives in supervisor/ too, which could not go with it
         * there; and the one for degraded mode watches differently. */
        sentinel_stop(&g->sentinel);
        if (cg_teardown(&g->cg, 5 * USEC_PER_SEC, why) < 0)
                log_warning("%s", why);
        cg_close(&g->cg);
        g->have_cgroup = false;
        start_sentinel(g);
}

static int spawn(struct guard *g);

/* The kernel refused to start the server in server/ (clone3 with
 * CLONE_INTO_CGROUP: EACCES/EPERM, or ENOENT across a cgroup namespace).
 * Limits and layout were fine, so this is the delegation rule for moving
 * a process: its user must be able to write cgroup.procs of the common
 * ancestor of the cgroup it is in and the target.  With require = yes the
 * guard exits 3 (returns 1: stopping); otherwise it runs degraded. */
static int placement_refused(struct guard *g, int err)
{
        char why[3 * CG_WHY_MAX];
        _cleanup_free_ char *own = NULL;
        (void)cg_pid_cgroup(g->o->proc_root, 0, &own);
        snprintf(why, sizeof why,
                 "the kernel refused to start %s in %s/server (%s): a process may enter a cgroup "
                 "only if its user can write cgroup.procs of the common ancestor of its "
                 "current cgroup (the guard's: %s) and the target; run the guard inside the "
                 "delegated subtree (e.g. in a child of %s) or delegate the common ancestor",
                 g->o->argv[0], g->cg.path, strerror(-err), own ? own : "unknown", g->cg.path);
        drop_cgroup(g);
        if (g->p->cgroup.require) {
                log_error("No usable cgroup: %s. [cgroup] require = yes, so the server is not "
                          "started.",
                          why);
                sd_event_exit(g->event, 3);
                return 1;
        }
        log_degraded(why);
        tell_editor_degraded(g);
        return spawn(g);
}

static int spawn(struct guard *g)
{
        struct server_spec spec = {
                .argv = g->argv_heap ? g->argv_heap : g->o->argv,
                .env = g->env,
                .cgroup_fd = -1,
                .cgroup_procs_fd = -1,
        };
        _cleanup_close_ int dirfd = -1, procsfd = -1;
        int r;

        if (g->have_cgroup) {
                dirfd = cg_server_dir_fd(&g->cg);
                procsfd = cg_server_procs_fd(&g->cg);
                if (dirfd < 0 || procsfd < 0)
                        return log_error_errno(dirfd < 0 ? dirfd : procsfd,
                                               "Cannot open %s/server: %m", g->cg.path);
                spec.cgroup_fd = dirfd;
                spec.cgroup_procs_fd = procsfd;
                /* What the last generation left (its go list children) goes,
                 * so the new server starts with the whole budget. */
                (void)cg_kill_server(&g->cg);
                check_memory_events(g, "spawn");
                g->oom_base = g->watch.last;
                g->max_hits_base = g->watch.last.max;
                if (g->peak_fd >= 0)
                        close(g->peak_fd);
                g->peak_fd = cg_peak_open_reset(&g->cg);
                if (g->peak_fd < 0)
                        log_debug_errno(g->peak_fd, "memory.peak cannot be reset (%m); the "
                                                    "generation's peak is the largest sample.");
        }

        g->peak = 0;
        /* A snapshot of the last generation must not pass for this one's. */
        g->stat_snap = (free(g->stat_snap), NULL);
        g->stat_snap_usec = g->stat_try_usec = 0;
        g->stat_snap_anon = 0;
        if (g->heap_path)
                (void)unlink(g->heap_path); /* the last generation's */
        spec.capture_stderr = g->err_ok;
        hang_init(&g->hang, g->p->health.request_timeout);
        /* The cooldown is over: what the editors send from here waits for
         * this server (a shared one takes them only once it listens). */
        if (g->refusing)
                editors_refuse_requests(g, NULL);
        g->refusing = false;
        r = server_spawn(&spec, &g->srv);
        if (r < 0 && g->have_cgroup && (r == -EACCES || r == -EPERM || r == -ENOENT))
                return placement_refused(g, r);
        if (r < 0)
                return log_error_errno(r, "Cannot start %s: %m", g->o->argv[0]);
        g->last_spawn_usec = now_usec();
        if (g->srv.stderr_fd >= 0 && (r = stderr_tail_attach(&g->err, g->srv.stderr_fd)) < 0) {
                /* The server still runs; its stderr waits in the pipe. */
                log_warning_errno(r, "Cannot read %s's stderr: %m", g->o->argv[0]);
                close(g->srv.stderr_fd);
        }
        g->srv.stderr_fd = -1;

        r = sd_event_add_child_pidfd(g->event, &g->child_src, g->srv.pidfd, WEXITED,
                                     on_server_exit, g);
        if (r >= 0) {
                /* The source closes the pidfd when it goes. */
                (void)sd_event_source_set_child_pidfd_own(g->child_src, true);
                g->srv.pidfd = -1;
                r = g->o->front ? g->o->front->attach(g->o->front->userdata, g->srv.stdin_fd,
                                                      g->srv.stdout_fd)
                                : relay_attach_server(g->relay, g->srv.stdin_fd, g->srv.stdout_fd);
                g->srv.stdin_fd = g->srv.stdout_fd = -1; /* the relay's now */
        }
        if (r < 0) {
                /* A server nobody watches or talks to must not live on. */
                log_error_errno(r, "Cannot watch or relay to %s (pid %d), stopping it: %m",
                                g->o->argv[0], (int)g->srv.pid);
                kill_server_tree(g, g->srv.pid);
                (void)waitpid(g->srv.pid, NULL, 0);
                g->child_src = sd_event_source_disable_unref(g->child_src);
                if (g->srv.pidfd >= 0)
                        close(g->srv.pidfd);
                if (g->srv.stdin_fd >= 0)
                        close(g->srv.stdin_fd);
                if (g->srv.stdout_fd >= 0)
                        close(g->srv.stdout_fd);
                g->srv = (struct server_proc){.pidfd = -1, .stdin_fd = -1, .stdout_fd = -1,
                                              .stderr_fd = -1};
                return r;
        }
        g->running = true;
        g->killed_at_limit = false;
        if (g->sentinel.pid > 0 && (r = sentinel_tell_server(&g->sentinel, g->srv.pid)) < 0)
                log_warning_errno(r, "Cannot tell the sentinel process about %s (pid %d): %m; "
                                     "should the guard be killed, its process group may "
                                     "outlive it.",
                                  g->o->argv[0], (int)g->srv.pid);
        sv_spawned(&g->sv, now_usec());
        proactive_spawned(&g->proactive, now_usec());
        if (g->proactive_at) {
                char d[32];
                format_duration_human(now_usec() - g->proactive_at, d, sizeof d);
                log_info("Proactive restart: the new server started %s after the decision.", d);
                g->proactive_at = 0;
        }
        /* Nothing limits a server without a cgroup between two polls: the
         * first one comes at once, not after a whole interval. */
        if (!g->have_cgroup && g->sample_timer)
                (void)sd_event_source_set_time_relative(g->sample_timer, 0);

        log_event(g, GE_START, LOG_INFO, g->srv.pid, NULL, 0,
                  "Started %s (pid %d, generation %u)%s%s.", g->o->argv[0], (int)g->srv.pid,
                  g->sv.generation, g->have_cgroup ? " in " : " without a cgroup",
                  g->have_cgroup ? g->cg.path : "");
        /* Serving from here on: the first start makes the unit active (a
         * front has said so already, once its socket was watched). */
        notify_ready(&g->notify);
        send_status(g);
        write_status(g);
        return 0;
}

/* Whether this generation's gopls wrote its heap profile (at a graceful
 * end: EOF on its input, or exit). */
static bool heap_written(const struct guard *g)
{
        struct stat st;
        return g->heap_path && lstat(g->heap_path, &st) == 0 && S_ISREG(st.st_mode) &&
               st.st_size > 0;
}

/* [incidents] heap_profile: gopls (both generations tested, 0.5.0 and
 * 0.16.1) writes a heap profile to -profile.mem=FILE when it ends
 * gracefully, with no port opened to other users (as -debug=ADDR would).
 * The flag goes before any subcommand, where gopls takes global flags.
 * The file is in the private incidents directory; an incident takes it,
 * and a graceful stop keeps it as incidents/last-heap.pprof.  0, or a
 * negative errno when it cannot be set up (then no profile is asked). */
static int setup_heap_profile(struct guard *g)
{
        struct incident_places pl;
        char why[INCIDENT_WHY_MAX];
        _cleanup_free_ char *dir = NULL;
        const char *base = strrchr(g->o->argv[0], '/');
        size_t n = 0;

        base = base ? base + 1 : g->o->argv[0];
        if (!g->p->incidents.heap_profile || g->p->incidents.keep == 0 || strcmp(base, "gopls"))
                return 0;
        for (char *const *a = g->o->argv; *a; a++, n++)
                if (strstr(*a, "-profile.mem"))
                        return 0; /* the user's own choice */
        incident_places_from_env(&pl);
        int fd = incident_dir_open(&pl, true, &dir, why);
        if (fd < 0) {
                log_warning("Not asking %s for a heap profile: %s", g->o->argv[0], why);
                return fd;
        }
        close(fd);
        if (asprintf(&g->heap_path, "%s/.heap-%d.pprof", dir, (int)getpid()) < 0) {
                g->heap_path = NULL;
                return -ENOMEM;
        }
        g->argv_heap = calloc(n + 2, sizeof *g->argv_heap);
        if (!g->argv_heap || asprintf(&g->argv_heap[1], "-profile.mem=%s", g->heap_path) < 0) {
                free(g->argv_heap);
                g->argv_heap = NULL;
                return -ENOMEM;
        }
        g->argv_heap[0] = g->o->argv[0];
        for (size_t i = 1; i < n; i++)
                g->argv_heap[i + 1] = g->o->argv[i];
        log_debug("Asking %s for a heap profile at its graceful end (%s).", g->o->argv[0],
                  g->heap_path);
        return 0;
}

/* A graceful stop: keep the profile gopls wrote as the last one. */
static void keep_last_heap(struct guard *g)
{
        char to[PATH_MAX];
        const char *slash;
        if (!heap_written(g) || !(slash = strrchr(g->heap_path, '/')))
                return;
        snprintf(to, sizeof to, "%.*s/last-heap.pprof", (int)(slash - g->heap_path),
                 g->heap_path);
        /* gopls creates it 0666 & umask; the directory is private, the
         * file is made so as well. */
        (void)chmod(g->heap_path, 0600);
        if (rename(g->heap_path, to) == 0)
                log_info("%s's heap profile at its graceful end: %s (go tool pprof %s).",
                         g->o->argv[0], to, to);
}

/* The methods of the editor requests in flight: this guard's editor's, or
 * every editor's of a daemon. */
static size_t pending_methods(struct guard *g, const char **ret, size_t max)
{
        if (g->relay)
                return session_pending_methods(relay_session(g->relay), ret, max);
        if (g->o->front && g->o->front->pending_methods)
                return g->o->front->pending_methods(g->o->front->userdata, ret, max);
        return 0;
}

/* Keep what is known about an end that went wrong (incident.h): called at
 * each OOM kill and crash, and by whatever else ends a server on purpose
 * (a hang, a proactive restart), with `kind` its journal event.  Failing
 * to write it is said and otherwise ignored: the server matters more. */
static void record_incident(struct guard *g, const char *kind, const struct sv_exit *e, pid_t pid)
{
        struct incident_places pl;
        char why[INCIDENT_WHY_MAX], name[INCIDENT_NAME_MAX];
        const char *methods[32];
        _cleanup_free_ char *tail = g->err_ok ? stderr_tail_text(&g->err, STDERR_TAIL_LINES) : NULL;
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int leaf = -1;

        if (g->p->incidents.keep == 0)
                return; /* [incidents] keep = 0: none wanted */
        leaf = g->have_cgroup ? cg_server_dir_fd(&g->cg) : -1;
        incident_places_from_env(&pl);
        _cleanup_close_ int dirfd = incident_dir_open(&pl, true, &path, why);
        if (dirfd < 0) {
                log_warning("Not keeping an incident of this %s: %s", kind, why);
                return;
        }
        struct incident_facts f = {
                .kind = kind,
                .workspace = g->o->workspace,
                .command = g->o->argv[0],
                .cgroup = g->have_cgroup ? g->cg.path : NULL,
                .guard_pid = getpid(),
                .server_pid = pid,
                .generation = g->sv.generation,
                .status = e ? e->status : 0,
                .signal = e ? e->signal : 0,
                .oom = e && e->oom,
                .peak = g->peak,
                .memory_high = g->p->memory.high,
                .memory_max = g->p->memory.max,
                .realtime_usec = (uint64_t)time(NULL) * USEC_PER_SEC,
                .leaf_fd = leaf,
                .stderr_tail = tail,
                .memory_stat_at_peak = g->stat_snap,
                .memory_stat_at_peak_age_usec = now_usec() - g->stat_snap_usec,
                .methods = methods,
                .n_methods = pending_methods(g, methods, 32),
                .heap_profile = heap_written(g) ? g->heap_path : NULL,
                /* gopls writes its -profile.mem file only when it exits by
                 * itself; a killed server leaves none. */
                .heap_note = !g->argv_heap ? (g->p->incidents.heap_profile
                                                      ? "heap profiles are asked only of gopls"
                                                      : "[incidents] heap_profile = no")
                             : e && e->oom ? "an OOM-killed server writes no heap profile"
                             : e && e->signal
                                     ? "a server killed by a signal writes no heap profile"
                                     : "the server wrote no heap profile",
        };
        int r = incident_capture(dirfd, &f, name);
        if (r < 0) {
                log_warning_errno(r, "Cannot write an incident into %s: %m", path);
                return;
        }
        snprintf(g->last_incident, sizeof g->last_incident, "%s/%s", path, name);
        log_info("Kept what is known about this %s in %s/%s (gopls-guard incidents lists it).",
                 kind, path, name);
        r = incident_prune(dirfd, g->p->incidents.keep, g->p->incidents.max_size);
        if (r > 0)
                log_debug("Removed the %d oldest incident(s) to stay within [incidents] keep and "
                          "max_size.", r);
}

/* A variable as the server sees it: [server] env first, then ours. */
static const char *server_getenv(const struct guard *g, const char *name)
{
        size_t n = strlen(name);
        for (char **e = g->env; e && *e; e++)
                if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
                        return *e + n + 1;
        return getenv(name);
}

/* [recovery] purge_cache (recovery.h): after repeated crashes in the
 * window, move the caches aside before the next start, and say where. */
static void purge_caches(struct guard *g)
{
        char def[PATH_MAX], to[PATH_MAX], msg[1024] = "";
        const char *one[] = {def, NULL};
        char *const *dirs = g->p->recovery.cache_dirs;
        size_t off = 0;

        if (g->sv.n_restarts_at < RECOVERY_ENDS)
                g->purged = false; /* a new streak may purge again */
        if (!recovery_should_purge(g->p->recovery.purge_cache, g->sv.n_restarts_at, g->purged))
                return;
        g->purged = true;
        if (g->p->recovery.n_cache_dirs == 0) {
                if (recovery_gopls_cache_dir(server_getenv(g, "GOPLSCACHE"),
                                             server_getenv(g, "XDG_CACHE_HOME"),
                                             server_getenv(g, "HOME"), def, sizeof def) < 0) {
                        log_warning("[recovery] purge_cache: gopls's cache directory is unknown "
                                    "(no GOPLSCACHE, XDG_CACHE_HOME or HOME); nothing moved.");
                        return;
                }
                dirs = (char *const *)one;
        }
        for (; *dirs; dirs++) {
                int r = recovery_move_aside(*dirs, time(NULL), to, sizeof to);
                if (r == 0)
                        log_info("[recovery] purge_cache: %s does not exist; nothing to move.",
                                 *dirs);
                else if (r < 0)
                        log_warning_errno(r, "[recovery] purge_cache: not moving %s aside: %m%s",
                                          *dirs,
                                          r == -ELOOP   ? " (a link)"
                                          : r == -EPERM ? " (another user's)"
                                                        : "");
                if (r <= 0)
                        continue;
                log_notice("%s crashed %u times within [restart] window: moved its cache %s "
                           "aside to %s ([recovery] purge_cache; nothing was deleted).",
                           g->o->argv[0], g->sv.n_restarts_at, *dirs, to);
                off += (size_t)snprintf(msg + off, off < sizeof msg ? sizeof msg - off : 0,
                                        "%s%s to %s", off ? ", " : "", *dirs, to);
        }
        if (msg[0] && g->p->lsp.notify) {
                char m[1200];
                snprintf(m, sizeof m,
                         "gopls-guard moved the language server's cache aside after repeated "
                         "crashes (in case it is corrupt): %s. Nothing was deleted.",
                         msg);
                editors_show_message(g, 2, m);
        }
}

static void describe_end(const struct sv_exit *e, char *buf, size_t len)
{
        if (e->signal)
                snprintf(buf, len, "was killed by signal %d (%s)", e->signal,
                         strsignal(e->signal));
        else
                snprintf(buf, len, "exited with status %d", e->status);
}

/* [lsp] notify: one line in the editor saying what happened. */
static void tell_editor_restart(struct guard *g, const struct sv_exit *e, usec_t delay)
{
        char msg[512], max[32], peak[32], d[32], how[128];

        if (!g->p->lsp.notify)
                return;
        format_duration_human(delay, d, sizeof d);
        if (g->sv.last_end == SV_END_HANG) {
                char t[32];
                format_duration_human(g->p->health.request_timeout, t, sizeof t);
                snprintf(msg, sizeof msg,
                         "%s stopped answering (a request waited %s while it used no CPU) and "
                         "was restarted by gopls-guard in %s; open files and settings are "
                         "restored.",
                         g->o->argv[0], t, d);
        } else if (e->oom) {
                format_size_human(g->p->memory.max, max, sizeof max);
                format_size_human(g->peak, peak, sizeof peak);
                snprintf(msg, sizeof msg,
                         "%s ran out of memory (limit %s, peak %s) and was restarted by "
                         "gopls-guard in %s; open files and settings are restored.",
                         g->o->argv[0], max, peak, d);
        } else {
                describe_end(e, how, sizeof how);
                snprintf(msg, sizeof msg,
                         "%s %s and was restarted by gopls-guard in %s; open files and "
                         "settings are restored.",
                         g->o->argv[0], how, d);
        }
        editors_show_message(g, 2, msg);
}

/* [restart] after_give_up = wait: the supervisor gave up for
 * [restart] cooldown.  The editor stays connected, every request is
 * answered with what happened, and the user is told once how to retry. */
static void gave_up_waiting(struct guard *g, pid_t pid, const struct sv_exit *e, const char *what)
{
        char d[32], msg[768];

        format_duration_human(g->sv.cooldown, d, sizeof d);
        snprintf(msg, sizeof msg,
                 "gopls-guard gave up for now: %s. It starts the language server again in "
                 "%s; once the cause is fixed, `gopls-guard restart` tries again at once.",
                 what, d);
        editors_refuse_requests(g, msg);
        g->refusing = true;
        if (g->p->lsp.notify)
                editors_show_message(g, 1, msg);
        log_event(g, GE_GIVE_UP, LOG_ERR, pid, e, g->sv.cooldown,
                  "Giving up for now: %s ([restart] max_restarts = %u). Trying again in %s "
                  "([restart] after_give_up = wait, cooldown); `gopls-guard restart` tries "
                  "at once.",
                  what, g->sv.max_restarts, d);
}

static int on_server_exit(sd_event_source *s, const siginfo_t *si, void *userdata)
{
        struct guard *g = userdata;
        struct ec_end end = {.cgroup = g->have_cgroup, .killed_at_limit = g->killed_at_limit};
        usec_t now = now_usec();
        pid_t pid = g->srv.pid;
        (void)s;

        if (si->si_code == CLD_EXITED)
                end.status = si->si_status;
        else
                end.signal = si->si_status;
        g->last_exit_usec = now;

        /* The kernel counts the OOM kill before it sends SIGKILL (mm/oom_kill.c),
         * so by the time the exit is reaped the counter shows it. */
        if (g->have_cgroup) {
                read_cgroup(g, "exit");
                end.base = g->oom_base;
                end.now = g->watch.last;
                /* Whatever the server started dies with it. */
                (void)cg_kill_server(&g->cg);
        } else {
                /* The server is reaped: only its group, never its pid,
                 * which may already belong to someone else; and whatever
                 * it left behind, now the guard's descendants. */
                (void)kill(-pid, SIGKILL);
                kill_server_tree(g, 0);
        }
        /* That group is gone: its number may be reused by anyone now. */
        (void)sentinel_tell_server(&g->sentinel, 0);
        struct sv_exit e = ec_classify(&end);
        if (e.oom && !g->have_cgroup)
                g->oom_kills++;
        /* Usage reached memory.max in this generation (the kernel counted a
         * "max" event): that is its peak, even when it was so quick that no
         * sample saw it and memory.peak cannot be reset (before 6.12). */
        if (g->have_cgroup && g->watch.last.max > g->max_hits_base &&
            g->p->memory.max != POLICY_NO_LIMIT && g->p->memory.max > g->peak)
                g->peak = g->p->memory.max;
        g->running = false;
        proactive_ended(&g->proactive);
        g->child_src = sd_event_source_disable_unref(g->child_src);
        if (g->err_ok)
                stderr_tail_detach(&g->err);
        /* Orphans that ended while the server was a zombie: once it is
         * reaped, right after this callback. */
        if (g->reap_later)
                (void)sd_event_source_set_enabled(g->reap_later, SD_EVENT_ONESHOT);
        /* Poison requests count the ends the server did not choose: not a
         * stop or restart the guard made, not one the editor asked for. */
        if (g->sv.state == SV_RUNNING && !editors_asked_end(g) &&
            (sv_classify(&e) != SV_END_CLEAN || g->sv.hang_kill))
                editors_note_crash(g);
        if (g->o->front)
                g->o->front->detach(g->o->front->userdata);
        else
                relay_detach_server(g->relay);

        /* After the editor's shutdown (or exit) the server is meant to go:
         * its end is the stop the editor asked for, whatever the status. */
        if ((g->sv.state == SV_RUNNING || g->sv.state == SV_RESTARTING) && editors_asked_end(g))
                (void)sv_stop(&g->sv, now);

        enum sv_state before = g->sv.state;
        unsigned restarts_before = g->sv.total_restarts;
        char how[128];
        describe_end(&e, how, sizeof how);
        /* The end is logged before the supervisor decides, so that its
         * entry counts the restarts made so far, as its text says. */
        if (e.oom) {
                char max[32], peak[32];
                format_size_human(g->p->memory.max, max, sizeof max);
                format_size_human(g->peak, peak, sizeof peak);
                log_event(g, GE_OOM_KILL, LOG_WARNING, pid, &e, 0,
                          "%s (pid %d) was OOM-killed at memory.max=%s (peak %s)%s; "
                          "restarts so far: %u.",
                          g->o->argv[0], (int)pid, max, peak,
                          g->have_cgroup ? "" : " by the guard (degraded mode)",
                          restarts_before);
                record_incident(g, "oom-kill", &e, pid);
        } else if (before == SV_RESTARTING && g->sv.restart_by_user) {
                log_event(g, GE_STOP, LOG_INFO, pid, &e, 0,
                          "%s (pid %d) %s; starting a new one as asked (gopls-guard restart).",
                          g->o->argv[0], (int)pid, how);
                keep_last_heap(g);
        } else if (before == SV_STOPPING || before == SV_RESTARTING) {
                log_event(g, GE_STOP, LOG_INFO, pid, &e, 0, "%s (pid %d) %s.", g->o->argv[0],
                          (int)pid, how);
                /* A proactive restart is an incident too (the memory that
                 * made it, and the heap profile gopls wrote as it ended). */
                if (before == SV_RESTARTING && g->proactive_at)
                        record_incident(g, "proactive-restart", &e, pid);
                else
                        keep_last_heap(g);
        } else {
                log_event(g, GE_CRASH, LOG_NOTICE, pid, &e, 0, "%s (pid %d) %s%s.", g->o->argv[0],
                          (int)pid, how, g->sv.hang_kill ? " (killed as hung)" : "");
                if (g->sv.hang_kill)
                        record_incident(g, "hang", &e, pid);
                else if (e.signal || e.status != 0)
                        record_incident(g, "crash", &e, pid);
        }

        struct sv_action a = sv_exited(&g->sv, now, &e, drand48());
        /* (A shared server's front drops the editors it cannot replay to.) */
        if (a.kind == SV_ACT_WAIT && !g->o->front && !session_can_restart(relay_session(g->relay))) {
                /* [lsp] replay = no: a new server would never see an
                 * initialize, so the editor has to see this end. */
                a = (struct sv_action){.kind = SV_ACT_EXIT, .exit_code = sv_exit_code(&e)};
                log_notice("Not restarting %s: with [lsp] replay = no a new server would not "
                           "be initialized; exiting with %d so that the editor sees the end.",
                           g->o->argv[0], a.exit_code);
        }

        if (a.kind == SV_ACT_WAIT)
                purge_caches(g);
        if (a.kind == SV_ACT_WAIT && a.gave_up) {
                char w[32], what[256];
                format_duration(g->sv.window, w, sizeof w);
                snprintf(what, sizeof what, "%s ended %u times within %s%s", g->o->argv[0],
                         g->sv.max_restarts + 1, w, e.oom ? ", each time out of memory" : "");
                gave_up_waiting(g, pid, &e, what);
        } else if (a.kind == SV_ACT_WAIT) {
                char d[32];
                format_duration_human(a.delay, d, sizeof d);
                tell_editor_restart(g, &e, a.delay);
                log_event(g, GE_RESTART, LOG_NOTICE, pid, &e, a.delay,
                          "Restarting %s in %s (restart %u; at most %u within %s).",
                          g->o->argv[0], d, g->sv.total_restarts, g->sv.max_restarts,
                          (format_duration(g->sv.window, how, sizeof how), how));
        } else if (a.kind == SV_ACT_EXIT && a.gave_up) {
                char w[32];
                format_duration(g->sv.window, w, sizeof w);
                char msg[512];
                snprintf(msg, sizeof msg,
                         "gopls-guard gave up: %s ended %u times within %s%s. Restart the "
                         "language server from the editor once the cause is fixed.",
                         g->o->argv[0], g->sv.max_restarts + 1, w,
                         e.oom ? ", each time out of memory" : "");
                editors_fail_pending(g, msg);
                if (g->p->lsp.notify)
                        editors_show_message(g, 1, msg);
                log_event(g, GE_GIVE_UP, LOG_ERR, pid, &e, 0,
                          "Giving up: %s ended %u times within %s ([restart] max_restarts = "
                          "%u). %s",
                          g->o->argv[0], g->sv.max_restarts + 1, w, g->sv.max_restarts,
                          e.oom ? "It keeps running out of memory: raise [memory] max, or "
                                  "make the workspace smaller."
                                : "Its own messages above say why it ends.");
        } else if (a.kind == SV_ACT_EXIT && before != SV_STOPPING && a.exit_code != 0) {
                log_notice("Not restarting after this end ([restart] on = %s); exiting with %d.",
                           policy_restart_on_name(g->p->restart.on), a.exit_code);
        }
        act(g, a);
        send_status(g);
        write_status(g);
        return 0;
}

static int on_sv_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct guard *g = userdata;
        (void)s;
        (void)usec;
        act(g, sv_timer(&g->sv, now_usec()));
        return 0;
}

static void arm_sv_timer(struct guard *g, usec_t delay)
{
        int r;
        if (g->sv_timer) {
                r = sd_event_source_set_time_relative(g->sv_timer, delay);
                if (r >= 0)
                        r = sd_event_source_set_enabled(g->sv_timer, SD_EVENT_ONESHOT);
        } else {
                /* Accuracy 1 usec: 0 would mean sd-event's default of
                 * 250ms, a quarter second added to every restart. */
                r = sd_event_add_time_relative(g->event, &g->sv_timer, CLOCK_MONOTONIC, delay, 1,
                                               on_sv_timer, g);
        }
        if (r < 0) {
                log_error_errno(r, "Cannot arm a timer: %m");
                sd_event_exit(g->event, 1);
        }
}

static int on_term_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct guard *g = userdata;
        (void)s;
        (void)usec;
        if (g->running) {
                log_info("%s is still running after its input ended; sending SIGTERM.",
                         g->o->argv[0]);
                (void)kill(g->srv.pid, SIGTERM);
        }
        return 0;
}

static void act(struct guard *g, struct sv_action a)
{
        switch (a.kind) {
        case SV_ACT_NONE:
                break;
        case SV_ACT_SPAWN: {
                /* > 0: the guard is stopping (placement refused, require = yes). */
                int r = spawn(g);
                if (r < 0) {
                        /* Reported like an exec failure: the supervisor
                         * decides whether to try again. */
                        struct sv_exit e = {.status = 127};
                        struct sv_action next = sv_exited(&g->sv, now_usec(), &e, drand48());
                        if (next.kind == SV_ACT_EXIT) {
                                char msg[512];
                                snprintf(msg, sizeof msg,
                                         "gopls-guard gave up: it could not start %s (%s); "
                                         "its log says more.",
                                         g->o->argv[0], strerror(-r));
                                log_event(g, GE_GIVE_UP, LOG_ERR, 0, &e, 0,
                                          "Giving up: %s could not be started.", g->o->argv[0]);
                                editors_fail_pending(g, msg);
                                if (g->p->lsp.notify)
                                        editors_show_message(g, 1, msg);
                        } else if (next.kind == SV_ACT_WAIT && next.gave_up) {
                                char what[256];
                                snprintf(what, sizeof what, "%s could not be started (%s)",
                                         g->o->argv[0], strerror(-r));
                                gave_up_waiting(g, 0, &e, what);
                        }
                        act(g, next);
                }
                break;
        }
        case SV_ACT_WAIT:
                arm_sv_timer(g, a.delay);
                break;
        case SV_ACT_TERMINATE:
                /* A language server ends by itself when its input ends: give
                 * it what the editor sent, then EOF, and SIGTERM only if it is
                 * still there after half of stop_grace (at once when the guard
                 * itself was asked to stop by a signal). */
                if (g->o->front)
                        g->o->front->end_input(g->o->front->userdata);
                else
                        relay_end_server_input(g->relay);
                if (g->running && g->stop_by_signal)
                        (void)kill(g->srv.pid, SIGTERM);
                else if (g->running)
                        (void)sd_event_add_time_relative(g->event, &g->term_timer,
                                                         CLOCK_MONOTONIC, a.delay / 2, 0,
                                                         on_term_timer, g);
                arm_sv_timer(g, a.delay);
                break;
        case SV_ACT_KILL: {
                char d[32];
                format_duration(g->p->restart.stop_grace, d, sizeof d);
                log_warning("%s did not end within [restart] stop_grace = %s; killing it.",
                            g->o->argv[0], d);
                if (g->have_cgroup)
                        (void)cg_kill_server(&g->cg);
                if (g->running)
                        kill_server_tree(g, g->srv.pid);
                break;
        }
        case SV_ACT_EXIT: {
                struct lsp_session *session = g->relay ? relay_session(g->relay) : NULL;
                /* After the editor's exit the spec sets the status: 0 if
                 * shutdown came first, 1 if not. */
                int code = ec_guard_exit_code(a.exit_code, a.gave_up,
                                              session && session_exit_requested(session),
                                              session ? session_exit_code(session) : 0);
                /* Whatever led here, each editor request still waiting gets
                 * its one answer before the guard goes (a no-op when the
                 * give-up above answered them already). */
                char msg[256];
                snprintf(msg, sizeof msg,
                         "gopls-guard: %s ended and is not restarted (exit status %d).",
                         g->o->argv[0], code);
                editors_fail_pending(g, msg);
                notify_stopping(&g->notify);
                sd_event_exit(g->event, code);
                break;
        }
        }
}

/* gopls-guard restart (restart.h): a new server now, session replayed. */
static int on_restart_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
        struct guard *g = userdata;
        (void)s;
        enum sv_state before = g->sv.state;

        if (!g->o->front && !session_can_restart(relay_session(g->relay))) {
                /* [lsp] replay = no: a new server would never be initialized. */
                log_notice("Not restarting %s as asked (gopls-guard restart, from pid %u): with "
                           "[lsp] replay = no a new server could not take over the editor's "
                           "session; restart it from the editor.",
                           g->o->argv[0], (unsigned)si->ssi_pid);
                return 0;
        }
        struct sv_action a = sv_restart_requested(&g->sv, now_usec());

        log_info("Restart asked for (gopls-guard restart, from pid %u) while %s.",
                 (unsigned)si->ssi_pid, sv_state_name(before));
        if (a.kind == SV_ACT_TERMINATE) {
                /* Not act()'s TERMINATE: the editor's input keeps flowing,
                 * to this server until it ends, then held for the next. */
                (void)kill(g->srv.pid, SIGTERM);
                arm_sv_timer(g, a.delay);
        } else if (a.kind == SV_ACT_SPAWN) {
                if (g->sv_timer)
                        (void)sd_event_source_set_enabled(g->sv_timer, SD_EVENT_OFF);
                act(g, a);
        } else {
                log_notice("Not restarting %s: the guard is %s.", g->o->argv[0],
                           sv_state_name(before));
        }
        write_status(g);
        return 0;
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
        struct guard *g = userdata;
        (void)s;
        log_info("Received %s; stopping the server.", strsignal((int)si->ssi_signo));
        g->stop_by_signal = true;
        notify_stopping(&g->notify);
        act(g, sv_stop(&g->sv, now_usec()));
        return 0;
}

/* ---- [pressure] proactive: the decider's callbacks (proactive.h) ---- */

static int proactive_sample(void *userdata, uint64_t *ret_bytes)
{
        struct guard *g = userdata;
        struct proc_tree t;

        if (g->have_cgroup)
                return cg_read_memory_current(&g->cg, ret_bytes);
        /* Degraded: what [memory] max is enforced on (poll_proc()). */
        int r = proc_descendants(g->o->proc_root, getpid(), g->sentinel.pid, &t);
        if (r < 0)
                return r;
        *ret_bytes = t.rss;
        proc_tree_free(&t);
        return 0;
}

/* A quiet moment is one with no editor request in flight.  A shared
 * server's front has many sessions and says nothing about them: there a
 * due restart goes ahead at once. */
static bool proactive_busy(void *userdata)
{
        struct guard *g = userdata;
        struct lsp_session_stats st;

        if (g->o->front || !g->relay)
                return false;
        session_stats(relay_session(g->relay), &st);
        return st.pending_editor_requests > 0;
}

static void proactive_why(struct guard *g, enum pressure_reason why, uint64_t eta, char *buf,
                          size_t len)
{
        char above[32], max[32], d[32];
        format_size_human(g->proactive.cfg.restart_above, above, sizeof above);
        format_size_human(g->p->memory.max, max, sizeof max);
        format_duration(g->proactive.cfg.above_for, d, sizeof d);
        switch (why) {
        case PRESSURE_FORECAST: {
                char e[32];
                format_duration_human(eta, e, sizeof e);
                snprintf(buf, len,
                         "at its current growth it would reach memory.max = %s in %s, before "
                         "[pressure] above_for = %s runs out",
                         max, e, d);
                break;
        }
        case PRESSURE_HIGH:
                snprintf(buf, len,
                         "the kernel reclaimed at memory.high without a pause for [pressure] "
                         "above_for = %s",
                         d);
                break;
        case PRESSURE_PSI:
                snprintf(buf, len, "the PSI trigger [pressure] psi = \"%s\" fired",
                         g->p->pressure.psi ? g->p->pressure.psi : "");
                break;
        case PRESSURE_ABOVE:
        case PRESSURE_NONE:
        default:
                snprintf(buf, len,
                         "its memory stayed above [pressure] restart_above = %s for above_for = %s",
                         above, d);
                break;
        }
}

static void proactive_restart(void *userdata, enum pressure_reason why, uint64_t bytes,
                              uint64_t eta)
{
        struct guard *g = userdata;
        char reason[256], cur[32];

        if (!g->running)
                return;
        /* With [lsp] replay = no a new server would not be initialized:
         * the kernel's limit is the lesser harm. */
        if (!g->o->front && !session_can_restart(relay_session(g->relay))) {
                log_notice("Not restarting %s proactively: with [lsp] replay = no the editor's "
                           "session would not survive it.",
                           g->o->argv[0]);
                return;
        }
        struct sv_action a = sv_restart(&g->sv, now_usec());
        if (a.kind != SV_ACT_TERMINATE)
                return;
        g->proactive_at = now_usec();
        g->last.memory_current = bytes;
        if (bytes > g->peak)
                g->peak = bytes;
        proactive_why(g, why, eta, reason, sizeof reason);
        format_size_human(bytes, cur, sizeof cur);
        log_event(g, GE_PROACTIVE_RESTART, LOG_NOTICE, g->srv.pid, NULL, 0,
                  "Restarting %s (pid %d, %s) before the kernel kills it: %s ([pressure] "
                  "proactive; reason=%s).",
                  g->o->argv[0], (int)g->srv.pid, cur, reason, pressure_reason_name(why));
        /* gopls writes its heap profile ([incidents] heap_profile) only when
         * it ends by itself, and the end of its input is its cue: SIGTERM
         * ends it before it writes a byte.  Not when the kill is a forecast
         * away (no time to spare) or the server is shared (its input is a
         * socket of its own); stop_grace bounds the wait either way. */
        if (g->argv_heap && !g->o->front && why != PRESSURE_FORECAST)
                relay_end_server_input(g->relay);
        else
                (void)kill(g->srv.pid, SIGTERM);
        arm_sv_timer(g, a.delay);
        send_status(g);
        write_status(g);
}

/* ---- set-up and tear-down ------------------------------------------ */

/* The cgroup to work in, per DESIGN.md's order (placement.h).  Returns 1
 * with `g->cg` set up, 0 for "none" (with `why`), negative errno for
 * failures that `why` explains. */
static int find_cgroup(struct guard *g, char why[CG_WHY_MAX])
{
        struct placement_request rq =
            placement_request_for(g->o->cgroup, g->p, g->o->roots, g->o->workspace);

        return placement_open(&rq, g->p, "the guard", &g->cg, why);
}

static int build_env(struct guard *g)
{
        const struct policy *p = g->p;
        size_t n = p->server.n_env;
        bool user_set = false;

        g->env = calloc(n + 3, sizeof *g->env);
        if (!g->env)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                g->env[i] = strdup(p->server.env[i]);
                if (!g->env[i])
                        return -ENOMEM;
                if (strncmp(p->server.env[i], "GOMEMLIMIT=", 11) == 0)
                        user_set = true;
        }
        uint64_t limit = policy_go_memlimit(p);
        /* An explicit GOMEMLIMIT (policy env, or the editor's environment)
         * is the user's choice and wins. */
        if (limit && !user_set && !getenv("GOMEMLIMIT")) {
                if (asprintf(&g->env[n], "GOMEMLIMIT=%" PRIu64, limit) < 0)
                        return -ENOMEM;
                char sz[32];
                format_size_human(limit, sz, sizeof sz);
                log_debug("GOMEMLIMIT=%s (%u%% of memory.high).", sz, p->server.go_memlimit);
        }
        /* Last, so that no policy env can replace the guard's own marker:
         * it is how the sentinel recognises the server's processes. */
        char **slot = g->env + n + (g->env[n] ? 1 : 0);
        *slot = strdup(g->marker);
        if (!*slot)
                return -ENOMEM;
        return 0;
}

static void on_editor_done(void *userdata)
{
        struct guard *g = userdata;
        notify_stopping(&g->notify);
        act(g, sv_stop(&g->sv, now_usec()));
}

/* [lsp] replay_timeout passed with the replayed initialize unanswered: a
 * failed start.  Its end comes through the pidfd like any other. */
static void on_replay_timed_out(void *userdata)
{
        struct guard *g = userdata;
        char d[32];

        if (!g->running)
                return;
        format_duration(g->p->lsp.replay_timeout, d, sizeof d);
        log_warning("%s (pid %d) did not answer the replayed initialize within [lsp] "
                    "replay_timeout = %s; stopping it as a failed start.",
                    g->o->argv[0], (int)g->srv.pid, d);
        if (g->have_cgroup)
                (void)cg_kill_server(&g->cg);
        kill_server_tree(g, g->srv.pid);
}

void guard_replay_timed_out(struct guard *g)
{
        on_replay_timed_out(g);
}

void guard_request_stop(struct guard *g)
{
        /* Nobody reads a shared server's stdin: SIGTERM at once, as for a
         * signal to the guard. */
        g->stop_by_signal = true;
        act(g, sv_stop(&g->sv, now_usec()));
}

static void teardown(struct guard *g)
{
        char why[CG_WHY_MAX];

        if (g->running) {
                /* Only on internal failures: a normal end has no server left. */
                if (g->have_cgroup)
                        (void)cg_kill_server(&g->cg);
                kill_server_tree(g, g->srv.pid);
                (void)waitpid(g->srv.pid, NULL, 0);
                g->running = false;
        }
        g->child_src = sd_event_source_disable_unref(g->child_src);
        if (g->err_ok)
                stderr_tail_free(&g->err);
        if (g->relay) {
                relay_detach_server(g->relay);
                relay_flush_editor(g->relay, g->p->restart.stop_grace);
                relay_free(g->relay);
        }
        if (g->o->front)
                g->o->front->finish(g->o->front->userdata, g->p->restart.stop_grace);
        if (g->srv.pidfd >= 0)
                close(g->srv.pidfd);
        proactive_done(&g->proactive);
        if (g->watching)
                watch_stop(&g->watch);
        g->watching = false;
        if (g->peak_fd >= 0)
                close(g->peak_fd);
        /* Nothing is left for it to kill; and it must be out of
         * supervisor/ before that goes. */
        sentinel_stop(&g->sentinel);
        if (g->have_cgroup) {
                if (cg_teardown(&g->cg, 5 * USEC_PER_SEC, why) < 0)
                        log_warning("%s", why);
                cg_close(&g->cg);
        }
        g->sample_timer = sd_event_source_disable_unref(g->sample_timer);
        g->sv_timer = sd_event_source_disable_unref(g->sv_timer);
        g->term_timer = sd_event_source_disable_unref(g->term_timer);
        g->oom_check = sd_event_source_disable_unref(g->oom_check);
        g->reap_later = sd_event_source_disable_unref(g->reap_later);
        notify_done(&g->notify);
        if (g->status_path) {
                (void)unlink(g->status_path);
                free(g->status_path);
        }
        if (g->stdin_flags >= 0)
                (void)fcntl(STDIN_FILENO, F_SETFL, g->stdin_flags);
        if (g->stdout_flags >= 0)
                (void)fcntl(STDOUT_FILENO, F_SETFL, g->stdout_flags);
        for (char **e = g->env; e && *e; e++)
                free(*e);
        free(g->env);
        free(g->stat_snap);
        if (g->heap_path)
                (void)unlink(g->heap_path);
        free(g->heap_path);
        if (g->argv_heap)
                free(g->argv_heap[1]);
        free(g->argv_heap);
        sd_event_unref(g->event);
}

/* [pressure] proactive: the sampling timer, and the PSI trigger on the
 * server leaf where the kernel has PSI (said once when it cannot). */
static int start_proactive(struct guard *g)
{
        const struct proactive_ops ops = {.sample = proactive_sample,
                                          .busy = proactive_busy,
                                          .restart = proactive_restart,
                                          .userdata = g};
        char trigger[64];
        int r =
            proactive_init(&g->proactive, g->event, g->p,
                           g->have_cgroup ? g->p->cpu.sample_interval : DEGRADED_POLL_USEC, &ops);

        if (r < 0 || !g->p->pressure.proactive || !g->have_cgroup)
                return r;
        if (policy_psi_trigger(g->p, trigger, sizeof trigger) < 0)
                return 0; /* no trigger asked for */
        r = proactive_psi(&g->proactive, g->cg.server_fd, trigger);
        if (r == -EINVAL) {
                /* Without CAP_SYS_RESOURCE (6.4+) the window must be a whole
                 * number of 2s: the same share of stalled time over such a
                 * window, rather than no PSI at all for every user. */
                char unpriv[64];
                if (psi_trigger_unprivileged(trigger, unpriv, sizeof unpriv) > 0 &&
                    (r = proactive_psi(&g->proactive, g->cg.server_fd, unpriv)) >= 0)
                        log_info("The kernel refused the PSI trigger \"%s\" to an unprivileged "
                                 "process; watching \"%s\" (the window a whole number of 2s, "
                                 "the same share stalled) instead.",
                                 trigger, unpriv);
        }
        if (r == -ENOENT || r == -EOPNOTSUPP)
                log_notice("The kernel has no PSI (%s/server/memory.pressure: %s); [pressure] psi "
                           "is not watched, the other [pressure] rules are.",
                           g->cg.path, strerror(-r));
        else if (r == -EINVAL)
                log_warning("The kernel refused the PSI trigger [pressure] psi = \"%s\" on "
                            "%s/server/memory.pressure; without CAP_SYS_RESOURCE the window must "
                            "be a multiple of 2s. [pressure] psi is not watched.",
                            g->p->pressure.psi, g->cg.path);
        else if (r < 0)
                log_warning_errno(r,
                                  "Cannot set the PSI trigger on %s/server/memory.pressure: %m; "
                                  "[pressure] psi is not watched.",
                                  g->cg.path);
        return 0;
}

int guard_run(const struct guard_options *o)
{
        struct guard g = {.o = o, .p = o->policy,
                          .srv = {.pidfd = -1, .stdin_fd = -1, .stdout_fd = -1, .stderr_fd = -1},
                          .cg = {.dir_fd = -1, .server_fd = -1}, .peak_fd = -1,
                          .sentinel = SENTINEL_NONE, .proactive = {.psi_fd = -1}};
        char why[CG_WHY_MAX] = "";
        sigset_t mask;
        int r, code = 1;

        g.stdin_flags = fcntl(STDIN_FILENO, F_GETFL);
        g.stdout_flags = fcntl(STDOUT_FILENO, F_GETFL);
        srand48((long)(now_usec() ^ (uint64_t)getpid()));
        sv_init(&g.sv, g.p);
        g.started_usec = now_usec();
        if (proc_starttime(o->proc_root, getpid(), &g.starttime) < 0)
                g.starttime = 0; /* gopls-guard restart then refuses to signal it */

        r = find_cgroup(&g, why);
        if (r > 0) {
                g.have_cgroup = true;
        } else if (g.p->cgroup.require) {
                log_error("No usable cgroup: %s. [cgroup] require = yes, so the server is not "
                          "started.",
                          why);
                return 3;
        } else {
                log_degraded(why);
        }
        /* After find_cgroup(): the guard is in its own place (supervisor/
         * when it lives in the subtree), and the sentinel with it. */
        sentinel_make_marker(g.marker);
        start_sentinel(&g);

        (void)setup_heap_profile(&g);
        if (build_env(&g) < 0) {
                log_error_errno(ENOMEM, "Out of memory");
                goto out;
        }
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);  /* the terminal or the editor's pty went away */
        sigaddset(&mask, SIGQUIT);
        sigaddset(&mask, SIGCHLD);
        sigaddset(&mask, RESTART_SIGNAL);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        signal(SIGPIPE, SIG_IGN);

        r = sd_event_new(&g.event);
        if (r < 0) {
                log_error_errno(r, "Cannot create the event loop: %m");
                goto out;
        }
        /* A child subreaper: what the server double-forks away stays in the
         * guard's tree (counted, killed and reaped with the server) instead of
         * going to init, where degraded mode would lose sight of it. */
        if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
                log_warning_errno(errno, "Cannot become a child subreaper: %m; processes the "
                                         "server double-forks are not watched in degraded mode.");
        if ((r = sd_event_add_signal(g.event, NULL, SIGTERM, on_signal, &g)) < 0 ||
            (r = sd_event_add_signal(g.event, NULL, SIGINT, on_signal, &g)) < 0 ||
            (r = sd_event_add_signal(g.event, NULL, SIGHUP, on_signal, &g)) < 0 ||
            (r = sd_event_add_signal(g.event, NULL, SIGQUIT, on_signal, &g)) < 0 ||
            (r = sd_event_add_signal(g.event, NULL, SIGCHLD, on_sigchld, &g)) < 0 ||
            (r = sd_event_add_signal(g.event, NULL, RESTART_SIGNAL, on_restart_signal, &g)) < 0 ||
            (r = sd_event_add_defer(g.event, &g.reap_later, on_reap_later, &g)) < 0 ||
            (r = sd_event_source_set_enabled(g.reap_later, SD_EVENT_OFF)) < 0) {
                log_error_errno(r, "Cannot watch signals: %m");
                goto out;
        }
        r = stderr_tail_init(&g.err, g.event, STDERR_FILENO);
        if (r < 0)
                log_warning_errno(r, "Cannot watch the guard's stderr (%m); the server writes "
                                     "to it directly, and incidents have no stderr lines.");
        g.err_ok = r >= 0;
        r = notify_start(&g.notify, g.event);
        if (r < 0)
                log_warning_errno(r, "Cannot arm the watchdog pings that the service manager asks "
                                     "for (WATCHDOG_USEC): %m; it may take the guard for hung.");
        if (g.have_cgroup) {
                char leaf[PATH_MAX];
                snprintf(leaf, sizeof leaf, "%s/server", g.cg.path);
                r = watch_start(&g.watch, g.event, leaf, g.cg.server_fd, on_memory_change,
                                on_populated_change, &g);
                if (r < 0) {
                        log_error_errno(r, "Cannot watch %s/memory.events and cgroup.events: %m",
                                        leaf);
                        goto out;
                }
                g.watching = true;
        }
        r = start_proactive(&g);
        if (r < 0) {
                log_error_errno(r, "Cannot arm the memory sampling of [pressure] proactive: %m");
                goto out;
        }
        r = sd_event_add_time_relative(g.event, &g.sample_timer, CLOCK_MONOTONIC,
                                       g.have_cgroup || g.p->cpu.sample_interval < DEGRADED_POLL_USEC
                                               ? g.p->cpu.sample_interval
                                               : DEGRADED_POLL_USEC,
                                       0, on_sample, &g);
        if (r >= 0)
                r = sd_event_source_set_enabled(g.sample_timer, SD_EVENT_ON);
        if (r < 0) {
                log_error_errno(r, "Cannot arm the sampling timer: %m");
                goto out;
        }
        _cleanup_free_ char *dir = NULL;
        char status_why[STATUS_WHY_MAX];
        r = status_dir(g.o->roots->runtime_dir, &dir, status_why);
        if (r < 0)
                log_warning("Not writing a status file (gopls-guard status will not list this "
                            "guard): %s", status_why[0] ? status_why : strerror(-r));
        else if (asprintf(&g.status_path, "%s/%d.json", dir, (int)getpid()) < 0)
                g.status_path = NULL; /* no status file; the guard works without */
        const struct lsp_session_config scfg = {.replay = g.p->lsp.replay,
                                                .notify = g.p->lsp.notify};
        const struct relay_events rev = {.editor_done = on_editor_done,
                                         .replay_timed_out = on_replay_timed_out,
                                         .replay_timeout_usec = g.p->lsp.replay_timeout,
                                         .userdata = &g};
        if (o->front) {
                r = o->front->start(o->front->userdata, g.event, &g);
                if (r < 0)
                        goto out; /* logged by the front */
                /* Serving means the socket takes editors from here on,
                 * whether or not the first server starts: a server that
                 * cannot start must not hold the unit's start job (and
                 * every editor queued on the socket) until its timeout. */
                notify_ready(&g.notify);
        } else {
                r = relay_new(g.event, &scfg, &rev, &g.relay);
                if (r < 0) {
                        log_error_errno(r, "Cannot set up the editor's stdio: %m");
                        goto out;
                }
        }
        if (!g.have_cgroup)
                tell_editor_degraded(&g);

        act(&g, sv_start(&g.sv, now_usec()));
        if (g.relay && relay_editor_closed(g.relay) && g.sv.state == SV_RUNNING)
                act(&g, sv_stop(&g.sv, now_usec()));

        r = sd_event_loop(g.event);
        code = r < 0 ? 1 : r;
        if (r < 0)
                log_error_errno(r, "The event loop failed: %m");
out:
        teardown(&g);
        return code;
}
