"""Pure views: data and a translator in, text and keyboard out. No I/O, all user text escaped."""

import html as _html


def escape(text: str) -> str:
    """Escape text for Telegram HTML; quotes stay as typed, since they are only special in attributes."""
    return _html.escape(text, quote=False)
