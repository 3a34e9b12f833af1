#!/usr/bin/python3
"""protocol_client.py: a zonevisor control client in Python, written from
docs/PROTOCOL.md alone (not from the C sources), and a check of that page
against a real zonevisord: every field and behaviour asserted here is one
the page promises.  tests/integration/protocol_python.sh starts the daemon
with the zones this expects and runs it:

    protocol_client.py --socket PATH --daemon-pid PID

Zones expected: alpha (running, no probe, no [tool-vm]), beta (autostart =
no), broken (a command that does not exist, recovery held off for an hour)
and tools (running, with [tool-vm] max_leases = 2).  Exits 0 when every
check passed, 1 on the first failure, 77 when the msgpack module is missing.
Every read has a deadline."""

import argparse
import os
import socket
import struct
import sys
import time

try:
    import msgpack
except ImportError:
    sys.stderr.write("protocol_client.py: the Python msgpack module is missing "
                     "(Debian: apt-get install python3-msgpack)\n")
    sys.exit(77)

FRAME_MAX = 1024 * 1024


class Closed(Exception):
    """The daemon closed the connection (end of file or ECONNRESET)."""


class Client:
    """One connection: frames of a 4-byte big-endian length and one msgpack
    object; requests {v, id, cmd, zone?, args?}."""

    def __init__(self, path, timeout=10.0):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.buf = b""
        self.next_id = 1

    def close(self):
        self.sock.close()

    def send_raw(self, data):
        self.sock.sendall(data)

    def send_obj(self, obj):
        payload = msgpack.packb(obj, use_bin_type=True)
        self.send_raw(struct.pack(">I", len(payload)) + payload)

    def request(self, cmd, zone=None, args=None, rid=None, v=1):
        """Send a request; returns its id (a fresh integer unless given)."""
        if rid is None:
            rid = self.next_id
            self.next_id += 1
        req = {"v": v, "id": rid, "cmd": cmd}
        if zone is not None:
            req["zone"] = zone
        if args is not None:
            req["args"] = args
        self.send_obj(req)
        return rid

    def _fill(self, n, deadline):
        while len(self.buf) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no answer in time")
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except ConnectionResetError:
                raise Closed("connection reset")
            if not chunk:
                raise Closed("end of file")
            self.buf += chunk

    def recv(self, timeout=10.0):
        """The next answer frame, decoded; Closed if the daemon closed."""
        deadline = time.monotonic() + timeout
        self._fill(4, deadline)
        (n,) = struct.unpack(">I", self.buf[:4])
        self._fill(4 + n, deadline)
        payload, self.buf = self.buf[4:4 + n], self.buf[4 + n:]
        return msgpack.unpackb(payload, raw=False, strict_map_key=False)

    def call(self, cmd, zone=None, args=None, timeout=30.0):
        """Send one request and read its one answer."""
        rid = self.request(cmd, zone, args)
        ans = self.recv(timeout)
        check(ans.get("id") == rid, "answer id %r for request %r" % (ans.get("id"), rid))
        return ans


# --- checks --------------------------------------------------------------

def check(cond, what):
    if not cond:
        sys.stderr.write("FAIL: %s\n" % what)
        sys.exit(1)


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def is_time(v):
    return is_int(v) and v > 1.6e12     # ms since the epoch


def int_or_nil(v):
    return v is None or is_int(v)


def str_or_nil(v):
    return v is None or isinstance(v, str)


def answer_shape(ans, what):
    """Every answer: id, ok, and exactly one of result or error."""
    check(isinstance(ans, dict), "%s: answer is a map" % what)
    check("id" in ans and isinstance(ans.get("ok"), bool), "%s: id and ok" % what)
    if ans["ok"]:
        check("result" in ans and "error" not in ans, "%s: result, no error" % what)
    else:
        check("error" in ans and "result" not in ans, "%s: error, no result" % what)
        err = ans["error"]
        check(isinstance(err.get("code"), str) and isinstance(err.get("message"), str),
              "%s: error {code, message}" % what)


def ok(ans, what):
    answer_shape(ans, what)
    check(ans["ok"], "%s: not ok: %r" % (what, ans.get("error")))
    return ans["result"]


def err(ans, code, what):
    answer_shape(ans, what)
    check(not ans["ok"], "%s: ok, expected %s" % (what, code))
    check(ans["error"]["code"] == code, "%s: code %r, expected %r (%s)" %
          (what, ans["error"]["code"], code, ans["error"]["message"]))
    return ans["error"]


def keys(m, want, what):
    check(isinstance(m, dict), "%s is a map: %r" % (what, m))
    for k in want:
        check(k in m, "%s lacks %s: %r" % (what, k, sorted(m)))


def pid_alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def wait_until(what, secs, cond):
    end = time.monotonic() + secs
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(0.05)
    check(False, "timed out after %ss waiting for %s" % (secs, what))


STATES = {"stopped", "starting", "running", "running-degraded", "stopping",
          "restarting", "failed", "owner-unsafe"}


def check_recovery(r, what):
    keys(r, ["state", "next_attempt_in_ms", "suspended_until", "consecutive_failures",
             "failed_recoveries", "suspensions"], what)
    check(r["state"] in {"idle", "scheduled", "in-flight", "verifying", "suspended"},
          what + ".state")
    check(int_or_nil(r["next_attempt_in_ms"]) and int_or_nil(r["suspended_until"]),
          what + " times")
    for k in ["consecutive_failures", "failed_recoveries", "suspensions"]:
        check(is_int(r[k]), "%s.%s" % (what, k))


def check_persistence(p, what):
    keys(p, ["state", "since", "cause", "records_lost"], what)
    check(p["state"] in {"ok", "degraded"}, what + ".state")
    check(int_or_nil(p["since"]) and str_or_nil(p["cause"]) and is_int(p["records_lost"]),
          what + " fields")


def check_zone_status(z, what):
    keys(z, ["name", "state", "desired", "pid", "since", "uptime_s", "restarts", "health",
             "probe", "cold_start_eligible", "last_error", "last_exit", "evidence",
             "recovery", "persistence", "leases", "operation_id", "generation",
             "worker_pid", "ingress_port"], what)
    check(isinstance(z["name"], str), what + ".name")
    check(z["state"] in STATES, what + ".state %r" % z["state"])
    check(z["desired"] in {"running", "stopped"}, what + ".desired")
    check(int_or_nil(z["pid"]), what + ".pid")
    check(is_time(z["since"]), what + ".since")
    check(int_or_nil(z["uptime_s"]), what + ".uptime_s")
    check(is_int(z["restarts"]), what + ".restarts")
    check(z["health"] in {"none", "unknown", "ok", "failing"}, what + ".health")
    check(z["probe"] is None or isinstance(z["probe"], dict), what + ".probe")
    check(isinstance(z["cold_start_eligible"], bool), what + ".cold_start_eligible")
    if z["last_error"] is not None:
        keys(z["last_error"], ["code", "message"], what + ".last_error")
    if z["last_exit"] is not None:
        keys(z["last_exit"], ["code", "signal"], what + ".last_exit")
        check(int_or_nil(z["last_exit"]["code"]) and str_or_nil(z["last_exit"]["signal"]),
              what + ".last_exit fields")
    if z["evidence"] is not None:
        keys(z["evidence"], ["kind", "detail"], what + ".evidence")
    check_recovery(z["recovery"], what + ".recovery")
    check_persistence(z["persistence"], what + ".persistence")
    check(is_int(z["leases"]), what + ".leases")
    check(str_or_nil(z["operation_id"]), what + ".operation_id")
    check(is_int(z["generation"]), what + ".generation")
    check(int_or_nil(z["worker_pid"]) and int_or_nil(z["ingress_port"]), what + " pids/port")
    if z["state"] in ("running", "running-degraded"):
        check(is_int(z["pid"]) and is_int(z["uptime_s"]), what + ": running with pid, uptime")
    else:
        check(z["uptime_s"] is None, what + ": uptime_s nil when not running")


RECORD_KINDS = {
    "start-requested", "stop-requested", "restart-requested", "cold-start-requested",
    "credentials-refresh-requested", "vm-spawned", "vm-exited", "vm-close-started",
    "vm-close-finished", "runtime-record-written", "runtime-record-deleted",
    "owner-unsafe-detected", "owner-unsafe-resolved", "recovery-scheduled",
    "recovery-suspended", "operation-finished", "operation-failed", "lease-acquired",
    "lease-renewed", "lease-expired", "lease-released", "lease-quarantined", "records-lost"}


def check_record(r, zone, what):
    keys(r, ["zone", "kind", "observed_at", "operation_id", "trigger", "supervisor_pid",
             "generation"], what)
    check(r["zone"] == zone, what + ".zone")
    check(r["kind"] in RECORD_KINDS, what + ".kind %r" % r["kind"])
    check(is_time(r["observed_at"]), what + ".observed_at")
    check(isinstance(r["operation_id"], str), what + ".operation_id")
    check(str_or_nil(r["trigger"]), what + ".trigger")
    check(is_int(r["supervisor_pid"]) and is_int(r["generation"]), what + " ints")
    for k in ("previous_vm", "current_vm"):
        if k in r:
            keys(r[k], ["pid", "start_time"], "%s.%s" % (what, k))


def check_events_result(res, zone, what):
    keys(res, ["records", "problems"], what)
    check(isinstance(res["records"], list) and isinstance(res["problems"], list), what + " lists")
    for i, r in enumerate(res["records"]):
        check_record(r, zone, "%s.records[%d]" % (what, i))
    return res["records"]


def check_lease(l, zone, what):
    keys(l, ["id", "zone", "slot", "port", "state", "pid", "owner", "acquired_at",
             "renewed_at", "expires_at", "ttl_ms"], what)
    check(isinstance(l["id"], str) and len(l["id"]) == 36, what + ".id is a uuid")
    check(l["zone"] == zone, what + ".zone")
    check(is_int(l["slot"]) and is_int(l["port"]), what + " slot/port")
    check(l["state"] in {"active", "releasing", "killing", "quarantined"}, what + ".state")
    check(int_or_nil(l["pid"]) and str_or_nil(l["owner"]), what + " pid/owner")
    check(is_time(l["acquired_at"]) and is_time(l["expires_at"]), what + " times")
    check(l["renewed_at"] is None or is_time(l["renewed_at"]), what + ".renewed_at")
    check(is_int(l["ttl_ms"]), what + ".ttl_ms")


# --- the scenario --------------------------------------------------------

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--socket", required=True)
    ap.add_argument("--daemon-pid", type=int, required=True)
    a = ap.parse_args()
    path = a.socket
    c = Client(path)

    # version
    res = ok(c.call("version"), "version")
    check(isinstance(res.get("version"), str) and res["version"], "version.version")
    check(res.get("protocol") == 1, "version.protocol is 1")

    # An answer without an id carries id nil; a string id is echoed.
    c.send_obj({"v": 1, "cmd": "version"})
    ans = c.recv()
    check(ans["id"] is None and ans["ok"], "a request without id is answered with id nil")
    c.request("version", rid="my-id-1")
    check(c.recv()["id"] == "my-id-1", "a string id is echoed")

    # status: supervisor and every documented zone field, with its type.
    res = ok(c.call("status"), "status")
    keys(res, ["supervisor", "zones"], "status result")
    s = res["supervisor"]
    keys(s, ["pid", "version", "protocol", "started_at", "uptime_s", "config", "zones",
             "shutting_down", "reloading", "last_reload"], "supervisor")
    check(s["pid"] == a.daemon_pid, "supervisor.pid %r" % s["pid"])
    check(s["protocol"] == 1 and isinstance(s["version"], str), "supervisor version")
    check(is_time(s["started_at"]) and is_int(s["uptime_s"]), "supervisor times")
    check(isinstance(s["config"], str) and s["zones"] == 4, "supervisor config, zones")
    check(s["shutting_down"] is False and s["reloading"] is False, "supervisor flags")
    check(s["last_reload"] is None, "no reload yet")
    names = [z["name"] for z in res["zones"]]
    check(names == ["alpha", "beta", "broken", "tools"], "zones in name order: %r" % names)
    for z in res["zones"]:
        check_zone_status(z, "status." + z["name"])
    zs = {z["name"]: z for z in res["zones"]}
    check(zs["alpha"]["state"] == "running" and zs["alpha"]["desired"] == "running",
          "alpha running")
    check(pid_alive(zs["alpha"]["pid"]), "alpha's pid is alive")
    check(zs["alpha"]["probe"] is None and zs["alpha"]["health"] == "none", "alpha no probe")
    check(zs["beta"]["state"] == "stopped" and zs["beta"]["pid"] is None, "beta stopped")
    check(zs["broken"]["state"] == "failed", "broken failed")
    check(zs["broken"]["last_error"]["code"] == "vm-spawn-failed", "broken's last_error")

    # status of one zone, and of several in the order asked
    res = ok(c.call("status", zone="beta"), "status beta")
    check([z["name"] for z in res["zones"]] == ["beta"], "status zone=beta")
    res = ok(c.call("status", args={"zones": ["tools", "alpha"]}), "status zones")
    check([z["name"] for z in res["zones"]] == ["tools", "alpha"], "args.zones order")
    res = ok(c.call("status", args={"zones": None}), "status zones nil")
    check(len(res["zones"]) == len(zs), "args.zones nil counts as absent")

    # start beta (wait nil is the default, true): the answer comes once it runs
    alpha_pid = zs["alpha"]["pid"]
    res = ok(c.call("start", zone="beta", args={"wait": None}), "start beta")
    keys(res, ["zone", "operation_id", "state", "pid", "message"], "start result")
    check(res["zone"] == "beta" and res["operation_id"].startswith("beta-start-"),
          "start operation id %r" % res["operation_id"])
    check(res["state"] == "running" and is_int(res["pid"]) and pid_alive(res["pid"]),
          "start answered after beta runs: %r" % res)
    beta_pid = res["pid"]
    res = ok(c.call("start", zone="beta"), "start beta again")
    check(res["message"].startswith("already"), "start of a running zone: %r" % res["message"])

    # restart beta: a new VM, the old one gone, by the time of the answer
    res = ok(c.call("restart", zone="beta"), "restart beta")
    check(res["operation_id"].startswith("beta-restart-"), "restart operation id")
    check(res["state"] == "running" and is_int(res["pid"]) and res["pid"] != beta_pid,
          "restart gives a new VM: %r" % res)
    check(not pid_alive(beta_pid), "the old VM is gone when restart answers")

    # stop beta: stopped, pid nil, VM gone
    new_pid = res["pid"]
    res = ok(c.call("stop", zone="beta"), "stop beta")
    check(res["state"] == "stopped" and res["pid"] is None, "stop answered stopped: %r" % res)
    check(not pid_alive(new_pid), "the VM is gone when stop answers")

    # restart of a stopped zone is a cold start; wait: false answers at once
    res = ok(c.call("restart", zone="beta", args={"wait": False}), "restart --no-wait")
    check(res == {"zone": "beta", "operation_id": res["operation_id"], "accepted": True},
          "no-wait result: %r" % res)
    check(res["operation_id"].startswith("beta-cold-start-"), "cold start id %r" %
          res["operation_id"])

    # a failed operation: error {code, message, operation_id}
    e = err(c.call("start", zone="broken"), "vm-spawn-failed", "start broken")
    check(isinstance(e.get("operation_id"), str) and
          e["operation_id"].startswith("broken-start-"), "failed op carries operation_id")

    # diagnose
    res = ok(c.call("diagnose", zone="alpha"), "diagnose")
    keys(res, ["zone", "state", "desired", "readiness", "blocker", "last_error", "health",
               "probe", "evidence", "last_operation", "original_outage_cause", "vm",
               "generation", "supervisor", "worker", "tool_vm_plane", "tool_vm_detail",
               "leases", "quarantined", "persistence", "recovery"], "diagnose")
    check(res["zone"] == "alpha" and res["state"] == "running", "diagnose alpha running")
    check(res["readiness"] == "running" and res["blocker"] == "none", "diagnose readiness")
    lo = res["last_operation"]
    keys(lo, ["id", "operation", "trigger", "result", "error", "at"], "last_operation")
    check(lo["operation"] == "start" and lo["trigger"] == "controller-start" and
          lo["result"] == "finished" and lo["error"] is None and is_time(lo["at"]),
          "last_operation of alpha: %r" % lo)
    keys(res["vm"], ["pid", "start_time", "uptime_s"], "diagnose.vm")
    check(res["vm"]["pid"] == alpha_pid, "diagnose.vm.pid")
    check(res["supervisor"] == {"pid": a.daemon_pid, "alive": True, "shutting_down": False},
          "diagnose.supervisor %r" % res["supervisor"])
    keys(res["worker"], ["pid", "alive", "link"], "diagnose.worker")
    check(res["worker"]["alive"] is True and res["worker"]["link"] == "up", "worker up")
    check(res["tool_vm_plane"] == "none" and res["tool_vm_detail"] is None, "no tool VMs")
    check(is_int(res["leases"]) and is_int(res["quarantined"]), "diagnose lease counts")
    check_persistence(res["persistence"], "diagnose.persistence")
    check_recovery(res["recovery"], "diagnose.recovery")
    res = ok(c.call("diagnose", zone="broken"), "diagnose broken")
    check(res["readiness"] == "failed" and res["blocker"] == "vm-spawn-failed",
          "diagnose broken: %r %r" % (res["readiness"], res["blocker"]))
    keys(res["original_outage_cause"], ["code", "message", "at"], "outage cause")

    # events: the last N (once beta's cold start has ended: no record comes
    # between the two reads)
    wait_until("beta running", 15, lambda: ok(c.call("status", zone="beta"),
                                              "status beta")["zones"][0]["state"] == "running")
    time.sleep(0.2)
    res = ok(c.call("events", zone="beta", args={"n": 3}), "events n=3")
    recs = check_events_result(res, "beta", "events")
    check(len(recs) == 3, "events n=3 gives 3 records, got %d" % len(recs))
    all_recs = check_events_result(ok(c.call("events", zone="beta"), "events all"),
                                   "beta", "events all")
    check(len(all_recs) > 3 and all_recs[-3:] == recs, "the last 3 are the newest, oldest first")
    times = [r["observed_at"] for r in all_recs]
    check(times == sorted(times), "records oldest first")

    # events follow: the last 2, then a record made by a restart
    f = Client(path)
    fid = f.request("events", zone="alpha", args={"n": 2, "follow": True})
    first = f.recv()
    check(first["id"] == fid, "follow's first answer id")
    check(len(check_events_result(ok(first, "follow"), "alpha", "follow")) == 2,
          "follow sends the last n first")
    r = ok(c.call("restart", zone="alpha"), "restart alpha")
    op = r["operation_id"]
    seen = []
    end = time.monotonic() + 15
    while "operation-finished" not in [x["kind"] for x in seen if x["operation_id"] == op]:
        check(time.monotonic() < end, "follow did not bring the restart's records: %r" %
              [x["kind"] for x in seen])
        ans = f.recv(timeout=max(0.1, end - time.monotonic()))
        check(ans["id"] == fid, "every follow frame carries the request's id")
        batch = check_events_result(ok(ans, "follow frame"), "alpha", "follow frame")
        check(batch, "a follow frame is never empty")
        seen += batch
    kinds = [x["kind"] for x in seen if x["operation_id"] == op]
    check(kinds[0] == "restart-requested", "the restart's first record: %r" % kinds)
    check(all(x["trigger"] == "operator-restart" for x in seen if x["operation_id"] == op),
          "restart records carry trigger operator-restart")
    # Another request on the following connection: its answer interleaves.
    vid = f.request("version")
    ans = f.recv()
    check(ans["id"] == vid and ans["ok"], "a request on a following connection is answered")
    f.close()

    # At most 16 follows on one connection (events and logs together).
    f = Client(path)
    ids = [f.request("logs" if i % 2 else "events", zone="alpha",
                     args={"n": 0, "follow": True}) for i in range(17)]
    firsts = {}
    while len(firsts) < 17:
        ans = f.recv()
        firsts.setdefault(ans["id"], ans)
    check(all(firsts[i]["ok"] for i in ids[:16]), "16 follows on one connection")
    err(firsts[ids[16]], "bad-request", "a 17th follow on one connection")
    check("at most 16" in firsts[ids[16]]["error"]["message"],
          "the refusal names the bound: %r" % firsts[ids[16]]["error"])
    f.close()

    # lease: list of a zone without [tool-vm] is ok and empty; acquire is refused
    res = ok(c.call("lease", zone="alpha", args={"op": "list"}), "lease list alpha")
    check(res == {"leases": [], "slots": []}, "lease list alpha: %r" % res)
    err(c.call("lease", zone="alpha", args={"op": "acquire"}), "no-tool-vm",
        "lease acquire alpha")
    # ... and a zone with [tool-vm]: acquire, list, renew, release
    res = ok(c.call("lease", zone="tools", args={"op": "acquire", "owner": "py",
                                                 "ttl_ms": 60000}), "acquire")
    keys(res, ["zone", "lease"], "acquire result")
    l = res["lease"]
    check_lease(l, "tools", "acquired lease")
    check(l["slot"] == 0 and l["owner"] == "py" and l["ttl_ms"] == 60000 and
          l["state"] == "active" and l["renewed_at"] is None, "acquired lease: %r" % l)
    check(pid_alive(l["pid"]), "the tool VM runs")
    res = ok(c.call("lease", args={"op": "list"}), "lease list")
    check([x["id"] for x in res["leases"]] == [l["id"]], "list shows the lease")
    check_lease(res["leases"][0], "tools", "listed lease")
    check(len(res["slots"]) == 1, "one slots entry per zone with [tool-vm]")
    sl = res["slots"][0]
    keys(sl, ["zone", "max", "used", "free", "quarantined", "plane", "detail"], "slots")
    check(sl["zone"] == "tools" and sl["max"] == 2 and sl["used"] == 1 and sl["free"] == 1,
          "slots: %r" % sl)
    res = ok(c.call("lease", args={"op": "renew", "lease": l["id"]}), "renew")
    check(is_time(res["lease"]["renewed_at"]), "renew sets renewed_at")
    err(c.call("lease", zone="alpha", args={"op": "renew", "lease": l["id"]}),
        "lease-of-another-zone", "renew with another zone")
    err(c.call("lease", args={"op": "release", "lease": l["id"], "owner": "x"}),
        "bad-request", "owner given to release")
    res = ok(c.call("lease", args={"op": "release", "lease": l["id"]}), "release")
    check(res.get("released") is True and res["lease"]["id"] == l["id"], "release result")
    check(not pid_alive(l["pid"]), "the tool VM is gone when release answers")
    err(c.call("lease", args={"op": "release", "lease": l["id"]}), "unknown-lease",
        "release again")

    # other commands' answers
    err(c.call("health", zone="alpha"), "no-probe", "health without a probe")
    err(c.call("reset", zone="alpha"), "nothing-to-reset", "reset")
    res = ok(c.call("reload", args={"dry_run": True}), "reload dry run")
    check(res == {"dry_run": True, "added": [], "removed": [], "changed": [],
                  "unchanged": ["alpha", "beta", "broken", "tools"], "notes": []},
          "reload plan: %r" % res)

    # errors of request checking: the connection stays usable after each
    err(c.call("frobnicate"), "unknown-command", "unknown command")
    err(c.call("start", zone="nosuchzone"), "unknown-zone", "unknown zone (start)")
    err(c.call("status", zone="nosuchzone"), "unknown-zone", "unknown zone (status)")
    err(c.call("events", zone="nosuchzone"), "unknown-zone", "unknown zone (events)")
    rid = c.request("version", v=2)
    ans = c.recv()
    check(ans["id"] == rid, "unsupported-version echoes the id")
    err(ans, "unsupported-version", "v = 2")
    rid = c.request("version", v="1")
    err(c.recv(), "bad-request", "v as a string")
    c.send_obj({"v": 1, "id": None, "cmd": "version"})
    ans = c.recv()
    check(ans["id"] is None, "id nil answered with id nil")
    err(ans, "bad-request", "id nil")
    c.send_obj([1, 2, 3])
    err(c.recv(), "bad-request", "a request that is not a map")
    err(c.call("start", zone="beta", args={"wait": "yes"}), "bad-request", "wait not a bool")
    err(c.call("events", zone="alpha", args={"n": -1}), "bad-request", "n out of range")
    ok(c.call("version"), "the connection still works after errors")

    # pipelining: two requests written before any answer is read
    p = Client(path)
    both = b""
    for rid, cmd, zone in ((101, "status", "alpha"), (102, "version", None)):
        req = {"v": 1, "id": rid, "cmd": cmd}
        if zone:
            req["zone"] = zone
        payload = msgpack.packb(req)
        both += struct.pack(">I", len(payload)) + payload
    p.send_raw(both)
    got = [p.recv(), p.recv()]
    check([x["id"] for x in got] == [101, 102], "answers given at once keep request order")
    check(got[0]["result"]["zones"][0]["name"] == "alpha" and
          got[1]["result"]["protocol"] == 1, "each answer is its request's")
    # an awaited start and a version: matched by id whatever the order
    p.request("start", zone="beta", rid="s")      # beta is cold-starting or running
    p.request("version", rid="v")
    got = {x["id"]: x for x in (p.recv(30), p.recv(30))}
    check(set(got) == {"s", "v"}, "two answers, ids s and v: %r" % list(got))
    check(got["s"]["ok"] and got["s"]["result"]["state"] == "running", "start s answered")
    check(got["v"]["result"]["protocol"] == 1, "version v answered")
    p.close()

    # a malformed frame: an error with id nil, then the connection closes;
    # answers to earlier requests come first
    m = Client(path)
    m.request("version", rid=7)
    m.send_raw(struct.pack(">I", 3) + b"\xc1\x00\x00")
    check(m.recv()["id"] == 7, "the answer before the bad frame")
    ans = m.recv()
    check(ans["id"] is None, "bad frame answered with id nil")
    err(ans, "bad-request", "malformed frame")
    try:
        extra = m.recv(5)
        check(False, "no close after a malformed frame: %r" % extra)
    except Closed:
        pass
    m.close()
    # an oversized frame: frame-too-large, then the close
    m = Client(path)
    m.send_raw(struct.pack(">I", FRAME_MAX + 1))
    ans = m.recv()
    check(ans["id"] is None, "frame-too-large with id nil")
    err(ans, "frame-too-large", "oversized frame")
    try:
        extra = m.recv(5)
        check(False, "no close after an oversized frame: %r" % extra)
    except Closed:
        pass
    m.close()

    # the daemon and its zones are unharmed
    res = ok(c.call("status"), "status at the end")
    zs = {z["name"]: z for z in res["zones"]}
    check(zs["alpha"]["state"] == "running" and zs["beta"]["state"] == "running",
          "alpha and beta still run")
    c.close()
    print("protocol_client.py: all checks passed")


if __name__ == "__main__":
    main()
