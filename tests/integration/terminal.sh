# terminal.sh: zonectl on a terminal, through script(1)'s pseudo-terminal.
# Protects: a wait for start/stop/restart shows a live progress line
# ("stopping beta... 1.2s"), redrawn and then blanked before the answer's
# line; it goes to stderr when only stderr is a terminal, and never into a
# pipe or a file, nor with --json.  State names are coloured (running green,
# failed red) only when stdout is a terminal, not with NO_COLOR set and not
# empty, not with TERM=dumb, never with --json and never when piped.
. "$ZV_SRCDIR/tests/integration/lib.sh"

command -v script > /dev/null || { echo "SKIP: no script(1)"; exit 77; }
script -qec true /dev/null < /dev/null > /dev/null 2>&1 ||
    { echo "SKIP: script(1) cannot open a pseudo-terminal"; exit 77; }

write_config
zone alpha "$(fake alpha)"
# beta ignores SIGTERM: each stop takes its stop_timeout, 1.5s.
zone beta "$(fake beta --ignore-term)" "stop_timeout = 1500ms"
zone gamma "$T/no-such-vm" "${manual[@]}"
start_daemon
both_running() { state_is alpha running && state_is beta running; }
wait_for "alpha and beta running" 10 both_running || fail "alpha/beta did not start"
wait_for "gamma failed" 10 state_is gamma failed || fail "gamma is $(zfield gamma state)"

# tty CMD: run CMD (a shell command line) on a pseudo-terminal, TERM=xterm
# and NO_COLOR unset unless CMD sets them; its output, raw, in $T/tty.out.
tty() {
	env -u NO_COLOR TERM=xterm script -qec "$1" /dev/null < /dev/null > "$T/tty.out" 2>&1
}
esc=$(printf '\033')
has_colour() { grep -q "$esc\[" "$1"; }

# Colours on a terminal: running green, failed red.
tty "$ZC -s $SOCK status" || fail "status on a tty exited $?"
grep -q "alpha  ${esc}\[32mrunning${esc}\[0m" "$T/tty.out" || fail "no green running: $(cat -v "$T/tty.out")"
grep -q "gamma  ${esc}\[31mfailed${esc}\[0m" "$T/tty.out" || fail "no red failed: $(cat -v "$T/tty.out")"
# Colour codes do not break the columns: without them, each value starts
# where its heading does.
tr -d '\r' < "$T/tty.out" | sed "s/$esc\[[0-9]*m//g" > "$T/plain.out"
python3 - "$T/plain.out" <<'PY' || fail "coloured table misaligned: $(cat "$T/plain.out")"
import sys
head, *rows = open(sys.argv[1]).read().splitlines()
assert len(rows) == 3, rows
for col in ("STATE", "PID", "UPTIME", "RESTARTS", "HEALTH", "LAST ERROR"):
    p = head.index(col)
    for r in rows:
        assert r[p - 2:p] == "  " and r[p] != " ", (col, r)
PY
# NO_COLOR (set and not empty), TERM=dumb, --json, a pipe: no colour.
tty "NO_COLOR=1 $ZC -s $SOCK status"
has_colour "$T/tty.out" && fail "colours with NO_COLOR=1: $(cat -v "$T/tty.out")"
grep -q "alpha  *running" "$T/tty.out" || fail "status with NO_COLOR: $(cat -v "$T/tty.out")"
tty "NO_COLOR= $ZC -s $SOCK status"
has_colour "$T/tty.out" || fail "an empty NO_COLOR turned colours off"
tty "TERM=dumb $ZC -s $SOCK status"
has_colour "$T/tty.out" && fail "colours with TERM=dumb: $(cat -v "$T/tty.out")"
tty "$ZC -s $SOCK --json status"
has_colour "$T/tty.out" && fail "colours with --json: $(cat -v "$T/tty.out")"
tty "$ZC -s $SOCK status | cat"
has_colour "$T/tty.out" && fail "colours into a pipe: $(cat -v "$T/tty.out")"
zc status > "$T/piped.out"
has_colour "$T/piped.out" && fail "colours without a terminal: $(cat -v "$T/piped.out")"

# Progress: a stop of beta takes 1.5s.  The line is drawn, redrawn with
# the time going up, then blanked; the answer's line comes last.
tty "$ZC -s $SOCK stop beta" || fail "stop on a tty exited $?"
tr '\r' '\n' < "$T/tty.out" > "$T/frames"
grep -q "^stopping beta\.\.\. 0\.[2-9]s" "$T/frames" || fail "no early progress: $(cat -v "$T/tty.out")"
grep -q "^stopping beta\.\.\. 1\.[0-9]s" "$T/frames" || fail "progress did not count up: $(cat -v "$T/tty.out")"
[ "$(grep -c '^stopping beta' "$T/frames")" -ge 5 ] || fail "progress redrawn $(grep -c '^stopping beta' "$T/frames") times"
grep -q "^ *$" "$T/frames" || fail "progress not blanked: $(cat -v "$T/tty.out")"
last=$(grep -v '^ *$' "$T/frames" | tail -n 1)
[ "$last" = "beta: stopped" ] || fail "the last line is '$last': $(cat -v "$T/tty.out")"
# Several zones: the first still waited for, and how many more.
tty "$ZC -s $SOCK start beta alpha gamma"
tr '\r' '\n' < "$T/tty.out" > "$T/frames"
grep -q "beta: ${esc}\[32mrunning${esc}\[0m (pid [0-9]*)" "$T/tty.out" || fail "start's line: $(cat -v "$T/tty.out")"
tty "$ZC -s $SOCK restart beta alpha"
tr '\r' '\n' < "$T/tty.out" > "$T/frames"
grep -q "^restarting beta\.\.\. [0-9.]*s" "$T/frames" || fail "restart progress: $(cat -v "$T/tty.out")"
grep -q "^restarting beta and 1 more\.\.\." "$T/frames" || grep -q "^alpha: " "$T/frames" ||
    fail "restart of two zones: $(cat -v "$T/tty.out")"
# stdout into a file, stderr on the terminal: progress there, not in the file.
tty "$ZC -s $SOCK stop beta > $T/stop.out"
grep -q "stopping beta\.\.\." "$T/tty.out" || fail "no progress on stderr: $(cat -v "$T/tty.out")"
[ "$(cat "$T/stop.out")" = "beta: stopped" ] || fail "stdout in a file: $(cat -v "$T/stop.out")"
# No terminal, or --json: no progress at all.
expect_rc 0 zc start beta
expect_rc 0 zc stop beta
[ "$(cat "$T/last.out")" = "beta: stopped" ] || fail "stop without a tty printed: $(cat -v "$T/last.out")"
[ -s "$T/last.err" ] && fail "stop without a tty said: $(cat -v "$T/last.err")"
expect_rc 0 zc start beta
tty "$ZC -s $SOCK --json stop beta"
grep -q "stopping" "$T/tty.out" && fail "progress with --json: $(cat -v "$T/tty.out")"
python3 -c 'import json, sys; json.loads(open(sys.argv[1]).read())' "$T/tty.out" ||
    fail "stop --json on a tty: $(cat -v "$T/tty.out")"
# --no-wait waits for nothing: no progress.
tty "$ZC -s $SOCK start --no-wait beta"
grep -q "starting beta\.\.\." "$T/tty.out" && fail "progress with --no-wait: $(cat -v "$T/tty.out")"
exit 0
