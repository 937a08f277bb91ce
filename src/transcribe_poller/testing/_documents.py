"""Transcript documents of every kind, made from a text, in the shapes the service writes.

The test doubles write these where a job's output goes; :mod:`transcribe_poller._transcript`
reads them back. Each shape follows one of AWS's documented examples:

* standard, with speaker labels: "Example diarization output (batch)",
  https://docs.aws.amazon.com/transcribe/latest/dg/diarization-output-batch.html
  (``speaker_labels`` with ``channel_label``, ``speakers`` and ``segments``; an
  integer ``id`` and the ``speaker_label`` on every item, punctuation too);
* standard, with channel identification: "Example channel identification output
  (batch)", https://docs.aws.amazon.com/transcribe/latest/dg/channel-id-output-batch.html
  (``channel_labels.channels[].items`` and ``number_of_channels``; the
  ``channel_label`` on every item);
* standard, redacted: "Example PII redaction and identification output",
  https://docs.aws.amazon.com/transcribe/latest/dg/pii-redaction-output.html
  (``isRedacted``; a ``[PII]`` alternative carries ``redactions`` and no ``confidence``);
* medical: "Transcribing a medical conversation" and its speaker and channel pages,
  https://docs.aws.amazon.com/transcribe/latest/dg/batch-medical-conversation.html,
  https://docs.aws.amazon.com/transcribe/latest/dg/conversation-diarization-batch-med.html,
  https://docs.aws.amazon.com/transcribe/latest/dg/conversation-channel-id-med.html
  (no item ``id``; the speaker or channel only in ``speaker_labels`` or
  ``channel_labels``, never on the items; punctuation without a confidence);
* Call Analytics: "Post-call analytics output", compiled output,
  https://docs.aws.amazon.com/transcribe/latest/dg/tca-output-batch.html, and the
  top-level fields of the older sample call analytics output (``JobName``,
  ``AccountId``, ``Channel``, ``Participants``, ``ContentMetadata``),
  https://github.com/awsdocs/amazon-transcribe-developer-guide (doc_source/analyze-output.md);
* Medical Scribe: the transcript file and the clinical documentation file under
  "Transcription job output examples",
  https://docs.aws.amazon.com/transcribe/latest/dg/starting-health-scribe-job.html,
  with https://docs.aws.amazon.com/transcribe/latest/dg/health-scribe-transcript.html
  (roles ``CLINICIAN_0``, ``PATIENT_0``...) and
  https://docs.aws.amazon.com/transcribe/latest/dg/health-scribe-insights.html
  (the HISTORY_AND_PHYSICAL template's sections).

Deterministic: no randomness, no clock. Word ``i`` of the text spans
``[0.4 i, 0.4 i + 0.35]`` seconds; sentence ``j`` (see :func:`sentences`) is said by
speaker ``j % speakers`` or on channel ``j % channels``. A word's trailing ``.,?!;:``
are punctuation items of their own. Ids (Call Analytics turns, Medical Scribe
segments) are uuid5 of the job's name and the sentence's index.
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from .._jobs import JobKind

PUNCTUATION = ".,?!;:"
SENTENCE_END = re.compile(r"(?<=[.?!]) ")
WORD_STEP_MS = 400
WORD_LENGTH_MS = 350
MAX_SPEAKERS = 30  # the service's MaxSpeakerLabels
PII = "[PII]"
CONFIDENCE = "0.99"  # standard and medical write confidences as strings
CONFIDENCE_VALUE = 0.99  # Call Analytics and Medical Scribe as numbers
LANGUAGE_CODE = "en-US"
LOUDNESS = 80.0
_IDS = uuid.uuid5(uuid.NAMESPACE_URL, "urn:transcribe-poller:testing:documents")


@dataclass(frozen=True, slots=True)
class Speech:
    """What a job's recording says, and how the job was asked to label it.

    ``text``: words separated by single spaces (callers normalise). ``speakers``: 0
    for no speaker labels, ``n >= 2`` for ShowSpeakerLabels with MaxSpeakerLabels
    ``n``. ``channels``: 0 for no channel identification, 2 for
    ChannelIdentification. A job asks for one or the other, as the service wants.
    """

    text: str
    speakers: int = 0
    channels: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.text, str) or self.text != " ".join(self.text.split()):
            raise ValueError(f"text must be words separated by single spaces: {self.text!r}")
        if type(self.speakers) is not int or self.speakers not in (0, *range(2, MAX_SPEAKERS + 1)):
            raise ValueError(
                f"speakers must be 0 (no labels) or 2 to {MAX_SPEAKERS}, not {self.speakers!r}"
            )
        if type(self.channels) is not int or self.channels not in (0, 2):
            raise ValueError(f"channels must be 0 or 2, not {self.channels!r}")
        if self.speakers and self.channels:
            raise ValueError("a job labels speakers or identifies channels, not both")


def sentences(text: str) -> list[str]:
    """The text cut after ``.``, ``?`` or ``!`` followed by a space, that space dropped:
    ``" ".join(sentences(t)) == t``. No sentence for an empty text."""
    return SENTENCE_END.split(text) if text else []


def transcript_document(
    kind: JobKind,
    name: str,
    speech: Speech,
    *,
    redacted: bool = False,
    account: str = "123456789012",
) -> dict[str, Any]:
    """The transcript a ``kind`` job called ``name`` writes for ``speech``.

    ``redacted``: the redacted transcript, every word holding a digit as ``[PII]``
    (standard and Call Analytics only; ValueError for the others). ``account`` is
    the ``accountId``/``AccountId`` (Medical Scribe's transcript has none). Call
    Analytics always has two channels, AGENT (sentences 0, 2...) and CUSTOMER; Medical
    Scribe's participants are ``CLINICIAN_0`` (sentences 0, 2... with two speakers
    or channels, or none asked) and ``PATIENT_0``, ``PATIENT_1``...
    """
    kind = JobKind(kind)
    if redacted and kind not in (JobKind.STANDARD, JobKind.CALL_ANALYTICS):
        raise ValueError(f"{kind.value} jobs write no redacted transcript")
    turns = _turns(speech, redacted=redacted)
    if kind is JobKind.STANDARD:
        return _standard(name, account, speech, turns, redacted=redacted)
    if kind is JobKind.MEDICAL:
        return _medical(name, account, speech, turns)
    if kind is JobKind.CALL_ANALYTICS:
        return _call_analytics(name, account, turns, redacted=redacted)
    return _scribe_transcript(name, speech, turns)


def clinical_document(name: str, speech: Speech) -> dict[str, Any]:
    """The clinical note (``summary.json``) of a Medical Scribe job called ``name``.

    Sections of the HISTORY_AND_PHYSICAL template, each summary a sentence of the
    transcript linked to its segment: CHIEF_COMPLAINT the first sentence,
    HISTORY_OF_PRESENT_ILLNESS the patients' sentences between the first and the
    last, ASSESSMENT the clinician's between them, PLAN the last (of two or more).
    """
    said = sentences(speech.text)
    last = len(said) - 1
    middle = range(1, last)
    roles = _scribe_roles(speech)
    picks = {
        "CHIEF_COMPLAINT": [0] if said else [],
        "HISTORY_OF_PRESENT_ILLNESS": [j for j in middle if roles(j).startswith("PATIENT")],
        "ASSESSMENT": [j for j in middle if roles(j).startswith("CLINICIAN")],
        "PLAN": [last] if last >= 1 else [],
    }
    return {
        "ClinicalDocumentation": {
            "Sections": [
                {
                    "SectionName": section,
                    "Summary": [
                        {
                            "EvidenceLinks": [{"SegmentId": _segment_id(name, j)}],
                            "SummarizedSegment": said[j],
                        }
                        for j in chosen
                    ],
                }
                for section, chosen in picks.items()
            ]
        }
    }


# -- the text as timed tokens ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Word:
    """One word as spoken (``content``, ``[PII]`` when redacted), its trailing
    punctuation, and its time in milliseconds."""

    content: str
    punctuation: str
    start: int
    end: int
    redacted: bool

    @property
    def written(self) -> str:
        return self.content + self.punctuation


@dataclass(frozen=True, slots=True)
class _Turn:
    """One sentence: its words, who said it (a sentence index), and its time."""

    index: int
    words: tuple[_Word, ...]

    @property
    def text(self) -> str:
        return " ".join(w.written for w in self.words)

    @property
    def start(self) -> int:
        return self.words[0].start

    @property
    def end(self) -> int:
        return self.words[-1].end


def _turns(speech: Speech, *, redacted: bool) -> list[_Turn]:
    turns = []
    i = 0
    for j, sentence in enumerate(sentences(speech.text)):
        words = []
        for token in sentence.split(" "):
            content = token.rstrip(PUNCTUATION) or token  # a token all punctuation: a word
            punctuation = token[len(content) :]
            hidden = redacted and any(c.isdigit() for c in content)
            start = WORD_STEP_MS * i
            words.append(
                _Word(
                    PII if hidden else content, punctuation, start, start + WORD_LENGTH_MS, hidden
                )
            )
            i += 1
        turns.append(_Turn(j, tuple(words)))
    return turns


def _seconds(ms: int) -> str:
    """Milliseconds as the service writes seconds: "0.0", "0.35", "1.2"."""
    text = f"{ms // 1000}.{ms % 1000:03d}".rstrip("0")
    return text + "0" if text.endswith(".") else text


def _label(prefix: str, count: int) -> Callable[[int], str | None]:
    """Who said sentence ``j``: ``prefix_(j % count)``, None when ``count`` is 0."""
    return lambda j: f"{prefix}_{j % count}" if count else None


def _uuid(name: str, what: str, index: int) -> str:
    return str(uuid.uuid5(_IDS, f"{name}/{what}/{index}"))


# -- standard and medical ----------------------------------------------------------------


def _items(
    turns: list[_Turn],
    *,
    label_key: str | None,
    label: Callable[[int], str | None],
    numbered: bool,
    punctuation_confidence: str | None,
) -> Iterator[dict[str, Any]]:
    """The ``items`` of ``turns``: a pronunciation per word, a punctuation item (no
    times) per trailing mark. ``label_key`` names the label each item carries
    (``speaker_label``, ``channel_label``; None: none)."""
    number = 0
    for turn in turns:
        who = label(turn.index)
        for word in turn.words:
            item: dict[str, Any] = {"id": number} if numbered else {}
            item["start_time"] = _seconds(word.start)
            item["end_time"] = _seconds(word.end)
            if label_key and who:
                item[label_key] = who
            if word.redacted:
                alternative: dict[str, Any] = {
                    "content": PII,
                    "redactions": [{"confidence": CONFIDENCE, "type": "PII", "category": "PII"}],
                }
            else:
                alternative = {"confidence": CONFIDENCE, "content": word.content}
            item["alternatives"] = [alternative]
            item["type"] = "pronunciation"
            yield item
            number += 1
            for mark in word.punctuation:
                item = {"id": number} if numbered else {}
                if label_key and who:
                    item[label_key] = who
                mark_alternative = {"content": mark}
                if punctuation_confidence is not None:
                    mark_alternative = {"confidence": punctuation_confidence, "content": mark}
                item["alternatives"] = [mark_alternative]
                item["type"] = "punctuation"
                yield item
                number += 1


def _speaker_segments(turns: list[_Turn], label: Callable[[int], str | None]) -> list[Any]:
    """``speaker_labels.segments``: one per sentence (the speaker changes with each),
    its timed items with their times and label."""
    segments = []
    for turn in turns:
        who = label(turn.index)
        segments.append(
            {
                "start_time": _seconds(turn.start),
                "speaker_label": who,
                "end_time": _seconds(turn.end),
                "items": [
                    {
                        "start_time": _seconds(w.start),
                        "speaker_label": who,
                        "end_time": _seconds(w.end),
                    }
                    for w in turn.words
                ],
            }
        )
    return segments


def _channels(
    turns: list[_Turn], count: int, *, labelled: bool, punctuation_confidence: str | None
) -> dict[str, Any]:
    """``channel_labels``: each channel's items (with their ``channel_label`` when
    ``labelled``)."""
    label = _label("ch", count)
    channels = []
    for c in range(count):
        mine = [t for t in turns if label(t.index) == f"ch_{c}"]
        items = _items(
            mine,
            label_key="channel_label" if labelled else None,
            label=label,
            numbered=False,
            punctuation_confidence=punctuation_confidence,
        )
        channels.append({"channel_label": f"ch_{c}", "items": list(items)})
    return {"channels": channels, "number_of_channels": count}


def _standard(
    name: str, account: str, speech: Speech, turns: list[_Turn], *, redacted: bool
) -> dict[str, Any]:
    speakers, channels = _label("spk", speech.speakers), _label("ch", speech.channels)
    if speech.speakers:
        key: str | None = "speaker_label"
        label = speakers
    elif speech.channels:
        key, label = "channel_label", channels
    else:
        key, label = None, speakers
    results: dict[str, Any] = {"transcripts": [{"transcript": _text(turns)}]}
    if speech.speakers:
        results["speaker_labels"] = {
            "channel_label": "ch_0",
            "speakers": speech.speakers,
            "segments": _speaker_segments(turns, speakers),
        }
    if speech.channels:
        results["channel_labels"] = _channels(
            turns, speech.channels, labelled=True, punctuation_confidence="0.0"
        )
    results["items"] = list(
        _items(turns, label_key=key, label=label, numbered=True, punctuation_confidence="0.0")
    )
    document: dict[str, Any] = {"jobName": name, "accountId": account}
    if redacted:
        document["isRedacted"] = True
    document["results"] = results
    document["status"] = "COMPLETED"
    return document


def _medical(name: str, account: str, speech: Speech, turns: list[_Turn]) -> dict[str, Any]:
    results: dict[str, Any] = {"transcripts": [{"transcript": _text(turns)}]}
    if speech.speakers:
        results["speaker_labels"] = {
            "speakers": speech.speakers,
            "segments": _speaker_segments(turns, _label("spk", speech.speakers)),
        }
    if speech.channels:
        results["channel_labels"] = _channels(
            turns, speech.channels, labelled=False, punctuation_confidence=None
        )
    results["items"] = list(
        _items(
            turns,
            label_key=None,
            label=_label("spk", 0),
            numbered=False,
            punctuation_confidence=None,
        )
    )
    return {"jobName": name, "accountId": account, "results": results, "status": "COMPLETED"}


def _text(turns: list[_Turn]) -> str:
    return " ".join(t.text for t in turns)


# -- Call Analytics ----------------------------------------------------------------------

_ROLES = ("AGENT", "CUSTOMER")


def _call_analytics(
    name: str, account: str, turns: list[_Turn], *, redacted: bool
) -> dict[str, Any]:
    transcript = []
    for turn in turns:
        items: list[dict[str, Any]] = []
        for word in turn.words:
            items.append(
                {
                    "Content": word.content,
                    "BeginOffsetMillis": word.start,
                    "EndOffsetMillis": word.end,
                    "Confidence": CONFIDENCE_VALUE,
                    "Type": "pronunciation",
                }
            )
            items.extend(
                {
                    "Content": mark,
                    "BeginOffsetMillis": word.end,
                    "EndOffsetMillis": word.end,
                    "Confidence": 0.0,
                    "Type": "punctuation",
                }
                for mark in word.punctuation
            )
        seconds = math.ceil((turn.end - turn.start) / 1000)
        transcript.append(
            {
                "LoudnessScores": [LOUDNESS] * seconds,
                "Content": turn.text,
                "Items": items,
                "Id": _uuid(name, "turn", turn.index),
                "BeginOffsetMillis": turn.start,
                "EndOffsetMillis": turn.end,
                "Sentiment": "NEUTRAL",
                "ParticipantRole": _ROLES[turn.index % 2],
            }
        )
    metadata: dict[str, Any] = (
        {"Output": "Redacted", "RedactionTypes": ["PII"]} if redacted else {"Output": "Raw"}
    )
    return {
        "JobName": name,
        "AccountId": account,
        "JobStatus": "COMPLETED",
        "LanguageCode": LANGUAGE_CODE,
        "Channel": "VOICE",
        "Participants": [{"ParticipantRole": role} for role in _ROLES],
        "ContentMetadata": metadata,
        "Categories": {"MatchedCategories": [], "MatchedDetails": {}},
        "ConversationCharacteristics": _characteristics(turns),
        "Transcript": transcript,
    }


def _characteristics(turns: list[_Turn]) -> dict[str, Any]:
    """The call's characteristics, from the turns: talk time and speed per role that
    spoke, a neutral sentiment (0.0) for the call and each of its quarters, no
    interruptions and no non-talk time (no pause between words is long enough)."""
    total = turns[-1].end if turns else 0
    spoke = [role for role in _ROLES if any(_ROLES[t.index % 2] == role for t in turns)]
    talk = {r: sum(t.end - t.start for t in turns if _ROLES[t.index % 2] == r) for r in spoke}
    words = {r: sum(len(t.words) for t in turns if _ROLES[t.index % 2] == r) for r in spoke}
    quarters = [(q * total // 4, (q + 1) * total // 4) for q in range(4)]
    return {
        "NonTalkTime": {"Instances": [], "TotalTimeMillis": 0},
        "Interruptions": {
            "TotalCount": 0,
            "TotalTimeMillis": 0,
            "InterruptionsByInterrupter": {},
        },
        "TotalConversationDurationMillis": total,
        "Sentiment": {
            "OverallSentiment": {r: 0.0 for r in spoke},
            "SentimentByPeriod": {
                "QUARTER": {
                    r: [
                        {"Score": 0.0, "BeginOffsetMillis": begin, "EndOffsetMillis": end}
                        for begin, end in quarters
                    ]
                    for r in spoke
                }
            },
        },
        "TalkSpeed": {
            "DetailsByParticipant": {
                r: {"AverageWordsPerMinute": round(words[r] * 60_000 / talk[r])} for r in spoke
            }
        },
        "TalkTime": {
            "DetailsByParticipant": {r: {"TotalTimeMillis": talk[r]} for r in spoke},
            "TotalTimeMillis": sum(talk.values()),
        },
    }


# -- Medical Scribe ----------------------------------------------------------------------


def _scribe_roles(speech: Speech) -> Callable[[int], str]:
    """Sentence ``j``'s participant: ``CLINICIAN_0`` for the first speaker or channel,
    ``PATIENT_k`` for the others (two participants when the job asked for neither)."""
    count = speech.speakers or speech.channels or 2

    def role(j: int) -> str:
        k = j % count
        return "CLINICIAN_0" if k == 0 else f"PATIENT_{k - 1}"

    return role


def _segment_id(name: str, index: int) -> str:
    return _uuid(name, "segment", index)


def _scribe_transcript(name: str, speech: Speech, turns: list[_Turn]) -> dict[str, Any]:
    role = _scribe_roles(speech)
    items: list[dict[str, Any]] = []
    segments = []
    for turn in turns:
        for word in turn.words:
            items.append(
                {
                    "Alternatives": [{"Confidence": CONFIDENCE_VALUE, "Content": word.content}],
                    "BeginAudioTime": word.start / 1000,
                    "EndAudioTime": word.end / 1000,
                    "Type": "PRONUNCIATION",
                }
            )
            items.extend(
                {
                    "Alternatives": [{"Confidence": 0.0, "Content": mark}],
                    "BeginAudioTime": word.end / 1000,
                    "EndAudioTime": word.end / 1000,
                    "Type": "PUNCTUATION",
                }
                for mark in word.punctuation
            )
        segments.append(
            {
                "BeginAudioTime": turn.start / 1000,
                "Content": turn.text,
                "EndAudioTime": turn.end / 1000,
                "ParticipantDetails": {"ParticipantRole": role(turn.index)},
                "SectionDetails": {"SectionName": "SUBJECTIVE"},
                "SegmentId": _segment_id(name, turn.index),
            }
        )
    return {
        "Conversation": {
            "ConversationId": _uuid(name, "conversation", 0),
            "JobName": name,
            "JobType": "ASYNC",
            "LanguageCode": LANGUAGE_CODE,
            "ClinicalInsights": [],
            "TranscriptItems": items,
            "TranscriptSegments": segments,
        }
    }
