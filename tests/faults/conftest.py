"""The fault catalogue's table: scenario, runs, rows compared, rows lost (printed after the tests)."""

RESULTS: list[tuple[str, int, int, int]] = []


def record(scenario: str, runs: int, rows_compared: int, rows_lost: int) -> None:
    RESULTS.append((scenario, runs, rows_compared, rows_lost))


def pytest_terminal_summary(terminalreporter):
    if not RESULTS:
        return
    write = terminalreporter.write_line
    write("")
    write(f"{'fault scenario':<58}{'runs':>6}{'rows compared':>15}{'rows lost':>11}")
    for scenario, runs, compared, lost in RESULTS:
        write(f"{scenario:<58}{runs:>6}{compared:>15,}{lost:>11}")
