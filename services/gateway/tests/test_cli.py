"""The `pulse` command at first contact: it works right after `make dev` in a development
checkout without PULSE_ENV in the shell, and outside development it says in one line which
setting is missing instead of printing pydantic's report."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from pulse_gateway.cli import DEV_ENV_FILE, SERVICES, development_defaults

pytestmark = pytest.mark.integration


def create_org(env: dict[str, str], cwd: Path, email: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pulse_gateway.cli",
            "admin",
            "create-org",
            "First Contact",
            "--owner-email",
            email,
            "--owner-password",
            "correct horse battery staple",
        ],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def without_env(service_env: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in service_env.items() if k not in ("PULSE_ENV", "PULSE_SERVICE_TOKEN")}


def test_after_make_dev_the_command_runs_as_development(
    service_env: dict[str, str], tmp_path: Path
) -> None:
    (tmp_path / DEV_ENV_FILE).parent.mkdir()
    (tmp_path / DEV_ENV_FILE).write_text("PULSE_ENV=development\n", encoding="utf-8")
    done = create_org(without_env(service_env), tmp_path, "first@contact.example")
    assert done.returncode == 0, done.stderr
    assert set(json.loads(done.stdout)) == {"org_id", "user_id"}


def test_outside_development_one_line_names_the_missing_setting(
    service_env: dict[str, str], tmp_path: Path
) -> None:
    done = create_org(without_env(service_env), tmp_path, "second@contact.example")
    assert done.returncode != 0
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("pulse: PULSE_SERVICE_TOKEN must be set")
    assert "Traceback" not in done.stderr
    assert "validation error" not in done.stderr


def test_the_shell_wins_over_the_development_file(tmp_path: Path) -> None:
    (tmp_path / DEV_ENV_FILE).parent.mkdir()
    (tmp_path / DEV_ENV_FILE).write_text(
        "PULSE_ENV=development\nPULSE_AMQP_URL=amqp://dev/\nNOT_PULSE=1\n", encoding="utf-8"
    )
    shell = {"PULSE_AMQP_URL": "amqp://shell/"}
    development_defaults(tmp_path, shell)
    assert shell == {"PULSE_ENV": "development", "PULSE_AMQP_URL": "amqp://shell/"}
    production = {"PULSE_ENV": "production"}
    development_defaults(tmp_path, production)
    assert production == {"PULSE_ENV": "production"}


def test_migrate_applies_every_service_through_its_own_command(
    service_env: dict[str, str], tmp_path: Path
) -> None:
    """`pulse migrate` on an empty database leaves every service's schema migrated, and a
    second run applies nothing: it runs `pulse-<service> migrate` for each service in turn
    rather than importing them (no service imports another)."""
    admin_url = service_env["PULSE_DATABASE_URL"]
    base, _, _ = admin_url.rpartition("/")
    name = f"pulse_cli_{uuid.uuid4().hex[:8]}"
    subprocess.run(["psql", admin_url, "-qc", f'CREATE DATABASE "{name}"'], check=True)
    env = {**service_env, "PULSE_DATABASE_URL": f"{base}/{name}"}
    command = [sys.executable, "-m", "pulse_gateway.cli", "migrate"]
    try:
        first = subprocess.run(
            command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=180
        )
        assert first.returncode == 0, first.stderr
        applied = dict(line.split(": ", 1) for line in first.stdout.splitlines())
        assert set(applied) == set(SERVICES)
        assert all(not outcome.startswith("0 ") for outcome in applied.values()), applied
        again = subprocess.run(
            command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=180
        )
        assert again.returncode == 0, again.stderr
        assert again.stdout.splitlines() == [f"{s}: 0 migration(s) applied" for s in SERVICES]
    finally:
        subprocess.run(
            ["psql", admin_url, "-qc", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'],
            check=False,
        )
