"""A misspelt key in any table, or a misspelt HFTSIM_ variable, stops the start and names the key it meant."""

from __future__ import annotations

from pathlib import Path

import pytest

from hftsim.config import ConfigError, load


def problems(tmp_path: Path, toml: str) -> str:
    path = tmp_path / "my.toml"
    path.write_text(toml)
    with pytest.raises(ConfigError) as exc:
        load(path)
    return str(exc.value)


@pytest.mark.parametrize(
    ("toml", "offending", "meant"),
    [
        ("[session]\nalow_guests = false\n", "session.alow_guests", "session.allow_guests"),
        ("[sesion]\nallow_guests = false\n", "sesion", "session"),
        (
            "[traffic]\nper_user = { burst = 1, per_secnd = 1 }\n",
            "traffic.per_user.per_secnd",
            "traffic.per_user.per_second",
        ),
        ("[sim.symbols.ACME]\nvolatilty = 0.5\n", "sim.symbols.ACME.volatilty", "sim.symbols.ACME.volatility"),
        ("[sim.agents]\nmarket_maker = 1\n", "sim.agents.market_maker", "sim.agents.market_makers"),
        ('[[symbols]]\nsym = "X"\ntik = "0.01"\ntick = "0.01"\nref_price = "1"\n', "symbols.0.tik", "symbols.0.tick"),
        ("[journal]\nsnapshot = 5000\n", "journal.snapshot", "journal.snapshot_every"),
    ],
)
def test_an_unknown_key_names_itself_and_the_nearest_valid_one(
    tmp_path: Path, toml: str, offending: str, meant: str
) -> None:
    assert f"  {offending}: unknown setting; did you mean {meant}?" in problems(tmp_path, toml).splitlines()


def test_a_key_near_nothing_is_still_refused(tmp_path: Path) -> None:
    message = problems(tmp_path, "[server]\nzzzzzz = 1\n")
    assert "server.zzzzzz: unknown setting" in message
    assert "did you mean" not in message


def test_every_problem_is_listed_at_once(tmp_path: Path) -> None:
    message = problems(tmp_path, "[session]\nalow_guests = false\ntoken_ttl_s = -1\n")
    assert "session.alow_guests" in message
    assert "session.token_ttl_s" in message


@pytest.mark.parametrize(
    ("variable", "meant"),
    [
        ("HFTSIM_SESION__ALLOW_GUESTS", "HFTSIM_SESSION__ALLOW_GUESTS"),
        ("HFTSIM_SESSION__ALOW_GUESTS", "HFTSIM_SESSION__ALLOW_GUESTS"),
        ("HFTSIM_TRAFFIC__PER_USER__BRUST", "HFTSIM_TRAFFIC__PER_USER__BURST"),
        ("HFTSIM_SIM__SYMBOLS__ACME__VOLATILTY", "HFTSIM_SIM__SYMBOLS__ACME__VOLATILITY"),
    ],
)
def test_an_unknown_variable_names_itself_and_the_nearest_valid_one(
    monkeypatch: pytest.MonkeyPatch, variable: str, meant: str
) -> None:
    monkeypatch.setenv(variable, "1")
    with pytest.raises(ConfigError) as exc:
        load()
    assert f"{variable}: unknown name" in str(exc.value)
    assert f"did you mean {meant}?" in str(exc.value)


def test_known_variables_apply_and_tool_variables_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HFTSIM_TRAFFIC__PER_USER__BURST", "7")
    monkeypatch.setenv("HFTSIM_SESSION", '{"allow_guests": false}')
    monkeypatch.setenv("HFTSIM_CHROMIUM", "/usr/bin/chromium")
    monkeypatch.setenv("HFTSIM_ADMIN_PASSWORD", "for hftsim bots")
    settings = load()
    assert settings.traffic.per_user.burst == 7
    assert settings.session.allow_guests is False


def test_a_whole_table_as_json_is_checked_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HFTSIM_SESSION", '{"alow_guests": false}')
    with pytest.raises(ConfigError, match=r"session\.alow_guests: unknown setting; did you mean session\.allow_guests"):
        load()


def test_a_file_changes_only_the_keys_it_names_in_nested_tables(tmp_path: Path) -> None:
    """A user's `[sim.defaults]` keeps the shipped per-symbol settings, and a per-symbol key keeps the symbol's
    other shipped keys, as the environment variables do (a shallow merge dropped every `[sim.symbols.*]`)."""
    shipped = load().sim
    path = tmp_path / "my.toml"
    path.write_text("[sim.defaults]\nimpact = 0.5\n\n[sim.symbols.BOLT]\nvolatility = 0.3\n")
    sim = load(path).sim
    assert sim.defaults.impact == 0.5
    assert sim.for_symbol("DUNE").volatility == shipped.for_symbol("DUNE").volatility != sim.defaults.volatility
    assert sim.for_symbol("BOLT").volatility == 0.3
    assert (
        sim.for_symbol("BOLT").liquidity_rate
        == shipped.for_symbol("BOLT").liquidity_rate
        != sim.defaults.liquidity_rate
    )
    assert sim.for_symbol("BOLT").impact == 0.5
