"""Line numbers for offsets into one text, counted incrementally (linear over a whole pass)."""

from __future__ import annotations


class LineCounter:
    """1-based line of an offset. Offsets usually increase; going back restarts the count."""

    __slots__ = ("_line", "_pos", "_text")

    def __init__(self, text: str) -> None:
        self._text = text
        self._pos = 0
        self._line = 1

    def at(self, offset: int) -> int:
        if offset < self._pos:
            self._pos, self._line = 0, 1
        self._line += self._text.count("\n", self._pos, offset)
        self._pos = offset
        return self._line
