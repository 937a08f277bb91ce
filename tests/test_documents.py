"""The transcript documents the test doubles write: each kind's documented shape, pinned
with literals, and read back by the package's own reader."""

from __future__ import annotations

import itertools
import re
from typing import Any

import pytest

from transcribe_poller._jobs import JobKind, JobRef
from transcribe_poller._transcript import ClinicalDocument, Transcript
from transcribe_poller.testing._documents import (
    Speech,
    clinical_document,
    sentences,
    transcript_document,
)

pytestmark = pytest.mark.virtual

ACCOUNT = "123456789012"

# -- each kind's shape, pinned -----------------------------------------------------------


def test_standard_with_speaker_labels() -> None:
    """Diarization: every item (punctuation too) has an id and its speaker; the
    segments hold the timed items; punctuation has no times."""
    document = transcript_document(
        JobKind.STANDARD, "talk-1", Speech("Hello there. Call me at 555 0100?", speakers=2)
    )
    assert document == {
        "jobName": "talk-1",
        "accountId": ACCOUNT,
        "results": {
            "transcripts": [{"transcript": "Hello there. Call me at 555 0100?"}],
            "speaker_labels": {
                "channel_label": "ch_0",
                "speakers": 2,
                "segments": [
                    {
                        "start_time": "0.0",
                        "speaker_label": "spk_0",
                        "end_time": "0.75",
                        "items": [
                            {"start_time": "0.0", "speaker_label": "spk_0", "end_time": "0.35"},
                            {"start_time": "0.4", "speaker_label": "spk_0", "end_time": "0.75"},
                        ],
                    },
                    {
                        "start_time": "0.8",
                        "speaker_label": "spk_1",
                        "end_time": "2.75",
                        "items": [
                            {"start_time": "0.8", "speaker_label": "spk_1", "end_time": "1.15"},
                            {"start_time": "1.2", "speaker_label": "spk_1", "end_time": "1.55"},
                            {"start_time": "1.6", "speaker_label": "spk_1", "end_time": "1.95"},
                            {"start_time": "2.0", "speaker_label": "spk_1", "end_time": "2.35"},
                            {"start_time": "2.4", "speaker_label": "spk_1", "end_time": "2.75"},
                        ],
                    },
                ],
            },
            "items": [
                {
                    "id": 0,
                    "start_time": "0.0",
                    "end_time": "0.35",
                    "speaker_label": "spk_0",
                    "alternatives": [{"confidence": "0.99", "content": "Hello"}],
                    "type": "pronunciation",
                },
                {
                    "id": 1,
                    "start_time": "0.4",
                    "end_time": "0.75",
                    "speaker_label": "spk_0",
                    "alternatives": [{"confidence": "0.99", "content": "there"}],
                    "type": "pronunciation",
                },
                {
                    "id": 2,
                    "speaker_label": "spk_0",
                    "alternatives": [{"confidence": "0.0", "content": "."}],
                    "type": "punctuation",
                },
                {
                    "id": 3,
                    "start_time": "0.8",
                    "end_time": "1.15",
                    "speaker_label": "spk_1",
                    "alternatives": [{"confidence": "0.99", "content": "Call"}],
                    "type": "pronunciation",
                },
                {
                    "id": 4,
                    "start_time": "1.2",
                    "end_time": "1.55",
                    "speaker_label": "spk_1",
                    "alternatives": [{"confidence": "0.99", "content": "me"}],
                    "type": "pronunciation",
                },
                {
                    "id": 5,
                    "start_time": "1.6",
                    "end_time": "1.95",
                    "speaker_label": "spk_1",
                    "alternatives": [{"confidence": "0.99", "content": "at"}],
                    "type": "pronunciation",
                },
                {
                    "id": 6,
                    "start_time": "2.0",
                    "end_time": "2.35",
                    "speaker_label": "spk_1",
                    "alternatives": [{"confidence": "0.99", "content": "555"}],
                    "type": "pronunciation",
                },
                {
                    "id": 7,
                    "start_time": "2.4",
                    "end_time": "2.75",
                    "speaker_label": "spk_1",
                    "alternatives": [{"confidence": "0.99", "content": "0100"}],
                    "type": "pronunciation",
                },
                {
                    "id": 8,
                    "speaker_label": "spk_1",
                    "alternatives": [{"confidence": "0.0", "content": "?"}],
                    "type": "punctuation",
                },
            ],
        },
        "status": "COMPLETED",
    }


def test_standard_redacted_with_channels() -> None:
    """Channel identification and redaction: each channel's items, the channel on
    every item; a word with a digit is [PII] with its redaction and no confidence."""
    document = transcript_document(
        JobKind.STANDARD, "call-2", Speech("Hi. Call 555.", channels=2), redacted=True
    )
    hi = {
        "start_time": "0.0",
        "end_time": "0.35",
        "channel_label": "ch_0",
        "alternatives": [{"confidence": "0.99", "content": "Hi"}],
        "type": "pronunciation",
    }
    stop_0 = {
        "channel_label": "ch_0",
        "alternatives": [{"confidence": "0.0", "content": "."}],
        "type": "punctuation",
    }
    call = {
        "start_time": "0.4",
        "end_time": "0.75",
        "channel_label": "ch_1",
        "alternatives": [{"confidence": "0.99", "content": "Call"}],
        "type": "pronunciation",
    }
    pii = {
        "start_time": "0.8",
        "end_time": "1.15",
        "channel_label": "ch_1",
        "alternatives": [
            {
                "content": "[PII]",
                "redactions": [{"confidence": "0.99", "type": "PII", "category": "PII"}],
            }
        ],
        "type": "pronunciation",
    }
    stop_1 = {
        "channel_label": "ch_1",
        "alternatives": [{"confidence": "0.0", "content": "."}],
        "type": "punctuation",
    }
    assert document == {
        "jobName": "call-2",
        "accountId": ACCOUNT,
        "isRedacted": True,
        "results": {
            "transcripts": [{"transcript": "Hi. Call [PII]."}],
            "channel_labels": {
                "channels": [
                    {"channel_label": "ch_0", "items": [hi, stop_0]},
                    {"channel_label": "ch_1", "items": [call, pii, stop_1]},
                ],
                "number_of_channels": 2,
            },
            "items": [
                {"id": 0, **hi},
                {"id": 1, **stop_0},
                {"id": 2, **call},
                {"id": 3, **pii},
                {"id": 4, **stop_1},
            ],
        },
        "status": "COMPLETED",
    }


MEDICAL_ITEMS = [
    {
        "start_time": "0.0",
        "end_time": "0.35",
        "alternatives": [{"confidence": "0.99", "content": "Hi"}],
        "type": "pronunciation",
    },
    {"alternatives": [{"content": "."}], "type": "punctuation"},
    {
        "start_time": "0.4",
        "end_time": "0.75",
        "alternatives": [{"confidence": "0.99", "content": "Yes"}],
        "type": "pronunciation",
    },
    {"alternatives": [{"content": "."}], "type": "punctuation"},
]


def test_medical_with_speaker_labels() -> None:
    """Medical diarization: the speakers only in speaker_labels, none on the items;
    no item ids; punctuation without a confidence."""
    document = transcript_document(
        JobKind.MEDICAL, "visit-3", Speech("Hi. Yes.", speakers=2), account="111122223333"
    )
    assert document == {
        "jobName": "visit-3",
        "accountId": "111122223333",
        "results": {
            "transcripts": [{"transcript": "Hi. Yes."}],
            "speaker_labels": {
                "speakers": 2,
                "segments": [
                    {
                        "start_time": "0.0",
                        "speaker_label": "spk_0",
                        "end_time": "0.35",
                        "items": [
                            {"start_time": "0.0", "speaker_label": "spk_0", "end_time": "0.35"}
                        ],
                    },
                    {
                        "start_time": "0.4",
                        "speaker_label": "spk_1",
                        "end_time": "0.75",
                        "items": [
                            {"start_time": "0.4", "speaker_label": "spk_1", "end_time": "0.75"}
                        ],
                    },
                ],
            },
            "items": MEDICAL_ITEMS,
        },
        "status": "COMPLETED",
    }


def test_medical_with_channels() -> None:
    """Medical channel identification: each channel's items, no label on the items."""
    document = transcript_document(JobKind.MEDICAL, "visit-4", Speech("Hi. Yes.", channels=2))
    assert document == {
        "jobName": "visit-4",
        "accountId": ACCOUNT,
        "results": {
            "transcripts": [{"transcript": "Hi. Yes."}],
            "channel_labels": {
                "channels": [
                    {"channel_label": "ch_0", "items": MEDICAL_ITEMS[:2]},
                    {"channel_label": "ch_1", "items": MEDICAL_ITEMS[2:]},
                ],
                "number_of_channels": 2,
            },
            "items": MEDICAL_ITEMS,
        },
        "status": "COMPLETED",
    }


def test_call_analytics_redacted() -> None:
    """Post-call analytics: a turn per sentence, AGENT first; integer milliseconds;
    the redacted output says so in ContentMetadata; characteristics add up."""
    document = transcript_document(
        JobKind.CALL_ANALYTICS, "call-1", Speech("Hi. Call 555."), redacted=True
    )
    assert document == {
        "JobName": "call-1",
        "AccountId": ACCOUNT,
        "JobStatus": "COMPLETED",
        "LanguageCode": "en-US",
        "Channel": "VOICE",
        "Participants": [{"ParticipantRole": "AGENT"}, {"ParticipantRole": "CUSTOMER"}],
        "ContentMetadata": {"Output": "Redacted", "RedactionTypes": ["PII"]},
        "Categories": {"MatchedCategories": [], "MatchedDetails": {}},
        "ConversationCharacteristics": {
            "NonTalkTime": {"Instances": [], "TotalTimeMillis": 0},
            "Interruptions": {
                "TotalCount": 0,
                "TotalTimeMillis": 0,
                "InterruptionsByInterrupter": {},
            },
            "TotalConversationDurationMillis": 1150,
            "Sentiment": {
                "OverallSentiment": {"AGENT": 0.0, "CUSTOMER": 0.0},
                "SentimentByPeriod": {
                    "QUARTER": {
                        role: [
                            {"Score": 0.0, "BeginOffsetMillis": 0, "EndOffsetMillis": 287},
                            {"Score": 0.0, "BeginOffsetMillis": 287, "EndOffsetMillis": 575},
                            {"Score": 0.0, "BeginOffsetMillis": 575, "EndOffsetMillis": 862},
                            {"Score": 0.0, "BeginOffsetMillis": 862, "EndOffsetMillis": 1150},
                        ]
                        for role in ("AGENT", "CUSTOMER")
                    }
                },
            },
            "TalkSpeed": {
                "DetailsByParticipant": {
                    "AGENT": {"AverageWordsPerMinute": 171},
                    "CUSTOMER": {"AverageWordsPerMinute": 160},
                }
            },
            "TalkTime": {
                "DetailsByParticipant": {
                    "AGENT": {"TotalTimeMillis": 350},
                    "CUSTOMER": {"TotalTimeMillis": 750},
                },
                "TotalTimeMillis": 1100,
            },
        },
        "Transcript": [
            {
                "LoudnessScores": [80.0],
                "Content": "Hi.",
                "Items": [
                    {
                        "Content": "Hi",
                        "BeginOffsetMillis": 0,
                        "EndOffsetMillis": 350,
                        "Confidence": 0.99,
                        "Type": "pronunciation",
                    },
                    {
                        "Content": ".",
                        "BeginOffsetMillis": 350,
                        "EndOffsetMillis": 350,
                        "Confidence": 0.0,
                        "Type": "punctuation",
                    },
                ],
                "Id": "920aeaf7-6863-552a-8f4e-873b93306d40",
                "BeginOffsetMillis": 0,
                "EndOffsetMillis": 350,
                "Sentiment": "NEUTRAL",
                "ParticipantRole": "AGENT",
            },
            {
                "LoudnessScores": [80.0],
                "Content": "Call [PII].",
                "Items": [
                    {
                        "Content": "Call",
                        "BeginOffsetMillis": 400,
                        "EndOffsetMillis": 750,
                        "Confidence": 0.99,
                        "Type": "pronunciation",
                    },
                    {
                        "Content": "[PII]",
                        "BeginOffsetMillis": 800,
                        "EndOffsetMillis": 1150,
                        "Confidence": 0.99,
                        "Type": "pronunciation",
                    },
                    {
                        "Content": ".",
                        "BeginOffsetMillis": 1150,
                        "EndOffsetMillis": 1150,
                        "Confidence": 0.0,
                        "Type": "punctuation",
                    },
                ],
                "Id": "8f2c2e88-7467-5bac-bf10-4ee3ecd9b7c3",
                "BeginOffsetMillis": 400,
                "EndOffsetMillis": 1150,
                "Sentiment": "NEUTRAL",
                "ParticipantRole": "CUSTOMER",
            },
        ],
    }
    unredacted = transcript_document(JobKind.CALL_ANALYTICS, "call-1", Speech("Hi. Call 555."))
    assert unredacted["ContentMetadata"] == {"Output": "Raw"}
    assert unredacted["Transcript"][1]["Content"] == "Call 555."


SEGMENT_IDS = [
    "c6710d69-01cd-5ecc-a0d1-694c905fbf45",
    "22733573-fb79-5771-9343-b6668e0be57b",
    "5a0714da-7e97-582e-afa1-ed1d3bb97e8b",
]


def test_medical_scribe_transcript() -> None:
    """The HealthScribe transcript file: items with float seconds and upper-case types,
    a segment per sentence, clinician first."""
    document = transcript_document(JobKind.MEDICAL_SCRIBE, "visit-1", Speech("Pain? Knee. Rest."))
    assert document == {
        "Conversation": {
            "ConversationId": "dcf949bb-b70e-5f0b-b141-7358d96e4ccd",
            "JobName": "visit-1",
            "JobType": "ASYNC",
            "LanguageCode": "en-US",
            "ClinicalInsights": [],
            "TranscriptItems": [
                {
                    "Alternatives": [{"Confidence": 0.99, "Content": "Pain"}],
                    "BeginAudioTime": 0.0,
                    "EndAudioTime": 0.35,
                    "Type": "PRONUNCIATION",
                },
                {
                    "Alternatives": [{"Confidence": 0.0, "Content": "?"}],
                    "BeginAudioTime": 0.35,
                    "EndAudioTime": 0.35,
                    "Type": "PUNCTUATION",
                },
                {
                    "Alternatives": [{"Confidence": 0.99, "Content": "Knee"}],
                    "BeginAudioTime": 0.4,
                    "EndAudioTime": 0.75,
                    "Type": "PRONUNCIATION",
                },
                {
                    "Alternatives": [{"Confidence": 0.0, "Content": "."}],
                    "BeginAudioTime": 0.75,
                    "EndAudioTime": 0.75,
                    "Type": "PUNCTUATION",
                },
                {
                    "Alternatives": [{"Confidence": 0.99, "Content": "Rest"}],
                    "BeginAudioTime": 0.8,
                    "EndAudioTime": 1.15,
                    "Type": "PRONUNCIATION",
                },
                {
                    "Alternatives": [{"Confidence": 0.0, "Content": "."}],
                    "BeginAudioTime": 1.15,
                    "EndAudioTime": 1.15,
                    "Type": "PUNCTUATION",
                },
            ],
            "TranscriptSegments": [
                {
                    "BeginAudioTime": 0.0,
                    "Content": "Pain?",
                    "EndAudioTime": 0.35,
                    "ParticipantDetails": {"ParticipantRole": "CLINICIAN_0"},
                    "SectionDetails": {"SectionName": "SUBJECTIVE"},
                    "SegmentId": SEGMENT_IDS[0],
                },
                {
                    "BeginAudioTime": 0.4,
                    "Content": "Knee.",
                    "EndAudioTime": 0.75,
                    "ParticipantDetails": {"ParticipantRole": "PATIENT_0"},
                    "SectionDetails": {"SectionName": "SUBJECTIVE"},
                    "SegmentId": SEGMENT_IDS[1],
                },
                {
                    "BeginAudioTime": 0.8,
                    "Content": "Rest.",
                    "EndAudioTime": 1.15,
                    "ParticipantDetails": {"ParticipantRole": "CLINICIAN_0"},
                    "SectionDetails": {"SectionName": "SUBJECTIVE"},
                    "SegmentId": SEGMENT_IDS[2],
                },
            ],
        }
    }


def test_medical_scribe_clinical_document() -> None:
    """The clinical documentation file: sections of sentences, each linked to its
    segment; a section with nothing to say has an empty Summary."""
    document = clinical_document("visit-1", Speech("Pain? Knee. Rest."))
    assert document == {
        "ClinicalDocumentation": {
            "Sections": [
                {
                    "SectionName": "CHIEF_COMPLAINT",
                    "Summary": [
                        {
                            "EvidenceLinks": [{"SegmentId": SEGMENT_IDS[0]}],
                            "SummarizedSegment": "Pain?",
                        }
                    ],
                },
                {
                    "SectionName": "HISTORY_OF_PRESENT_ILLNESS",
                    "Summary": [
                        {
                            "EvidenceLinks": [{"SegmentId": SEGMENT_IDS[1]}],
                            "SummarizedSegment": "Knee.",
                        }
                    ],
                },
                {"SectionName": "ASSESSMENT", "Summary": []},
                {
                    "SectionName": "PLAN",
                    "Summary": [
                        {
                            "EvidenceLinks": [{"SegmentId": SEGMENT_IDS[2]}],
                            "SummarizedSegment": "Rest.",
                        }
                    ],
                },
            ]
        }
    }


@pytest.mark.parametrize("kind", list(JobKind))
def test_an_empty_text_gives_the_kinds_empty_document(kind: JobKind) -> None:
    """No words: no items, no turns, no segments, an empty transcript."""
    document = transcript_document(kind, "quiet", Speech(""))
    if kind in (JobKind.STANDARD, JobKind.MEDICAL):
        assert document["results"] == {"transcripts": [{"transcript": ""}], "items": []}
    elif kind is JobKind.CALL_ANALYTICS:
        assert document["Transcript"] == []
        assert document["ConversationCharacteristics"]["TotalConversationDurationMillis"] == 0
    else:
        conversation = document["Conversation"]
        assert (conversation["TranscriptItems"], conversation["TranscriptSegments"]) == ([], [])
        note = clinical_document("quiet", Speech(""))
        assert all(s["Summary"] == [] for s in note["ClinicalDocumentation"]["Sections"])
    transcript = Transcript.from_document(JobRef("quiet", kind), document)
    assert (transcript.text, transcript.segments) == ("", ())


# -- read back by the package's reader ---------------------------------------------------

TEXT = (
    "Good morning. What brings you in today? My knee hurts, since May 3. "
    "Does it swell? Yes: at night! Call 555 0100 to book."
)
SAID = sentences(TEXT)

# (kind, speech, who said sentence j)
CASES: list[tuple[JobKind, Speech, list[str | None]]] = [
    (JobKind.STANDARD, Speech(TEXT), [None] * 6),
    (JobKind.STANDARD, Speech(TEXT, speakers=2), ["spk_0", "spk_1"] * 3),
    (
        JobKind.STANDARD,
        Speech(TEXT, speakers=4),
        ["spk_0", "spk_1", "spk_2", "spk_3", "spk_0", "spk_1"],
    ),
    (JobKind.STANDARD, Speech(TEXT, channels=2), ["ch_0", "ch_1"] * 3),
    (JobKind.MEDICAL, Speech(TEXT), [None] * 6),
    (JobKind.MEDICAL, Speech(TEXT, speakers=3), ["spk_0", "spk_1", "spk_2"] * 2),
    (JobKind.MEDICAL, Speech(TEXT, channels=2), ["ch_0", "ch_1"] * 3),
    (JobKind.CALL_ANALYTICS, Speech(TEXT), ["AGENT", "CUSTOMER"] * 3),
    (JobKind.MEDICAL_SCRIBE, Speech(TEXT), ["CLINICIAN_0", "PATIENT_0"] * 3),
    (JobKind.MEDICAL_SCRIBE, Speech(TEXT, channels=2), ["CLINICIAN_0", "PATIENT_0"] * 3),
    (
        JobKind.MEDICAL_SCRIBE,
        Speech(TEXT, speakers=3),
        ["CLINICIAN_0", "PATIENT_0", "PATIENT_1"] * 2,
    ),
]


@pytest.mark.parametrize(
    ("kind", "speech", "who"),
    CASES,
    ids=[f"{k.value}-s{s.speakers}-c{s.channels}" for k, s, _ in CASES],
)
def test_the_reader_gets_back_the_text_and_who_said_each_sentence(
    kind: JobKind, speech: Speech, who: list[str | None]
) -> None:
    """Every kind reads back to the text exactly, a segment per sentence in time
    order, each with the speaker, channel or role asked for."""
    assert len(SAID) == 6
    transcript = Transcript.from_document(
        JobRef("read-back", kind), transcript_document(kind, "read-back", speech)
    )
    assert transcript.text == TEXT
    segments = transcript.segments
    assert [(s.text, s.speaker) for s in segments] == list(zip(SAID, who, strict=True))
    starts = [s.start for s in segments]
    assert starts == sorted(starts)
    assert all(a.end <= b.start for a, b in itertools.pairwise(segments))
    # Words 0.4 s apart: the first sentence's two words end at 0.75 s.
    assert (segments[0].start, segments[0].end) == (0.0, 0.75)
    assert segments[-1].end == pytest.approx(0.4 * (len(TEXT.split()) - 1) + 0.35)


@pytest.mark.parametrize("kind", [JobKind.STANDARD, JobKind.CALL_ANALYTICS])
@pytest.mark.parametrize("speech", [Speech(TEXT), Speech(TEXT, speakers=2)])
def test_redacted_documents_read_back_with_pii(kind: JobKind, speech: Speech) -> None:
    """Redacted: every word holding a digit reads back as [PII], its punctuation kept;
    the unredacted twin keeps the words."""
    redacted = Transcript.from_document(
        JobRef("secret", kind), transcript_document(kind, "secret", speech, redacted=True)
    )
    assert redacted.text == (
        "Good morning. What brings you in today? My knee hurts, since May [PII]. "
        "Does it swell? Yes: at night! Call [PII] [PII] to book."
    )
    assert not re.search(r"\d", redacted.text)
    assert [s.text for s in redacted.segments][2] == "My knee hurts, since May [PII]."
    plain = Transcript.from_document(
        JobRef("secret", kind), transcript_document(kind, "secret", speech)
    )
    assert plain.text == TEXT


@pytest.mark.parametrize("kind", [JobKind.MEDICAL, JobKind.MEDICAL_SCRIBE])
def test_medical_kinds_have_no_redacted_transcript(kind: JobKind) -> None:
    with pytest.raises(ValueError, match="no redacted transcript"):
        transcript_document(kind, "x", Speech(TEXT), redacted=True)


def test_the_clinical_document_reads_back_and_links_real_segments() -> None:
    """ClinicalDocument reads the note; every evidence link names a segment of the
    transcript, and each summary is that segment's sentence."""
    speech = Speech(TEXT, speakers=2)
    note = clinical_document("visit-9", speech)
    read = ClinicalDocument.from_document(JobRef.medical_scribe("visit-9"), note)
    assert [(s.name, s.summaries) for s in read.sections] == [
        ("CHIEF_COMPLAINT", ("Good morning.",)),
        ("HISTORY_OF_PRESENT_ILLNESS", ("What brings you in today?", "Does it swell?")),
        ("ASSESSMENT", ("My knee hurts, since May 3.", "Yes: at night!")),
        ("PLAN", ("Call 555 0100 to book.",)),
    ]
    transcript = transcript_document(JobKind.MEDICAL_SCRIBE, "visit-9", speech)
    by_id = {s["SegmentId"]: s for s in transcript["Conversation"]["TranscriptSegments"]}
    for section in note["ClinicalDocumentation"]["Sections"]:
        for summary in section["Summary"]:
            (link,) = summary["EvidenceLinks"]
            assert by_id[link["SegmentId"]]["Content"] == summary["SummarizedSegment"]


def test_documents_are_deterministic_and_ids_follow_the_name() -> None:
    """The same job and text give the same document; another name, other ids."""
    speech = Speech(TEXT)
    for kind in JobKind:
        assert transcript_document(kind, "a", speech) == transcript_document(kind, "a", speech)
    a = transcript_document(JobKind.CALL_ANALYTICS, "a", speech)["Transcript"]
    b = transcript_document(JobKind.CALL_ANALYTICS, "b", speech)["Transcript"]
    ids = [t["Id"] for t in a]
    assert len(set(ids)) == len(ids)
    assert not set(ids) & {t["Id"] for t in b}
    assert all(re.fullmatch(r"[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}", i) for i in ids)


def test_call_analytics_characteristics_are_consistent() -> None:
    """Talk time per role is the sum of its turns; the duration is the last word's end."""
    document = transcript_document(JobKind.CALL_ANALYTICS, "c", Speech(TEXT))
    turns = document["Transcript"]
    characteristics = document["ConversationCharacteristics"]
    talk = characteristics["TalkTime"]
    for role in ("AGENT", "CUSTOMER"):
        mine = [t for t in turns if t["ParticipantRole"] == role]
        spoken = sum(t["EndOffsetMillis"] - t["BeginOffsetMillis"] for t in mine)
        assert talk["DetailsByParticipant"][role] == {"TotalTimeMillis": spoken}
        assert all(isinstance(t["BeginOffsetMillis"], int) for t in mine)
    assert talk["TotalTimeMillis"] == sum(
        d["TotalTimeMillis"] for d in talk["DetailsByParticipant"].values()
    )
    assert characteristics["TotalConversationDurationMillis"] == turns[-1]["EndOffsetMillis"]


@pytest.mark.parametrize(
    ("speakers", "channels"),
    [(1, 0), (-1, 0), (31, 0), (0, 1), (0, 3), (2, 2), (True, 0)],
)
def test_speech_refuses_labels_the_service_would_refuse(speakers: Any, channels: Any) -> None:
    with pytest.raises(ValueError, match=r"speakers|channels"):
        Speech("Hello.", speakers=speakers, channels=channels)


@pytest.mark.parametrize("text", [" Hello.", "Hello. ", "Hello.  Bye.", "Hello.\nBye."])
def test_speech_wants_single_spaced_words(text: str) -> None:
    with pytest.raises(ValueError, match="single spaces"):
        Speech(text)


# -- sentences ---------------------------------------------------------------------------

WORDS = ["a", "b.", "c?", "d!", "e,", "3.5", "U.S.", "f:", "?"]


def test_sentences_cut_after_an_end_mark_and_a_space() -> None:
    """For every single-spaced text of up to four of these words: the sentences join
    back to the text, each but the last ends with . ? or !, and none holds an end
    mark followed by a space."""
    assert sentences("") == []
    assert sentences("Hello there. Call me?") == ["Hello there.", "Call me?"]
    assert sentences("No end") == ["No end"]
    for n in range(1, 5):
        for words in itertools.product(WORDS, repeat=n):
            text = " ".join(words)
            said = sentences(text)
            assert " ".join(said) == text
            assert all(s and s[-1] in ".?!" for s in said[:-1])
            assert not any(re.search(r"[.?!] ", s) for s in said)
            assert len(said) == 1 + len(re.findall(r"[.?!] ", text))
