"""The printable sheet of credentials handed out to a class: one card per account.

Both the `admin.users_import` op and `hftsim users import --sheet` produce
it, so a class gets the same sheet whichever way its accounts were made.
"""

from __future__ import annotations

from html import escape

from .roster import Entry

STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5cm;color:#000}
h1{font-size:16pt;margin:0 0 .2cm}
p.note{font-size:9pt;margin:0 0 .6cm}
.cards{display:grid;grid-template-columns:repeat(2,1fr);gap:.4cm}
.card{border:1px dashed #555;padding:.35cm .5cm;break-inside:avoid;page-break-inside:avoid}
.card dt{font-size:8pt;color:#444;text-transform:uppercase}
.card dd{margin:0 0 .15cm;font:13pt ui-monospace,monospace}
"""


def credentials_sheet(entries: list[Entry], url: str, title: str = "HFT Simulator accounts") -> str:
    """A self-contained HTML page, one cut-out card per account (address, username, password, role)."""
    cards = "\n".join(
        '<div class="card"><dl>'
        f"<dt>Address</dt><dd>{escape(url)}</dd>"
        f"<dt>Username</dt><dd>{escape(e.username)}</dd>"
        f"<dt>Password</dt><dd>{escape(e.password)}</dd>"
        f"<dt>Role</dt><dd>{e.role.label}</dd>"
        "</dl></div>"
        for e in entries
    )
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f"<style>{STYLE}</style></head><body><h1>{escape(title)}</h1>"
        '<p class="note">Cut along the dashed lines and hand each person their card. '
        "The passwords are not stored anywhere else: keep this sheet safe, or reset a password from the admin "
        f'screen.</p><div class="cards">\n{cards}\n</div></body></html>'
    )
