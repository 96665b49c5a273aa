"""The tests' ServiceProcess (tests/support/services.py) never leaves a service running behind a
test: an orphan keeps consuming the run's queues in its vhost and answers later modules' events
(one CI run lost 20 tests to an aggregator left by one failed test's restart)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.support.services import ROOT, ServiceProcess

pytestmark = pytest.mark.system

LOGS = ROOT / "test-artifacts" / "logs"


def _running(process: subprocess.Popen[bytes] | None) -> bool:
    return process is not None and process.poll() is None


def test_starting_a_running_service_again_stops_the_first_process(
    service_env: dict[str, str],
) -> None:
    proc = ServiceProcess("share", service_env, LOGS)
    proc.start()
    try:
        first = proc.process
        proc.start()  # what a test's `finally` does after failing before its stop()
        assert not _running(first)
        assert _running(proc.process)
        assert proc.process is not first
    finally:
        proc.stop()
    assert not _running(proc.process)


def test_a_service_not_ready_in_time_is_stopped_before_the_error(
    service_env: dict[str, str], tmp_path: Path
) -> None:
    proc = ServiceProcess("share", service_env, tmp_path)
    with pytest.raises(TimeoutError, match="share not ready"):
        proc.start(timeout=0.0)  # fixtures start before their `try`: nothing else stops it
    assert proc.process is not None
    assert not _running(proc.process)
