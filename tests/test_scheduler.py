"""The scheduler runs as its own process; the web app never starts jobs."""

from corrections.scheduler import build_scheduler, jobs


def test_job_table_holds_the_sweep_every_minute(app):
    table = {job["id"]: job for job in jobs(app)}
    assert table["sweep"]["trigger"] == "interval"
    assert table["sweep"]["seconds"] == 60


def test_scheduler_is_built_with_the_jobs_but_not_started(app):
    scheduler = build_scheduler(app)
    assert [job.id for job in scheduler.get_jobs()] == ["sweep"]
    assert not scheduler.running


def test_building_the_web_app_starts_no_background_thread():
    import threading

    from config import TestingConfig
    from corrections import create_app

    before = {t.ident for t in threading.enumerate()}
    create_app(TestingConfig)
    assert {t.ident for t in threading.enumerate()} - before == set()
