#!/usr/bin/env python3
"""The table of bench/all.sh: reads the logs and raw results in its output folder and prints one
row per figure with its target and PASS / MISS.

    python3 bench/all_table.py OUT_DIR [--section=NAME ...] [--markdown]
"""
import json
import re
import statistics
import sys
from pathlib import Path

TARGET_INGEST = 50_000
ROTEL_FACTOR = 2.0


def results(path: Path) -> list:
    if not path.exists():
        return []
    return [json.loads(line[len("RESULT "):]) for line in path.read_text().splitlines() if line.startswith("RESULT ")]


def fmt(x: float) -> str:
    return "{:,.0f}".format(x)


def verdict(ok) -> str:
    return "-" if ok is None else ("PASS" if ok else "MISS")


def main() -> int:
    out = Path(sys.argv[1])
    sections = [a.split("=", 1)[1] for a in sys.argv[2:] if a.startswith("--section=")]
    markdown = "--markdown" in sys.argv
    status = {}
    if (out / "status.txt").exists():
        for line in (out / "status.txt").read_text().splitlines():
            parts = line.split()
            if len(parts) >= 2:
                status[parts[0]] = (int(parts[1]), parts[2] if len(parts) > 2 else "-")
    meta = dict(line.split("=", 1) for line in (out / "meta.txt").read_text().splitlines() if "=" in line) \
        if (out / "meta.txt").exists() else {}
    rows = []  # (benchmark, figure, measured, against the baseline, target, verdict)

    def missing(name, what):
        rc = status.get(name, (None,))[0]
        rows.append((what, "-", "not measured (exit %s, see %s.log)" % (rc, name) if rc is not None else "not run",
                     "", "", "MISS" if rc else "-"))

    want = lambda s: not sections or s in sections

    # 1. ingest
    if want("ingest"):
        summary = None
        idle = []
        p = out / "ingest.jsonl"
        if p.exists():
            for line in p.read_text().splitlines():
                r = json.loads(line)
                if r.get("type") == "summary":
                    summary = r
                elif r.get("type") == "idle":
                    idle.append(r)
        if summary and summary.get("per_case"):
            for key in ("pb/c16", "pb/c64", "gz/c16", "gz/c64"):
                c = summary["per_case"].get(key)
                if not c:
                    continue
                s = c["sink_stored_acked_per_s"]
                body = "protobuf" if key.startswith("pb") else "gzip"
                vs = []
                if c.get("nginx_per_s"):
                    vs.append("nginx %s/s = 1:%.0f" % (fmt(c["nginx_per_s"]), c["nginx_per_s"] / max(1, s)))
                if c.get("rotel_per_s"):
                    vs.append("rotel %s/s = 1:%.1f" % (fmt(c["rotel_per_s"]), c["rotel_per_s"] / max(1, s)))
                rows.append(("ingest %s %s" % (body, key.split("/")[1]), "records/s acked+stored", fmt(s),
                             "; ".join(vs), ">= 50,000/s", verdict(s >= TARGET_INGEST)))
                if c.get("rotel_per_s"):
                    rows.append(("", "vs rotel", "%.2f of rotel" % (s / c["rotel_per_s"]), "", ">= 0.50 (within 2x)",
                                 verdict(s * ROTEL_FACTOR >= c["rotel_per_s"])))
            integ = summary.get("integrity_ok")
            rows.append(("ingest", "stored == acknowledged", "yes" if integ else "NO", "", "every 200 stored",
                         verdict(bool(integ))))
        else:
            missing("ingest", "ingest")

    # 2. WebSocket latency
    if want("latency"):
        rs = results(out / "latency.log")
        for r in rs:
            note = "from POST sent p50 %.1f / p99 %.1f ms; client CPU %s%% of a core in %d proc(s)%s; sink %d%%; machine busy %d/%d%%; %d events/s sent; %d/%d delivered, %d resyncs" % (
                r.get("from_send_p50_ms") or 0, r.get("from_send_p99_ms") or 0,
                "+".join(str(c) for c in r["client_cpu_pct"]), r["client_procs"],
                " CLIENT-BOUND" if r["client_bound"] else "", r["sink_cpu_pct"], r["machine_busy_pct"],
                r["machine_pct_of"], r["events_acked"] / r["duration"], r["deliveries"], r["expected"], r["resyncs"])
            ok = (r["p99_ms"] is not None and r["p99_ms"] < 10 and r["deliveries"] == r["expected"]
                  and r["events_acked"] >= 0.9 * r["rate"] * r["duration"])
            rows.append(("OTLP→WebSocket %d clients" % r["clients"], "p50 / p99 after the 200, 1,000 ev/s",
                         "%.1f / %.1f ms" % (r["p50_ms"], r["p99_ms"]), note, "p99 < 10 ms, all delivered", verdict(ok)))
        if not rs:
            missing("latency", "OTLP→WebSocket")

    # 3. push
    if want("push"):
        text = (out / "push.log").read_text() if (out / "push.log").exists() else ""
        m = re.search(r"OTLP POST -> decrypted push at the fake service, (\d+) alerts: p50 ([\d.]+) ms, p99 ([\d.]+) ms", text)
        if m:
            p99 = float(m.group(3))
            rows.append(("OTLP→Web Push", "p50 / p99, POST sent → decrypted", "%s / %s ms" % (m.group(2), m.group(3)),
                         "%s alerts, local fake push service (VAPID + RFC 8291)" % m.group(1), "p99 < 50 ms", verdict(p99 < 50)))
        else:
            missing("push", "OTLP→Web Push")

    # 4. control
    if want("control"):
        rs = results(out / "control.log")
        for r in rs:
            rows.append(("control kill over HTTP", "p50 / p99, POST → process gone", "%.1f / %.1f ms" % (r["gone_p50_ms"], r["gone_p99_ms"]),
                         "N=%d; 200 answered p50 %.1f / p99 %.1f ms" % (r["n"], r["answer_p50_ms"], r["answer_p99_ms"]),
                         "p99 < 100 ms", verdict(r["gone_p99_ms"] < 100)))
        if not rs:
            missing("control", "control kill")

    # 5. rules
    if want("rules"):
        text = (out / "rules.log").read_text() if (out / "rules.log").exists() else ""
        found = False
        for m in re.finditer(r"(\d+) rules: ([\d.]+) µs per event, ([\d.]+) µs per event per rule", text):
            found = True
            per_rule = float(m.group(3))
            rows.append(("rules, %s loaded" % m.group(1), "µs per event (per rule)", "%s (%s)" % (m.group(2), m.group(3)),
                         "default rule pack", "< 5 µs per event per rule", verdict(per_rule < 5)))
        m = re.search(r"alert fired ([-\d.]+) s after its deadline", text)
        if m:
            rows.append(("rules timer", "for: 30s alert late by", "%.0f ms" % (float(m.group(1)) * 1000), "1,000 events/s",
                         "< 1 s", verdict(float(m.group(1)) < 1)))
        if not found:
            missing("rules", "rules")

    # 6./7. memory and start
    rs = results(out / "memory.log")
    r = rs[-1] if rs else None
    if want("memory"):
        if r:
            i = r["idle"]
            rows.append(("RSS idle", "VmRSS after start", "%.1f MB" % i["rss_mb"], "anon %.1f + file %.1f" % (i["anon_mb"], i["file_mb"]),
                         "< 40 MB (issue 2)", verdict(i["rss_mb"] < 40)))
            for n, s in sorted(r.get("sessions", {}).items(), key=lambda kv: int(kv[0])):
                target = "< 150 MB" if int(n) >= 10000 else "-"
                rows.append(("RSS %s sessions" % fmt(int(n)), "VmRSS, settled", "%.1f MB" % s["rss_mb"],
                             "anon %.1f + file %.1f; +%.1f MB over idle" % (s["anon_mb"], s["file_mb"], s["rss_mb"] - i["rss_mb"]),
                             target, verdict(s["rss_mb"] < 150) if int(n) >= 10000 else "-"))
            if r.get("restarted"):
                s = r["restarted"]
                rows.append(("RSS after restart", "%s sessions loaded" % fmt(int(s["sessions_gauge"])), "%.1f MB" % s["rss_mb"],
                             "anon %.1f + file %.1f" % (s["anon_mb"], s["file_mb"]), "< 150 MB", verdict(s["rss_mb"] < 150)))
        else:
            missing("memory", "RSS")
    if want("start"):
        if r:
            for key, label in (("cold_fresh", "fresh data dir"), ("cold_existing", "data dir with %s sessions")):
                c = r.get(key)
                if not c:
                    continue
                if "%s" in label:
                    label = label % fmt(c.get("sessions", 0))
                rows.append(("cold start, " + label, "exec → /healthz 200, median (max)",
                             "%.0f (%.0f) ms" % (c["healthz_median_ms"], c["healthz_max_ms"]),
                             "exec → ready file %.0f (%.0f) ms; %d starts" % (c["ready_file_median_ms"], c["ready_file_max_ms"], len(c["healthz_ms"])),
                             "< 300 ms", verdict(c["healthz_max_ms"] < 300)))
        elif not want("memory"):
            missing("memory", "cold start")

    head = ("benchmark", "figure", "measured", "against / detail", "target", "verdict")
    print("observatory-sink benchmarks, %s, commit %s (binary built %s), %s CPUs, load %s → %s%s" % (
        meta.get("date", "?"), meta.get("commit", "?"), meta.get("sink_built", "?"), meta.get("cpus", "?"), meta.get("load_start", "?"),
        meta.get("load_end", "?"), " (QUICK smoke run)" if meta.get("quick") == "1" else ""))
    if markdown:
        print("| " + " | ".join(head) + " |")
        print("|" + "---|" * len(head))
        for row in rows:
            print("| " + " | ".join(c.replace("|", "\\|") for c in row) + " |")
    else:
        widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(head)]
        print(" | ".join(h.ljust(w) for h, w in zip(head, widths)))
        print("-+-".join("-" * w for w in widths))
        for row in rows:
            print(" | ".join(c.ljust(w) for c, w in zip(row, widths)))
    misses = sum(1 for row in rows if row[5] == "MISS")
    print("%d figures, %d PASS, %d MISS" % (sum(1 for row in rows if row[5] in ("PASS", "MISS")),
                                           sum(1 for row in rows if row[5] == "PASS"), misses))
    return 0


if __name__ == "__main__":
    sys.exit(main())
