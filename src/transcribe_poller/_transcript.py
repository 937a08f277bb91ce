"""A transcript document, read into text and timed segments, for every kind of job.

Each kind writes its own shape; :meth:`Transcript.from_document` reads them all:

* standard and medical: ``results.transcripts[].transcript`` for the text, and
  ``items`` (string ``start_time``/``end_time`` in seconds; punctuation items have
  no times) for the segments, with the speaker from each item's ``speaker_label``,
  else from ``speaker_labels.segments``, else the channel from
  ``channel_labels.channels``; a segment ends at a sentence's end or where the
  speaker changes. A custom vocabulary's items may lack a speaker: they keep the
  one before. With ``audio_segments``, those are the segments;
* Call Analytics: ``Transcript[]`` turns (``ParticipantRole``, ``Content``,
  integer ``BeginOffsetMillis``/``EndOffsetMillis``, ``Sentiment``);
* Medical Scribe: ``Conversation.TranscriptSegments`` (``Content``,
  ``BeginAudioTime``/``EndAudioTime``, ``ParticipantDetails.ParticipantRole``); its
  clinical note is a second document (:class:`ClinicalDocument`).

A document of another shape is a :class:`TranscriptError` naming the job and what
was missing, never a parser's traceback. Pure: no I/O, no clock.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ._events import ReadOnlyDict
from ._exceptions import TranscribePollerError
from ._jobs import JobKind, JobRef

SENTENCE_ENDS = frozenset({".", "?", "!"})


class TranscriptError(TranscribePollerError):
    """A transcript document that is not its kind's shape (or not a document)."""

    def __init__(self, job: JobRef, reason: str) -> None:
        self.job = job
        self.reason = reason
        super().__init__(f"transcript of job {job}: {reason}")


@dataclass(frozen=True, slots=True)
class Segment:
    """A stretch of the recording: ``start`` and ``end`` in seconds, its ``text``, who
    spoke (a speaker label, a channel, a Call Analytics or Medical Scribe role; None
    when the job has none) and, for Call Analytics, its ``sentiment``."""

    start: float
    end: float
    text: str
    speaker: str | None = None
    sentiment: str | None = None


@dataclass(frozen=True, slots=True)
class Transcript:
    """A job's transcript: ``text`` whole, ``segments`` in time order, ``document`` as
    parsed (read-only), and ``subtitles``: the job's own subtitle files by format
    (``"srt"``, ``"vtt"``) when it asked the service for them."""

    job: JobRef
    text: str
    segments: tuple[Segment, ...]
    document: Mapping[str, Any] = field(default_factory=ReadOnlyDict, repr=False)
    subtitles: Mapping[str, str] = field(default_factory=ReadOnlyDict, repr=False)

    @classmethod
    def from_document(
        cls, job: JobRef, document: object, *, subtitles: Mapping[str, str] | None = None
    ) -> Transcript:
        """Read the transcript document of ``job``'s kind; see the module."""
        if not isinstance(document, Mapping):
            raise TranscriptError(job, f"the document is a {type(document).__name__}, not a dict")
        reader = _READERS[job.kind]
        text, segments = reader(_Path(job), document)
        ordered = tuple(sorted(segments, key=lambda s: (s.start, s.end)))
        return cls(job, text, ordered, _frozen(document), ReadOnlyDict(subtitles or {}))

    def to_srt(self) -> str:
        """SubRip subtitles: the job's own file if it asked for one, else made from
        the segments (a speaker's label before the text)."""
        if "srt" in self.subtitles:
            return self.subtitles["srt"]
        blocks = [
            f"{i}\n{_stamp(s.start, ',')} --> {_stamp(s.end, ',')}\n{_line(s)}\n"
            for i, s in enumerate(self.segments, start=1)
        ]
        return "\n".join(blocks)

    def to_vtt(self) -> str:
        """WebVTT subtitles: the job's own file if it asked for one, else made from the
        segments (a speaker as a voice tag)."""
        if "vtt" in self.subtitles:
            return self.subtitles["vtt"]
        blocks = ["WEBVTT\n"]
        for s in self.segments:
            text = f"<v {s.speaker}>{s.text}" if s.speaker else s.text
            blocks.append(f"{_stamp(s.start, '.')} --> {_stamp(s.end, '.')}\n{text}\n")
        return "\n".join(blocks)


@dataclass(frozen=True, slots=True)
class Section:
    """One section of a Medical Scribe clinical note and its summaries."""

    name: str
    summaries: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ClinicalDocument:
    """A Medical Scribe job's clinical note: its sections, and the document read-only."""

    job: JobRef
    sections: tuple[Section, ...]
    document: Mapping[str, Any] = field(default_factory=ReadOnlyDict, repr=False)

    @classmethod
    def from_document(cls, job: JobRef, document: object) -> ClinicalDocument:
        path = _Path(job)
        root = path.mapping(document, "the document")
        sections = path.sequence(
            path.mapping(root.get("ClinicalDocumentation"), "ClinicalDocumentation").get(
                "Sections"
            ),
            "ClinicalDocumentation.Sections",
        )
        read = []
        for i, raw in enumerate(sections):
            where = f"ClinicalDocumentation.Sections[{i}]"
            section = path.mapping(raw, where)
            summaries = path.sequence(section.get("Summary", []), f"{where}.Summary")
            texts = tuple(
                path.text(
                    path.mapping(s, f"{where}.Summary[{j}]").get("SummarizedSegment"),
                    f"{where}.Summary[{j}].SummarizedSegment",
                )
                for j, s in enumerate(summaries)
            )
            read.append(
                Section(path.text(section.get("SectionName"), f"{where}.SectionName"), texts)
            )
        return cls(job, tuple(read), _frozen(root))


# -- each kind's shape -----------------------------------------------------------------


class _Path:
    """Type checks that name the job and where in the document a value was wrong."""

    def __init__(self, job: JobRef) -> None:
        self.job = job

    def fail(self, reason: str) -> TranscriptError:
        return TranscriptError(self.job, reason)

    def mapping(self, value: object, where: str) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.fail(f"{where} is {_kind_of(value)}, not an object")
        return value

    def sequence(self, value: object, where: str) -> Sequence[Any]:
        if not isinstance(value, Sequence) or isinstance(value, (str, bytes)):
            raise self.fail(f"{where} is {_kind_of(value)}, not a list")
        return value

    def text(self, value: object, where: str) -> str:
        if not isinstance(value, str):
            raise self.fail(f"{where} is {_kind_of(value)}, not a string")
        return value

    def span(self, value: Mapping[str, Any], where: str) -> tuple[float, float]:
        """``start_time`` and ``end_time`` of an item or segment, in seconds."""
        return (
            self.seconds(value.get("start_time"), f"{where}.start_time"),
            self.seconds(value.get("end_time"), f"{where}.end_time"),
        )

    def seconds(self, value: object, where: str, *, per: int = 1) -> float:
        """Seconds from a string of seconds (standard) or a number of 1/``per`` s."""
        try:
            seconds = float(value) / per  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise self.fail(f"{where} is {_kind_of(value)}, not a time") from None
        if isinstance(value, bool) or not math.isfinite(seconds) or seconds < 0:
            raise self.fail(f"{where} is {value!r}, not a time")
        return seconds


def _kind_of(value: object) -> str:
    if value is None:
        return "missing"
    name = type(value).__name__
    return f"{'an' if name[0] in 'aeiou' else 'a'} {name}"


def _standard(path: _Path, document: Mapping[str, Any]) -> tuple[str, list[Segment]]:
    results = path.mapping(document.get("results"), "results")
    transcripts = path.sequence(results.get("transcripts"), "results.transcripts")
    text = " ".join(
        path.text(
            path.mapping(t, f"results.transcripts[{i}]").get("transcript"),
            f"results.transcripts[{i}].transcript",
        )
        for i, t in enumerate(transcripts)
    )
    if "audio_segments" in results:
        return text, _audio_segments(path, results["audio_segments"])
    items = path.sequence(results.get("items", []), "results.items")
    speakers = _speakers_by_time(path, results)
    segments: list[Segment] = []
    words: list[str] = []
    start = end = 0.0
    speaker: str | None = None

    def close() -> None:
        if words:
            segments.append(Segment(start, end, _join(words), speaker))
            words.clear()

    for i, raw in enumerate(items):
        where = f"results.items[{i}]"
        item = path.mapping(raw, where)
        alternatives = path.sequence(item.get("alternatives"), f"{where}.alternatives")
        if not alternatives:
            continue
        content = path.text(
            path.mapping(alternatives[0], f"{where}.alternatives[0]").get("content"),
            f"{where}.alternatives[0].content",
        )
        if item.get("type") == "punctuation" or "start_time" not in item:
            if words:  # punctuation has no time: it belongs to the words before
                words.append(content)
                if content in SENTENCE_ENDS:
                    close()
            continue
        begins, ends = path.span(item, where)
        label = item.get("speaker_label") or item.get("channel_label") or speakers(begins)
        who = label if isinstance(label, str) else speaker  # no speaker: the one before
        if words and who != speaker:
            close()
        if not words:
            start = begins
        speaker = who
        words.append(content)
        end = ends
    close()
    return text, segments


def _audio_segments(path: _Path, raw: object) -> list[Segment]:
    segments = []
    for i, value in enumerate(path.sequence(raw, "results.audio_segments")):
        where = f"results.audio_segments[{i}]"
        segment = path.mapping(value, where)
        speaker = segment.get("speaker_label") or segment.get("channel_label")
        segments.append(
            Segment(
                *path.span(segment, where),
                path.text(segment.get("transcript"), f"{where}.transcript"),
                speaker if isinstance(speaker, str) else None,
            )
        )
    return segments


def _speakers_by_time(path: _Path, results: Mapping[str, Any]) -> Callable[[float], str | None]:
    """Who spoke at a time, from ``speaker_labels`` or ``channel_labels`` (None if
    neither says)."""
    spans: list[tuple[float, float, str]] = []
    labels = results.get("speaker_labels")
    if isinstance(labels, Mapping):
        for i, raw in enumerate(
            path.sequence(labels.get("segments", []), "speaker_labels.segments")
        ):
            where = f"speaker_labels.segments[{i}]"
            segment = path.mapping(raw, where)
            label = path.text(segment.get("speaker_label"), f"{where}.speaker_label")
            spans.append((*path.span(segment, where), label))
    channels = results.get("channel_labels")
    if isinstance(channels, Mapping):
        for i, raw in enumerate(
            path.sequence(channels.get("channels", []), "channel_labels.channels")
        ):
            where = f"channel_labels.channels[{i}]"
            channel = path.mapping(raw, where)
            label = path.text(channel.get("channel_label"), f"{where}.channel_label")
            for j, item in enumerate(path.sequence(channel.get("items", []), f"{where}.items")):
                item = path.mapping(item, f"{where}.items[{j}]")
                if "start_time" in item:
                    spans.append((*path.span(item, f"{where}.items[{j}]"), label))

    def at(time: float) -> str | None:
        for begins, ends, label in spans:
            if begins <= time < ends or begins == time:
                return label
        return None

    return at


def _call_analytics(path: _Path, document: Mapping[str, Any]) -> tuple[str, list[Segment]]:
    turns = path.sequence(document.get("Transcript"), "Transcript")
    segments = []
    for i, raw in enumerate(turns):
        where = f"Transcript[{i}]"
        turn = path.mapping(raw, where)
        role, sentiment = turn.get("ParticipantRole"), turn.get("Sentiment")
        segments.append(
            Segment(
                path.seconds(turn.get("BeginOffsetMillis"), f"{where}.BeginOffsetMillis", per=1000),
                path.seconds(turn.get("EndOffsetMillis"), f"{where}.EndOffsetMillis", per=1000),
                path.text(turn.get("Content"), f"{where}.Content"),
                role if isinstance(role, str) else None,
                sentiment if isinstance(sentiment, str) else None,
            )
        )
    return " ".join(s.text for s in segments), segments


def _medical_scribe(path: _Path, document: Mapping[str, Any]) -> tuple[str, list[Segment]]:
    conversation = path.mapping(document.get("Conversation"), "Conversation")
    raw_segments = path.sequence(
        conversation.get("TranscriptSegments"), "Conversation.TranscriptSegments"
    )
    segments = []
    for i, raw in enumerate(raw_segments):
        where = f"Conversation.TranscriptSegments[{i}]"
        segment = path.mapping(raw, where)
        details = segment.get("ParticipantDetails")
        role = details.get("ParticipantRole") if isinstance(details, Mapping) else None
        segments.append(
            Segment(
                path.seconds(segment.get("BeginAudioTime"), f"{where}.BeginAudioTime"),
                path.seconds(segment.get("EndAudioTime"), f"{where}.EndAudioTime"),
                path.text(segment.get("Content"), f"{where}.Content"),
                role if isinstance(role, str) else None,
            )
        )
    return " ".join(s.text for s in segments), segments


_READERS = {
    JobKind.STANDARD: _standard,
    JobKind.MEDICAL: _standard,
    JobKind.CALL_ANALYTICS: _call_analytics,
    JobKind.MEDICAL_SCRIBE: _medical_scribe,
}


# -- text and time ----------------------------------------------------------------------


def _join(words: list[str]) -> str:
    """Words and punctuation as written: no space before punctuation."""
    text = ""
    for word in words:
        if text and not (len(word) == 1 and not word.isalnum()):
            text += " "
        text += word
    return text


def _line(segment: Segment) -> str:
    return f"{segment.speaker}: {segment.text}" if segment.speaker else segment.text


def _stamp(seconds: float, separator: str) -> str:
    millis = round(seconds * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def _frozen(value: Any) -> Any:
    """A read-only deep copy of a parsed JSON document."""
    if isinstance(value, Mapping):
        return ReadOnlyDict({k: _frozen(v) for k, v in value.items()})
    if isinstance(value, list):
        return tuple(_frozen(v) for v in value)
    return value
