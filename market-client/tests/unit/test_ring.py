import pytest

from market_client._ring import RingBuffer


def test_keeps_the_newest_items_oldest_first() -> None:
    ring: RingBuffer[int] = RingBuffer(3)
    for i in range(5):
        ring.append(i)
    assert ring.items() == [2, 3, 4]
    assert len(ring) == 3 and ring.capacity == 3


def test_limit_returns_the_newest() -> None:
    ring: RingBuffer[int] = RingBuffer(10)
    for i in range(5):
        ring.append(i)
    assert ring.items(2) == [3, 4]
    assert ring.items(0) == []
    assert ring.items(50) == [0, 1, 2, 3, 4]
    with pytest.raises(ValueError):
        ring.items(-1)


def test_shrinking_keeps_the_newest_and_growing_keeps_all() -> None:
    ring: RingBuffer[int] = RingBuffer(10)
    for i in range(8):
        ring.append(i)
    ring.resize(3)
    assert ring.items() == [5, 6, 7]
    ring.resize(5)
    ring.append(8)
    assert ring.items() == [5, 6, 7, 8]


def test_clear() -> None:
    ring: RingBuffer[int] = RingBuffer(2)
    ring.append(1)
    ring.clear()
    assert ring.items() == [] and ring.capacity == 2


@pytest.mark.parametrize("capacity", [0, -1, True, 2.5])
def test_capacity_must_be_a_positive_int(capacity: object) -> None:
    with pytest.raises(ValueError):
        RingBuffer(capacity)  # type: ignore[arg-type]
