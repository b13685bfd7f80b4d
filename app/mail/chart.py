"""A chart as PNG for mail bodies, drawn by matplotlib with a font that has Chinese characters. Without
such a font (or without matplotlib) there is no PNG: the mail goes without it rather than with boxes."""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from decimal import Decimal

log = logging.getLogger(__name__)

CJK_FONTS = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "SimHei",
    "Microsoft YaHei",
    "PingFang SC",
    "AR PL UMing CN",
)


def cjk_font() -> str | None:
    """The name of an installed font that draws Chinese, or None."""
    try:
        from matplotlib import font_manager
    except ImportError:
        return None
    installed = {f.name for f in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FONTS if name in installed), None)


def bar_png(title: str, labels: Sequence[str], values: Sequence[Decimal]) -> bytes | None:
    """A bar chart of `values` by `labels`, or None when it cannot be drawn readably."""
    font = cjk_font()
    if font is None or not labels:
        return None
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 3.5), dpi=100)
    try:
        axes.bar(list(labels), [float(v) for v in values], color="#3a7bd5")  # drawing only: pixels, not money
        axes.set_title(title, fontname=font)
        for tick in axes.get_xticklabels():
            tick.set_fontname(font)
        figure.autofmt_xdate(rotation=30)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", bbox_inches="tight")
        return buffer.getvalue()
    finally:
        plt.close(figure)
