"""Draws the app icons in static/ (a sun over a roof): run after changing the design.

    pip install pillow && python3 tools/make_icons.py

The maskable icon keeps its drawing inside the central 80 % that Android's masks never cut.
"""
from PIL import Image, ImageDraw

INK = (29, 35, 48)
SUN = (245, 163, 0)
GLOW = (92, 70, 20)
ROOF = (255, 255, 255)


def icon(size, pad_ratio, path):
    s = size * 4  # drawn large, then reduced, for smooth edges
    img = Image.new("RGB", (s, s), INK)
    d = ImageDraw.Draw(img)
    c = s / 2
    r = s * 0.5 * (1 - pad_ratio)
    lift = r * 0.12
    ring = r * 0.78
    d.ellipse([c - ring, c - ring - lift, c + ring, c + ring - lift], fill=GLOW)
    sun = r * 0.58
    d.ellipse([c - sun, c - sun - lift, c + sun, c + sun - lift], fill=SUN)
    w = r * 0.16
    y = c + r * 0.55
    d.polygon(
        [
            (c - r * 0.95, y + w),
            (c, y - r * 0.35),
            (c + r * 0.95, y + w),
            (c + r * 0.95, y + 2 * w),
            (c, y - r * 0.35 + w),
            (c - r * 0.95, y + 2 * w),
        ],
        fill=ROOF,
    )
    img.resize((size, size), Image.LANCZOS).save(path, optimize=True)


if __name__ == "__main__":
    icon(192, 0.12, "static/icon-192.png")
    icon(512, 0.12, "static/icon-512.png")
    icon(512, 0.30, "static/icon-maskable-512.png")
    icon(180, 0.12, "static/apple-touch-icon.png")
