"""The harness runs a scenario end to end at a tiny size and reports it against its floor."""

import datetime
import json

from bench import generator, harness
from bench.copyload import stamp_read


def test_a_scenario_runs_end_to_end_with_its_floor_and_plans(db, tmp_path, monkeypatch):
    import bench.scenarios  # noqa: F401

    plan = generator.Plan.make(contacts=200, seed=2, as_of=datetime.date(2026, 11, 30))
    generator.generate(plan=plan, workers=0, log=lambda message: None)
    stamp = stamp_read("default")
    env = harness.Env(contacts=200, stamp=stamp, isolate=False, log=lambda message: None)

    result = harness.run_scenario(harness.SCENARIOS["contacts.list.page1"], env, repeat=2, warmup=1)

    assert "error" not in result, result.get("traceback")
    assert result["count"] == 2 and result["median_ms"] > 0
    assert result["floor"]["median_ms"] > 0 and result["ratio"] > 0
    assert result["plans"]["queries"] > 0
    monkeypatch.setattr(harness, "RESULTS_DIR", tmp_path)
    path = harness.write_results([result], size_label="tiny", env=env, dataset={"contacts": 200}, started=0.0)
    written = json.loads(path.read_text())
    assert written["machine"]["cores"] and written["machine"]["postgresql"]
    assert written["scenarios"][0]["name"] == "contacts.list.page1"
    assert "Contact list" in harness.table([result])


def test_percentiles_are_nearest_rank():
    assert harness.percentile([5.0, 1.0, 3.0, 2.0, 4.0], 0.95) == 5.0
    assert harness.percentile([float(n) for n in range(1, 101)], 0.95) == 95.0


def test_a_list_page_is_followed_by_its_next_link():
    from bench.scenarios.client_db import activity_sort, next_link

    html = (
        '<a href="?sort=-activity&amp;phase=retention">Last activity</a>'
        '<a class="page-link" href="?after=eyJ4&amp;phase=retention" rel="next">अगला</a>'
    )
    assert next_link(html) == "?after=eyJ4&phase=retention"
    assert activity_sort(html) == ("sort", "-activity")


def test_the_sales_scenarios_run_on_a_tiny_data_set_and_leave_it_as_it_was(db):
    import bench.scenarios  # noqa: F401
    from contacts.models import Contact, PhaseChange
    from sales.models import ContactTier, TierChange

    plan = generator.Plan.make(contacts=200, seed=2, as_of=datetime.date(2026, 11, 30))
    generator.generate(plan=plan, workers=0, log=lambda message: None)
    env = harness.Env(contacts=200, stamp=stamp_read("default"), isolate=False, log=lambda message: None)

    def state():
        return (
            sorted(Contact.objects.values_list("id", "phase")),
            PhaseChange.objects.count(),
            sorted(ContactTier.objects.values_list("contact_id", "tier_id")),
            TierChange.objects.count(),
        )

    before = state()
    names = ["sales.kanban", "sales.contact_page", "sales.nightly_lifecycle", "sales.nightly_loyalty"]
    for name in names:
        result = harness.run_scenario(harness.SCENARIOS[name], env, repeat=1, warmup=0)
        assert "error" not in result, result.get("traceback")
        assert result["median_ms"] > 0 and result["floor"]["median_ms"] > 0
    # the data set was made on 30 November 2026: today the nightly jobs move (and roll back) people
    assert state() == before
