# lib.sh — what the integration scripts share (sourced by bash).
#
#   it_workdir NAME   $work: a new directory under /tmp, removed at exit
#                     (a script with its own EXIT trap removes it there)
#   it_fixture_roots  the guard's fixture roots in $work, for gopls-guard-test:
#                     an empty cgroup mount (degraded mode, no cgroup touched),
#                     a private status directory, no /etc policy, an empty
#                     user config, a private state directory (incidents)
#   check NAME CMD... one PASS or FAIL line, counted
#   has FILE TEXT     FILE holds TEXT (fixed string)
#   frame JSON        JSON with its Content-Length header
#   poll N CMD...     CMD every 0.1 s, at most N times, until it succeeds
#   it_done           the closing "N passed, N failed" line; fails on any FAIL

it_workdir() {
        work=$(mktemp -d "/tmp/$1-test-XXXXXX") || exit 1
        trap 'rm -rf "$work"' EXIT
}

it_fixture_roots() {
        mkdir -p "$work/no-cgroup" "$work/config"
        mkdir -m 0700 "$work/run" # the status directory must be private
        export GOPLS_GUARD_CGROUP_ROOT=$work/no-cgroup GOPLS_GUARD_RUNTIME_DIR=$work/run
        export XDG_CONFIG_HOME=$work/config GOPLS_GUARD_SYSCONFDIR=$work/no-etc
        export XDG_STATE_HOME=$work/state
        unset STATE_DIRECTORY
}

passed=0
failed=0
check() {
        if "${@:2}"; then
                echo "PASS $1"
                passed=$((passed + 1))
        else
                echo "FAIL $1"
                failed=$((failed + 1))
        fi
}
has() { grep -qF -- "$2" "$1"; }
# json_true FILE FILTER [JQ_ARGS...]: jq's FILTER is true of FILE; quiet,
# so that `check` still prints its line (a check's own >/dev/null hides it).
json_true() { jq -e "${@:3}" "$2" "$1" >/dev/null 2>&1; }
frame() { printf 'Content-Length: %d\r\n\r\n%s' "${#1}" "$1"; }

poll() {
        local n=$1
        shift
        while [ "$n" -gt 0 ]; do
                "$@" && return 0
                n=$((n - 1))
                sleep 0.1
        done
        return 1
}

it_done() {
        echo "$passed passed, $failed failed"
        [ "$failed" -eq 0 ]
}
