# protocol_python.sh: docs/PROTOCOL.md is enough to write a client.
# tests/protocol_client.py, a Python client written from that page alone
# (with Debian's python3-msgpack), drives a real zonevisord through every
# command the page documents and asserts each field and behaviour it
# promises: version, status and its types, start/stop/restart answered once
# the operation ended, a failed operation's error, diagnose, events (last N,
# and a follow stream that brings a restart's records), leases (list and
# acquire on a zone without [tool-vm], then acquire/list/renew/release),
# the error codes of request checking (unknown command, unknown zone,
# unsupported-version, bad requests), pipelining matched by id, and a
# malformed or oversized frame answered, then the connection closed.
# Skipped (77) when /usr/bin/python3 cannot import msgpack.
. "$ZV_SRCDIR/tests/integration/lib.sh"

PY=/usr/bin/python3
if ! "$PY" -c 'import msgpack' 2>/dev/null; then
	echo "SKIP: $TEST_NAME: $PY cannot import msgpack (apt-get install python3-msgpack)" >&2
	exit 77
fi

base=$((20000 + RANDOM % 20000))
write_config
zone alpha "$(fake alpha)"
zone beta "$(fake beta)" "autostart = no"
zone broken "$T/no-such-gateway" "${manual[@]}"
zone tools "$(fake tools)" "[tool-vm]" \
    "command = $FAKE --marker tool-tools --start-file $T/tool.starts --print port=%port" \
    "max_leases = 2" "base_port = $base"
start_daemon
wait_for "alpha running" 10 state_is alpha running || fail "alpha did not start"
wait_for "tools running" 10 state_is tools running || fail "tools did not start"
wait_for "broken failed" 10 state_is broken failed || fail "broken is $(zfield broken state)"

timeout 120 "$PY" "$SRC/tests/protocol_client.py" --socket "$SOCK" \
    --daemon-pid "$DAEMON_PID" > "$T/client.out" 2> "$T/client.err" ||
    fail "the Python client failed: $(cat "$T/client.err")"
grep -q "all checks passed" "$T/client.out" || fail "the client did not finish: $(cat "$T/client.out")"

# Nothing the client did left the daemon in trouble.
alive "$DAEMON_PID" || fail "zonevisord died"
expect_rc 0 zc status alpha beta tools
[ "$(vm_count alpha)" = 1 ] && [ "$(vm_count beta)" = 1 ] || fail "alpha or beta does not have exactly one VM"
[ "$(vm_count tool-tools)" = 0 ] || fail "a tool VM outlived its release"
grep -q "bad frame from pid" "$T/daemon.log" || fail "the malformed frame was not logged"
exit 0
