"""The console's palette against WCAG 2 contrast: text 4.5:1 on the background it sits on, focus
rings, borders and chart colours 3:1 (non-text), read from the stylesheet the pages load."""

from __future__ import annotations

import re
from importlib.resources import files

CSS = (files("faultmaven_runbooks.adapters.ui") / "static" / "console.css").read_text()
TEXT = 4.5
NON_TEXT = 3.0
# (foreground, background, minimum): every pairing the stylesheet uses.
PAIRS = [
    ("text", "bg", TEXT), ("text", "surface", TEXT), ("muted", "bg", TEXT), ("muted", "surface", TEXT),
    ("link", "bg", TEXT), ("link", "surface", TEXT), ("on-primary", "primary", TEXT), ("primary", "bg", TEXT),
    ("on-danger", "danger", TEXT), ("on-primary", "ok", TEXT), ("ok", "ok-bg", TEXT),
    ("warn-text", "warn-bg", TEXT), ("error-text", "error-bg", TEXT), ("text", "info-bg", TEXT),
    ("nav-text", "nav-bg", TEXT), ("text", "add-bg", TEXT), ("text", "del-bg", TEXT), ("hunk-text", "surface", TEXT),
    ("focus", "bg", NON_TEXT), ("border", "bg", NON_TEXT),
    *((f"chart-{n}", "bg", NON_TEXT) for n in range(1, 6)),
]


def _palette() -> dict[str, str]:
    root = re.search(r":root\s*{([^}]*)}", CSS).group(1)
    return dict(re.findall(r"--([a-z0-9-]+):\s*(#[0-9a-fA-F]{6})", root))


def _luminance(colour: str) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a: str, b: str) -> float:
    light, dark = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_the_formula_matches_known_values():
    assert round(contrast("#000000", "#ffffff"), 1) == 21.0 and contrast("#777777", "#ffffff") < TEXT


def test_every_pairing_of_the_palette_is_readable():
    palette = _palette()
    weak = {(fg, bg): round(contrast(palette[fg], palette[bg]), 2) for fg, bg, need in PAIRS
            if contrast(palette[fg], palette[bg]) < need}
    assert weak == {}
