"""CSV downloads for admins: a round's scores, over plain HTTP with the Bearer token.

A spreadsheet is where an instructor's results end up, so the export is
CSV with a header row, one line per participant (bots included, flagged),
ranked as `rounds.get` ranks them.
"""

from __future__ import annotations

import csv
import io

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ..protocol.errors import ErrorCode, ProtocolError
from ..protocol.roles import Role
from .dispatch import Dispatcher
from .http import bearer, handshake_error

router = APIRouter()
EXPORT_STATUS: dict[str, int] = {ErrorCode.FORBIDDEN: 403, ErrorCode.UNKNOWN_ROUND: 404}

COLUMNS = [
    "rank",
    "user_id",
    "username",
    "is_bot",
    "pnl",
    "fees",
    "max_drawdown",
    "sharpe",
    "volume",
    "notional",
    "fills",
    "breaches",
]


@router.get("/rounds/{round_id}.csv")
async def round_csv(round_id: int, request: Request) -> Response:
    dispatcher: Dispatcher = request.app.state.dispatcher
    venue = dispatcher.venue
    try:
        user = venue.sessions.resolve(bearer(request)).session.user
        if user is None or user.role < Role.ADMIN:
            raise ProtocolError(ErrorCode.FORBIDDEN, "the results export needs the admin role")
        info, rows = venue.rounds.result(round_id)
    except ProtocolError as exc:
        status = EXPORT_STATUS.get(exc.code)
        reply = handshake_error(exc)
        if status is not None:
            reply.status_code = status
        return reply
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["round_id", "round", *COLUMNS])
    for row in rows:
        writer.writerow([info.round_id, info.name, *("" if row[c] is None else row[c] for c in COLUMNS)])
    filename = f"round-{info.round_id}.csv"
    return Response(
        out.getvalue(),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
