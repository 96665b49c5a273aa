"""Passwords: argon2id at Pulse's parameters, checked off the event loop, a bounded few at once."""

from __future__ import annotations

import asyncio
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
