"""Whose jurisdiction a place is in: the rule every read of every service applies.

A village sees its own village, a coordinator its district, a regency office its regency,
an admin everything. (An agency sees the cases it has a task in: the requests service knows.)
"""


def covers(actor, village_code, district_code, regency_code):
    role, scope = actor.get("role"), actor.get("scope")
    if role == "admin":
        return True
    return {"village": village_code, "coordinator": district_code,
            "regency": regency_code}.get(role, object()) == scope
