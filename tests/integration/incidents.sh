#!/bin/bash
# incidents.sh — a crash writes an incident (degraded mode, on this
# machine: no cgroup touched): the server's stderr is passed through whole
# and its last lines kept, the editor's requests in flight are named,
# `incidents` lists it (text and --json), `status --json` names it while
# the guard runs, and the directories are private.
#
#   incidents.sh GOPLS_GUARD
set -u
guard=$1
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
it_workdir incidents
it_fixture_roots
export XDG_STATE_HOME=$work/state
unset STATE_DIRECTORY
incdir=$work/state/gopls-guard/incidents

# A stand-in server that writes 60 stderr lines, waits for the editor's
# first bytes, and crashes with status 3.
cat >"$work/crasher" <<'SH'
#!/bin/bash
for i in $(seq 1 60); do echo "crasher line $i" >&2; done
head -c 1 >/dev/null
echo "panic: out of luck" >&2
exit 3
SH
chmod +x "$work/crasher"
printf '[restart]\non = crash\nmax_restarts = 1\nafter_give_up = exit\nbackoff_initial = 100ms\n[log]\ntarget = stderr\n' \
        >"$work/p.ini"

init='{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"processId":null,"rootUri":null,"capabilities":{}}}'
# Held open for a while: the editor stays while the server crashes twice.
{
        frame "$init"
        sleep 3
} | "$guard" --policy "$work/p.ini" --workspace "$work" -- "$work/crasher" \
        >"$work/out" 2>"$work/err"
rc=$?
check "the guard gives up after the second crash (exit 4)" [ "$rc" = 4 ]
check "every stderr line of the server reached the guard's stderr" \
        [ "$(grep -c '^crasher line ' "$work/err")" = 120 ]
check "the last line too" has "$work/err" "panic: out of luck"
n=$(find "$incdir" -mindepth 1 -maxdepth 1 -type d -name '2*-crash' | wc -l)
check "two crashes, two incidents" [ "$n" = 2 ]
check "the log says where the incident went" has "$work/err" "$incdir/"
newest=$(find "$incdir" -mindepth 1 -maxdepth 1 -type d | sort | tail -1)
j=$newest/incident.json
check "incident.json is valid JSON" json_true "$j" .
check "kind, exit status, workspace" \
        json_true "$j" '.kind == "crash" and .exit_status == 3 and .workspace == $w and .degraded == true' --arg w "$work"
check "stderr tail: the last 40 lines, ending with the panic" \
        json_true "$j" '(.stderr_tail | length) == 40 and .stderr_tail[-1] == "panic: out of luck" and .stderr_tail[-2] == "crasher line 60"'
check "methods in flight: the editor's initialize" \
        json_true "$j" '.methods_in_flight == ["initialize"]'
check "no heap profile, and why" json_true "$j" '.heap_profile == null and (.heap_profile_note | length) > 0'
mode() { stat -c %a "$1"; }
check "state directories are 0700" \
        [ "$(mode "$work/state/gopls-guard")$(mode "$incdir")$(mode "$newest")" = 700700700 ]
check "incident.json is 0600" [ "$(mode "$j")" = 600 ]

"$guard" incidents --json >"$work/list.json" 2>"$work/list.err"
check "incidents --json exits 0" [ $? = 0 ]
check "incidents --json lists both, oldest first, with path and size" \
        json_true "$work/list.json" 'length == 2 and .[1].path == $p and .[1].size > 0 and .[0].name < .[1].name' \
        --arg p "$newest"
"$guard" incidents >"$work/list.txt"
text_ok() { [ -n "$newest" ] && has "$work/list.txt" "$newest" && has "$work/list.txt" " crash "; }
check "incidents (text) names the kind and the path" text_ok
check "incidents WORKSPACE filters: another workspace has none" \
        [ "$("$guard" incidents --json /nonexistent-ws | jq length)" = 0 ]
check "incidents WORKSPACE filters: this one has two" \
        [ "$("$guard" incidents --json "$work" | jq length)" = 2 ]

# status shows the last incident while the guard runs: one crash, then a
# restart that keeps running.
cat >"$work/once" <<SH
#!/bin/bash
if [ ! -e "$work/once.done" ]; then : >"$work/once.done"; echo "first start dies" >&2; exit 5; fi
exec sleep 30
SH
chmod +x "$work/once"
# The editor: a fifo the script holds open (fd 7) and closes at the end.
mkfifo "$work/in"
exec 7<>"$work/in"
"$guard" --policy "$work/p.ini" --workspace "$work" -- "$work/once" <"$work/in" >/dev/null \
        2>"$work/err2" 7>&- &
gpid=$!
has_incident() { "$guard" status --json | jq -e '.[0].last_incident | strings | test("-crash$")' >/dev/null; }
check "status --json names the last incident" poll 100 has_incident
"$guard" status >"$work/status.txt"
check "status (text) has a last incident line" has "$work/status.txt" "last incident: $incdir/"
exec 7>&-
kill -TERM "$gpid" 2>/dev/null
wait "$gpid" 2>/dev/null

# A planted link instead of the directory: the guard writes nothing
# through it, and says why.
rm -rf "$work/state"
mkdir -p "$work/state" "$work/elsewhere"
ln -s "$work/elsewhere" "$work/state/gopls-guard"
rm -f "$work/once.done"
{
        frame "$init"
        sleep 1
} | "$guard" --policy "$work/p.ini" --workspace "$work" -- "$work/crasher" >/dev/null 2>"$work/err3"
check "a link as state directory: nothing written through it" [ -z "$(ls -A "$work/elsewhere")" ]
check "a link as state directory: the log says why" has "$work/err3" "is a symbolic link, not a directory"
"$guard" incidents >/dev/null 2>"$work/list3.err"
rc=$?
refused() { [ "$rc" = 1 ] && has "$work/list3.err" "symbolic link"; }
check "incidents refuses the link (exit 1) and says why" refused
"$guard" incidents a b >/dev/null 2>"$work/usage.err"
rc=$?
usage_ok() { [ "$rc" = 2 ] && has "$work/usage.err" "incidents takes at most one WORKSPACE"; }
check "incidents with two workspaces: exit 2, and says so" usage_ok
"$guard" incidents --policy x >/dev/null 2>"$work/usage2.err"
rc=$?
usage2_ok() { [ "$rc" = 2 ] && has "$work/usage2.err" "incidents does not take --policy"; }
check "incidents --policy: exit 2, and says so" usage2_ok
it_done
