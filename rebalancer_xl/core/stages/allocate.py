"""Stages 3–7, allocate: move the money, then round to shares.

A pass runs ALLOCATION in order: fund a withdrawal (cash above target first, then the
most overweight positions), fund the buys the rules call for (trimming over-target
positions, a capped one down to its target, if money is short), pay what is left in the
guide's order of priority (laggards to target, then new picks to target and tier
upgrades to target + half band), send the rest to the Leftover To fund, and round to
whole (or fractional) shares without spending money that is not there. Trades below
the Minimum Trade are then dropped and the pass runs again, until none is.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_HALF_UP, Decimal

from rebalancer_xl.core.model import CASH, ONE, ZERO, Where, cents, quantizer, tier_rose
from rebalancer_xl.core.problems import problem
from rebalancer_xl.core.reasons import BelowMinimum
from rebalancer_xl.core.rules.drift import bands
from rebalancer_xl.core.stages.state import PlanState, Position, money

WHOLE = Decimal(1)
FRACTION = Decimal("0.000001")  # fractional shares: brokers take up to six decimals
_HALF_CENT = Decimal("0.005")
_CENT = Decimal("0.01")


def _start_pass(state: PlanState) -> None:
    state.pass_notes = []
    state.buys_scaled = False
    for p in state.positions:
        p.to_sell, p.to_buy = p.sell, ZERO
        p.withdrawal = p.funding = p.top_up = p.second_priority = p.shares = p.amount = ZERO
        p.leftover = p.selling = False


def _money_in(state: PlanState) -> Decimal:
    """Proceeds plus cash above its target: what the buys may spend."""
    # A list sums ~40% faster; the rows that sell nothing are left out, each a sum with
    # zero that gives the same value (−0.2k instructions a position).
    proceeds = sum([p.to_sell for p in state.positions if p.to_sell], ZERO)
    return proceeds + state.cash - state.cash_target * state.value


def fund_withdrawal(state: PlanState) -> None:
    """A withdrawal is paid from cash above target, then from the most overweight.

    Sales the rules already make pay first; marked as paying it, they round up below,
    so the cash is really there after rounding (a strategy trim rounded half-up could
    leave the cash row short by a share's price).
    """
    s, value = state.settings, state.value
    money_in = _money_in(state)
    if s.withdrawal > ZERO:
        owed = -state.cash  # what the cash row cannot pay
        for p in state.positions:
            if owed <= ZERO:
                break
            if p.to_sell > ZERO:
                p.withdrawal = min(p.to_sell, owed)
                owed -= p.withdrawal
    if s.withdrawal > ZERO and money_in < ZERO:
        need = min(s.withdrawal, -money_in)
        sources = [
            p for p in state.positions if p.may_withdraw and not p.full_exit and p.post > ZERO
        ]
        by_drift = sorted(
            sources, key=lambda p: (-(p.post / value - p.holding.target), p.holding.row)
        )
        for p in by_drift:
            take = min(need, p.post - p.holding.target * value)
            if take > ZERO:
                p.withdrawal += take
                p.to_sell += take
                need -= take
        if need > ZERO:  # everything is at target: take the rest in proportion to value
            left = {p: p.post for p in sources if p.post > ZERO}
            for p, take in in_proportion(need, left).items():
                p.withdrawal += take
                p.to_sell += take
                need -= take
        # Restoring cash to its target is a wish; cash below zero is impossible.
        short = -(state.cash + sum((p.to_sell for p in state.positions), ZERO))
        if short > _HALF_CENT:
            state.refusal = problem(
                "withdrawal-unfunded",
                Where("Settings", column="Withdrawal"),
                short=money(cents(short)),
            )
            return
        money_in = _money_in(state)
    state.available = max(ZERO, money_in)


def fund_required_buys(state: PlanState) -> None:
    """The buys the rules call for, funded by trims of over-target positions if short."""
    value = state.value
    required = {p: p.buy for p in state.positions if p.buy}  # never negative: `> ZERO`
    wanted = sum(required.values(), ZERO)
    if wanted > state.available and not state.restricted and not state.rules_only:
        over_target = {
            p: p.post - p.holding.target * value
            for p in state.positions
            # Exit signals and the floor sell for the thesis, not the weight: theirs is
            # the whole sale. A cap's trim may go further, to the target.
            if p.may_fund
            and not p.exit_sale
            and p.buy == ZERO
            and p.post > p.holding.target * value
        }
        for p, take in in_proportion(wanted - state.available, over_target).items():
            p.funding += take
            p.to_sell += take
            state.available += take
    if wanted > state.available:
        scale = state.available / wanted if wanted else ZERO
        # The note compares the amounts as it prints them: short by less than a cent,
        # "$1,000.00 exceed $1,000.00" would contradict itself. The buys are scaled all
        # the same (cash is conserved to the cent) and whole-share rounding absorbs it.
        short = cents(wanted) - cents(state.available)
        if short > 0:
            share = (
                f"each scaled to {scale:.1%}"
                if scale < Decimal("0.9995")
                else "each scaled down in proportion"
            )
            state.pass_notes.append(
                f"buys the rules call for ({money(cents(wanted))}) exceed the money "
                f"available ({money(cents(state.available))}) by {money(short)}: {share}"
            )
        required = {p: b * scale for p, b in required.items()}
        state.buys_scaled = True
        wanted = sum(required.values(), ZERO)
    # Unscaled, the buys still add up to `wanted`, summed in the same order.
    for p, b in required.items():
        p.to_buy = b
    state.available -= wanted


def top_up(state: PlanState) -> None:
    """The guide's order of priority for what is left (SPEC §3), each served in full first.

    1. Laggards: held positions under target with an intact thesis, to target, in
       proportion to their shortfall.
    2. New picks (0 shares, a target) to target, and tier upgrades with an intact thesis
       to target + half band, in proportion to the room each has.
    What is left after both goes to `send_leftover`. Example: $6,000 of proceeds, ALAB
    $3,000 under target and a new DBX $4,000 under: ALAB gets $3,000, DBX the other $3,000.
    """
    if state.restricted or state.available <= ZERO:
        return
    value = state.value
    open_ = [p for p in state.positions if p.may_top_up and not p.to_sell]
    laggards = {}
    for p in open_:  # each goal and post worked out once: this runs on most rows
        h = p.holding
        if h.shares:  # never negative (parse.validate): a truth test is `> ZERO`
            # p.post, inline and without its `- p.to_sell`: an open row sells nothing
            # (the value less a zero is the value: one Decimal operation a row fewer).
            short = h.target * value - (h.value + p.to_buy)
            if short > ZERO:
                laggards[p] = short
    _pay(state, laggards, second=False)
    if state.available <= ZERO:
        return
    room: dict[Position, Decimal] = {}
    for p in open_:
        h = p.holding
        if not h.shares:
            room[p] = h.target * value - p.post
        elif tier_rose(h):
            # Half a band over target keeps an upgrade well inside its band: the next
            # run does not trim back what this one added.
            room[p] = (h.target + bands(h.target, state.settings)[0] / 2) * value - p.post
    _pay(state, room, second=True)


def _pay(state: PlanState, wanted: dict[Position, Decimal], *, second: bool) -> None:
    for p, add in in_proportion(state.available, wanted).items():
        p.top_up += add
        p.to_buy += add
        if second:
            p.second_priority += add
        state.available -= add


def send_leftover(state: PlanState) -> None:
    """What is left goes to cash, or to the index fund named in Leftover To."""
    to = state.settings.leftover_to
    if to == CASH:  # cash is no position: what is left stays in it
        return
    fund = next((p for p in state.positions if p.holding.ticker == to), None)
    if (
        fund is not None
        and not state.restricted
        and state.available > ZERO
        and fund.suppressed is None
        and not fund.buy_blocked
        and not fund.holding.lock
        and fund.to_sell == ZERO
    ):
        fund.to_buy += state.available
        fund.leftover = True


def round_shares(state: PlanState) -> None:
    """Shares per position: sells rounded to the nearest share (a withdrawal
    rounds up, so the cash is really there), buys rounded down so cash is never
    overspent."""
    whole = state.settings.whole_shares
    step = WHOLE if whole else FRACTION
    half_up, down = quantizer(ROUND_HALF_UP), quantizer(ROUND_DOWN)
    ceiling = quantizer(ROUND_CEILING)
    proceeds = planned_sells = ZERO
    buys: list[Position] = []  # gathered in the same pass, in the positions' order
    for p in state.positions:
        # Truth tests, not comparisons with ZERO (a third of the cost): to_buy and
        # to_sell are never negative.
        if p.to_buy:
            buys.append(p)
        if not p.to_sell:
            continue
        h = p.holding
        planned_sells += p.to_sell
        if p.full_exit or p.to_sell >= h.value:
            n = h.shares
        else:
            n = (ceiling if p.withdrawal else half_up)(p.to_sell / h.price, step)
            if h.shares <= n:  # min(h.shares, n), which keeps h.shares on a tie
                n = h.shares
        sold = n * h.price
        amount = half_up(sold, _CENT)  # cents, inline: every row
        if not amount:  # worth less than a cent: nothing to place
            continue
        # One store a statement: four targets of a tuple build and unpack it (~0.35k
        # instructions a time; two, three are swapped on the stack instead).
        p.shares = n
        p.selling = True
        p.amount = amount
        p.value_after = h.value - sold
        proceeds += amount

    planned_buys = sum([p.to_buy for p in buys], ZERO)
    # Cash the plan meant to keep stays kept, even when sells rounded down.
    planned_cash = state.cash + planned_sells - planned_buys
    keep = max(ZERO, min(planned_cash, state.cash_target * state.value))
    spendable = max(ZERO, state.cash + proceeds - keep)
    scale = min(ONE, spendable / planned_buys) if planned_buys else ONE
    scaled = scale != ONE  # x × 1 is x, digit for digit: most plans skip the product
    spent = ZERO
    # The index fund buys last and takes what rounding left over from the others.
    for p in [p for p in buys if not p.leftover] + [p for p in buys if p.leftover]:
        price = p.holding.price
        rest = spendable - spent
        own = p.to_buy * scale if scaled else p.to_buy
        budget = rest if p.leftover else own
        if rest < budget:  # min(budget, rest), which keeps budget on a tie
            budget = rest
        budget = down(budget, _CENT)
        # Whole shares: the integer part of the exact quotient, a third of the cost of
        # dividing to 28 digits and cutting; both give the same for cents over a price.
        n = budget // price if whole else down(budget / price, step)
        bought = n * price
        cost = half_up(bought, _CENT)
        # Budgets, shares and costs are never negative here: truth tests are `> ZERO`.
        while n and cost > budget:
            n -= step
            bought = n * price
            cost = half_up(bought, _CENT)
        if n and cost:
            p.shares = n  # one store a statement, as for a sale
            p.selling = False
            p.amount = cost
            p.value_after = p.holding.value + bought
            spent += cost
        else:  # a buy replaces a sale's order, should the row have both (a withdrawal)
            p.shares = p.amount = ZERO
            p.selling = False


ALLOCATION: tuple[Callable[[PlanState], None], ...] = (
    fund_withdrawal,
    fund_required_buys,
    top_up,
    send_leftover,
    round_shares,
)


def allocate(state: PlanState) -> None:
    """Run ALLOCATION; drop trades below the minimum and run it again, until none is."""
    minimum = state.settings.minimum_trade
    for _ in range(len(state.positions) + 1):
        _start_pass(state)
        for stage in ALLOCATION:
            stage(state)
            if state.refusal is not None:
                return
        if minimum <= ZERO:
            break
        small = [
            p
            for p in state.positions
            if p.suppressed is None
            and p.shares != ZERO
            # A withdrawal is owed to the user: its sales are placed however small.
            and p.withdrawal == ZERO
            and cents(p.shares * p.holding.price) < minimum
        ]
        if not small:
            break
        for p in small:
            amount = cents(p.shares * p.holding.price)
            _suppress(p, BelowMinimum(amount, minimum))
    state.notes.extend(state.pass_notes)


def _suppress(p: Position, because: BelowMinimum) -> None:
    """No trade of its own for this position; it may still pay toward a withdrawal."""
    p.sell = p.buy = ZERO
    p.rule_sale = p.exit_sale = p.full_exit = False
    p.may_top_up = p.may_fund = False
    p.suppressed = because


def in_proportion(amount: Decimal, weights: dict[Position, Decimal]) -> dict[Position, Decimal]:
    """Split `amount` in proportion to `weights`, giving no key more than its weight."""
    weights = {k: w for k, w in weights.items() if w > ZERO}
    total = sum(weights.values(), ZERO)
    if total <= ZERO or amount <= ZERO:
        return {}
    if amount >= total:
        return dict(weights)
    return {k: amount * w / total for k, w in weights.items()}
