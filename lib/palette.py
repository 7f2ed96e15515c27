"""One colour per value type, shared by the charts and the chain diagram."""

TYPE_COLOURS = {
    "steady": "#2563eb",
    "cyclic": "#9333ea",
    "bell": "#f59e0b",
    "growth": "#16a34a",
    "shrinking": "#dc2626",
    "burr": "#78716c",
    "insufficient_data": "#cbd5e1",
}
