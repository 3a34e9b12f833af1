# bad_input.sh: bad input never crashes anything and never disturbs a zone.
# Protects: configuration errors (one line each, naming file, line and key;
# exit 3), bad command lines (exit 2), a second daemon on the same socket
# (exit 4), zonectl's exit codes (unknown command 2, unknown zone 4,
# permission 5, no daemon 6, and for leases unknown lease 9 and no
# [tool-vm] 12), lease requests with bad arguments (bad-request, naming the
# argument; zonectl sends nothing for a bad --ttl or --owner), and the
# control socket's handling of malformed, oversized, truncated and deeply
# nested frames: an error answer and/or a closed connection, while the
# daemon goes on answering others and the zones keep their VMs.
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

# Lease requests the parent refuses without asking a worker: no zone here
# has [tool-vm] (leases.sh takes the paths through a worker).
lid=01234567-89ab-cdef-0123-456789abcdef
expect_rc 2 zc lease
expect_rc 2 zc lease frobnicate alpha
expect_rc 2 zc lease release
expect_rc 2 zc lease list alpha beta
for ttl in 0 bogus 48h 10ms -5s 25h; do
	expect_rc 2 zc lease acquire alpha --ttl "$ttl"
	grep -q -- "--ttl" "$T/last.err" || fail "--ttl $ttl said: $(cat "$T/last.err")"
done
expect_rc 2 zc lease acquire alpha --owner "two words"
expect_rc 2 zc lease acquire alpha --owner "$(printf 'o%.0s' $(seq 65))"
expect_rc 2 zc lease renew "$lid" --force
expect_rc 2 zc lease release "$lid" --ttl 1h
expect_rc 12 zc lease acquire alpha --ttl 1h --owner agent-1
grep -q "no \[tool-vm\]" "$T/last.err" || fail "acquire without [tool-vm] said: $(cat "$T/last.err")"
expect_rc 4 zc lease acquire gamma
expect_rc 4 zc lease list gamma
expect_rc 9 zc lease renew "$lid"
grep -q "no lease $lid" "$T/last.err" || fail "renew of no lease said: $(cat "$T/last.err")"
expect_rc 9 zc lease release "$lid" --zone alpha --force
expect_rc 4 zc lease release "$lid" --zone gamma
[ "$(zc lease list)" = "no leases" ] || fail "lease list: $(zc lease list)"
[ "$(zc --json lease list alpha)" = '{"leases":[],"slots":[]}' ] ||
    fail "lease list --json: $(zc --json lease list alpha)"

# Raw frames.  rawclient prints each answer as JSON, then closed/timeout.
raw() { "$RAW" -s "$SOCK" "$@"; }
# The framed msgpack of a JSON value, as hex.
mp() {
	python3 -c '
import json, struct, sys
def enc(v):
    if v is None: return b"\xc0"
    if v is True: return b"\xc3"
    if v is False: return b"\xc2"
    if isinstance(v, int): return b"\xd3" + struct.pack(">q", v)
    if isinstance(v, str):
        b = v.encode()
        return b"\xdb" + struct.pack(">I", len(b)) + b
    if isinstance(v, list):
        return b"\xdd" + struct.pack(">I", len(v)) + b"".join(map(enc, v))
    return b"\xdf" + struct.pack(">I", len(v)) + b"".join(enc(k) + enc(x) for k, x in v.items())
p = enc(json.loads(sys.argv[1]))
print((struct.pack(">I", len(p)) + p).hex())' "$1"
}
# bad_lease ARGS WANT: a lease request with args ARGS (JSON) about zone alpha
# is refused as a bad request whose message contains WANT.
bad_lease() {
	out=$(raw -x "$(mp "{\"v\": 1, \"id\": 1, \"cmd\": \"lease\", \"zone\": \"alpha\", \"args\": $1}")")
	echo "$out" | grep -q '"code":"bad-request"' && echo "$out" | grep -q -- "$2" ||
	    fail "lease args $1: $out"
}
bad_lease 'null' 'args.op'
bad_lease '{"op": "borrow"}' 'args.op'
bad_lease '{"op": 1}' 'args.op'
bad_lease '{"op": "acquire", "ttl_ms": 999}' 'args.ttl_ms'
bad_lease '{"op": "acquire", "ttl_ms": 86400001}' 'args.ttl_ms'
bad_lease '{"op": "acquire", "ttl_ms": "1h"}' 'args.ttl_ms'
bad_lease '{"op": "acquire", "owner": ""}' 'args.owner'
bad_lease '{"op": "acquire", "owner": "a\tb"}' 'args.owner'
bad_lease '{"op": "acquire", "force": true}' 'args.force'
bad_lease '{"op": "renew"}' 'args.lease'
bad_lease '{"op": "renew", "lease": 7}' 'args.lease'
bad_lease '{"op": "renew", "lease": "a\u0000b"}' 'args.lease'
bad_lease '{"op": "renew", "lease": "x", "owner": "me"}' 'args.owner'
bad_lease '{"op": "release", "lease": "x", "force": "yes"}' 'args.force'
bad_lease '{"op": "list", "lease": "x"}' 'args.lease'
out=$(raw -x "$(mp '{"v": 1, "id": 2, "cmd": "lease", "zone": 7, "args": {"op": "list"}}')")
echo "$out" | grep -q '"code":"bad-request"' || fail "lease list of zone 7: $out"
out=$(raw -x "$(mp "{\"v\": 1, \"id\": 3, \"cmd\": \"lease\", \"args\": {\"op\": \"release\", \"lease\": \"$(printf 'x%.0s' $(seq 5000))\"}}")")
echo "$out" | grep -q '"code":"unknown-lease"' || fail "release of a 5000-byte lease id: $out"
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
