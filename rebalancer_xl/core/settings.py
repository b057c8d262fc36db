"""The Settings sheet: every setting's name, kind, default and help, and its parser.

`SETTINGS` is the one catalogue: the workbook template writes its rows from it, the
parser reads by it, and the README's table is made from it. A blank value means the
default. Percent settings are fractions, as Excel stores them (a 5% band is 0.05).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

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
from rebalancer_xl.core.values import (
    BadValue,
    parse_decimal,
    parse_run_date,
    parse_yes_no,
)

SHEET = "Settings"


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


def _choices(e: type[enum.Enum]) -> tuple[str, ...]:
    return tuple(str(m.value) for m in e)


SETTINGS: tuple[SettingSpec, ...] = (
    SettingSpec(
        "Strategy",
        Kind.CHOICE,
        Strategy.HYBRID,
        "How drift is corrected: Hybrid (default), Threshold or Calendar.",
        _choices(Strategy),
    ),
    SettingSpec(
        "Band",
        Kind.PERCENT,
        Decimal("0.05"),
        "Drift (in points of the portfolio) at which a position is rebalanced.",
    ),
    SettingSpec(
        "Outer Band",
        Kind.PERCENT,
        Decimal("0.10"),
        "Hybrid only: drift at which a position goes all the way back to target.",
    ),
    SettingSpec(
        "Relative Band",
        Kind.PERCENT,
        None,
        "Optional: a band relative to the target (25% makes a 4% target trip at "
        "±1 point). Blank = off.",
    ),
    SettingSpec(
        "Cap", Kind.PERCENT, Decimal("0.40"), "A position above this weight is trimmed (rule 1)."
    ),
    SettingSpec(
        "Cap Trim To", Kind.PERCENT, Decimal("0.35"), "Weight a capped position is trimmed to."
    ),
    SettingSpec(
        "Urgent Cap",
        Kind.PERCENT,
        Decimal("0.50"),
        "A position above this weight is trimmed at once, even between quarters.",
    ),
    SettingSpec(
        "Urgent Trim To",
        Kind.PERCENT,
        Decimal("0.40"),
        "Weight an urgently capped position is trimmed to.",
    ),
    SettingSpec(
        "Reversion Floor",
        Kind.PERCENT,
        Decimal("0.05"),
        "A position below this weight (with a larger target) is restored or exited.",
    ),
    SettingSpec(
        "Min Days Between Rebalances",
        Kind.DAYS,
        80,
        "A run sooner than this after the last rebalance acts on emergencies only.",
    ),
    SettingSpec(
        "Force Full Run",
        Kind.YES_NO,
        False,
        "Yes runs every rule even sooner than Min Days Between Rebalances.",
    ),
    SettingSpec(
        "Schedule",
        Kind.CHOICE,
        Schedule.QUARTER_END,
        "Next rebalance date: the next quarter end, or 3 months after this run.",
        _choices(Schedule),
    ),
    SettingSpec(
        "New Capital",
        Kind.MONEY,
        Decimal(0),
        "Cash being added this run; it is counted before weights are measured.",
    ),
    SettingSpec(
        "Withdrawal",
        Kind.MONEY,
        Decimal(0),
        "Cash to take out this run; targets are sized on what remains.",
    ),
    SettingSpec(
        "Sell Mode",
        Kind.CHOICE,
        SellMode.ALLOWED,
        "Allowed: drift may be corrected by selling. Rules Only: only the rules sell.",
        _choices(SellMode),
    ),
    SettingSpec(
        "Leftover To",
        Kind.TICKER,
        CASH,
        "Where money left after top-ups goes: Cash, or a ticker such as QQQ.",
    ),
    SettingSpec(
        "Whole Shares",
        Kind.YES_NO,
        True,
        "Yes trades whole shares only; No allows fractional shares.",
    ),
    SettingSpec(
        "Minimum Trade",
        Kind.MONEY,
        Decimal(0),
        "Trades smaller than this amount are not placed (the row says so).",
    ),
    SettingSpec("As-of Date", Kind.DATE, None, "The date of this run. Blank = today."),
    SettingSpec(
        "Last Rebalance Date",
        Kind.DATE,
        None,
        "When you last rebalanced. Blank = treat this as a full quarterly run.",
    ),
    SettingSpec(
        "Account Type",
        Kind.CHOICE,
        AccountType.TAXABLE,
        "Taxable accounts get lot selection and tax estimates; Retirement and Roth skip them.",
        _choices(AccountType),
    ),
    SettingSpec(
        "Short-Term Tax Rate",
        Kind.PERCENT,
        Decimal("0.37"),
        "Tax rate on gains from lots held one year or less.",
    ),
    SettingSpec(
        "Long-Term Tax Rate",
        Kind.PERCENT,
        Decimal("0.20"),
        "Tax rate on gains from lots held more than one year.",
    ),
    SettingSpec(
        "Lot Method",
        Kind.CHOICE,
        LotMethod.MIN_TAX,
        "Which lots a sale takes: Min Tax (default: least estimated tax per share first), "
        "HIFO (highest cost), FIFO (oldest) or LIFO (newest).",
        _choices(LotMethod),
    ),
    SettingSpec(
        "Harvest Losses",
        Kind.CHOICE,
        HarvestLosses.NO,
        "Sell lots at a loss to offset the gains this run realises: No (default), Broken "
        "Thesis (only positions whose thesis is broken) or All.",
        _choices(HarvestLosses),
    ),
    SettingSpec(
        "Harvest Minimum Loss",
        Kind.MONEY,
        Decimal(0),
        "A lot whose whole unrealised loss is smaller than this is not harvested.",
    ),
    SettingSpec(
        "Targets Reviewed",
        Kind.DATE,
        None,
        "When you last reviewed the target allocations; blank or over a year ago is a "
        "warning (review them once a year).",
    ),
    SettingSpec(
        "Limit Offset",
        Kind.PERCENT,
        Decimal(0),
        "How far order limits sit from the current price: sells above, buys below "
        "(0.5% = don't chase). 0 = at the price.",
    ),
    SettingSpec(
        "Stage New Positions Over",
        Kind.WEEKS,
        1,
        "Weeks to spread the buy of a new position over, one equal order a week. 1 = at once.",
    ),
)

BY_NAME: dict[str, SettingSpec] = {s.name: s for s in SETTINGS}
_BY_FOLDED: dict[str, SettingSpec] = {s.name.casefold(): s for s in SETTINGS}
_ENUMS: dict[str, type[enum.Enum]] = {
    "Strategy": Strategy,
    "Sell Mode": SellMode,
    "Account Type": AccountType,
    "Lot Method": LotMethod,
    "Harvest Losses": HarvestLosses,
    "Schedule": Schedule,
}


@dataclass(frozen=True, slots=True)
class Settings:
    """Parsed settings. Construct with keywords, or from a mapping with `parse_settings`."""

    strategy: Strategy = Strategy.HYBRID
    band: Decimal = Decimal("0.05")
    outer_band: Decimal = Decimal("0.10")
    relative_band: Decimal | None = None
    cap: Decimal = Decimal("0.40")
    cap_trim_to: Decimal = Decimal("0.35")
    urgent_cap: Decimal = Decimal("0.50")
    urgent_trim_to: Decimal = Decimal("0.40")
    reversion_floor: Decimal = Decimal("0.05")
    min_days_between_rebalances: int = 80
    force_full_run: bool = False
    schedule: Schedule = Schedule.QUARTER_END
    new_capital: Decimal = Decimal(0)
    withdrawal: Decimal = Decimal(0)
    sell_mode: SellMode = SellMode.ALLOWED
    leftover_to: str = CASH
    whole_shares: bool = True
    minimum_trade: Decimal = Decimal(0)
    as_of_date: date | None = None
    last_rebalance_date: date | None = None
    account_type: AccountType = AccountType.TAXABLE
    short_term_tax_rate: Decimal = Decimal("0.37")
    long_term_tax_rate: Decimal = Decimal("0.20")
    lot_method: LotMethod = LotMethod.MIN_TAX
    harvest_losses: HarvestLosses = HarvestLosses.NO
    harvest_minimum_loss: Decimal = Decimal(0)
    targets_reviewed: date | None = None
    limit_offset: Decimal = Decimal(0)
    stage_new_positions_over: int = 1


def attr_name(setting: str) -> str:
    """'Min Days Between Rebalances' -> 'min_days_between_rebalances'."""
    return setting.lower().replace("-", "_").replace(" ", "_")


def _parse_choice(spec: SettingSpec, raw: object) -> enum.Enum:
    text = str(raw).strip().casefold()
    for member in _ENUMS[spec.name]:
        if str(member.value).casefold() == text or member.name.casefold() == text:
            return member
    # Accept the guide's letters for strategies: A, B, C.
    if spec.name == "Strategy" and text in ("a", "b", "c"):
        return {"a": Strategy.THRESHOLD, "b": Strategy.CALENDAR, "c": Strategy.HYBRID}[text]
    raise BadValue(
        "bad-choice", f"{spec.name} is {raw!r}; choose one of: {', '.join(spec.choices)}"
    )


def _parse_percent(spec: SettingSpec, raw: object) -> Decimal:
    value = parse_decimal(raw, spec.name, percent=True)
    if value < 0 or value > 1:
        raise BadValue("out-of-range", f"{spec.name} is {raw!r}; expected 0% to 100%")
    return value


def _parse_money(spec: SettingSpec, raw: object) -> Decimal:
    value = parse_decimal(raw, spec.name)
    if value < 0:
        raise BadValue("out-of-range", f"{spec.name} is {raw!r}; expected an amount ≥ 0")
    return value


def _parse_days(spec: SettingSpec, raw: object) -> int:
    value = parse_decimal(raw, spec.name)
    if value < 0 or value != value.to_integral_value():
        raise BadValue("out-of-range", f"{spec.name} is {raw!r}; expected whole days ≥ 0")
    return int(value)


def _parse_weeks(spec: SettingSpec, raw: object) -> int:
    value = parse_decimal(raw, spec.name)
    if value < 1 or value > 52 or value != value.to_integral_value():
        raise BadValue("out-of-range", f"{spec.name} is {raw!r}; expected whole weeks, 1 to 52")
    return int(value)


def _parse_ticker(spec: SettingSpec, raw: object) -> str:
    text = str(raw).strip().upper()
    if not text or text.startswith("="):
        raise BadValue("bad-ticker", f"{spec.name} is {raw!r}; expected Cash or a ticker")
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
                Problem(
                    "unknown-setting",
                    f"{name!r} is not a setting; known settings: {', '.join(BY_NAME)}",
                    locate(str(name)),
                )
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
            Problem(
                "bad-band",
                f"Outer Band {settings.outer_band:.2%} is below Band {settings.band:.2%}",
                locate("Outer Band"),
            )
        )
    if settings.cap_trim_to > settings.cap:
        problems.append(
            Problem(
                "bad-cap",
                f"Cap Trim To {settings.cap_trim_to:.2%} is above Cap {settings.cap:.2%}",
                locate("Cap Trim To"),
            )
        )
    if settings.urgent_trim_to > settings.urgent_cap:
        problems.append(
            Problem(
                "bad-cap",
                f"Urgent Trim To {settings.urgent_trim_to:.2%} is above Urgent Cap "
                f"{settings.urgent_cap:.2%}",
                locate("Urgent Trim To"),
            )
        )
    if settings.urgent_cap < settings.cap:
        problems.append(
            Problem(
                "bad-cap",
                f"Urgent Cap {settings.urgent_cap:.2%} is below Cap {settings.cap:.2%}",
                locate("Urgent Cap"),
            )
        )
    if (
        settings.as_of_date is not None
        and settings.last_rebalance_date is not None
        and settings.last_rebalance_date > settings.as_of_date
    ):
        problems.append(
            Problem(
                "date-in-future",
                f"Last Rebalance Date {settings.last_rebalance_date} is after the As-of Date "
                f"{settings.as_of_date}",
                locate("Last Rebalance Date"),
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
