"""Passwords of staff accounts and share links: argon2id (security.md), bounded in memory.

Why these parameters. argon2-cffi's default is RFC 9106's low-memory profile: 64 MiB, three
passes, four lanes. Each check then takes 64 MiB at once, four threads and ~220 ms of CPU
(~145 ms on this 2-core machine's wall clock). A gateway replica sized for 150 MB (P6) went
to 180 MB on a single sign-in, and a burst of sign-ins, each one holding its own 64 MiB, could
take it past any pod limit: a cheap way to get the API killed. OWASP's Password Storage Cheat
Sheet gives argon2id at 19 MiB, two passes, one lane as its minimum configuration, and an equal
defence to its other listed profiles: 19 MiB and ~26 ms of one core per check here.

Why a pool of its own. Every check and new hash runs in `CHECKS_AT_ONCE` threads kept for
password work, never on the event loop (a share unlock used to stall every viewer of the
process for the whole check) and never more at once than that: a burst of sign-ins queues
instead of multiplying memory, and other work sent to threads never waits behind it.

Why glibc's thresholds are pinned. A check's 19 MiB comes from malloc. The first one is mapped
and unmapped, but glibc then raises its mapping threshold to that size, so later checks take
the memory from the password thread's own heap, which keeps it (malloc_trim does not reach the
top of a thread's heap): two threads kept ~38 MiB for good after a burst of sign-ins. Pinned
before the first check at 16 MiB (mapping) and 32 MiB (trimming), which is where glibc's own
adjustment tends anyway, every check's memory is mapped and given back as it ends.

A hash made with other parameters still verifies (the parameters are part of the stored
hash); `needs_rehash` says when to store a new one, which sign-in does.
"""

from __future__ import annotations

import asyncio
import ctypes
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MEMORY_KIB = 19 * 1024
PASSES = 2
LANES = 1
# At most this many checks at once per process: MEMORY_KIB each, so ~38 MiB at worst.
CHECKS_AT_ONCE = 2

_hasher = PasswordHasher(time_cost=PASSES, memory_cost=MEMORY_KIB, parallelism=LANES)
_pool = ThreadPoolExecutor(max_workers=CHECKS_AT_ONCE, thread_name_prefix="passwords")

P = ParamSpec("P")
T = TypeVar("T")


# glibc's mallopt parameters (malloc.h).
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
MAPPED_FROM_BYTES = 16 * 2**20
TRIMMED_FROM_BYTES = 32 * 2**20


@functools.cache
def _pin_malloc_thresholds() -> bool:
    """Once per process, before its first check; False where the C library is not glibc."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    return bool(
        mallopt(_M_MMAP_THRESHOLD, MAPPED_FROM_BYTES)
        and mallopt(_M_TRIM_THRESHOLD, TRIMMED_FROM_BYTES)
    )


def hash_password(password: str) -> str:
    """A new argon2id hash (blocking, tens of milliseconds: call it through `run`)."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether the password matches the stored hash; False for a malformed hash (blocking:
    call it through `run`)."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with other parameters than today's (an older default)."""
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return False


async def run(work: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """`work` on the password threads: off the event loop, and at most CHECKS_AT_ONCE at once
    in this process (the others wait their turn in order)."""
    _pin_malloc_thresholds()
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_pool, functools.partial(work, *args, **kwargs))
