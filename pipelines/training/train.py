"""Train the nano YOLO plate detector from scratch on CPU, export it and write its model card.

``python -m pipelines.training.train --epochs 16`` builds the dataset under ``--out``, trains,
copies the best weights to ``models/plate-detector/plate-detector.pt``, exports ONNX and OpenVINO
next to them, measures them on the real validation split and writes ``MODEL_CARD.md``. Without
``../shared/data`` it trains on synthetic scenes only. ``--init W`` fine-tunes the weights ``W``;
``--finalize --pick last`` re-exports a finished run with its last epoch instead of the best.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import logging
import os
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pipelines.config import PROJECT_ROOT
from pipelines.recognition._ultralytics import prepare_ultralytics
from pipelines.recognition.detector import TRAIN_RESULT_FILE
from pipelines.training.dataset import DEFAULT_DATA_ROOT, DatasetSummary, build_dataset
from pipelines.training.quantize import calibration_frames, quantize_detector

__all__ = [
    "DEFAULT_MODEL_DIR",
    "PICKS",
    "TrainResult",
    "export_detector",
    "finalize_detector",
    "relative_to_root",
    "sha256_file",
    "strip_machine_paths",
    "train_detector",
    "write_model_card",
]

log = logging.getLogger(__name__)

_REPO = Path(__file__).resolve().parents[2]
DEFAULT_MODEL_DIR = _REPO / "models" / "plate-detector"
DEFAULT_OUT_DIR = _REPO / "var" / "detector-train"
WEIGHTS_NAME = "plate-detector.pt"


@dataclass(frozen=True)
class TrainResult:
    weights: Path
    exports: dict[str, Path]  # format -> path (onnx file, openvino folder)
    sha256: str  # of the .pt weights
    train_seconds: float
    epochs: int
    imgsz: int
    dataset: DatasetSummary
    val_metrics: dict[str, float]  # ultralytics metrics on the validation crops
    eval_metrics: dict[str, Any] = field(default_factory=dict)  # full-photo evaluation


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _dataset(
    out_dir: Path, data_root: Path | None, n_synthetic: int, workers: int, seed: int, crop: int
) -> DatasetSummary:
    """Build the dataset, or reuse it when it was built with the same arguments."""
    ds_dir = out_dir / "dataset"
    stamp = {"data_root": str(data_root), "n_synthetic": n_synthetic, "seed": seed, "crop": crop}
    stamp_file = out_dir / "dataset.json"
    if stamp_file.exists() and json.loads(stamp_file.read_text()).get("stamp") == stamp:
        saved = json.loads(stamp_file.read_text())["summary"]
        return DatasetSummary(**{**saved, "data_yaml": Path(saved["data_yaml"])})
    summary = build_dataset(
        ds_dir, data_root=data_root, n_synthetic=n_synthetic, crop=crop, workers=workers, seed=seed
    )
    stamp_file.write_text(
        json.dumps(
            {"stamp": stamp, "summary": {**asdict(summary), "data_yaml": str(summary.data_yaml)}}
        )
    )
    return summary


class _ThreadGovernor:
    """Every core for torch while the machine is otherwise idle, fewer while others are busy.

    Torch's OpenMP threads meet at the end of every op; when another process holds a core, a
    two-thread op waits for a descheduled thread, and on this 2-core machine a batch took 5-9x
    longer than with one thread. Other processes' CPU use comes from /proc/stat minus our own.
    """

    def __init__(self, max_threads: int, every: int = 5) -> None:
        self.max_threads = max_threads
        self.every = every
        self.calls = 0
        self.last: tuple[float, float, float] | None = None

    @staticmethod
    def _sample() -> tuple[float, float, float]:
        fields = [float(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
        total = sum(fields[:8])
        busy = total - fields[3] - fields[4]  # minus idle and iowait
        mine = sum(
            float(v) for v in Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[11:13]
        )
        return total, busy, mine

    def __call__(self, trainer: Any) -> None:
        import os

        import torch

        self.calls += 1
        if self.calls % self.every:
            return
        try:
            now = self._sample()
        except (OSError, ValueError, IndexError):
            return  # not Linux: keep the threads as they are
        if self.last is not None:
            total, busy, mine = (a - b for a, b in zip(now, self.last, strict=True))
            cores = os.cpu_count() or 1
            others = (busy - mine) / max(total / cores, 1e-9)  # in cores
            wanted = max(1, min(self.max_threads, cores - round(others)))
            if wanted != torch.get_num_threads():
                log.info("other processes use %.1f cores: torch threads -> %d", others, wanted)
                torch.set_num_threads(wanted)
        self.last = now


INIT_FILE = "init.txt"  # in a run's folder: the weights it started from, for the model card
PICKS = ("best", "last")  # which epoch's weights a run ships (finalize_detector)


def train_detector(
    out_dir: Path,
    epochs: int,
    imgsz: int = 320,
    data_root: Path | None = None,
    n_synthetic: int = 800,
    workers: int = 2,
    seed: int = 0,
    model_dir: Path = DEFAULT_MODEL_DIR,
    model_cfg: str = "yolo11n.yaml",
    batch: int = 16,
    threads: int = 2,
    export_imgsz: int = 640,
    command: str = "",
    hours: float | None = None,
    resume: bool = False,
    evaluate: bool = True,
    calibration: int = 150,
    init: Path | None = None,
) -> TrainResult:
    """Train from scratch (no downloaded weights), export and write the model card.

    ``data_root`` defaults to ``../shared/data`` when it exists; ``workers`` is for building the
    dataset (ultralytics loads data in the main process on CPU); ``threads`` is torch's intra-op
    thread count during training. ``hours`` bounds the training time instead: ultralytics then
    re-estimates the epoch count (and the learning-rate schedule) after every epoch, which keeps
    a run on a shared machine within its budget. ``resume`` continues ``out_dir``'s interrupted
    run from its last epoch (``hours`` then counts from the resume). ``evaluate`` measures the
    exports on full photos for the card (``bench/eval_detector.py``, most of a tiny run's time).
    ``calibration``: frames of each kind the INT8 export is calibrated on. ``init`` starts from
    those weights (the project's own, e.g. the shipped model) instead of from scratch.
    """
    if data_root is None and (DEFAULT_DATA_ROOT / "openalpr-endtoend").is_dir():
        data_root = DEFAULT_DATA_ROOT
    out_dir = out_dir.resolve()  # ultralytics puts a relative project under runs/detect/
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "command.txt").write_text(
        command or f"train_detector(epochs={epochs}, imgsz={imgsz})"
    )
    if init is not None and not resume:
        (out_dir / INIT_FILE).write_text(f"`{init.name}` (sha256 {sha256_file(init)[:12]})")
    started = time.monotonic()
    summary = _dataset(out_dir, data_root, n_synthetic, workers, seed, crop=imgsz)
    log.info("dataset ready in %.0f s: %s", time.monotonic() - started, summary)

    prepare_ultralytics()
    import torch
    from ultralytics import YOLO
    from ultralytics.utils import torch_utils

    # select_device() sets torch to cores-1 threads for CPU training (1 on a 2-core machine);
    # training is compute-bound, so give it every core we were asked to.
    torch_utils.NUM_THREADS = threads

    def _threads(trainer: Any) -> None:
        torch.set_num_threads(threads)
        if trainer.epoch == trainer.start_epoch:
            log.info("torch threads during training: %d", torch.get_num_threads())

    last = out_dir / "run" / "weights" / "last.pt"
    start = str(last) if resume else str(init) if init is not None else model_cfg
    model = YOLO(start, task="detect")
    model.add_callback("on_train_epoch_start", _threads)
    model.add_callback("on_train_batch_end", _ThreadGovernor(threads))
    train_started = time.monotonic()
    model.train(
        **({"resume": str(last)} if resume else {}),
        data=str(summary.data_yaml),
        epochs=epochs,
        imgsz=imgsz,
        batch=batch,
        device="cpu",
        workers=0,
        pretrained=str(init) if init is not None else False,  # False would drop init's weights
        amp=False,  # the AMP check would download yolo11n.pt
        plots=False,
        project=str(out_dir),
        name="run",
        exist_ok=True,
        seed=seed,
        deterministic=False,  # deterministic kernels are slower; seeds still fix the data order
        cache="ram",
        close_mosaic=max(1, epochs // 5),
        patience=max(10, epochs),
        verbose=True,
        **({"time": hours} if hours else {}),
    )
    log.info("training took %.1f min", (time.monotonic() - train_started) / 60)
    return finalize_detector(
        out_dir,
        model_dir=model_dir,
        data_root=data_root,
        export_imgsz=export_imgsz,
        evaluate=evaluate,
        calibration=calibration,
    )


def finalize_detector(
    out_dir: Path,
    model_dir: Path = DEFAULT_MODEL_DIR,
    data_root: Path | None = None,
    export_imgsz: int = 640,
    evaluate: bool = True,
    note: str = "",
    calibration: int = 150,
    pick: str = "best",
) -> TrainResult:
    """From a finished run in ``out_dir``: copy the picked weights, export, evaluate, write the card.

    Separate from training so that a run can be re-exported or re-measured without retraining.
    ``pick`` is one of :data:`PICKS`: ``best`` (ultralytics' fitness on the validation crops; the
    last epoch's if the run kept none) or ``last`` (the last epoch, where full-photo measurements
    favour it). The INT8 IR is calibrated on ``calibration`` training photos and as many synthetic
    scenes (:func:`~pipelines.training.quantize.calibration_frames`).
    """
    import polars as pl
    import yaml

    out_dir = out_dir.resolve()
    if pick not in PICKS:
        raise ValueError(f"pick={pick!r}; valid values: {list(PICKS)}")
    run_dir = out_dir / "run"
    best = run_dir / "weights" / f"{pick}.pt"
    if not best.exists():
        best = run_dir / "weights" / "last.pt"
    if not best.exists():
        raise FileNotFoundError(f"no trained weights under {run_dir / 'weights'}")
    args = yaml.safe_load((run_dir / "args.yaml").read_text())
    saved = json.loads((out_dir / "dataset.json").read_text())["summary"]
    summary = DatasetSummary(**{**saved, "data_yaml": Path(saved["data_yaml"])})
    results = pl.read_csv(run_dir / "results.csv").rename(lambda c: c.strip())

    model_dir.mkdir(parents=True, exist_ok=True)
    weights = model_dir / WEIGHTS_NAME
    shutil.copyfile(best, weights)
    strip_machine_paths(weights, PROJECT_ROOT)  # before export: the exports copy its description
    exports = export_detector(weights, imgsz=export_imgsz)
    frames = calibration_frames(data_root, real=calibration, synthetic=calibration)
    ir = exports["openvino"] / f"{weights.stem}.xml"
    exports["openvino-int8"] = quantize_detector(ir, frames).parent
    eval_metrics: dict[str, Any] = {}
    if evaluate:
        eval_metrics = _evaluate(weights, data_root)
    result = TrainResult(
        weights=weights,
        exports=exports,
        sha256=sha256_file(weights),
        train_seconds=_train_seconds(results),
        epochs=int(results["epoch"].max()),  # type: ignore[arg-type]
        imgsz=int(args["imgsz"]),
        dataset=summary,
        val_metrics=_final_metrics(run_dir, last=best.stem == "last"),
        eval_metrics=eval_metrics,
    )
    command = (
        (out_dir / "command.txt").read_text().strip() if (out_dir / "command.txt").exists() else ""
    )
    origin = (out_dir / INIT_FILE).read_text().strip() if (out_dir / INIT_FILE).exists() else ""
    write_model_card(
        result, command=command, model_cfg=_architecture(weights), extra=note, origin=origin
    )
    (model_dir / TRAIN_RESULT_FILE).write_text(
        json.dumps(
            {**asdict(result), "weights": weights.name,
             "exports": {k: str(v.relative_to(model_dir)) for k, v in exports.items()},
             "dataset": {**asdict(summary), "data_yaml": summary.data_yaml.name}},
            indent=2, default=str,
        )
    )  # fmt: skip
    return result


def _architecture(weights: Path) -> str:
    """The model yaml the weights were built from (``args.yaml`` names last.pt after a resume)."""
    prepare_ultralytics()
    from ultralytics.nn.tasks import load_checkpoint

    model, _ = load_checkpoint(str(weights), device="cpu")
    return str(getattr(model, "yaml", {}).get("yaml_file", "unknown"))


def _train_seconds(results: Any) -> float:
    """Wall time of all epochs; ``time`` restarts from zero in results.csv when a run resumes."""

    t = results["time"]
    return float(t.filter(t.shift(-1).fill_null(-1.0) < t).sum())


def _final_metrics(run_dir: Path, last: bool = False) -> dict[str, float]:
    """The best (or the ``last``) epoch's validation metrics from ultralytics' results.csv."""
    import polars as pl

    csv = run_dir / "results.csv"
    if not csv.exists():
        return {}
    df = pl.read_csv(csv).rename(lambda c: c.strip())
    best = df.tail(1) if last else df.sort("metrics/mAP50-95(B)", descending=True).head(1)
    cols = ["epoch", "metrics/precision(B)", "metrics/recall(B)", "metrics/mAP50(B)",
            "metrics/mAP50-95(B)"]  # fmt: skip
    return {c: float(best[c][0]) for c in cols if c in best.columns}


def relative_to_root(value: Any, root: Path) -> Any:
    """``value`` (nested dicts, lists and strings) with the absolute paths under ``root`` made
    relative to it: shipped files must not name the machine that trained them."""
    if isinstance(value, str):
        return value.replace(f"{root}/", "").replace(str(root), ".")
    if isinstance(value, dict):
        return {k: relative_to_root(v, root) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(relative_to_root(v, root) for v in value)
    return value


def strip_machine_paths(weights: Path, root: Path) -> None:
    """Rewrite the ultralytics checkpoint ``weights`` with its training arguments, git root and
    the model's own arguments and path relative to ``root`` (they hold the run's absolute paths);
    the tensors are untouched."""
    import torch

    checkpoint = torch.load(weights, map_location="cpu", weights_only=False)
    for key in ("train_args", "git"):
        if key in checkpoint:
            checkpoint[key] = relative_to_root(checkpoint[key], root)
    for key in ("model", "ema"):  # the modules keep their own copy of the arguments and path
        module = checkpoint.get(key)
        for attr in ("args", "pt_path"):
            if module is not None and hasattr(module, attr):
                setattr(module, attr, relative_to_root(getattr(module, attr), root))
    torch.save(checkpoint, weights)


def export_detector(weights: Path, imgsz: int = 640) -> dict[str, Path]:
    """Export ONNX (fp32, dynamic batch and size) and OpenVINO (fp16) next to ``weights``."""
    prepare_ultralytics()
    from ultralytics import YOLO

    out: dict[str, Path] = {}
    onnx_path = YOLO(str(weights)).export(
        format="onnx", imgsz=imgsz, dynamic=True, simplify=False, opset=17, device="cpu"
    )
    out["onnx"] = Path(onnx_path)
    _store_weights_fp16(out["onnx"])
    with _openvino_telemetry_off():
        ov_path = YOLO(str(weights)).export(
            format="openvino", imgsz=imgsz, dynamic=True, half=True, device="cpu"
        )
    out["openvino"] = Path(ov_path)
    return out


@contextlib.contextmanager
def _openvino_telemetry_off() -> Iterator[None]:
    """OpenVINO's model converter sends telemetry from a child process unless a consent file in
    the user's home opts out, or it sees a CI (``CI=true``); OPENVINO_TELEMETRY_DISABLE is not
    read there. Offline, that child blocks its parent's exit on a DNS lookup. Claim CI for the
    conversion only, rather than write into the user's home."""
    previous = os.environ.get("CI")
    os.environ["CI"] = "true"
    try:
        yield
    finally:
        if previous is None:
            del os.environ["CI"]
        else:
            os.environ["CI"] = previous


def _store_weights_fp16(path: Path) -> None:
    """Halve the ONNX file: float weights stored as fp16, each behind a Cast back to fp32.

    ONNX Runtime folds the Casts when it loads the model, so inference still runs in fp32 (fp16
    kernels are slow or missing on CPU); only the rounding of the weights changes, as in the
    fp16 OpenVINO export.
    """
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    model = onnx.load(str(path))
    graph = model.graph
    casts, keep = [], []
    for init in graph.initializer:
        if init.data_type != TensorProto.FLOAT or np.prod(init.dims) < 16:
            keep.append(init)
            continue
        half = numpy_helper.from_array(
            numpy_helper.to_array(init).astype(np.float16), init.name + "_fp16"
        )
        keep.append(half)
        casts.append(helper.make_node("Cast", [half.name], [init.name], to=TensorProto.FLOAT))
    del graph.initializer[:]
    graph.initializer.extend(keep)
    nodes = list(graph.node)
    del graph.node[:]
    graph.node.extend([*casts, *nodes])
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


def _evaluate(weights: Path, data_root: Path | None) -> dict[str, Any]:
    """Full-photo metrics per backend from ``bench/eval_detector.py`` (empty if it is absent).

    Run as a subprocess so the benchmark measures a fresh process, not one full of training state.
    """
    script = _REPO / "bench" / "eval_detector.py"
    if not script.exists():
        log.warning("%s not found; model card without full-photo metrics", script)
        return {}
    out = weights.parent / ".eval.json"
    cmd = [sys.executable, str(script), "--weights", str(weights), "--json", str(out)]
    if data_root is not None:
        cmd += ["--data-root", str(data_root)]
    try:
        subprocess.run(cmd, check=True, cwd=_REPO)
        metrics: dict[str, Any] = json.loads(out.read_text())
    except (subprocess.CalledProcessError, OSError, ValueError):
        log.exception("evaluation failed; model card without full-photo metrics")
        return {}
    finally:
        out.unlink(missing_ok=True)
    return metrics


def write_model_card(
    result: TrainResult,
    command: str,
    model_cfg: str = "yolo11n.yaml",
    extra: str = "",
    origin: str = "",
) -> Path:
    """``MODEL_CARD.md`` next to the weights: data, command, metrics, hash and licence;
    ``origin`` names the weights training started from, if not from scratch."""
    ds = result.dataset
    files = [result.weights, *result.exports.values()]
    sizes = "\n".join(f"| `{p.name}` | {_size(p) / 1e6:.1f} MB |" for p in files if p.exists())
    val = "\n".join(f"| {k} | {v:.4g} |" for k, v in result.val_metrics.items())
    eval_md = result.eval_metrics.get("markdown", "(not measured)")
    calibrated = result.eval_metrics.get("calibrated", {})
    if calibrated:
        eval_md += "\nCalibrated confidence threshold (real validation photos): " + ", ".join(
            f"{k} {v:.2f}" for k, v in calibrated.items()
        )
    card = f"""# Plate detector

Nano YOLO (`{model_cfg}`) {f"fine-tuned from {origin}, itself " if origin else ""}trained from scratch (no pretrained weights) to find licence plates.
One class, `plate`.

## Training

- Command: `{command}`
- Epochs: {result.epochs}, image size {result.imgsz} px (crops), CPU, train time
  {result.train_seconds / 60:.1f} min
- Data: {ds.train_images} training crops from {ds.real_train_photos} real photos
  (openalpr benchmarks `openalpr-endtoend/{{eu,br}}`) and {ds.synthetic_scenes} synthetic scenes
  (`pipelines/training/synth.py`); validation: {ds.val_images} crops of
  {ds.real_val_photos} held-out real photos (split by hash of file name, listed in `val_real.txt`
  of the dataset; never trained on, but used to pick the shipped epoch).

## Validation crops (ultralytics, shipped epoch)

| metric | value |
|---|---|
{val}

## Full photos, real validation split

{eval_md}

{extra}

## Files

| file | size |
|---|---|
{sizes}

SHA-256 of `{result.weights.name}`: `{result.sha256}`

## Licence

Trained on the OpenALPR benchmark images (AGPL-3.0) and on synthetic images; the weights are
distributed under the project's licence (AGPL-3.0-only). The images themselves are not in this
repository.
"""
    path = result.weights.parent / "MODEL_CARD.md"
    path.write_text(card)
    return path


def _size(path: Path) -> int:
    if path.is_dir():
        return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
    return path.stat().st_size


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipelines.training.train", description=__doc__)
    parser.add_argument("--epochs", type=int, default=35)
    parser.add_argument(
        "--hours", type=float, default=None, help="time budget; overrides --epochs when given"
    )
    parser.add_argument("--imgsz", type=int, default=320)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT_DIR)
    parser.add_argument("--data-root", type=Path, default=None)
    parser.add_argument("--n-synthetic", type=int, default=800)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--model-dir", type=Path, default=DEFAULT_MODEL_DIR)
    parser.add_argument(
        "--resume", action="store_true", help="continue the interrupted run in --out"
    )
    parser.add_argument("--note", default="", help="extra paragraph for the model card")
    parser.add_argument("--init", type=Path, default=None, help="start from these weights")
    parser.add_argument(
        "--finalize", action="store_true", help="only export, evaluate and write the card of --out"
    )
    parser.add_argument(
        "--pick", choices=PICKS, default="best", help="the epoch --finalize ships: best or last"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if args.finalize:
        data_root = args.data_root
        if data_root is None and (DEFAULT_DATA_ROOT / "openalpr-endtoend").is_dir():
            data_root = DEFAULT_DATA_ROOT
        result = finalize_detector(
            args.out, model_dir=args.model_dir, data_root=data_root, note=args.note, pick=args.pick
        )
    else:
        result = train_detector(
            args.out,
            epochs=args.epochs,
            imgsz=args.imgsz,
            data_root=args.data_root,
            n_synthetic=args.n_synthetic,
            workers=args.workers,
            seed=args.seed,
            model_dir=args.model_dir,
            batch=args.batch,
            threads=args.threads,
            hours=args.hours,
            resume=args.resume,
            init=args.init,
            command=shlex.join(
                ["python", "-m", "pipelines.training.train", *(argv or sys.argv[1:])]
            ),
        )
    print(json.dumps({"weights": str(result.weights), "sha256": result.sha256,
                      "train_minutes": round(result.train_seconds / 60, 1),
                      "val": result.val_metrics}, indent=2))  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
