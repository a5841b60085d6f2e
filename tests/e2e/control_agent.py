#!/usr/bin/env python3
"""A stand-in agent for the control tests, run under `observatory run`.

    control_agent.py MODE PIDFILE

Emits one OTLP log record with the Python OpenTelemetry SDK (endpoint, protocol and resource
attributes from the environment the wrapper injected), writes "PID [GRANDCHILD_PID]" to PIDFILE,
then by MODE:
  hang        sleep until a signal (default SIGTERM handling: dies by it)
  work        burn CPU until a signal
  grandchild  start a grandchild in the same process group that ignores SIGTERM, then hang
  exit3       exit with status 3
  segv        die by SIGSEGV
  argv        write its argv (JSON) to PIDFILE + ".argv", then hang
"""
import json
import os
import signal
import subprocess
import sys
import time


def emit_log() -> None:
    try:
        from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
        from opentelemetry.sdk._logs import LoggerProvider
        from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
        from opentelemetry.sdk.resources import Resource
    except ImportError:
        return
    endpoint = os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318").rstrip("/")
    provider = LoggerProvider(resource=Resource.create({"service.name": "control-test-agent"}))
    provider.add_log_record_processor(SimpleLogRecordProcessor(OTLPLogExporter(endpoint=endpoint + "/v1/logs", timeout=2)))
    provider.get_logger("control-test-agent").emit(timestamp=time.time_ns(), body="agent.started", attributes={"mode": sys.argv[1]})
    provider.shutdown()


def main() -> None:
    mode, pidfile = sys.argv[1], sys.argv[2]
    emit_log()
    extra = ""
    if mode == "grandchild":
        gc = subprocess.Popen([sys.executable, "-c",
                               "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
                               "while True: time.sleep(1)"])
        time.sleep(0.2)  # let it install its handler
        extra = f" {gc.pid}"
    if mode == "argv":
        with open(pidfile + ".argv", "w") as f:
            json.dump(sys.argv, f)
    with open(pidfile + ".tmp", "w") as f:
        f.write(f"{os.getpid()}{extra}")
    os.replace(pidfile + ".tmp", pidfile)
    if mode == "exit3":
        sys.exit(3)
    if mode == "segv":
        signal.signal(signal.SIGSEGV, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGSEGV)
    if mode == "work":
        while True:
            sum(i * i for i in range(10000))
    while True:
        time.sleep(1)


if __name__ == "__main__":
    main()
