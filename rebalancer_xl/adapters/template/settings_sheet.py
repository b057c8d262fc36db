"""The Settings sheet: one row per setting of the core's catalogue, its default, its help,
a workbook name for its Value cell and a validation by kind."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import cast

from openpyxl import Workbook
from openpyxl.styles import Alignment
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from rebalancer_xl.adapters.template.style import (
    CellValue,
    NumberKind,
    Operator,
    define,
    list_validation,
    number_validation,
    style_body,
    write_header,
)
from rebalancer_xl.core.settings import SETTINGS, SettingSpec, display_value
from rebalancer_xl.core.settings import Kind as SettingKind
from rebalancer_xl.workbook import sample as sample_data
from rebalancer_xl.workbook.schema import (
    SETTINGS_COLUMNS,
    SETTINGS_SHEET,
    setting_defined_name,
    setting_number_format,
)


def settings_sheet(wb: Workbook, sample: bool) -> None:
    ws = wb[SETTINGS_SHEET]
    columns = SETTINGS_COLUMNS
    write_header(ws, columns)
    overrides = sample_data.SETTINGS if sample else {}
    value_letter = get_column_letter(2)
    validations: dict[str, DataValidation] = {}
    for row, spec in enumerate(SETTINGS, start=2):
        style_body(ws, row, columns)
        ws.cell(row=row, column=1, value=spec.name)
        value = ws.cell(
            row=row, column=2, value=cast(CellValue, overrides.get(spec.name, display_value(spec)))
        )
        value.number_format = setting_number_format(spec)
        value.alignment = Alignment(horizontal="right")
        ws.cell(row=row, column=3, value=spec.help).alignment = Alignment(wrap_text=True)
        define(wb, setting_defined_name(spec.name), SETTINGS_SHEET, f"{value_letter}{row}")
        dv = _setting_validation(spec, validations)
        if dv is not None:
            dv.add(f"{value_letter}{row}")
    for dv in validations.values():
        ws.add_data_validation(dv)


#: The number validation of each numeric kind of setting: the arguments of
#: `number_validation` (kind, operator, low, high, title, message).
_NUMBER_RULES: dict[SettingKind, tuple[NumberKind, Operator, str, str | None, str, str]] = {
    SettingKind.PERCENT: (
        "decimal",
        "between",
        "0",
        "1",
        "Percentage",
        "Enter a percentage from 0% to 100%.",
    ),
    SettingKind.MONEY: (
        "decimal",
        "greaterThanOrEqual",
        "0",
        None,
        "Amount",
        "Enter an amount of 0 or more.",
    ),
    SettingKind.DAYS: (
        "whole",
        "greaterThanOrEqual",
        "0",
        None,
        "Days",
        "Enter whole days, 0 or more.",
    ),
    SettingKind.WEEKS: ("whole", "between", "1", "52", "Weeks", "Enter whole weeks, 1 to 52."),
    # 36526 is 2000-01-01: anything earlier is a typo, not a rebalance date.
    SettingKind.DATE: (
        "date",
        "greaterThanOrEqual",
        "36526",
        None,
        "Date",
        "Enter a date (YYYY-MM-DD).",
    ),
}


def _setting_validation(
    spec: SettingSpec, made: dict[str, DataValidation]
) -> DataValidation | None:
    """The validation for a setting's Value cell, shared among settings alike."""
    make: Callable[[], DataValidation]
    if spec.kind is SettingKind.CHOICE:
        key = "list:" + ",".join(spec.choices)
        make = partial(list_validation, spec.choices, spec.name)
    elif spec.kind is SettingKind.YES_NO:
        key = "yes/no"
        make = partial(list_validation, ("Yes", "No"), "Yes or No")
    elif spec.kind in _NUMBER_RULES:
        key = spec.kind.name
        make = partial(number_validation, *_NUMBER_RULES[spec.kind])
    else:
        return None
    if key not in made:
        made[key] = make()
    return made[key]
