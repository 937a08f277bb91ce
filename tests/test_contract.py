"""One behavioural contract for both test doubles: the conformance suite.

Every check of ``tests/_contract_cases.py`` runs against FakeTranscribe and against
LocalTranscribe through one parametrised fixture, ``double``, on asyncio with real
aiobotocore clients for the local test bed. The bed is made once for the module
(reset before each check), with the same small caps and ``run_time`` as the fake.

The other tests here pin the service's wire names with literals: the doubles'
table and the core's are each compared to them, and to botocore's model.
"""

from __future__ import annotations

import ast
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest

from transcribe_poller import JobKind
from transcribe_poller.testing import FakeTranscribe, LocalTranscribe, TranscribeDouble

from ._contract_cases import CAPS, CHECKS, KINDS, REGION, RUN_TIME

pytestmark = pytest.mark.anyio

TESTING = Path(__file__).resolve().parent.parent / "src" / "transcribe_poller" / "testing"


@pytest.fixture(scope="module")
def local_transcribe_contract() -> Iterator[LocalTranscribe]:
    """One local test bed for the module, made as the fake is made."""
    with LocalTranscribe(region=REGION, concurrency=CAPS, run_time=RUN_TIME) as bed:
        yield bed


@pytest.fixture(params=["fake", "local"])
async def double(request: pytest.FixtureRequest) -> AsyncIterator[TranscribeDouble]:
    """Each double in turn, fresh: a new FakeTranscribe, or the module's bed reset."""
    if request.param == "fake":
        yield FakeTranscribe(region=REGION, concurrency=CAPS, run_time=RUN_TIME)
        return
    bed: LocalTranscribe = request.getfixturevalue("local_transcribe_contract")
    bed.reset()
    try:
        yield bed
    finally:
        bed.reset()


@pytest.mark.parametrize("check", CHECKS, ids=[check.__name__[6:] for check in CHECKS])
async def test_contract(
    double: TranscribeDouble, check: Callable[[TranscribeDouble], Awaitable[None]]
) -> None:
    """Both doubles behave as the check says (see each check's docstring)."""
    await check(double)


# -- the tables, pinned -----------------------------------------------------------------


def test_the_doubles_table_is_the_pinned_one() -> None:
    """Each kind's row in the doubles' own table equals the literal pins."""
    from transcribe_poller.testing._service import WIRE

    for value, pin in KINDS.items():
        row = WIRE[JobKind(value)]
        assert (
            row.start_method,
            row.get_method,
            row.list_method,
            row.start_operation,
            row.get_operation,
            row.list_operation,
            row.name_field,
            row.job_field,
            row.status_field,
            row.summaries_field,
            row.event,
        ) == (
            pin.start,
            pin.get,
            pin.list,
            pin.start_operation,
            pin.get_operation,
            pin.list_operation,
            pin.name,
            pin.job,
            pin.status,
            pin.summaries,
            pin.event,
        ), value


def test_the_core_tables_are_the_pinned_ones() -> None:
    """The core's table of kinds and its table of events agree with the literal pins,
    so a wrong entry there fails here, in memory, and not only against AWS."""
    from transcribe_poller._kinds import KINDS as CORE
    from transcribe_poller._messages import DETAIL_TYPES

    assert {kind.value for kind in CORE} == set(KINDS)
    for value, pin in KINDS.items():
        row = CORE[JobKind(value)]
        assert (
            row.get_method,
            row.list_method,
            row.get_operation,
            row.list_operation,
            row.name_field,
            row.job_field,
            row.status_field,
            row.summaries_field,
        ) == (
            pin.get,
            pin.list,
            pin.get_operation,
            pin.list_operation,
            pin.name,
            pin.job,
            pin.status,
            pin.summaries,
        ), value
    pinned_events = {
        pin.event[0]: (JobKind(value), *pin.event[1:]) for value, pin in KINDS.items() if pin.event
    }
    assert dict(DETAIL_TYPES) == pinned_events


def test_the_pins_are_botocores() -> None:
    """Every pinned operation, method and field is one of botocore's model."""
    import botocore.session
    from botocore import xform_name

    model = botocore.session.get_session().get_service_model("transcribe")
    for value, pin in KINDS.items():
        for operation, method in (
            (pin.start_operation, pin.start),
            (pin.get_operation, pin.get),
            (pin.list_operation, pin.list),
        ):
            assert xform_name(operation) == method, value
        get = model.operation_model(pin.get_operation)
        assert pin.name in get.input_shape.required_members
        job = get.output_shape.members[pin.job]
        assert {pin.name, pin.status} <= set(job.members), value
        summaries = model.operation_model(pin.list_operation).output_shape.members
        assert {pin.name, pin.status} <= set(summaries[pin.summaries].member.members), value
        start = model.operation_model(pin.start_operation).input_shape
        assert set(start.required_members) == {pin.name, *pin.required}, value


# -- the kit's layout -----------------------------------------------------------------------


def _imports(path: Path) -> set[str]:
    """The testing modules ``path`` imports, deferred and TYPE_CHECKING ones included."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                found.add(node.module)
            else:
                found.update(alias.name for alias in node.names)
    return found & {p.stem for p in TESTING.glob("*.py")}


def test_the_testing_kit_has_no_import_circle() -> None:
    """No module of the testing kit imports, however indirectly, one that imports it
    back (imports under TYPE_CHECKING and inside functions count)."""
    graph = {path.stem: _imports(path) for path in TESTING.glob("*.py")}
    assert {"_fake", "_fakequeue", "_bed", "_control"} <= set(graph)

    def reaches(start: str, goal: str) -> bool:
        seen, todo = set(), [start]
        while todo:
            for nxt in graph.get(todo.pop(), ()):
                if nxt == goal:
                    return True
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return False

    circles = sorted(name for name in graph if name != "__init__" and reaches(name, name))
    assert circles == []
