from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from pipelines.config import (
    AnalyticsSettings,
    AuditSettings,
    PolicySettings,
    SharingSettings,
    load_settings,
)
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
        ({"ALPR_INGEST_MAX_IMAGE_PIXELS": "100000001"}, "ingest.max_image_pixels=100000001 is"),
        ({"ALPR_INGEST_MAX_IMAGE_PIXELS": "0"}, "ingest.max_image_pixels=0"),
        ({"ALPR_QUALITY_ROW_MOSTLY": "0"}, "quality.row_mostly=0.0 must be in"),
        ({"ALPR_QUALITY_PLATE_MAX_LENGTH": "1"}, "quality.plate_max_length=1 is below"),
        ({"ALPR_QUALITY_RESULT_SAMPLE": "0"}, "quality.result_sample=0 must be a positive"),
        ({"ALPR_QUALITY_HOTLIST_SIZE_BAND": "1.5"}, "quality.hotlist_size_band=1.5 must be in"),
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


# --- every rule of the settings, at its edges, with the whole message (mutation testing, issue 12;
# make mutate, docs/mutation.md). A refusal must name the key and the value or the limit exactly.

_SOURCE = {"name": "ncic-main", "format": "ncic", "location": "/srv/hotlists/ncic.txt"}
_HOOK = "https://hooks.example.com/services/T0/B0/token"


def _sources(*changes: dict[str, object]) -> dict[str, str]:
    return {"ALPR_HOTLISTS_SOURCES": json.dumps([{**_SOURCE, **c} for c in changes])}


@pytest.mark.parametrize(
    ("env", "message"),
    [
        *[
            (
                {"ALPR_S3_DROPS_BUCKET": name},
                f"s3.drops_bucket={name!r} is not a valid bucket name "
                "(3-63 lowercase letters, digits and '-')",
            )
            for name in ("ab", "a" * 64, "drops_x", "Drops", "---")
        ],
        (
            {"ALPR_S3_LAKE_BUCKET": "ab"},
            "s3.lake_bucket='ab' is not a valid bucket name (3-63 lowercase letters, digits and '-')",
        ),
        *[
            ({env: "0"}, f"{key}=0 must be a positive integer")
            for env, key in [
                ("ALPR_S3_MAX_POOL_CONNECTIONS", "s3.max_pool_connections"),
                ("ALPR_INGEST_BATCH_SIZE", "ingest.batch_size"),
                ("ALPR_INGEST_WORKERS", "ingest.workers"),
                ("ALPR_INGEST_MAX_AGE_DAYS", "ingest.max_age_days"),
                ("ALPR_INGEST_MAX_IMAGE_BYTES", "ingest.max_image_bytes"),
                ("ALPR_RECOGNITION_BATCH_SIZE", "recognition.batch_size"),
                ("ALPR_RECOGNITION_WORKERS", "recognition.workers"),
                ("ALPR_AUTH_MIN_PASSWORD_LENGTH", "auth.min_password_length"),
                ("ALPR_AUTH_MAX_FAILED_LOGINS", "auth.max_failed_logins"),
                ("ALPR_AUTH_FAILURE_WINDOW_MINUTES", "auth.failure_window_minutes"),
                ("ALPR_AUTH_LOCKOUT_MINUTES", "auth.lockout_minutes"),
                ("ALPR_AUTH_ARGON2_TIME_COST", "auth.argon2_time_cost"),
                ("ALPR_AUTH_ARGON2_PARALLELISM", "auth.argon2_parallelism"),
                ("ALPR_ALERTS_DUPLICATE_WINDOW_MINUTES", "alerts.duplicate_window_minutes"),
                ("ALPR_ALERTS_REVIEW_MINUTES", "alerts.review_minutes"),
                ("ALPR_ALERTS_EXPIRE_HOURS", "alerts.expire_hours"),
                ("ALPR_ALERTS_WEBHOOK_MAX_ATTEMPTS", "alerts.webhook_max_attempts"),
                ("ALPR_HOTLISTS_LOCAL_MAX_DAYS", "hotlists.local_max_days"),
                ("ALPR_HOTLISTS_MIN_PLATE_LENGTH", "hotlists.min_plate_length"),
                ("ALPR_HOTLISTS_KEEP_VERSIONS", "hotlists.keep_versions"),
                ("ALPR_WEB_SESSION_MINUTES", "web.session_minutes"),
            ]
        ],
        (
            {"ALPR_INGEST_IMAGE_FORMATS": "JPEG,HEIC"},
            "ingest.image_formats has ['HEIC']; valid values: ['BMP', 'JPEG', 'PNG', 'TIFF', 'WEBP']",
        ),
        (
            {"ALPR_INGEST_KEY_PATTERN": r"^(?P<cam>[^/]+)/.*$"},
            "ingest.key_pattern must have a named group 'camera'",
        ),
        (
            {"ALPR_RECOGNITION_BACKEND": "tpu"},
            "recognition.backend='tpu'; valid values: "
            "['auto', 'openvino', 'onnx', 'pytorch', 'openvino-int8']",
        ),
        (
            {"ALPR_RECOGNITION_OCR_BACKEND": "pytorch"},
            "recognition.ocr_backend='pytorch'; valid values: ['auto', 'openvino', 'onnx']",
        ),
        *[
            (
                {"ALPR_RECOGNITION_CONFIDENCE": c},
                f"recognition.confidence={c} must be in [0, 1) (0: calibrated)",
            )
            for c in ("-0.1", "1.0")
        ],
        *[
            (
                {"ALPR_RECOGNITION_IMAGE_SIZE": s},
                f"recognition.image_size={s} must be a multiple of 32 and at least 128",
            )
            for s in ("0", "-32", "48", "96")
        ],
        (
            {"ALPR_RECOGNITION_TILE_OVERLAP": "-1"},
            "recognition.tile_overlap=-1 must be at least 0 and below recognition.tile_size=1280",
        ),
        (
            {"ALPR_AUTH_ARGON2_MEMORY_KIB": "31"},
            "auth.argon2_memory_kib=31 must be at least 8 x auth.argon2_parallelism (32)",
        ),
        (
            {"ALPR_ALERTS_EXPIRE_HOURS": "1", "ALPR_ALERTS_REVIEW_MINUTES": "60"},
            "alerts.expire_hours=1 must be later than alerts.review_minutes=60 "
            "(escalation comes before expiry)",
        ),
        *[
            (
                env,
                "alerts.webhook_backoff_seconds must be >= 0 and "
                "alerts.webhook_timeout_seconds > 0",
            )
            for env in (
                {"ALPR_ALERTS_WEBHOOK_BACKOFF_SECONDS": "-0.5"},
                {"ALPR_ALERTS_WEBHOOK_TIMEOUT_SECONDS": "0"},
            )
        ],
        (
            {
                "ALPR_ALERTS_WEBHOOKS": "ftp://hooks.example.com/x",
                "ALPR_ALERTS_WEBHOOK_SECRET": "s",
            },
            "alerts.webhooks has ['ftp://hooks.example.com/x']; "
            "valid values: http:// or https:// URLs",
        ),
        (
            {"ALPR_ALERTS_WEBHOOKS": _HOOK},
            "alerts.webhook_secret must be set when alerts.webhooks is "
            "(ALPR_ALERTS_WEBHOOK_SECRET): deliveries are signed",
        ),
        *[
            (
                _sources({"name": name}),
                f"hotlists.sources name={name!r} must be letters, digits, '-' and '_'",
            )
            for name in ("", "ncic main")
        ],
        (
            _sources({"format": "xml"}),
            "hotlists.sources['ncic-main'].format='xml'; valid values: ['ncic', 'ccic', 'csv']",
        ),
        (
            _sources({"match_strategy": "fuzzy"}),
            "hotlists.sources['ncic-main'].match_strategy='fuzzy'; "
            "valid values: ['exact', 'lenient']",
        ),
        (
            _sources({"location": "http://lists.example.com/ncic.txt"}),
            "hotlists.sources['ncic-main'].location must be https://, s3://bucket/prefix or a path",
        ),
        (
            _sources({"location": "s3:///ncic/daily"}),
            "hotlists.sources['ncic-main'].location='s3:///ncic/daily' names no bucket",
        ),
        (_sources({"location": ""}), "hotlists.sources ['ncic-main']: location is required"),
        (_sources({}, {}), "hotlists.sources: names ['ncic-main'] appear more than once"),
        (
            {"ALPR_HOTLISTS_SOURCES": "[{oops"},
            "ALPR_HOTLISTS_SOURCES must be a JSON list of objects",
        ),
        *[
            (
                {"ALPR_HOTLISTS_SOURCES": raw},
                "hotlists.sources must be a list of tables ([[hotlists.sources]] in TOML)",
            )
            for raw in ('{"name": "x"}', "[1]")
        ],
        *[
            ({"ALPR_HOTLISTS_MAX_AGE_HOURS": h}, f"hotlists.max_age_hours={h} must be positive")
            for h in ("0.0", "-1.0")
        ],
        *[
            (
                {"ALPR_HOTLISTS_MAX_SHRINK_FRACTION": f},
                f"hotlists.max_shrink_fraction={f} must be in (0, 1]",
            )
            for f in ("0.0", "1.5")
        ],
        (
            {"ALPR_HOTLISTS_FETCH_TIMEOUT_SECONDS": "0"},
            "hotlists.fetch_timeout_seconds must be positive",
        ),
        (
            {"ALPR_WEB_HOST": "0.0.0.0"},
            "web.host='0.0.0.0'; valid values: ['127.0.0.1', '::1', 'localhost']",
        ),
        *[({"ALPR_WEB_PORT": p}, f"web.port={p} must be 1..65535") for p in ("0", "65536")],
        (
            {"ALPR_WEB_SESSION_SECRET": "s" * 31},
            "web.session_secret must be at least 32 characters (or empty)",
        ),
    ],
)
def test_each_refusal_gives_its_whole_message(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as exc:
        load_settings(env=env)
    assert str(exc.value) == message


@pytest.mark.parametrize(
    "env",
    [
        {"ALPR_S3_DROPS_BUCKET": "abc", "ALPR_S3_LAKE_BUCKET": "a" * 63},
        {"ALPR_S3_DROPS_BUCKET": "lpd-drops-2", "ALPR_S3_MAX_POOL_CONNECTIONS": "1"},
        {"ALPR_INGEST_IMAGE_FORMATS": "BMP,TIFF,WEBP,JPEG,PNG", "ALPR_INGEST_BATCH_SIZE": "1"},
        *[
            {"ALPR_RECOGNITION_BACKEND": b, "ALPR_RECOGNITION_OCR_BACKEND": o}
            for b, o in [("openvino", "openvino"), ("onnx", "onnx"), ("pytorch", "auto")]
        ],
        {"ALPR_RECOGNITION_CONFIDENCE": "0.001", "ALPR_RECOGNITION_IMAGE_SIZE": "128"},
        {"ALPR_RECOGNITION_CONFIDENCE": "0.999"},
        {"ALPR_RECOGNITION_CONFIDENCE": "0.0"},  # the calibrated threshold
        {"ALPR_RECOGNITION_TILE_SIZE": "0", "ALPR_RECOGNITION_TILE_OVERLAP": "-5"},  # tiling off
        {"ALPR_RECOGNITION_TILE_OVERLAP": "0"},
        {"ALPR_RECOGNITION_TILE_OVERLAP": "1279"},
        {"ALPR_AUTH_ARGON2_MEMORY_KIB": "32", "ALPR_AUTH_ARGON2_PARALLELISM": "4"},
        {"ALPR_ALERTS_EXPIRE_HOURS": "1", "ALPR_ALERTS_REVIEW_MINUTES": "59"},
        {
            "ALPR_ALERTS_WEBHOOK_BACKOFF_SECONDS": "0.0",
            "ALPR_ALERTS_WEBHOOK_TIMEOUT_SECONDS": "0.5",
        },
        {
            "ALPR_ALERTS_WEBHOOKS": f"{_HOOK},http://127.0.0.1:9000/hook",
            "ALPR_ALERTS_WEBHOOK_SECRET": "s",
        },
        _sources({"name": "a-b_c1", "location": "s3://b/ncic/daily"}),
        _sources({"location": "s3://lists"}, {"name": "csv-local", "format": "csv"}),
        {"ALPR_HOTLISTS_MAX_AGE_HOURS": "0.5", "ALPR_HOTLISTS_MAX_SHRINK_FRACTION": "1.0"},
        {"ALPR_HOTLISTS_FETCH_TIMEOUT_SECONDS": "0.5", "ALPR_HOTLISTS_KEEP_VERSIONS": "1"},
        {"ALPR_WEB_PORT": "1", "ALPR_WEB_HOST": "::1"},
        {
            "ALPR_WEB_PORT": "65535",
            "ALPR_WEB_HOST": "localhost",
            "ALPR_WEB_SESSION_SECRET": "s" * 32,
        },
    ],
)
def test_values_at_the_edges_are_accepted(env: dict[str, str]) -> None:
    settings = load_settings(env=env)
    assert settings.as_env().items() >= {k: v for k, v in env.items() if "SOURCES" not in k}.items()


def test_hotlist_sources_load_from_environment_and_toml_alike(tmp_path: Path) -> None:
    env = {**_sources({}, {"name": "ccic", "format": "ccic", "priority": 2}),
           "ALPR_HOTLISTS_MAX_AGE_HOURS": "2"}  # fmt: skip
    from_env = load_settings(env=env).hotlists
    config = tmp_path / "alpr.toml"
    config.write_text(
        "[hotlists]\nmax_age_hours = 2\n"
        '[[hotlists.sources]]\nname = "ncic-main"\nformat = "ncic"\n'
        'location = "/srv/hotlists/ncic.txt"\n'
        '[[hotlists.sources]]\nname = "ccic"\nformat = "ccic"\n'
        'location = "/srv/hotlists/ncic.txt"\npriority = 2\n'
    )
    assert load_settings(config, env={}).hotlists == from_env
    assert from_env.max_age_hours == 2.0
    assert [(s.name, s.format, s.priority) for s in from_env.sources] == [
        ("ncic-main", "ncic", 0),
        ("ccic", "ccic", 2),
    ]
    assert from_env.source("ccic") is from_env.sources[1]
    assert from_env.source("csv") is None


def test_a_hotlist_source_names_its_index_in_errors() -> None:
    with pytest.raises(
        ConfigError, match=r"^hotlists\.sources\[0\]\.priority='high' is not a valid "
    ):
        load_settings(env=_sources({"priority": "high"}))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(t, True) for t in ("1", "true", "TRUE", "yes", "on")]
    + [(f, False) for f in ("0", "false", "no", "off", "OFF")],
)
def test_every_boolean_spelling_parses(raw: str, expected: bool) -> None:
    settings = load_settings(env={"ALPR_RECOGNITION_OCR_READ_JURISDICTION": raw})
    assert settings.recognition.ocr_read_jurisdiction is expected


def test_toml_values_are_checked_and_typed(tmp_path: Path) -> None:
    config = tmp_path / "alpr.toml"
    config.write_text('data_dir = "/srv/alpr"\n[ingest]\nimage_formats = ["PNG", "WEBP"]\n')
    settings = load_settings(config, env={})
    assert settings.ingest.image_formats == ("PNG", "WEBP")
    assert settings.data_dir == Path("/srv/alpr")
    assert settings.catalog_url == "sqlite:////srv/alpr/catalog.sqlite3"
    config.write_text('[ingest]\nworkers = "many"\n')
    with pytest.raises(ConfigError, match=r"^ingest\.workers='many' is not a valid "):
        load_settings(config, env={})
    config.write_text("ingest = 3\n")
    with pytest.raises(ConfigError, match=r"^\[ingest\] must be a TOML table$"):
        load_settings(config, env={})


def test_config_file_comes_from_alpr_config_or_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    named = tmp_path / "named.toml"
    named.write_text('[s3]\ndrops_bucket = "named-drops"\n')
    assert load_settings(env={"ALPR_CONFIG": str(named)}).s3.drops_bucket == "named-drops"
    monkeypatch.chdir(tmp_path)
    assert load_settings(env={}).s3.drops_bucket == "camera-drops"  # no ./alpr.toml yet
    (tmp_path / "alpr.toml").write_text('[s3]\ndrops_bucket = "local-drops"\n')
    assert load_settings(env={}).s3.drops_bucket == "local-drops"
    assert load_settings(env={"ALPR_CONFIG": str(named)}).s3.drops_bucket == "named-drops"
    monkeypatch.setenv("ALPR_S3_LAKE_BUCKET", "from-os-environ")
    assert load_settings().s3.lake_bucket == "from-os-environ"  # env=None: the process's


def test_missing_or_broken_config_files_are_named(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.toml"
    with pytest.raises(ConfigError) as exc:
        load_settings(missing, env={})
    assert str(exc.value) == f"config file {missing} does not exist"
    broken = tmp_path / "broken.toml"
    broken.write_text("[s3\n")
    with pytest.raises(
        ConfigError, match=rf"^config file {re.escape(str(broken))} is not valid TOML: "
    ):
        load_settings(broken, env={})


def test_replace_changes_fields_or_whole_sections(tmp_path: Path) -> None:
    base = load_settings(env={})
    changed = base.replace(data_dir=tmp_path, s3={"drops_bucket": "other-drops"})
    assert (changed.data_dir, changed.s3.drops_bucket) == (tmp_path, "other-drops")
    assert changed.s3.lake_bucket == base.s3.lake_bucket
    section = base.replace(policy=PolicySettings(retention_days=30))
    assert section.policy == PolicySettings(retention_days=30)


def test_masked_shows_exactly_what_is_safe() -> None:
    settings = load_settings(
        env={
            "ALPR_S3_SECRET_ACCESS_KEY": "hunter2",
            "ALPR_CATALOG_URL": "postgresql+psycopg://alpr:pw@db:5432/alpr",
            "ALPR_WEB_SESSION_SECRET": "w" * 32,
            "ALPR_ALERTS_WEBHOOKS": f"{_HOOK},http://10.0.0.9:8080/a/b/c/d",
            "ALPR_ALERTS_WEBHOOK_SECRET": "hook-secret",
        }
    )
    shown = settings.masked()
    assert shown["s3"]["secret_access_key"] == "****"
    assert shown["catalog"]["url"] == "postgresql+psycopg://****@db:5432/alpr"
    assert shown["web"]["session_secret"] == "****"
    assert shown["alerts"]["webhook_secret"] == "****"
    assert shown["alerts"]["webhooks"] == [
        "https://hooks.example.com/****",
        "http://10.0.0.9:8080/****",
    ]
    plain = load_settings(env={}).masked()  # nothing set, nothing to mask
    assert plain["web"]["session_secret"] == plain["alerts"]["webhook_secret"] == ""


def test_as_env_round_trips_sources_and_lists() -> None:
    settings = load_settings(
        env={
            **_sources({}, {"name": "csv-local", "format": "csv", "list_codes": ["STOLEN"]}),
            "ALPR_ALERTS_WEBHOOKS": _HOOK,
            "ALPR_ALERTS_WEBHOOK_SECRET": "hook-secret",
        }
    )
    env = settings.as_env()
    assert json.loads(env["ALPR_HOTLISTS_SOURCES"])[1]["list_codes"] == ["STOLEN"]
    assert env["ALPR_ALERTS_WEBHOOKS"] == _HOOK
    assert env["ALPR_RECOGNITION_OCR_READ_JURISDICTION"] == "true"
    assert load_settings(env=env) == settings


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg://alpr:p@ss@db:5432/alpr",  # an unescaped '@' in the password
        "postgresql+psycopg://alpr:a://b@db:5432/alpr",  # and a '://'
    ],
)
def test_masked_catalog_url_never_shows_any_part_of_the_password(url: str) -> None:
    shown = load_settings(env={"ALPR_CATALOG_URL": url}).masked()["catalog"]["url"]
    assert shown == "postgresql+psycopg://****@db:5432/alpr"


def test_a_field_of_an_unknown_type_is_refused_by_name() -> None:
    from pipelines.config import _coerce

    with pytest.raises(ConfigError) as exc:
        _coerce("x.y", "1", complex)
    assert str(exc.value) == "x.y: unsupported type <class 'complex'>"


# --- retention periods per data class, under the policy's ceiling (PP-9126 C.4.a) ---


def test_a_retention_period_defaults_to_the_policy_ceiling_and_may_be_shorter() -> None:
    settings = load_settings(
        env={"ALPR_POLICY_RETENTION_DAYS": "30", "ALPR_RETENTION_QUARANTINE_DAYS": "7"}
    )
    assert settings.retention_days("reads_days") == 30
    assert settings.retention_days("quarantine_days") == 7


@pytest.mark.parametrize("days", [31, 365])
def test_a_retention_period_above_the_policy_ceiling_is_refused(days: int) -> None:
    env = {"ALPR_POLICY_RETENTION_DAYS": "30", "ALPR_RETENTION_IMAGES_DAYS": str(days)}
    with pytest.raises(
        ConfigError, match=f"retention.images_days={days} exceeds policy.retention_days=30"
    ):
        load_settings(env=env)


@pytest.mark.parametrize("days", [-1, 366])
def test_a_retention_period_outside_a_year_is_refused(days: int) -> None:
    with pytest.raises(ConfigError, match=f"retention.alerts_days={days} must be 1..365"):
        load_settings(env={"ALPR_RETENTION_ALERTS_DAYS": str(days)})


# --- the sections added with retention, preservation, matching and the schedules: each refusal's
# whole message (it names the key) and each value at the edge that must still pass ---

_CRON_HINT = (
    "must be a cron expression of 5 fields (minute hour day month weekday), e.g. '30 5 * * *'"
)


_REFUSED_PURPOSES = (
    "['civil_litigation', 'internal_affairs', 'personnel_matter', 'administrative_matter', "
    "'civil_immigration_enforcement', 'commercial']"
)
_REASONS = (
    "['criminal_investigation', 'stolen_vehicle', 'missing_person', 'wanted_person', "
    "'amber_alert', 'officer_safety', 'internal_affairs', 'civil_litigation']"
)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        *[
            ({f"ALPR_{key.upper().replace('.', '_')}": "0 2 * *"}, f"{key}='0 2 * *' {_CRON_HINT}")
            for key in (
                "retention.nightly_cron",
                "alerts.sweep_cron",
                "hotlists.refresh_cron",
                "hotlists.check_cron",
            )
        ],
        (
            {"ALPR_HOTLISTS_REFRESH_TIMEZONE": "Mars/Olympus"},
            "hotlists.refresh_timezone='Mars/Olympus' is not a time zone; valid values: IANA "
            "names such as 'America/Denver' or 'UTC'",
        ),
        (
            {"ALPR_RETENTION_READS_DAYS": "366"},
            "retention.reads_days=366 must be 1..365, or 0 for policy.retention_days "
            "(PP-9126 C.4.a)",
        ),
        (
            {"ALPR_RETENTION_SEAWEED_MASTER_URL": "seaweed:9333"},
            "retention.seaweed_master_url='seaweed:9333'; valid values: 'auto', '' or an "
            "http(s) URL",
        ),
        *[
            (
                {"ALPR_PRESERVATION_EVIDENCE_BUCKET": name},
                f"preservation.evidence_bucket={name!r} is not a valid bucket name "
                "(3-63 lowercase letters, digits and '-')",
            )
            for name in ("ab", "a" * 64, "Evidence", "---", "ev_idence")
        ],
        *[
            (
                {"ALPR_PRESERVATION_OBJECT_LOCK_DAYS": d},
                f"preservation.object_lock_days={d} must be 1..36500",
            )
            for d in ("0", "36501")
        ],
        *[
            (
                {"ALPR_PRESERVATION_ACCESS_REPORT_AFTER_DAYS": d},
                f"preservation.access_report_after_days={d} must be 1..365 "
                "(PP-9126 C.5: one year at most)",
            )
            for d in ("0", "366")
        ],
        (
            {"ALPR_MATCHING_VOLUME_BASELINE_DAYS": "0"},
            "matching.volume_baseline_days=0 must be a positive integer",
        ),
        *[
            (
                {"ALPR_MATCHING_VOLUME_FACTOR": f},
                f"matching.volume_factor={f} must be above 1",
            )
            for f in ("1.0", "0.5")
        ],
        *[
            (
                _sources({"name": name}),
                f"hotlists.sources name={name!r} must be letters, digits, '-' and '_'",
            )
            for name in ("-", "_", "-_", "a b")
        ],
        (
            {"ALPR_ANALYTICS_KEY": "k" * 32, "ALPR_ANALYTICS_KEY_FILE": "/run/secrets/key"},
            "analytics.key and analytics.key_file are both set: give one "
            "(ALPR_ANALYTICS_KEY or a key file)",
        ),
        *[
            ({"ALPR_ANALYTICS_KEY": key}, "analytics.key is too short: at least 32 bytes")
            for key in ("k" * 31, "é" * 15 + "k")  # 31 bytes: bytes of the key text count
        ],
        *[
            (
                {"ALPR_ANALYTICS_KEY_VERSION": v},
                f"analytics.key_version={v} must be a positive integer",
            )
            for v in ("0", "-1")
        ],
        (
            {"ALPR_ANALYTICS_TIMEZONE": "Mars/Olympus"},
            "analytics.timezone='Mars/Olympus' is not a time zone; valid values: IANA names "
            "such as 'America/Denver' or 'UTC'",
        ),
        (
            {"ALPR_SHARING_PURPOSES": "stolen_vehicle,internal_affairs,civil_litigation"},
            "sharing.purposes ['civil_litigation', 'internal_affairs'] are not criminal-justice "
            f"purposes (PP-9126 C.6); refused values: {_REFUSED_PURPOSES}",
        ),
        (
            {"ALPR_SHARING_MAX_EXPORT_READS": "0"},
            "sharing.max_export_reads=0 must be a positive integer",
        ),
        (
            {"ALPR_SHARING_PURPOSES": "stolen_vehicle,traffic,burglary"},
            "sharing.purposes ['burglary', 'traffic'] are not reason categories (an export's "
            f"purpose is its reason category); valid values: {_REASONS}",
        ),
        (
            {"ALPR_ANALYTICS_REIDENTIFY_CATEGORIES": "traffic,stolen_vehicle,audit"},
            "analytics.reidentify_categories ['audit', 'traffic'] are not reason categories; "
            f"valid values: {_REASONS}",
        ),
        (
            {"ALPR_RECOGNITION_OCR_MODEL": "tesseract"},
            "recognition.ocr_model='tesseract'; valid values: ['cascade', 'plate', 'ppocr']",
        ),
        *[
            (
                {"ALPR_RECOGNITION_OCR_CASCADE_GATE": g},
                f"recognition.ocr_cascade_gate={float(g)} must be in (0, 1]",
            )
            for g in ("0", "-0.1", "1.0001")
        ],
    ],
)
def test_each_refusal_of_the_new_sections_gives_its_whole_message(
    env: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError) as exc:
        load_settings(env=env)
    assert str(exc.value) == message


@pytest.mark.parametrize(
    "env",
    [
        {"ALPR_RETENTION_SEAWEED_MASTER_URL": ""},
        {"ALPR_RETENTION_SEAWEED_MASTER_URL": "auto"},
        {"ALPR_RETENTION_SEAWEED_MASTER_URL": "http://127.0.0.1:9333"},
        {"ALPR_RETENTION_SEAWEED_MASTER_URL": "https://seaweed.example:9333"},
        {"ALPR_RETENTION_NIGHTLY_CRON": "0 3 * * 1", "ALPR_ALERTS_SWEEP_CRON": "* * * * *"},
        {"ALPR_HOTLISTS_REFRESH_CRON": "0 4 * * *", "ALPR_HOTLISTS_CHECK_CRON": "5 * * * *"},
        {"ALPR_HOTLISTS_REFRESH_TIMEZONE": "UTC"},
        {"ALPR_PRESERVATION_EVIDENCE_BUCKET": "abc"},
        {"ALPR_PRESERVATION_EVIDENCE_BUCKET": "e" * 63},
        {"ALPR_PRESERVATION_EVIDENCE_BUCKET": "lpd-evidence-2"},
        {
            "ALPR_PRESERVATION_OBJECT_LOCK_DAYS": "1",
            "ALPR_PRESERVATION_ACCESS_REPORT_AFTER_DAYS": "1",
        },
        {
            "ALPR_PRESERVATION_OBJECT_LOCK_DAYS": "36500",
            "ALPR_PRESERVATION_ACCESS_REPORT_AFTER_DAYS": "365",
        },
        {"ALPR_MATCHING_VOLUME_BASELINE_DAYS": "1", "ALPR_MATCHING_VOLUME_FACTOR": "1.01"},
        {"ALPR_MATCHING_VOLUME_FACTOR": "1.5"},
        # a period equal to the policy's ceiling is within it
        {"ALPR_POLICY_RETENTION_DAYS": "30", "ALPR_RETENTION_IMAGES_DAYS": "30"},
        {"ALPR_POLICY_RETENTION_DAYS": "365", "ALPR_RETENTION_ALERTS_DAYS": "365"},
    ],
)
def test_values_of_the_new_sections_at_their_edges_are_accepted(env: dict[str, str]) -> None:
    settings = load_settings(env=env)
    assert settings.as_env().items() >= env.items()


def test_hotlist_source_names_with_dashes_and_underscores_are_accepted() -> None:
    settings = load_settings(env=_sources({"name": "ncic-daily_2"}))
    assert [s.name for s in settings.hotlists.sources] == ["ncic-daily_2"]


def test_the_new_sections_defaults() -> None:
    s = load_settings(env={})
    assert (s.retention.seaweed_master_url, s.retention.nightly_cron) == ("auto", "15 2 * * *")
    assert [s.retention_days(p) for p in ("images_days", "reads_days")] == [365, 365]
    assert (
        s.preservation.evidence_bucket,
        s.preservation.object_lock_days,
        s.preservation.access_report_after_days,
    ) == ("alpr-evidence", 3650, 365)
    assert (s.matching.volume_baseline_days, s.matching.volume_factor) == (7, 3.0)
    assert (s.hotlists.refresh_cron, s.hotlists.refresh_timezone, s.hotlists.check_cron) == (
        "30 5 * * *",
        "America/Denver",
        "17 * * * *",
    )
    assert s.alerts.sweep_cron == "*/5 * * * *"


def test_the_pixel_limit_may_reach_pils_guard_and_quality_shares_may_be_whole() -> None:
    settings = load_settings(
        env={
            "ALPR_INGEST_MAX_IMAGE_PIXELS": "100000000",
            "ALPR_QUALITY_ROW_MOSTLY": "1",
            "ALPR_QUALITY_PLATE_MIN_LENGTH": "7",
            "ALPR_QUALITY_PLATE_MAX_LENGTH": "7",  # one plate length only
        }
    )
    assert settings.ingest.max_image_pixels == 100_000_000
    assert settings.quality.row_mostly == 1.0
    assert (settings.quality.plate_min_length, settings.quality.plate_max_length) == (7, 7)


# --- analytics, sharing, the cross-section checks, audit.require_training, the OCR model and its
# cascade gate: each refusal's whole message and the values just inside each bound ---


@pytest.mark.parametrize(
    ("section", "message"),
    [
        (
            lambda: SharingSettings(purposes=()),
            "sharing.purposes must name at least one criminal-justice purpose",
        ),
        (
            lambda: AnalyticsSettings(reidentify_categories=()),
            "analytics.reidentify_categories must name at least one category",
        ),
        (
            lambda: AuditSettings(require_training="yes"),  # type: ignore[arg-type]
            "audit.require_training='yes' must be true or false",
        ),
    ],
)
def test_each_refusal_of_a_section_built_in_code_gives_its_whole_message(
    section: Any, message: str
) -> None:
    with pytest.raises(ConfigError) as exc:
        section()
    assert str(exc.value) == message


@pytest.mark.parametrize(
    "env",
    [
        {"ALPR_ANALYTICS_KEY": "k" * 32, "ALPR_ANALYTICS_KEY_VERSION": "1"},
        {"ALPR_ANALYTICS_KEY": "é" * 16},  # 16 characters, 32 bytes
        {"ALPR_ANALYTICS_KEY_FILE": "/run/secrets/key", "ALPR_ANALYTICS_TIMEZONE": "UTC"},
        {"ALPR_SHARING_PURPOSES": "stolen_vehicle", "ALPR_SHARING_MAX_EXPORT_READS": "1"},
        {"ALPR_ANALYTICS_REIDENTIFY_CATEGORIES": "amber_alert"},
        *[{"ALPR_RECOGNITION_OCR_MODEL": m} for m in ("cascade", "plate", "ppocr")],
        *[{"ALPR_RECOGNITION_OCR_CASCADE_GATE": g} for g in ("0.0001", "1.0")],
    ],
)
def test_values_of_analytics_sharing_and_recognition_at_their_edges_are_accepted(
    env: dict[str, str],
) -> None:
    settings = load_settings(env=env)
    assert settings.as_env().items() >= env.items()


def test_the_audit_sections_defaults_and_require_training_as_a_boolean() -> None:
    assert AuditSettings(require_training=True).require_training is True
    s = load_settings(env={})
    assert (s.analytics.key, s.analytics.key_file, s.analytics.key_version) == ("", "", 1)
    assert s.sharing.max_export_reads == 10_000
    assert (s.recognition.ocr_model, s.recognition.ocr_cascade_gate) == ("cascade", 0.9)


def test_masked_hides_the_analytics_key_and_only_when_set() -> None:
    shown = load_settings(env={"ALPR_ANALYTICS_KEY": "p" * 40}).masked()
    assert shown["analytics"] == {**load_settings(env={}).masked()["analytics"], "key": "****"}
    assert "p" * 40 not in str(shown)
    assert load_settings(env={}).masked()["analytics"]["key"] == ""
