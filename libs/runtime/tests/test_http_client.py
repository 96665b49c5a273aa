"""What every service's calls to another service (httpx) cost beyond the call itself."""

from __future__ import annotations

import sys

from httpcore._synchronization import current_async_library


async def test_httpcore_names_its_async_library_without_searching_the_disk() -> None:
    """httpcore asks `import sniffio` which async library runs, for each lock and event a
    request makes (four per call to a peer service). With sniffio missing, every ask was a
    failed import that searched each sys.path entry on disk again: a call to a peer cost
    ~1.04 ms of the caller's CPU instead of ~0.69, and the campaign page, which asks four
    peers, 6.5 ms of the gateway's instead of 5.3. pulse-runtime depends on sniffio for this."""
    assert current_async_library() == "asyncio"
    assert "sniffio" in sys.modules, "sniffio is not installed: httpcore searches for it per call"
