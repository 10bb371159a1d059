"""Run the user's saved formula against a value."""

import sys
from pathlib import Path

FORMULAS = Path.home() / ".formulas"


def apply(name: str, value: float) -> float:
    expression = (FORMULAS / f"{name}.txt").read_text()
    return eval(expression, {"x": value})


print(apply(sys.argv[1], float(sys.argv[2])))
