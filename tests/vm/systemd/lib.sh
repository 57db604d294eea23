# sd-lib.sh — helpers for tier-3 scenarios (real systemd 252 as PID 1).
# Sourced after /lib/vmtest/lib.sh, whose result protocol (pass, fail, skip),
# poll, kv, json_get, pid_alive, mark_* and user "u" (uid 1000, made by the
# rootfs recipe) hold here too.  The scenario runs as root under dash in
# vmtest.service's own cgroup, cwd /tmp.
#
# A guard under systemd is started as one of:
#   sd_guard_scope   UNIT ARGS...  systemd-run --scope -p Delegate=yes (system)
#   sd_guard_service UNIT ARGS...  systemd-run --unit=UNIT -p Delegate=yes: a
#                                  transient service, output to the journal
#   sd_user_scope    UNIT ARGS...  the same as the lingering user u, from its
#                                  user manager (systemd-run --user --scope)
# each with the guard's stdin on a fifo that stays open (the editor) until
# sd_stdin_close UNIT.  Extra systemd-run options: SD_RUN_OPTS (split on
# spaces, e.g. SD_RUN_OPTS="-p MemoryAccounting=yes").  The guard's own
# arguments follow, e.g. --policy "$POLICY" -- /bin/leaker --mark "$MARK".
#
# Then: sd_cgroup UNIT (the unit's cgroup directory), sd_check_layout DIR
# GUARD_PID (supervisor/ and server/), sd_journal_wait UNIT JQ (an entry of
# the guard's in the journal), sd_stopped_clean UNIT DIR PIDS (nothing left).
# For units of the project's own (templates, sockets): sd_install_unit FILE,
# sd_escape_path DIR, sd_prop / sd_wait_prop (ActiveState, StatusText,
# NRestarts... as `systemctl show` has them).
# /usr/bin from the .deb, /usr/local/bin from a build tree's default prefix.
GUARD_BIN=$(command -v gopls-guard) || GUARD_BIN=/usr/bin/gopls-guard
SD_CG=/sys/fs/cgroup
SD_RUN=/run/vmtest
SD_RUN_OPTS=
U_RUNTIME=/run/user/$U_UID
mkdir -p "$SD_RUN"

# Write the policy readable by everybody (user scenarios read it too).
# Unlike lib.sh's write_policy, the log target is left to the guard (auto:
# the journal under a service, stderr under a scope) unless the scenario
# sets [log] itself.
sd_policy() {
        cat >"$POLICY"
        chmod 0644 "$POLICY"
}

# sd_stdin UNIT: a fifo for the guard's stdin, held open for writing by a
# process of ours until sd_stdin_close UNIT ends it (the editor going away).
sd_stdin() {
        _f=$SD_RUN/$1.in
        rm -f "$_f"
        mkfifo -m 0666 "$_f" || fail "mkfifo $_f"
        # Blocks in the background until the guard opens its end.
        sh -c 'exec 3>"$1"; exec sleep 100000' sh "$_f" </dev/null >/dev/null 2>&1 &
        echo $! >"$SD_RUN/$1.holder"
}
sd_stdin_close() {
        [ -r "$SD_RUN/$1.holder" ] && kill "$(cat "$SD_RUN/$1.holder")" 2>/dev/null
        rm -f "$SD_RUN/$1.holder"
}

# sd_guard_scope UNIT GUARD_ARGS...: the guard in a transient scope UNIT.scope
# with Delegate=yes, started in the background (GUARD_PID: systemd-run execs
# the guard in place); stdout -> /tmp/logs/UNIT.out, stderr -> /tmp/logs/UNIT.log.
sd_guard_scope() {
        _u=$1
        shift
        sd_stdin "$_u"
        # shellcheck disable=SC2086 # SD_RUN_OPTS is split on purpose
        systemd-run --quiet --scope --unit="$_u" -p Delegate=yes $SD_RUN_OPTS "$GUARD_BIN" "$@" \
                <"$SD_RUN/$_u.in" >"/tmp/logs/$_u.out" 2>"/tmp/logs/$_u.log" &
        GUARD_PID=$!
        say "guard pid $GUARD_PID in $_u.scope: $*"
}

# sd_guard_service UNIT GUARD_ARGS...: the guard as the transient service
# UNIT.service with Delegate=yes, stdout and stderr to the journal (so the
# guard's log target "auto" picks the journal).  GUARD_PID: its main pid.
sd_guard_service() {
        _u=$1
        shift
        sd_stdin "$_u"
        # shellcheck disable=SC2086
        systemd-run --quiet --unit="$_u" -p Delegate=yes -p StandardInput=file:"$SD_RUN/$_u.in" \
                $SD_RUN_OPTS "$GUARD_BIN" "$@" >"/tmp/logs/$_u.systemd-run" 2>&1 ||
                fail "systemd-run --unit=$_u failed: $(tail -n 1 "/tmp/logs/$_u.systemd-run")"
        GUARD_PID=$(systemctl show -P MainPID "$_u.service")
        is_number "$GUARD_PID" && [ "$GUARD_PID" -gt 0 ] || fail "$_u.service has no main pid (state $(systemctl is-active "$_u.service"))"
        say "guard pid $GUARD_PID as $_u.service: $*"
}

# as_u CMD...: CMD as user u in its login environment (its runtime dir, user
# bus and manager), as an editor started from its session would be.
as_u() {
        runuser -u u -- env XDG_RUNTIME_DIR="$U_RUNTIME" \
                DBUS_SESSION_BUS_ADDRESS="unix:path=$U_RUNTIME/bus" HOME=/home/u "$@"
}
# systemctl for u's user manager.
u_systemctl() { as_u systemctl --user "$@"; }

# sd_linger: u lingers; waits for user@UID.service and its manager's socket.
sd_linger() {
        loginctl enable-linger u || fail "loginctl enable-linger u failed"
        poll 600 sd_user_manager_up || fail "user@$U_UID.service did not come up ($(systemctl is-active "user@$U_UID.service"))"
}
sd_user_manager_up() {
        [ "$(systemctl is-active "user@$U_UID.service")" = active ] && [ -S "$U_RUNTIME/systemd/private" ]
}

# sd_user_scope UNIT GUARD_ARGS...: sd_guard_scope from u's user manager.
sd_user_scope() {
        _u=$1
        shift
        sd_stdin "$_u"
        # shellcheck disable=SC2086
        as_u systemd-run --user --quiet --scope --unit="$_u" -p Delegate=yes $SD_RUN_OPTS "$GUARD_BIN" "$@" \
                <"$SD_RUN/$_u.in" >"/tmp/logs/$_u.out" 2>"/tmp/logs/$_u.log" &
        GUARD_PID=$!
        say "runuser pid $GUARD_PID for u's $_u.scope: $*"
}

# sd_install_unit [--user] FILE...: units (or drop-in directories'
# contents, given as NAME.d/FILE) into /etc/systemd/{system,user}, then a
# daemon-reload of the system manager (or u's, if it runs).
sd_install_unit() {
        _dir=/etc/systemd/system
        _user=
        if [ "$1" = --user ]; then
                _dir=/etc/systemd/user _user=1
                shift
        fi
        for _f in "$@"; do
                case $_f in
                */*.d/*) _d=${_f%/*} && mkdir -p "$_dir/${_d##*/}" && cp "$_f" "$_dir/${_d##*/}/" ;;
                *) cp "$_f" "$_dir/" ;;
                esac || fail "cannot install $_f into $_dir"
        done
        if [ -n "$_user" ]; then
                sd_user_manager_up || return 0
                u_systemctl daemon-reload || fail "systemctl --user daemon-reload failed"
        else
                systemctl daemon-reload || fail "systemctl daemon-reload failed"
        fi
}

# sd_escape_path DIR: the instance name of DIR (systemd-escape --path).
sd_escape_path() { systemd-escape --path "$1"; }

# sd_prop UNIT PROPERTY [--user]: the property as `systemctl show -P` has it.
sd_prop() {
        if [ "${3:-}" = --user ]; then
                u_systemctl show -P "$2" "$1" 2>/dev/null
        else
                systemctl show -P "$2" "$1" 2>/dev/null
        fi
}
# sd_wait_prop N UNIT PROPERTY VALUE [--user]: poll until it reads VALUE.
sd_prop_is() { [ "$(sd_prop "$1" "$2" "${4:-}")" = "$3" ]; }
sd_wait_prop() {
        _n=$1
        shift
        poll "$_n" sd_prop_is "$@"
}

# sd_cgroup UNIT [--user]: the unit's cgroup directory (empty when it has none).
sd_cgroup() {
        if [ "${2:-}" = --user ]; then
                _c=$(u_systemctl show -P ControlGroup "$1" 2>/dev/null)
        else
                _c=$(systemctl show -P ControlGroup "$1" 2>/dev/null)
        fi
        [ -n "$_c" ] && echo "$SD_CG$_c"
}

# sd_wait_active UNIT N [--user]
sd_is_active() {
        if [ "${2:-}" = --user ]; then
                [ "$(u_systemctl is-active "$1" 2>/dev/null)" = active ]
        else
                [ "$(systemctl is-active "$1" 2>/dev/null)" = active ]
        fi
}
sd_wait_active() { poll "$2" sd_is_active "$1" "${3:-}"; }
# sd_poll_active N UNIT CMD...: poll CMD as poll does, but give up as soon as
# UNIT is no longer active (its end is the news; no point waiting it out:
# under TCG N polls take up to twice N x 0.1 s).
_sd_cmd_or_gone() {
        _su=$1
        shift
        "$@" && return 0
        sd_is_active "$_su" && return 1
        "$@" # it may have got there just before the end
        return 0
}
sd_poll_active() {
        _n=$1 _unit=$2
        shift 2
        poll "$_n" _sd_cmd_or_gone "$_unit" "$@" && "$@"
}

# procs_of DIR: every process in DIR and below it.
procs_of() { find "$1" -name cgroup.procs -exec cat {} + 2>/dev/null; }

# sd_check_layout DIR GUARD_PID: the guard in DIR/supervisor with nothing but
# its own processes (its sentinel runs the guard's binary too), the server
# (the processes in DIR/server, at least one) nowhere else, DIR itself empty
# (the no-internal-process rule).  Sets SERVER_PIDS.
sd_check_layout() {
        grep -qx "$2" "$1/supervisor/cgroup.procs" 2>/dev/null ||
                fail "guard $2 is not in $1/supervisor (it is in $(sed -n 's/^0:://p' "/proc/$2/cgroup" 2>/dev/null))"
        _exe=$(readlink "/proc/$2/exe")
        for _p in $(cat "$1/supervisor/cgroup.procs"); do
                [ "$(readlink "/proc/$_p/exe")" = "$_exe" ] ||
                        fail "$1/supervisor holds $_p ($(tr '\0' ' ' <"/proc/$_p/cmdline")), which is not the guard's"
        done
        SERVER_PIDS=$(cat "$1/server/cgroup.procs" 2>/dev/null)
        [ -n "$SERVER_PIDS" ] || fail "$1/server holds no process"
        [ -z "$(cat "$1/cgroup.procs")" ] || fail "$1 itself holds processes: $(tr '\n' ' ' <"$1/cgroup.procs")"
}

# sd_check_file FILE VALUE: FILE (a cgroup attribute) reads VALUE.
sd_check_file() {
        _v=$(cat "$1" 2>/dev/null) || fail "cannot read $1"
        [ "$_v" = "$2" ] || fail "$1 is '$_v', expected '$2'"
}

# sd_journal UNIT [--user]: the boot's entries of UNIT (its processes, and
# systemd's about it), one JSON object a line.
sd_journal() {
        journalctl --sync 2>/dev/null
        if [ "${2:-}" = --user ]; then
                journalctl -b -o json --no-pager _UID="$U_UID" _SYSTEMD_USER_UNIT="$1" 2>/dev/null
        else
                journalctl -b -o json --no-pager -u "$1" 2>/dev/null
        fi
}
# sd_journal_count UNIT JQ_CONDITION [--user]: how many of UNIT's entries
# satisfy JQ_CONDITION (e.g. '.GOPLS_GUARD_EVENT == "oom-kill"').
sd_journal_count() { sd_journal "$1" "${3:-}" | jq -c "select($2)" 2>/dev/null | wc -l; }
sd_journal_has() { [ "$(sd_journal_count "$@")" -gt 0 ]; }
# sd_journal_wait N UNIT JQ_CONDITION: wait for such an entry; print the
# first one (JSON) on stdout.
sd_journal_wait() {
        _n=$1
        shift
        poll "$_n" sd_journal_has "$@" || return 1
        sd_journal "$1" | jq -c "select($2)" | head -n 1
}
# jfield JSON FIELD: a field of one journal entry (strings as they are).
jfield() { printf '%s\n' "$1" | jq -r --arg f "$2" '.[$f] // empty'; }

# sd_stopped_clean UNIT DIR PIDS...: after `systemctl stop`: UNIT inactive or
# unloaded, its cgroup DIR gone, none of PIDS alive.
sd_stopped_clean() {
        _u=$1 _d=$2
        shift 2
        _st=$(systemctl is-active "$_u" 2>/dev/null)
        case $_st in
        inactive | failed | unknown) ;;
        *) fail "$_u is $_st after systemctl stop" ;;
        esac
        [ ! -e "$_d" ] || fail "$_d is left behind after stopping $_u (processes: $(procs_of "$_d" | tr '\n' ' '))"
        for _p in "$@"; do
                pid_alive "$_p" && fail "process $_p ($(tr '\0' ' ' <"/proc/$_p/cmdline")) outlived $_u"
        done
        return 0
}

# guard_tree_pids: every live process carrying the guard's tree marker
# (GOPLS_GUARD_TREE in its environment): servers and their children.
guard_tree_pids() {
        # One grep over every environ (a process per pid costs seconds under TCG).
        for _f in $(grep -lsz '^GOPLS_GUARD_TREE=' /proc/[0-9]*/environ); do
                _p=${_f#/proc/}
                _p=${_p%/environ}
                pid_alive "$_p" && echo "$_p"
        done
}

# ---- user units: u's workspace, policy and scripted editors -------------
# u_workspace DIR: DIR owned by u (U_WS), its instance name (U_ESC) and
# u's serving socket (U_SOCK); u lingers and its manager runs.
u_workspace() {
        U_WS=$1
        mkdir -p "$U_WS" && chown u:u "$U_WS" || fail "cannot make u's workspace $U_WS"
        U_ESC=$(sd_escape_path "$U_WS")
        U_SOCK=$U_RUNTIME/gopls-guard/$U_ESC.sock
        sd_linger
}
# u_policy: stdin as u's own policy, ~u/.config/gopls-guard/policy.ini.
u_policy() {
        mkdir -p /home/u/.config/gopls-guard
        cat >/home/u/.config/gopls-guard/policy.ini
        chown -R u:u /home/u/.config
}
# u_editor NAME: `gopls-guard connect $U_WS` as u, reading a fifo that the
# scenario then holds open itself: `u_editor a; exec 4>"$SD_RUN/a.in"`.
# Output in /tmp/logs/NAME.out, its stderr in NAME.err, pid in EDITOR_PID.
u_editor() {
        rm -f "$SD_RUN/$1.in"
        mkfifo -m 0666 "$SD_RUN/$1.in" || fail "mkfifo $SD_RUN/$1.in"
        as_u "$GUARD_BIN" connect "$U_WS" <"$SD_RUN/$1.in" >"/tmp/logs/$1.out" 2>"/tmp/logs/$1.err" &
        EDITOR_PID=$!
}
# u_unit_gone UNIT: u's manager has UNIT inactive (or forgot it).
u_unit_gone() {
        case $(u_systemctl is-active "$1" 2>/dev/null) in
        inactive | failed | unknown | "") return 0 ;;
        *) return 1 ;;
        esac
}

# ---- Editors through `gopls-guard connect` (the project's own units) ----
# sd_editor NAME DIR [--as-u]: `gopls-guard connect DIR` (as root, or as u)
# reading the fifo $SD_RUN/ed-NAME.in, held open until sd_editor_close NAME
# (the editor going away); its answers in /tmp/logs/NAME.out, its stderr in
# /tmp/logs/NAME.err.  EDITOR_PID: connect's (or runuser's) pid.
# sd_send NAME JSON: one framed message to it; sd_answered NAME TEXT: its
# output holds TEXT; sd_daemon_of NAME ID: the pid an echo/daemon request
# with that id was answered (lsp-echo's daemon mode).
SD_INIT='{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"processId":null,"rootUri":null,"capabilities":{}}}'
SD_INITIALIZED='{"jsonrpc":"2.0","method":"initialized","params":{}}'
sd_frame() { printf 'Content-Length: %d\r\n\r\n%s' "${#1}" "$1"; }
sd_editor() {
        sd_stdin "ed-$1"
        if [ "${3:-}" = --as-u ]; then
                runuser -u u -- "$GUARD_BIN" connect "$2" <"$SD_RUN/ed-$1.in" >"/tmp/logs/$1.out" 2>"/tmp/logs/$1.err" &
        else
                "$GUARD_BIN" connect "$2" <"$SD_RUN/ed-$1.in" >"/tmp/logs/$1.out" 2>"/tmp/logs/$1.err" &
        fi
        # shellcheck disable=SC2034 # read by the scenarios
        EDITOR_PID=$!
        # The holder's open blocks until connect opens the read end; until
        # it has its end, a message written by sd_send (open, write, close)
        # would leave the fifo with no writer and end the editor at once.
        poll 300 sd_stdin_held "ed-$1" || fail "the fifo of editor $1 was never held open"
}
# sd_stdin_held UNIT: sd_stdin's holder has its write end open.
sd_stdin_held() { [ -e "/proc/$(cat "$SD_RUN/$1.holder" 2>/dev/null)/fd/3" ]; }
sd_send() { sd_frame "$2" >"$SD_RUN/ed-$1.in"; }
sd_editor_close() { sd_stdin_close "ed-$1"; }
sd_answered() { grep -qF -- "$2" "/tmp/logs/$1.out" 2>/dev/null; }
sd_daemon_of() { grep -o "\"id\":$2,\"result\":[0-9]*" "/tmp/logs/$1.out" | tail -n 1 | sed 's/.*://'; }
# sd_init_editor NAME DIR [--as-u]: sd_editor, initialize answered, initialized sent.
sd_init_editor() {
        sd_editor "$@"
        sd_send "$1" "$SD_INIT"
        poll 600 sd_answered "$1" '"id":1,"result":{"capabilities"' ||
                fail "editor $1 ($2${3:+ $3}) not initialized: $(tail -c 300 "/tmp/logs/$1.err")"
        sd_send "$1" "$SD_INITIALIZED"
}
# sd_echo_daemon NAME ID: an echo/daemon request answered; prints the pid.
sd_echo_daemon() {
        sd_send "$1" "{\"jsonrpc\":\"2.0\",\"id\":$2,\"method\":\"echo/daemon\"}"
        poll 600 sd_answered "$1" "\"id\":$2,\"result\":" || return 1
        sd_daemon_of "$1" "$2"
}
# uid_of PID: its real uid.
uid_of() { awk '/^Uid:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }
# sd_mono_ms UNIT PROP_FROM PROP_TO: milliseconds between two monotonic
# timestamps of UNIT (e.g. ExecMainStartTimestampMonotonic).
sd_mono_ms() { echo $((($(sd_prop "$1" "$3") - $(sd_prop "$1" "$2")) / 1000)); }
