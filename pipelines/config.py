"""The one configuration object: defaults, then an optional TOML file, then ``ALPR_*`` variables.

Every knob of the system lives here, typed and checked at load; an invalid value fails with the key
and the values it accepts. ``ALPR_<SECTION>_<FIELD>`` overrides ``[section] field`` of the TOML
file named by ``ALPR_CONFIG`` (default ``./alpr.toml`` when it exists).
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import tomllib
import typing
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, get_type_hints

from pipelines.errors import ConfigError
from pipelines.recognition.runtime import MIN_IMAGE_SIZE, PRECISIONS

__all__ = [
    "OCR_MODELS",
    "AlertSettings",
    "AnalyticsSettings",
    "AuditSettings",
    "AuthSettings",
    "CatalogSettings",
    "HotlistSettings",
    "HotlistSource",
    "IngestSettings",
    "MatchingSettings",
    "PolicySettings",
    "PreservationSettings",
    "RecognitionSettings",
    "RetentionSettings",
    "S3Settings",
    "Settings",
    "SharingSettings",
    "WebSettings",
    "load_settings",
]

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class S3Settings:
    """Object storage. The embedded default is the SeaweedFS server that ``alpr services up`` starts."""

    endpoint_url: str = "http://127.0.0.1:8333"
    region: str = "us-east-1"
    access_key_id: str = "alpr"
    secret_access_key: str = "alpr-local-secret"
    drops_bucket: str = "camera-drops"
    drops_prefix: str = ""
    lake_bucket: str = "alpr-lake"
    max_pool_connections: int = 32

    def __post_init__(self) -> None:
        for name in ("drops_bucket", "lake_bucket"):
            value = getattr(self, name)
            if (
                not (3 <= len(value) <= 63)
                or not value.replace("-", "").isalnum()
                or value != value.lower()
            ):
                raise ConfigError(
                    f"s3.{name}={value!r} is not a valid bucket name "
                    "(3-63 lowercase letters, digits and '-')"
                )
        _positive("s3.max_pool_connections", self.max_pool_connections)


@dataclass(frozen=True)
class CatalogSettings:
    """The relational catalog (ledger, runs, later holds, alerts and audit) behind SQLAlchemy."""

    url: str = ""  # empty: a SQLite file under Settings.data_dir

    def resolved_url(self, data_dir: Path) -> str:
        return self.url or f"sqlite:///{data_dir / 'catalog.sqlite3'}"


# PIL's process-wide decompression-bomb guard (pipelines/ingest/checks.py sets it): no frame
# setting may exceed it, so every refusal of a large frame is ingestion's own, from its header.
MAX_IMAGE_PIXELS_CEILING = 100_000_000


@dataclass(frozen=True)
class IngestSettings:
    """How camera drops are recognized and which ones are refused."""

    # Named groups: camera (required), captured (optional, parsed with key_time_format).
    key_pattern: str = (
        r"^(?P<camera>[A-Za-z0-9_-]+)/(?P<date>\d{4}-\d{2}-\d{2})/"
        r"(?P<captured>\d{8}T\d{6}Z)[^/]*\.(?P<ext>[A-Za-z0-9]+)$"
    )
    key_time_format: str = "%Y%m%dT%H%M%SZ"
    image_formats: tuple[str, ...] = ("JPEG", "PNG")
    sidecar_suffix: str = ".json"
    max_image_bytes: int = 20_000_000
    # width x height: larger frames are no camera's, and are refused before they are decoded
    max_image_pixels: int = 40_000_000
    max_age_days: int = 400  # older capture times are implausible for a live drop
    future_tolerance_seconds: int = 300  # camera clock skew tolerated
    sidecar_key_tolerance_seconds: int = 120  # sidecar and key times further apart contradict
    camera_registry: str = ""  # path to a CSV/TXT of camera ids; empty: any camera accepted
    batch_size: int = 256
    workers: int = 16

    def __post_init__(self) -> None:
        _positive("ingest.batch_size", self.batch_size)
        _positive("ingest.workers", self.workers)
        _positive("ingest.max_age_days", self.max_age_days)
        _positive("ingest.max_image_bytes", self.max_image_bytes)
        _positive("ingest.max_image_pixels", self.max_image_pixels)
        if self.max_image_pixels > MAX_IMAGE_PIXELS_CEILING:
            raise ConfigError(
                f"ingest.max_image_pixels={self.max_image_pixels} is above "
                f"{MAX_IMAGE_PIXELS_CEILING}, the guard PIL keeps for the whole process"
            )
        known = {"JPEG", "PNG", "WEBP", "BMP", "TIFF"}
        bad = sorted(set(self.image_formats) - known)
        if bad:
            raise ConfigError(f"ingest.image_formats has {bad}; valid values: {sorted(known)}")
        if "(?P<camera>" not in self.key_pattern:
            raise ConfigError("ingest.key_pattern must have a named group 'camera'")


OCR_MODELS = ("cascade", "plate", "ppocr")


@dataclass(frozen=True)
class RecognitionSettings:
    """Plate detector and OCR."""

    detector_weights: str = ""  # empty: the weights shipped in models/
    backend: str = "auto"  # detector backend
    # Detector threshold; 0: the one calibrated on the real validation photos for the backend in
    # use, shipped beside the weights (models/plate-detector: 0.10 for the f32 models, 0.05 for
    # INT8, which loses one real plate in 45 at 0.10).
    confidence: float = 0.0
    image_size: int = 640  # long side of the frame at detection, a multiple of 32, >= 128
    # Frames with a longer side than this are also read in overlapping tiles of this many pixels
    # (0: never), so small plates in large frames keep the size the detector was trained on.
    tile_size: int = 1280
    tile_overlap: int = 256  # shared by neighbouring tiles; wider plates come from the whole frame
    batch_size: int = 8
    workers: int = 2  # batches recognized in parallel, each with single-threaded models
    # Plate OCR: "plate" (the project's own CTC model, models/plate-ocr), "ppocr" (PP-OCRv4, the
    # fallback and baseline) or "cascade" (plate, then PP-OCRv4 for the crops whose calibrated
    # confidence is under ocr_cascade_gate); the default is the more accurate on the held-out
    # US crops (docs/recognition.md: cascade 0.939, ppocr 0.926, plate 0.865 with state bands).
    ocr_model: str = "cascade"
    ocr_model_dir: str = ""  # empty: models/plate-ocr (ocr_model = "plate" or "cascade")
    ocr_cascade_gate: float = 0.9
    ocr_backend: str = "auto"
    # Also read state names/slogans on US-shaped plates (PP-OCRv4's bands, for either model).
    ocr_read_jurisdiction: bool = True
    # OpenVINO inference precision of both models: auto (bf16 where the CPU has it), f32 or bf16.
    precision: str = "auto"

    @property
    def detector_confidence(self) -> float | None:
        """The detector's threshold; None (``confidence = 0``): the one calibrated for its backend."""
        return self.confidence or None

    def __post_init__(self) -> None:
        valid = ("auto", "openvino", "onnx", "pytorch")
        detectors = (*valid, "openvino-int8")  # the detector's quantized IR (PlateDetector)
        if self.backend not in detectors:
            raise ConfigError(
                f"recognition.backend={self.backend!r}; valid values: {list(detectors)}"
            )
        if self.ocr_model not in OCR_MODELS:
            raise ConfigError(
                f"recognition.ocr_model={self.ocr_model!r}; valid values: {list(OCR_MODELS)}"
            )
        if not 0.0 < self.ocr_cascade_gate <= 1.0:
            raise ConfigError(
                f"recognition.ocr_cascade_gate={self.ocr_cascade_gate} must be in (0, 1]"
            )
        if self.ocr_backend not in valid[:3]:
            raise ConfigError(
                f"recognition.ocr_backend={self.ocr_backend!r}; valid values: {list(valid[:3])}"
            )
        if self.precision not in PRECISIONS:
            raise ConfigError(
                f"recognition.precision={self.precision!r}; valid values: {list(PRECISIONS)}"
            )
        if not 0.0 <= self.confidence < 1.0:
            raise ConfigError(
                f"recognition.confidence={self.confidence} must be in [0, 1) (0: calibrated)"
            )
        if self.image_size < MIN_IMAGE_SIZE or self.image_size % 32:
            raise ConfigError(
                f"recognition.image_size={self.image_size} must be a multiple of 32"
                f" and at least {MIN_IMAGE_SIZE}"
            )
        if self.tile_size < 0:
            raise ConfigError(f"recognition.tile_size={self.tile_size} must be 0 (off) or positive")
        if self.tile_size and not 0 <= self.tile_overlap < self.tile_size:
            raise ConfigError(
                f"recognition.tile_overlap={self.tile_overlap} must be at least 0 and below "
                f"recognition.tile_size={self.tile_size}"
            )
        _positive("recognition.batch_size", self.batch_size)
        _positive("recognition.workers", self.workers)


@dataclass(frozen=True)
class PolicySettings:
    """Knobs of policy PP-9126 (see docs/policy.md)."""

    retention_days: int = 365  # rule C.4.a: no more than one year

    def __post_init__(self) -> None:
        if not 1 <= self.retention_days <= 365:
            raise ConfigError(
                f"policy.retention_days={self.retention_days} must be 1..365 (PP-9126 C.4.a)"
            )


RETENTION_PERIODS = ("images_days", "reads_days", "quarantine_days", "alerts_days")


@dataclass(frozen=True)
class RetentionSettings:
    """Days each data class is kept, counted from capture time (UTC); PP-9126 C.4.a: at most 365.

    A capture date expires as a whole once its first instant is that many days old, so nothing
    older than the period survives a nightly run (see ``pipelines/retention/policy.py``).
    """

    # Each at most policy.retention_days, the department's ceiling; 0: that ceiling.
    images_days: int = 0  # source objects and sidecars, the images table, plate crops
    reads_days: int = 0  # reads, detections, recognition_errors, sightings
    quarantine_days: int = 0  # quarantined objects (from registration when no capture time)
    alerts_days: int = 0  # alerts and their copies of reads (hits, transitions, deliveries)
    # SeaweedFS keeps deleted bytes until its volumes are vacuumed: its master is asked to after a
    # run. "auto": the master of the embedded store (S3 port + 1000) when the S3 server says it
    # is SeaweedFS; "": none (AWS S3: lifecycle rules on noncurrent versions); or a URL.
    seaweed_master_url: str = "auto"
    nightly_cron: str = "15 2 * * *"  # when the schedules of both UIs run a pass (UTC)

    def __post_init__(self) -> None:
        _check_cron("retention.nightly_cron", self.nightly_cron)
        for name in RETENTION_PERIODS:
            value = getattr(self, name)
            if not 0 <= value <= 365:
                raise ConfigError(
                    f"retention.{name}={value} must be 1..365, or 0 for policy.retention_days "
                    "(PP-9126 C.4.a)"
                )
        url = self.seaweed_master_url
        if url not in ("auto", "") and not url.startswith(("http://", "https://")):
            raise ConfigError(
                f"retention.seaweed_master_url={url!r}; valid values: 'auto', '' or an http(s) URL"
            )


@dataclass(frozen=True)
class PreservationSettings:
    """Evidence preserved past retention (PP-9126 C.4.c, C.5)."""

    # Never the drops or lake bucket; created with S3 Object Lock, refused if it lacks it.
    evidence_bucket: str = "alpr-evidence"
    object_lock_days: int = 3650  # COMPLIANCE retention of each evidence object: nobody shortens it
    access_report_after_days: int = 365  # C.5: older preserved data needs a field interview report

    def __post_init__(self) -> None:
        value = self.evidence_bucket
        if (
            not (3 <= len(value) <= 63)
            or not value.replace("-", "").isalnum()
            or value != value.lower()
        ):
            raise ConfigError(
                f"preservation.evidence_bucket={value!r} is not a valid bucket name "
                "(3-63 lowercase letters, digits and '-')"
            )
        if not 1 <= self.object_lock_days <= 36500:
            raise ConfigError(
                f"preservation.object_lock_days={self.object_lock_days} must be 1..36500"
            )
        if not 1 <= self.access_report_after_days <= 365:
            raise ConfigError(
                f"preservation.access_report_after_days={self.access_report_after_days} must be "
                "1..365 (PP-9126 C.5: one year at most)"
            )


@dataclass(frozen=True)
class AuthSettings:
    """Users of the review workflow: password rules and login throttling."""

    min_password_length: int = 8
    max_failed_logins: int = 5  # failures within failure_window_minutes lock the account
    failure_window_minutes: int = 15
    lockout_minutes: int = 15
    # argon2id cost (argon2-cffi's RFC 9106 "low memory" profile by default)
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65536
    argon2_parallelism: int = 4

    def __post_init__(self) -> None:
        for name in (
            "min_password_length",
            "max_failed_logins",
            "failure_window_minutes",
            "lockout_minutes",
            "argon2_time_cost",
            "argon2_parallelism",
        ):
            _positive(f"auth.{name}", getattr(self, name))
        if self.argon2_memory_kib < 8 * self.argon2_parallelism:
            raise ConfigError(
                f"auth.argon2_memory_kib={self.argon2_memory_kib} must be at least 8 x "
                f"auth.argon2_parallelism ({8 * self.argon2_parallelism})"
            )


@dataclass(frozen=True)
class AuditSettings:
    """Audited access to ALPR data (PP-9126 B.6, B.9, C.7): the reason every search documents,
    and the audit log's chain heads in the evidence bucket.

    A search names one of ``reason_categories`` and a free-text reason of at least
    ``min_reason_length`` characters that is not made only of ``vague_reasons`` words (case and
    punctuation ignored); the categories of ``case_required_categories`` also need a case number,
    and any case number given must match ``case_number_pattern`` (whole, upper-cased)."""

    reason_categories: tuple[str, ...] = (
        "criminal_investigation",
        "stolen_vehicle",
        "missing_person",
        "wanted_person",
        "amber_alert",
        "officer_safety",
        "internal_affairs",
        "civil_litigation",
    )
    min_reason_length: int = 20
    # Published audits of ALPR searches found reasons such as these, alone or together.
    vague_reasons: tuple[str, ...] = (
        "inv",
        "invest",
        "investigation",
        "investigations",
        "test",
        "testing",
        "n/a",
        "na",
        "none",
        "case",
        "ongoing",
        "query",
        "search",
        "check",
        "official",
        "business",
        "law",
        "enforcement",
        "le",
        "per",
        "request",
        "an",
        "a",
        "the",
        "for",
    )
    case_required_categories: tuple[str, ...] = (
        "criminal_investigation",
        "internal_affairs",
        "civil_litigation",
    )
    case_number_pattern: str = r"[A-Z0-9]{1,8}-[0-9]{1,10}"  # e.g. 24-001234, IA-3
    max_search_results: int = 10_000  # rows a search returns at most (all are counted)
    # CJIS: audit records kept at least one year; the policy's default 3. Chain heads are locked
    # (S3 Object Lock COMPLIANCE) in preservation.evidence_bucket for this long.
    log_retention_days: int = 1095
    head_prefix: str = "audit/chain-heads/"
    head_cron: str = "0 * * * *"  # a chain head is written this often (UTC): truncation's bound
    report_inactive_days: int = 90  # the audit report lists users without a login this long
    # B.3, B.5: search, alert review and preservation only with current training for each
    # (pipelines/audit/training.py); off by default, on in infra/alpr.production.toml.
    require_training: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.require_training, bool):
            raise ConfigError(
                f"audit.require_training={self.require_training!r} must be true or false"
            )
        if not self.reason_categories:
            raise ConfigError("audit.reason_categories must name at least one category")
        bad = [c for c in self.reason_categories if not re.fullmatch(r"[a-z0-9_]+", c)]
        if bad:
            raise ConfigError(
                f"audit.reason_categories {bad} are not valid: lowercase letters, digits and _"
            )
        unknown = sorted(set(self.case_required_categories) - set(self.reason_categories))
        if unknown:
            raise ConfigError(
                f"audit.case_required_categories {unknown} are not reason categories; valid "
                f"values: {list(self.reason_categories)}"
            )
        for name in ("min_reason_length", "max_search_results", "report_inactive_days"):
            _positive(f"audit.{name}", getattr(self, name))
        try:
            re.compile(self.case_number_pattern)
        except re.error as exc:
            raise ConfigError(
                f"audit.case_number_pattern={self.case_number_pattern!r} is not a regular "
                f"expression: {exc}"
            ) from None
        if not 365 <= self.log_retention_days <= 36500:
            raise ConfigError(
                f"audit.log_retention_days={self.log_retention_days} must be 365..36500 "
                "(CJIS: audit records kept at least one year)"
            )
        if not self.head_prefix.endswith("/") or self.head_prefix.startswith("/"):
            raise ConfigError(
                f"audit.head_prefix={self.head_prefix!r} must end with '/' and not start with one"
            )
        _check_cron("audit.head_cron", self.head_cron)


# A pseudonymization key is at least this long (bytes of the key text): 256 bits of HMAC-SHA256.
MIN_ANALYTICS_KEY_LENGTH = 32


@dataclass(frozen=True)
class AnalyticsSettings:
    """Crime analysis on pseudonymized reads (PP-9126 B.8, B.9; pipelines/analytics).

    Plates become HMAC-SHA256 pseudonyms under a key that lives outside the data store: ``key``
    (prefer ``ALPR_ANALYTICS_KEY``) or ``key_file`` (a mounted secret holding it); never both.
    ``key_version`` labels the key in force: raise it with each new key, then rebuild with
    ``alpr analytics rotate-key``. Re-identifying a pseudonym needs one of
    ``reidentify_categories`` (law-enforcement reasons, a subset of audit.reason_categories)."""

    key: str = field(default="", repr=False)
    key_file: str = ""
    key_version: int = 1
    timezone: str = "America/Denver"  # the hour of day of time-of-day profiles is local
    reidentify_categories: tuple[str, ...] = (
        "criminal_investigation",
        "stolen_vehicle",
        "missing_person",
        "wanted_person",
        "amber_alert",
        "officer_safety",
    )

    def __post_init__(self) -> None:
        if self.key and self.key_file:
            raise ConfigError(
                "analytics.key and analytics.key_file are both set: give one "
                "(ALPR_ANALYTICS_KEY or a key file)"
            )
        if self.key and len(self.key.encode()) < MIN_ANALYTICS_KEY_LENGTH:
            raise ConfigError(
                f"analytics.key is too short: at least {MIN_ANALYTICS_KEY_LENGTH} bytes"
            )
        _positive("analytics.key_version", self.key_version)
        _check_timezone("analytics.timezone", self.timezone)
        if not self.reidentify_categories:
            raise ConfigError("analytics.reidentify_categories must name at least one category")


@dataclass(frozen=True)
class AlertSettings:
    """The alert review workflow (PP-9126 C.1-C.3) and its webhook notifications."""

    duplicate_window_minutes: int = 10  # same entry, plate and camera: one alert with a count
    review_minutes: int = 15  # a pending alert older than this is escalated
    expire_hours: int = 24  # ... and one older than this expires
    sweep_cron: str = "*/5 * * * *"  # how often the schedules escalate and expire (UTC)
    review_base_url: str = "http://127.0.0.1:8000"  # links in notifications: <base>/alerts/<id>
    webhooks: tuple[str, ...] = ()  # URLs POSTed a signed JSON payload for each new alert
    webhook_secret: str = ""  # HMAC-SHA256 key; prefer ALPR_ALERTS_WEBHOOK_SECRET
    webhook_include_plate: bool = False  # personal data in the payload only when asked for
    webhook_max_attempts: int = 5
    webhook_backoff_seconds: float = 1.0  # wait before retry n: backoff * 2**(n-1)
    webhook_timeout_seconds: float = 10.0

    def __post_init__(self) -> None:
        for name in ("duplicate_window_minutes", "review_minutes", "expire_hours"):
            _positive(f"alerts.{name}", getattr(self, name))
        _positive("alerts.webhook_max_attempts", self.webhook_max_attempts)
        _check_cron("alerts.sweep_cron", self.sweep_cron)
        if self.expire_hours * 60 <= self.review_minutes:
            raise ConfigError(
                f"alerts.expire_hours={self.expire_hours} must be later than "
                f"alerts.review_minutes={self.review_minutes} (escalation comes before expiry)"
            )
        if self.webhook_backoff_seconds < 0 or self.webhook_timeout_seconds <= 0:
            raise ConfigError(
                "alerts.webhook_backoff_seconds must be >= 0 and alerts.webhook_timeout_seconds > 0"
            )
        bad = [url for url in self.webhooks if not url.startswith(("https://", "http://"))]
        if bad:
            raise ConfigError(f"alerts.webhooks has {bad}; valid values: http:// or https:// URLs")
        if self.webhooks and not self.webhook_secret:
            raise ConfigError(
                "alerts.webhook_secret must be set when alerts.webhooks is "
                "(ALPR_ALERTS_WEBHOOK_SECRET): deliveries are signed"
            )


HOTLIST_FORMATS = ("ncic", "ccic", "csv")
MATCH_STRATEGIES = ("exact", "lenient")


@dataclass(frozen=True)
class HotlistSource:
    """One hotlist feed: ``[[hotlists.sources]]`` in TOML (or JSON in ``ALPR_HOTLISTS_SOURCES``)."""

    name: str  # the list name entries carry (list_name)
    format: str  # ncic | ccic | csv
    # s3://bucket/prefix (newest object under the prefix), https://host/path, or a local path
    location: str = ""
    priority: int = 0  # higher first when a read hits several lists
    match_strategy: str = "exact"  # exact | lenient (look-alike characters, one more edit)
    list_codes: tuple[str, ...] = ()  # codes (NCIC) or types (CCIC, CSV) subscribed; empty: all

    def __post_init__(self) -> None:
        key = f"hotlists.sources[{self.name!r}]"
        if not self.name or not self.name.replace("-", "").replace("_", "").isalnum():
            raise ConfigError(
                f"hotlists.sources name={self.name!r} must be letters, digits, '-' and '_'"
            )
        if self.format not in HOTLIST_FORMATS:
            raise ConfigError(
                f"{key}.format={self.format!r}; valid values: {list(HOTLIST_FORMATS)}"
            )
        if self.match_strategy not in MATCH_STRATEGIES:
            raise ConfigError(
                f"{key}.match_strategy={self.match_strategy!r}; "
                f"valid values: {list(MATCH_STRATEGIES)}"
            )
        if self.location.startswith("http://"):
            raise ConfigError(f"{key}.location must be https://, s3://bucket/prefix or a path")
        if self.location.startswith("s3://") and not self.location[5:].split("/", 1)[0]:
            raise ConfigError(f"{key}.location={self.location!r} names no bucket")


@dataclass(frozen=True)
class HotlistSettings:
    """Hotlist sources and the checks every refresh passes (PP-9126 B.4)."""

    sources: tuple[HotlistSource, ...] = ()
    max_age_hours: float = 24.0  # an active list older than this is stale (B.4: at least daily)
    max_shrink_fraction: float = 0.5  # a list losing more than this is refused unless forced
    local_max_days: int = 100  # agency-local entries expire at most this long after entry
    min_plate_length: int = 2  # shorter plates are junk: skipped and counted
    junk_plates: tuple[str, ...] = ("00",)  # normalized plates skipped and counted as junk
    keep_versions: int = 7  # versions whose entries stay in the catalog (the active one always)
    fetch_timeout_seconds: float = 60.0
    # The daily refresh of every source, before the morning shift, in the agency's local time
    refresh_cron: str = "30 5 * * *"
    refresh_timezone: str = "America/Denver"
    check_cron: str = "17 * * * *"  # staleness is also checked on its own (UTC): nothing may run

    def __post_init__(self) -> None:
        if self.max_age_hours <= 0:
            raise ConfigError(f"hotlists.max_age_hours={self.max_age_hours} must be positive")
        if not 0.0 < self.max_shrink_fraction <= 1.0:
            raise ConfigError(
                f"hotlists.max_shrink_fraction={self.max_shrink_fraction} must be in (0, 1]"
            )
        for name in ("local_max_days", "min_plate_length", "keep_versions"):
            _positive(f"hotlists.{name}", getattr(self, name))
        if self.fetch_timeout_seconds <= 0:
            raise ConfigError("hotlists.fetch_timeout_seconds must be positive")
        for name in ("refresh_cron", "check_cron"):
            _check_cron(f"hotlists.{name}", getattr(self, name))
        _check_timezone("hotlists.refresh_timezone", self.refresh_timezone)
        names = [s.name for s in self.sources]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ConfigError(f"hotlists.sources: names {twice} appear more than once")
        missing = [s.name for s in self.sources if not s.location]
        if missing:
            raise ConfigError(f"hotlists.sources {missing}: location is required")

    def source(self, name: str) -> HotlistSource | None:
        """The configured source of that name, if any."""
        return next((s for s in self.sources if s.name == name), None)


@dataclass(frozen=True)
class MatchingSettings:
    """Checks on the matching of reads against the hotlists."""

    volume_baseline_days: int = 7  # a day's match count is compared with the mean of these days
    volume_factor: float = 3.0  # more than factor x the baseline, or under baseline / factor: warn

    def __post_init__(self) -> None:
        _positive("matching.volume_baseline_days", self.volume_baseline_days)
        if self.volume_factor <= 1.0:
            raise ConfigError(f"matching.volume_factor={self.volume_factor} must be above 1")


@dataclass(frozen=True)
class QualitySettings:
    """Thresholds of the Great Expectations suites (expectations/) and of camera health.

    The suites name these as ``{"$PARAMETER": "quality.<field>"}``: a threshold lives here once."""

    min_image_side: int = 64  # pixels; a smaller frame holds no readable plate
    plate_min_length: int = 2  # characters of a normalized plate text
    plate_max_length: int = 8
    # Row-level expectations pass when at least this share of rows is valid; the rest are flagged.
    row_mostly: float = 0.95
    hotlist_size_band: float = 0.5  # a new version within +-50 % of the active one's entries
    result_sample: int = 20  # unexpected values kept per expectation in a result
    camera_baseline_days: int = 7  # a camera's day against the mean of these days before it
    camera_read_rate_drop: float = 0.5  # fail when the read rate falls by more than this share
    camera_confidence_drop: float = 0.2  # ... or the mean OCR confidence by more than this
    camera_silence_hours: int = 24  # fail when a known camera sent nothing for this long

    def __post_init__(self) -> None:
        for key in (
            "min_image_side",
            "plate_min_length",
            "result_sample",
            "camera_baseline_days",
            "camera_silence_hours",
        ):
            _positive(f"quality.{key}", getattr(self, key))
        if self.plate_max_length < self.plate_min_length:
            raise ConfigError(
                f"quality.plate_max_length={self.plate_max_length} is below "
                f"quality.plate_min_length={self.plate_min_length}"
            )
        for key in (
            "row_mostly",
            "hotlist_size_band",
            "camera_read_rate_drop",
            "camera_confidence_drop",
        ):
            if not 0.0 < getattr(self, key) <= 1.0:
                raise ConfigError(f"quality.{key}={getattr(self, key)} must be in (0, 1]")


# Purposes that are never criminal justice (PP-9126 C.6): sharing.purposes may not name them.
NON_CRIMINAL_JUSTICE_PURPOSES = (
    "civil_litigation",
    "internal_affairs",
    "personnel_matter",
    "administrative_matter",
    "civil_immigration_enforcement",
    "commercial",
)


@dataclass(frozen=True)
class SharingSettings:
    """Sharing ALPR data with other agencies (PP-9126 C.6): criminal-justice purposes only, each
    export under a registered agreement (MOU) whose purposes include the export's. An export's
    purpose is its reason category, so each of ``purposes`` is one of audit.reason_categories."""

    purposes: tuple[str, ...] = (
        "criminal_investigation",
        "stolen_vehicle",
        "missing_person",
        "wanted_person",
        "amber_alert",
        "officer_safety",
    )
    max_export_reads: int = 10_000  # an export selecting more is refused: narrow the criteria

    def __post_init__(self) -> None:
        if not self.purposes:
            raise ConfigError("sharing.purposes must name at least one criminal-justice purpose")
        not_criminal_justice = sorted(set(self.purposes) & set(NON_CRIMINAL_JUSTICE_PURPOSES))
        if not_criminal_justice:
            raise ConfigError(
                f"sharing.purposes {not_criminal_justice} are not criminal-justice purposes "
                f"(PP-9126 C.6); refused values: {list(NON_CRIMINAL_JUSTICE_PURPOSES)}"
            )
        _positive("sharing.max_export_reads", self.max_export_reads)


# Loopback only: the review page is reached through the department's TLS proxy, never directly.
LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")


@dataclass(frozen=True)
class WebSettings:
    """The alert review page that ``alpr serve`` starts."""

    host: str = "127.0.0.1"
    port: int = 8000  # alerts.review_base_url links here
    # Signs the session cookies; prefer ALPR_WEB_SESSION_SECRET. Empty: a random secret per
    # process, so sessions end when the server restarts.
    session_secret: str = ""
    session_minutes: int = 120  # a session ends this long after login, whatever is done in it
    secure_cookies: bool = False  # True behind the TLS proxy: the browser sends them on HTTPS only

    def __post_init__(self) -> None:
        if self.host not in LOOPBACK_HOSTS:
            raise ConfigError(f"web.host={self.host!r}; valid values: {list(LOOPBACK_HOSTS)}")
        if not 1 <= self.port <= 65535:
            raise ConfigError(f"web.port={self.port} must be 1..65535")
        _positive("web.session_minutes", self.session_minutes)
        if self.session_secret and len(self.session_secret) < 32:
            raise ConfigError("web.session_secret must be at least 32 characters (or empty)")


@dataclass(frozen=True)
class Settings:
    data_dir: Path = PROJECT_ROOT / "var"
    s3: S3Settings = field(default_factory=S3Settings)
    catalog: CatalogSettings = field(default_factory=CatalogSettings)
    ingest: IngestSettings = field(default_factory=IngestSettings)
    recognition: RecognitionSettings = field(default_factory=RecognitionSettings)
    policy: PolicySettings = field(default_factory=PolicySettings)
    web: WebSettings = field(default_factory=WebSettings)
    auth: AuthSettings = field(default_factory=AuthSettings)
    audit: AuditSettings = field(default_factory=AuditSettings)
    analytics: AnalyticsSettings = field(default_factory=AnalyticsSettings)
    alerts: AlertSettings = field(default_factory=AlertSettings)
    hotlists: HotlistSettings = field(default_factory=HotlistSettings)
    matching: MatchingSettings = field(default_factory=MatchingSettings)
    retention: RetentionSettings = field(default_factory=RetentionSettings)
    preservation: PreservationSettings = field(default_factory=PreservationSettings)
    quality: QualitySettings = field(default_factory=QualitySettings)
    sharing: SharingSettings = field(default_factory=SharingSettings)

    def __post_init__(self) -> None:
        unknown = sorted(set(self.sharing.purposes) - set(self.audit.reason_categories))
        if unknown:
            raise ConfigError(
                f"sharing.purposes {unknown} are not reason categories (an export's purpose is "
                f"its reason category); valid values: {list(self.audit.reason_categories)}"
            )
        outside = sorted(
            set(self.analytics.reidentify_categories) - set(self.audit.reason_categories)
        )
        if outside:
            raise ConfigError(
                f"analytics.reidentify_categories {outside} are not reason categories; valid "
                f"values: {list(self.audit.reason_categories)}"
            )
        ceiling = self.policy.retention_days
        for name in RETENTION_PERIODS:
            if getattr(self.retention, name) > ceiling:
                raise ConfigError(
                    f"retention.{name}={getattr(self.retention, name)} exceeds "
                    f"policy.retention_days={ceiling}, the department's ceiling (PP-9126 C.4.a)"
                )

    @property
    def catalog_url(self) -> str:
        return self.catalog.resolved_url(self.data_dir)

    def retention_days(self, period: str) -> int:
        """The days a data class is kept (``RETENTION_PERIODS``): its own setting, else the
        policy's ceiling."""
        return getattr(self.retention, period) or self.policy.retention_days

    def replace(self, **sections: Any) -> Settings:
        """A copy with whole sections or fields of sections replaced: ``replace(s3={"drops_bucket": "x"})``."""
        changes: dict[str, Any] = {}
        for name, value in sections.items():
            current = getattr(self, name)
            if isinstance(value, Mapping) and dataclasses.is_dataclass(current):
                changes[name] = dataclasses.replace(current, **value)  # type: ignore[type-var]
            else:
                changes[name] = value
        return dataclasses.replace(self, **changes)

    def as_dict(self) -> dict[str, Any]:
        """Every setting as plain values (sections as dicts, paths as strings): what a TOML
        settings file holds."""
        out: dict[str, Any] = _as_dict(self)
        return out

    def as_env(self) -> dict[str, str]:
        """Every setting as the ``ALPR_*`` variable that sets it: reproduces these settings in a
        subprocess (which then needs no TOML file)."""
        env: dict[str, str] = {}

        def walk(prefix: str, value: Any) -> None:
            if isinstance(value, dict):
                for name, inner in value.items():
                    walk(f"{prefix}_{name}" if prefix else name, inner)
            elif isinstance(value, list) and any(isinstance(v, dict) for v in value):
                env["ALPR_" + prefix.upper()] = json.dumps(value)  # e.g. hotlists.sources
            elif isinstance(value, list):
                env["ALPR_" + prefix.upper()] = ",".join(map(str, value))
            elif isinstance(value, bool):
                env["ALPR_" + prefix.upper()] = str(value).lower()
            else:
                env["ALPR_" + prefix.upper()] = str(value)

        walk("", self.as_dict())
        return env

    def masked(self) -> dict[str, Any]:
        """The settings as a nested dict with secrets masked, for ``alpr config``."""
        out = self.as_dict()
        out["s3"]["secret_access_key"] = "****"
        if out["web"]["session_secret"]:
            out["web"]["session_secret"] = "****"
        if out["alerts"]["webhook_secret"]:
            out["alerts"]["webhook_secret"] = "****"
        if out["analytics"]["key"]:
            out["analytics"]["key"] = "****"
        # webhook URLs often carry their token in the path (Slack, Teams): show the host only
        out["alerts"]["webhooks"] = [
            f"{url.split('/', 3)[0]}//{url.split('/', 3)[2]}/****" for url in self.alerts.webhooks
        ]
        if "@" in out["catalog"]["url"]:
            scheme, _, rest = out["catalog"]["url"].partition("://")
            out["catalog"]["url"] = f"{scheme}://****@{rest.rpartition('@')[2]}"
        return out


def _check_timezone(key: str, name: str) -> None:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"{key}={name!r} is not a time zone; valid values: IANA names such as "
            "'America/Denver' or 'UTC'"
        ) from None


def _check_cron(key: str, value: str) -> None:
    if len(value.split()) != 5:
        raise ConfigError(
            f"{key}={value!r} must be a cron expression of 5 fields "
            "(minute hour day month weekday), e.g. '30 5 * * *'"
        )


def _positive(key: str, value: int) -> None:
    if value <= 0:
        raise ConfigError(f"{key}={value} must be a positive integer")


def _as_dict(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: _as_dict(getattr(obj, f.name)) for f in fields(obj)}
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, tuple):
        return [_as_dict(item) for item in obj]
    return obj


def _coerce(key: str, raw: Any, annotation: Any) -> Any:
    """Turn a TOML or environment value into the field's type, or say what was expected."""
    try:
        if annotation in (bool, "bool"):
            if isinstance(raw, bool):
                return raw
            if str(raw).lower() in ("1", "true", "yes", "on"):
                return True
            if str(raw).lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError
        if annotation in (int, "int"):
            if isinstance(raw, bool):
                raise ValueError
            return int(raw)
        if annotation in (float, "float"):
            return float(raw)
        if annotation in (str, "str"):
            return str(raw)
        if annotation in (Path, "Path"):
            return Path(raw)
        if str(annotation).startswith("tuple"):
            items = raw.split(",") if isinstance(raw, str) else list(raw)
            return tuple(str(i).strip() for i in items if str(i).strip())
    except (TypeError, ValueError):
        raise ConfigError(f"{key}={raw!r} is not a valid {annotation}") from None
    raise ConfigError(f"{key}: unsupported type {annotation}")


def _dataclass_items(annotation: Any) -> type | None:
    """``X`` when ``annotation`` is ``tuple[X, ...]`` with ``X`` a dataclass, else None."""
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) is tuple and args and dataclasses.is_dataclass(args[0]):
        return args[0]  # type: ignore[return-value]
    return None


def _build(cls: type, key_prefix: str, toml: Mapping[str, Any], env: Mapping[str, str]) -> Any:
    hints = get_type_hints(cls)
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(toml) - known)
    if unknown:
        raise ConfigError(
            f"unknown key(s) {[f'{key_prefix}{u}' for u in unknown]} in config; "
            f"valid keys: {sorted(f'{key_prefix}{k}' for k in known)}"
        )
    values: dict[str, Any] = {}
    for f in fields(cls):
        key = f"{key_prefix}{f.name}"
        annotation = hints[f.name]
        if isinstance(annotation, type) and dataclasses.is_dataclass(annotation):
            section = toml.get(f.name, {})
            if not isinstance(section, Mapping):
                raise ConfigError(f"[{key}] must be a TOML table")
            values[f.name] = _build(annotation, f"{key}.", section, env)
            continue
        env_name = "ALPR_" + key.replace(".", "_").upper()
        item_type = _dataclass_items(annotation)
        if item_type is not None:  # a tuple of tables: [[hotlists.sources]], or JSON in env
            try:
                raw = json.loads(env[env_name]) if env.get(env_name) else toml.get(f.name, [])
            except json.JSONDecodeError:
                raise ConfigError(f"{env_name} must be a JSON list of objects") from None
            if not isinstance(raw, list) or not all(isinstance(i, Mapping) for i in raw):
                raise ConfigError(f"{key} must be a list of tables ([[{key}]] in TOML)")
            values[f.name] = tuple(
                _build(item_type, f"{key}[{i}].", item, {}) for i, item in enumerate(raw)
            )
            continue
        if env_name in env:
            values[f.name] = _coerce(env_name, env[env_name], annotation)
        elif f.name in toml:
            values[f.name] = _coerce(key, toml[f.name], annotation)
    return cls(**values)


def load_settings(
    path: str | os.PathLike[str] | None = None, env: Mapping[str, str] | None = None
) -> Settings:
    """Load the settings: ``path`` or ``$ALPR_CONFIG`` or ``./alpr.toml`` (if present), then ``ALPR_*``."""
    env = os.environ if env is None else env
    toml: dict[str, Any] = {}
    config_path = path or env.get("ALPR_CONFIG")
    if config_path is None and Path("alpr.toml").is_file():
        config_path = "alpr.toml"
    if config_path is not None:
        try:
            toml = tomllib.loads(Path(config_path).read_text())
        except FileNotFoundError:
            raise ConfigError(f"config file {config_path} does not exist") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {config_path} is not valid TOML: {exc}") from None
    settings: Settings = _build(Settings, "", toml, env)
    return settings
