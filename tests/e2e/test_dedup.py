"""An OTLP exporter retries a request whose answer it did not see (timeout, dropped connection):
the sink then gets the exact same body twice. It must not count it twice."""

from __future__ import annotations

import gzip as gz

import pytest

from otlp_clients import ClaudeSession, MetricBodies, encode_logs_request, standard_session


@pytest.mark.parametrize("compressed", [False, True], ids=["plain", "gzip"])
def test_same_logs_request_twice_counts_once(sink, compressed):
    s = standard_session()
    body = encode_logs_request([s])
    headers = {}
    if compressed:
        body = gz.compress(body)
        headers = {"Content-Encoding": "gzip"}
    e = s.expected
    want = dict(prompts=e.prompts, apiRequests=e.api_requests, apiErrors=e.api_errors, toolCalls=e.tool_calls,
                toolErrors=e.tool_errors, costUSD=e.cost_usd, inputTokens=e.input_tokens,
                outputTokens=e.output_tokens, events=len(s.events))

    r = sink.post_otlp("logs", body, headers=headers)
    assert r.status_code == 200, (r.status_code, r.text[:300])
    sink.wait_counters(s.session_id, **want)

    r = sink.post_otlp("logs", body, headers=headers)  # the retry
    assert r.status_code == 200, f"a replayed request must still be acknowledged: {r.status_code} {r.text[:300]}"

    # Barrier: a new record for the same session; once it is counted, the replay was processed.
    s.user_prompt(5)
    r = sink.post_otlp("logs", encode_logs_request([ClaudeSession(session_id=s.session_id,
                                                                  events=s.events[-1:])]))
    assert r.status_code == 200
    sess = sink.wait_counters_min(s.session_id, prompts=e.prompts)  # e.prompts is now 2
    c = sess["counters"]
    want.update(prompts=e.prompts, events=len(s.events))
    assert {k: c[k] for k in want} == pytest.approx(want), "the replayed request was counted again"
    evs = sink.all_events(s.session_id)
    assert len(evs) == len(s.events), [(x["seq"], x["kind"]) for x in evs]


def test_same_metrics_request_twice_counts_once(sink):
    # The session's only log event is a prompt, so cost and tokens come from metrics alone.
    s = ClaudeSession().user_prompt()
    r = sink.post_otlp("logs", encode_logs_request([s]))
    assert r.status_code == 200
    sink.wait_counters(s.session_id, prompts=1)

    mb = MetricBodies()
    first = mb.api_request(s.session_id, s.model, 0.0300, 2000, 400, 9000, 10).collect()
    second = mb.api_request(s.session_id, s.model, 0.0070, 500, 60, 0, 0).collect()
    mb.shutdown()

    r = sink.post_otlp("metrics", first)
    assert r.status_code == 200, (r.status_code, r.text[:300])
    sink.wait_counters(s.session_id, costUSD=0.0300, inputTokens=2000, outputTokens=400)
    r = sink.post_otlp("metrics", first)  # the retry
    assert r.status_code == 200
    r = sink.post_otlp("metrics", second)  # the next delta
    assert r.status_code == 200
    # Counted once: 0.0370. Replay counted: 0.0670 (never equal to 0.0370 on the way).
    sink.wait_counters(s.session_id, costUSD=0.0370, inputTokens=2500, outputTokens=460,
                       cacheReadTokens=9000, cacheCreationTokens=10)
