"""Realistic workbooks for the lossless-writer tests, built with XlsxWriter.

`build(dst, features)` copies the sample workbook (every sheet's values and formulas, the
Holdings table `tblHoldings` its formulas refer to, and the defined names) into a new
XlsxWriter book, then lets each named feature family add its markup. The families are the
things people put in a living workbook that a writer must carry through a run unchanged:
charts, notes, tables, data validation, conditional formats, sparklines, pictures, text
boxes, links, protection, rich text, backgrounds, printer settings, outline levels, ...

`excel_style(src, dst)` post-processes an XlsxWriter file into what Excel itself writes
(mc:Ignorable namespaces, xr:uid, a calcChain, a printer-settings binary, extLst blocks), and
`libreoffice_resave(paths, outdir)` saves books through LibreOffice (skips without it,
fails under CI=true, like `tests.lo`).

Formula cells get cached values: the Holdings derived columns are computed here (so
pandas and the run see what Excel would have saved), every other formula gets a blank
cached value, which asks the reader to recalculate instead of trusting XlsxWriter's 0.
"""

from __future__ import annotations

import io
import re
import struct
import zlib
from collections.abc import Callable, Iterable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import xlsxwriter
from openpyxl.utils import get_column_letter

from rebalancer_xl.adapters.template import build_workbook

HOLDINGS = "Holdings"
HOLDINGS_TABLE = "tblHoldings"
#: The sheets (besides a new "Log YYYY-MM-DD") a run may write.
WRITTEN_SHEETS = ("Holdings", "Trades", "History", "Checklist")


# --- the source ---------------------------------------------------------------------------


def sample_source(folder: Path) -> Path:
    """The sample workbook exactly as `rebalancer-xl new --sample` writes it."""
    path = Path(folder) / "sample-source.xlsx"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        build_workbook(path, sample=True)
    return path


def png(width: int = 16, height: int = 16, rgb: tuple[int, int, int] = (30, 120, 200)) -> bytes:
    """A small solid-colour PNG, made with the standard library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\x00" + bytes(rgb) * width
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


class Builder:
    """An XlsxWriter book holding a copy of the sample, open for features to add to."""

    def __init__(self, dst: Path, src: Path, vba: bytes | None = None) -> None:
        self.path = Path(dst)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.book = xlsxwriter.Workbook(str(self.path), {"strings_to_numbers": False})
        self.sheets: dict[str, Any] = {}
        self.size: dict[str, tuple[int, int]] = {}  # sheet -> (rows, cols) used
        self.headers: dict[str, list[str]] = {}
        self.day = self.book.add_format({"num_format": "yyyy-mm-dd"})
        self._copy(Path(src))
        if vba is not None:
            self.book.add_vba_project(io.BytesIO(vba), is_stream=True)

    def close(self) -> Path:
        self.book.close()
        return self.path

    # the copy

    def _copy(self, src: Path) -> None:
        wb = openpyxl.load_workbook(src)
        for ws in wb.worksheets:
            sheet = self.book.add_worksheet(ws.title)
            self.sheets[ws.title] = sheet
            self.size[ws.title] = (ws.max_row, ws.max_column)
            self.headers[ws.title] = [str(c.value or "") for c in ws[1]]
            tables = dict(ws.tables.items())
            for name, ref in tables.items():
                self._table(ws, sheet, name, ref)
            cached = _holdings_cache(ws) if ws.title == HOLDINGS else {}
            for row in ws.iter_rows():
                for c in row:
                    self._cell(sheet, c, cached.get((c.row, c.column), ""))
            for width_col, dim in ws.column_dimensions.items():
                if dim.width:
                    idx = openpyxl.utils.column_index_from_string(width_col) - 1
                    sheet.set_column(idx, idx, dim.width)
        for name, dn in wb.defined_names.items():
            self.book.define_name(name, "=" + dn.attr_text)

    def _table(self, ws: Any, sheet: Any, name: str, ref: str) -> None:
        table = ws.tables[name]
        columns = [{"header": col.name} for col in table.tableColumns]
        sheet.add_table(ref, {"name": name, "columns": columns, "style": "Table Style Medium 2"})

    def _cell(self, sheet: Any, c: Any, cached: object) -> None:
        r, k, v = c.row - 1, c.column - 1, c.value
        if v is None:
            return
        if c.data_type == "f" or (isinstance(v, str) and v.startswith("=")):
            sheet.write_formula(r, k, str(v), None, cached)
        elif isinstance(v, datetime | date):
            sheet.write_datetime(r, k, v, self.day)
        elif isinstance(v, str):
            sheet.write_string(r, k, v)
        else:
            sheet.write(r, k, v)

    def col(self, sheet: str, header: str) -> int:
        """The 0-based column of `header` in row 1 of `sheet`."""
        return self.headers[sheet].index(header)

    def free_col(self, sheet: str, gap: int = 2) -> int:
        """A 0-based column to the right of everything on `sheet`."""
        return self.size[sheet][1] + gap


def _holdings_cache(ws: Any) -> dict[tuple[int, int], object]:
    """What Excel would store for the Holdings formula columns, computed in Python."""
    head = {str(c.value): c.column for c in ws[1] if c.value is not None}
    need = ("Shares", "Current Price", "Current Value", "% of Portfolio", "Target %", "Drift")
    if not all(h in head for h in need):
        return {}
    rows = [r for r in range(2, ws.max_row + 1) if ws.cell(r, 1).value not in (None, "")]
    values: dict[int, float] = {}
    for r in rows:
        shares, price = ws.cell(r, head["Shares"]).value, ws.cell(r, head["Current Price"]).value
        if isinstance(shares, int | float) and isinstance(price, int | float):
            values[r] = float(shares) * float(price)
    total = sum(values.values())
    out: dict[tuple[int, int], object] = {}
    for r, value in values.items():
        out[(r, head["Current Value"])] = value
        weight = value / total if total else 0.0
        out[(r, head["% of Portfolio"])] = weight
        target = ws.cell(r, head["Target %"]).value
        if isinstance(target, int | float):
            out[(r, head["Drift"])] = weight - float(target)
        if "Tier" in head and "Score" in head:
            score = ws.cell(r, head["Score"]).value
            if isinstance(score, int | float):
                out[(r, head["Tier"])] = next(
                    t
                    for lim, t in (
                        (75, "Exceptional"),
                        (65, "Very Strong"),
                        (50, "Strong"),
                        (35, "Moderate"),
                        (-1e99, "Weak"),
                    )
                    if score >= lim
                )
    return out


# --- feature families ---------------------------------------------------------------------


def charts(b: Builder) -> None:
    """A column chart on Dashboard, a line chart on a new "Charts" sheet, a chartsheet."""
    n = b.size[HOLDINGS][0]
    value = get_column_letter(b.col(HOLDINGS, "Current Value") + 1)
    pie = b.book.add_chart({"type": "column"})
    pie.add_series(
        {
            "name": "Value",
            "categories": f"=Holdings!$A$2:$A${n}",
            "values": f"=Holdings!${value}$2:${value}${n}",
        }
    )
    pie.set_title({"name": "Holdings by value"})
    b.sheets["Dashboard"].insert_chart("R2", pie)
    sheet = b.book.add_worksheet("Charts")
    line = b.book.add_chart({"type": "line"})
    line.add_series(
        {
            "name": "Portfolio",
            "categories": "=History!$A$2:$A$4",
            "values": "=History!$B$2:$B$4",
            "marker": {"type": "circle"},
        }
    )
    line.set_legend({"position": "bottom"})
    sheet.insert_chart("B2", line)
    bar = b.book.add_chart({"type": "bar"})
    bar.add_series({"values": "=History!$F$2:$F$4"})
    b.book.add_chartsheet("Chart Turnover").set_chart(bar)


def notes(b: Builder) -> None:
    """Cell notes on Dashboard and on Holdings (a sheet the run writes), with options."""
    b.sheets["Dashboard"].write_comment("A1", "Read me first", {"visible": True})
    hold = b.sheets[HOLDINGS]
    hold.write_comment("A2", "Core position", {"author": "Ana", "color": "#FFCC99"})
    hold.write_comment("D3", "Bought in two lots", {"x_scale": 1.5, "y_scale": 2})
    b.sheets["Lots"].write_comment("B2", "Check the date", {"font_name": "Courier New"})


def tables(b: Builder) -> None:
    """An Excel table on an extra sheet "Watchlist"."""
    sheet = b.book.add_worksheet("Watchlist")
    data = [["NVDA", 120.5, "Semis"], ["AMD", 150.25, "Semis"], ["SNOW", 160.0, "Cloud"]]
    sheet.add_table(
        "B2:D5",
        {
            "name": "tblWatch",
            "data": data,
            "style": "Table Style Light 9",
            "columns": [{"header": "Ticker"}, {"header": "Price"}, {"header": "Theme"}],
        },
    )
    sheet.add_table(
        "F2:G4",
        {
            "name": "tblTotals",
            "total_row": True,
            "columns": [
                {"header": "Item", "total_string": "Total"},
                {"header": "Amount", "total_function": "sum"},
            ],
        },
    )


def history_table(b: Builder) -> None:
    """An Excel table over History (the run appends a row: the table may be extended)."""
    rows, cols = b.size["History"]
    heads = [h for h in b.headers["History"] if h]
    b.sheets["History"].add_table(
        0,
        0,
        rows - 1,
        len(heads) - 1,
        {
            "name": "tblHistory",
            "style": "Table Style Light 1",
            "columns": [{"header": h} for h in heads],
        },
    )
    del cols


def validation(b: Builder) -> None:
    """Drop-downs and rules on Holdings, Settings and an unrelated Performance range."""
    hold = b.sheets[HOLDINGS]
    col = b.free_col(HOLDINGS)
    hold.data_validation(
        1,
        col,
        20,
        col,
        {
            "validate": "list",
            "source": ["Yes", "No"],
            "input_title": "Reviewed?",
            "input_message": "Yes or No",
        },
    )
    b.sheets["Performance"].data_validation(
        "L2:L20",
        {
            "validate": "decimal",
            "criteria": "between",
            "minimum": 0,
            "maximum": 1,
            "error_type": "warning",
            "error_message": "0 to 1",
        },
    )
    b.sheets["Settings"].data_validation(
        "E2:E5", {"validate": "length", "criteria": "<=", "value": 10}
    )


def conditional(b: Builder) -> None:
    """Cell rules, colour scales and Excel 2010 data bars (extLst) on Holdings and Dashboard."""
    hold = b.sheets[HOLDINGS]
    n = b.size[HOLDINGS][0]
    drift = b.col(HOLDINGS, "Drift")
    red = b.book.add_format({"bg_color": "#FFC7CE", "font_color": "#9C0006"})
    hold.conditional_format(
        1, drift, n - 1, drift, {"type": "cell", "criteria": ">", "value": 0.05, "format": red}
    )
    value = b.col(HOLDINGS, "Current Value")
    hold.conditional_format(
        1, value, n - 1, value, {"type": "data_bar", "data_bar_2010": True, "bar_color": "#63C384"}
    )
    score = b.col(HOLDINGS, "Score")
    hold.conditional_format(1, score, n - 1, score, {"type": "3_color_scale"})
    hold.conditional_format(1, score, n - 1, score, {"type": "icon_set", "icon_style": "3_arrows"})
    b.sheets["Dashboard"].conditional_format(
        "B5:B12", {"type": "data_bar", "data_bar_2010": True, "bar_solid": True}
    )


def sparklines(b: Builder) -> None:
    """Sparklines (x14 extLst) on Performance and Holdings."""
    b.sheets["Performance"].add_sparkline("L2", {"range": "Performance!B2:B7", "markers": True})
    col = b.free_col(HOLDINGS, 3)
    cell = f"{get_column_letter(col + 1)}2"
    b.sheets[HOLDINGS].add_sparkline(
        cell, {"range": "Holdings!B2:D2", "type": "column", "style": 12}
    )


def images(b: Builder) -> None:
    """PNG pictures on Dashboard and Holdings."""
    b.sheets["Dashboard"].insert_image(
        "R25", "logo.png", {"image_data": io.BytesIO(png()), "description": "logo"}
    )
    col = b.free_col(HOLDINGS, 2)
    b.sheets[HOLDINGS].insert_image(
        10,
        col,
        "dot.png",
        {
            "image_data": io.BytesIO(png(8, 8, (200, 40, 40))),
            "x_scale": 2,
            "y_scale": 2,
            "url": "https://example.com/pictures",
        },
    )


def textboxes(b: Builder) -> None:
    """Text boxes (shapes) on Dashboard and Holdings."""
    b.sheets["Dashboard"].insert_textbox(
        "R40",
        "Rebalance each quarter",
        {
            "width": 300,
            "height": 60,
            "font": {"bold": True, "color": "navy"},
            "fill": {"color": "#DDEEFF"},
        },
    )
    col = b.free_col(HOLDINGS, 2)
    b.sheets[HOLDINGS].insert_textbox(
        14, col, "Prices as of the As-of Date", {"line": {"color": "red", "width": 1.25}}
    )


def hyperlinks(b: Builder) -> None:
    """External and internal links on Dashboard and in a free Holdings cell."""
    dash = b.sheets["Dashboard"]
    dash.write_url("R60", "https://example.com/portfolio", string="Broker")
    dash.write_url("R61", "internal:'Lots'!A1", string="Go to lots")
    dash.write_url("R62", "mailto:ana@example.com", tip="Mail Ana")
    col = b.free_col(HOLDINGS, 2)
    b.sheets[HOLDINGS].write_url(0, col, "https://example.com/quotes", string="Quotes")


def protection(b: Builder) -> None:
    """Sheet protection with a password on unrelated Performance, plus a locked cell."""
    unlocked = b.book.add_format({"locked": False})
    perf = b.sheets["Performance"]
    perf.write("L1", "editable", unlocked)
    perf.protect("secret", {"sort": True, "autofilter": True, "format_columns": True})


def rich_strings(b: Builder) -> None:
    """Rich text (shared strings with runs) on Dashboard and Holdings."""
    bold = b.book.add_format({"bold": True})
    red = b.book.add_format({"font_color": "red", "italic": True})
    b.sheets["Dashboard"].write_rich_string(
        "R70", "Plan ", bold, "carefully", ", then ", red, "trade"
    )
    col = b.free_col(HOLDINGS, 2)
    b.sheets[HOLDINGS].write_rich_string(2, col, red, "Note:", " prices are delayed")


def background(b: Builder) -> None:
    """A sheet background picture on Dashboard."""
    b.sheets["Dashboard"].set_background(io.BytesIO(png(32, 32, (245, 245, 220))))


def ignore_errors(b: Builder) -> None:
    """<ignoredErrors> on Holdings and Lots."""
    b.sheets[HOLDINGS].ignore_errors({"number_stored_as_text": "A1:Z60", "eval_error": "E2:H60"})
    b.sheets["Lots"].ignore_errors({"formula_differs": "A1:D20"})


def outlines(b: Builder) -> None:
    """Column and row outline levels (grouping), on Performance and on Holdings."""
    perf = b.sheets["Performance"]
    perf.set_column("D:F", 12, None, {"level": 1})
    perf.set_column("G:G", 10, None, {"level": 2, "hidden": True})
    perf.set_row(3, None, None, {"level": 1})
    perf.outline_settings(True, False, True, False)
    b.sheets[HOLDINGS].set_column("I:J", 9, None, {"level": 1, "collapsed": False})


def freeze(b: Builder) -> None:
    """Frozen panes on Holdings and History, a split on Lots, a zoom."""
    b.sheets[HOLDINGS].freeze_panes(1, 1)
    b.sheets[HOLDINGS].set_zoom(90)
    b.sheets["History"].freeze_panes(1, 0)
    b.sheets["Lots"].split_panes(15, 8.43)


def printing(b: Builder) -> None:
    """Page setup: landscape, paper, fit to pages, margins, headers, print titles and area."""
    for name in (HOLDINGS, "Trades", "Lots"):
        sheet = b.sheets[name]
        sheet.set_landscape()
        sheet.set_paper(9)
        sheet.fit_to_pages(1, 0)
        sheet.set_margins(left=0.5, right=0.5, top=0.75, bottom=0.75)
        sheet.set_header("&L&D&R&P of &N")
        sheet.set_footer("&C&F")
        sheet.repeat_rows(0)
    b.sheets["Lots"].print_area("A1:D20")
    b.sheets[HOLDINGS].center_horizontally()


def checkbox(b: Builder) -> None:
    """An Excel 365 cell checkbox (featurePropertyBag), where XlsxWriter has it."""
    col = b.free_col(HOLDINGS, 2)
    for name, cell in (("Dashboard", (80, 17)), (HOLDINGS, (4, col))):
        sheet = b.sheets[name]
        if hasattr(sheet, "insert_checkbox"):
            sheet.insert_checkbox(*cell, True)
        else:
            sheet.write_boolean(*cell, True)


def names(b: Builder) -> None:
    """Extra defined names: global, sheet-local, hidden-ish, a constant, a formula."""
    b.book.define_name("ReviewedBy", '="Ana"')
    b.book.define_name("Lots!LotStart", "=Lots!$A$2")
    b.book.define_name("TaxRates", "=Settings!$B$23:$B$24")
    b.book.define_name("TwoPercent", "=0.02")


def properties(b: Builder) -> None:
    """Core and custom document properties (docProps/core.xml, docProps/custom.xml)."""
    b.book.set_properties(
        {
            "title": "Family portfolio",
            "subject": "Rebalancing",
            "author": "Ana",
            "manager": "Ben",
            "company": "Household",
            "category": "Finance",
            "keywords": "portfolio, rebalance",
            "comments": "Quarterly",
            "status": "Live",
            "created": datetime(2026, 1, 2, 3, 4, 5),
        }
    )
    b.book.set_custom_property("Owner", "Ana")
    b.book.set_custom_property("Reviewed", True)
    b.book.set_custom_property("Version", 7)
    b.book.set_custom_property("Since", datetime(2025, 1, 1))


FEATURES: dict[str, Callable[[Builder], None]] = {
    "charts": charts,
    "notes": notes,
    "tables": tables,
    "history_table": history_table,
    "validation": validation,
    "conditional": conditional,
    "sparklines": sparklines,
    "images": images,
    "textboxes": textboxes,
    "hyperlinks": hyperlinks,
    "protection": protection,
    "rich_strings": rich_strings,
    "background": background,
    "ignore_errors": ignore_errors,
    "outlines": outlines,
    "freeze": freeze,
    "printing": printing,
    "checkbox": checkbox,
    "names": names,
    "properties": properties,
}


def build(dst: Path, src: Path, features: Iterable[str] = (), vba: bytes | None = None) -> Path:
    """The sample copied into an XlsxWriter book at `dst`, with `features` added."""
    b = Builder(dst, src, vba)
    for name in features:
        FEATURES[name](b)
    return b.close()


def everything(dst: Path, src: Path) -> Path:
    """All feature families together in one book."""
    return build(dst, src, FEATURES)


# --- "as Excel writes it" -----------------------------------------------------------------

NS_X14AC = "http://schemas.microsoft.com/office/spreadsheetml/2009/9/ac"
NS_XR = "http://schemas.microsoft.com/office/spreadsheetml/2014/revision"
NS_XR2 = "http://schemas.microsoft.com/office/spreadsheetml/2015/revision2"
NS_XR3 = "http://schemas.microsoft.com/office/spreadsheetml/2016/revision3"
NS_MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"
REL_CALC = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/calcChain"
REL_PRINTER = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/printerSettings"
CT_CALC = "application/vnd.openxmlformats-officedocument.spreadsheetml.calcChain+xml"
CT_PRINTER = "application/vnd.openxmlformats-officedocument.spreadsheetml.printerSettings"

#: A stand-in DEVMODE: a real one is opaque bytes for the printer driver; keep it binary.
PRINTER_SETTINGS = (
    "HP LaserJet".encode("utf-16-le").ljust(64, b"\0")
    + struct.pack("<HHHHI", 0x0401, 0x0401, 220, 0, 0x0001_FF53)
    + bytes(range(256)) * 2
)


def _sheet_parts(files: dict[str, bytes]) -> dict[str, str]:
    """{sheet name: worksheet part} from workbook.xml and its rels."""
    book = files["xl/workbook.xml"].decode()
    rels = files["xl/_rels/workbook.xml.rels"].decode()
    targets = dict(re.findall(r'Id="([^"]+)"[^>]*Target="([^"]+)"', rels))
    targets |= {i: t for t, i in re.findall(r'Target="([^"]+)"[^>]*Id="([^"]+)"', rels)}
    out = {}
    for name, rid in re.findall(r'<sheet [^>]*name="([^"]+)"[^>]*r:id="([^"]+)"', book):
        target = targets[rid].lstrip("/")
        out[name] = target if target.startswith("xl/") else f"xl/{target}"
    return out


def _add_attrs(xml: str, tag: str, attrs: dict[str, str]) -> str:
    """`xml` with `attrs` added to the first `<tag ...>` where missing; mc:Ignorable
    prefixes are merged into an existing list."""
    m = re.search(rf"<{tag}[ >/]", xml)
    if m is None:
        return xml
    end = xml.index(">", m.start())
    head = xml[m.start() : end]
    for name, value in attrs.items():
        old = re.search(rf'\s{re.escape(name)}="([^"]*)"', head)
        if old is None:
            head = head.replace(f"<{tag}", f'<{tag} {name}="{value}"', 1)
        elif name == "mc:Ignorable":
            merged = " ".join(dict.fromkeys(old.group(1).split() + value.split()))
            head = head.replace(old.group(0), f' {name}="{merged}"')
    return xml[: m.start()] + head + xml[end:]


def excel_style(src: Path, dst: Path, printer_sheet: str = HOLDINGS) -> Path:
    """`src` (an XlsxWriter book) rewritten with the markup Excel adds on save."""
    import zipfile

    with zipfile.ZipFile(src) as z:
        order = [i.filename for i in z.infolist()]
        files = {n: z.read(n) for n in order}
    parts = _sheet_parts(files)
    uid = 0

    def next_uid() -> str:
        nonlocal uid
        uid += 1
        return "{%08X-0000-4000-8000-%012X}" % (0x00C0FFEE, uid)  # noqa: UP031

    calc: list[str] = []
    ids = {n: i for i, n in enumerate(parts, start=1)}
    for name, part in parts.items():
        if not part.startswith("xl/worksheets/"):
            continue
        xml = files[part].decode()
        xml = _add_attrs(
            xml,
            "worksheet",
            {
                "xmlns:mc": NS_MC,
                "mc:Ignorable": "x14ac xr xr2 xr3",
                "xmlns:x14ac": NS_X14AC,
                "xmlns:xr": NS_XR,
                "xmlns:xr2": NS_XR2,
                "xmlns:xr3": NS_XR3,
                "xr:uid": next_uid(),
            },
        )
        xml = _add_attrs(xml, "sheetFormatPr", {"x14ac:dyDescent": "0.25"})
        for ref in re.findall(r'<c r="([A-Z]+[0-9]+)"[^>]*>(?=<f>)', xml):
            calc.append(f'<c r="{ref}" i="{ids[name]}"/>')
        if name == printer_sheet:
            rels_name = part.replace("worksheets/", "worksheets/_rels/") + ".rels"
            rels = files.get(
                rels_name,
                (
                    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships '
                    b'xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                    b"</Relationships>"
                ),
            ).decode()
            rels = rels.replace(
                "</Relationships>",
                f'<Relationship Id="rIdPrn1" '
                f'Type="{REL_PRINTER}" '
                'Target="../printerSettings/printerSettings1.bin"/>'
                "</Relationships>",
            )
            files[rels_name] = rels.encode()
            if rels_name not in order:
                order.append(rels_name)
            if "<pageSetup " in xml:
                xml = xml.replace("<pageSetup ", '<pageSetup r:id="rIdPrn1" ', 1)
            else:
                xml = re.sub(
                    r"(<pageMargins [^>]*/>)",
                    r'\1<pageSetup orientation="portrait" r:id="rIdPrn1"/>',
                    xml,
                )
        files[part] = xml.encode()
    for part in [p for p in order if p.startswith("xl/tables/table")]:
        xml = files[part].decode()
        xml = _add_attrs(
            xml,
            "table",
            {
                "xmlns:mc": NS_MC,
                "mc:Ignorable": "xr xr3",
                "xmlns:xr": NS_XR,
                "xmlns:xr3": NS_XR3,
                "xr:uid": next_uid(),
            },
        )
        files[part] = xml.encode()
    files["xl/printerSettings/printerSettings1.bin"] = PRINTER_SETTINGS
    order.append("xl/printerSettings/printerSettings1.bin")
    files["xl/calcChain.xml"] = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n<calcChain xmlns="'
        'http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        + "".join(calc)
        + "</calcChain>"
    ).encode()
    order.append("xl/calcChain.xml")
    rels = files["xl/_rels/workbook.xml.rels"].decode()
    files["xl/_rels/workbook.xml.rels"] = rels.replace(
        "</Relationships>",
        f'<Relationship Id="rIdCalc1" Type="{REL_CALC}" Target="calcChain.xml"/></Relationships>',
    ).encode()
    ct = files["[Content_Types].xml"].decode()
    ct = (
        ct.replace(
            "<Override ", f'<Default Extension="bin" ContentType="{CT_PRINTER}"/><Override ', 1
        )
        if 'Extension="bin"' not in ct
        else ct
    )
    ct = ct.replace(
        "</Types>", f'<Override PartName="/xl/calcChain.xml" ContentType="{CT_CALC}"/></Types>'
    )
    files["[Content_Types].xml"] = ct.encode()
    book = files["xl/workbook.xml"].decode()
    book = _add_attrs(
        book,
        "workbook",
        {
            "xmlns:mc": NS_MC,
            "mc:Ignorable": "x15 xr xr6 xr10 xr2",
            "xmlns:x15": "http://schemas.microsoft.com/office/spreadsheetml/2010/11/main",
            "xmlns:xr": NS_XR,
            "xmlns:xr6": "http://schemas.microsoft.com/office/spreadsheetml/2016/revision6",
            "xmlns:xr10": "http://schemas.microsoft.com/office/spreadsheetml/2016/revision10",
            "xmlns:xr2": NS_XR2,
        },
    )
    book = book.replace(
        "</workbook>",
        '<extLst><ext uri="{140A7094-0E35-4892-8432-C4D2E57EDEB5}"'
        ' xmlns:x15="http://schemas.microsoft.com/office/spreadsheetml/2010/11/'
        'main"><x15:workbookPr chartTrackingRefBase="1"/></ext>'
        '<ext uri="{B58B0392-4F1F-4190-BB64-5DF3571DCE5F}" xmlns:xcalcf="http:'
        '//schemas.microsoft.com/office/spreadsheetml/2018/calcfeatures">'
        '<xcalcf:calcFeatures><xcalcf:feature name="microsoft.com:RD"/>'
        '<xcalcf:feature name="microsoft.com:LET_WF"/></xcalcf:calcFeatures>'
        "</ext></extLst></workbook>",
    )
    files["xl/workbook.xml"] = book.encode()
    styles = files["xl/styles.xml"].decode()
    if "<extLst>" not in styles:
        styles = styles.replace(
            "</styleSheet>",
            '<extLst><ext uri="{EB79DEF2-80B8-43e5-95BD-'
            '54CBDDF9020C}" xmlns:x14="http://schemas.microsoft.com/office/'
            'spreadsheetml/2009/9/main"><x14:slicerStyles defaultSlicerStyle'
            '="SlicerStyleLight1"/></ext><ext uri="{9260A510-F301-46a8-8635-'
            'F512D64BE5F5}" xmlns:x15="http://schemas.microsoft.com/office/'
            'spreadsheetml/2010/11/main"><x15:timelineStyles '
            'defaultTimelineStyle="TimeSlicerStyleLight1"/></ext></extLst>'
            "</styleSheet>",
        )
    files["xl/styles.xml"] = styles.encode()
    dst = Path(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as out:
        for name in order:
            out.writestr(name, files[name])
    return dst


# --- LibreOffice ----------------------------------------------------------------------------


def libreoffice_resave(paths: Iterable[Path], outdir: Path) -> dict[Path, Path]:
    """Each of `paths` opened and saved as .xlsx by one headless LibreOffice ({input: saved}).

    Skips the calling test without soffice, fails when CI=true (via `tests.lo`)."""
    from tests.conftest import convert_many

    return convert_many(paths, outdir)
