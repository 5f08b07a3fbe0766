"""Generators of support: tickets of customers (a few of prospects), dated while they were customers,
with SLA due times from the default policies (calendar time), their history and the time spent.

Older tickets were answered (some after the first-response target: flagged as missed at its due
time), resolved (some late, flagged too), mostly closed, often rated; the last days' are still in the
queue, and those of them past a due time are flagged as the every-minute breach job would have."""

import importlib

from bench import purchases
from bench.client_db import table
from bench.copyload import NULL, escape
from bench.generator import generator, reference
from support.demo import COMMENTS, CUSTOMER_MESSAGES, NOTES, REPLIES, SCORES, SUBJECTS

DAY, HOUR, MINUTE = purchases.DAY, purchases.HOUR, 60
PRIORITIES = (("low", 20), ("normal", 50), ("high", 22), ("urgent", 8))
CHANNELS = (("phone", 20), ("whatsapp", 25), ("email", 35), ("web", 12), ("walk_in", 5), ("social", 3))
RECENT = 3 * DAY


@reference
def _support_tables(ctx) -> None:
    # The SLA policies a migrated database has (support migration 0002), in minutes.
    defaults = importlib.import_module("support.migrations.0002_default_sla_policies").DEFAULTS
    ctx.ref["sla"] = {
        priority: (first * MINUTE, resolution * MINUTE) for priority, (first, resolution) in defaults.items()
    }
    ctx.ref["priorities"] = table(PRIORITIES)
    ctx.ref["ticket_channels"] = table(CHANNELS)
    ctx.ref["scores"] = table(SCORES)


@generator(
    "tickets",
    stage="contacts",
    tables={
        "support_ticket": (
            "id",
            "contact_id",
            "subject",
            "description",
            "channel",
            "priority",
            "status",
            "assignee_id",
            "created_by_id",
            "created_at",
            "updated_at",
            "first_response_at",
            "resolved_at",
            "closed_at",
            "first_response_due_at",
            "resolution_due_at",
            "first_response_breached_at",
            "resolution_breached_at",
            "satisfaction",
            "satisfaction_comment",
            "satisfaction_answered_at",
            "satisfaction_requested_at",
            "satisfaction_nonce",
        ),
        "support_ticketevent": ("ticket_id", "kind", "at", "by_id", "body", "from_value", "to_value"),
        "support_timeentry": ("ticket_id", "user_id", "minutes", "note", "at", "created_at"),
    },
)
def tickets(ctx, chunk) -> None:
    rng = chunk.rng("tickets")
    clock, now = ctx.clock.text, ctx.now
    ref = ctx.ref
    profiles, sla = ref["profiles"], ref["sla"]
    priorities, channels, scores = ref["priorities"], ref["ticket_channels"], ref["scores"]
    tickets_out, events_out, time_out = (
        chunk.out("support_ticket"),
        chunk.out("support_ticketevent"),
        chunk.out("support_timeentry"),
    )
    for p in chunk.data["people"]:
        count = profiles.tickets[p.id]
        if not count:
            continue
        paid = [order for order in p.orders if order[1] == purchases.PAID]
        earliest = paid[0][0] if paid else p.created + 600
        latest = p.phase_changed if p.phase == "churned" else now - 10 * MINUTE
        if latest <= earliest:
            latest = earliest + HOUR
        for number in range(profiles.ticket_base[p.id], profiles.ticket_base[p.id] + count):
            if latest >= now - 10 * MINUTE and rng.random() < 0.1:
                opened = max(earliest, now - RECENT) + int(rng.random() * max(0, now - max(earliest, now - RECENT)))
            else:
                opened = earliest + int(rng.random() * (latest - earliest))
            opened = min(opened, now - 10 * MINUTE)
            agent = p.owner
            assignee = agent if rng.random() < 0.85 else NULL
            priority = priorities[int(rng.random() * len(priorities))]
            first_target, resolution_target = sla[priority]
            first_due, resolution_due = opened + first_target, opened + resolution_target
            subject, description = SUBJECTS[int(rng.random() * len(SUBJECTS))]
            events = [("created", opened, agent, description, "", priority)]
            # most answers and resolutions come within the target, some after it (the missed ones)
            answered = opened + int(first_target * (0.1 + rng.random() * 1.05))
            resolved = opened + int(resolution_target * (0.2 + rng.random() * 0.9))
            resolved = max(resolved, answered + MINUTE)
            status, first_response, resolved_at, closed_at = "new", None, None, None
            score = comment = answered_at = requested = None
            # a few of the last days' tickets nobody has answered yet
            if answered < now and (opened < now - RECENT or rng.random() < 0.8):
                first_response = answered
                if rng.random() < 0.3:
                    events.append(("note", answered, agent, NOTES[int(rng.random() * len(NOTES))], "", ""))
                events.append(("reply", answered, agent, REPLIES[int(rng.random() * len(REPLIES))], "", ""))
                status = "open"
                for _ in range(1 + int(rng.random() * 3)):
                    worked = answered + int(rng.random() * 4 * HOUR)
                    if worked < now:
                        minutes = (10, 15, 20, 30, 45, 60)[int(rng.random() * 6)]
                        time_out.append(f"{number}\t{agent}\t{minutes}\t\t{clock(worked)}\t{clock(worked)}\n")
                if resolved < now:
                    if rng.random() < 0.4:
                        at = answered + int(rng.random() * (resolved - answered))
                        message = CUSTOMER_MESSAGES[int(rng.random() * len(CUSTOMER_MESSAGES))]
                        events.append(("customer", at, NULL, message, "", ""))
                    events.append(("status", resolved, agent, "", "open", "resolved"))
                    status, resolved_at, requested = "resolved", resolved, resolved
                    rated = resolved + HOUR + int(rng.random() * 47 * HOUR)
                    if rng.random() < 0.6 and rated < now:
                        score, answered_at = scores[int(rng.random() * len(scores))], rated
                        comment = COMMENTS[int(rng.random() * len(COMMENTS))]
                        events.append(("satisfaction", rated, NULL, comment, "", str(score)))
                    closing = resolved + 2 * DAY + int(rng.random() * 5 * DAY)
                    if rng.random() < 0.7 and closing < now:
                        events.append(("status", closing, agent, "", "resolved", "closed"))
                        status, closed_at = "closed", closing
                elif rng.random() < 0.4:
                    events.append(("status", answered + MINUTE, agent, "", "open", "pending"))
                    status = "pending"
            # Targets missed: a late answer or resolution is flagged at its due time, and so is an
            # active ticket past a due time (the breach job runs every minute).
            first_breach = first_due if (first_response or now) > first_due else None
            resolution_breach = resolution_due if (resolved_at or now) > resolution_due else None
            if first_breach is not None and first_response is None:
                events.append(("breach", first_breach, NULL, "", "", "first_response"))
            if resolution_breach is not None and resolved_at is None:
                events.append(("breach", resolution_breach, NULL, "", "", "resolution"))
            events.sort(key=lambda event: event[1])
            for kind, at, by, body, before, after in events:
                events_out.append(f"{number}\t{kind}\t{clock(at)}\t{by}\t{escape(body)}\t{before}\t{after}\n")
            text = clock
            tickets_out.append(
                f"{number}\t{p.id}\t{escape(subject)}\t{escape(description)}\t"
                f"{channels[int(rng.random() * len(channels))]}\t{priority}\t{status}\t{assignee}\t{agent}\t"
                f"{text(opened)}\t{text(events[-1][1])}\t{_at(text, first_response)}\t{_at(text, resolved_at)}\t"
                f"{_at(text, closed_at)}\t{text(first_due)}\t{text(resolution_due)}\t{_at(text, first_breach)}\t"
                f"{_at(text, resolution_breach)}\t{score if score is not None else NULL}\t{escape(comment or '')}\t"
                f"{_at(text, answered_at)}\t{_at(text, requested)}\t\n"
            )


def _at(text, ts) -> str:
    return NULL if ts is None else text(ts)
