"""Admin ops on accounts: create, change role, disable, reset password, import a class; roles checked."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from hftsim.testing import ServerProcess, server_process

from .conftest import Wire, close_code, handshake, login, open_wire


@pytest.fixture(scope="module")
def classroom(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with server_process(tmp_path_factory.mktemp("class"), admins={"prof": "prof-pass-1"}) as srv:
        yield srv


@pytest.fixture
async def prof(classroom: ServerProcess) -> AsyncIterator[Wire]:
    wire = await login(classroom.url, username="prof", password="prof-pass-1")
    yield wire
    await wire.ws.close()


async def login_code(url: str, username: str, password: str) -> str:
    wire = await open_wire(url, "/ws/cmd", handshake(url)["token"])
    code = await wire.error("auth.login", {"username": username, "password": password})
    await wire.ws.close()
    return code


async def test_create_change_role_disable_enable(classroom: ServerProcess, prof: Wire) -> None:
    made = await prof.ok("admin.user_create", {"username": "dora", "role": "viewer"})
    assert made["user"]["roles"] == ["viewer"] and not made["user"]["disabled"]
    password = made["password"]
    assert isinstance(password, str) and len(password) >= 12
    assert await prof.error("admin.user_create", {"username": "dora"}) == "USER_EXISTS"

    dora = await login(classroom.url, username="dora", password=password)
    assert await dora.error("order.place", {"sym": "ACME", "side": "buy", "price": "99", "qty": 1}) == "FORBIDDEN"
    # A new role applies to the live session's next request.
    assert (await prof.ok("admin.user_update", {"username": "dora", "role": "trader"}))["user"]["role"] == "trader"
    assert (await dora.ok("order.place", {"sym": "ACME", "side": "buy", "price": "99", "qty": 1}))["order"]
    assert await dora.error("admin.users") == "FORBIDDEN"

    # Disabling logs every session out at once and refuses new logins.
    assert (await prof.ok("admin.user_update", {"username": "dora", "disabled": True}))["user"]["disabled"]
    assert await close_code(dora) == 4003
    assert await login_code(classroom.url, "dora", password) == "ACCOUNT_DISABLED"
    listed = {u["username"]: u for u in (await prof.ok("admin.users"))["users"]}
    assert listed["dora"]["disabled"] is True and listed["prof"]["is_admin"] is True
    await prof.ok("admin.user_update", {"username": "dora", "disabled": False})
    back = await login(classroom.url, username="dora", password=password)
    await back.ws.close()


async def test_reset_password_logs_the_user_out(classroom: ServerProcess, prof: Wire) -> None:
    await prof.ok("admin.user_create", {"username": "eve", "password": "eve-pass-1"})
    eve = await login(classroom.url, username="eve", password="eve-pass-1")
    given = await prof.ok("admin.user_password", {"username": "eve", "password": "eve-pass-2"})
    assert given["password"] is None
    assert await close_code(eve) == 4003
    assert await login_code(classroom.url, "eve", "eve-pass-1") == "INVALID_CREDENTIALS"
    generated = (await prof.ok("admin.user_password", {"username": "eve"}))["password"]
    assert await login_code(classroom.url, "eve", "eve-pass-2") == "INVALID_CREDENTIALS"
    again = await login(classroom.url, username="eve", password=generated)
    await again.ws.close()


async def test_bad_targets_and_fields(prof: Wire) -> None:
    assert await prof.error("admin.user_update", {"username": "nobody", "disabled": True}) == "UNKNOWN_USER"
    assert await prof.error("admin.user_password", {"username": "nobody"}) == "UNKNOWN_USER"
    assert await prof.error("admin.user_update", {"username": "prof", "disabled": True}) == "INVALID_FIELD"
    assert await prof.error("admin.user_create", {"username": "x y"}) == "INVALID_FIELD"
    assert await prof.error("admin.user_create", {"username": "weak", "password": "weak"}) == "INVALID_FIELD"
    assert await prof.error("admin.users_import", {"csv": "okay1\nweak2,password\n"}) == "INVALID_FIELD"
    assert await prof.error("admin.user_create", {"username": "zed", "role": "root"}) == "INVALID_FIELD"
    await prof.ok("admin.user_create", {"username": "zed"})
    assert await prof.error("admin.user_update", {"username": "zed", "disabled": "yes"}) == "INVALID_FIELD"


async def test_import_a_class_with_a_sheet(classroom: ServerProcess, prof: Wire) -> None:
    csv = "username,password,role\nstu1,stu1-pass-1\nstu2\nstu3,,viewer\n"
    out = await prof.ok("admin.users_import", {"csv": csv, "address": "http://class.example"})
    rows = {u["username"]: u for u in out["users"]}
    assert rows["stu1"]["password"] == "stu1-pass-1" and rows["stu3"]["role"] == "viewer"
    assert out["sheet"].count('class="card"') == 3 and rows["stu2"]["password"] in out["sheet"]
    for name, row in rows.items():
        wire = await login(classroom.url, username=name, password=row["password"])
        await wire.ws.close()
    # All or nothing: one taken name adds none.
    assert await prof.error("admin.users_import", {"csv": "stu9\nstu1\n"}) == "USER_EXISTS"
    assert await login_code(classroom.url, "stu9", "whatever") == "INVALID_CREDENTIALS"
    assert await prof.error("admin.users_import", {"csv": "stu9\nstu9\n"}) == "INVALID_FIELD"


@pytest.mark.parametrize(
    ("op", "payload"),
    [
        ("admin.user_create", {"username": "sneaky"}),
        ("admin.user_update", {"username": "prof", "disabled": True}),
        ("admin.user_password", {"username": "prof"}),
        ("admin.users_import", {"csv": "sneaky\n"}),
    ],
)
async def test_traders_and_admins_acting_as_traders_are_refused(
    classroom: ServerProcess, prof: Wire, op: str, payload: dict[str, object]
) -> None:
    guest = await login(classroom.url, guest=True)
    assert await guest.error(op, payload) == "FORBIDDEN"
    await guest.ws.close()
    assert await prof.error(op, payload, **{"as": "trader"}) == "FORBIDDEN"


async def test_cli_manages_accounts_and_imports_a_class(tmp_path: Path) -> None:
    srv = ServerProcess(tmp_path / "data")
    (tmp_path / "class.csv").write_text("ann,ann-pass-1\nben\n")
    printed = srv.cli("users", "import", str(tmp_path / "class.csv"), "--sheet", str(tmp_path / "sheet.html"))
    lines = printed.splitlines()
    assert lines[0] == "username,password,role" and lines[1] == "ann,ann-pass-1,trader"
    ben_password = lines[2].split(",")[1]
    assert ben_password in (tmp_path / "sheet.html").read_text()
    srv.cli("users", "role", "ann", "viewer")
    srv.cli("users", "disable", "ben")
    listing = srv.cli("users", "list")
    assert "viewer" in listing and "disabled" in listing
    new_password = srv.cli("users", "password", "ann").rsplit(" ", 1)[1].strip()
    srv.start()
    try:
        assert await login_code(srv.url, "ben", ben_password) == "ACCOUNT_DISABLED"
        assert await login_code(srv.url, "ann", "ann-pass-1") == "INVALID_CREDENTIALS"
        viewer = await login(srv.url, username="ann", password=new_password)
        order = {"sym": "ACME", "side": "buy", "price": "1", "qty": 1}
        assert await viewer.error("order.place", order) == "FORBIDDEN"
        await viewer.ws.close()
        srv.cli("users", "enable", "ben")
        ben = await login(srv.url, username="ben", password=ben_password)
        await ben.ws.close()
    finally:
        srv.stop()
