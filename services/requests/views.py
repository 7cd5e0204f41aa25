"""What the requests service shows of a case: the dicts its RPCs answer (for the API) and the
references its events carry (shared.events.CaseRef, TaskRef, ActorRef)."""
from services.requests import domain, facts, ladder, texts
from shared.events import iso


def ref(code, name):
    return {"code": code, "name": name}


# -- for the API ---------------------------------------------------------------------------------

def task_view(task):
    return {
        "id": task.id, "agency": {"id": task.agency_id, "name": task.agency_name},
        "role": task.role, "status": task.status, "accept_due_at": iso(task.accept_due_at),
        "due_at": iso(task.due_at), "accepted_at": iso(task.accepted_at),
        "completed_at": iso(task.completed_at), "declined_at": iso(task.declined_at),
        "note": task.last_note,
    }


def case_summary(case, now, lang):
    """A case as the list of cases shows it."""
    return {
        "id": case.id, "tracking_number": case.tracking_number, "status": case.status,
        "status_label": domain.status_name(case.status, lang),
        "category": case.category, "title": case.title, "severity": case.severity,
        "affected_people": case.affected_people,
        "village": ref(case.village_code, case.village_name),
        "district": ref(case.district_code, case.district_name),
        "regency": ref(case.regency_code, case.regency_name),
        "agencies": [{"id": t.agency_id, "name": t.agency_name, "role": t.role, "status": t.status}
                     for t in case.tasks],
        "created_at": iso(case.created_at), "updated_at": iso(case.updated_at),
        "overdue": ladder.is_overdue(case, now),
        "escalation_level": ladder.LEVEL_NAMES[case.escalation_level],
        "confidential": case.confidential,
    }


def photo_view(photo):
    return {"id": photo.id, "content_type": photo.content_type, "size": photo.size,
            "width": photo.width, "height": photo.height, "added_at": iso(photo.added_at),
            "added_by": {"role": photo.actor_role, "name": photo.actor_name}}


def case_view(case, now, lang):
    """A case as it is shown on its own: the summary, with its tasks and how it was routed."""
    explanation = case.explanation
    return {
        **case_summary(case, now, lang),
        "description": case.description,
        "location": {"lat": case.lat, "lon": case.lon} if case.lat is not None else None,
        "reporter": {"name": case.reporter_name},
        "tasks": [task_view(task) for task in case.tasks],
        "attachments": [photo_view(photo) for photo in case.photos],
        "routing": {"rule_id": case.rule_id,
                    "explanation": explanation[lang] if explanation else None},
        "likely_duplicate_of": case.likely_duplicate_of, "merged_into": case.merged_into,
    }


def public_case(case, lang):
    """A case as anyone may see it (Open311, the public pages): where, what, how far, and which
    agency answers for it; never who reported it. Only for a case that domain.is_public."""
    task = domain.responsible_task(case)
    return {
        "id": case.id, "tracking_number": case.tracking_number,
        "open": domain.is_open_to_the_public(case), "status": case.status,
        "status_label": domain.status_name(case.status, lang),
        "category": case.category, "title": case.title, "description": case.description,
        "village": ref(case.village_code, case.village_name),
        "district": ref(case.district_code, case.district_name),
        "regency": ref(case.regency_code, case.regency_name),
        "location": {"lat": case.lat, "lon": case.lon} if case.lat is not None else None,
        "agency": {"id": task.agency_id, "name": task.agency_name} if task else None,
        "expected_at": iso(task.due_at) if task else None,
        "created_at": iso(case.created_at), "updated_at": iso(case.updated_at),
    }


def timeline_entry(entry, lang):
    """One entry of a case's timeline, with the line that says what happened."""
    return {
        "at": iso(entry.at), "type": entry.type,
        "actor": {"role": entry.actor_role, "name": entry.actor_name},
        "summary": texts.summary(entry.type, entry.data, lang),
        "data": entry.data,
    }


def case_context(case):
    """What routing needs to plan a manual route of the case."""
    return {"id": case.id, "regency_code": case.regency_code,
            "district_code": case.district_code, "village_code": case.village_code,
            "category": case.category, "severity": case.severity}


def comment_view(comment_id, body, actor):
    return {"id": comment_id, "body": body, "author": {"role": actor["role"],
                                                        "name": actor["name"]}}


# -- for the events ------------------------------------------------------------------------------

def case_ref(case):
    """The case as every case event carries it (shared.events.CaseRef)."""
    return {
        "id": case.id, "tracking_number": case.tracking_number, "title": case.title,
        "category": case.category, "severity": case.severity,
        "affected_people": case.affected_people, "status": case.status,
        "version": case.version or 1, "escalation_level": case.escalation_level,
        "village": ref(case.village_code, case.village_name),
        "district": ref(case.district_code, case.district_name),
        "regency": ref(case.regency_code, case.regency_name),
        "tasks": [task_ref(task) for task in case.tasks],
    }


def task_ref(task):
    return {"id": task.id, "agency_id": task.agency_id, "agency_name": task.agency_name,
            "role": task.role, "status": task.status, "accept_due_at": iso(task.accept_due_at),
            "due_at": iso(task.due_at)}


def actor_ref(actor):
    return {"id": actor["id"], "role": actor["role"], "name": actor["name"],
            "scope": actor.get("scope")}


def fact_event(case, fact, data):
    """The payload of the event that announces a fact (shared.events.CaseEvent, TaskEvent,
    CommentAdded); `data` is what the timeline recorded of it."""
    payload = {"case": case_ref(case), "actor": actor_ref(fact.actor),
               "note": data.get("note") or data.get("reason"),
               "rule_id": data.get("rule_id"), "explanation": data.get("explanation")}
    if isinstance(payload["note"], dict):  # a system reason, written in both languages
        payload["explanation"], payload["note"] = payload["note"], None
    if fact.task is not None:
        payload["task"] = task_ref(fact.task)
    payload["agency_ids"] = list(data.get("agencies") or [])
    payload.update({key: data[key] for key in ("level", "due_at", "other_number")
                    if key in data})
    if fact.type == facts.COMMENT:
        payload.update(comment_id=data["comment_id"], body=data["body"])
    return payload
