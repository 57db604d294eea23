#!/bin/sh
# commented-policy.sh IN — print IN (config/gopls-guard.ini) as the
# administrator's /etc/gopls-guard/policy.ini: a short header, then every
# line that is not already a comment or blank commented out with "; ", so
# that the installed file changes nothing until a line is uncommented, and
# stays the documented default policy as it grows.
set -eu
in=${1:?usage: commented-policy.sh config/gopls-guard.ini}
[ -r "$in" ] || { echo "commented-policy.sh: cannot read $in" >&2; exit 1; }
cat <<'HEADER'
; /etc/gopls-guard/policy.ini — the administrator's policy for gopls-guard.
;
; Installed with every line commented out: it changes nothing until you
; uncomment a [section] header and the keys under it that you want to set.
; Drop-ins in /etc/gopls-guard/policy.d/*.ini are read after this file.
; The full reference is gopls-guard.ini(5); `gopls-guard check-policy`
; shows the policy in effect and where each value came from.
;
HEADER
sed -e 's/^\([[:space:]]*[^;#[:space:]]\)/; \1/' "$in"
