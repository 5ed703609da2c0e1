"""The reconnect and renewal rules without sockets or clocks: which step comes next, and how long to wait."""

from __future__ import annotations

from market_client._recovery import Recovery, Step, TokenLife


def connected(want_md: bool = True) -> Recovery:
    """A client whose links are whole, as after connect()."""
    recovery = Recovery(want_md=want_md, reconnect_delay=(0.1, 5.0), rng=lambda: 1.0)
    recovery.opened("cmd")
    recovery.done(Step.IDENTIFY)
    if want_md:
        recovery.opened("md")
    recovery.state = "connected"
    return recovery


def walk(recovery: Recovery, refuse: Step | None = None) -> list[Step]:
    """Take every step the recovery asks for (each succeeding, but `refuse`, once); return them in order."""
    recovery.begin()
    taken: list[Step] = []
    while (step := recovery.next_step()) is not None:
        taken.append(step)
        assert len(taken) < 20, taken
        if step is refuse:
            refuse = None
            recovery.refused(step)
            continue
        if step in (Step.RENEW_TOKEN, Step.NEW_SESSION):
            recovery.token_adopted()
        elif step is Step.OPEN_CMD:
            recovery.opened("cmd")
        elif step is Step.OPEN_MD:
            recovery.opened("md")
        recovery.done(step)
    return taken


def test_a_dropped_cmd_renews_the_token_reopens_identifies_and_hands_md_the_new_token() -> None:
    recovery = connected()
    assert recovery.closed("cmd", 1006) is True
    assert recovery.state == "reconnecting"
    assert walk(recovery) == [Step.RENEW_TOKEN, Step.OPEN_CMD, Step.IDENTIFY, Step.RENEW_MD, Step.RESEED_CANDLES]
    assert (recovery.state, recovery.attempt) == ("connected", 0)


def test_a_dropped_md_alone_reopens_md_only() -> None:
    recovery = connected()
    recovery.closed("md", 1006)
    assert walk(recovery) == [Step.OPEN_MD, Step.RESEED_CANDLES]


def test_a_token_close_code_closes_cmd_too_and_starts_a_new_session() -> None:
    recovery = connected()
    recovery.closed("md", 4001)  # the server no longer takes the token, which CMD holds too
    assert walk(recovery) == [
        Step.CLOSE_CMD,
        Step.NEW_SESSION,
        Step.OPEN_CMD,
        Step.IDENTIFY,
        Step.OPEN_MD,
        Step.RESEED_CANDLES,
    ]
    assert recovery.token_refused is False


def test_a_refused_renewal_falls_back_to_a_new_session() -> None:
    recovery = connected()
    recovery.closed("cmd", 1012)  # a server restart forgets every session
    steps = walk(recovery, refuse=Step.RENEW_TOKEN)
    assert steps[:3] == [Step.RENEW_TOKEN, Step.NEW_SESSION, Step.OPEN_CMD]


def test_a_client_without_md_never_opens_it() -> None:
    recovery = connected(want_md=False)
    recovery.closed("cmd", 1006)
    assert walk(recovery) == [Step.RENEW_TOKEN, Step.OPEN_CMD, Step.IDENTIFY, Step.RESEED_CANDLES]


def test_a_failed_attempt_starts_over_after_a_growing_backoff() -> None:
    recovery = connected()
    recovery.closed("cmd", 1006)
    recovery.begin()
    assert recovery.next_step() is Step.RENEW_TOKEN
    recovery.token_adopted()
    recovery.done(Step.RENEW_TOKEN)
    assert recovery.next_step() is Step.OPEN_CMD  # and opening fails, again and again:
    assert [recovery.failed() for _ in range(8)] == [0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 5.0, 5.0]
    recovery.begin()
    assert recovery.next_step() is Step.RENEW_TOKEN  # a new attempt renews again: time has passed
    assert walk(recovery)[-1] is Step.RESEED_CANDLES
    assert recovery.attempt == 0  # whole again: the next drop backs off from the start
    assert recovery.failed() == 0.1


def test_a_link_lost_during_an_attempt_is_restored_in_the_same_attempt() -> None:
    recovery = connected()
    recovery.closed("cmd", 1006)
    recovery.begin()
    for step in (Step.RENEW_TOKEN, Step.OPEN_CMD, Step.IDENTIFY):
        assert recovery.next_step() is step
        if step is Step.OPEN_CMD:
            recovery.opened("cmd")
        recovery.done(step)
    recovery.closed("md", 1006)
    assert recovery.next_step() is Step.OPEN_MD
    assert recovery.state == "resyncing"


def test_a_whoami_that_fails_leaves_cmd_unidentified_for_the_next_attempt() -> None:
    recovery = connected()
    recovery.closed("cmd", 1006)
    recovery.begin()
    recovery.done(Step.RENEW_TOKEN)
    recovery.opened("cmd")
    recovery.done(Step.OPEN_CMD)
    assert recovery.next_step() is Step.IDENTIFY
    recovery.failed()
    recovery.begin()
    assert recovery.next_step() is Step.IDENTIFY  # CMD is up but nobody knows who it is yet


def test_closes_while_connecting_or_closed_do_not_reconnect_or_change_the_state() -> None:
    connecting = Recovery(want_md=True, reconnect_delay=(0.1, 5.0))
    connecting.state = "connecting"
    assert connecting.closed("cmd", 1006) is True and connecting.state == "connecting"
    closed = Recovery(want_md=True, reconnect_delay=(0.1, 5.0))
    closed.close()
    assert closed.closed("md", 1006) is False and closed.state == "closed"


def test_a_token_is_renewed_after_two_thirds_of_its_life_and_retried_soon() -> None:
    life = TokenLife()
    assert life.renew_in(0) == 3600.0  # no expiry given
    life.adopt("t1", 900_000)
    assert (life.token, life.renew_in(0)) == ("t1", 600.0)
    assert life.retry_in(0) == 1.0
    assert life.retry_in(899_990) == 0.05  # at the very end: as soon as the floor allows
    life.adopt("t2", "soon")
    assert life.expires_at is None
