"""The pure core: the vocabulary, the settings, reading one value, the rules and the engine.

Nothing here touches a file, a spreadsheet library or pandas (tests/test_layers.py holds
it to that): holdings and settings in, a `Plan` out, in exact Decimals, every decision
with its rule id and a reason with its numbers.
"""
