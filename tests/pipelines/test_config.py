from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.config import load_settings
from pipelines.errors import ConfigError


def test_defaults_load_without_file_or_environment() -> None:
    settings = load_settings(env={})
    assert settings.policy.retention_days == 365
    assert settings.catalog_url.startswith("sqlite:///")


def test_environment_overrides_toml(tmp_path: Path) -> None:
    config = tmp_path / "alpr.toml"
    config.write_text('[s3]\ndrops_bucket = "from-toml"\nlake_bucket = "lake-toml"\n')
    settings = load_settings(config, env={"ALPR_S3_DROPS_BUCKET": "from-env"})
    assert settings.s3.drops_bucket == "from-env"
    assert settings.s3.lake_bucket == "lake-toml"


def test_tuple_and_int_fields_parse_from_environment() -> None:
    settings = load_settings(
        env={"ALPR_INGEST_IMAGE_FORMATS": "JPEG, WEBP", "ALPR_INGEST_WORKERS": "4"}
    )
    assert settings.ingest.image_formats == ("JPEG", "WEBP")
    assert settings.ingest.workers == 4


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"ALPR_POLICY_RETENTION_DAYS": "400"}, "policy.retention_days=400"),
        ({"ALPR_INGEST_WORKERS": "many"}, "ALPR_INGEST_WORKERS='many'"),
        ({"ALPR_INGEST_IMAGE_FORMATS": "JPEG,HEIC"}, "valid values"),
        ({"ALPR_RECOGNITION_BACKEND": "tpu"}, "valid values"),
        ({"ALPR_RECOGNITION_IMAGE_SIZE": "600"}, "multiple of 32"),
        ({"ALPR_RECOGNITION_PRECISION": "fp8"}, "recognition.precision='fp8'"),
        ({"ALPR_RECOGNITION_TILE_SIZE": "-1"}, "recognition.tile_size=-1"),
        ({"ALPR_RECOGNITION_TILE_OVERLAP": "1280"}, "recognition.tile_overlap=1280"),
        ({"ALPR_S3_DROPS_BUCKET": "Bad_Bucket"}, "s3.drops_bucket"),
    ],
)
def test_invalid_values_name_the_key(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("[", r"\[")):
        load_settings(env=env)


def test_unknown_toml_key_lists_valid_keys(tmp_path: Path) -> None:
    config = tmp_path / "alpr.toml"
    config.write_text("[ingest]\nbatchsize = 3\n")
    with pytest.raises(ConfigError, match=r"ingest\.batchsize.*ingest\.batch_size"):
        load_settings(config, env={})


def test_masked_hides_secrets() -> None:
    settings = load_settings(
        env={
            "ALPR_S3_SECRET_ACCESS_KEY": "hunter2",
            "ALPR_CATALOG_URL": "postgresql+psycopg://alpr:pw@db:5432/alpr",
        }
    )
    shown = str(settings.masked())
    assert "hunter2" not in shown and ":pw@" not in shown
    assert "db:5432/alpr" in shown


@pytest.mark.parametrize(("raw", "expected"), [("false", False), ("1", True), ("off", False)])
def test_boolean_fields_parse_from_environment(raw: str, expected: bool) -> None:
    settings = load_settings(env={"ALPR_RECOGNITION_OCR_READ_JURISDICTION": raw})
    assert settings.recognition.ocr_read_jurisdiction is expected


def test_invalid_boolean_names_the_variable() -> None:
    with pytest.raises(ConfigError, match="ALPR_RECOGNITION_OCR_READ_JURISDICTION"):
        load_settings(env={"ALPR_RECOGNITION_OCR_READ_JURISDICTION": "maybe"})


def test_as_env_round_trips(tmp_path: Path) -> None:
    settings = load_settings(
        env={
            "ALPR_INGEST_IMAGE_FORMATS": "JPEG,PNG,WEBP",
            "ALPR_RECOGNITION_OCR_READ_JURISDICTION": "no",
        }
    ).replace(data_dir=tmp_path, s3={"drops_bucket": "other-drops"})
    assert load_settings(env=settings.as_env()) == settings


# --- policy.retention_days at its edges (PP-9126 C.4.a: at most one year; issue 12) ---


@pytest.mark.parametrize("days", [1, 365])
def test_retention_days_within_one_year_are_accepted(days: int) -> None:
    assert (
        load_settings(env={"ALPR_POLICY_RETENTION_DAYS": str(days)}).policy.retention_days == days
    )


@pytest.mark.parametrize("days", [366, 0, -1])
def test_retention_days_outside_one_year_are_refused_naming_the_key(days: int) -> None:
    with pytest.raises(ConfigError, match=f"policy.retention_days={days} "):
        load_settings(env={"ALPR_POLICY_RETENTION_DAYS": str(days)})
