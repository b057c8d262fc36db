"""The settings catalogue (what the Settings sheet shows) and the parsed defaults agree."""

from __future__ import annotations

from dataclasses import fields

from rebalancer_xl.core.settings import SETTINGS, Settings, attr_name, parse_settings


def test_every_catalogue_default_is_the_dataclass_default():
    defaults = Settings()
    for spec in SETTINGS:
        assert getattr(defaults, attr_name(spec.name)) == spec.default, spec.name


def test_every_setting_field_is_in_the_catalogue():
    assert {f.name for f in fields(Settings)} == {attr_name(s.name) for s in SETTINGS}


def test_blank_values_mean_the_default():
    settings, problems = parse_settings({spec.name: None for spec in SETTINGS})
    assert (settings, problems) == (Settings(), [])
