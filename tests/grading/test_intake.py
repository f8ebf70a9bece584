"""Intake of submission zips: allow-list only, nothing outside the target, broken input named clearly."""

from __future__ import annotations

import json
import os
import stat
import struct
import time
import zipfile
import zlib
from pathlib import Path

import pytest

from instructor import intake
from instructor.course import STUDENT_MODULES, STUDENT_NOTEBOOKS
from cs231n.course import NOTEBOOKS
from instructor.course import REPO_ROOT as REPO

MB = 1 << 20
# Where each field of an entry sits in its local header and in its central directory record (APPNOTE 4.3.7,
# 4.3.12): struct format, offset in the local header, offset in the central record.
HEADER_FIELDS = {"flag_bits": ("<H", 6, 8), "crc": ("<L", 14, 16), "file_size": ("<L", 22, 24)}


def valid_notebook() -> bytes:
    return json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}).encode()


def full_files(prefix: str = "") -> dict[str, bytes]:
    files = {f"{prefix}assignment1/{n}.ipynb": valid_notebook() for n in NOTEBOOKS}
    for module in STUDENT_MODULES:
        files[prefix + module] = f"# {module} by the student\n".encode()
    return files


def make_zip(
    path: Path, files: dict[str, bytes], symlinks: dict[str, str] = (), compression: int = zipfile.ZIP_STORED
) -> Path:
    with zipfile.ZipFile(path, "w", compression=compression) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
        for name, target in dict(symlinks).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, target)
    return path


def take(tmp_path: Path, files: dict[str, bytes], **kwargs) -> intake.Intake:
    folder = tmp_path / "incoming"
    folder.mkdir(exist_ok=True)
    make_zip(folder / "s1.zip", files, **kwargs)
    return take_zip(tmp_path, folder / "s1.zip")


def take_zip(tmp_path: Path, path: Path, **kwargs) -> intake.Intake:
    submissions, _ = intake.find_submissions(path.parent)
    return intake.take_in(submissions[path.stem], tmp_path / "submitted", REPO, **kwargs)


def add_streamed(archive: zipfile.ZipFile, name: str, block: bytes, count: int) -> None:
    """Write ``count`` copies of ``block`` as one entry, a block at a time (never all in memory)."""
    with archive.open(name, "w") as handle:
        for _ in range(count):
            handle.write(block)


def forge_headers(path: Path, name: str, **values: int) -> None:
    """Overwrite fields of entry ``name`` (see ``HEADER_FIELDS``) in its local header and its central record."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        local = archive.getinfo(name).header_offset
        central = archive.start_dir
    while True:
        name_length, extra_length, comment_length = struct.unpack_from("<3H", data, central + 28)
        if data[central + 46 : central + 46 + name_length] == name.encode():
            break
        central += 46 + name_length + extra_length + comment_length
    for field, value in values.items():
        form, in_local, in_central = HEADER_FIELDS[field]
        struct.pack_into(form, data, local + in_local, value)
        struct.pack_into(form, data, central + in_central, value)
    path.write_bytes(bytes(data))


def understate_entry_count(path: Path, count: int) -> None:
    """Make the end record (the last 22 bytes of a zip without comment) announce ``count`` entries."""
    data = bytearray(path.read_bytes())
    struct.pack_into("<HH", data, len(data) - 22 + 8, count, count)
    path.write_bytes(bytes(data))


@pytest.fixture
def inflated(monkeypatch) -> list[int]:
    """Bytes put out by each deflate stream opened while the test runs, counted at zlib itself."""
    streams: list[int] = []
    real = zlib.decompressobj

    class Counting:
        def __init__(self, *args):
            self._inner = real(*args)
            self._stream = len(streams)
            streams.append(0)

        def decompress(self, data, max_length=0):
            out = self._inner.decompress(data, max_length)
            streams[self._stream] += len(out)
            return out

        def flush(self, *args):
            out = self._inner.flush(*args)
            streams[self._stream] += len(out)
            return out

        def __getattr__(self, name):  # eof, unconsumed_tail
            return getattr(self._inner, name)

    monkeypatch.setattr(zlib, "decompressobj", Counting)
    return streams


def test_takes_the_allow_listed_files_into_the_nbgrader_layout(tmp_path):
    files = full_files()
    files["datasets/cifar-10-batches-py/data_batch_1"] = b"pixels"
    files["cs231n/data_utils.py"] = b"print('trusted code replaced')"
    files["assignment1/.ipynb_checkpoints/knn-checkpoint.ipynb"] = valid_notebook()
    taken = take(tmp_path, files)
    got = sorted(p.relative_to(taken.folder).as_posix() for p in taken.folder.rglob("*") if p.is_file())
    assert got == sorted(
        [f"{name}.ipynb" for name in NOTEBOOKS] + ["timestamp.txt"] + list(STUDENT_MODULES)
    )
    assert taken.folder == tmp_path / "submitted" / "s1" / "assignment1"
    assert (taken.folder / "cs231n/classifiers/softmax.py").read_bytes() == files["cs231n/classifiers/softmax.py"]


def test_accepts_one_wrapping_folder_as_platforms_repack_zips(tmp_path):
    taken = take(tmp_path, full_files(prefix="s1_submission/"))
    assert (taken.folder / "knn.ipynb").is_file()
    assert not taken.missing_notebooks


def test_skips_entries_that_escape_the_target_and_links(tmp_path):
    files = full_files()
    files["../../evil.py"] = b"import os"
    files["/etc/evil.py"] = b"import os"
    files["assignment1/../../../escape.txt"] = b"x"
    taken = take(tmp_path, files, symlinks={"cs231n/classifiers/link.py": "/etc/passwd"})
    written = {p for p in tmp_path.rglob("*") if p.is_file()}
    assert not any("evil" in p.name or "escape" in p.name for p in written)
    assert sum("unsafe archive entry" in note for note in taken.notes) == 4


def test_a_corrupt_zip_is_refused_with_a_reason(tmp_path):
    folder = tmp_path / "incoming"
    folder.mkdir()
    make_zip(folder / "s1.zip", full_files())
    data = bytearray((folder / "s1.zip").read_bytes())
    data[40:60] = b"\xff" * 20  # inside the first member's data: its CRC no longer matches
    (folder / "s1.zip").write_bytes(bytes(data))
    submissions, _ = intake.find_submissions(folder)
    with pytest.raises(intake.IntakeError, match="corrupt|not a readable zip"):
        intake.take_in(submissions["s1"], tmp_path / "submitted", REPO)


def test_a_file_that_is_not_a_zip_is_refused(tmp_path):
    folder = tmp_path / "incoming"
    folder.mkdir()
    (folder / "s1.zip").write_text("this is a notebook, not a zip")
    submissions, _ = intake.find_submissions(folder)
    with pytest.raises(intake.IntakeError, match=r"not a readable zip archive \(BadZipFile"):
        intake.take_in(submissions["s1"], tmp_path / "submitted", REPO)


def test_a_missing_module_is_graded_as_the_released_stub(tmp_path):
    files = full_files()
    del files["cs231n/classifiers/linear_svm.py"]
    taken = take(tmp_path, files)
    stub = (REPO / "cs231n/classifiers/linear_svm.py").read_bytes()
    assert (taken.folder / "cs231n/classifiers/linear_svm.py").read_bytes() == stub
    assert "cs231n/classifiers/linear_svm.py was not submitted: graded as the unmodified stub" in taken.notes


def test_a_notebook_that_is_not_json_counts_as_not_submitted(tmp_path):
    files = full_files()
    files["assignment1/svm.ipynb"] = b"{ this is not json"
    taken = take(tmp_path, files)
    assert taken.missing_notebooks == ["svm"]
    assert not (taken.folder / "svm.ipynb").exists()
    assert any(note.startswith("svm.ipynb is not a valid notebook (NotJSONError: Notebook does not appear to be JSON") for note in taken.notes)


def test_a_missing_notebook_is_reported(tmp_path):
    files = full_files()
    del files["assignment1/softmax.ipynb"]
    taken = take(tmp_path, files)
    assert taken.missing_notebooks == ["softmax"]
    assert "softmax.ipynb was not submitted: its points are 0" in taken.notes


def test_manifest_mismatch_is_noted(tmp_path):
    from cs231n.submission import write_zip

    files = full_files()
    folder = tmp_path / "incoming"
    folder.mkdir()
    write_zip(files, folder / "s1.zip")
    # Rewrite one member after packaging, keeping the manifest.
    with zipfile.ZipFile(folder / "s1.zip") as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    members["cs231n/classifiers/softmax.py"] = b"# edited afterwards\n"
    make_zip(folder / "s1.zip", members)
    submissions, _ = intake.find_submissions(folder)
    taken = intake.take_in(submissions["s1"], tmp_path / "submitted", REPO)
    assert taken.notes == [
        "cs231n/classifiers/softmax.py does not match its checksum in MANIFEST.sha256 (changed after packaging?)"
    ]


def test_an_oversized_member_is_refused_whatever_its_header_claims(tmp_path, monkeypatch):
    monkeypatch.setattr(intake, "MAX_FILE_BYTES", 1000)
    files = full_files()
    files["cs231n/classifiers/softmax.py"] = b"#" * 5000
    with pytest.raises(intake.IntakeError, match="larger than"):
        take(tmp_path, files)


def test_a_zip_bomb_is_refused_from_its_declared_size_before_anything_is_inflated(tmp_path, inflated):
    files = full_files()
    del files["assignment1/svm.ipynb"]
    path = make_zip(tmp_path / "s1.zip", files, compression=zipfile.ZIP_DEFLATED)
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        add_streamed(archive, "assignment1/svm.ipynb", bytes(MB), 256)
    assert path.stat().st_size < MB
    with pytest.raises(
        intake.IntakeError,
        match=r"^assignment1/svm\.ipynb declares 256 MB uncompressed, larger than the 32 MB allowed for one file; "
        r"re-run collectSubmission\.sh",
    ):
        take_zip(tmp_path, path)
    assert inflated == []


def test_an_entry_too_compressible_for_a_notebook_or_module_is_refused_before_inflating(tmp_path, inflated):
    path = make_zip(tmp_path / "s1.zip", {})
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        add_streamed(archive, "cs231n/classifiers/softmax.py", b"#" * MB, 16)
    with pytest.raises(
        intake.IntakeError,
        match=r"^cs231n/classifiers/softmax\.py declares 16 MB from [\d,]+ bytes compressed, 1,0\d\d-fold, more than "
        r"the 200-fold allowed for a file over 1 MB .* clear any huge repeated output",
    ):
        take_zip(tmp_path, path)
    assert inflated == []


def test_a_small_file_of_repeated_bytes_is_not_held_to_the_ratio(tmp_path):
    files = full_files()
    files["cs231n/classifiers/softmax.py"] = b"#" * 500_000
    taken = take(tmp_path, files, compression=zipfile.ZIP_DEFLATED)
    with zipfile.ZipFile(tmp_path / "incoming" / "s1.zip") as archive:
        info = archive.getinfo("cs231n/classifiers/softmax.py")
    assert info.file_size / info.compress_size > intake.MAX_RATIO
    assert (taken.folder / "cs231n/classifiers/softmax.py").read_bytes() == files["cs231n/classifiers/softmax.py"]


@pytest.mark.parametrize(
    "limit, value, match",
    [
        ("MAX_ZIP_BYTES", 1000, r"^the zip file is [\d,]+ bytes, more than the 1,000 bytes allowed; re-run collect"),
        ("MAX_ENTRIES", 7, rf"^the archive has {len(NOTEBOOKS) + len(STUDENT_MODULES) + 1} entries, more than the 7 "
                           "allowed; re-run collectSubmission"),
        ("MAX_FILE_BYTES", 50, rf"^assignment1/knn\.ipynb declares {len(valid_notebook())} bytes uncompressed, larger "
         r"than the 50 bytes allowed"),
        ("MAX_TOTAL_BYTES", 300, r"^the files taken in declare [\d,]+ bytes uncompressed in total, more than the 300 "),
    ],
)
def test_a_submission_over_a_declared_limit_is_refused_before_anything_is_inflated(
    tmp_path, monkeypatch, inflated, limit, value, match
):
    monkeypatch.setattr(intake, limit, value)
    files = full_files()
    files["datasets/readme.txt"] = b"not graded, but an entry all the same"
    with pytest.raises(intake.IntakeError, match=match):
        take(tmp_path, files, compression=zipfile.ZIP_DEFLATED)
    assert inflated == []


@pytest.mark.parametrize(
    "entries, match",
    [
        (30, r"^the archive has 30 entries, more than the 20 allowed"),
        (300, r"^the archive's central directory is [\d,]+ bytes, more than the 10,240 bytes allowed for 20 entries"),
    ],
)
def test_an_end_record_that_understates_the_entry_count_is_caught(tmp_path, monkeypatch, entries, match):
    monkeypatch.setattr(intake, "MAX_ENTRIES", 20)
    path = make_zip(tmp_path / "s1.zip", {f"datasets/junk/{i:04d}": b"" for i in range(entries)})
    understate_entry_count(path, 5)
    with pytest.raises(intake.IntakeError, match=match):
        take_zip(tmp_path, path)


def test_a_huge_entry_outside_the_allow_list_is_never_inflated(tmp_path, inflated):
    files = full_files()
    path = make_zip(tmp_path / "s1.zip", files, compression=zipfile.ZIP_DEFLATED)
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        add_streamed(archive, "datasets/cifar-10-batches-py/data_batch_1", bytes(MB), 256)
    taken = take_zip(tmp_path, path)
    assert not taken.missing_notebooks
    assert sum(inflated) == sum(len(data) for data in files.values())


def test_an_entry_whose_header_understates_its_size_is_inflated_only_up_to_the_cap(tmp_path, inflated):
    path = make_zip(tmp_path / "s1.zip", {})
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        add_streamed(archive, "assignment1/svm.ipynb", bytes(MB), 64)
    forge_headers(path, "assignment1/svm.ipynb", file_size=1000)
    with pytest.raises(
        intake.IntakeError, match=r"^the archive is corrupt in assignment1/svm\.ipynb \(BadZipFile: Bad CRC-32"
    ):
        take_zip(tmp_path, path)
    assert 0 < sum(inflated) <= intake.MAX_FILE_BYTES


def test_a_crc_mismatch_is_refused_as_a_corrupt_archive(tmp_path):
    path = make_zip(tmp_path / "s1.zip", full_files(), compression=zipfile.ZIP_DEFLATED)
    with zipfile.ZipFile(path) as archive:
        real = archive.getinfo("cs231n/classifiers/softmax.py").CRC
    forge_headers(path, "cs231n/classifiers/softmax.py", crc=real ^ 1)
    with pytest.raises(
        intake.IntakeError,
        match=r"^the archive is corrupt in cs231n/classifiers/softmax\.py \(BadZipFile: Bad CRC-32 for file "
        r"'cs231n/classifiers/softmax\.py'\); re-run collectSubmission\.sh",
    ):
        take_zip(tmp_path, path)


@pytest.mark.parametrize(
    "compression, flag_bits, match",
    [
        (zipfile.ZIP_BZIP2, 0, r"^assignment1/knn\.ipynb is compressed with bzip2 \(method 12\), but only stored or "
         r"deflated files are read"),
        (zipfile.ZIP_DEFLATED, intake.ENCRYPTED_FLAG, r"^assignment1/knn\.ipynb is encrypted; re-run collect"),
    ],
)
def test_only_plain_stored_or_deflated_entries_are_read(tmp_path, compression, flag_bits, match):
    path = make_zip(tmp_path / "s1.zip", full_files(), compression=compression)
    forge_headers(path, "assignment1/knn.ipynb", flag_bits=flag_bits)
    with pytest.raises(intake.IntakeError, match=match):
        take_zip(tmp_path, path)


def test_a_real_submission_passes_every_limit_even_with_the_ratio_held_to_small_files(tmp_path, monkeypatch):
    from cs231n.submission import write_zip

    monkeypatch.setattr(intake, "RATIO_FREE_BYTES", 0)
    files = {name: (REPO / name).read_bytes() for name in STUDENT_NOTEBOOKS}
    files |= {name: (REPO / "solutions" / name).read_bytes() for name in STUDENT_MODULES}
    path = write_zip(files, tmp_path / "s1.zip")
    with zipfile.ZipFile(path) as archive:
        ratios = [info.file_size / info.compress_size for info in archive.infolist()]
    taken = take_zip(tmp_path, path)
    assert taken.notes == [] and taken.missing_notebooks == []
    assert max(ratios) < intake.MAX_RATIO / 20  # the margin the limit was chosen with


def test_the_time_limit_stops_a_slow_intake_between_chunks(tmp_path, inflated):
    block = b"".join(b"loss[%d] = %d.%06d\n" % (i, i % 7, i * 7919 % 10**6) for i in range(MB // 24))
    path = make_zip(tmp_path / "s1.zip", {})
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        add_streamed(archive, "assignment1/svm.ipynb", block, 24)
    with pytest.raises(
        intake.IntakeError,
        match=r"^taking in the archive took longer than its 1e-06 s limit \(stopped while reading "
        r"assignment1/svm\.ipynb\); a zip made by collectSubmission\.sh takes about a second",
    ):
        take_zip(tmp_path, path, time_limit=1e-6)
    assert 0 < sum(inflated) < len(block) * 24


@pytest.mark.parametrize("time_limit", [0, -1.0, float("nan")])
def test_a_time_limit_that_is_not_positive_is_rejected(tmp_path, time_limit):
    path = make_zip(tmp_path / "s1.zip", full_files())
    with pytest.raises(ValueError, match=r"^time_limit must be a positive number of seconds, got "):
        take_zip(tmp_path, path, time_limit=time_limit)


def test_student_ids_come_from_a_platform_pattern_and_the_newest_file_wins(tmp_path):
    folder = tmp_path / "export"
    folder.mkdir()
    pattern = r"^(?P<student_id>[a-z0-9]+)_\d+_(?P<attempt>\d+)_.*\.zip$"
    old = make_zip(folder / "ada_123_1_submission.zip", full_files())
    new = make_zip(folder / "ada_123_2_submission.zip", full_files())
    make_zip(folder / "bob_456_1_cs231n.zip", full_files())
    (folder / "notes.txt").write_text("not a submission")
    now = time.time()
    os.utime(old, (now - 100, now - 100))
    os.utime(new, (now, now))
    submissions, warnings = intake.find_submissions(folder, pattern)
    assert sorted(submissions) == ["ada", "bob"]
    assert submissions["ada"].path == new
    assert any("ignoring ada_123_1_submission.zip" in w for w in warnings)
    assert any(w.startswith("notes.txt: name does not match") for w in warnings)


def test_unsafe_student_ids_are_skipped(tmp_path):
    folder = tmp_path / "incoming"
    folder.mkdir()
    make_zip(folder / "..hidden.zip", full_files())
    make_zip(folder / "a b.zip", full_files())
    submissions, warnings = intake.find_submissions(folder)
    assert submissions == {}
    assert any("'a b' is not a safe name" in w for w in warnings)


def test_a_pattern_without_student_id_group_is_rejected(tmp_path):
    with pytest.raises(ValueError, match=r"has no \(\?P<student_id>\.\.\.\) group"):
        intake.find_submissions(tmp_path, r"(.*)\.zip")


def test_only_answer_cells_are_kept_from_a_submitted_notebook():
    def cell(grade_id, source, solution=False, cell_type="code"):
        meta = {"nbgrader": {"grade_id": grade_id, "solution": solution, "grade": not solution, "points": 1}}
        return {"cell_type": cell_type, "metadata": meta, "source": source, "outputs": [], "execution_count": None}

    release = {"cells": [cell("setup", "import numpy"), cell("answer", "# YOUR CODE HERE", solution=True),
                         cell("test_a", "assert f() == 1"), cell("q1", "YOUR ANSWER HERE", True, "markdown")],
               "metadata": {"kernelspec": {"name": "python3"}}, "nbformat": 4, "nbformat_minor": 5}
    student = {"cells": [cell("setup", "import numpy; np.allclose = lambda *a: True"),
                         {"cell_type": "code", "metadata": {}, "source": "cheat()", "outputs": [], "execution_count": 1},
                         cell("answer", "def f():\n    return 1", solution=True),
                         cell("q1", "Because it is linear.", True, "markdown")],
               "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    merged = json.loads(intake.keep_answers(json.dumps(release), json.dumps(student).encode()))
    assert [c["source"] for c in merged["cells"]] == [
        "import numpy", "def f():\n    return 1", "assert f() == 1", "Because it is linear."
    ]
