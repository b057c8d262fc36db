"""The Run Rebalance button of the workbook of the same name.

xlwings calls main(): the button's macro (SampleCall) in a macro-enabled workbook,
or "Run main" on the xlwings tab of Excel's ribbon. The rules, the reading and the
writing live in rebalancer_xl, installed with `pip install rebalancer-xl`.
"""

from rebalancer_xl.xl import record_fills, run_rebalance


def main() -> None:
    """Plan this quarter's rebalance and write it into the workbook that called."""
    run_rebalance()


def record() -> None:
    """Carry the fills typed into Trades into Holdings, Lots and the tracking sheets."""
    record_fills()


if __name__ == "__main__":
    # Run from an editor: use the workbook of the same name, open in Excel.
    from pathlib import Path

    import xlwings as xw

    here = Path(__file__)
    book = next(p for p in (here.with_suffix(".xlsm"), here.with_suffix(".xlsx"))
                if p.exists())
    xw.Book(book).set_mock_caller()
    main()
