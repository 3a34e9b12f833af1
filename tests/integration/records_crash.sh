# records_crash.sh: the lifecycle log and runtime record across crashes.
# Protects: zonevisord killed with SIGKILL in the middle of an operation
# leaves a log that a new zonevisord reads whole; a torn last record (a
# crash mid-write) is ignored silently; a corrupt record in the middle is
# reported with its offset while the others still read; and a VM orphaned
# by the death of both zonevisord and its worker is found through its
# runtime record and stopped before the zone's one new VM starts.
. "$ZV_SRCDIR/tests/integration/lib.sh"

write_config
zone alpha "$(fake alpha --ignore-term)" "stop_timeout = 1s"
start_daemon
wait_for "alpha running" 10 state_is alpha running || fail "alpha did not start"
vm=$(zfield alpha pid)
worker=$(zfield alpha worker_pid)

# SIGKILL the daemon while a restart is closing the old VM.
expect_rc 0 zc restart --no-wait alpha
wait_for "alpha stopping" 5 state_is alpha stopping || fail "alpha is $(zfield alpha state)"
kill -KILL "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null
DAEMON_PID=
# The worker finishes closing the VM (it ignores SIGTERM: SIGKILL at 1s), then exits.
wait_for "old worker gone" 10 not_alive "$worker" || fail "worker $worker outlived its parent"
not_alive "$vm" || fail "VM $vm outlived its worker"
[ -z "$(leftovers)" ] || fail "left behind: $(leftovers)"
[ -e "$T/state/zones/alpha/runtime" ] && fail "runtime record kept after the VM was closed"

start_daemon
wait_for "alpha running again" 10 state_is alpha running || fail "alpha is $(zfield alpha state)"
zc --json events alpha > "$T/events.json" 2> "$T/events.err" || fail "events failed: $(cat "$T/events.err")"
[ -s "$T/events.err" ] && fail "warnings reading an intact log: $(cat "$T/events.err")"
python3 - "$T/events.json" <<'PY' || fail "the log does not tell the crash story"
import json, sys
rs = [json.loads(l) for l in open(sys.argv[1])]
kinds = [r["kind"] for r in rs]
# the restart was superseded by the worker's shutdown stop, which finished
assert any(r["kind"] == "operation-failed" and r.get("error_code") == "superseded" for r in rs), kinds
assert any(r["kind"] == "operation-finished" and r["trigger"] == "shutdown" for r in rs), kinds
# and the new daemon's autostart follows
assert rs[-1]["kind"] == "operation-finished" and rs[-1]["trigger"] == "controller-start", rs[-1]
PY
total=$(wc -l < "$T/events.json")
expect_rc 0 zc stop alpha
kill -TERM "$DAEMON_PID"; wait "$DAEMON_PID"; DAEMON_PID=

# A torn last record: cut the file inside it.  Nothing is reported.
log=$T/state/zones/alpha/lifecycle.log
truncate -s -3 "$log"
start_daemon
zc --json events alpha > "$T/events.json" 2> "$T/events.err"
[ -s "$T/events.err" ] && fail "a torn tail was reported: $(cat "$T/events.err")"
# (the new daemon added its own records after the torn one)
python3 -c '
import json, sys
rs = [json.loads(l) for l in open(sys.argv[1])]
assert all("kind" in r for r in rs)
' "$T/events.json" || fail "records after a torn tail do not read"
kill -TERM "$DAEMON_PID"; wait "$DAEMON_PID"; DAEMON_PID=

# A corrupt record in the middle: one byte of record 3's payload flipped.
off=$(python3 - "$log" <<'PY'
import struct, sys
data = bytearray(open(sys.argv[1], "rb").read())
off = 0
for _ in range(2):
    n = struct.unpack(">I", data[off:off + 4])[0]
    off += 8 + n
data[off + 12] ^= 0xff
open(sys.argv[1], "wb").write(data)
print(off)
PY
)
start_daemon
zc --json events alpha > "$T/events.json" 2> "$T/events.err" || fail "events failed on a corrupt log"
grep -q "corrupt record at offset $off in .*lifecycle.log" "$T/events.err" || fail "corruption not reported at $off: $(cat "$T/events.err")"
[ "$(wc -l < "$T/events.json")" -ge $((total - 1)) ] || fail "records lost around the corrupt one"
wait_for "alpha running" 10 state_is alpha running || fail "alpha did not start over a corrupt log"

# zonevisord and the worker both die: the VM is orphaned (to init).  The
# next zonevisord finds it through its runtime record, stops it, and only
# then starts the zone's one new VM.
vm=$(zfield alpha pid)
worker=$(zfield alpha worker_pid)
crash "$DAEMON_PID" "$worker"
wait "$DAEMON_PID" 2>/dev/null
DAEMON_PID=
alive "$vm" || fail "the orphan VM died"
start_daemon
wait_for "alpha running" 15 state_is alpha running || fail "alpha is $(zfield alpha state)"
not_alive "$vm" || fail "the leftover VM $vm was not stopped"
[ "$(vm_count alpha)" -eq 1 ] || fail "alpha has $(vm_count alpha) VMs"
[ "$(zfield alpha pid)" != "$vm" ] || fail "the leftover was adopted instead of replaced"
zc --json events alpha | python3 -c '
import json, sys
rs = [json.loads(l) for l in sys.stdin]
kinds = [r["kind"] for r in rs]
i = kinds.index("owner-unsafe-detected")
assert rs[i]["evidence"]["kind"] == "stale-runtime-record", rs[i]
assert "owner-unsafe-resolved" in kinds[i:], kinds[i:]
assert rs[-1]["kind"] == "operation-finished" and "cold-start" in rs[-1]["operation_id"], rs[-1]
' || fail "the boot resolution is not recorded"
exit 0
