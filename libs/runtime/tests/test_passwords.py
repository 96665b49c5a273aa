"""Passwords: argon2id at Pulse's parameters, checked off the event loop, a bounded few at once."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import time

from argon2 import PasswordHasher

from pulse_runtime import passwords


def test_a_hash_is_argon2id_at_the_memory_bounded_parameters() -> None:
    stored = passwords.hash_password("open sesame")
    # The parameters are part of the hash: 19 MiB, two passes, one lane (OWASP's minimum).
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert passwords.verify_password(stored, "open sesame")
    assert not passwords.verify_password(stored, "open sesame!")
    assert not passwords.verify_password("not a hash", "open sesame")
    assert not passwords.needs_rehash(stored)
    assert not passwords.needs_rehash("not a hash")


def test_a_hash_of_the_older_64_mib_default_still_verifies_and_asks_to_be_made_again() -> None:
    older = PasswordHasher().hash("open sesame")  # argon2-cffi's default: m=65536,t=3,p=4
    assert older.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert passwords.verify_password(older, "open sesame")
    assert not passwords.verify_password(older, "open sesame!")
    assert passwords.needs_rehash(older)


async def test_checks_run_off_the_event_loop_and_at_most_a_few_at_once() -> None:
    running, most, lock = 0, 0, threading.Lock()
    loop_thread = threading.get_ident()

    def check(n: int) -> int:
        nonlocal running, most
        assert threading.get_ident() != loop_thread
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.05)
        with lock:
            running -= 1
        return n

    ticks = 0

    async def ticking() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.005)

    ticker = asyncio.create_task(ticking())
    try:
        done = await asyncio.gather(*(passwords.run(check, n) for n in range(6)))
    finally:
        ticker.cancel()
    assert done == list(range(6))
    # A burst queues instead of multiplying memory (each real check holds MEMORY_KIB).
    assert most == passwords.CHECKS_AT_ONCE == 2
    # Three rounds of 50 ms: the loop went on meanwhile.
    assert ticks >= 10


async def test_a_real_burst_of_checks_all_answer_right() -> None:
    stored = passwords.hash_password("correct horse")
    answers = await asyncio.gather(
        *(passwords.run(passwords.verify_password, stored, p) for p in ["correct horse", "x"] * 3)
    )
    assert answers == [True, False] * 3


# In a process of its own: what it measures is the process's resident memory.
BURST_THEN_RSS = """
import asyncio, os
from pulse_runtime import passwords

def rss_mib():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

stored = passwords.hash_password("correct horse")
before = rss_mib()

async def bursts():
    for _ in range(3):
        await asyncio.gather(
            *(passwords.run(passwords.verify_password, stored, "correct horse") for _ in range(6))
        )

asyncio.run(bursts())
print(before, rss_mib())
"""


def test_a_burst_of_checks_gives_its_memory_back() -> None:
    """Each check takes 19 MiB; after the burst the process is back where it was, instead of
    keeping a check's worth on each password thread's heap (~38 MiB for good)."""
    out = subprocess.run(
        [sys.executable, "-c", BURST_THEN_RSS], capture_output=True, text=True, check=True
    ).stdout
    before, after = map(float, out.split())
    assert after - before < 8, (before, after)
