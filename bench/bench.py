#!/usr/bin/env python3
"""Measurement driver of bench/run.sh: wrk against nginx (baseline) and observatory-sink,
interleaved, with CPU / RSS sampling and the sink's own counters; prints the table.

Derived from perf/bench.py of the project's performance anchors
(shared/reference/perf/bench.py: process-tree CPU and RSS sampling, /proc/stat machine load,
wrk output parsing, every wrk bounded by `timeout`).  New here: both peers in one process,
unique bodies per request for the storing peer (otlp_post_unique.lua), the sink's Prometheus
counters before and after every run (stored, duplicates, acknowledged, 503s), idle RSS, a
database row check and the summary table.

Normally started by run.sh, which starts and stops the servers:
  python bench.py --nginx-pid PID --nginx-url http://127.0.0.1:P \
      --sink-pid PID --sink-url http://127.0.0.1:P --sink-api http://127.0.0.1:P \
      --bodies DIR --db SINK_DATA/observatory.sqlite [--reps 3] [--duration 10] \
      [--conns 16 64] [--variants pb gz] [--out results.jsonl] \
      [--rotel-pid PID --rotel-url http://127.0.0.1:P]

With --rotel-pid/--rotel-url a third peer runs between nginx and the sink with the same requests:
rotel (a Rust OTLP collector, blackhole exporter: decodes and batches everything, stores
nothing), the "real receiver" reference of shared/reference/perf-anchors.md.
"""
import argparse
import json
import os
import re
import signal
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
import urllib.request

HZ = os.sysconf("SC_CLK_TCK")
HERE = os.path.dirname(os.path.abspath(__file__))
LUA = os.path.join(HERE, "otlp_post_unique.lua")
TARGET_RECORDS_PER_S = 50_000
TARGET_IDLE_RSS_MB = 40.0
TARGET_ROTEL_FACTOR = 2.0  # the sink within 2x of rotel's receive rate
CURRENT_WRK = []  # the running wrk, killed on exit


# --- process accounting (from shared/reference/perf/bench.py) ---
def tree(root):
    kids = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/stat" % d) as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                kids.setdefault(ppid, []).append(int(d))
            except (OSError, IndexError, ValueError):
                pass
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def cpu_ticks(pids):
    t = 0
    for p in pids:
        try:
            with open("/proc/%d/stat" % p) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            t += int(fields[11]) + int(fields[12])  # utime, stime
        except (OSError, IndexError):
            pass
    return t


def status_kb(pids, key):
    t = 0
    for p in pids:
        try:
            with open("/proc/%d/status" % p) as f:
                for line in f:
                    if line.startswith(key + ":"):
                        t += int(line.split()[1])
        except OSError:
            pass
    return t


def rss_kb(pids):
    return status_kb(pids, "VmRSS")


def sys_busy():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]
    return sum(v) - idle, sum(v)


def parse_wrk(text):
    r = {}
    m = re.search(r"Requests/sec:\s+([\d.]+)", text)
    r["rps"] = float(m.group(1)) if m else 0.0
    m = re.search(r"(\d+) requests in ([\d.]+)(\w+)", text)
    r["requests"] = int(m.group(1)) if m else 0
    if m:
        unit = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}.get(m.group(3), 1.0)
        r["wrk_seconds"] = float(m.group(2)) * unit
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    r["non2xx"] = int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    r["sock_err"] = sum(int(x) for x in m.groups()) if m else 0
    m = re.search(r"Latency\s+(\S+)\s+(\S+)\s+(\S+)", text)
    r["lat_avg"], r["lat_max"] = (m.group(1), m.group(3)) if m else ("?", "?")
    return r
# --- end of the part from the reference ---


def all_proc_ticks():
    """{pid: (comm, utime+stime)} for every process (to name the machine's other load)."""
    out = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/stat" % d) as f:
                    s = f.read()
                comm = s[s.index("(") + 1:s.rindex(")")]
                fields = s.rsplit(")", 1)[1].split()
                out[int(d)] = (comm, int(fields[11]) + int(fields[12]))
            except (OSError, ValueError, IndexError):
                pass
    return out


def thread_ticks(pid):
    """{tid: (thread name, utime+stime)} of one process."""
    out = {}
    try:
        tids = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return out
    for t in tids:
        try:
            with open("/proc/%d/task/%s/stat" % (pid, t)) as f:
                s = f.read()
            fields = s.rsplit(")", 1)[1].split()
            out[t] = (s[s.index("(") + 1:s.rindex(")")], int(fields[11]) + int(fields[12]))
        except (OSError, ValueError, IndexError):
            pass
    return out


def busiest_threads(before, after, wall, n=4):
    """[(thread name, cpu%)] of the busiest threads between two thread_ticks snapshots."""
    rows = [(100.0 * (t1 - before.get(tid, (name, 0))[1]) / HZ / wall, name) for tid, (name, t1) in after.items()]
    return [(name, round(pct)) for pct, name in sorted(rows, reverse=True)[:n] if pct >= 1]


def other_load(before, after, exclude, wall, ours=()):
    """Top CPU consumers between two snapshots, outside `exclude` pids: [(comm, cpu%)];
    pids in `ours` (the other, idle peer) are named "idle peer <comm>"."""
    by_comm = {}
    for pid, (comm, t1) in after.items():
        if pid in exclude:
            continue
        if pid in ours:
            comm = "idle peer " + comm
        d = t1 - before[pid][1] if pid in before else t1  # new ones ran only during the run
        # (processes that ended during the run are missed; "other CPU%" still counts them)
        if d > 0:
            by_comm[comm] = by_comm.get(comm, 0) + d
    top = sorted(by_comm.items(), key=lambda kv: -kv[1])[:3]
    return [(c, round(100.0 * t / HZ / wall)) for c, t in top if 100.0 * t / HZ / wall >= 2]


# --- the sink's Prometheus counters ---
def scrape(api):
    with urllib.request.urlopen(api + "/metrics", timeout=5) as r:
        text = r.read().decode()
    m = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.rpartition(" ")
            try:
                m[key] = float(value)
            except ValueError:
                pass
    return m


def counter(m, name):
    return m.get(name, 0.0)


def codes(m):
    """{status code: requests} of observatory_requests_total{signal="logs",code=...}."""
    out = {}
    for k, v in m.items():
        mm = re.match(r'observatory_requests_total\{signal="logs",code="(\d+)"\}', k)
        if mm:
            out[mm.group(1)] = v
    return out


WATCHED = ("observatory_events_stored_total", "observatory_events_duplicate_total",
           'observatory_records_received_total{signal="logs"}')


def wait_quiet(api, limit_s=60.0):
    """Wait until the commit queue is empty and the counters stopped moving; (metrics, waited s, ok)."""
    t0 = time.time()
    last, stable = None, 0
    m = scrape(api)
    while time.time() - t0 < limit_s:
        m = scrape(api)
        snap = tuple(counter(m, k) for k in WATCHED)
        if counter(m, "observatory_commit_queue_events") == 0 and snap == last:
            stable += 1
            if stable >= 2:
                return m, time.time() - t0, True
        else:
            stable = 0
        last = snap
        time.sleep(0.3)
    return m, time.time() - t0, False


def wait_idle(pids, limit_s=60.0, threshold_pct=10.0):
    """Wait until the processes `pids` use under `threshold_pct` of a core over half a second (the
    sink's retention deletes old events once a minute, on its own time: not during another server's
    run); returns the seconds waited."""
    t0 = time.time()
    hz = os.sysconf("SC_CLK_TCK")
    while time.time() - t0 < limit_s:
        c0, w0 = cpu_ticks(pids), time.time()
        time.sleep(0.5)
        if (cpu_ticks(pids) - c0) / hz / (time.time() - w0) * 100 < threshold_pct:
            break
    return time.time() - t0


def post(url, path, ctype, cenc):
    with open(path, "rb") as f:
        data = f.read()
    req = urllib.request.Request(url + "/v1/logs", data=data, method="POST")
    req.add_header("Content-Type", ctype)
    if cenc:
        req.add_header("Content-Encoding", cenc)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def run_wrk(a, peer, variant, conns, salt):
    """One measurement; returns the result dict."""
    body, cenc = a.body_files[variant]
    pid = peer["pid"]
    before_m = None
    if peer["name"] == "sink":
        before_m, _, _ = wait_quiet(a.sink_api)
    # The other servers idle while this one is measured (the sink's retention runs in between).
    idle_wait = wait_idle(set().union(*(tree(q["pid"]) for q in a.peers if q["name"] != peer["name"])))
    pids = tree(pid)
    others0 = all_proc_ticks()
    threads0 = thread_ticks(pid)
    c0, (b0, t0), w0 = cpu_ticks(pids), sys_busy(), time.time()
    peak = [rss_kb(pids)]
    stop = threading.Event()

    def sampler():
        while not stop.wait(0.25):
            peak[0] = max(peak[0], rss_kb(tree(pid)))
    th = threading.Thread(target=sampler, daemon=True)
    th.start()
    cmd = ["timeout", "-k", "5", str(a.duration + 20), "wrk", "-t1", "-c%d" % conns, "-d%ds" % a.duration,
           "--timeout", "5s", "-s", LUA, peer["url"] + "/v1/logs", "--", body, "application/x-protobuf", cenc, str(salt)]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    CURRENT_WRK.append(p)
    out = p.stdout.read().decode(errors="replace")
    _, status, ru = os.wait4(p.pid, 0)
    CURRENT_WRK.remove(p)
    wall = time.time() - w0
    stop.set()
    th.join()
    pids = tree(pid)
    c1, (b1, t1) = cpu_ticks(pids), sys_busy()
    others1 = all_proc_ticks()
    threads1 = thread_ticks(pid)
    r = parse_wrk(out)
    secs = r.get("wrk_seconds") or a.duration
    ok_requests = r["requests"] - r["non2xx"]
    server_cpu = 100.0 * (c1 - c0) / HZ / wall
    wrk_cpu = 100.0 * (ru.ru_utime + ru.ru_stime) / wall
    busy = 100.0 * (b1 - b0) / max(1, t1 - t0) * os.cpu_count()
    r.update(type="run", peer=peer["name"], variant=variant, body=os.path.basename(body), cenc=cenc, conns=conns,
             salt=salt, records_per_request=a.records,
             ok_rps=ok_requests / secs, records_per_s=ok_requests * a.records / secs,
             server_cpu_pct=round(server_cpu, 1), wrk_cpu_pct=round(wrk_cpu, 1),
             machine_busy_pct=round(busy, 1), other_cpu_pct=round(max(0.0, busy - server_cpu - wrk_cpu), 1),
             other_top=other_load(others0, others1, set(pids) | {p.pid, os.getpid()}, wall,
                                  ours=set().union(*(tree(q["pid"]) for q in a.peers if q["name"] != peer["name"]))),
             server_threads=busiest_threads(threads0, threads1, wall),
             server_rss_peak_mb=round(peak[0] / 1024.0, 1), wrk_rc=os.waitstatus_to_exitcode(status),
             idle_wait_s=round(idle_wait, 1),
             loadavg=open("/proc/loadavg").read().split()[0], time=time.strftime("%H:%M:%S"))
    if r["requests"] == 0 or r["wrk_rc"] != 0:
        r["wrk_output"] = out[-600:]
    if peer["name"] == "sink":
        after_m, drain, quiet = wait_quiet(a.sink_api)
        d = {k: counter(after_m, k) - counter(before_m, k) for k in
             WATCHED + ("observatory_ingest_overload_total", "observatory_events_pruned_total")}
        c_before, c_after = codes(before_m), codes(after_m)
        stored = int(d["observatory_events_stored_total"])
        sink_acked = int(d['observatory_records_received_total{signal="logs"}'])
        client_acked = ok_requests * a.records
        r.update(stored=stored, stored_per_s=stored / secs, duplicates=int(d["observatory_events_duplicate_total"]),
                 sink_acked=sink_acked, client_acked=client_acked, in_flight_at_stop=stored - client_acked,
                 overload=int(d["observatory_ingest_overload_total"]), pruned=int(d["observatory_events_pruned_total"]),
                 codes={c: int(c_after.get(c, 0) - c_before.get(c, 0)) for c in c_after
                        if c_after.get(c, 0) - c_before.get(c, 0) > 0},
                 drain_s=round(drain, 1), quiet=quiet)
        # What was acknowledged must be stored: every 200 the sink sent is in the store, every 200
        # wrk saw is among them, and nothing was a duplicate (all records were new).
        r["integrity_ok"] = (quiet and stored == sink_acked and r["duplicates"] == 0
                             and stored >= client_acked and stored - client_acked <= conns * a.records)
    return r


def fmt(x):
    return "{:,.0f}".format(x)


def mb(kb):
    return kb / 1024.0


def table(rows, a):
    groups = {}
    for r in rows:
        groups.setdefault((r["variant"], r["conns"], r["peer"]), []).append(r)
    med = {k: statistics.median(x["records_per_s"] for x in v) for k, v in groups.items()}
    head = ["peer", "body", "conns", "runs", "records/s acked (median; min-max)", "ratio vs nginx",
            "sink vs rotel", "stored/s (median)", "non-2xx", "server CPU%", "wrk CPU%", "other CPU%", "peak RSS MB"]
    lines = []
    for variant in a.variants:
        for conns in a.conns:
            for peer in ("nginx", "rotel", "sink"):
                runs = groups.get((variant, conns, peer))
                if not runs:
                    continue
                rec = sorted(x["records_per_s"] for x in runs)
                base = med.get((variant, conns, "nginx"))
                if peer == "nginx":
                    ratio = "1 (baseline)"
                elif base:
                    ratio = "%.4f (1:%.0f)" % (med[(variant, conns, peer)] / base, base / max(1.0, med[(variant, conns, peer)]))
                else:
                    ratio = "-"
                rbase = med.get((variant, conns, "rotel"))
                vs_rotel = ("%.2f (1:%.1f)" % (med[(variant, conns, peer)] / rbase, rbase / max(1.0, med[(variant, conns, peer)]))
                            if peer == "sink" and rbase else "-")
                non2xx = sum(x["non2xx"] for x in runs)
                if peer == "sink":
                    by_code = {}
                    for x in runs:
                        for c, n in x.get("codes", {}).items():
                            if c != "200":
                                by_code[c] = by_code.get(c, 0) + n
                    detail = ", ".join("%s×%s" % (n, c) for c, n in sorted(by_code.items()))
                    non2xx = "%d%s" % (non2xx, " (%s)" % detail if detail else "")
                    stored = fmt(statistics.median(x["stored_per_s"] for x in runs))
                else:
                    stored = "-"
                sockerr = sum(x["sock_err"] for x in runs)
                if sockerr:
                    non2xx = "%s, %d socket errors" % (non2xx, sockerr)
                lines.append([
                    {"nginx": "nginx (return 200)", "rotel": "rotel (blackhole)"}.get(peer, "observatory-sink"),
                    a.body_labels[variant], str(conns), str(len(runs)),
                    "%s; %s-%s" % (fmt(statistics.median(rec)), fmt(rec[0]), fmt(rec[-1])), ratio, vs_rotel, stored, str(non2xx),
                    "%.0f" % statistics.median(x["server_cpu_pct"] for x in runs),
                    "%.0f" % statistics.median(x["wrk_cpu_pct"] for x in runs),
                    "%.0f" % statistics.median(x["other_cpu_pct"] for x in runs),
                    "%.0f" % max(x["server_rss_peak_mb"] for x in runs)])
    widths = [max(len(h), *(len(l[i]) for l in lines)) for i, h in enumerate(head)] if lines else [len(h) for h in head]
    out = [" | ".join(h.ljust(w) for h, w in zip(head, widths)), "-+-".join("-" * w for w in widths)]
    out += [" | ".join(c.ljust(w) for c, w in zip(l, widths)) for l in lines]
    return "\n".join(out), med


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--nginx-pid", type=int, required=True)
    ap.add_argument("--nginx-url", required=True)
    ap.add_argument("--sink-pid", type=int, required=True)
    ap.add_argument("--sink-url", required=True)
    ap.add_argument("--sink-api", required=True)
    ap.add_argument("--rotel-pid", type=int, default=0, help="a running rotel-agent (third peer)")
    ap.add_argument("--rotel-url", default="")
    ap.add_argument("--bodies", required=True)
    ap.add_argument("--db", default="", help="the sink's SQLite file, for the final row count")
    ap.add_argument("--records", type=int, default=100)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--conns", type=int, nargs="+", default=[16, 64])
    ap.add_argument("--variants", nargs="+", default=["pb", "gz"], choices=["pb", "gz"])
    ap.add_argument("--pause", type=float, default=1.0, help="seconds between runs")
    ap.add_argument("--settle", type=float, default=5.0, help="seconds of quiet before the idle RSS after load")
    ap.add_argument("--out", default="")
    ap.add_argument("--perf", action="store_true", help="one extra profiled sink run (perf record), not in the table")
    ap.add_argument("--perf-out", default="")
    a = ap.parse_args()

    def on_term(signum, frame):
        raise SystemExit(128 + signum)
    signal.signal(signal.SIGTERM, on_term)

    n = a.records
    a.body_files = {"pb": (os.path.join(a.bodies, "logs_%d_uniq.pb" % n), ""),
                    "gz": (os.path.join(a.bodies, "logs_%d_uniq.pb.gz" % n), "gzip")}
    sizes = {v: os.path.getsize(p) for v, (p, _) in a.body_files.items()}
    a.body_labels = {"pb": "logs pb %.0fKB" % (sizes["pb"] / 1000.0), "gz": "logs pb+gzip %.1fKB" % (sizes["gz"] / 1000.0)}
    peers = [{"name": "nginx", "pid": a.nginx_pid, "url": a.nginx_url},
             {"name": "sink", "pid": a.sink_pid, "url": a.sink_url}]
    if a.rotel_pid and a.rotel_url:
        peers.insert(1, {"name": "rotel", "pid": a.rotel_pid, "url": a.rotel_url})
    a.peers = peers
    outf = open(a.out, "a") if a.out else None

    def emit(rec):
        if outf:
            outf.write(json.dumps(rec) + "\n")
            outf.flush()

    try:
        sink_pids = tree(a.sink_pid)
        idle_start = {"type": "idle", "when": "after start, before load",
                      "sink_rss_mb": round(mb(rss_kb(sink_pids)), 1),
                      "sink_rss_anon_mb": round(mb(status_kb(sink_pids, "RssAnon")), 1),
                      "sink_rss_file_mb": round(mb(status_kb(sink_pids, "RssFile")), 1),
                      "sink_threads": len(os.listdir("/proc/%d/task" % a.sink_pid)),
                      "nginx_rss_mb": round(mb(rss_kb(tree(a.nginx_pid))), 1)}
        emit(idle_start)
        print("idle RSS after start: sink %.1f MB (anon %.1f + file %.1f; %d threads), nginx %.1f MB (master+worker)"
              % (idle_start["sink_rss_mb"], idle_start["sink_rss_anon_mb"], idle_start["sink_rss_file_mb"],
                 idle_start["sink_threads"], idle_start["nginx_rss_mb"]), flush=True)

        # Sanity: both templates are accepted, and the gzip one decodes to the same 100 records
        # (the sink must call them duplicates: this also shows that dedup is on).
        m0 = scrape(a.sink_api)
        st = [post(a.sink_url, a.body_files[v][0], "application/x-protobuf", a.body_files[v][1]) for v in ("pb", "gz")]
        m1, _, _ = wait_quiet(a.sink_api)
        ds = counter(m1, "observatory_events_stored_total") - counter(m0, "observatory_events_stored_total")
        dd = counter(m1, "observatory_events_duplicate_total") - counter(m0, "observatory_events_duplicate_total")
        ng = [post(a.nginx_url, a.body_files[v][0], "application/x-protobuf", a.body_files[v][1]) for v in ("pb", "gz")]
        rt = ([post(a.rotel_url, a.body_files[v][0], "application/x-protobuf", a.body_files[v][1]) for v in ("pb", "gz")]
              if a.rotel_url else [200, 200])
        check = {"type": "precheck", "sink_status": st, "nginx_status": ng, "rotel_status": rt, "stored": ds, "duplicates": dd}
        emit(check)
        print("pre-check: sink answered %s (pb, gzip), stored %d, duplicates %d (expected 200/200, %d, %d); nginx %s%s"
              % (st, ds, dd, n, n, ng, "; rotel %s" % rt if a.rotel_url else ""), flush=True)
        if st != [200, 200] or ng != [200, 200] or rt != [200, 200] or ds != n or dd != n:
            print("pre-check FAILED: the bodies or the peers are not usable", file=sys.stderr)
            return 2

        runs_total = a.reps * len(a.conns) * len(a.variants) * len(peers)
        print("%d runs of %d s (wrk -t1), interleaved: rep -> conns -> body -> %s; about %.0f min"
              % (runs_total, a.duration, ", ".join(p["name"] for p in peers), runs_total * (a.duration + 3) / 60.0), flush=True)
        rows, salt = [], 0
        for rep in range(1, a.reps + 1):
            print("=== rep %d/%d %s load %s" % (rep, a.reps, time.strftime("%H:%M:%S"),
                                              " ".join(open("/proc/loadavg").read().split()[:3])), flush=True)
            for conns in a.conns:
                for variant in a.variants:
                    for peer in peers:
                        salt += 1
                        r = run_wrk(a, peer, variant, conns, salt)
                        r["rep"] = rep
                        rows.append(r)
                        emit(r)
                        line = ("  %-5s %-2s c%-3d %9s rec/s acked  req %6d non2xx %4d  CPU %3.0f%% wrk %3.0f%% other %3.0f%%  RSS %5.1f MB"
                                % (peer["name"], variant, conns, fmt(r["records_per_s"]), r["requests"], r["non2xx"],
                                   r["server_cpu_pct"], r["wrk_cpu_pct"], r["other_cpu_pct"], r["server_rss_peak_mb"]))
                        if peer["name"] == "sink":
                            line += "  stored %s/s dup %d %s" % (fmt(r["stored_per_s"]), r["duplicates"],
                                                                 "ok" if r["integrity_ok"] else "INTEGRITY MISMATCH")
                            if r["pruned"]:
                                line += "  (retention pruned %s events during the run)" % fmt(r["pruned"])
                        if peer["name"] == "sink":
                            line += "\n        sink threads: " + ", ".join("%s %d%%" % t for t in r["server_threads"])
                        if r["other_top"]:
                            line += "  [other: %s]" % ", ".join("%s %d%%" % t for t in r["other_top"])
                        if r.get("wrk_output"):
                            line += "\n    wrk: " + r["wrk_output"].replace("\n", "\n    wrk: ")
                        print(line, flush=True)
                        time.sleep(a.pause)

        # Idle after the load.
        mq, _, _ = wait_quiet(a.sink_api)
        time.sleep(a.settle)
        sink_pids = tree(a.sink_pid)
        idle_end = {"type": "idle", "when": "after load, settled %.0f s" % a.settle,
                    "sink_rss_mb": round(mb(rss_kb(sink_pids)), 1),
                    "sink_rss_anon_mb": round(mb(status_kb(sink_pids, "RssAnon")), 1),
                    "sink_rss_file_mb": round(mb(status_kb(sink_pids, "RssFile")), 1),
                    "sink_peak_rss_mb": round(mb(status_kb(sink_pids, "VmHWM")), 1),
                    "nginx_rss_mb": round(mb(rss_kb(tree(a.nginx_pid))), 1)}
        emit(idle_end)
        mfinal = scrape(a.sink_api)
        stored_total = counter(mfinal, "observatory_events_stored_total")
        pruned_total = counter(mfinal, "observatory_events_pruned_total")
        db_rows = None
        if a.db and os.path.exists(a.db):
            con = sqlite3.connect("file:%s?mode=ro" % a.db, uri=True, timeout=30)
            try:
                db_rows = con.execute("select count(*) from events").fetchone()[0]
            finally:
                con.close()
        emit({"type": "final", "stored_total": stored_total, "pruned_total": pruned_total, "db_rows": db_rows,
              "duplicates_total": counter(mfinal, "observatory_events_duplicate_total")})

        profile = None
        if a.perf:
            profile = perf_run(a, peers[-1], max(a.conns), salt + 1)

        # The table and the verdict.
        text, med = table(rows, a)
        sink_rows = [r for r in rows if r["peer"] == "sink"]
        print()
        print("observatory-sink vs nginx%s, %d rep(s) x %d s, wrk -t1, %d log records per request, %s"
              % (" and rotel" if a.rotel_url else "", a.reps, a.duration, n, time.strftime("%Y-%m-%d %H:%M")))
        print(text)
        print()
        print("idle RSS: sink %.1f MB after start (anon %.1f + file %.1f), %.1f MB after load, settled %.0f s "
              "(anon %.1f + file %.1f); sink peak RSS (VmHWM) %.1f MB; nginx %.1f MB"
              % (idle_start["sink_rss_mb"], idle_start["sink_rss_anon_mb"], idle_start["sink_rss_file_mb"],
                 idle_end["sink_rss_mb"], a.settle, idle_end["sink_rss_anon_mb"], idle_end["sink_rss_file_mb"],
                 idle_end["sink_peak_rss_mb"], idle_end["nginx_rss_mb"]))
        bad = [r for r in sink_rows if not r["integrity_ok"]]
        print("stored vs acknowledged: %d/%d sink runs consistent (stored == records the sink answered 200 for, "
              ">= records wrk saw 200 for, duplicates 0); sum stored %s, wrk-acked %s, sink-acked %s, duplicates %d; "
              "stored beyond wrk's count (requests cut off by wrk's stop) max %d records"
              % (len(sink_rows) - len(bad), len(sink_rows), fmt(sum(r["stored"] for r in sink_rows)),
                 fmt(sum(r["client_acked"] for r in sink_rows)), fmt(sum(r["sink_acked"] for r in sink_rows)),
                 sum(r["duplicates"] for r in sink_rows), max([r["in_flight_at_stop"] for r in sink_rows] or [0])))
        if pruned_total:
            waits = [r.get("idle_wait_s", 0) for r in rows if r["peer"] != "sink"]
            print("retention: the sink pruned %s events during the benchmark (default limit 1,000,000 events, checked "
                  "once a minute on the writer; %s of them inside sink runs, the rest between runs: each run of "
                  "another server waits until the sink is idle, here up to %.1f s)"
                  % (fmt(pruned_total), fmt(sum(r["pruned"] for r in sink_rows)), max(waits or [0])))
        if db_rows is not None:
            print("database: %s event rows = stored_total %s - pruned by retention %s: %s"
                  % (fmt(db_rows), fmt(stored_total), fmt(pruned_total),
                     "ok" if db_rows == stored_total - pruned_total else "MISMATCH"))
        others = [r["other_cpu_pct"] for r in rows]
        names = {}
        for r in rows:
            for c, pct in r["other_top"]:
                names[c] = max(names.get(c, 0), pct)
        print("machine noise: other CPU (machine busy - server - wrk, incl. kernel loopback work) median %.0f%%, max %.0f%% "
              "of 200%%%s" % (statistics.median(others), max(others),
                             "; other processes seen: " + ", ".join("%s up to %d%%" % kv for kv in
                                                                   sorted(names.items(), key=lambda kv: -kv[1])[:5])
                             if names else ""))
        parts, met, rparts, rmet, verdict = [], True, [], True, {}
        for variant in a.variants:
            for conns in a.conns:
                runs = [r for r in sink_rows if r["variant"] == variant and r["conns"] == conns]
                if runs:
                    # acknowledged to wrk AND stored (stored/s alone also counts requests wrk cut off)
                    s = statistics.median(min(r["stored"], r["client_acked"]) / r.get("wrk_seconds", a.duration)
                                          for r in runs)
                    met = met and s >= TARGET_RECORDS_PER_S
                    parts.append("%s c%d %s/s" % (variant, conns, fmt(s)))
                    key = "%s/c%d" % (variant, conns)
                    verdict[key] = {"sink_stored_acked_per_s": s,
                                    "nginx_per_s": med.get((variant, conns, "nginx")),
                                    "rotel_per_s": med.get((variant, conns, "rotel")),
                                    "sink_acked_per_s": med.get((variant, conns, "sink")),
                                    "sink_cpu_pct": statistics.median(r["server_cpu_pct"] for r in runs),
                                    "other_cpu_pct": statistics.median(r["other_cpu_pct"] for r in runs),
                                    "sink_peak_rss_mb": max(r["server_rss_peak_mb"] for r in runs)}
                    rb = med.get((variant, conns, "rotel"))
                    if rb:
                        ok = s * TARGET_ROTEL_FACTOR >= rb
                        rmet = rmet and ok
                        rparts.append("%s c%d 1:%.1f" % (variant, conns, rb / max(1.0, s)))
        idle_ok = idle_start["sink_rss_mb"] < TARGET_IDLE_RSS_MB
        print("VERDICT: throughput target >= %s log records/s acknowledged and stored: %s (%s); idle RSS target < %.0f MB: %s "
              "(%.1f MB after start, %.1f MB after load)"
              % (fmt(TARGET_RECORDS_PER_S), "MET" if met else "NOT MET", ", ".join(parts), TARGET_IDLE_RSS_MB,
                 "MET" if idle_ok and idle_end["sink_rss_mb"] < TARGET_IDLE_RSS_MB else
                 ("MET after start only" if idle_ok else "NOT MET"), idle_start["sink_rss_mb"], idle_end["sink_rss_mb"]))
        if rparts:
            print("VERDICT: within %.0fx of rotel's receive rate on the same requests: %s (%s)"
                  % (TARGET_ROTEL_FACTOR, "MET" if rmet else "NOT MET", ", ".join(rparts)))
        if profile:
            print()
            print(profile)
        emit({"type": "summary", "medians": {"%s/%s/c%d" % (p, v, c): x for (v, c, p), x in med.items()},
              "per_case": verdict, "rotel_target_met": rmet if rparts else None,
              "throughput_target_met": met, "idle_rss_start_mb": idle_start["sink_rss_mb"],
              "idle_rss_after_load_mb": idle_end["sink_rss_mb"], "integrity_ok": not bad})
        return 0 if not bad else 1
    finally:
        for p in list(CURRENT_WRK):
            try:
                p.kill()
            except OSError:
                pass
        if outf:
            outf.close()


def perf_run(a, sink, conns, salt):
    """An extra sink run under `perf record`; returns the top of the report (text)."""
    out = a.perf_out or os.path.join(os.path.dirname(a.out) or ".", "perf.data")
    rec = subprocess.Popen(["timeout", "-k", "5", str(a.duration + 10), "perf", "record", "-F", "499", "-g",
                            "-p", str(sink["pid"]), "-o", out, "--", "sleep", str(a.duration)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    r = run_wrk(a, sink, "pb", conns, salt)
    try:
        rec.wait(timeout=a.duration + 20)
    except subprocess.TimeoutExpired:
        rec.kill()
    try:
        rep = subprocess.run(["timeout", "120", "perf", "report", "-i", out, "--no-children", "--stdio",
                              "--sort", "dso,symbol", "-g", "none", "--percent-limit", "0.7"],
                             capture_output=True, text=True, timeout=130).stdout
    except subprocess.TimeoutExpired:
        return "perf report timed out"
    lines = [re.sub(r"(\s+-)+\s*$", "", l).rstrip() for l in rep.splitlines() if l.strip() and not l.startswith("#")][:40]
    text = "\n".join(lines)
    try:  # Swift symbols are mangled
        text = subprocess.run(["timeout", "30", "swift", "demangle", "--simplified"], input=text,
                              capture_output=True, text=True, timeout=40).stdout or text
    except (OSError, subprocess.TimeoutExpired):
        pass
    text = "\n".join(l[:200] for l in text.splitlines())
    return ("perf profile of the sink (extra run, pb c%d, %s records/s acked; busiest threads: %s; perf.data: %s):\n%s"
            % (conns, fmt(r["records_per_s"]), ", ".join("%s %d%%" % t for t in r["server_threads"]), out, text))


if __name__ == "__main__":
    sys.exit(main())
