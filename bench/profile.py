"""Summarise a py-spy profile of a service taken during a scenario: where its CPU goes.

    py-spy record --pid <service pid> --duration 20 --rate 100 --format raw -o svc.txt
    python -m bench.profile svc.txt [--top 40] [--hide faststream,starlette]

Prints, per function, the share of samples it was on the stack (inclusive) and the share it was
running itself (self). bench/RESULTS.md quotes these tables for every target not met.
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

# The frames every sample shares (interpreter and server start-up): they say nothing.
ALWAYS = ("<frozen runpy>", "/__main__.py", "uvicorn/main.py", "asyncio/runners.py")


def frame_name(frame: str) -> str:
    """`func (path:line)` → `func (package/module.py)`."""
    name, _, where = frame.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    for cut in ("site-packages/", "/pulse_", "/bench/"):
        if cut in path:
            path = (
                path.split(cut, 1)[1]
                if cut == "site-packages/"
                else cut[1:] + path.split(cut, 1)[1]
            )
            break
    return f"{name} ({path})"


def summarise(lines: list[str]) -> tuple[int, Counter[str], Counter[str]]:
    """(samples, inclusive counts, self counts) from py-spy's raw (collapsed) format."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in lines:
        stack, _, count = line.rstrip().rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        frames = [f for f in stack.split(";") if not any(a in f for a in ALWAYS)]
        names = [frame_name(f) for f in frames] or ["(interpreter)"]
        total += n
        for name in set(names):
            inclusive[name] += n
        own[names[-1]] += n
    return total, inclusive, own


def main() -> None:
    parser = argparse.ArgumentParser(description="Summarise a py-spy raw profile.")
    parser.add_argument("profile", type=Path)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--hide", default="", help="comma-separated path parts to leave out")
    args = parser.parse_args()
    hidden = [h for h in args.hide.split(",") if h]
    total, inclusive, own = summarise(args.profile.read_text().splitlines())
    print(f"{total} samples")
    for title, counts in (("on the stack", inclusive), ("running itself", own)):
        print(f"\n{title}:")
        shown = [(n, c) for n, c in counts.most_common() if not any(h in n for h in hidden)]
        for name, count in shown[: args.top]:
            print(f"{100 * count / max(total, 1):5.1f} %  {name}")


if __name__ == "__main__":
    main()
