# notify.sh: zonevisord under a service manager (systemd's Type=notify).  A
# listener stands in for systemd on a private NOTIFY_SOCKET.  Protects:
# READY=1 comes once the control socket is bound and the autostart zones
# have been launched, with MAINPID and a STATUS line of zone counts; the
# STATUS line follows the counts; WATCHDOG=1 comes at half WATCHDOG_USEC
# (and never when WATCHDOG_PID names another process); a reload by SIGHUP
# is framed by RELOADING=1 (with MONOTONIC_USEC) and READY=1, a refused one
# too; SIGTERM sends STOPPING=1; no VM inherits NOTIFY_SOCKET.  Without
# NOTIFY_SOCKET zonevisord runs as before (every other test).
. "$ZV_SRCDIR/tests/integration/lib.sh"

NOTIFY=$T/notify.sock
# The listener: each datagram on one line of notify.log (newlines as |),
# each READY=1 noting whether the control socket existed as it arrived.
python3 - "$NOTIFY" "$T/notify.log" "$SOCK" <<'PY' &
import os, socket, sys, time
path, log, ctl = sys.argv[1:4]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
s.settimeout(60)
with open(log, "a", buffering=1) as f:
    while True:
        try:
            msg = s.recv(4096).decode()
        except socket.timeout:
            break
        extra = ""
        if "READY=1" in msg:
            extra = "|control-socket=%s" % os.path.exists(ctl)
        f.write("%.3f %s%s\n" % (time.monotonic(), msg.strip().replace("\n", "|"), extra))
PY
LISTENER=$!
trap 'rc=$?; kill $LISTENER 2>/dev/null; (exit $rc); cleanup' EXIT
wait_for "the listener" 5 test -S "$NOTIFY" || fail "no notify listener"

write_config
zone alpha "$(fake alpha)"
zone beta "$(fake beta)"
zone gamma "$(fake gamma)" "autostart = no"
# A VM that prints its environment: NOTIFY_SOCKET must not reach it.
zone envy "/usr/bin/env" "stop_timeout = 1s" "[recovery]" "restart_delay = 1h" "restart_delay_max = 1h"
NOTIFY_SOCKET=$NOTIFY WATCHDOG_USEC=200000 start_daemon

got() { grep -q -- "$1" "$T/notify.log" 2>/dev/null; }
count() { grep -c -- "$1" "$T/notify.log" 2>/dev/null; }
more_than() { [ "$(count "$1")" -gt "$2" ]; }
wait_for "READY=1" 10 got "READY=1" || fail "no READY=1: $(cat "$T/notify.log")"
ready=$(grep -m1 "READY=1" "$T/notify.log")
case "$ready" in
*"control-socket=True"*) ;;
*) fail "READY=1 before the control socket was bound: $ready" ;;
esac
case "$ready" in
*"MAINPID=$DAEMON_PID"*) ;;
*) fail "READY=1 without MAINPID=$DAEMON_PID: $ready" ;;
esac
case "$ready" in
*"STATUS=4 zones:"*) ;;
*) fail "READY=1 without the zone counts: $ready" ;;
esac
# The autostart zones were launched: their start was asked before READY.
wait_for "alpha running" 10 state_is alpha running || fail "alpha is $(zfield alpha state)"
grep -q "zone alpha: operation alpha-start-.*controller-start" "$T/daemon.log" ||
    fail "alpha was not started at boot"

# STATUS follows the counts.
wait_for "status with 2 running" 10 got "STATUS=4 zones: 2 running" ||
    fail "no STATUS line with 2 running: $(grep STATUS "$T/notify.log")"
expect_rc 0 zc start gamma
wait_for "status with 3 running" 10 got "STATUS=4 zones: 3 running" ||
    fail "STATUS did not follow gamma's start: $(grep STATUS "$T/notify.log" | tail -n 3)"

# WATCHDOG=1 at half of 200 ms: about 10 in 1 s.
n0=$(count "WATCHDOG=1")
sleep 1
n1=$(count "WATCHDOG=1")
[ $((n1 - n0)) -ge 5 ] && [ $((n1 - n0)) -le 15 ] ||
    fail "$((n1 - n0)) WATCHDOG=1 in 1 s at WATCHDOG_USEC=200000"

# Reload: RELOADING=1 then READY=1; a refused reload too.
r0=$(count "READY=1")
kill -HUP "$DAEMON_PID"
wait_for "READY=1 after the reload" 10 more_than READY=1 "$r0" ||
    fail "no READY=1 after SIGHUP"
tail -n 5 "$T/notify.log" | grep -q "RELOADING=1|MONOTONIC_USEC=[0-9]" ||
    fail "no RELOADING=1 with MONOTONIC_USEC: $(tail -n 5 "$T/notify.log")"
cp "$T/zones.d/beta.conf" "$T/beta.good"
printf '[gateway]\nstop_timeout = banana\n' >> "$T/zones.d/beta.conf"
r1=$(count "READY=1")
kill -HUP "$DAEMON_PID"
wait_for "READY=1 after the refused reload" 10 more_than READY=1 "$r1" ||
    fail "no READY=1 after a refused reload"
got "READY=1|STATUS=reload refused" || fail "a refused reload not said: $(tail -n 3 "$T/notify.log")"
cp "$T/beta.good" "$T/zones.d/beta.conf"

# No VM inherits NOTIFY_SOCKET or WATCHDOG_*.
grep -q "NOTIFY_SOCKET\|WATCHDOG_" "$T/state/zones/envy/console.log" &&
    fail "a VM inherited the notify variables"
grep -q "ZONEVISOR_ZONE=envy" "$T/state/zones/envy/console.log" ||
    fail "envy's environment was not captured: $(head -n 3 "$T/state/zones/envy/console.log")"

# SIGTERM: STOPPING=1, then the daemon exits 0.
kill -TERM "$DAEMON_PID"
wait_for "STOPPING=1" 10 got "STOPPING=1" || fail "no STOPPING=1"
wait "$DAEMON_PID" || fail "zonevisord exited $? on SIGTERM"
DAEMON_PID=

# The unit file is one systemd takes (where systemd-analyze is installed).
if command -v systemd-analyze >/dev/null; then
	sed -e "s|@sbindir@|$BUILD|g" \
	    -e "s|@sysconfdir@/zonevisor/zonevisor.conf|$T/zonevisor.conf|g" \
	    "$SRC/etc/zonevisord.service.in" > "$T/zonevisord.service"
	out=$(systemd-analyze verify "$T/zonevisord.service" 2>&1 | grep -v "Command 'man ")
	[ -z "$out" ] || fail "systemd-analyze verify zonevisord.service: $out"
else
	echo "systemd-analyze missing: the unit file is not verified"
fi

# WATCHDOG_PID naming another process: no watchdog pings.
: > "$T/notify.log"
NOTIFY_SOCKET=$NOTIFY WATCHDOG_USEC=100000 WATCHDOG_PID=1 start_daemon
wait_for "READY=1 again" 10 got "READY=1" || fail "no READY=1 on the second start"
sleep 0.5
[ "$(count WATCHDOG=1)" -eq 0 ] || fail "watchdog pings for WATCHDOG_PID=1"
exit 0
