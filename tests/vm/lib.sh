# lib.sh — helpers for tier-2 scenarios (sourced; busybox ash, run as root in
# the VM, cwd /tmp).
#
# Result: call pass / fail / skip once; the first call wins (a fail from a
# subshell is not overwritten by a later pass), and it exits the shell.
# Files under /tmp/logs are printed on the console when the result is not PASS.
# Waits are bounded polls of 0.1 s steps, never a fixed sleep taken as proof.

# The kernel: VMTEST_KERNEL is the series the host booted (6.1, 6.12; set
# by init from vmtest.conf), KERNEL_RELEASE what uname -r says.  Prefer
# kernel_ge over the series where a behaviour changed in a known release.
KERNEL_RELEASE=$(uname -r)
KERNEL_MAJOR=${KERNEL_RELEASE%%.*}
KERNEL_MINOR=${KERNEL_RELEASE#*.}
KERNEL_MINOR=${KERNEL_MINOR%%[!0-9]*}
# kernel_ge MAJOR MINOR: the running kernel is MAJOR.MINOR or newer.
kernel_ge() { [ "$KERNEL_MAJOR" -gt "$1" ] || { [ "$KERNEL_MAJOR" -eq "$1" ] && [ "$KERNEL_MINOR" -ge "$2" ]; }; }

G_CG=/sys/fs/cgroup
GUARD_DIR=$G_CG/guard
GUARD_BIN=/bin/gopls-guard
RUNTIME_DIR=/tmp/run # the guard's XDG_RUNTIME_DIR (0700): status files in gopls-guard/
POLICY=/tmp/p.ini
MARK=/tmp/mark
GUARD_LOG=/tmp/logs/guard.log
GUARD_OUT=/tmp/logs/guard.out
GUARD_PID=
GUARD_EXIT=

_result() {
        [ -e /tmp/vmtest.result ] || printf '%s\t%s\n' "$1" "$2" >/tmp/vmtest.result
}
pass() { _result PASS "$*"; exit 0; }
fail() { _result FAIL "$*"; exit 1; }
skip() { _result SKIP "$*"; exit 0; }
say() { echo "[$VMTEST_NAME] $*"; }

# poll N CMD...: run CMD every 0.1 s, at most N times, until it succeeds.
poll() {
        _n=$1
        shift
        while [ "$_n" -gt 0 ]; do
                "$@" && return 0
                _n=$((_n - 1))
                sleep 0.1
        done
        return 1
}

# pid_alive PID: running (a zombie counts as dead).
pid_alive() {
        [ -r "/proc/$1/stat" ] || return 1
        _st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)
        [ -n "$_st" ] && [ "$_st" != Z ]
}
pid_dead() { ! pid_alive "$1"; }

# wait_exit PID N: wait (polling N times) for our child PID to end; its status
# goes to WAIT_STATUS.  Returns 1 if it is still running.
wait_exit() {
        poll "$2" pid_dead "$1" || return 1
        wait "$1"
        WAIT_STATUS=$?
        return 0
}

# kv FILE KEY: the value of "KEY VALUE" lines (memory.events, cpu.stat, ...).
kv() { awk -v k="$2" '$1 == k { print $2; found = 1; exit } END { if (!found) exit 1 }' "$1" 2>/dev/null; }

# json_get FILE KEY | json_get FILE OBJECT.KEY: a scalar from the guard's
# one-line JSON status file (strings without their quotes).
json_get() {
        _j=$(cat "$1" 2>/dev/null) || return 1
        _k=$2
        case $_k in
        *.*)
                _j=$(printf '%s' "$_j" | sed -n "s/.*\"${_k%%.*}\"[[:space:]]*:[[:space:]]*{\([^}]*\)}.*/\1/p")
                _k=${_k#*.}
                ;;
        esac
        _v=$(printf '%s' "$_j" | sed -n "s/.*\"$_k\"[[:space:]]*:[[:space:]]*\"\{0,1\}\([^\",}]*\).*/\1/p")
        [ -n "$_v" ] || return 1
        printf '%s\n' "$_v"
}

# is_number VALUE
is_number() { case $1 in '' | *[!0-9]*) return 1 ;; *) return 0 ;; esac; }

# mark_starts [FILE]: how many servers wrote their start line.
# shellcheck disable=SC2120 # FILE is optional
mark_starts() {
        if [ -r "${1:-$MARK}" ]; then awk '/^start / { n++ } END { print n + 0 }' "${1:-$MARK}"; else echo 0; fi
}
# mark_field N FIELD [FILE]: field FIELD (2 = pid, 3 = usec) of the N-th start line.
mark_field() { awk -v n="$1" -v f="$2" '/^start / && ++i == n { print $f }' "${3:-$MARK}" 2>/dev/null; }
mark_has_starts() { [ "$(mark_starts)" -ge "$1" ]; }

# cg_setup: the delegated subtree every guard scenario starts from.  Skips
# (does not fail) when the kernel lacks a controller, as the selftests do.
cg_setup() {
        for _c in memory cpu pids; do
                grep -qw "$_c" "$G_CG/cgroup.controllers" ||
                        skip "cgroup2 has no $_c controller (have: $(cat "$G_CG/cgroup.controllers"))"
        done
        echo "+memory +cpu +pids" >"$G_CG/cgroup.subtree_control" || fail "cannot enable controllers at the root"
        mkdir -p "$GUARD_DIR" || fail "mkdir $GUARD_DIR"
}

need_guard() {
        [ -x "$GUARD_BIN" ] || fail "gopls-guard is not in the image (not built?)"
}

# write_policy: /tmp/p.ini from stdin, plus [log] target = stderr, level = debug.
write_policy() {
        cat >"$POLICY"
        printf '\n[log]\ntarget = stderr\nlevel = debug\n' >>"$POLICY"
}

# solo_policy: write_policy for daemon mode with a server per connection
# ([serve] share = no, no idle end), lsp-echo as the server, memory.max
# 60M (62914560).
solo_policy() {
        [ -x /bin/lsp-echo ] || fail "lsp-echo is not in the image (vmtest.sh --lsp-echo)"
        write_policy <<'INI'
[server]
command = /bin/lsp-echo
[memory]
max = 60M
[serve]
share = no
idle_timeout = 0
INI
}

# guard_run [--cgroup DIR] -- COMMAND...: start the guard on COMMAND in the
# background.  Its stdin is a fifo we hold open on fd 3 (closing it is "the
# editor went away"; send writes to it); stdout -> GUARD_OUT, stderr ->
# GUARD_LOG.
guard_run() {
        _cg=$GUARD_DIR
        if [ "$1" = --cgroup ]; then
                _cg=$2
                shift 2
        fi
        [ "$1" = -- ] && shift
        need_guard
        mkdir -p -m 0700 "$RUNTIME_DIR"
        rm -f /tmp/guard.in
        mkfifo /tmp/guard.in || fail "mkfifo"
        exec 3<>/tmp/guard.in
        XDG_RUNTIME_DIR=$RUNTIME_DIR "$GUARD_BIN" --cgroup "$_cg" --policy "$POLICY" \
                -- "$@" </tmp/guard.in >"$GUARD_OUT" 2>"$GUARD_LOG" 3>&- &
        GUARD_PID=$!
        say "guard pid $GUARD_PID: --cgroup $_cg -- $*"
}
# guard_start [--cgroup DIR] SERVER_ARGS...: guard_run on /bin/leaker SERVER_ARGS.
guard_start() {
        if [ "$1" = --cgroup ]; then
                _gs=$2
                shift 2
                guard_run --cgroup "$_gs" -- /bin/leaker "$@"
        else
                guard_run -- /bin/leaker "$@"
        fi
}
# frame JSON: JSON as one LSP message, on stdout; send JSON: to the guard's
# stdin (fd 3).  out_has TEXT: the guard's stdout (what the editor got)
# holds TEXT.
frame() { printf 'Content-Length: %d\r\n\r\n%s' "${#1}" "$1"; }
send() { frame "$1" >&3; }
out_has() { grep -qF -- "$1" "$GUARD_OUT" 2>/dev/null; }
LSP_INIT='{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"processId":null,"rootUri":null,"capabilities":{}}}'
LSP_INITIALIZED='{"jsonrpc":"2.0","method":"initialized","params":{}}'
guard_eof() { exec 3>&-; }
guard_term() { kill -TERM "$GUARD_PID"; }
# guard_wait N: wait up to N polls for the guard to exit; status in GUARD_EXIT.
guard_wait() {
        wait_exit "$GUARD_PID" "$1" || fail "guard (pid $GUARD_PID) still running after $(($1 / 10)) s; state $(json_get "$(status_file)" state)"
        GUARD_EXIT=$WAIT_STATUS
        guard_eof
        say "guard exited $GUARD_EXIT"
}
status_file() { echo "$RUNTIME_DIR/gopls-guard/$GUARD_PID.json"; }
# status_get KEY: from the status file, if it is there.
status_get() { json_get "$(status_file)" "$1"; }
# status_num KEY: a number from the status file; 0 while it is not there.
status_num() { _v=$(status_get "$1") && is_number "$_v" && echo "$_v" || echo 0; }
# kv_get TEXT KEY: KEY's value in "key value" lines (memory.events); 0 if absent.
kv_get() { printf '%s\n' "$1" | awk -v k="$2" '$1 == k { v = $2 } END { print v + 0 }'; }
# uptime_ms: the VM's uptime in ms (a monotonic clock busybox can read;
# /proc/uptime has two decimals), without a fork: one costs milliseconds
# under TCG.
uptime_ms() { read -r _up _ </proc/uptime && _up=${_up%.*}${_up#*.} && echo $((10 * ${_up#0})); }

# ---- daemon mode: `serve` and the editors' `connect` ----
# serve_start WORKSPACE: `gopls-guard serve` for WORKSPACE (a path without
# '-', whose socket name is then the path with '/' as '-') under GUARD_DIR,
# in the background (GUARD_PID), once its socket SERVE_SOCK is there.
serve_start() {
        mkdir -p "$1" && mkdir -p -m 0700 "$RUNTIME_DIR" || fail "cannot prepare $1"
        _esc=$(printf '%s' "${1#/}" | tr / -)
        SERVE_SOCK=$RUNTIME_DIR/gopls-guard/$_esc.sock
        # Emptied here, not by the background job's redirection, which may
        # come after a grep for this daemon's lines finds an earlier one's.
        : >"$GUARD_OUT" && : >"$GUARD_LOG" || fail "cannot empty the daemon's logs"
        XDG_RUNTIME_DIR=$RUNTIME_DIR "$GUARD_BIN" serve --workspace "$1" --cgroup "$GUARD_DIR" \
                --policy "$POLICY" </dev/null >>"$GUARD_OUT" 2>>"$GUARD_LOG" &
        GUARD_PID=$!
        say "serve pid $GUARD_PID"
        poll 300 test -S "$SERVE_SOCK" || fail "no socket $SERVE_SOCK: $(tail -n 5 "$GUARD_LOG")"
}
# editor_connect NAME WORKSPACE: `gopls-guard connect WORKSPACE` reading the
# fifo /tmp/NAME.in, which the scenario then holds open itself (`exec
# 4>/tmp/NAME.in`); its output in /tmp/logs/NAME.out, stderr in NAME.err,
# pid in EDITOR_PID.
editor_connect() {
        rm -f "/tmp/$1.in"
        mkfifo "/tmp/$1.in" || fail "mkfifo /tmp/$1.in"
        XDG_RUNTIME_DIR=$RUNTIME_DIR "$GUARD_BIN" connect "$2" <"/tmp/$1.in" \
                >"/tmp/logs/$1.out" 2>"/tmp/logs/$1.err" &
        EDITOR_PID=$!
}
# editors_init NAME4 NAME5 WORKSPACE: two editors connected, NAME4's fifo
# held on fd 4 and NAME5's on fd 5 (pids in EDITOR4_PID, EDITOR5_PID), each
# sent an initialize and answered.
editors_init() {
        editor_connect "$1" "$3"
        EDITOR4_PID=$EDITOR_PID
        exec 4>"/tmp/$1.in"
        editor_connect "$2" "$3"
        EDITOR5_PID=$EDITOR_PID
        exec 5>"/tmp/$2.in"
        frame "$LSP_INIT" >&4
        frame "$LSP_INIT" >&5
        for _e in "$1" "$2"; do
                poll 300 answered "$_e" '"id":1,"result":{"capabilities"' ||
                        fail "editor $_e not initialized: $(tail -n 5 "$GUARD_LOG")"
        done
}
# answered NAME TEXT: NAME's editor got TEXT; daemon_of NAME ID: the server
# pid lsp-echo put in its answer to request ID (method echo/daemon).
answered() { grep -qF "$2" "/tmp/logs/$1.out" 2>/dev/null; }
daemon_of() { grep -o "\"id\":$2,\"result\":[0-9]*" "/tmp/logs/$1.out" | tail -n 1 | sed 's/.*://'; }

# server_pids: the processes in DIR/server.
server_pids() { cat "$GUARD_DIR/server/cgroup.procs" 2>/dev/null; }
# populated DIR: the cgroup DIR has processes of its own (cgroupfs files
# have size 0 in stat: they are read).
populated() { [ -n "$(cat "$1/cgroup.procs" 2>/dev/null)" ]; }

# leaker_pids: every live process in the VM that runs /bin/leaker.
leaker_pids() {
        for _p in /proc/[0-9]*; do
                _p=${_p#/proc/}
                pid_alive "$_p" || continue
                case $(tr '\0' ' ' <"/proc/$_p/cmdline" 2>/dev/null) in
                /bin/leaker*) echo "$_p" ;;
                esac
        done
}

# ---- an unprivileged user (uid/gid 1000, "u") for delegation scenarios ----
U_UID=1000
U_HOME=/tmp/u
# user_setup: the passwd entry, and a home holding the runtime dir, mark
# file and policy the user's guard writes and reads.
user_setup() {
        grep -q '^u:' /etc/passwd || echo "u:x:$U_UID:$U_UID:u:$U_HOME:/bin/sh" >>/etc/passwd
        grep -q '^u:' /etc/group || echo "u:x:$U_UID:" >>/etc/group
        mkdir -p "$U_HOME/run" && chown -R "$U_UID:$U_UID" "$U_HOME" && chmod 0700 "$U_HOME/run" ||
                fail "cannot prepare $U_HOME"
}
# as_user CMD...: run CMD as "u" (busybox su; root needs no password).
as_user() {
        _cmd=
        for _a in "$@"; do _cmd="$_cmd '$(printf '%s' "$_a" | sed "s/'/'\\\\''/g")'"; done
        su -s /bin/sh u -c "exec $_cmd"
}
# chown_delegate DIR: delegate DIR to "u" the way cgroups(7) describes it:
# the directory and its cgroup.procs, cgroup.subtree_control, cgroup.threads.
chown_delegate() {
        chown "$U_UID:$U_UID" "$1" "$1/cgroup.procs" "$1/cgroup.subtree_control" "$1/cgroup.threads" ||
                fail "cannot chown $1 to uid $U_UID"
}

# ---- a simulated container (gopls-guard init as its PID 1) ----
# As Docker makes one on a cgroup v2 host: a cgroup of its own (CTR, with
# memory, cpu and pids offered), private cgroup, pid and mount namespaces,
# and in them a fresh cgroup2 mount on /sys/fs/cgroup, whose root is CTR.
# util-linux's unshare and nsenter (busybox's lack the cgroup namespace)
# are in the image when the host has them.
UL=/lib/vmtest/bin
CTR=$G_CG/ctr
CTR_PID=    # util-linux unshare, in the VM's namespaces; init is its child
CTR_LOG=/tmp/logs/init.log
ctr_need() {
        [ -x "$UL/unshare" ] && [ -x "$UL/nsenter" ] ||
                skip "util-linux unshare and nsenter are not in the image (the host lacks them)"
        need_guard
        for _c in memory cpu pids; do
                grep -qw "$_c" "$G_CG/cgroup.controllers" || skip "cgroup2 has no $_c controller"
        done
        # systemd mounts cgroup2 with nsdelegate on the hosts Docker runs on.
        mount -o remount,nsdelegate "$G_CG" || say "cannot remount $G_CG with nsdelegate"
        echo "+memory +cpu +pids" >"$G_CG/cgroup.subtree_control" || fail "cannot enable controllers at the root"
        mkdir -p "$CTR" || fail "mkdir $CTR"
}
# ctr_start MOUNT_OPTS UNSHARE_NS INIT_ARGS...: start the container whose
# PID 1 is `gopls-guard init INIT_ARGS`; MOUNT_OPTS for the fresh cgroup2
# mount (e.g. "rw", "ro"); UNSHARE_NS the namespaces (--cgroup --pid --mount).
ctr_start() {
        _mo=$1 _ns=$2
        shift 2
        sh -c 'cg=$1 ul=$2 ns=$3 mo=$4
                shift 4
                echo $$ >"$cg/cgroup.procs" && cd / &&
                        exec "$ul/unshare" $ns --fork --kill-child --mount-proc sh -c "
                                while [ ! -e /tmp/ctr-go ]; do sleep 0.05; done
                                umount /sys/fs/cgroup
                                mount -t cgroup2 -o $mo none /sys/fs/cgroup || exit 125
                                exec /bin/gopls-guard init \"\$@\"" sh "$@"' sh "$CTR" "$UL" "$_ns" "$_mo" "$@" \
                </dev/null >/tmp/logs/init.out 2>"$CTR_LOG" &
        CTR_PID=$!
        # unshare itself stays outside the container's pid namespace: out of
        # its cgroup too, as runc's parent is, before init looks at it.
        rm -f /tmp/ctr-go
        poll 100 ctr_init_pid >/dev/null || fail "unshare did not start the container"
        echo "$CTR_PID" >"$G_CG/cgroup.procs" || fail "cannot move unshare out of $CTR"
        say "in $CTR: $(cat "$CTR/cgroup.procs" | tr '\n' ' ')(unshare $CTR_PID, its child $(ctr_init_pid))"
        CTR_T0=$(cut -d' ' -f1 /proc/uptime) # the container starts now
        : >/tmp/ctr-go
        say "container (unshare pid $CTR_PID, $_ns, cgroup2 $_mo): init $*"
}
# ctr_init_pid: init's pid in the VM's namespace.
ctr_init_pid() {
        _c=$(cat "/proc/$CTR_PID/task/$CTR_PID/children" 2>/dev/null) && [ -n "$_c" ] && echo "${_c%% *}"
}
# guard_below PID: the first gopls-guard among PID's descendants (a guard
# started through ctr_exec runs a few processes below nsenter).
guard_below() {
        for _k in $(cat "/proc/$1/task/$1/children" 2>/dev/null); do
                if [ "$(cat "/proc/$_k/comm" 2>/dev/null)" = gopls-guard ]; then
                        echo "$_k"
                        return 0
                fi
                guard_below "$_k" && return 0
        done
        return 1
}
# ctr_exec CGROUP CMD...: the docker exec path: from outside init's process
# tree, enter CGROUP (where runc puts exec'd processes), then the
# container's namespaces, and run CMD there.
ctr_exec() {
        _cg=$1
        shift
        sh -c 'echo $$ >"$1/cgroup.procs" && exec "$2/nsenter" -t "$3" --cgroup --pid --mount sh -c "cd /tmp; shift 3; exec \"\$@\"" sh "$@"' \
                sh "$_cg" "$UL" "$(ctr_init_pid)" "$@"
}
# ctr_guard_as_u CGROUP ARGS: as `docker exec -u u` would, in CGROUP: the
# guard as u with XDG_RUNTIME_DIR=$RUNTIME_DIR, `gopls-guard ARGS` (one
# string, split by sh).
ctr_guard_as_u() {
        ctr_exec "$1" su -s /bin/sh u -c "XDG_RUNTIME_DIR=$RUNTIME_DIR exec /bin/gopls-guard $2"
}
