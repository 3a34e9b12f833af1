# completion.sh: etc/bash-completion/zonectl, sourced into this bash and
# called as bash would, with COMP_WORDS and COMP_CWORD.  Protects: commands
# complete from a prefix; each command offers its own options; zone names
# come from the running daemon, through -s, --socket=, or
# $ZONEVISOR_SOCKET, without the ones already given; lease renew and release
# offer the lease ids; a daemon that does not answer gives no zones, no
# error output and no wait.
. "$ZV_SRCDIR/tests/integration/lib.sh"

write_config
zone alpha "$(fake alpha)" "[tool-vm]" "command = $FAKE --marker tool-alpha %port" \
    "base_port = $((20000 + RANDOM % 20000))"
zone beta "$(fake beta)" "autostart = no"
zone gamma2 "$(fake gamma2)" "autostart = no"
start_daemon
wait_for "alpha running" 10 state_is alpha running || fail "alpha did not start"

# shellcheck source=../../etc/bash-completion/zonectl
. "$SRC/etc/bash-completion/zonectl"
complete -p zonectl | grep -q -- "-F _zonectl zonectl" || fail "zonectl has no completion registered"
unset ZONEVISOR_SOCKET

# comp WORD...: complete the last word of "zonectl WORD..."; the candidates,
# sorted, space-separated, in $got (stderr of the completion in $T/comp.err).
comp() {
	COMP_WORDS=("$ZC" "$@")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMP_LINE="${COMP_WORDS[*]}"
	COMP_POINT=${#COMP_LINE}
	COMPREPLY=()
	_zonectl 2> "$T/comp.err"
	got=$(printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ')
	got=${got% }
	[ -s "$T/comp.err" ] && fail "completing '$*' said: $(cat "$T/comp.err")"
	return 0
}
# want RESULT WORD...: comp WORD... gives RESULT.
want() {
	local w=$1
	shift
	comp "$@"
	[ "$got" = "$w" ] || fail "completing '$*': got '$got', want '$w'"
}

# Commands, from a prefix; global options.
want "diagnose events health lease logs refresh-credentials reload reset restart start status stop version" ""
want "refresh-credentials reload reset restart" re
want "logs" lo
want "--json" --j
want "--help --json --socket --timeout" --
# Zones through -s, not those given already; options per command.
want "alpha beta gamma2" -s "$SOCK" start ""
want "alpha" -s "$SOCK" start al
want "beta gamma2" -s "$SOCK" start alpha ""
want "gamma2" -s "$SOCK" --json restart alpha beta g
want "--all --no-wait" -s "$SOCK" stop -
want "alpha beta gamma2" -s "$SOCK" --timeout 5s status ""
# --socket=PATH and $ZONEVISOR_SOCKET.
want "alpha beta gamma2" --socket = "$SOCK" diagnose ""
ZONEVISOR_SOCKET=$SOCK want "alpha beta gamma2" logs ""
ZONEVISOR_SOCKET=$SOCK want "" logs alpha ""	# one zone only
ZONEVISOR_SOCKET=$SOCK want "-f -n" logs alpha -
ZONEVISOR_SOCKET=$SOCK want "" logs -n ""	# a count
ZONEVISOR_SOCKET=$SOCK want "beta" events -n 5 b
want "--force" -s "$SOCK" reset --
want "--dry-run" -s "$SOCK" reload ""
want "" -s "$SOCK" version ""
# Leases: subcommands, their options, the ids.
want "acquire list release renew" -s "$SOCK" lease ""
want "alpha beta gamma2" -s "$SOCK" lease acquire ""
want "--owner --ttl" -s "$SOCK" lease acquire alpha --
want "" -s "$SOCK" lease renew ""
id=$(zc --json lease acquire alpha | python3 -c 'import json, sys; print(json.load(sys.stdin)["lease"]["id"])') ||
    fail "lease acquire failed"
want "$id" -s "$SOCK" lease renew ""
want "$id" -s "$SOCK" lease release "${id:0:4}"
want "--force --zone" -s "$SOCK" lease release "$id" -
want "alpha beta gamma2" -s "$SOCK" lease release "$id" --zone ""
# The socket's path completes as a file name.
comp -s "$T/ru"
[ "$got" = "$T/run" ] || fail "socket path: got '$got'"
# No daemon: no zones, quietly, at once.
s0=$(date +%s%N)
want "" -s "$T/no-such.sock" start ""
want "" -s "$T/no-such.sock" lease renew ""
ZONEVISOR_SOCKET=$T/no-such.sock want "" status a
[ $((($(date +%s%N) - s0) / 1000000)) -lt 3000 ] || fail "completion against no daemon took long"
# A daemon that accepts and never answers: bounded too.
python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1]); s.listen(8)
c = s.accept()
time.sleep(30)' "$T/mute.sock" &
mute=$!
wait_for "the mute socket" 5 test -S "$T/mute.sock" || fail "no mute socket"
s0=$(date +%s%N)
want "" -s "$T/mute.sock" start ""
ms=$((($(date +%s%N) - s0) / 1000000))
kill "$mute"
wait "$mute" 2> /dev/null
[ "$ms" -lt 4000 ] || fail "completion against a mute daemon took ${ms}ms"
exit 0
