"""Layout checks a person would make, run inside the page: overflow, small text, actions off screen."""

from __future__ import annotations

from typing import Any

# Visible elements that hold text of their own, with their computed font size (px).
SMALL_TEXT = """(min) => {
  const out = [];
  for (const el of document.querySelectorAll('body *')) {
    if (['SCRIPT', 'STYLE', 'OPTION'].includes(el.tagName)) continue;
    const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!own || !el.getClientRects().length) continue;
    const st = getComputedStyle(el);
    if (st.visibility === 'hidden' || st.display === 'none') continue;
    const size = parseFloat(st.fontSize);
    const text = el.textContent.trim().slice(0, 20);
    if (size < min) out.push(`${el.tagName}#${el.id}.${el.className}: ${size}px "${text}"`);
  }
  return out;
}"""

OVERFLOW = "() => document.documentElement.scrollWidth - window.innerWidth"

# For each selector: is every visible match fully inside the viewport and inside every scrolling box around it
# (an action hidden below the fold of a scrolled panel is off screen as well)?
OFF_SCREEN = """(selectors) => {
  const out = [];
  for (const sel of selectors) {
    for (const el of document.querySelectorAll(sel)) {
      if (!el.getClientRects().length) continue;
      const r = el.getBoundingClientRect();
      let top = 0, left = 0, bottom = window.innerHeight, right = window.innerWidth;
      for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
        const st = getComputedStyle(p);
        if (st.overflowY === 'visible' && st.overflowX === 'visible') continue;
        const c = p.getBoundingClientRect();
        top = Math.max(top, c.top); left = Math.max(left, c.left);
        bottom = Math.min(bottom, c.bottom); right = Math.min(right, c.right);
      }
      if (r.top < top - 0.5 || r.left < left - 0.5 || r.bottom > bottom + 0.5 || r.right > right + 0.5)
        out.push(`${sel} at ${Math.round(r.left)},${Math.round(r.top)}–${Math.round(r.right)},${Math.round(r.bottom)}`);
    }
  }
  return out;
}"""


def small_text(page: Any, minimum: float = 16) -> list[str]:
    """Visible text set smaller than ``minimum`` px."""
    return page.evaluate(SMALL_TEXT, minimum)


def overflow_px(page: Any) -> int:
    """How far the page is wider than the viewport (0 = no horizontal scrolling)."""
    return page.evaluate(OVERFLOW)


def off_screen(page: Any, selectors: list[str]) -> list[str]:
    """Visible elements among ``selectors`` that are not fully inside the viewport."""
    return page.evaluate(OFF_SCREEN, selectors)
