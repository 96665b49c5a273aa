"""reporter's settings: the shared service keys plus how renders run and how long files stay."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import Field

from pulse_runtime.settings import ServiceSettings


class ReporterSettings(ServiceSettings):
    service: ClassVar[str] = "reporter"
    default_port: ClassVar[int] = 8005
    # Renders at once per replica: each is CPU in a worker thread and holds its claimed row
    # (one pool connection) for its duration. More throughput comes from more replicas.
    render_slots: int = Field(default=1, ge=1, le=8)
    # How long a rendered file can be downloaded; the sweep deletes it after that.
    retention_days: float = Field(default=7.0, gt=0, le=366)
    retention_sweep_s: float = Field(default=600.0, gt=0)
    # A name for this process in reporter.render_starts (the pod's name in Kubernetes).
    replica_name: str = ""
    # Scheduled client reports: share builds them (client view and link), mail sends them.
    share_url: str = "http://127.0.0.1:8002"
    schedule_poll_s: float = Field(default=30.0, gt=0)
    schedule_lease_s: float = Field(default=300.0, gt=0)
    smtp_url: str | None = None
    mail_from: str = "Pulse <pulse@localhost>"
    mail_dir: Path = Path("var/mail")
