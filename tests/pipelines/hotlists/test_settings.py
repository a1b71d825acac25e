from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.config import HotlistSource, load_settings
from pipelines.errors import ConfigError

TOML = """
[hotlists]
max_age_hours = 12
max_shrink_fraction = 0.3

[[hotlists.sources]]
name = "ncic"
format = "ncic"
location = "s3://vendor-drops/ncic/"
priority = 10
list_codes = ["V", "P"]

[[hotlists.sources]]
name = "ccic"
format = "ccic"
location = "https://ccic.example.gov/export.txt"
match_strategy = "lenient"
"""


def test_sources_from_toml_and_back_through_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "alpr.toml"
    path.write_text(TOML)
    settings = load_settings(path, env={})
    assert settings.hotlists.max_age_hours == 12.0
    assert settings.hotlists.sources == (
        HotlistSource("ncic", "ncic", "s3://vendor-drops/ncic/", 10, "exact", ("V", "P")),
        HotlistSource("ccic", "ccic", "https://ccic.example.gov/export.txt", 0, "lenient", ()),
    )
    assert settings.hotlists.source("ccic") == settings.hotlists.sources[1]
    assert load_settings(env=settings.as_env()).hotlists == settings.hotlists


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('[[hotlists.sources]]\nname = "x"\nformat = "xml"\nlocation = "a"\n', "format='xml'"),
        (
            '[[hotlists.sources]]\nname = "x"\nformat = "csv"\nlocation = "a"\n'
            'match_strategy = "fuzzy"\n',
            "valid values: ['exact', 'lenient']",
        ),
        ('[[hotlists.sources]]\nname = "x"\nformat = "csv"\n', "location is required"),
        (
            '[[hotlists.sources]]\nname = "x"\nformat = "csv"\nlocation = "http://plain"\n',
            "https://",
        ),
        (
            '[[hotlists.sources]]\nname = "x"\nformat = "csv"\nlocation = "a"\nsize = 3\n',
            "hotlists.sources[0].size",
        ),
        ("[hotlists]\nmax_shrink_fraction = 1.5\n", "hotlists.max_shrink_fraction=1.5"),
        ("[hotlists]\nlocal_max_days = 0\n", "hotlists.local_max_days=0"),
        ("[hotlists]\nsources = 3\n", "hotlists.sources must be a list of tables"),
    ],
)
def test_invalid_hotlist_settings_name_the_key(tmp_path: Path, toml: str, message: str) -> None:
    path = tmp_path / "alpr.toml"
    path.write_text(toml)
    with pytest.raises(ConfigError, match=None) as caught:
        load_settings(path, env={})
    assert message in str(caught.value)


def test_duplicate_source_names_are_refused() -> None:
    env = {
        "ALPR_HOTLISTS_SOURCES": '[{"name": "a", "format": "csv", "location": "x"},'
        ' {"name": "a", "format": "ncic", "location": "y"}]'
    }
    with pytest.raises(ConfigError, match="appear more than once"):
        load_settings(env=env)
