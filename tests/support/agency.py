"""An agency for tests that go through public interfaces: created with the `pulse` CLI."""

from __future__ import annotations

import json
import subprocess
import sys

PASSWORD = "correct horse battery staple"


def create_org(env: dict[str, str], name: str, email: str, *, test: bool = False) -> dict[str, str]:
    """`pulse admin create-org`; `test` flags an organization the provider never pulls."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pulse_gateway.cli",
            "admin",
            "create-org",
            name,
            "--owner-email",
            email,
            "--owner-password",
            PASSWORD,
            *(["--test"] if test else []),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, str] = json.loads(done.stdout)
    return result
