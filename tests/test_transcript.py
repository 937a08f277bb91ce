"""Transcript documents of every kind, read into text and timed segments."""

from __future__ import annotations

import json
from typing import Any

import pytest

from transcribe_poller import ClinicalDocument, JobRef, Segment, Transcript, TranscriptError

# Literal documents in each kind's shape (AWS's documented examples, trimmed).
STANDARD_SPEAKERS = json.loads(
    """{"jobName": "talk", "accountId": "111122223333", "status": "COMPLETED",
 "results": {
  "transcripts": [{"transcript": "Hello there. Hi, how are you?"}],
  "speaker_labels": {"speakers": 2, "segments": [
    {"start_time": "0.04", "end_time": "1.2", "speaker_label": "spk_0"},
    {"start_time": "1.5", "end_time": "2.8", "speaker_label": "spk_1"}]},
  "items": [
   {"id": 0, "type": "pronunciation", "start_time": "0.04", "end_time": "0.5",
    "speaker_label": "spk_0", "alternatives": [{"confidence": "0.99", "content": "Hello"}]},
   {"id": 1, "type": "pronunciation", "start_time": "0.5", "end_time": "1.2",
    "speaker_label": "spk_0", "alternatives": [{"confidence": "0.98", "content": "there"}]},
   {"id": 2, "type": "punctuation", "alternatives": [{"confidence": "0.0", "content": "."}]},
   {"id": 3, "type": "pronunciation", "start_time": "1.5", "end_time": "1.7",
    "speaker_label": "spk_1", "alternatives": [{"confidence": "0.99", "content": "Hi"}]},
   {"id": 4, "type": "punctuation", "alternatives": [{"confidence": "0.0", "content": ","}]},
   {"id": 5, "type": "pronunciation", "start_time": "1.8", "end_time": "2.0",
    "alternatives": [{"confidence": "0.99", "content": "how"}]},
   {"id": 6, "type": "pronunciation", "start_time": "2.0", "end_time": "2.3",
    "speaker_label": "spk_1", "alternatives": [{"confidence": "0.99", "content": "are"}]},
   {"id": 7, "type": "pronunciation", "start_time": "2.3", "end_time": "2.8",
    "speaker_label": "spk_1", "alternatives": [{"confidence": "0.99", "content": "you"}]},
   {"id": 8, "type": "punctuation", "alternatives": [{"confidence": "0.0", "content": "?"}]}
  ]}}"""
)
STANDARD_CHANNELS = json.loads(
    """{"jobName": "call", "status": "COMPLETED", "results": {
  "transcripts": [{"transcript": "Yes. No."}],
  "channel_labels": {"number_of_channels": 2, "channels": [
    {"channel_label": "ch_0", "items": [{"start_time": "0.1", "end_time": "0.4",
      "alternatives": [{"content": "Yes"}], "type": "pronunciation"}]},
    {"channel_label": "ch_1", "items": [{"start_time": "1.0", "end_time": "1.3",
      "alternatives": [{"content": "No"}], "type": "pronunciation"}]}]},
  "items": [
   {"type": "pronunciation", "start_time": "0.1", "end_time": "0.4", "channel_label": "ch_0",
    "alternatives": [{"content": "Yes"}]},
   {"type": "punctuation", "alternatives": [{"content": "."}]},
   {"type": "pronunciation", "start_time": "1.0", "end_time": "1.3", "channel_label": "ch_1",
    "alternatives": [{"content": "No"}]},
   {"type": "punctuation", "alternatives": [{"content": "."}]}]}}"""
)
STANDARD_PLAIN = json.loads(
    """{"jobName": "note", "status": "COMPLETED", "results": {
  "transcripts": [{"transcript": "One. Two"}],
  "items": [
   {"type": "pronunciation", "start_time": "0.0", "end_time": "0.3",
    "alternatives": [{"content": "One"}]},
   {"type": "punctuation", "alternatives": [{"content": "."}]},
   {"type": "pronunciation", "start_time": "0.9", "end_time": "1.1",
    "alternatives": [{"content": "Two"}]}]}}"""
)
CALL_ANALYTICS = json.loads(
    """{"JobStatus": "COMPLETED", "AccountId": "111122223333",
 "Participants": [{"ParticipantRole": "AGENT"}, {"ParticipantRole": "CUSTOMER"}],
 "Transcript": [
  {"Id": "a", "ParticipantRole": "AGENT", "Content": "How can I help?",
   "BeginOffsetMillis": 200, "EndOffsetMillis": 1700, "Sentiment": "NEUTRAL",
   "LoudnessScores": [78.6]},
  {"Id": "b", "ParticipantRole": "CUSTOMER", "Content": "My order is late.",
   "BeginOffsetMillis": 1900, "EndOffsetMillis": 3450, "Sentiment": "NEGATIVE",
   "LoudnessScores": [80.1]}],
 "Categories": {"MatchedCategories": []},
 "ConversationCharacteristics": {"NonTalkTime": {}}}"""
)
SCRIBE = json.loads(
    """{"Conversation": {"ConversationId": "x", "LanguageCode": "en-US",
 "TranscriptItems": [],
 "TranscriptSegments": [
  {"SegmentId": "s1", "Content": "What brings you in?", "BeginAudioTime": 0.2,
   "EndAudioTime": 1.4, "ParticipantDetails": {"ParticipantRole": "CLINICIAN_0"},
   "SectionDetails": {"SectionName": "SUBJECTIVE"}},
  {"SegmentId": "s2", "Content": "A cough for a week.", "BeginAudioTime": 1.6,
   "EndAudioTime": 3.0, "ParticipantDetails": {"ParticipantRole": "PATIENT_0"},
   "SectionDetails": {"SectionName": "SUBJECTIVE"}}],
 "ClinicalInsights": []}}"""
)
CLINICAL = json.loads(
    """{"ClinicalDocumentation": {"Sections": [
  {"SectionName": "CHIEF_COMPLAINT", "Summary": [
   {"SummarizedSegment": "Cough for one week.", "EvidenceLinks": [{"SegmentId": "s2"}]}]},
  {"SectionName": "PLAN", "Summary": []}]}}"""
)


def test_standard_segments_follow_speakers_and_sentences() -> None:
    """Speaker labels split segments, punctuation joins the word before, an item
    without a speaker (custom vocabulary) keeps the one before."""
    transcript = Transcript.from_document(JobRef("talk"), STANDARD_SPEAKERS)
    assert transcript.text == "Hello there. Hi, how are you?"
    assert transcript.segments == (
        Segment(0.04, 1.2, "Hello there.", "spk_0"),
        Segment(1.5, 2.8, "Hi, how are you?", "spk_1"),
    )


def test_channel_identification_gives_channels_as_speakers() -> None:
    """With channel identification the speaker is the channel."""
    transcript = Transcript.from_document(JobRef("call"), STANDARD_CHANNELS)
    assert [(s.text, s.speaker) for s in transcript.segments] == [("Yes.", "ch_0"), ("No.", "ch_1")]


def test_no_speakers_splits_at_sentences() -> None:
    """Without speaker labels: one segment per sentence, no speaker."""
    transcript = Transcript.from_document(JobRef.medical("note"), STANDARD_PLAIN)
    assert transcript.segments == (Segment(0.0, 0.3, "One."), Segment(0.9, 1.1, "Two"))


def test_call_analytics_turns_keep_role_and_sentiment() -> None:
    """Call Analytics turns: milliseconds to seconds, the role and the sentiment."""
    transcript = Transcript.from_document(JobRef.call_analytics("c"), CALL_ANALYTICS)
    assert transcript.text == "How can I help? My order is late."
    assert transcript.segments[1] == Segment(1.9, 3.45, "My order is late.", "CUSTOMER", "NEGATIVE")


def test_medical_scribe_segments_and_clinical_note() -> None:
    """Medical Scribe: the conversation's segments with roles; the note's sections."""
    transcript = Transcript.from_document(JobRef.medical_scribe("v"), SCRIBE)
    assert [s.speaker for s in transcript.segments] == ["CLINICIAN_0", "PATIENT_0"]
    note = ClinicalDocument.from_document(JobRef.medical_scribe("v"), CLINICAL)
    assert [(s.name, s.summaries) for s in note.sections] == [
        ("CHIEF_COMPLAINT", ("Cough for one week.",)),
        ("PLAN", ()),
    ]


def test_subtitles_from_segments() -> None:
    """SRT and VTT blocks, numbered and timed as each format wants."""
    transcript = Transcript.from_document(JobRef("talk"), STANDARD_SPEAKERS)
    assert transcript.to_srt().splitlines()[:3] == [
        "1",
        "00:00:00,040 --> 00:00:01,200",
        "spk_0: Hello there.",
    ]
    vtt = transcript.to_vtt().splitlines()
    assert vtt[0] == "WEBVTT"
    assert vtt[5:7] == ["00:00:01.500 --> 00:00:02.800", "<v spk_1>Hi, how are you?"]


@pytest.mark.parametrize(
    ("job", "document", "said"),
    [
        (JobRef("x"), [], "the document is a list"),
        (JobRef("x"), {"results": {}}, "results.transcripts is missing"),
        (JobRef.call_analytics("x"), STANDARD_PLAIN, "Transcript is missing"),
        (
            JobRef("x"),
            {
                "results": {
                    "transcripts": [],
                    "items": [
                        {"start_time": "x", "end_time": "1", "alternatives": [{"content": "a"}]}
                    ],
                }
            },
            "results.items[0].start_time is a str, not a time",
        ),
        (JobRef.medical_scribe("x"), {"Conversation": {}}, "TranscriptSegments is missing"),
    ],
)
def test_another_shape_is_an_error_naming_the_job(job: JobRef, document: Any, said: str) -> None:
    """A document of another shape: TranscriptError naming the job and the field."""
    with pytest.raises(TranscriptError, match=str(job)) as raised:
        Transcript.from_document(job, document)
    assert said in str(raised.value)


def test_the_document_is_read_only() -> None:
    """The parsed document is kept, and cannot be changed."""
    transcript = Transcript.from_document(JobRef("talk"), STANDARD_SPEAKERS)
    assert transcript.document["jobName"] == "talk"
    with pytest.raises(TypeError):
        transcript.document["jobName"] = "other"  # type: ignore[index]
