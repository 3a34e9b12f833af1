# lib.sh: what every integration test shares.  Each test gets a private
# directory from mktemp -d holding its configuration, state, control socket
# and daemon log, runs its own zonevisord there, polls with bounded waits
# instead of bare sleeps, and on exit ends exactly the processes it started:
# its daemon by pid, then any process whose command line names the private
# directory (a leftover VM), which also fails the test.
set -u

BUILD=${ZV_BUILDDIR:?run through make check}
SRC=${ZV_SRCDIR:?run through make check}
ZVD=$BUILD/zonevisord
ZC=$BUILD/zonectl
FAKE=$BUILD/tests/fake-vm
RAW=$BUILD/tests/rawclient
VMWATCH=$BUILD/tests/vmwatch
VMWATCH_PID=
T=$(mktemp -d /tmp/zv-test.XXXXXX)
SOCK=$T/run/control.sock
DAEMON_PID=
TEST_NAME=$(basename "$0" .sh)

# Print the daemon log, then fail the test.
fail() {
	echo "FAIL: $TEST_NAME: $*" >&2
	if [ -f "$T/daemon.log" ]; then
		echo "--- last lines of the daemon log:" >&2
		tail -n 60 "$T/daemon.log" >&2
	fi
	exit 1
}

# Pids of processes whose command line mentions the private directory.
leftovers() {
	local p cmd
	for p in /proc/[0-9]*; do
		p=${p#/proc/}
		[ "$p" = "$$" ] && continue
		cmd=$( { tr '\0' ' ' < "/proc/$p/cmdline"; } 2>/dev/null) || continue
		case "$cmd" in
		*"$T"*) echo "$p" ;;
		esac
	done
}

# 0 if pid is alive (and not a zombie).
alive() {
	local state
	state=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$1/status" 2>/dev/null) || return 1
	[ -n "$state" ] && [ "$state" != Z ]
}

cleanup() {
	local rc=$? p left
	if [ -n "$VMWATCH_PID" ]; then
		kill -TERM "$VMWATCH_PID" 2>/dev/null
		wait "$VMWATCH_PID" 2>/dev/null
	fi
	if [ -n "$DAEMON_PID" ] && alive "$DAEMON_PID"; then
		kill -TERM "$DAEMON_PID" 2>/dev/null
		wait_for "daemon exit at cleanup" 20 not_alive "$DAEMON_PID" || true
	fi
	left=$(leftovers)
	if [ -n "$left" ]; then
		# One that ends on its own within a moment was still exiting
		# (a sanitizer's leak checker runs a helper at exit): only
		# what stays is left behind.
		wait_for "processes still exiting" 2 no_leftovers || true
		left=$(leftovers)
	fi
	if [ -n "$left" ]; then
		for p in $left; do
			echo "leftover process $p: $( { tr '\0' ' ' < "/proc/$p/cmdline"; } 2>/dev/null)" >&2
			kill -KILL "$p" 2>/dev/null
		done
		[ $rc -eq 0 ] && rc=1
		echo "FAIL: $TEST_NAME: processes left behind" >&2
	fi
	rm -rf "$T"
	exit $rc
}
trap cleanup EXIT

not_alive() { ! alive "$1"; }
no_leftovers() { [ -z "$(leftovers)" ]; }

# wait_for DESCRIPTION SECONDS COMMAND...: poll every 50 ms.
wait_for() {
	local what=$1 secs=$2 i=0 n
	shift 2
	n=$((secs * 20))
	while [ $i -lt $n ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.05
		i=$((i + 1))
	done
	echo "timed out after ${secs}s waiting for: $what" >&2
	return 1
}

# write_config [extra [supervisor] lines...]
write_config() {
	mkdir -p "$T/zones.d"
	{
		echo "[supervisor]"
		echo "state_dir = $T/state"
		echo "runtime_dir = $T/run"
		echo "zones_dir = $T/zones.d"
		case "$*" in
		*shutdown_timeout*) ;;
		*) echo "shutdown_timeout = 10s" ;;
		esac
		for l in "$@"; do echo "$l"; done
	} > "$T/zonevisor.conf"
}

# zone NAME COMMAND [extra [gateway] lines...]
zone() {
	local name=$1 cmd=$2
	shift 2
	{
		echo "[gateway]"
		echo "command = $cmd"
		case "$*" in
		*stop_timeout*) ;;
		*) echo "stop_timeout = 5s" ;;
		esac
		for l in "$@"; do echo "$l"; done
	} > "$T/zones.d/$name.conf"
}

# Extra zone lines that keep the recovery policy from acting for an hour,
# for tests that look at a failed zone: zone NAME CMD "${manual[@]}".
manual=("" "[recovery]" "restart_delay = 1h" "restart_delay_max = 1h")

# A fake VM command line that marks itself with the zone name and records
# its starts in $T/NAME.starts.
fake() {
	local name=$1
	shift
	echo "$FAKE --marker $name --start-file $T/$name.starts $*"
}

daemon_up() { test -S "$SOCK" || ! alive "$DAEMON_PID"; }

start_daemon() {
	"$ZVD" -d -f "$T/zonevisor.conf" "$@" > "$T/daemon.log" 2>&1 &
	DAEMON_PID=$!
	wait_for "control socket" 10 daemon_up && test -S "$SOCK" ||
	    fail "zonevisord did not start"
}

zc() { "$ZC" -s "$SOCK" "$@"; }

# json EXPR: evaluate a Python expression over d = zonectl --json status.
json() {
	zc --json status | python3 -c '
import json, sys
d = json.load(sys.stdin)
z = {x["name"]: x for x in d["zones"]}
v = eval(sys.argv[1])
print(json.dumps(v) if not isinstance(v, str) else v)' "$1"
}

# zfield ZONE KEY: one field of a zone's status.
zfield() { json "z['$1']['$2']"; }

state_is() { [ "$(zfield "$1" state)" = "$2" ]; }

# Pids of live fake VMs marked with zone NAME.
vm_pids() {
	local p cmd
	for p in $(leftovers); do
		alive "$p" || continue
		cmd=$( { tr '\0' ' ' < "/proc/$p/cmdline"; } 2>/dev/null) || continue
		case "$cmd" in
		*"--marker $1 "*) echo "$p" ;;
		esac
	done
}

vm_count() { vm_pids "$1" | wc -l; }

# watch_vms ZONE...: from now on, a checker scans /proc every few ms and
# notes any moment when two VMs of one of these zones are alive at once.
watch_vms() {
	"$VMWATCH" -o "$T/vmwatch.out" -d "$T" "$@" &
	VMWATCH_PID=$!
}

# check_vms: stop the checker; fail if it ever saw two VMs of one zone.
check_vms() {
	kill -TERM "$VMWATCH_PID"
	wait "$VMWATCH_PID"
	VMWATCH_PID=
	[ -s "$T/vmwatch.out" ] && fail "two VMs of one zone were alive at once: $(head -n 3 "$T/vmwatch.out")"
	return 0
}

# write_runtime ZONE PID START_TIME [OTHER_ZONE]: a runtime record in the
# zone's directory as an earlier zonevisord would have left it.
write_runtime() {
	mkdir -p "$T/state/zones/$1"
	python3 - "$T/state/zones/$1/runtime" "${4:-$1}" "$T/state" "$2" "$3" <<'PY'
import sys
def enc(v):
    if isinstance(v, int):
        return bytes([0xcf]) + v.to_bytes(8, "big")
    b = v.encode()
    return (bytes([0xa0 | len(b)]) if len(b) < 32 else bytes([0xd9, len(b)])) + b
path, zone, state, pid, start = sys.argv[1:6]
boot = open("/proc/sys/kernel/random/boot_id").read().strip()
fields = [("version", 1), ("zone", zone), ("state_dir", state), ("boot_id", boot),
          ("vm_pid", int(pid)), ("vm_start_time", int(start)), ("command_digest", "0"),
          ("worker_pid", 1), ("supervisor_pid", 1), ("operation_id", zone + "-start-earlier"),
          ("generation", 0), ("written_at", 0)]
out = bytes([0x80 | len(fields)]) + b"".join(enc(k) + enc(v) for k, v in fields)
open(path, "wb").write(out)
PY
}

# crash DAEMON WORKER...: kill zonevisord and workers as one crash would,
# none able to react to the others' deaths: the daemon is stopped first (so
# it cannot adopt and stop the VMs), the workers are killed, then the
# daemon.  (Stopping the workers too would not do: when the daemon dies,
# the kernel sends SIGHUP and SIGCONT to their orphaned, stopped groups.)
crash() {
	local daemon=$1
	shift
	kill -STOP "$daemon"
	kill -KILL "$@"
	kill -KILL "$daemon"
}

# The start time of a process (field 22 of /proc/PID/stat).
start_time() { sed 's/.*) //' "/proc/$1/stat" | cut -d' ' -f20; }

# The CPU time a process has used, user and system, in clock ticks
# (fields 14 and 15 of /proc/PID/stat): a spinning loop shows up here.
cpu_ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }

# spawn_backs_off ZONE ERRNO WORKER: the zone's VM spawn fails, its error
# naming ERRNO, and the recovery policy backs off: 1 to 8 attempts in 3 s,
# at most 30 ticks of the worker's CPU, and no VM meanwhile.
spawn_attempts() { grep -c "zone $1: operation .* failed: vm-spawn-failed" "$T/daemon.log"; }
spawn_has_failed() { [ "$(spawn_attempts "$1")" -ge 1 ]; }
spawn_backs_off() {
	local z=$1 errno=$2 worker=$3 n0 t0 n used
	wait_for "$z's spawn failing" 10 spawn_has_failed "$z" ||
	    fail "$z is $(zfield "$z" state): $(zfield "$z" last_error)"
	case "$(zfield "$z" last_error)" in
	*vm-spawn-failed*"$errno"*) ;;
	*) fail "$z's last error: $(zfield "$z" last_error)" ;;
	esac
	n0=$(spawn_attempts "$z")
	t0=$(cpu_ticks "$worker")
	sleep 3
	n=$(( $(spawn_attempts "$z") - n0 ))
	used=$(( $(cpu_ticks "$worker") - t0 ))
	[ "$n" -ge 1 ] && [ "$n" -le 8 ] || fail "$n spawn attempts in 3s: the recovery does not back off"
	[ "$used" -le 30 ] || fail "$z's worker used $used ticks of CPU in 3s: it spins"
	[ "$(vm_count "$z")" -eq 0 ] || fail "$z has $(vm_count "$z") VMs though no spawn worked"
}

# zone_up ZONE: the zone runs a VM.
zone_up() { local p; p=$(zfield "$1" pid); [ "$p" != null ] && state_is "$1" running; }

# mount_state_tmpfs: the test's state directory ($T/state, STATE) becomes a
# 4 MiB tmpfs, or the test is skipped where none can be mounted.  At exit,
# before_unmount (if the test defines one) runs, the daemon is stopped (it
# holds files there), the tmpfs unmounted, then lib.sh's cleanup removes $T.
mount_state_tmpfs() {
	STATE=$T/state
	mkdir -p "$STATE"
	if ! mount -t tmpfs -o size=4m,mode=0755 tmpfs "$STATE" 2> "$T/mount.err"; then
		echo "SKIP: $TEST_NAME: cannot mount a tmpfs as the state directory:" \
		    "$(cat "$T/mount.err")" >&2
		exit 77
	fi
	trap unmount_state EXIT
}
unmount_state() {
	local rc=$?
	if declare -F before_unmount > /dev/null; then
		before_unmount
	fi
	if [ -n "$DAEMON_PID" ] && alive "$DAEMON_PID"; then
		kill -TERM "$DAEMON_PID"
		wait_for "daemon exit" 20 not_alive "$DAEMON_PID" || true
	fi
	umount "$STATE" 2>/dev/null || umount -l "$STATE"
	(exit $rc)
	cleanup
}

# diag ZONE EXPR: evaluate a Python expression over d = zonectl --json
# diagnose ZONE.
diag() {
	zc --json diagnose "$1" | python3 -c '
import json, sys
d = json.load(sys.stdin)
v = eval(sys.argv[1])
print(json.dumps(v) if not isinstance(v, str) else v)' "$2"
}

# A TCP port nobody listens on now.
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# expect_rc WANT COMMAND...: run it, compare its exit code.
expect_rc() {
	local want=$1 got
	shift
	"$@" > "$T/last.out" 2> "$T/last.err"
	got=$?
	[ "$got" -eq "$want" ] || fail "'$*' exited $got, expected $want; stderr: $(cat "$T/last.err")"
}
