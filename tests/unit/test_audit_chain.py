"""The hash-chained audit log: every kind of tampering is found and named at the right event.

Events are built with the real `AuditEvent.body` and `chain_hash`, exactly as the audit
repository appends them; tampering is done to the stored records the way someone with write
access to the table or to an exported file would do it.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from appwarden.core.events import (
    GENESIS,
    AuditEvent,
    EventType,
    StoredEvent,
    chain_hash,
    verify_chain,
)

T0 = datetime(2020, 7, 1, 16, 0, tzinfo=UTC)


def chain(n: int) -> list[StoredEvent]:
    out: list[StoredEvent] = []
    prev = GENESIS
    for seq in range(1, n + 1):
        event = AuditEvent(
            EventType.POLICY_APPLIED,
            actor="ciso@corp.example",
            at=T0 + timedelta(minutes=seq),
            subject=f"policy-{seq}",
            reason="CISO directive 2020-07",
            after={"version": seq},
        )
        body = event.body(seq)
        digest = chain_hash(prev, body)
        out.append(StoredEvent(seq, body, prev, digest))
        prev = digest
    return out


def forged(seq: int, after: StoredEvent) -> StoredEvent:
    """A well-formed event someone chains to `after` and slips into the log."""
    body = AuditEvent(EventType.EXEMPTION_GRANTED, "intruder@corp.example", T0).body(seq)
    return StoredEvent(seq, body, after.hash, chain_hash(after.hash, body))


def found(events: list[StoredEvent]) -> list[tuple[int, str]]:
    return [(p.seq, p.kind) for p in verify_chain(events)]


def edit(event: StoredEvent, rehash: bool = False, **changes: object) -> StoredEvent:
    body = {**event.body, **changes}
    digest = chain_hash(event.prev_hash, body) if rehash else event.hash
    return replace(event, body=body, hash=digest)


def test_an_intact_chain_and_an_empty_one_have_no_problems() -> None:
    assert found(chain(6)) == []
    assert found([]) == []


def test_the_hash_covers_every_field_and_the_previous_hash() -> None:
    events = chain(2)
    body = dict(events[1].body)
    assert chain_hash(events[1].prev_hash, body) == events[1].hash
    for key in body:
        assert chain_hash(events[1].prev_hash, {**body, key: "x"}) != events[1].hash, key
    assert chain_hash(GENESIS, body) != events[1].hash


@pytest.mark.parametrize("field", ["actor", "reason", "subject", "at", "after", "type"])
def test_an_edited_event_is_named(field: str) -> None:
    events = chain(5)
    events[2] = edit(events[2], **{field: "tampered"})
    assert found(events) == [(3, "edited")]


def test_an_edited_sequence_number_is_an_edit_of_that_event() -> None:
    events = chain(5)
    events[2] = edit(events[2], seq=7)
    assert found(events) == [(3, "edited")]


def test_an_edit_whose_hash_was_recomputed_is_named_by_the_broken_link() -> None:
    events = chain(5)
    events[2] = edit(events[2], rehash=True, actor="someone-else@corp.example")
    assert found(events) == [(3, "edited")]
    first = chain(5)
    first[0] = edit(first[0], rehash=True, reason="nothing to see")
    assert found(first) == [(1, "edited")]


def test_a_first_event_that_does_not_start_from_genesis_is_named() -> None:
    events = chain(3)
    body = dict(events[0].body)
    other = "f" * 64
    events[0] = StoredEvent(1, body, other, chain_hash(other, body))
    assert found(events) == [(1, "edited")]


@pytest.mark.parametrize(
    ("drop", "want", "detail"),
    [
        ({3}, [(3, "removed")], "event 3 is missing"),
        ({3, 4}, [(3, "removed")], "events 3-4 are missing"),
        ({1}, [(1, "removed")], "event 1 is missing"),
        ({2, 5}, [(2, "removed"), (5, "removed")], "event 2 is missing"),
    ],
)
def test_removed_events_are_named_by_their_own_numbers(
    drop: set[int], want: list[tuple[int, str]], detail: str
) -> None:
    events = [e for e in chain(6) if e.seq not in drop]
    problems = verify_chain(events)
    assert [(p.seq, p.kind) for p in problems] == want
    assert problems[0].detail == detail


def test_swapped_records_are_reordered_not_removed() -> None:
    events = chain(5)
    events[2], events[3] = events[3], events[2]  # stored as 1, 2, 4, 3, 5
    problems = verify_chain(events)
    assert [(p.seq, p.kind) for p in problems] == [(4, "reordered")]
    assert problems[0].detail == "stored between events 2 and 3, out of order"


def test_swapped_rows_keep_their_numbers_but_not_their_bodies() -> None:
    """In the table the seq column stays in place and the bodies (with their seq) move."""
    events = chain(5)
    third, fourth = events[2], events[3]
    events[2] = StoredEvent(3, fourth.body, fourth.prev_hash, fourth.hash)
    events[3] = StoredEvent(4, third.body, third.prev_hash, third.hash)
    assert found(events) == [(4, "reordered")]


@pytest.mark.parametrize(
    ("order", "moved"),
    [([5, 1, 2, 3, 4], 5), ([1, 3, 4, 5, 2], 2), ([2, 1, 3, 4, 5], 2)],
)
def test_a_moved_event_is_the_one_named(order: list[int], moved: int) -> None:
    events = {e.seq: e for e in chain(5)}
    assert found([events[s] for s in order]) == [(moved, "reordered")]


def test_an_inserted_event_with_a_taken_number_is_named() -> None:
    events = chain(5)
    intruder = forged(3, after=events[1])
    tampered = [*events[:2], intruder, *events[2:]]
    problems = verify_chain(tampered)
    assert [(p.seq, p.kind) for p in problems] == [(3, "inserted")]
    assert "intruder" not in problems[0].detail  # the detail names positions, not content
    assert problems[0].detail == "a second event 3, chained to event 2, stored after event 2"


def test_an_inserted_event_with_a_new_number_is_named() -> None:
    events = chain(5)
    tampered = [*events[:2], forged(6, after=events[1]), *events[2:]]
    assert found(tampered) == [(6, "inserted")]


def test_an_event_appended_properly_at_the_end_is_part_of_the_chain() -> None:
    events = chain(5)
    assert found([*events, forged(6, after=events[4])]) == []


def test_several_kinds_of_tampering_are_each_named() -> None:
    events = chain(8)
    events[1] = edit(events[1], actor="x")  # edit 2
    del events[4]  # remove 5
    events[5], events[6] = events[6], events[5]  # stored ..., 6, 8, 7
    assert found(events) == [(2, "edited"), (5, "removed"), (8, "reordered")]


# -- properties over chains of any length ----------------------------------------------------


@given(st.integers(2, 30).flatmap(lambda n: st.tuples(st.just(n), st.integers(1, n - 1))))
def test_removing_any_event_but_the_last_names_exactly_it(case: tuple[int, int]) -> None:
    n, gone = case
    assert found([e for e in chain(n) if e.seq != gone]) == [(gone, "removed")]


@given(
    st.integers(2, 30).flatmap(
        lambda n: st.tuples(st.just(n), st.sets(st.integers(1, n), min_size=2, max_size=2))
    )
)
def test_swapping_any_two_events_is_a_reorder_of_at_most_two(case: tuple[int, set[int]]) -> None:
    """No removal or edit is claimed; a swap of neighbours names one of them."""
    n, pair = case
    a, b = sorted(pair)
    events = chain(n)
    events[a - 1], events[b - 1] = events[b - 1], events[a - 1]
    problems = found(events)
    assert 1 <= len(problems) <= 2
    assert {kind for _, kind in problems} == {"reordered"}
    if b == a + 1:
        assert problems in ([(a, "reordered")], [(b, "reordered")])


@given(st.integers(1, 30).flatmap(lambda n: st.tuples(st.just(n), st.integers(1, n))))
def test_editing_any_event_names_exactly_it(case: tuple[int, int]) -> None:
    n, target = case
    events = chain(n)
    events[target - 1] = edit(events[target - 1], reason="changed later")
    assert found(events) == [(target, "edited")]


def test_a_batch_continues_the_chain_from_an_event_verified_before() -> None:
    events = chain(7)
    verified, batch = events[2], events[3:]
    assert found_after(batch, verified) == []
    assert found_after([e for e in batch if e.seq != 5], verified) == [(5, "removed")]
    assert found_after(batch[1:], verified) == [(4, "removed")]
    assert found_after([batch[1], batch[0], *batch[2:]], verified) == [(5, "reordered")]
    edited = [batch[0], edit(batch[1], actor="x"), *batch[2:]]
    assert found_after(edited, verified) == [(5, "edited")]


def test_a_batch_that_does_not_chain_to_the_verified_event_is_named() -> None:
    events = chain(5)
    rewritten = edit(events[2], rehash=True, reason="rewritten after verification")
    problems = verify_chain(events[3:], rewritten)
    assert [(p.seq, p.kind) for p in problems] == [(4, "edited")]
    assert problems[0].detail == "does not chain to event 3, verified before"
    stale = StoredEvent(2, events[1].body, events[1].prev_hash, events[1].hash)
    assert found_after([stale, *events[3:]], events[2]) == [(2, "reordered")]


def found_after(events: list[StoredEvent], after: StoredEvent) -> list[tuple[int, str]]:
    return [(p.seq, p.kind) for p in verify_chain(events, after)]
