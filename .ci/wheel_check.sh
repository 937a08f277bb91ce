#!/usr/bin/env bash
# The package as a user gets it: build the wheel, install it into a fresh venv outside
# the repository (so nothing is imported from src/), and use it from there: first
# without extras (each command that needs one says which, in one line), then with
# the local and cli extras (--version, a short demo, the pytest plugin's fixtures).
# Only the package registry is reached, for the build backend and the dependencies.
#
#   .ci/wheel_check.sh                  # python3 builds and hosts the venv
#   PYTHON=python3.10 .ci/wheel_check.sh
set -euo pipefail
# A fresh venv: nothing from the caller's environment may point Python elsewhere.
unset PYTHONPATH PYTHONHOME
cd "$(dirname "$0")/.."
repo=$PWD
python=${PYTHON:-python3}
work=$(mktemp -d "${TMPDIR:-/tmp}/transcribe-poller-wheel.XXXXXX")
trap 'rm -rf "$work"' EXIT

step() { printf 'wheel check: %s\n' "$*"; }
fail() { printf 'wheel check FAILED: %s\n' "$*" >&2; exit 1; }

step "building the wheel"
"$python" -m pip wheel --quiet --no-deps --wheel-dir "$work/dist" "$repo"
wheel=$(ls "$work"/dist/transcribe_poller-*.whl)
version=$(basename "$wheel" | cut -d- -f2)

step "installing $(basename "$wheel") without extras into a fresh venv in $work"
"$python" -m venv "$work/venv"
bin=$work/venv/bin
cd "$work"
"$bin/python" -m pip install --quiet --disable-pip-version-check "$wheel"
where=$("$bin/python" -c 'import transcribe_poller; print(transcribe_poller.__file__)')
[[ $where == "$work/venv/"* ]] || fail "transcribe_poller imported from $where, not the venv"

[[ $("$bin/transcribe-poller" --version) == *"$version"* ]] || fail "--version is not $version"

# Without the local extra, demo and local each say in one line what to install.
for command in "demo" "local --port 0"; do
    status=0
    # shellcheck disable=SC2086  # the command's words
    "$bin/transcribe-poller" $command >/dev/null 2>"$work/err" || status=$?
    [[ $status -ne 0 ]] || fail "$command without the local extra exited 0"
    [[ $(wc -l <"$work/err") -eq 1 ]] || { cat "$work/err" >&2; fail "$command: not one line"; }
    grep -q "pip install 'transcribe-poller\[local\]'" "$work/err" \
        || { cat "$work/err" >&2; fail "$command does not name the local extra"; }
done

step "installing the local and cli extras, and pytest"
"$bin/python" -m pip install --quiet --disable-pip-version-check "$wheel[local,cli]" pytest

step "transcribe-poller --version, demo"
"$bin/transcribe-poller" --version
"$bin/transcribe-poller" demo --jobs 5 --longest 3 >"$work/demo.out" 2>&1 || { cat "$work/demo.out" >&2; fail "demo"; }

step "the pytest plugin's fixtures, from a test file of a user's own"
cat >"$work/test_with_the_kit.py" <<'PY'
"""A user's tests: the fixtures come from the installed package's pytest plugin."""

import pytest

from transcribe_poller import Backoff, EventBridgeQueue, Outcome, Poller
from transcribe_poller.testing import FakeTranscribe, LocalTranscribe

FAST = Backoff(initial=0.05, maximum=0.2)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.anyio
async def test_fake(fake_transcribe: FakeTranscribe) -> None:
    """The in-memory double ends a job."""
    fake_transcribe.start_job("job-1", duration=0.2)
    async with Poller(fake_transcribe, backoff=FAST) as poller:
        assert (await poller.wait("job-1")).outcome is Outcome.COMPLETED


@pytest.mark.anyio
async def test_local(local_transcribe: LocalTranscribe) -> None:
    """The local test bed serves a job over HTTP."""
    local_transcribe.start_job("job-2", duration=0.2, fail_with="Invalid sample rate.")
    async with local_transcribe.client() as client, Poller(client, backoff=FAST) as poller:
        event = await poller.wait("job-2")
    assert (event.outcome, event.failure_reason) == (Outcome.FAILED, "Invalid sample rate.")


@pytest.mark.anyio
async def test_local_events(local_transcribe_events: LocalTranscribe) -> None:
    """The local test bed sends the job's state event through EventBridge to SQS."""
    bed = local_transcribe_events
    bed.start_job("job-3", duration=0.2)
    async with (
        bed.client() as client,
        bed.sqs_client() as sqs,
        Poller(client, notifications=EventBridgeQueue(sqs, bed.events_queue_url)) as poller,
    ):
        assert (await poller.wait("job-3")).outcome is Outcome.COMPLETED
    assert bed.event_sent_at("job-3") is not None
PY
"$bin/python" -m pytest -q -p no:cacheprovider "$work/test_with_the_kit.py"
step "passed"
