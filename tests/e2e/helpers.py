"""What a test does the way a user would: report, wait for a state, read an inbox."""
from tests.broker import eventually

PUNTEN, BUMIAJI, BATU = "35.79.02.2001", "35.79.02", "35.79"


def clean_water_report(**overrides):
    report = {"category": "air-bersih", "title": "Air bersih tidak mengalir empat hari",
              "description": "Sejak Kamis tidak ada air bersih di Dusun Krajan dan Dusun Jeding.",
              "severity": "high", "affected_people": 320}
    report.update(overrides)
    return report


def report(village, body, **kwargs):
    response = village.post("/reports", body, **kwargs)
    assert response.status_code == 202, response.text
    return response.json()


def case_when(client, case_id, status, timeout=15):
    """The case as `client` sees it, once it has reached `status`."""
    def reached():
        response = client.get(f"/cases/{case_id}")
        assert response.status_code == 200, response.text
        case = response.json()
        assert case["status"] == status, f"status is {case['status']}, waiting for {status}"
        return case

    return eventually(reached, timeout=timeout)


def inbox_types(client, case_id, expected, timeout=15):
    """The notification types `client` has for the case, once they include `expected`."""
    def arrived():
        response = client.get("/notifications", params={"case_id": case_id})
        assert response.status_code == 200, response.text
        types = [n["type"] for n in response.json()]
        missing = [t for t in expected if t not in types]
        assert not missing, f"{client.name} has {types}, still missing {missing}"
        return response.json()

    return eventually(arrived, timeout=timeout)


def task_of(case, agency_id):
    return next(t for t in case["tasks"] if t["agency"]["id"] == agency_id)
