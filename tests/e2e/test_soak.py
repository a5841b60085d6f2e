"""Soak, CI variant: the driver of bench/soak.py (10 simulated Claude Code agents: prompts, API and
tool calls, hooks with permission prompts, delta cost/token metrics, sessions ending and starting,
planned tool-error and API-error bursts) for 45 s with time compressed 25× (a prompt every
1.2-2.4 s per agent, logs exported every 0.2 s, metrics every 0.4 s), against the real sink with
the repository's rules/ and `store.max_events: 1000`.

Asserted on counts, not timing:
- RSS grows by at most 10 MB over the second half of the load; the open fd count varies by at
  most 5 over the second half;
- after the retention pass that follows the load, the database holds at most `store.max_events`
  events (and retention did delete some);
- every record answered 200 was received, stored once, and is counted in its session's counters
  (events, prompts, API/tool calls and errors, tokens, cost), even after retention deleted it;
- every planned tool-error burst and API-error burst fired its rule exactly once, no other alert
  fired, and the /ws live feed saw the same firings as GET /api/alerts.

The 30-minute run at real rates is `bench/soak.sh` (figures in docs/benchmarks.md, Reliability).
"""

from __future__ import annotations

import sys

import pytest

from conftest import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "bench"))

from soak import Soak, SoakConfig, format_summary  # noqa: E402

MAX_EVENTS = 1000


@pytest.mark.timeout(240)
def test_soak_compressed(sink_factory, tmp_path):
    cfg_file = tmp_path / "soak.yaml"
    cfg_file.write_text(f"store: {{ max_events: {MAX_EVENTS} }}\n")
    sink = sink_factory.new()
    sink.start(extra_args=["--config", str(cfg_file), "--rules-dir", str(REPO_ROOT / "rules")])
    rules = sink.get_json("/api/rules")
    assert {r["id"] for r in rules["rules"]} >= {"tool-errors-burst", "api-errors-burst"}, rules

    cfg = SoakConfig(agents=10, duration=45, speed=25, seed=7, sample_every=1.0, long_waits=False,
                     trip_tool_every=3, trip_api_every=5, max_events=MAX_EVENTS, rss_growth_mb=10, fd_spread=5)
    with open(tmp_path / "samples.jsonl", "w") as out:
        summary = Soak(cfg, sink.ingest_url, sink.api_url, sink.proc.pid, sink.data_dir, samples_out=out,
                       log=lambda m: print(m)).run()
    text = format_summary(summary)
    print("\n" + text)
    assert sink.running(), "the sink died during the soak"

    # The load did what it is meant to: many sessions, retention at work, alerts planned.
    assert summary["sessions"] >= 20 and summary["sessions_ended"] >= 20, text
    assert summary["records"]["acked_total"] > 3 * MAX_EVENTS, text
    assert summary["db"]["pruned"] > 0, text
    assert summary["alerts"]["expected_by_rule"].get("tool-errors-burst", 0) >= 3, text
    assert summary["alerts"]["expected_by_rule"].get("api-errors-burst", 0) >= 2, text

    failed = [name for name, ok in summary["checks"].items() if not ok]
    assert not failed, f"failed: {failed}\n{text}"
