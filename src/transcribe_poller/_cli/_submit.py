"""``transcribe-poller submit MANIFEST``: start a manifest's jobs within the account's
limits and wait for them, one JSON line on stdout as each ends.

The manifest is checked whole first (:mod:`._manifest`: a bad line is a usage
error, nothing sent), then read again as a stream by :meth:`Poller.submit`. The
rest is ``wait``'s (:mod:`._wait`): the same options of the service, the queue and
``--fetch``, the same lines, progress, summary and exit statuses; ``--max-running``
and ``--start-rate`` become the Poller's ``max_running`` and ``start_rate``.
"""

from __future__ import annotations

import argparse
import sys
import textwrap

from .. import JobKind
from ._args import per_kind, per_kind_value, positive, whole_positive
from ._manifest import NAME_KEYS, open_manifest
from ._status import ExitCode
from ._wait import Batch, add_poller_options, check_poller_options, run_batch

EXAMPLES = (
    '{"TranscriptionJobName": "call-1", "Media": {"MediaFileUri": "s3://in/call-1.wav"}, '
    '"LanguageCode": "en-US"}',
    '{"MedicalTranscriptionJobName": "visit-1", "Media": {"MediaFileUri": '
    '"s3://in/visit-1.wav"}, "LanguageCode": "en-US", "Specialty": "PRIMARYCARE", '
    '"Type": "DICTATION", "OutputBucketName": "out"}',
    '{"CallAnalyticsJobName": "call-2", "Media": {"MediaFileUri": "s3://in/call-2.wav"}}',
    '{"MedicalScribeJobName": "visit-2", "Media": {"MediaFileUri": "s3://in/visit-2.wav"}, '
    '"OutputBucketName": "out", "DataAccessRoleArn": "arn:aws:iam::111122223333:role/scribe", '
    '"Settings": {"ShowSpeakerLabels": true, "MaxSpeakerLabels": 2}}',
)
"""One request of each kind, as a manifest's lines (the help shows them; a test
checks them)."""


def _fill(text: str) -> str:
    return textwrap.fill(text, width=79)


_MANIFEST_HELP = _fill(
    "MANIFEST is a file of JSON lines ('-' for standard input): one object per line, "
    "the parameters of its kind's Start operation as botocore names them (as the AWS "
    f"CLI's --cli-input-json takes them). The name key tells the kind: "
    f"{', '.join(NAME_KEYS)}. Blank lines and lines starting with # are skipped. For "
    "example:"
)
_LIMITS_HELP = _fill(
    "Starts keep within each kind's Start quota (--start-rate) and running jobs within "
    "its cap (--max-running); by default AWS's: 250 jobs at once and 25 Starts/s for "
    "standard, medical and Medical Scribe jobs, 100 and 10/s for Call Analytics jobs. "
    "Set them to your account's quotas, less what other processes run. A Start the "
    "account refuses for its cap (LimitExceededException) waits for a slot; a request "
    "asking for job queueing (JobExecutionSettings.AllowDeferredExecution, a Call "
    "Analytics DataAccessRoleArn) goes to the service's queue at once. A Start the "
    "service refuses (validation, a missing permission) is that job's line, outcome "
    "ERROR, its error naming the field or the permission; the others go on."
)

HELP = f"""\
Start the jobs of a manifest within the account's limits and wait for them: one
JSON object per line on stdout as each finishes, the same lines as wait prints.

{_MANIFEST_HELP}

{textwrap.indent(chr(10).join(EXAMPLES), "  ")}

Every line is checked before anything is sent: a JSON object, one job name, a
valid name, Media.MediaFileUri, no name twice for one kind, and the parameters
as botocore's client would check them. Every bad line is reported as
FILE:LINE: reason, exit 2.

{_LIMITS_HELP}

To resume after a crash, Ctrl-C or a lost connection, run the same command
again: a name in use with the same media is that job, adopted and reported
(never started twice); with other media it is an ERROR saying the name is taken.

The other options are wait's (see wait --help): --fetch fetches each completed
job's transcript into its line or, with --out, a file.

Exit status:
  0    every job COMPLETED
  1    some job did not (FAILED, TIMED_OUT, ERROR: a Start refused, a name taken
       by other media), or with --fetch some transcript could not be fetched or
       written
  2    usage error (bad option, a bad manifest line, a manifest not UTF-8);
       nothing sent
  3    Transcribe could not be reached, or the credentials were missing, invalid
       or expired: submit stops there; run it again later to resume
  4    the --queue-url queue does not exist or may not be read; nothing sent
  130  stopped by Ctrl-C, after printing the summary
  143  stopped by SIGTERM, after printing the summary
"""

# AWS's default quotas, which the Poller's max_running and start_rate default to.
DEFAULT_MAX_RUNNING = "250, call-analytics=100"
DEFAULT_START_RATE = "25, call-analytics=10"
ON_STOP = (
    "To resume, run the same submit again: the jobs started run on, and are adopted, "
    "not started twice."
)


def add_parser(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    parents: list[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    submit = commands.add_parser(
        "submit",
        parents=parents,
        help="start a manifest's jobs within the account's limits; wait for them as wait does",
        description=HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    submit.add_argument(
        "manifest",
        metavar="MANIFEST",
        help="JSON lines, one object of Start parameters each; '-' for standard input",
    )
    kinds = ", ".join(kind.value for kind in JobKind)
    submit.add_argument(
        "--max-running",
        type=per_kind(whole_positive),
        action="append",
        metavar="[KIND=]N",
        help=(
            f"jobs running at once, for every kind or KIND=N for one ({kinds}); repeatable "
            f"(default AWS's: {DEFAULT_MAX_RUNNING})"
        ),
    )
    submit.add_argument(
        "--start-rate",
        type=per_kind(positive),
        action="append",
        metavar="[KIND=]R",
        help=(
            "Start requests per second, for every kind or KIND=R for one; repeatable "
            f"(default AWS's: {DEFAULT_START_RATE})"
        ),
    )
    add_poller_options(submit)
    return submit


def run(args: argparse.Namespace) -> ExitCode:
    check_poller_options(args)
    options = {
        name: value
        for name, value in (
            ("max_running", per_kind_value(args.max_running)),
            ("start_rate", per_kind_value(args.start_rate)),
        )
        if value is not None
    }
    with open_manifest(args.manifest) as manifest:
        batch = Batch(
            total=manifest.total,
            events=lambda poller: poller.submit(manifest.requests()),
            options=options,
            kinds=manifest.kinds,
            stop_when_unreachable=True,
            on_stop=ON_STOP,
        )
        status = run_batch(args, batch)
        if manifest.read_error is not None:
            print(
                f"transcribe-poller: error: {manifest.read_error}; the requests after it "
                "were not sent",
                file=sys.stderr,
            )
            return max(status, ExitCode.FAILURE)
    return status
