"""Benchmarks write their figures into the docs as sections, one per script."""

from __future__ import annotations

from pathlib import Path

__all__ = ["cpu_description", "write_section"]


def cpu_description() -> str:
    """The CPU's name and whether it computes bfloat16 natively: speeds depend on both."""
    from pipelines.recognition.runtime import resolve_precision

    info = Path("/proc/cpuinfo")
    lines = info.read_text().splitlines() if info.is_file() else []
    names = [line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")]
    native = resolve_precision("auto") == "bf16"
    return f"{names[0] if names else 'CPU'}, {'native' if native else 'no native'} bfloat16"


def write_section(path: Path, heading: str, text: str) -> None:
    """Replace ``heading``'s section of a markdown file (up to the next ``## ``), or append it.

    ``text`` must start with ``heading``. The rest of the file is kept, so several benchmarks can
    share one page.
    """
    if not text.startswith(heading):
        raise ValueError(f"section text must start with {heading!r}")
    old = path.read_text() if path.exists() else "# Benchmarks\n\n"
    start = old.find(heading)
    if start < 0:
        new = old.rstrip() + "\n\n" + text
    else:
        end = old.find("\n## ", start + len(heading))
        new = old[:start] + text.rstrip() + "\n" + (old[end:] if end >= 0 else "")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(new.rstrip() + "\n")
