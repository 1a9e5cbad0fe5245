"""The soak in one minute (issue 14): a live server with 2 workers, 8 threads of real SDK
clients doing every kind of action, one worker SIGKILLed and the whole server restarted under
load, then the oracle (``bench.soak_oracle``). Any violation fails the test: a 5xx other than
503, a lost or doubled warning, a removed member opening a later warning, audit counts that
differ from the acknowledged actions, a member's final ``audit verify`` failing, or any
``forked`` / ``decryption_failed`` (or other client error nobody's change explains).

One engine: PostgreSQL when ``BACKCHANNEL_TEST_POSTGRES_URL`` is set, else SQLite. The
PostgreSQL cluster is not restarted here (it is shared with the other tests); ``make bench``
does that (``bench.soak``).
"""

from pathlib import Path

from bench.soak import report, run
from tests.conftest import POSTGRES_URL, _free_port


def test_a_minute_of_mixed_load_with_faults_breaks_nothing(tmp_path: Path) -> None:
    result = run(
        seconds=60,
        engine="postgresql" if POSTGRES_URL else "sqlite",
        port=_free_port(),
        workers=2,
        restart_pg=False,
        logs=tmp_path,
        quiet=True,
        postgres_url=POSTGRES_URL,
    )
    text = report(result)
    assert not result["violations"], text
    assert [f["fault"] for f in result["faults"]] == ["kill_worker", "restart_server"], text
    done = {kind for minute in result["minutes"] for kind in minute["ms"]}
    assert {"post", "read", "check", "corroborate", "verify"} <= done, text
    assert result["oracle"]["acknowledged_warnings"] > 0, text
    assert result["oracle"]["reader_checks"] >= 18, text
