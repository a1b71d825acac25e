"""Train, calibrate and export the project's plate OCR (a small CTC recognizer) on the CPU.

    alpr train ocr --epochs 200 --hours 0.8       # what models/plate-ocr was trained with

The network (:func:`build_model`) is a four-layer CNN over the grey 48 x 144 input
(:func:`pipelines.recognition.plate_ocr.preprocess`), its columns projected to 128 features and
given context along the plate by two residual 1-D convolutions, read into 36 CTC frames over the
blank and ``0-9A-Z``: about 30 M multiply-adds a crop. (A bidirectional LSTM head sat on the
blank plateau for its first 240 batches on this CPU budget; the convolutional head, as in LPRNet,
needs no recurrence.) Batches mix synthetic plates, real US crops of the tuning split and plates
cut from the training photos (:mod:`pipelines.training.ocr_data`), all augmented afresh each time.

After each epoch the model reads the validation crops (a hash-chosen fifth of those training
splits, plus synthetic plates); the checkpoint with the best validation exact-read is kept. The
confidence calibration (isotonic, :func:`fit_isotonic`) is fitted on the real validation crops and
shipped beside the ONNX export as ``calibration.json``.
"""

from __future__ import annotations

import hashlib
import json
import math
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pipelines.recognition.plate_ocr import (
    CALIBRATION_FILE,
    CLASSES,
    DEFAULT_MODEL_DIR,
    INPUT_HEIGHT,
    INPUT_WIDTH,
    MODEL_FILE,
    Calibration,
    decode_greedy,
)
from pipelines.recognition.plates import PLATE_ALPHABET
from pipelines.training.ocr_data import (
    LabeledCrop,
    SyntheticBank,
    augment,
    batch_tensors,
    load_real_crops,
)

__all__ = [
    "COMMAND_FILE",
    "OcrTrainResult",
    "build_model",
    "evaluate",
    "export_checkpoint",
    "export_onnx",
    "fit_isotonic",
    "greedy_reads",
    "install_model",
    "train_ocr",
]

COMMAND_FILE = "command.txt"  # the training command, for the model card
_EASE_STEPS = 300  # batches over which the augmentation grows to full strength
_US_FRACTION = 0.3  # of each batch: real US crops ...
_WORLD_FRACTION = 0.15  # ... real EU/BR plates; the rest synthetic


def build_model() -> Any:
    """The recognizer (a ``torch.nn.Module``; torch is imported here, not at module load)."""
    import torch
    from torch import nn

    def block(c_in: int, c_out: int) -> list[nn.Module]:
        return [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU()]

    class PlateCRNN(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.features = nn.Sequential(
                *block(1, 16),
                nn.MaxPool2d(2),  # 24 x 72
                *block(16, 32),
                nn.MaxPool2d(2),  # 12 x 36
                *block(32, 64),
                nn.MaxPool2d((2, 1)),  # 6 x 36
                *block(64, 96),
                nn.MaxPool2d((2, 1)),  # 3 x 36
            )
            self.project = nn.Linear(96 * (INPUT_HEIGHT // 16), 128)
            # Context along the plate: two 1-D convolutions (a CTC head without recurrence finds
            # its alignments far sooner on a CPU budget, as LPRNet's does).
            self.context = nn.Sequential(
                nn.Conv1d(128, 128, 3, padding=1),
                nn.BatchNorm1d(128),
                nn.ReLU(),
                nn.Conv1d(128, 128, 3, padding=1),
                nn.BatchNorm1d(128),
                nn.ReLU(),
            )
            self.head = nn.Linear(128, len(CLASSES))
            self.dropout = nn.Dropout(0.1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            """Logits, N x frames x classes."""
            f = self.features(x)  # N x C x 3 x frames
            n, c, h, w = f.shape
            f = f.permute(0, 3, 1, 2).reshape(n, w, c * h)
            f = torch.relu(self.project(self.dropout(f)))  # N x frames x 128
            f = f + self.context(f.transpose(1, 2)).transpose(1, 2)
            return self.head(self.dropout(f))

    return PlateCRNN()


def greedy_reads(probs: Sequence[np.ndarray]) -> list[tuple[str, float]]:
    """Greedy text and raw confidence (product of character probabilities) per softmax matrix."""
    out = []
    for p in probs:
        columns = decode_greedy(p)
        text = "".join(PLATE_ALPHABET[int(c.argmax())] for c in columns)
        out.append((text, float(math.prod(float(c.max()) for c in columns)) if columns else 0.0))
    return out


def evaluate(
    predict: Callable[[np.ndarray], np.ndarray], crops: Sequence[np.ndarray], texts: Sequence[str]
) -> tuple[float, list[tuple[str, float]]]:
    """Exact-read rate of ``predict`` (a batch of inputs to softmax matrices) and its reads."""
    reads: list[tuple[str, float]] = []
    for start in range(0, len(crops), 64):
        inputs, _, _ = batch_tensors(crops[start : start + 64], texts[start : start + 64])
        reads += greedy_reads(list(predict(inputs)))
    exact = sum(r == t for (r, _), t in zip(reads, texts, strict=True))
    return exact / max(len(texts), 1), reads


def fit_isotonic(raw: Sequence[float], exact: Sequence[bool]) -> Calibration:
    """Pool-adjacent-violators fit of P(exact | raw confidence): a non-decreasing step per pooled
    block (smoothed by half a success in one more trial, so that a small perfect block does not
    claim certainty), interpolated between the blocks' mean raw confidence."""
    if len(raw) != len(exact):
        raise ValueError(f"{len(raw)} confidences for {len(exact)} outcomes")
    if not raw:
        return Calibration.identity()
    order = np.argsort(np.asarray(raw, float), kind="stable")
    xs = np.clip(np.asarray(raw, float)[order], 0.0, 1.0)
    ys = np.asarray(exact, float)[order]
    blocks: list[list[float]] = []  # sum_y, count, sum_x
    for x, y in zip(xs, ys, strict=True):
        blocks.append([y, 1.0, x])
        while len(blocks) >= 2 and blocks[-2][0] / blocks[-2][1] >= blocks[-1][0] / blocks[-1][1]:
            s, n, sx = blocks.pop()
            blocks[-1][0] += s
            blocks[-1][1] += n
            blocks[-1][2] += sx
    knots_x = [b[2] / b[1] for b in blocks]
    knots_y = list(np.maximum.accumulate([(b[0] + 0.5) / (b[1] + 1.0) for b in blocks]))
    knots_x = [0.0, *knots_x, 1.0]
    knots_y = [knots_y[0], *knots_y, knots_y[-1]]
    return Calibration(
        tuple(round(float(v), 6) for v in knots_x), tuple(round(float(v), 6) for v in knots_y)
    )


@dataclass(frozen=True)
class OcrTrainResult:
    out_dir: Path
    epochs: int
    steps: int
    train_seconds: float
    best_epoch: int
    val: dict[str, float]
    real_train_crops: int
    real_val_crops: int
    onnx: Path
    init: Path | None = None  # the checkpoint training started from; None: from scratch


def _val_sets(
    real_val: Sequence[LabeledCrop], n_synthetic: int, seed: int
) -> dict[str, tuple[list[np.ndarray], list[str]]]:
    rng = np.random.default_rng([seed, 99])
    bank = SyntheticBank(rng, n_synthetic)
    synth = [augment(rng, p.image) for p in bank.plates]
    mild = [augment(rng, c.image, 0.5) for c in real_val for _ in range(2)]
    return {
        "real": ([c.image for c in real_val], [c.text for c in real_val]),
        "real_augmented": (mild, [c.text for c in real_val for _ in range(2)]),
        "synthetic": (synth, [p.text for p in bank.plates]),
    }


def train_ocr(
    out_dir: Path,
    *,
    epochs: int = 200,
    steps_per_epoch: int = 50,
    batch_size: int = 32,
    lr: float = 3e-3,
    hours: float | None = None,
    threads: int = 1,
    seed: int = 0,
    data_root: Path | None = None,
    bank_size: int = 600,
    n_synthetic_val: int = 150,
    init: Path | None = None,
    log: Callable[[str], None] = print,
) -> OcrTrainResult:
    """Train from scratch (or from ``init``, a ``best.pt``/``last.pt`` of an earlier run), keep
    the best epoch by validation exact read, calibrate, export.

    Writes ``best.pt``, ``last.pt``, ``train_log.jsonl``, ``plate-ocr.onnx``,
    ``calibration.json`` and ``train_result.json`` under ``out_dir``. ``hours`` stops training
    at that wall time (the learning rate anneals to it); the real crops come from ``data_root``
    (default ``../shared/data``; training runs on synthetic plates alone without them).
    """
    import torch

    if epochs <= 0 or steps_per_epoch <= 0 or batch_size <= 1:
        raise ValueError("epochs and steps_per_epoch must be positive, batch_size above 1")
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    log_path = out_dir / "train_log.jsonl"
    log_path.write_text("")
    started = time.perf_counter()
    real = load_real_crops(data_root, seed)
    us_train = [c for c in real.train if c.source == "us"]
    world_train = [c for c in real.train if c.source != "us"]
    bank = SyntheticBank(rng, bank_size)
    val = _val_sets(real.val, n_synthetic_val, seed)
    log(
        f"data: {len(us_train)} US and {len(world_train)} EU/BR training crops, "
        f"{len(real.val)} real validation crops, {bank_size} synthetic plates in the bank "
        f"({time.perf_counter() - started:.0f} s)"
    )

    model = build_model()
    if init is not None:  # fine-tuning: a fresh schedule from the earlier run's weights
        model.load_state_dict(torch.load(init, weights_only=True)["model"])
        log(f"weights from {init}")
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    ctc = torch.nn.CTCLoss(blank=0, zero_infinity=True)
    total_steps = epochs * steps_per_epoch
    deadline = started + hours * 3600 if hours else None
    train_started = time.perf_counter()
    best_score, best_epoch, best_val = -1.0, 0, {}
    step = 0
    epoch = 0
    for epoch in range(1, epochs + 1):
        model.train()
        losses = []
        for _ in range(steps_per_epoch):
            progress = step / total_steps
            if deadline is not None:
                span = deadline - train_started
                progress = max(progress, (time.perf_counter() - train_started) / max(span, 1.0))
            warm = min(1.0, (step + 1) / 100)
            for group in optimizer.param_groups:
                group["lr"] = lr * warm * 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))
            # Easier crops first: CTC finds its alignments sooner, then the full augmentation.
            ease = min(1.0, 0.3 + 0.7 * step / _EASE_STEPS)
            crops, texts = _batch(rng, batch_size, us_train, world_train, bank, ease)
            inputs, targets, lengths = batch_tensors(crops, texts)
            logits = model(torch.from_numpy(inputs))
            log_probs = logits.log_softmax(2).permute(1, 0, 2)  # T x N x C
            frames = torch.full((len(crops),), log_probs.shape[0], dtype=torch.long)
            loss = ctc(log_probs, torch.from_numpy(targets), frames, torch.from_numpy(lengths))
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            optimizer.step()
            losses.append(float(loss.detach()))
            bank.refresh(1)
            step += 1
        scores = _validate(model, val)
        if "real" in scores:
            score = (
                0.5 * scores["real"] + 0.25 * scores["real_augmented"] + 0.25 * scores["synthetic"]
            )
        else:  # no real crops (no ../shared/data): synthetic alone
            score = scores["synthetic"]
        record = {
            "epoch": epoch,
            "step": step,
            "loss": round(float(np.mean(losses)), 4),
            "lr": round(optimizer.param_groups[0]["lr"], 6),
            "seconds": round(time.perf_counter() - started, 1),
            **{f"val_{k}": round(v, 4) for k, v in scores.items()},
            "score": round(score, 4),
        }
        with log_path.open("a") as handle:
            handle.write(json.dumps(record) + "\n")
        log(json.dumps(record))
        state = {"model": model.state_dict(), "epoch": epoch, "val": scores}
        torch.save(state, out_dir / "last.pt")
        if score > best_score:
            best_score, best_epoch, best_val = score, epoch, scores
            torch.save(state, out_dir / "best.pt")
        if deadline is not None and time.perf_counter() >= deadline:
            log(f"stopping after epoch {epoch}: --hours reached")
            break
    train_seconds = time.perf_counter() - started
    onnx_path, _ = finish(model, out_dir, val)
    result = OcrTrainResult(
        out_dir=out_dir,
        epochs=epoch,
        steps=step,
        train_seconds=train_seconds,
        best_epoch=best_epoch,
        val=best_val,
        real_train_crops=len(real.train),
        real_val_crops=len(real.val),
        onnx=onnx_path,
        init=init,
    )
    summary = {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(result).items()}
    (out_dir / "train_result.json").write_text(json.dumps(summary, indent=1) + "\n")
    return result


def finish(
    model: Any, out_dir: Path, val: dict[str, tuple[list[np.ndarray], list[str]]]
) -> tuple[Path, Calibration]:
    """Load ``out_dir/best.pt`` into ``model``, export it as ONNX and write its calibration."""
    import torch

    model.load_state_dict(torch.load(out_dir / "best.pt", weights_only=True)["model"])
    onnx_path = export_onnx(model, out_dir / MODEL_FILE)
    calibration = calibrate(model, val)
    (out_dir / CALIBRATION_FILE).write_text(json.dumps(calibration.to_json(), indent=1) + "\n")
    return onnx_path, calibration


def export_checkpoint(
    out_dir: Path, *, data_root: Path | None = None, seed: int = 0, n_synthetic_val: int = 150
) -> tuple[Path, Calibration]:
    """Export and calibrate the best checkpoint of a run in ``out_dir`` (also one still
    training), with the validation crops that run used."""
    real = load_real_crops(data_root, seed)
    return finish(build_model(), out_dir, _val_sets(real.val, n_synthetic_val, seed))


def _batch(
    rng: np.random.Generator,
    size: int,
    us: Sequence[LabeledCrop],
    world: Sequence[LabeledCrop],
    bank: SyntheticBank,
    ease: float = 1.0,
) -> tuple[list[np.ndarray], list[str]]:
    crops, texts = [], []
    for _ in range(size):
        u = rng.random()
        if us and u < _US_FRACTION:
            item = us[int(rng.integers(len(us)))]
        elif world and u < _US_FRACTION + _WORLD_FRACTION:
            item = world[int(rng.integers(len(world)))]
        else:
            item = bank.sample()
        strength = 0.0 if item.name and rng.random() < 0.15 else ease  # real crops also as is
        crops.append(augment(rng, item.image, strength))
        texts.append(item.text)
    return crops, texts


def _predictor(model: Any) -> Callable[[np.ndarray], np.ndarray]:
    import torch

    def predict(inputs: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return model(torch.from_numpy(inputs)).softmax(2).numpy()

    return predict


def _validate(model: Any, val: dict[str, tuple[list[np.ndarray], list[str]]]) -> dict[str, float]:
    model.eval()
    predict = _predictor(model)
    return {
        name: evaluate(predict, crops, texts)[0] for name, (crops, texts) in val.items() if texts
    }


def calibrate(model: Any, val: dict[str, tuple[list[np.ndarray], list[str]]]) -> Calibration:
    """Isotonic calibration on the real validation crops (clean and mildly augmented), or on the
    synthetic ones when there are no real crops."""
    model.eval()
    predict = _predictor(model)
    names = [n for n in ("real", "real_augmented") if val[n][1]] or ["synthetic"]
    raw: list[float] = []
    exact: list[bool] = []
    for name in names:
        crops, texts = val[name]
        _, reads = evaluate(predict, crops, texts)
        raw += [c for _, c in reads]
        exact += [r == t for (r, _), t in zip(reads, texts, strict=True)]
    return fit_isotonic(raw, exact)


def export_onnx(model: Any, path: Path) -> Path:
    """Export ``model`` with a softmax on its output (N x 1 x 48 x 144 in, N x 36 x 37 out)."""
    import torch

    class WithSoftmax(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.inner(x).softmax(2)

    model.eval()
    wrapped = WithSoftmax(model).eval()
    example = torch.zeros(1, 1, INPUT_HEIGHT, INPUT_WIDTH)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.onnx.export(
        wrapped,
        (example,),
        str(path),
        input_names=["image"],
        output_names=["probs"],
        dynamic_axes={"image": {0: "batch"}, "probs": {0: "batch"}},
        opset_version=17,
        dynamo=False,
    )
    return path


def load_checkpoint(path: Path) -> Any:
    """The model of a ``best.pt``/``last.pt`` checkpoint, in eval mode."""
    import torch

    model = build_model()
    model.load_state_dict(torch.load(path, weights_only=True)["model"])
    return model.eval()


def install_model(
    run_dir: Path, command: str, model_dir: Path = DEFAULT_MODEL_DIR, notes: str = ""
) -> Path:
    """Copy a run's ``plate-ocr.onnx`` and ``calibration.json`` into ``model_dir`` and write its
    ``MODEL_CARD.md`` (data, command, epochs, time, validation metrics, sha256) from the run's
    ``train_result.json`` and ``train_log.jsonl`` (an unfinished run's log is used as far as it
    goes); ``command`` unless the run recorded its own in ``command.txt``; ``notes`` (markdown)
    end the card. Returns the card's path."""
    recorded = run_dir / COMMAND_FILE
    if recorded.is_file():  # the command that trained the run, not the one that exports it
        command = recorded.read_text().strip()
    model_dir.mkdir(parents=True, exist_ok=True)
    for name in (MODEL_FILE, CALIBRATION_FILE):
        shutil.copyfile(run_dir / name, model_dir / name)
    sha = hashlib.sha256((model_dir / MODEL_FILE).read_bytes()).hexdigest()
    log = [json.loads(line) for line in (run_dir / "train_log.jsonl").read_text().splitlines()]
    result_path = run_dir / "train_result.json"
    result = json.loads(result_path.read_text()) if result_path.is_file() else {}
    best = max(log, key=lambda r: r["score"]) if log else {}
    rows = "\n".join(
        f"| {r['epoch']} | {r['step']} | {r['loss']:.3f} | {r.get('val_real', float('nan')):.3f} "
        f"| {r.get('val_real_augmented', float('nan')):.3f} | {r['val_synthetic']:.3f} "
        f"| {r['seconds'] / 60:.1f} |"
        for r in log
    )
    seconds = result.get("train_seconds", log[-1]["seconds"] if log else 0.0)
    init = result.get("init")
    start = f"from the weights of an earlier run (`{init}`)" if init else "from scratch"
    card = f"""# Plate OCR

A small CTC recognizer of the project's own (`pipelines/training/ocr_train.py`): a four-layer CNN
over a grey {INPUT_HEIGHT} x {INPUT_WIDTH} crop, two 1-D convolutions along it, {INPUT_WIDTH // 4} CTC
frames over the blank and `0-9A-Z`. Trained {start} on the CPU; read by
`pipelines/recognition/plate_ocr.py` (onnxruntime or OpenVINO).

## Training

- Command: `{command}`
- Epochs: {len(log)} ({log[-1]["step"] if log else 0} batches), best epoch {best.get("epoch", "-")}
  by validation exact read; wall time {seconds / 60:.1f} min under `nice -n 10`, one torch thread,
  on the 2 shared cores of the development machine.
- Data, each batch drawn afresh and augmented (perspective and loose/tight crops, low resolution,
  blur, night/IR contrast, glare, dirt, noise, JPEG; `pipelines/training/ocr_data.py`):
  - synthetic plates (`pipelines/training/synth.py`, about 55 %): every US format, vanity plates,
    stacked characters, state names and slogans, registration stickers and dealer frames as
    distractors, EU and Mercosur styles;
  - real US crops (about 30 %): the *tuning* split of `openalpr-us-plates` only (the held-out split
    of `bench/eval_ocr.py` is never read), {result.get("real_train_crops", "-")} training crops
    in all with the next item;
  - real EU/BR plates (about 15 %) cut from the *train* split of the `openalpr-endtoend` photos
    (`dataset.read_real_labels`; its `val` split is never read), three loose cuts each.
- Validation (picks the epoch, fits the calibration): a hash-chosen fifth of those training
  splits ({result.get("real_val_crops", "-")} real crops, never trained on), the same crops
  mildly augmented twice, and synthetic plates.

| epoch | batches | CTC loss | val real exact | val real augmented | val synthetic | minutes |
|---:|---:|---:|---:|---:|---:|---:|
{rows}

## Calibration

`calibration.json`: an isotonic (pool-adjacent-violators) map from the product of the character
probabilities to the probability of an exact read, fitted on the real validation crops (clean
and augmented). The reliability table on the held-out crops is in `docs/recognition.md`
(`bench/eval_ocr.py`).

## Files

| file | sha256 |
|---|---|
| `{MODEL_FILE}` | `{sha}` |
| `{CALIBRATION_FILE}` | `{hashlib.sha256((model_dir / CALIBRATION_FILE).read_bytes()).hexdigest()}` |
"""
    if notes:
        card += "\n" + notes.strip() + "\n"
    path = model_dir / "MODEL_CARD.md"
    path.write_text(card)
    return path
