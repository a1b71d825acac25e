"""The suites of ``expectations/``: JSON data a reviewer reads, loaded here as GX suites.

An expectation's thresholds are ``{"$PARAMETER": name}`` references, filled at validation time
from the settings (``section__field``) and from the batch being judged (its reference time, the
active hotlist's size...), so no threshold is written in code. An expectation whose parameter the
batch cannot give (no camera registry, say) is skipped, and reported as skipped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any

from pipelines.config import PROJECT_ROOT, Settings
from pipelines.errors import ConfigError

__all__ = [
    "SUITES_DIR",
    "Severity",
    "Suite",
    "SuiteExpectation",
    "load_suite",
    "settings_parameters",
]

SUITES_DIR = PROJECT_ROOT / "expectations"
_SETTING_SEP = "__"  # GX parameter names allow no dots: quality__row_mostly is quality.row_mostly


class Severity(StrEnum):
    CRITICAL = "critical"  # the batch stops: downstream steps do not run on it
    WARNING = "warning"  # reported; failing rows are flagged, the batch goes on


@dataclass(frozen=True)
class SuiteExpectation:
    name: str  # unique in its suite; the Dagster check is <suite>_<name>
    type: str  # the GX expectation type, e.g. expect_column_values_to_be_unique
    kwargs: dict[str, Any]
    rule: str  # the policy rule or invariant it protects
    severity: Severity
    # Its column holds personal data (plate text): samples name the failing rows, not values.
    personal: bool = False

    @property
    def column(self) -> str | None:
        return self.kwargs.get("column")

    @property
    def parameters(self) -> frozenset[str]:
        """The ``$PARAMETER`` names its kwargs reference."""
        return frozenset(
            v["$PARAMETER"]
            for v in self.kwargs.values()
            if isinstance(v, dict) and "$PARAMETER" in v
        )

    @property
    def row_level(self) -> bool:
        """Judges each row (so failing rows can be flagged), not the table as a whole."""
        return self.type.startswith("expect_column_values_") or self.type.startswith(
            "expect_compound_columns_"
        )


@dataclass(frozen=True)
class Suite:
    name: str
    description: str
    expectations: tuple[SuiteExpectation, ...]

    def expectation(self, name: str) -> SuiteExpectation:
        for item in self.expectations:
            if item.name == name:
                return item
        raise KeyError(f"suite {self.name!r} has no expectation {name!r}")


@cache
def load_suite(name: str, folder: Path = SUITES_DIR) -> Suite:
    """``expectations/<name>.json``, checked: each expectation has a unique name, a rule and a
    severity in its ``meta``."""
    path = folder / f"{name}.json"
    try:
        raw = json.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"no expectation suite {path.name} in {folder.name}/") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path.name}: not JSON ({exc})") from None
    items = []
    for i, entry in enumerate(raw.get("expectations", [])):
        meta = entry.get("meta", {})
        where = f"{path.name}: expectation {i} ({entry.get('type')})"
        missing = [k for k in ("name", "rule", "severity") if not meta.get(k)]
        if missing:
            raise ConfigError(f"{where}: its meta lacks {missing}")
        try:
            severity = Severity(meta["severity"])
        except ValueError:
            raise ConfigError(
                f"{where}: severity {meta['severity']!r}; valid values: {[s.value for s in Severity]}"
            ) from None
        items.append(
            SuiteExpectation(
                meta["name"],
                entry["type"],
                entry["kwargs"],
                meta["rule"],
                severity,
                bool(meta.get("personal", False)),
            )
        )
    names = [e.name for e in items]
    if len(set(names)) != len(names):
        raise ConfigError(f"{path.name}: expectation names repeat: {sorted(names)}")
    return Suite(raw.get("name", name), raw.get("meta", {}).get("description", ""), tuple(items))


def settings_parameters(settings: Settings, names: frozenset[str]) -> dict[str, Any]:
    """The values of the ``section__field`` parameters among ``names``."""
    out: dict[str, Any] = {}
    for name in names:
        section, sep, field = name.partition(_SETTING_SEP)
        if sep and hasattr(settings, section) and hasattr(getattr(settings, section), field):
            out[name] = getattr(getattr(settings, section), field)
    return out
