"""The fault catalogue's table: scenario, runs, rows compared, rows lost, rows changed (printed after the tests).

Each figure is measured before the test asserts anything about it, so a failing case still shows
what it lost."""

RESULTS: list[tuple[str, int, int, int, int | None]] = []


def record(scenario: str, runs: int, rows_compared: int, rows_lost: int, rows_changed: int | None = None) -> None:
    RESULTS.append((scenario, runs, rows_compared, rows_lost, rows_changed))


def pytest_terminal_summary(terminalreporter):
    if not RESULTS:
        return
    write = terminalreporter.write_line
    write("")
    write(f"{'fault scenario':<62}{'runs':>6}{'rows compared':>15}{'rows lost':>11}{'rows changed':>14}")
    for scenario, runs, compared, lost, changed in RESULTS:
        write(f"{scenario:<62}{runs:>6}{compared:>15,}{lost:>11}{'-' if changed is None else changed:>14}")
