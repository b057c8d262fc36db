"""An independent count of what a user cares about in a package, read straight from the zip.

The tests' oracle that a run lost nothing: it counts pictures, shapes, charts, notes,
validations, conditional formats (with their x14 extensions), sparklines, tables,
defined names, formulas, macros and more, by meaning rather than by part name, with
byte counting and small regexes rather than the writer's own lxml code. It began as the
save-loss guard of the old openpyxl writer; the package writer's `verify` replaced it
in the run, and here it checks that writer from the outside.
"""

from __future__ import annotations

import enum
import io
import posixpath
import re
import zipfile
from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from xml.etree import ElementTree

__all__ = ["Inventory", "Kind", "Loss", "inventory", "losses"]

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
X14_NS = "http://schemas.microsoft.com/office/spreadsheetml/2009/9/main"
X15_NS = "http://schemas.microsoft.com/office/spreadsheetml/2010/11/main"
XDR_NS = "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing"
VML_NS = "urn:schemas-microsoft-com:vml"
THREADED_NS = "http://schemas.microsoft.com/office/spreadsheetml/2018/threadedcomments"
RICH_NS = "http://schemas.microsoft.com/office/spreadsheetml/2017/richdata"
REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
DOC_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"

WORKBOOK = ""  # the `sheet` of workbook-level counts


class Kind(enum.Enum):
    """A kind of content a user would miss; ``code`` is stable, ``label`` is for people."""

    SHEET = ("sheet", "worksheet")
    SHAPE = ("shape", "text box(es)/shape(s)")
    PICTURE = ("picture", "picture(s)")
    CHART = ("chart", "chart(s)")
    CHART_EX = ("chart-ex", "Excel 2016 chart(s) (waterfall, treemap, …)")
    FORM_CONTROL = ("form-control", "form control(s) (buttons, check boxes, …)")
    ACTIVEX = ("activex", "ActiveX control(s)")
    OLE_OBJECT = ("ole-object", "embedded OLE object(s)")
    SPARKLINE_GROUP = ("sparkline-group", "sparkline group(s)")
    SLICER = ("slicer", "slicer(s)")
    TIMELINE = ("timeline", "timeline(s)")
    X14_VALIDATION = ("x14-validation", "Excel 2010 data validation(s)")
    X14_CONDITIONAL = ("x14-conditional-format", "Excel 2010 conditional format rule(s)")
    EXTENSION = ("extension", "other Excel extension block(s)")
    VALIDATION = ("data-validation", "data validation(s)")
    CONDITIONAL = ("conditional-format", "conditional format rule(s)")
    TABLE = ("table", "table(s)")
    COMMENT = ("comment", "comment(s)/note(s)")
    THREADED_COMMENT = ("threaded-comment", "threaded comment(s)")
    HEADER_FOOTER_PICTURE = ("header-footer-picture", "header/footer picture(s)")
    MERGED_CELLS = ("merged-cells", "merged cell range(s)")
    HYPERLINK = ("hyperlink", "hyperlink(s)")
    FORMULA = ("formula", "formula(s)")
    DYNAMIC_ARRAY = ("dynamic-array", "dynamic array formula(s)")
    PIVOT_TABLE = ("pivot-table", "pivot table(s)")
    DEFINED_NAME = ("defined-name", "defined name(s)")
    EXTERNAL_LINK = ("external-link", "external workbook link(s)")
    CONNECTION = ("connection", "data connection(s)")
    QUERY_TABLE = ("query-table", "query table(s)")
    RICH_VALUE = ("rich-value", "rich value(s) (pictures in cells, Stocks data types)")
    CUSTOM_XML = ("custom-xml", "custom XML part(s)")
    CUSTOM_UI = ("custom-ui", "custom ribbon part(s)")
    VBA = ("vba", "VBA project")
    MACRO_TYPE = ("macro-enabled-type", "macro-enabled file type (.xlsm)")
    # openpyxl types any book loaded with keep_vba=True as .xlsm; Excel won't open such a .xlsx
    PLAIN_TYPE = ("macro-free-type", "macro-free file type (.xlsx)")

    def __init__(self, code: str, label: str) -> None:
        self.code = code
        self.label = label


# Kinds that exist once (per sheet or per workbook): rendered as "the X", not "N X".
_ONCE = frozenset({Kind.SHEET, Kind.VBA, Kind.MACRO_TYPE, Kind.PLAIN_TYPE})

# openpyxl 3.1 never writes these back, whatever the load options (see the table above).

# Worksheet extLst blocks counted by a kind of their own (or, for the cfRule one, the link
# from a plain rule to its x14 twin, lost together with it).
_KNOWN_EXT_URIS = frozenset(
    {
        "{78C0D931-6437-407D-A8EE-F0AAD7539E65}",  # x14 conditional formats
        "{CCE6A557-97BC-4B89-ADB6-D9C93CAAB3DF}",  # x14 data validations
        "{05C60535-1F16-4FD2-B633-F4F36F0B64E0}",  # sparkline groups
        "{A8765BA9-456A-4DAB-B4F3-ACF838C121DE}",  # x14 slicer list
        "{3A4CF648-6AED-40F4-86FF-DC5316D8AED3}",  # x15 slicer list
        "{7E03D99C-DC04-49D9-9315-930204A7B6E9}",  # timelines
        "{B025F937-C7B1-47D3-B67F-A62EFF666E3E}",  # cfRule -> x14 cfRule id
    }
)

Where = tuple[Kind, str]


@dataclass(frozen=True, slots=True)
class Inventory:
    """What a workbook holds: counts by (kind, sheet name); sheet ``""`` is the workbook."""

    sheets: tuple[str, ...]
    counts: Mapping[Where, int] = field(hash=False)

    def count(self, kind: Kind, sheet: str = WORKBOOK) -> int:
        """How many of `kind` sit on `sheet` (``""``: at workbook level)."""
        return self.counts.get((kind, sheet), 0)

    def total(self, kind: Kind) -> int:
        """How many of `kind` the whole workbook holds."""
        return sum(n for (k, _), n in self.counts.items() if k is kind)


@dataclass(frozen=True, slots=True)
class Loss:
    """Content a save would drop: `before` items of `kind` on `sheet` become `after`."""

    kind: Kind
    sheet: str
    before: int
    after: int

    @property
    def code(self) -> str:
        """Stable code of the kind, e.g. ``"shape"``."""
        return self.kind.code

    @property
    def lost(self) -> int:
        """How many items go."""
        return self.before - self.after

    def __str__(self) -> str:
        where = self.sheet or "workbook"
        if self.kind in _ONCE:
            return f"{where}: the {self.kind.label} would be lost"
        return f"{where}: {self.lost} {self.kind.label} would be lost"


Source = str | Path | bytes


def inventory(source: Source) -> Inventory:
    """Count the user-visible content of an .xlsx/.xlsm (a path or its bytes).

    Raises `OSError` or `zipfile.BadZipFile` when the file cannot be read as a zip: that is
    the environment's or the reader's problem, not a loss.
    """
    stream = io.BytesIO(source) if isinstance(source, bytes) else source
    with zipfile.ZipFile(stream) as archive:
        return _Reader(archive).read()


def _inventory_of(source: Source | Inventory) -> Inventory:
    return source if isinstance(source, Inventory) else inventory(source)


def losses(
    before: Inventory, after: Inventory, *, ignore_sheets: Collection[str] = ()
) -> list[Loss]:
    """Everything whose count drops from `before` to `after`, in sheet then kind order.

    `ignore_sheets` names sheets the caller rebuilds on purpose (its own output sheet).
    """
    order = {name: i for i, name in enumerate((WORKBOOK, *before.sheets))}
    kinds = list(Kind)
    found = [
        Loss(kind, sheet, n, after.count(kind, sheet))
        for (kind, sheet), n in before.counts.items()
        if sheet not in ignore_sheets and after.count(kind, sheet) < n
    ]
    return sorted(found, key=lambda x: (order.get(x.sheet, len(order)), kinds.index(x.kind)))


# --- reading the package -------------------------------------------------------------------

_XMLNS = re.compile(rb'xmlns(?::([\w.\-]+))?\s*=\s*["\']([^"\']*)["\']')
_EXT_URI = re.compile(rb'\buri\s*=\s*["\']([^"\']+)["\']')
_OBJECT_TYPE = re.compile(rb'ObjectType\s*=\s*["\'](\w+)["\']')
_HF_ID = re.compile(rb'<(?:[\w.\-]+:)?legacyDrawingHF\b[^>]*?:id\s*=\s*["\']([^"\']+)["\']')
_ENDS = (b" ", b">", b"/", b"\t", b"\n", b"\r")
# The elements a worksheet part is searched for, and the kind each one counts as.
_SHEET_KINDS = (
    (Kind.VALIDATION, MAIN_NS, b"dataValidation"),
    (Kind.X14_VALIDATION, X14_NS, b"dataValidation"),
    (Kind.CONDITIONAL, MAIN_NS, b"cfRule"),
    (Kind.X14_CONDITIONAL, X14_NS, b"cfRule"),
    (Kind.SPARKLINE_GROUP, X14_NS, b"sparklineGroup"),
    (Kind.MERGED_CELLS, MAIN_NS, b"mergeCell"),
    (Kind.HYPERLINK, MAIN_NS, b"hyperlink"),
    (Kind.FORMULA, MAIN_NS, b"f"),
    (Kind.OLE_OBJECT, MAIN_NS, b"oleObject"),
)
# Their start tags, any prefix: (b"x14:" or b"", local name) per match.
_SHEET_TAGS = re.compile(
    rb"<([\w.\-]+:)?("
    + b"|".join(sorted({local for _, _, local in _SHEET_KINDS}))
    + rb")[ >/\t\n\r]"
)


class _Part:
    """One XML part's bytes with the prefixes it binds to each namespace."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.prefixes: dict[str, set[bytes]] = {}
        for prefix, uri in _XMLNS.findall(data):
            self.prefixes.setdefault(uri.decode(), set()).add(prefix + b":" if prefix else b"")

    def count(self, ns: str, local: str) -> int:
        """Number of elements `local` in namespace `ns` (start tags, any prefix)."""
        heads = (b"<" + prefix + local.encode() for prefix in self.prefixes.get(ns, ()))
        # One quick scan rules most kinds out; only present ones pay for the exact count.
        return sum(
            self.data.count(head + end) for head in heads if head in self.data for end in _ENDS
        )

    def tags(self, ns: str, local: str) -> Iterable[bytes]:
        """The start tags of elements `local` in namespace `ns`."""
        for prefix in self.prefixes.get(ns, ()):
            if b"<" + prefix + local.encode() not in self.data:
                continue
            yield from re.findall(
                rb"<" + re.escape(prefix + local.encode()) + rb"\s[^>]*>", self.data
            )


class _Reader:
    def __init__(self, archive: zipfile.ZipFile) -> None:
        self.archive = archive
        self.names = set(archive.namelist())
        self.counts: Counter[Where] = Counter()

    def read(self) -> Inventory:
        root_rels = self._rels("")
        self.counts[Kind.CUSTOM_UI, WORKBOOK] = sum(
            1 for _, kind, _ in root_rels if kind == "extensibility"
        )
        book = next((t for _, kind, t in root_rels if kind == "officeDocument"), "xl/workbook.xml")
        self._content_type(book)
        sheets = self._workbook(book)
        for name, path in sheets:
            self.counts[Kind.SHEET, name] = 1
            if path in self.names:
                self._sheet(name, path)
        self._package()
        counts = MappingProxyType({w: n for w, n in self.counts.items() if n})
        return Inventory(tuple(name for name, _ in sheets), counts)

    def _bytes(self, path: str) -> bytes:
        return self.archive.read(path) if path in self.names else b""

    def _tree(self, path: str) -> ElementTree.Element | None:
        try:
            return ElementTree.fromstring(self.archive.read(path)) if path in self.names else None
        except ElementTree.ParseError:
            return None

    def _rels(self, part: str) -> list[tuple[str, str, str]]:
        """(id, last word of the type, resolved target) for the part's internal relations."""
        folder, base = posixpath.split(part)
        tree = self._tree(posixpath.join(folder, "_rels", base + ".rels"))
        if tree is None:
            return []
        found = []
        for rel in tree.iter(f"{{{REL_NS}}}Relationship"):
            target = rel.get("Target", "")
            if rel.get("TargetMode") == "External" or not target:
                continue
            if target.startswith("/"):
                path = target.lstrip("/")
            else:
                path = posixpath.normpath(posixpath.join(folder, target))
            kind = rel.get("Type", "").rstrip("/").rsplit("/", 1)[-1]
            found.append((rel.get("Id", ""), kind, path))
        return found

    def _content_type(self, book: str) -> None:
        tree = self._tree("[Content_Types].xml")
        if tree is None:
            return
        for override in tree.iter(
            "{http://schemas.openxmlformats.org/package/2006/content-types}Override"
        ):
            if override.get("PartName", "").lstrip("/") == book:
                macro = "macroenabled" in override.get("ContentType", "").lower()
                self.counts[Kind.MACRO_TYPE if macro else Kind.PLAIN_TYPE, WORKBOOK] = 1

    def _workbook(self, book: str) -> list[tuple[str, str]]:
        """Sheet names in order with their part paths; counts workbook-level kinds."""
        rels = self._rels(book)
        targets = {rid: path for rid, _, path in rels}
        for _, kind, path in rels:
            if kind == "externalLink":
                self.counts[Kind.EXTERNAL_LINK, WORKBOOK] += 1
            elif kind == "connections":
                self.counts[Kind.CONNECTION, WORKBOOK] += _Part(self._bytes(path)).count(
                    MAIN_NS, "connection"
                )
        tree = self._tree(book)
        if tree is None:
            return []
        sheets = [
            (sheet.get("name", ""), targets.get(sheet.get(f"{{{DOC_REL_NS}}}id", ""), ""))
            for sheet in tree.iter(f"{{{MAIN_NS}}}sheet")
        ]
        for name in tree.iter(f"{{{MAIN_NS}}}definedName"):
            if name.get("name") == "_xlnm._FilterDatabase":
                continue  # openpyxl rebuilds it from the autofilter
            local = name.get("localSheetId")
            index = int(local) if local and local.isdigit() else -1
            sheet = sheets[index][0] if 0 <= index < len(sheets) else WORKBOOK
            self.counts[Kind.DEFINED_NAME, sheet] += 1
        return sheets

    def _sheet(self, name: str, path: str) -> None:
        part = _Part(self.archive.read(path))
        add = self.counts
        # One pass over the sheet for all these kinds: a sheet can be tens of megabytes.
        tally = Counter(_SHEET_TAGS.findall(part.data))
        for kind, ns, local in _SHEET_KINDS:
            add[kind, name] += sum(tally[prefix, local] for prefix in part.prefixes.get(ns, ()))
        if b"cm=" in part.data:
            add[Kind.DYNAMIC_ARRAY, name] += sum(
                1 for tag in part.tags(MAIN_NS, "c") if re.search(rb"\scm\s*=", tag)
            )
        for tag in part.tags(MAIN_NS, "ext"):
            uri = _EXT_URI.search(tag)
            if uri is None or uri.group(1).decode().upper() not in _KNOWN_EXT_URIS:
                add[Kind.EXTENSION, name] += 1
        header_footer = set()
        if b"legacyDrawingHF" in part.data:
            header_footer = {m.decode() for m in _HF_ID.findall(part.data)}
        vml_controls = ctrl_props = 0
        for rid, rel_type, target in self._rels(path):
            if rel_type == "drawing":
                self._drawing(name, target)
            elif rel_type == "vmlDrawing" and rid in header_footer:
                vml = _Part(self._bytes(target))
                add[Kind.HEADER_FOOTER_PICTURE, name] += vml.count(VML_NS, "shape")
            elif rel_type == "vmlDrawing":
                types = _OBJECT_TYPE.findall(self._bytes(target))
                vml_controls += sum(1 for t in types if t not in (b"Note", b"Pict"))
            elif rel_type == "ctrlProp":
                ctrl_props += 1
            elif rel_type == "control":
                add[Kind.ACTIVEX, name] += 1
            elif rel_type == "comments":
                add[Kind.COMMENT, name] += _Part(self._bytes(target)).count(MAIN_NS, "comment")
            elif rel_type == "threadedComment":
                threads = _Part(self._bytes(target))
                add[Kind.THREADED_COMMENT, name] += threads.count(THREADED_NS, "threadedComment")
            elif rel_type == "table":
                add[Kind.TABLE, name] += 1
            elif rel_type == "pivotTable":
                add[Kind.PIVOT_TABLE, name] += 1
            elif rel_type == "slicer":
                add[Kind.SLICER, name] += _Part(self._bytes(target)).count(X14_NS, "slicer")
            elif rel_type == "timeline":
                add[Kind.TIMELINE, name] += _Part(self._bytes(target)).count(X15_NS, "timeline")
        # Excel 2010+ keeps a form control twice (VML shape and ctrlProp part); either alone
        # is a working control, so the larger number is the number of controls.
        add[Kind.FORM_CONTROL, name] += max(vml_controls, ctrl_props)

    def _drawing(self, name: str, path: str) -> None:
        part = _Part(self._bytes(path))
        self.counts[Kind.SHAPE, name] += part.count(XDR_NS, "sp") + part.count(XDR_NS, "cxnSp")
        self.counts[Kind.PICTURE, name] += part.count(XDR_NS, "pic")
        for _, kind, _ in self._rels(path):
            if kind == "chart":
                self.counts[Kind.CHART, name] += 1
            elif kind == "chartEx":
                self.counts[Kind.CHART_EX, name] += 1

    def _package(self) -> None:
        """Workbook-level parts found by name."""
        for path in self.names:
            if re.fullmatch(r"customXml/item\d+\.xml", path):
                self.counts[Kind.CUSTOM_XML, WORKBOOK] += 1
            elif re.fullmatch(r"xl/queryTables/queryTable\d+\.xml", path):
                self.counts[Kind.QUERY_TABLE, WORKBOOK] += 1
            elif re.fullmatch(r"xl/richData/rdrichvalue\w*\.xml", path):
                rich = _Part(self.archive.read(path))
                self.counts[Kind.RICH_VALUE, WORKBOOK] += rich.count(RICH_NS, "rv")
            elif path.rsplit("/", 1)[-1] == "vbaProject.bin":
                self.counts[Kind.VBA, WORKBOOK] = 1
