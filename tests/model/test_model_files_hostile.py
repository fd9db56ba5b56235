"""Model, calibration and input files that are not what they claim (issue 16, item 4): each is
refused with a typed error naming the file, what is wrong and the fix; nothing hangs, nothing is
unpickled, nothing allocates what a header merely claims."""

from __future__ import annotations

import io
import json
import os
import threading
from pathlib import Path

import numpy as np
import pytest

from vcp_toolkit.errors import FileUnreadable, InvalidInput, InvalidModel
from vcp_toolkit.model.arrays import load_npy, load_npz, read_file
from vcp_toolkit.model.builtin import FLOAT_WEIGHTS, QUANTIZED_WEIGHTS
from vcp_toolkit.model.float_model import Model
from vcp_toolkit.model.onnx_import import import_onnx
from vcp_toolkit.model.onnx_io import load_calibration
from vcp_toolkit.model.quantize import QuantizedModel

FIX = "QuantizedModel.save"  # the fix every quantized-model error names


def npy_bytes(array: np.ndarray, **kwargs) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, **kwargs)
    return buffer.getvalue()


def huge_header(shape: tuple, descr: str = "<f8", tail: bytes = b"\0" * 64) -> bytes:
    """A .npy whose header claims ``shape`` but carries ``tail`` only."""
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": descr, "fortran_order": False, "shape": shape})
    return buffer.getvalue() + tail


def builtin_arrays() -> dict[str, np.ndarray]:
    with np.load(QUANTIZED_WEIGHTS, allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


def write_npz(path: Path, **arrays) -> Path:
    with open(path, "wb") as fh:
        np.savez(fh, **arrays)
    return path


def one_line(exc: BaseException, *words: str) -> str:
    text = str(exc)
    assert "\n" not in text and "Errno" not in text and "Traceback" not in text, text
    for word in words:
        assert word in text, (word, text)
    return text


def in_thread(fn, timeout_s: float = 20.0):
    """``fn()``'s exception, failing (instead of hanging the run) if it blocks."""
    box: dict = {}

    def target():
        try:
            fn()
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            box["exc"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(timeout_s)
    assert not thread.is_alive(), "blocked reading a special file"
    return box.get("exc")


# ---------------------------------------------------------------- special and missing files


@pytest.mark.parametrize("loader", [QuantizedModel.load, import_onnx, lambda p: load_calibration(p, 64)])
def test_a_fifo_is_refused_without_blocking(tmp_path, loader):
    fifo = tmp_path / "pipe.onnx"
    os.mkfifo(fifo)
    exc = in_thread(lambda: loader(fifo))
    assert isinstance(exc, InvalidInput) and not isinstance(exc, FileUnreadable), exc
    one_line(exc, str(fifo), "named pipe (FIFO)", "pass ")


@pytest.mark.parametrize("loader", [QuantizedModel.load, import_onnx, Model.load])
def test_folders_devices_missing_files_and_symlink_loops(tmp_path, loader):
    (tmp_path / "loop1").symlink_to(tmp_path / "loop2")
    (tmp_path / "loop2").symlink_to(tmp_path / "loop1")
    for path, kind, words in ((tmp_path, InvalidModel, "a folder"), (Path("/dev/null"), InvalidModel, "a device"),
                              (tmp_path / "missing.q.npz", FileUnreadable, "No such file"),
                              (tmp_path / "loop1", FileUnreadable, "symbolic links"),
                              (tmp_path / "missing" / "x.onnx", FileUnreadable, "No such file")):
        with pytest.raises(kind) as info:
            loader(path)
        one_line(info.value, str(path), words)


@pytest.mark.parametrize("loader", [QuantizedModel.load, import_onnx, Model.load])
def test_an_empty_model_file_says_so(tmp_path, loader):
    path = tmp_path / "empty.json"
    path.write_bytes(b"")
    with pytest.raises(InvalidModel) as info:
        loader(path)
    one_line(info.value, str(path), "is empty (0 bytes)", "; pass ")


def test_odd_file_names_are_escaped_in_messages(tmp_path):
    for name in ("\udcff\x1b[31mred.q.npz", "\u202eevil.q.npz", "new\nline.q.npz"):
        path = tmp_path / name
        path.write_bytes(b"")
        with pytest.raises(InvalidModel) as info:
            QuantizedModel.load(path)
        text = one_line(info.value, "is empty")
        assert "\x1b" not in text and "\u202e" not in text and "\udcff" not in text
    bad = os.fsencode(tmp_path) + b"/\xff\xfe.q.npz"  # a name that is not UTF-8 at all
    with pytest.raises(FileUnreadable) as info:
        QuantizedModel.load(Path(os.fsdecode(bad)))
    one_line(info.value, "\\udcff\\udcfe.q.npz")


# ---------------------------------------------------------------- quantized model archives


def test_truncated_archives_are_named_as_such(tmp_path):
    raw = QUANTIZED_WEIGHTS.read_bytes()
    for cut in (4, 100, len(raw) // 2, len(raw) - 10):
        path = tmp_path / f"cut{cut}.q.npz"
        path.write_bytes(raw[:cut])
        with pytest.raises(InvalidModel) as info:
            QuantizedModel.load(path)
        one_line(info.value, str(path), FIX)


def test_files_of_another_format(tmp_path):
    cases = {"model.json": json.dumps({"layers": []}).encode(), "model.onnx.q.npz": b"\x08\x07" * 50,
             "pickle.q.npz": npy_bytes(np.array([{}], dtype=object), allow_pickle=True)}
    for name, raw in cases.items():
        path = tmp_path / name
        path.write_bytes(raw)
        with pytest.raises(InvalidModel) as info:
            QuantizedModel.load(path)
        one_line(info.value, str(path), "is not an .npz archive", FIX)
    with pytest.raises(InvalidModel) as info:
        QuantizedModel.load(FLOAT_WEIGHTS)
    one_line(info.value, "vcp.float-model", "not vcp.quantized-model")


def test_wrong_arrays_and_dtypes(tmp_path):
    arrays = builtin_arrays()
    cases = {
        "float weights": ({"layer0.weight": arrays["layer0.weight"].astype(np.float32)}, "int8"),
        "missing bias": ({"layer1.bias": None}, "layer1.bias is missing"),
        "extra array": ({"layer7.weight": arrays["layer0.weight"]}, "layer7.weight"),
        "object member": ({"layer0.shift": np.array([None], dtype=object)}, "Python objects"),
        "bool member": ({"layer0.shift": np.ones(32, dtype=bool)}, "bool"),
        "meta not text": ({"meta": np.arange(3)}, "no 'meta' text array"),
        "meta not json": ({"meta": np.array("{not json")}, "is not valid JSON"),
        "meta deep": ({"meta": np.array("[" * 100_000)}, "nested too deeply"),
        "meta wrong types": ({"meta": np.array(json.dumps({**json.loads(str(arrays["meta"])), "name": 7}))},
                             "meta.name"),
        "meta activation": ({"meta": np.array(json.dumps({**json.loads(str(arrays["meta"])),
                                                          "activations": [3, "none"]}))}, "meta.activations"),
    }
    for label, (changes, words) in cases.items():
        merged = {k: v for k, v in {**arrays, **changes}.items() if v is not None}
        path = write_npz(tmp_path / f"{label.replace(' ', '_')}.q.npz", **merged)
        try:
            QuantizedModel.load(path)
        except InvalidModel as exc:
            one_line(exc, str(path), words, FIX)
        else:
            pytest.fail(f"{label}: loaded")


def test_a_huge_shape_in_a_member_header_is_refused_before_allocation(tmp_path):
    path = tmp_path / "huge.q.npz"
    with open(path, "wb") as fh:
        import zipfile

        with zipfile.ZipFile(fh, "w") as archive:
            for name, value in builtin_arrays().items():
                raw = huge_header((2**40, 2**20), "<i8") if name == "layer0.bias" else npy_bytes(value)
                archive.writestr(f"{name}.npy", raw)
    with pytest.raises(InvalidModel) as info:
        QuantizedModel.load(path)
    one_line(info.value, "truncated or damaged", "(1099511627776, 1048576)", "64 bytes follow")


def test_a_good_model_still_loads_and_round_trips(tmp_path):
    model = QuantizedModel.load(QUANTIZED_WEIGHTS)
    model.save(tmp_path / "m.q.npz")
    again = QuantizedModel.load(tmp_path / "m.q.npz")
    assert again.widths == model.widths and again.metadata == model.metadata
    for a, b in zip(again.layers, model.layers):
        assert all(np.array_equal(getattr(a, n), getattr(b, n)) for n in ("weight", "bias", "multiplier", "shift"))
    assert Model.load(FLOAT_WEIGHTS).input_width == model.input_width


# ---------------------------------------------------------------- .npy / .npz readers


def test_load_npy_reads_what_numpy_writes():
    for array in (np.arange(12, dtype=np.int16).reshape(3, 4), np.asfortranarray(np.ones((3, 5)) * [1, 2, 3, 4, 5]),
                  np.zeros((0, 64)), np.array(3.5), np.arange(6, dtype=">f4").reshape(2, 3)):
        back = load_npy(npy_bytes(array), "a")
        assert back.dtype == array.dtype and back.shape == array.shape and np.array_equal(back, array)
    version2 = io.BytesIO()
    np.lib.format.write_array(version2, np.arange(5.0), version=(2, 0))
    assert np.array_equal(load_npy(version2.getvalue(), "a"), np.arange(5.0))


@pytest.mark.parametrize("raw, words", [
    (b"", "not a .npy array"),
    (b"\x93NUMPY\x01", "damaged .npy header"),
    (b"\x93NUMPY\x09\x00" + b"x" * 100, "damaged .npy header"),
    (npy_bytes(np.array([{}, []], dtype=object), allow_pickle=True), "Python objects (pickled data)"),
    (npy_bytes(np.array([1 + 2j])), "complex128 values, not integers or unsigned integers or floats"),
    (npy_bytes(np.array(["a"])), "<U1 values"),
    (huge_header((10**15, 64)), "truncated or damaged"),
    (huge_header((2**62, 2**62, 2**62)), "truncated or damaged"),
    (huge_header((-4, 2)), "negative size"),
    (npy_bytes(np.arange(10.0))[:-3], "truncated or damaged"),
    (npy_bytes(np.arange(10.0)) + b"extra", "truncated or damaged"),
])
def test_load_npy_refuses(raw, words):
    with pytest.raises(InvalidInput) as info:
        load_npy(raw, "input x.npy", fix="the fix")
    one_line(info.value, "input x.npy", words, "; the fix")


def test_load_npz_refuses_bombs_and_foreign_members():
    def archive(members: dict[str, bytes], compress: int = 0) -> bytes:
        import zipfile

        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=compress) as zf:
            for name, data in members.items():
                zf.writestr(name, data)
        return buffer.getvalue()

    import zipfile

    bomb = archive({"x.npy": npy_bytes(np.zeros(2**22))}, zipfile.ZIP_DEFLATED)
    dup = io.BytesIO()
    with pytest.warns(UserWarning), zipfile.ZipFile(dup, "w") as zf:
        zf.writestr("x.npy", npy_bytes(np.ones(3)))
        zf.writestr("x.npy", npy_bytes(np.zeros(3)))
    assert len(bomb) < 2**16
    for raw, words in ((bomb, "inflates to over 1,000,000 bytes"), (archive({}), "no arrays"),
                       (archive({"x.npy": b"1", "script.py": b"2"}), "other than .npy"),
                       (dup.getvalue(), "or repeated"),
                       (b"PK\x03\x04" + b"\0" * 40, "truncated or damaged .npz")):
        with pytest.raises(InvalidInput) as info:
            load_npz(raw, "calibration c.npz", 1_000_000)
        one_line(info.value, "calibration c.npz", words)


def test_read_file_bounds_and_classes(tmp_path):
    big = tmp_path / "big.npy"
    big.write_bytes(b"\0" * 2000)
    with pytest.raises(InvalidModel) as info:
        read_file(big, "model file", 1000, InvalidModel, "the fix")
    one_line(info.value, str(big), "over the 1000 byte limit", "; the fix")
    assert read_file(big, "model file", 2000) == b"\0" * 2000


# ---------------------------------------------------------------- calibration files


def test_calibration_files_that_are_not(tmp_path):
    np.save(tmp_path / "pickle.npy", np.array([None] * 64, dtype=object), allow_pickle=True)
    np.savez(tmp_path / "pickle.npz", x=np.array([None] * 64, dtype=object), allow_pickle=True)
    (tmp_path / "huge.npy").write_bytes(huge_header((10**12, 64)))
    (tmp_path / "empty.npy").write_bytes(b"")
    (tmp_path / "cut.npz").write_bytes((tmp_path / "pickle.npz").read_bytes()[:60])
    np.save(tmp_path / "none.npy", np.zeros((0, 64)))
    os.mkdir(tmp_path / "folder.npy")
    for name, words in (("pickle.npy", "Python objects"), ("pickle.npz", "Python objects"),
                        ("huge.npy", "truncated or damaged"), ("empty.npy", "is empty"),
                        ("cut.npz", "truncated or damaged"), ("none.npy", "holds no samples"),
                        ("folder.npy", "a folder")):
        with pytest.raises(InvalidInput) as info:
            load_calibration(tmp_path / name, 64)
        one_line(info.value, str(tmp_path / name), words, "numpy.save")
    np.savez(tmp_path / "good.npz", samples=np.ones((4, 64)))  # content, not the suffix, decides
    os.rename(tmp_path / "good.npz", tmp_path / "good.bin")
    assert load_calibration(tmp_path / "good.bin", 64)[0].shape == (4, 64)
