"""OpenVINO compilation shared by the detector and the OCRs."""

from __future__ import annotations

import openvino as ov
import pytest

from pipelines.recognition.detector import DEFAULT_WEIGHTS, backend_files
from pipelines.recognition.runtime import PINNING, compile_openvino

_IR = backend_files(DEFAULT_WEIGHTS)["openvino"]


def test_openvino_pins_threads_by_default_here() -> None:
    """The premise of the setting below: left alone, the CPU plugin pins its threads (measured on
    Linux x86; another platform's default may differ, and this test with it)."""
    compiled = ov.Core().compile_model(str(_IR), "CPU", {"INFERENCE_NUM_THREADS": 1})
    assert compiled.get_property(PINNING) is True


@pytest.mark.parametrize("streams", [1, 2])
def test_models_are_not_pinned_to_a_core(streams: int) -> None:
    # Two single-threaded detectors pinned in one process share one core (no parallel batches).
    compiled, _ = compile_openvino(_IR, threads=1, precision="f32", streams=streams)
    assert compiled.get_property(PINNING) is False
    assert compiled.get_property("INFERENCE_NUM_THREADS") == streams


def test_streams_must_be_positive() -> None:
    with pytest.raises(ValueError, match=r"streams=0 must be positive"):
        compile_openvino(_IR, threads=1, precision="f32", streams=0)
