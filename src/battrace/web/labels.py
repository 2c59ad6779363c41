"""Printable labels: a QR code (segno) or a Data Matrix (pyStrich) of the public short URL,
with the code printed underneath, as SVG (vector, exact size in millimetres) or PNG (300 dpi).

QR codes use error-correction level Q (25 % of the symbol may be lost: labels on batteries
get scratched and dirty). The symbol keeps its quiet zone (4 modules for QR, 2 for Data
Matrix) so scanners find it.
"""

from __future__ import annotations

import html
import io
import re
from typing import Literal

import segno
from pystrich.datamatrix import DataMatrixEncoder

Symbology = Literal["qr", "dm"]
DPI = 300
MIN_MM, MAX_MM, DEFAULT_MM = 10, 100, 30
#: the text line under the symbol, as a share of the symbol's width
TEXT_SHARE = 0.12
_SIZE_ATTRS = re.compile(r'\s(width|height)="[^"]*"')


def clamp_mm(value: str | int | None) -> int:
    """A printable size in millimetres (10–100, default 30)."""
    try:
        mm = int(value) if value is not None else DEFAULT_MM
    except ValueError:
        mm = DEFAULT_MM
    return max(MIN_MM, min(MAX_MM, mm))


def _symbol_svg(data: str, symbology: Symbology) -> str:
    """The bare symbol as an SVG element sized by its viewBox only."""
    if symbology == "qr":
        svg: str = segno.make(data, error="q", micro=False).svg_inline(
            scale=1, border=4, omitsize=True
        )
    else:
        svg = DataMatrixEncoder(data, quiet_zone=2).get_svg(cellsize=1)
    first, sep, rest = svg.partition(">")
    return _SIZE_ATTRS.sub("", first) + ' width="100" height="100"' + sep + rest


def label_svg(data: str, code: str, *, mm: int, symbology: Symbology = "qr") -> str:
    """A label: the symbol `mm` wide with the code printed under it."""
    text_h = 100 * TEXT_SHARE
    height = 100 + text_h
    font = 100 / max(len(code), 12) * 1.55
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{mm}mm" '
        f'height="{mm * height / 100:.2f}mm" viewBox="0 0 100 {height:.2f}">'
        f'<rect width="100" height="{height:.2f}" fill="#fff"/>'
        f"{_symbol_svg(data, symbology)}"
        f'<text x="50" y="{100 + text_h * 0.62:.2f}" font-family="monospace" '
        f'font-size="{font:.2f}" text-anchor="middle" fill="#000">{html.escape(code)}</text>'
        "</svg>"
    )


def label_png(data: str, *, mm: int, symbology: Symbology = "qr") -> bytes:
    """The symbol alone as a PNG of `mm` millimetres at 300 dpi (whole pixels per module)."""
    px = mm / 25.4 * DPI
    out = io.BytesIO()
    if symbology == "qr":
        qr = segno.make(data, error="q", micro=False)
        modules = qr.symbol_size(border=4)[0]
        qr.save(out, kind="png", scale=max(1, round(px / modules)), border=4, dpi=DPI)
        return out.getvalue()
    enc = DataMatrixEncoder(data, quiet_zone=2)
    modules = len(enc.matrix) + 4
    return enc.get_imagedata(cellsize=max(1, round(px / modules)))
