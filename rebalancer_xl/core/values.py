"""Turning what a person typed into a cell into a value, or a clear complaint.

The one place where floats become `Decimal`: `Decimal(repr(x))` keeps the shortest
decimal that round-trips (0.3, not 0.299999…), so a 30% typed in Excel is exactly 0.30.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import NoReturn

from rebalancer_xl.core.problems import message

EXCEL_ERRORS = (
    "#N/A",
    "#REF!",
    "#VALUE!",
    "#DIV/0!",
    "#NAME?",
    "#NUM!",
    "#NULL!",
    "#SPILL!",
    "#CALC!",
    "#GETTING_DATA",
)
_EXCEL_EPOCH = date(1899, 12, 30)

# The sane range of an amount, price or count typed in a cell. Beyond it a value is a
# slip (1e308 pasted from somewhere, a price of 1e-300), and the arithmetic on it would
# fail or mean nothing; six decimals is what brokers take for fractional shares.
LARGEST = Decimal("1e12")
SMALLEST = Decimal("0.000001")
_LARGEST_F, _SMALLEST_F, _LARGEST_I = float(LARGEST), float(SMALLEST), int(LARGEST)
# The dates a run can mean: Excel's calendar starts in 1900, and a schedule a few
# quarters beyond the last date would overflow Python's year 9999.
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2199, 12, 31)


class BadValue(ValueError):
    """A cell value that cannot be read as what its column holds."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _shown(raw: object) -> str:
    text = str(raw)
    return repr(text if len(text) <= 40 else text[:37] + "...")


def excel_error(raw: object) -> str | None:
    """The Excel error text (#N/A, #REF! …) a cell holds, if any."""
    if isinstance(raw, str) and raw.strip().upper() in EXCEL_ERRORS:
        return raw.strip().upper()
    return None


def to_decimal(x: float | int | Decimal) -> Decimal:
    if isinstance(x, Decimal):
        return x
    if isinstance(x, bool):
        raise TypeError("a boolean is not a number")
    if isinstance(x, int):
        return Decimal(x)
    return Decimal(repr(float(x)))


_NUMBER_TEXT = re.compile(r"^\(?[-+]?[$€£]?\s*[-+]?[\d,]*\.?\d+(?:[eE][-+]?\d+)?\s*%?\)?$")
# Commas that group thousands: 1,234 and 12,345,678.90, never 180,50 nor 1,5.
_GROUPED = re.compile(r"^\d{1,3}(?:,\d{3})+(?:\.\d*)?$")


def parse_decimal(raw: object, what: str, *, percent: bool = False) -> Decimal:
    """A number from a cell: numbers as they are; text like '1,200', '$45.10', '30%'.

    With `percent`, a value typed as text with a % sign is divided by 100, and a bare
    number above 1 (someone typed 30 meaning 30%) is refused rather than guessed.
    Without it (an amount, price or count) text with a % sign is refused, and so is any
    value outside LARGEST and SMALLEST. Text with a comma that does not group thousands
    ('180,50') is refused either way: a decimal comma read as a thousands separator
    would make a price a hundred times too large.
    """
    # Most cells: a finite number as the reader gives it (a bool is never a float), whose
    # range is checked on the float: 1e12 is a float exactly, and a float's shortest
    # repr lies on the same side of 1e12 and of 1e-6 as the float itself.
    if (
        type(raw) is float
        and -_LARGEST_F <= raw <= _LARGEST_F
        and (percent or raw == 0 or not -_SMALLEST_F < raw < _SMALLEST_F)
    ):
        return Decimal(repr(raw))
    if type(raw) is int and (percent or -_LARGEST_I <= raw <= _LARGEST_I):  # a whole number
        return Decimal(raw)
    err = excel_error(raw)
    if err:
        return _raise("excel-error", what=what, error=err)
    if isinstance(raw, bool):
        return _raise("not-a-number", what=what, value=repr(raw))
    if isinstance(raw, int | float | Decimal):
        if isinstance(raw, float) and not math.isfinite(raw):
            return _raise("not-a-number", what=what, value=repr(raw))
        if isinstance(raw, Decimal) and not raw.is_finite():
            return _raise("not-a-number", what=what, value=raw)
        value = to_decimal(raw)
    elif isinstance(raw, str):
        value = _number_text(raw, what, percent=percent)
    else:
        return _raise("not-a-number", what=what, value=_shown(raw))
    if not percent:
        _check_magnitude(value, raw, what)
    return value


def _number_text(raw: str, what: str, *, percent: bool) -> Decimal:
    text = raw.strip()
    if not _NUMBER_TEXT.match(text):
        return _raise("not-a-number", what=what, value=_shown(raw))
    negative = text.startswith("(") and text.endswith(")")
    cleaned = re.sub(r"[()$€£\s]", "", text).lstrip("+-")
    is_pct = cleaned.endswith("%")
    cleaned = cleaned.rstrip("%")
    if "," in cleaned and not _GROUPED.match(cleaned):
        plain = cleaned.replace(",", ".", 1) if cleaned.count(",") == 1 else None
        hint = f" (type {plain} if that is what you mean)" if plain else ""
        return _raise("decimal-comma", what=what, value=_shown(raw), hint=hint)
    if is_pct and not percent:
        return _raise("unexpected-percent", what=what, value=_shown(raw))
    try:
        value = Decimal(cleaned.replace(",", ""))
    except InvalidOperation:
        return _raise("not-a-number", what=what, value=_shown(raw))
    if not value.is_finite():
        return _raise("not-a-number", what=what, value=_shown(raw))
    if negative or text.lstrip("($€£ ").startswith("-"):
        value = -value
    return value / 100 if is_pct else value


def _check_magnitude(value: Decimal, raw: object, what: str) -> None:
    size = abs(value)
    if size > LARGEST:
        _raise("out-of-range", "too-large", what=what, value=_shown(raw), limit=LARGEST)
    if 0 < size < SMALLEST:
        _raise("out-of-range", "too-small", what=what, value=_shown(raw), limit=SMALLEST)


def _raise(code: str, form: str = "", /, **values: object) -> NoReturn:
    """Refuse a value, worded by the problem catalogue."""
    raise BadValue(code, message(code, form, **values))


_TRUE = {"yes", "y", "true", "1", "x"}
_FALSE = {"no", "n", "false", "0"}


def parse_yes_no(raw: object, what: str) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int | float) and raw in (0, 1):
        return bool(raw)
    text = str(raw).strip().casefold()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    _raise("not-yes-no", what=what, value=_shown(raw))


# Only the unambiguous ISO form is read from text: 09/10/2026 is a different day in
# New York and in London, and guessing wrong would move money on the wrong schedule.
_DATE_FORMATS = ("%Y-%m-%d",)


def parse_date(raw: object, what: str) -> date:
    """A date cell: a real date, an Excel serial number, or ISO text (2026-09-30)."""
    err = excel_error(raw)
    if err:
        _raise("excel-error", what=what, error=err)
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    if hasattr(raw, "to_pydatetime"):  # pandas Timestamp
        return raw.to_pydatetime().date()  # type: ignore[no-any-return]
    if isinstance(raw, int | float) and not isinstance(raw, bool) and 1 <= raw < 2958466:
        return _EXCEL_EPOCH + timedelta(days=int(raw))  # an Excel serial day number
    if isinstance(raw, str):
        text = raw.strip()
        for fmt in _DATE_FORMATS:
            try:
                return datetime.strptime(text, fmt).date()
            except ValueError:
                continue
    _raise("not-a-date", what=what, value=_shown(raw))


def parse_run_date(raw: object, what: str) -> date:
    """`parse_date`, and within EARLIEST_DATE … LATEST_DATE."""
    return check_date(parse_date(raw, what), what)


def check_date(day: date, what: str) -> date:
    if not EARLIEST_DATE <= day <= LATEST_DATE:
        _raise(
            "date-out-of-range",
            what=what,
            day=day.isoformat(),
            earliest=EARLIEST_DATE.isoformat(),
            latest=LATEST_DATE.isoformat(),
        )
    return day
