"""An edited sheet is written as its original bytes with only its cells replaced.

`Package.write` splices the new ``<sheetData>`` (and ``<dimension>``'s ref) into the
sheet's original text, and `verify` then compares the rest byte for byte. These tests
hold that: every book of the lossless suite takes the splice for every sheet it edits
(LibreOffice re-saves may not), the rest of each spliced sheet is the original's bytes,
the verifier notices a change there, and a sheet in a shape the splice does not do is
serialized whole and verified as before.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from rebalancer_xl.adapters import package as P
from rebalancer_xl.adapters.package_read import book_from_package
from rebalancer_xl.pipeline import plan_book
from tests.test_lossless import BOOKS, LO_BOOKS, book_path, library, lo_library

__all__ = ["library", "lo_library"]  # fixtures, imported for the books


def _written(src: Path, out: Path) -> tuple[P.Package, P.Plan]:
    pkg = P.Package(src)
    outcome = plan_book(book_from_package(pkg))
    assert outcome.ok, outcome.problems
    pkg.apply(outcome.ops)
    with out.open("wb") as f:
        plan = pkg.write(f)
    return pkg, plan


@pytest.mark.parametrize("book", BOOKS)
def test_every_edited_sheet_is_spliced_and_the_rest_kept_byte_for_byte(book, request, tmp_path):
    out = tmp_path / ("out" + book_path(book, request).suffix)
    pkg, plan = _written(book_path(book, request), out)
    try:
        edited = set(plan.sheet_parts) - plan.new_sheet_parts
        assert edited
        if book not in LO_BOOKS:
            assert set(plan.spliced) == edited
        with P._open_zip(out) as written:
            for part in plan.spliced:
                before, after = P.read_part(pkg.zf, part), P.read_part(written, part)
                assert plan.spliced[part] == before
                a, b = P._sheet_data_span(before), P._sheet_data_span(after)
                assert a is not None
                assert b is not None
                assert before[a[2] :] == after[b[2] :]  # the tail, as it was
                dims = P._DIMENSION_REF.split(before[: a[0]]), P._DIMENSION_REF.split(after[: b[0]])
                assert dims[0][::2] == dims[1][::2]  # the head, but for the dimension's ref
        assert P.verify(pkg.zf, out, plan) == []
    finally:
        pkg.close()


@pytest.mark.parametrize(
    "tamper",
    [
        lambda xml: xml.replace(b"</sheetData>", b"</sheetData><!-- x -->", 1),
        lambda xml: xml.replace(b"<sheetData", b'<sheetData x="1"', 1),
        lambda xml: xml.replace(b"</worksheet>", b"<extLst/></worksheet>", 1),
    ],
    ids=["after the cells", "the cells' own tag", "at the end"],
)
def test_the_verifier_sees_a_change_anywhere_outside_the_cells(sample, tmp_path, tamper):
    from tests.test_package import _rezip

    out = tmp_path / "out.xlsx"
    pkg, plan = _written(sample, out)
    try:
        part = pkg.sheet_part["Holdings"]
        assert part in plan.spliced
        with P._open_zip(out) as z:
            xml = P.read_part(z, part)
        bad = _rezip(out, tmp_path / "bad.xlsx", replace={part: tamper(xml)})
        assert P.verify(pkg.zf, bad, plan) == ["Holdings: an element other than cells changed"]
    finally:
        pkg.close()


def test_a_sheet_the_splice_cannot_do_is_written_whole_and_verified(sample, tmp_path):
    """A comment naming sheetData makes the text ambiguous: the sheet is serialized."""
    from tests.test_package import _rezip

    pkg = P.Package(sample)
    part = pkg.sheet_part["Holdings"]
    xml = pkg.data(part)
    pkg.close()
    odd = _rezip(
        sample,
        tmp_path / "odd.xlsx",
        replace={part: xml.replace(b"<sheetData", b"<!-- sheetData --><sheetData", 1)},
    )
    pkg, plan = _written(odd, tmp_path / "out.xlsx")
    try:
        assert part in plan.replaced
        assert part not in plan.spliced
        assert P.verify(pkg.zf, tmp_path / "out.xlsx", plan) == []
    finally:
        pkg.close()
