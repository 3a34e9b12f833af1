# bad_input.sh: bad input never crashes anything and never disturbs a zone.
# Protects: configuration errors (one line each, naming file, line and key;
# exit 3), bad command lines (exit 2), a second daemon on the same socket
# (exit 4), zonectl's exit codes (unknown command 2, unknown zone 4,
# permission 5, no daemon 6), and the control socket's handling of
# malformed, oversized, truncated and deeply nested frames: an error answer
# and/or a closed connection, while the daemon goes on answering others and
# the zones keep their VMs.
. "$ZV_SRCDIR/tests/integration/lib.sh"

# --- configuration errors: zonevisord -n
write_config "log_level = loud"
zone alpha "$(fake alpha)" "autostart = perhaps"
printf '[gateway]\ncomand = x\n' > "$T/zones.d/beta.conf"
expect_rc 3 "$ZVD" -n -f "$T/zonevisor.conf"
grep -q "zonevisor.conf:[0-9]*: \[supervisor\] log_level: " "$T/last.err" || fail "no log_level error: $(cat "$T/last.err")"
grep -q "alpha.conf:[0-9]*: \[gateway\] autostart: " "$T/last.err" || fail "no autostart error: $(cat "$T/last.err")"
grep -q "beta.conf:2: \[gateway\] comand: unknown key" "$T/last.err" || fail "no unknown-key error: $(cat "$T/last.err")"
grep -q "beta.conf: \[gateway\] command: required key is missing" "$T/last.err" && fail "a file with an error also reported a missing key"
[ "$(grep -c '^zonevisord: ' "$T/last.err")" -eq 4 ] || fail "expected 3 error lines and a summary: $(cat "$T/last.err")"
# Probe settings that cannot work.
write_config
zone alpha "$(fake alpha)" "[health]" "probe = http"
zone beta "$(fake beta)" "ingress_port = 9" "[health]" "probe = tcp" \
    "interval = 1s" "timeout = 1s"
zone gamma "$(fake gamma)" "[health]" "probe = ping"
zone delta "$(fake delta)" "user = no-such-user-zv" "[secrets]" "TOKEN = vault:kv/token"
expect_rc 3 "$ZVD" -n -f "$T/zonevisor.conf"
grep -q "alpha.conf:5: \[health\] probe: probe = http needs \[gateway\] ingress_port" \
    "$T/last.err" || fail "no ingress_port error: $(cat "$T/last.err")"
grep -q "beta.conf:8: \[health\] timeout: 1000ms is not shorter than the interval" \
    "$T/last.err" || fail "no timeout error: $(cat "$T/last.err")"
grep -q "gamma.conf:5: \[health\] probe: unknown probe" "$T/last.err" ||
    fail "no unknown probe error: $(cat "$T/last.err")"
grep -q "delta.conf:4: \[gateway\] user: unknown user" "$T/last.err" ||
    fail "no unknown user error: $(cat "$T/last.err")"
grep -q "delta.conf:6: \[secrets\] TOKEN: unknown secret source" "$T/last.err" ||
    fail "no unknown secret source error: $(cat "$T/last.err")"
rm -f "$T/zones.d/"*.conf
write_config
expect_rc 3 "$ZVD" -n -f "$T/missing.conf"
grep -q "missing.conf: cannot open" "$T/last.err" || fail "missing file: $(cat "$T/last.err")"
expect_rc 2 "$ZVD" -x
expect_rc 2 "$ZVD" -d stray-argument

# --- a running daemon to abuse
zone alpha "$(fake alpha)"
zone beta "$(fake beta)"
expect_rc 0 "$ZVD" -n -f "$T/zonevisor.conf"
start_daemon
wait_for "alpha running" 10 state_is alpha running || fail "alpha did not start"
wait_for "beta running" 10 state_is beta running || fail "beta did not start"
before="$(zfield alpha pid) $(zfield beta pid)"

# A second zonevisord on the same socket refuses to start and touches nothing.
expect_rc 4 "$ZVD" -d -f "$T/zonevisor.conf"
grep -q "another zonevisord" "$T/last.err" || fail "second daemon said: $(cat "$T/last.err")"

# zonectl usage and lookups.
expect_rc 2 zc explode
expect_rc 2 zc
expect_rc 2 zc start
expect_rc 2 zc --timeout soon status
expect_rc 4 zc start gamma
grep -q "unknown zone: gamma" "$T/last.err" || fail "start gamma said: $(cat "$T/last.err")"
expect_rc 4 zc status gamma
expect_rc 4 zc stop 'Bad/Name'
expect_rc 6 "$ZC" -s "$T/nowhere.sock" status
grep -q "cannot reach zonevisord" "$T/last.err" || fail "unreachable said: $(cat "$T/last.err")"

# Raw frames.  rawclient prints each answer as JSON, then closed/timeout.
raw() { "$RAW" -s "$SOCK" "$@"; }
out=$(raw -n 2 -x 00000003c1c1c1)
echo "$out" | head -1 | grep -q '"code":"bad-request"' || fail "garbage frame: $out"
echo "$out" | tail -1 | grep -qx closed || fail "garbage frame did not close: $out"
out=$(raw -n 2 -x 7fffffff00)
echo "$out" | head -1 | grep -q '"code":"frame-too-large"' || fail "oversized frame: $out"
echo "$out" | tail -1 | grep -qx closed || fail "oversized frame did not close: $out"
out=$(raw -n 2 -t 1000 -x 0000000101)
echo "$out" | head -1 | grep -q '"a request is a map' || fail "non-map request: $out"
out=$(raw -x 0000000c81a3636d64a6737461747573)
echo "$out" | grep -q 'missing protocol version' || fail "request without v: $out"
out=$(raw -x 0000000f82a17663a3636d64a6737461747573)
echo "$out" | grep -q '"code":"unsupported-version"' || fail "v=99: $out"
out=$(raw -x 0000001483a17601a2696407a3636d64a76578706c6f6465)
echo "$out" | grep -q '"id":7,"ok":false,"error":{"code":"unknown-command"' || fail "unknown command: $out"
out=$(raw -n 2 -x 00000015$(printf '91%.0s' $(seq 20))c0)
echo "$out" | head -1 | grep -q 'nested too deeply' || fail "deep nesting: $out"
out=$(raw -n 2 -x 00000005dfffffffff)
echo "$out" | head -1 | grep -q 'container count exceeds' || fail "huge map count: $out"
# One frame of exactly FRAME_MAX bytes of nil padding: malformed, not too large.
out=$(raw -n 2 -x 0010000081 -z 1048575)
echo "$out" | head -1 | grep -q '"code":"bad-request"' || fail "1 MiB frame: $out"

# A client that sends half a frame and stalls does not hold up others.
raw -t 3000 -x 00000064aabbccdd > "$T/stall.out" &
stall=$!
sleep 0.2
expect_rc 0 zc status
wait "$stall"
grep -qx timeout "$T/stall.out" || fail "stalled client got: $(cat "$T/stall.out")"

# A client outside root, zonevisord's user and control_group is refused.
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
	chmod o+x "$T" "$T/run"
	chmod 0666 "$SOCK"
	expect_rc 5 setpriv --reuid=65534 --regid=65534 --clear-groups "$ZC" -s "$SOCK" status
	grep -q "permission-denied" "$T/last.err" || fail "nobody got: $(cat "$T/last.err")"
	chmod 0660 "$SOCK"
	expect_rc 5 setpriv --reuid=65534 --regid=65534 --clear-groups "$ZC" -s "$SOCK" status
fi

# After all of it: the daemon answers and no zone was disturbed.
expect_rc 0 zc status alpha beta
after="$(zfield alpha pid) $(zfield beta pid)"
[ "$before" = "$after" ] || fail "VM pids changed from $before to $after"
alive "$DAEMON_PID" || fail "zonevisord died"
exit 0
