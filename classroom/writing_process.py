"""The writing-process record of an essay: reading it in from the writing page, summing it up,
and the replay of the essay growing.

What the page sends (static/js/writing_process.js), as one form field `process` of an autosave:

    {"session": "<random id of this opening of the page>", "now": <ms since the page opened>,
     "batches": [{"seq": 1, "active": <seconds writing>, "from": <ms>, "to": <ms>,
                  "events": [{"kind": "paste", "t": <ms>, "position": 120, "length": 400,
                              "origin": "sources"},
                             {"kind": "insertion", "t": <ms>, "position": 0, "length": 80},
                             {"kind": "focus", "t": <ms>, "until": <ms>}]}]}

Times are the page's own clock (milliseconds since it opened) and are turned into the server's
time by their distance from `now`, so a wrong clock on the pupil's computer changes nothing.
Process data is evidence, never a reason to lose text: whatever is malformed is left out, what
is too big is cut to the bounds below, and the essay is saved all the same. No text: a paste
is its length and place; "quoted from the sources" is decided in the browser, which compares a
fingerprint of what was copied from the sources pane with what was pasted and sends only the
result.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils import timezone
from django.utils.formats import date_format

from classroom.models import MAX_ESSAY_CHARS, Submission, SubmissionRevision, WritingEvent, count_words
from crisis.wording import plural

# Bounds on what one autosave may carry (more is cut, not refused).
MAX_PROCESS_CHARS = 64_000  # the whole field; longer: nothing recorded
MAX_BATCHES = 10  # batches per save (the page re-sends the rest with the next save)
MAX_EVENTS = 50  # events per batch; the page starts a new batch well before this
# Rows per save: kept under SQLite's 999 query parameters (12 columns a row), so a save's
# events are always one INSERT. Batches that would pass it wait for the next save.
MAX_ROWS = 80
MAX_PAGE_MS = 30 * 24 * 3600 * 1000  # a page open longer than 30 days: times not believable
SESSION_ID = re.compile(r"[A-Za-z0-9_-]{8,40}")
# A pause longer than this starts a new session, even on the same page.
SESSION_GAP = timedelta(minutes=30)
# Text grown by this many characters in one input event, without a paste, is a large insertion
# (drag and drop, dictation, autocomplete). The page reads it from the template.
LARGE_INSERTION = 50
# The replay shows at most this many frames (evenly spread; the first and last always).
MAX_FRAMES = 300

ORIGINS = {choice.value for choice in WritingEvent.Origin}


@dataclass
class Received:
    """What an autosave brought: the rows to record and the batch numbers to acknowledge."""

    events: list[WritingEvent] = field(default_factory=list)
    acknowledged: list[int] = field(default_factory=list)


def _number(value: object, low: int, high: int) -> int | None:
    """A whole number cut to [low, high]; None for anything that is not a finite number."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return max(low, min(high, int(value)))


def read_process(raw: str, submission: Submission, received_at: datetime | None = None) -> Received:
    """The writing-process events in an autosave's `process` field, as unsaved rows for
    `submission` (save_draft records them with the text); anything malformed is left out."""
    received = Received()
    if not raw or len(raw) > MAX_PROCESS_CHARS:
        return received
    try:
        data = json.loads(raw)
    except ValueError:
        return received
    if not isinstance(data, dict):
        return received
    session, page_now = data.get("session"), _number(data.get("now"), 0, MAX_PAGE_MS)
    batches = data.get("batches")
    if not isinstance(session, str) or not SESSION_ID.fullmatch(session) or page_now is None:
        return received
    if not isinstance(batches, list):
        return received
    received_at = received_at or timezone.now()
    timed = bool(submission.assignment.time_limit_minutes)

    def when(ms: object) -> datetime | None:
        value = _number(ms, 0, page_now)
        return None if value is None else received_at - timedelta(milliseconds=page_now - value)

    for batch in batches[:MAX_BATCHES]:
        if not isinstance(batch, dict):
            continue
        seq = _number(batch.get("seq"), -1, 2**31 - 1)
        if seq is None or seq < 1 or seq in received.acknowledged:
            continue
        rows = _batch_rows(batch, submission, session, seq, when, timed)
        if len(received.events) + len(rows) > MAX_ROWS:
            break  # sent again with the next save
        received.events.extend(rows)
        received.acknowledged.append(seq)
    return received


def _batch_rows(
    batch: dict, submission: Submission, session: str, seq: int, when: Callable[[object], datetime | None], timed: bool
) -> list[WritingEvent]:
    def row(kind: str, at: datetime, **values: object) -> WritingEvent:
        return WritingEvent(
            submission=submission, session=session, batch=seq, index=len(rows), kind=kind, at=at, **values
        )

    rows: list[WritingEvent] = []
    start, end = when(batch.get("from")), when(batch.get("to"))
    if start is not None:
        end = max(end or start, start)
        # Seconds writing cannot be more than the time the batch spans (plus a second of rounding).
        span = int((end - start).total_seconds()) + 1
        active = _number(batch.get("active"), 0, span) or 0
        rows.append(row(WritingEvent.Kind.WRITING, start, until=end, active_seconds=active))
    events = batch.get("events")
    for event in events[:MAX_EVENTS] if isinstance(events, list) else []:
        if not isinstance(event, dict):
            continue
        kind, at = event.get("kind"), when(event.get("t"))
        if at is None:
            continue
        if kind in (WritingEvent.Kind.PASTE, WritingEvent.Kind.INSERTION):
            length = _number(event.get("length"), 0, MAX_ESSAY_CHARS)
            position = _number(event.get("position"), 0, MAX_ESSAY_CHARS)
            if not length or (kind == WritingEvent.Kind.INSERTION and length < LARGE_INSERTION):
                continue
            origin = event.get("origin", "") if kind == WritingEvent.Kind.PASTE else ""
            rows.append(row(kind, at, position=position, length=length, origin=origin if origin in ORIGINS else ""))
        elif kind == WritingEvent.Kind.FOCUS_LOST and timed:
            until = when(event.get("until"))
            if until is not None and until > at:
                rows.append(row(kind, at, until=until))
    return rows


# --- The summary ---------------------------------------------------------------------------


@dataclass
class Session:
    """One sitting: an opening of the writing page, split where nothing happened for SESSION_GAP."""

    started: datetime
    ended: datetime
    active_seconds: int = 0
    events: list[WritingEvent] = field(default_factory=list)  # pastes, insertions, focus lost

    @property
    def active(self) -> str:
        return duration(self.active_seconds)

    @property
    def rows(self) -> list[TimelineRow]:
        return [TimelineRow.of(event) for event in self.events]


@dataclass
class TimelineRow:
    """One line of the timeline, in words."""

    at: datetime
    what: str
    where: str
    length: str

    @classmethod
    def of(cls, event: WritingEvent) -> TimelineRow:
        if event.kind == WritingEvent.Kind.FOCUS_LOST:
            away = duration(seconds_between(event.at, event.until)) if event.until else ""
            return cls(event.at, "Left the page", "", f"away {away}" if away else "")
        where = f"at character {event.position:,}" if event.position is not None else ""
        what = "Paste" if event.kind == WritingEvent.Kind.PASTE else "Large insertion (not a paste)"
        if event.kind == WritingEvent.Kind.PASTE:
            what = f"Paste: {event.get_origin_display()}" if event.origin else "Paste"
        return cls(event.at, what, where, plural(event.length, "character"))


@dataclass
class Summary:
    sessions: list[Session]
    timed: bool

    def _of(self, kind: str) -> list[WritingEvent]:
        return [event for session in self.sessions for event in session.events if event.kind == kind]

    @property
    def recorded(self) -> bool:
        return bool(self.sessions)

    @property
    def active_seconds(self) -> int:
        return sum(session.active_seconds for session in self.sessions)

    @property
    def pastes(self) -> list[WritingEvent]:
        return self._of(WritingEvent.Kind.PASTE)

    @property
    def largest_paste(self) -> int:
        return max((event.length for event in self.pastes), default=0)

    @property
    def quoted(self) -> int:
        return sum(1 for event in self.pastes if event.origin == WritingEvent.Origin.SOURCES)

    @property
    def insertions(self) -> list[WritingEvent]:
        return self._of(WritingEvent.Kind.INSERTION)

    @property
    def focus_lost(self) -> list[WritingEvent]:
        return self._of(WritingEvent.Kind.FOCUS_LOST) if self.timed else []

    @property
    def focus_lost_seconds(self) -> int:
        return sum(seconds_between(event.at, event.until) for event in self.focus_lost)

    @property
    def sentence(self) -> str:
        """The short line: "Written over 4 sessions, 2 h 10 min active; 3 pastes, the largest 212
        characters (1 quoted from the sources); …"."""
        if not self.recorded:
            return "No writing record: nothing was recorded while this essay was written."
        parts = [f"Written over {plural(len(self.sessions), 'session')}, {duration(self.active_seconds)} active"]
        pastes = self.pastes
        if pastes:
            paste = f"{plural(len(pastes), 'paste')}, the largest {plural(self.largest_paste, 'character')}"
            moved = sum(1 for event in pastes if event.origin == WritingEvent.Origin.ESSAY)
            origins = [f"{self.quoted:,} quoted from the sources"] if self.quoted else []
            origins += [f"{moved:,} moved within the essay"] if moved else []
            if origins:
                paste += f" ({', '.join(origins)})"
            parts.append(paste)
        else:
            parts.append("no pastes")
        if self.insertions:
            parts.append(plural(len(self.insertions), "large insertion"))
        if self.timed:
            lost = self.focus_lost
            if lost:
                times = "once" if len(lost) == 1 else plural(len(lost), "time")
                parts.append(f"left the page {times} ({duration(self.focus_lost_seconds)} in all)")
            else:
                parts.append("never left the page")
        return "; ".join(parts) + "."


def seconds_between(start: datetime, end: datetime | None) -> int:
    return max(0, round((end - start).total_seconds())) if end else 0


def duration(seconds: int) -> str:
    """ "2 h 10 min", "45 min", "less than a minute"."""
    minutes = seconds // 60
    if minutes == 0:
        return "less than a minute"
    hours, minutes = divmod(minutes, 60)
    if not hours:
        return f"{minutes} min"
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def summarise(events: Iterable[WritingEvent], timed: bool) -> Summary:
    """The record's sessions, in time order: each opening of the page is one, and a pause of
    more than SESSION_GAP within it starts another. The one definition of a session."""
    by_page: dict[str, list[WritingEvent]] = {}
    for event in events:
        if event.kind == WritingEvent.Kind.FOCUS_LOST and not timed:
            continue
        by_page.setdefault(event.session, []).append(event)
    sessions: list[Session] = []
    for page_events in by_page.values():
        current: Session | None = None
        for event in sorted(page_events, key=lambda e: (e.at, e.batch, e.index)):
            end = max(event.at, event.until or event.at)
            if current is None or event.at - current.ended > SESSION_GAP:
                current = Session(started=event.at, ended=end)
                sessions.append(current)
            current.ended = max(current.ended, end)
            if event.kind == WritingEvent.Kind.WRITING:
                current.active_seconds += event.active_seconds
            else:
                current.events.append(event)
    sessions.sort(key=lambda session: session.started)
    return Summary(sessions=sessions, timed=timed)


def summary_for(submission: Submission) -> Summary:
    """The summary of one essay: one query."""
    return summarise(submission.writing_events.order_by("at", "pk"), bool(submission.assignment.time_limit_minutes))


# --- The replay ----------------------------------------------------------------------------


@dataclass
class Frame:
    at: datetime
    words: int
    text: str
    label: str

    def as_json(self) -> dict[str, object]:
        local = timezone.localtime(self.at)
        return {
            "at": local.isoformat(),
            "time": date_format(local, "j F Y, H:i"),
            "words": self.words,
            "label": self.label,
            "text": self.text,
        }


def replay_frames(submission: Submission, revisions: Sequence[SubmissionRevision]) -> list[Frame]:
    """The essay as it grew, oldest first, from its saved revisions; the last frame is always
    the essay's text now, exactly (when the newest revision differs from it, the text now is
    added as the last frame). At most MAX_FRAMES, evenly spread, keeping the first and last."""
    frames = [
        Frame(revision.created_at, revision.word_count, revision.text, revision.get_reason_display())
        for revision in revisions
    ]
    if not frames or frames[-1].text != submission.text:
        frames.append(Frame(submission.updated_at, count_words(submission.text), submission.text, "The essay now"))
    if len(frames) > MAX_FRAMES:
        last = len(frames) - 1
        keep = sorted({round(i * last / (MAX_FRAMES - 1)) for i in range(MAX_FRAMES)})
        frames = [frames[i] for i in keep]
    return frames
