"""`python -m tests.golden [--update]`: print the golden plans, or rewrite plans.txt."""

from __future__ import annotations

import sys

from tests.golden import GOLDEN, render_all

if __name__ == "__main__":
    text = render_all()
    if "--update" in sys.argv[1:]:
        GOLDEN.write_text(text, encoding="utf-8")
        print(f"wrote {GOLDEN}")
    else:
        print(text)
