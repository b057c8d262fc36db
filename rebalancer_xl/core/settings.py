"""The Settings sheet: every setting's name, kind, default and help, and its parser.

`SETTINGS` is the one catalogue, read off the `Settings` fields (each declared once with
`setting`): the workbook template writes its rows from it, the parser reads by it, and
the README's table is made from it. A blank value means the
default. Percent settings are fractions, as Excel stores them (a 5% band is 0.05).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from decimal import Decimal
from typing import Any, NoReturn, TypeVar

from rebalancer_xl.core.model import (
    CASH,
    AccountType,
    HarvestLosses,
    LotMethod,
    Problem,
    Schedule,
    SellMode,
    Strategy,
    Where,
)
from rebalancer_xl.core.problems import message, problem
from rebalancer_xl.core.values import (
    BadValue,
    parse_decimal,
    parse_run_date,
    parse_yes_no,
)

SHEET = "Settings"
_T = TypeVar("_T")


class Kind(enum.Enum):
    CHOICE = "choice"
    PERCENT = "percent"
    MONEY = "money"
    NUMBER = "number"
    DAYS = "days"
    WEEKS = "weeks"
    YES_NO = "yes/no"
    DATE = "date"
    TICKER = "ticker"


@dataclass(frozen=True, slots=True)
class SettingSpec:
    name: str
    kind: Kind
    default: object
    help: str
    choices: tuple[str, ...] = ()


def setting(name: str, kind: Kind, default: _T, help: str) -> _T:
    """One setting: a `Settings` field whose metadata is its catalogue entry.

    Typed as its default so that the field keeps its type for mypy; at run time it is the
    `dataclasses.field` that carries the default and the entry. A choice's options are
    those of its default's enum, so they are never listed twice.
    """
    choices = _choices(type(default)) if isinstance(default, enum.Enum) else ()
    spec = SettingSpec(name, kind, default, help, choices)
    return field(default=default, metadata={_SPEC: spec})


def _choices(e: type[enum.Enum]) -> tuple[str, ...]:
    return tuple(str(m.value) for m in e)


_SPEC = "setting"  # the metadata key of a field's catalogue entry


@dataclass(frozen=True, slots=True)
class Settings:
    """Parsed settings. Construct with keywords, or from a mapping with `parse_settings`.

    Each field is one setting of the Settings sheet, declared once: its name on the
    sheet, kind, default and help (see `setting`). Adding a setting is adding a field.
    """

    strategy: Strategy = setting(
        "Strategy",
        Kind.CHOICE,
        Strategy.HYBRID,
        "How drift is corrected: Hybrid (default), Threshold or Calendar.",
    )
    band: Decimal = setting(
        "Band",
        Kind.PERCENT,
        Decimal("0.05"),
        "Drift (in points of the portfolio) at which a position is rebalanced.",
    )
    outer_band: Decimal = setting(
        "Outer Band",
        Kind.PERCENT,
        Decimal("0.10"),
        "Hybrid only: drift at which a position goes all the way back to target.",
    )
    relative_band: Decimal | None = setting(
        "Relative Band",
        Kind.PERCENT,
        None,
        "Optional: a band relative to the target (25% makes a 4% target trip at "
        "±1 point). Blank = off.",
    )
    cap: Decimal = setting(
        "Cap", Kind.PERCENT, Decimal("0.40"), "A position above this weight is trimmed (rule 1)."
    )
    cap_trim_to: Decimal = setting(
        "Cap Trim To", Kind.PERCENT, Decimal("0.35"), "Weight a capped position is trimmed to."
    )
    urgent_cap: Decimal = setting(
        "Urgent Cap",
        Kind.PERCENT,
        Decimal("0.50"),
        "A position above this weight is trimmed at once, even between quarters.",
    )
    urgent_trim_to: Decimal = setting(
        "Urgent Trim To",
        Kind.PERCENT,
        Decimal("0.40"),
        "Weight an urgently capped position is trimmed to.",
    )
    reversion_floor: Decimal = setting(
        "Reversion Floor",
        Kind.PERCENT,
        Decimal("0.05"),
        "A position below this weight (with a larger target) is restored or exited.",
    )
    min_days_between_rebalances: int = setting(
        "Min Days Between Rebalances",
        Kind.DAYS,
        80,
        "A run sooner than this after the last rebalance acts on emergencies only.",
    )
    force_full_run: bool = setting(
        "Force Full Run",
        Kind.YES_NO,
        False,
        "Yes runs every rule even sooner than Min Days Between Rebalances.",
    )
    schedule: Schedule = setting(
        "Schedule",
        Kind.CHOICE,
        Schedule.QUARTER_END,
        "Next rebalance date: the next quarter end, or 3 months after this run.",
    )
    new_capital: Decimal = setting(
        "New Capital",
        Kind.MONEY,
        Decimal(0),
        "Cash being added this run; it is counted before weights are measured.",
    )
    withdrawal: Decimal = setting(
        "Withdrawal",
        Kind.MONEY,
        Decimal(0),
        "Cash to take out this run; targets are sized on what remains.",
    )
    sell_mode: SellMode = setting(
        "Sell Mode",
        Kind.CHOICE,
        SellMode.ALLOWED,
        "Allowed: drift may be corrected by selling. Rules Only: only the rules sell.",
    )
    leftover_to: str = setting(
        "Leftover To",
        Kind.TICKER,
        CASH,
        "Where money left after top-ups goes: Cash, or a ticker such as QQQ.",
    )
    whole_shares: bool = setting(
        "Whole Shares",
        Kind.YES_NO,
        True,
        "Yes trades whole shares only; No allows fractional shares.",
    )
    minimum_trade: Decimal = setting(
        "Minimum Trade",
        Kind.MONEY,
        Decimal(0),
        "Trades smaller than this amount are not placed (the row says so).",
    )
    as_of_date: date | None = setting(
        "As-of Date", Kind.DATE, None, "The date of this run. Blank = today."
    )
    last_rebalance_date: date | None = setting(
        "Last Rebalance Date",
        Kind.DATE,
        None,
        "When you last rebalanced. Blank = treat this as a full quarterly run.",
    )
    account_type: AccountType = setting(
        "Account Type",
        Kind.CHOICE,
        AccountType.TAXABLE,
        "Taxable accounts get lot selection and tax estimates; Retirement and Roth skip them.",
    )
    short_term_tax_rate: Decimal = setting(
        "Short-Term Tax Rate",
        Kind.PERCENT,
        Decimal("0.37"),
        "Tax rate on gains from lots held one year or less.",
    )
    long_term_tax_rate: Decimal = setting(
        "Long-Term Tax Rate",
        Kind.PERCENT,
        Decimal("0.20"),
        "Tax rate on gains from lots held more than one year.",
    )
    lot_method: LotMethod = setting(
        "Lot Method",
        Kind.CHOICE,
        LotMethod.MIN_TAX,
        "Which lots a sale takes: Min Tax (default: least estimated tax per share first), "
        "HIFO (highest cost), FIFO (oldest) or LIFO (newest).",
    )
    harvest_losses: HarvestLosses = setting(
        "Harvest Losses",
        Kind.CHOICE,
        HarvestLosses.NO,
        "Sell lots at a loss to offset the gains this run realises: No (default), Broken "
        "Thesis (only positions whose thesis is broken) or All.",
    )
    harvest_minimum_loss: Decimal = setting(
        "Harvest Minimum Loss",
        Kind.MONEY,
        Decimal(0),
        "A lot whose whole unrealised loss is smaller than this is not harvested.",
    )
    targets_reviewed: date | None = setting(
        "Targets Reviewed",
        Kind.DATE,
        None,
        "When you last reviewed the target allocations; blank or over a year ago is a "
        "warning (review them once a year).",
    )
    limit_offset: Decimal = setting(
        "Limit Offset",
        Kind.PERCENT,
        Decimal(0),
        "How far order limits sit from the current price: sells above, buys below "
        "(0.5% = don't chase). 0 = at the price.",
    )
    stage_new_positions_over: int = setting(
        "Stage New Positions Over",
        Kind.WEEKS,
        1,
        "Weeks to spread the buy of a new position over, one equal order a week. 1 = at once.",
    )


def attr_name(setting: str) -> str:
    """'Min Days Between Rebalances' -> 'min_days_between_rebalances'."""
    return setting.lower().replace("-", "_").replace(" ", "_")


def catalogue(cls: type[Any]) -> tuple[SettingSpec, ...]:
    """The catalogue entries of a settings dataclass's fields, in field order."""
    specs = []
    for f in fields(cls):
        spec = f.metadata.get(_SPEC)
        # Every field is a setting, and its name follows from the setting's: the parser
        # finds a field by `attr_name`, so a mismatch would be a setting never read.
        if not isinstance(spec, SettingSpec):
            raise TypeError(f"{cls.__name__}.{f.name} is not declared with setting()")
        if attr_name(spec.name) != f.name:
            raise TypeError(f"setting {spec.name!r} would be read into {attr_name(spec.name)}")
        specs.append(spec)
    return tuple(specs)


# The one catalogue, in the order of the Settings sheet (the fields' order).
SETTINGS: tuple[SettingSpec, ...] = catalogue(Settings)

BY_NAME: dict[str, SettingSpec] = {s.name: s for s in SETTINGS}
_BY_FOLDED: dict[str, SettingSpec] = {s.name.casefold(): s for s in SETTINGS}


def _refuse(code: str, form: str = "", /, **values: object) -> NoReturn:
    """Refuse a setting's value, worded by the problem catalogue."""
    raise BadValue(code, message(code, form, **values))


def _parse_choice(spec: SettingSpec, raw: object) -> enum.Enum:
    text = str(raw).strip().casefold()
    assert isinstance(spec.default, enum.Enum)  # every choice defaults to one
    for member in type(spec.default):
        if str(member.value).casefold() == text or member.name.casefold() == text:
            return member
    # Accept the guide's letters for strategies: A, B, C.
    if spec.name == "Strategy" and text in ("a", "b", "c"):
        return {"a": Strategy.THRESHOLD, "b": Strategy.CALENDAR, "c": Strategy.HYBRID}[text]
    _refuse("bad-choice", what=spec.name, value=raw, choices=", ".join(spec.choices))


def _parse_percent(spec: SettingSpec, raw: object) -> Decimal:
    value = parse_decimal(raw, spec.name, percent=True)
    if value < 0 or value > 1:
        _refuse("out-of-range", "percent", what=spec.name, value=raw)
    return value


def _parse_money(spec: SettingSpec, raw: object) -> Decimal:
    value = parse_decimal(raw, spec.name)
    if value < 0:
        _refuse("out-of-range", "amount", what=spec.name, value=raw)
    return value


def _parse_days(spec: SettingSpec, raw: object) -> int:
    value = parse_decimal(raw, spec.name)
    if value < 0 or value != value.to_integral_value():
        _refuse("out-of-range", "days", what=spec.name, value=raw)
    return int(value)


def _parse_weeks(spec: SettingSpec, raw: object) -> int:
    value = parse_decimal(raw, spec.name)
    if value < 1 or value > 52 or value != value.to_integral_value():
        _refuse("out-of-range", "weeks", what=spec.name, value=raw)
    return int(value)


def _parse_ticker(spec: SettingSpec, raw: object) -> str:
    text = str(raw).strip().upper()
    if not text or text.startswith("="):
        _refuse("bad-ticker", "setting", what=spec.name, value=raw)
    return text


_PARSERS: dict[Kind, Callable[[SettingSpec, Any], object]] = {
    Kind.CHOICE: _parse_choice,
    Kind.PERCENT: _parse_percent,
    Kind.MONEY: _parse_money,
    Kind.NUMBER: lambda spec, raw: parse_decimal(raw, spec.name),
    Kind.DAYS: _parse_days,
    Kind.WEEKS: _parse_weeks,
    Kind.YES_NO: lambda spec, raw: parse_yes_no(raw, spec.name),
    Kind.DATE: lambda spec, raw: parse_run_date(raw, spec.name),
    Kind.TICKER: _parse_ticker,
}


def is_blank(raw: object) -> bool:
    if raw is None:
        return True
    if isinstance(raw, float) and raw != raw:  # NaN from pandas
        return True
    return isinstance(raw, str) and not raw.strip()


def parse_settings(
    raw: Mapping[str, object] | None,
    where: Callable[[str], Where] | None = None,
) -> tuple[Settings, list[Problem]]:
    """Parse a {setting name: value} mapping; unknown names and bad values are problems.

    `where(name)` locates a setting for problem messages (the workbook adapter maps it
    to the Value cell); by default a problem names the setting.
    """
    locate = where or (lambda name: Where(SHEET, column=name))
    problems: list[Problem] = []
    values: dict[str, object] = {}
    for name, value in (raw or {}).items():
        spec = _BY_FOLDED.get(str(name).strip().casefold())
        if spec is None:
            problems.append(
                problem("unknown-setting", locate(str(name)), name=name, known=", ".join(BY_NAME))
            )
            continue
        if is_blank(value):
            continue
        if isinstance(value, datetime):
            value = value.date()
        try:
            values[attr_name(spec.name)] = _PARSERS[spec.kind](spec, value)
        except BadValue as bad:
            problems.append(Problem(bad.code, bad.message, locate(spec.name)))
    if values.get("leftover_to") in ("CASH",):
        values["leftover_to"] = CASH
    settings = Settings(**values)  # type: ignore[arg-type]
    problems.extend(_check_consistency(settings, locate))
    return settings, problems


def _check_consistency(settings: Settings, locate: Callable[[str], Where]) -> list[Problem]:
    problems = []
    if settings.outer_band < settings.band:
        problems.append(
            problem("bad-band", locate("Outer Band"), outer=settings.outer_band, band=settings.band)
        )
    if settings.cap_trim_to > settings.cap:
        problems.append(
            problem(
                "bad-cap",
                locate("Cap Trim To"),
                "trim-above-cap",
                trim_name="Cap Trim To",
                trim=settings.cap_trim_to,
                cap_name="Cap",
                cap=settings.cap,
            )
        )
    if settings.urgent_trim_to > settings.urgent_cap:
        problems.append(
            problem(
                "bad-cap",
                locate("Urgent Trim To"),
                "trim-above-cap",
                trim_name="Urgent Trim To",
                trim=settings.urgent_trim_to,
                cap_name="Urgent Cap",
                cap=settings.urgent_cap,
            )
        )
    if settings.urgent_cap < settings.cap:
        problems.append(
            problem(
                "bad-cap",
                locate("Urgent Cap"),
                "urgent-below-cap",
                urgent=settings.urgent_cap,
                cap=settings.cap,
            )
        )
    if (
        settings.as_of_date is not None
        and settings.last_rebalance_date is not None
        and settings.last_rebalance_date > settings.as_of_date
    ):
        problems.append(
            problem(
                "date-in-future",
                locate("Last Rebalance Date"),
                last=settings.last_rebalance_date,
                as_of=settings.as_of_date,
            )
        )
    return problems


def display_value(spec: SettingSpec) -> object:
    """The default as a person would type it in the Settings sheet (None = blank)."""
    d = spec.default
    if isinstance(d, enum.Enum):
        return d.value
    if isinstance(d, bool):
        return "Yes" if d else "No"
    if d == CASH:
        return "Cash"
    if isinstance(d, Decimal):
        return float(d)
    return d
