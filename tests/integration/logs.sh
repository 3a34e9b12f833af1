# logs.sh: zonectl logs, the zone's console output through the control
# socket.  Protects: the last N lines (20 by default, -n N), across rotated
# files; a line without its newline yet is the last one; --json gives one
# {"zone", "line"} object per line; -f follows what the VM writes, across a
# rotation (the rest of the old file first, then the new one) and a
# truncation, and ends at --timeout with exit 0; a line longer than 8 KiB
# comes in pieces; a zone without console output gives nothing; a member of
# control_group who cannot read the state directory reads the log; bad input
# exits 2 or 4 with one line and sends nothing.
. "$ZV_SRCDIR/tests/integration/lib.sh"

if [ "$(id -u)" -eq 0 ] && getent group nogroup > /dev/null; then
	write_config "control_group = nogroup"
else
	write_config
fi
zone alpha "$(fake alpha --print hello-logs --spew 6400)" "" "[log]" \
    "max_size = 8K" "keep = 2"
zone beta "$(fake beta)" "autostart = no"
start_daemon
wait_for "alpha running" 10 state_is alpha running || fail "alpha did not start"
log=$T/state/zones/alpha/console.log
# Each start writes 102 lines (6438 bytes), which reach the worker in one
# piece or several; one start's output fits in max_size 8K, two do not, so
# whatever the pieces the next start's output rotates the file, and only
# then: three starts, three files.  (With 4K, a start whose output came in
# two pieces rotated twice, and keep = 2 dropped the first start's lines.)
# Oldest file first: a rotation while cat reads moves lines into a file
# already read (counted short, and looked at again), never into one still
# to read (counted twice, and taken for the next start's output).
spews() { [ "$(cat "$log".2 "$log".1 "$log" 2>/dev/null | grep -c spew)" -eq "$1" ]; }
wait_for "alpha's output" 10 spews 100 || fail "alpha's output is missing"
for i in 2 3; do
	expect_rc 0 zc restart alpha
	wait_for "alpha's output $i" 10 spews $((i * 100)) || fail "output of start $i missing"
done
[ -f "$log.2" ] || fail "console.log was not rotated twice"

# The last 20 lines by default, the last N with -n, oldest first, across
# the rotated files.
expect_rc 0 zc logs alpha
[ "$(wc -l < "$T/last.out")" -eq 20 ] || fail "logs gave $(wc -l < "$T/last.out") lines, not 20"
[ "$(cat "$T/last.out")" = "$(tail -n 20 "$log")" ] || fail "logs: $(head -3 "$T/last.out")"
expect_rc 0 zc logs -n 150 alpha
want=$(cat "$log.2" "$log.1" "$log" | tail -n 150)
[ "$(cat "$T/last.out")" = "$want" ] || fail "logs -n 150 differs from the files: $(diff <(echo "$want") "$T/last.out" | head -5)"
expect_rc 0 zc logs -n 1000 alpha
[ "$(wc -l < "$T/last.out")" -eq 306 ] || fail "logs -n 1000 gave $(wc -l < "$T/last.out") lines, not 306"
[ "$(grep -c 'stdout: hello-logs' "$T/last.out")" -eq 3 ] || fail "logs -n 1000 lacks a start's output"
expect_rc 0 zc logs alpha -n 3
[ "$(cat "$T/last.out")" = "$(tail -n 3 "$log")" ] || fail "logs -n 3: $(cat "$T/last.out")"
expect_rc 0 zc logs -n 0 alpha
[ -s "$T/last.out" ] && fail "logs -n 0 printed: $(cat "$T/last.out")"

# A last line without its newline is shown as the last line.
printf 'no newline yet' >> "$log"
expect_rc 0 zc logs -n 2 alpha
[ "$(tail -n 1 "$T/last.out")" = "no newline yet" ] || fail "unended line: $(cat "$T/last.out")"
echo " - ended" >> "$log"

# --json: one object per line, bytes that are not UTF-8 as U+FFFD.
printf 'tab\there "quoted" \xff\n' >> "$log"
expect_rc 0 zc --json logs -n 2 alpha
python3 - "$T/last.out" <<'PY' || fail "logs --json: $(cat "$T/last.out")"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
assert len(lines) == 2, lines
assert lines[0] == {"zone": "alpha", "line": "no newline yet - ended"}, lines[0]
assert lines[1] == {"zone": "alpha", "line": 'tab\there "quoted" \ufffd'}, lines[1]
PY

# A zone that never ran has no console log: nothing, exit 0.
expect_rc 0 zc logs beta
[ -s "$T/last.out" ] && fail "logs of a zone that never ran: $(cat "$T/last.out")"

# -f: the last line, then what comes, across a rotation and a truncation.
zc --timeout 60s logs -f -n 1 alpha > "$T/follow.out" 2> "$T/follow.err" &
follower=$!
wait_for "the follower's first line" 5 grep -q quoted "$T/follow.out" || fail "logs -f printed: $(cat "$T/follow.out" "$T/follow.err")"
echo "follow-1" >> "$log"
wait_for "follow-1" 5 grep -qx follow-1 "$T/follow.out" || fail "logs -f missed an appended line"
printf 'follow-2a' >> "$log"
mv "$log" "$log.1"		# as console.c rotates: rename, then a new file
printf -- '-2b\nfollow-3\n' >> "$log"
wait_for "follow-3" 5 grep -qx follow-3 "$T/follow.out" || fail "logs -f missed the rotation: $(cat "$T/follow.out")"
grep -qx "follow-2a-2b" "$T/follow.out" || fail "a line split by the rotation: $(cat "$T/follow.out")"
: > "$log"			# keep = 0 truncates instead
echo "follow-4" >> "$log"
wait_for "follow-4" 5 grep -qx follow-4 "$T/follow.out" || fail "logs -f missed the truncation: $(cat "$T/follow.out")"
# The VM's own output, through a restart.  The renames and the truncation
# above were the test's, not the worker's: tell it, as an external rotation
# tool would (SIGUSR1), so that it writes to the file followed.
kill -USR1 "$DAEMON_PID"
reopened() {
	local f w i
	w=$(zfield alpha worker_pid)
	i=$(stat -c %i "$log")
	for f in /proc/"$w"/fd/*; do
		[ "$(stat -L -c %i "$f" 2>/dev/null)" = "$i" ] && return 0
	done
	return 1
}
wait_for "the worker to reopen the console log" 5 reopened || fail "SIGUSR1 did not reopen the console log"
expect_rc 0 zc restart alpha
wait_for "the restarted VM's output" 5 sh -c "[ \$(grep -c 'stdout: hello-logs' '$T/follow.out') -ge 1 ]" ||
    fail "logs -f missed the VM's output: $(tail -n 3 "$T/follow.out")"
# A line of 20000 bytes comes in pieces of 8192.
head -c 20000 /dev/zero | tr '\0' x >> "$log"
echo >> "$log"
wait_for "the long line" 5 sh -c "[ \$(grep -c '^xxxx*\$' '$T/follow.out') -eq 3 ]" ||
    fail "long line: $(grep '^xxx' "$T/follow.out" | awk '{ print length }')"
[ "$(grep '^xxx' "$T/follow.out" | awk '{ print length }' | tr '\n' ' ')" = "8192 8192 3616 " ] ||
    fail "long line pieces: $(grep '^xxx' "$T/follow.out" | awk '{ print length }')"
# Nothing doubled or lost; no warnings.
[ "$(grep -c '^follow-' "$T/follow.out")" -eq 4 ] || fail "logs -f doubled or lost lines: $(grep follow "$T/follow.out")"
[ -s "$T/follow.err" ] && fail "logs -f said: $(cat "$T/follow.err")"
kill -TERM "$follower"
wait "$follower"
# -f ends at --timeout with exit 0.
s0=$(date +%s%N)
expect_rc 0 zc --timeout 1s logs -f -n 1 alpha
ms=$((($(date +%s%N) - s0) / 1000000))
[ "$ms" -ge 1000 ] && [ "$ms" -lt 5000 ] || fail "logs -f --timeout 1s took ${ms}ms"
[ "$(wc -l < "$T/last.out")" -eq 1 ] || fail "logs -f -n 1 printed: $(cat "$T/last.out")"

# A control_group member who cannot read the state directory reads the log.
if [ "$(id -u)" -eq 0 ] && getent group nogroup > /dev/null && command -v setpriv > /dev/null; then
	chmod o+x "$T" "$T/run"
	expect_rc 1 setpriv --reuid=65534 --regid=65534 --clear-groups cat "$log"
	expect_rc 0 setpriv --reuid=65534 --regid=65534 --clear-groups "$ZC" -s "$SOCK" logs -n 5 alpha
	[ "$(wc -l < "$T/last.out")" -eq 5 ] || fail "nobody got: $(cat "$T/last.out" "$T/last.err")"
fi

# Bad input: one line, a distinct exit code.
expect_rc 2 zc logs
[ "$(wc -l < "$T/last.err")" -eq 1 ] || fail "logs without a zone: $(cat "$T/last.err")"
expect_rc 2 zc logs alpha beta
expect_rc 2 zc logs -n lots alpha
[ "$(wc -l < "$T/last.err")" -eq 1 ] || fail "bad -n: $(cat "$T/last.err")"
expect_rc 2 zc logs -n 10001 alpha
expect_rc 2 zc logs -x alpha
expect_rc 2 zc logs alpha -n
expect_rc 4 zc logs no-such-zone
expect_rc 4 zc logs 'Bad/Name'
expect_rc 4 zc --json logs no-such-zone
python3 -c 'import json, sys; assert json.load(open(sys.argv[1]))["error"]["code"] == "unknown-zone"' "$T/last.out" ||
    fail "logs --json of an unknown zone: $(cat "$T/last.out")"
# The daemon refuses what zonectl would not send.
# A request as framed msgpack, in hex: {v: 1, id: 1, cmd: "logs", zone:
# "alpha", args: {n: N, follow: F}} (the values as msgpack hex bytes).
logs_req() {
	python3 -c '
import struct, sys
m = bytes.fromhex("85a17601a26964" "01a3636d64a46c6f6773a47a6f6e65a5616c706861"
    "a461726773" "82a16e" + sys.argv[1] + "a6666f6c6c6f77" + sys.argv[2])
print((struct.pack(">I", len(m)) + m).hex())' "$1" "$2"
}
for bad in "ff c2" "cd2712 c2" "01 a3796573"; do	# n -1, n 10002, follow "yes"
	out=$("$RAW" -s "$SOCK" -x "$(logs_req ${bad% *} ${bad#* })" -t 2000)
	echo "$out" | grep -q '"code":"bad-request"' || fail "logs args $bad: $out"
done
out=$("$RAW" -s "$SOCK" -x "$(logs_req 02 c2)" -t 2000)
echo "$out" | python3 -c 'import json, sys; a = json.loads(sys.stdin.readline()); assert a["ok"] and len(a["result"]["lines"]) == 2, a' ||
    fail "a raw logs request: $out"
alive "$DAEMON_PID" || fail "zonevisord died"
exit 0
