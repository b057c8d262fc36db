"""The settings catalogue (what the Settings sheet shows) and the parsed defaults agree."""

from __future__ import annotations

from dataclasses import dataclass, fields
from decimal import Decimal

import pytest

from rebalancer_xl.core.model import SellMode
from rebalancer_xl.core.settings import (
    SETTINGS,
    Kind,
    Settings,
    SettingSpec,
    attr_name,
    catalogue,
    parse_settings,
    setting,
)


def test_every_catalogue_default_is_the_dataclass_default():
    defaults = Settings()
    for spec in SETTINGS:
        assert getattr(defaults, attr_name(spec.name)) == spec.default, spec.name


def test_every_setting_field_is_in_the_catalogue():
    assert {f.name for f in fields(Settings)} == {attr_name(s.name) for s in SETTINGS}


def test_blank_values_mean_the_default():
    settings, problems = parse_settings({spec.name: None for spec in SETTINGS})
    assert (settings, problems) == (Settings(), [])


def test_every_catalogue_entry_is_its_field_with_its_default():
    by_field = {f.name: f for f in fields(Settings)}
    assert [attr_name(s.name) for s in SETTINGS] == list(by_field)  # same names, same order
    for spec in SETTINGS:
        assert by_field[attr_name(spec.name)].default == spec.default, spec.name
        if spec.kind is Kind.CHOICE:
            assert spec.choices == tuple(m.value for m in type(spec.default)), spec.name
            # Each offered choice parses, so the sheet's drop-down and the parser agree.
            for choice in spec.choices:
                parsed, problems = parse_settings({spec.name: choice})
                assert problems == [], (spec.name, choice)
                assert getattr(parsed, attr_name(spec.name)).value == choice


def test_a_setting_is_added_by_one_field():
    @dataclass(frozen=True)
    class Extended:
        band: Decimal = setting("Band", Kind.PERCENT, Decimal("0.05"), "Drift band.")
        sell_mode: SellMode = setting("Sell Mode", Kind.CHOICE, SellMode.ALLOWED, "Who sells.")

    assert catalogue(Extended) == (
        SettingSpec("Band", Kind.PERCENT, Decimal("0.05"), "Drift band."),
        SettingSpec(
            "Sell Mode", Kind.CHOICE, SellMode.ALLOWED, "Who sells.", ("Allowed", "Rules Only")
        ),
    )
    assert Extended().band == Decimal("0.05")


def test_a_field_without_its_setting_is_refused():
    @dataclass(frozen=True)
    class Plain:
        band: Decimal = Decimal("0.05")

    @dataclass(frozen=True)
    class Misnamed:
        cap: Decimal = setting("Band", Kind.PERCENT, Decimal("0.05"), "Drift band.")

    with pytest.raises(TypeError, match=r"Plain\.band is not declared"):
        catalogue(Plain)
    with pytest.raises(TypeError, match="'Band' would be read into band"):
        catalogue(Misnamed)
