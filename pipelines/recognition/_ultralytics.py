"""Make ``import ultralytics`` offline, quiet and self-contained.

Ultralytics downloads Arial.ttf on first plot, checks pip and GitHub for updates, and writes its
settings under the user's home; OpenVINO sends telemetry. None of that may happen on a camera site
or in CI, so every module that imports ultralytics calls :func:`prepare_ultralytics` first.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path

__all__ = ["DEFAULT_CONFIG_DIR", "bundled_font_dir", "prepare_ultralytics"]

DEFAULT_CONFIG_DIR = Path(__file__).resolve().parents[2] / "var" / "ultralytics"

_FONT_NAMES = ("Arial.ttf", "Arial.Unicode.ttf")  # the names ultralytics would download
_prepared: Path | None = None


def bundled_font_dir() -> Path:
    """The TrueType folder shipped inside matplotlib (DejaVu fonts), found without importing it."""
    spec = importlib.util.find_spec("matplotlib")
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError("matplotlib is required for its bundled DejaVu fonts")
    return Path(spec.origin).parent / "mpl-data" / "fonts" / "ttf"


def prepare_ultralytics(config_dir: Path | None = None) -> None:
    """Set the environment so that ultralytics and OpenVINO never reach the network.

    Must run before the first ``import ultralytics`` (it reads ``YOLO_*`` at import time); calling
    it again is cheap. The settings update runs after import because the settings file lives in
    ``config_dir``.
    """
    global _prepared
    config_dir = (config_dir or DEFAULT_CONFIG_DIR).resolve()
    if _prepared == config_dir:
        return
    config_dir.mkdir(parents=True, exist_ok=True)
    os.environ["YOLO_OFFLINE"] = "1"  # is_online() -> False: no hub, no update or font downloads
    os.environ["YOLO_CONFIG_DIR"] = str(config_dir)
    # ultralytics logs to stdout; `alpr recognize` keeps stdout for data. Training keeps its log.
    os.environ.setdefault("YOLO_VERBOSE", "False")
    os.environ["OPENVINO_TELEMETRY_DISABLE"] = "1"
    os.environ["OV_TELEMETRY_DISABLE"] = "1"
    user_dir = config_dir / "Ultralytics"  # ultralytics appends this to YOLO_CONFIG_DIR
    user_dir.mkdir(exist_ok=True)
    font = bundled_font_dir() / "DejaVuSans.ttf"
    for name in _FONT_NAMES:
        target = user_dir / name
        if not target.exists():
            shutil.copyfile(font, target)

    from ultralytics.utils import SETTINGS

    wanted = {
        "sync": False,  # no anonymous usage events or crash reports
        "clearml": False,
        "comet": False,
        "dvc": False,
        "mlflow": False,
        "raytune": False,
        "tensorboard": False,
        "wandb": False,
        "vscode_msg": False,
        "openvino_msg": False,
    }
    if any(SETTINGS.get(k) != v for k, v in wanted.items()):
        SETTINGS.update(wanted)
    _prepared = config_dir
