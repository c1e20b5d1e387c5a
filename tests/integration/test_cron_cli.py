"""`hera cron next` and `hera cron check` run as a user would: output, stderr and exit codes.

Runs the binary at $HERA_BIN (ctest sets it); skipped when it is unset. Standard library only.
"""

import os
import subprocess
import unittest

HERA_BIN = os.environ.get("HERA_BIN")


def hera(*args):
    return subprocess.run([HERA_BIN, *args], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "TZ": "UTC"})


@unittest.skipUnless(HERA_BIN, "HERA_BIN is not set (path to the hera binary)")
class CronNextTest(unittest.TestCase):
    def next_times(self, expr, tz, start, n):
        r = hera("cron", "next", expr, "--tz", tz, "--from", start, "-n", str(n))
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout.splitlines()

    def test_spring_forward_gap_fires_once_after_the_gap(self):
        self.assertEqual(
            self.next_times("0 30 2 * * ?", "America/New_York", "2026-03-07T12:00:00", 2),
            ["2026-03-08T03:00:00-04:00", "2026-03-09T02:30:00-04:00"])
        self.assertEqual(
            self.next_times("0 */15 * * * ?", "America/New_York", "2026-03-08T01:50:00", 2),
            ["2026-03-08T03:00:00-04:00", "2026-03-08T03:15:00-04:00"])

    def test_fall_back_interval_fires_in_both_passes(self):
        self.assertEqual(
            self.next_times("0 */30 * * * ?", "America/New_York", "2016-11-06T01:30:00-04:00", 3),
            ["2016-11-06T01:00:00-05:00", "2016-11-06T01:30:00-05:00",
             "2016-11-06T02:00:00-05:00"])

    def test_fall_back_fixed_hour_fires_in_the_first_pass_only(self):
        self.assertEqual(
            self.next_times("0 30 1 * * ?", "America/New_York", "2026-10-31T12:00:00", 2),
            ["2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00"])

    def test_offset_in_from_picks_the_pass(self):
        self.assertEqual(
            self.next_times("0 45 1 * * ?", "America/New_York", "2026-11-01T01:10:00-04:00", 1),
            ["2026-11-01T01:45:00-04:00"])
        self.assertEqual(
            self.next_times("0 45 1 * * ?", "America/New_York", "2026-11-01T01:10:00-05:00", 1),
            ["2026-11-02T01:45:00-05:00"])

    def test_lord_howe_half_hour_shift(self):
        self.assertEqual(
            self.next_times("0 15 2 * * ?", "Australia/Lord_Howe", "2026-10-03T12:00:00", 1),
            ["2026-10-04T02:30:00+11:00"])

    def test_unix_dialect_and_macros(self):
        self.assertEqual(
            self.next_times("30 4 1,15 * 5", "UTC", "2024-03-01T04:30:00", 3),
            ["2024-03-08T04:30:00+00:00", "2024-03-15T04:30:00+00:00",
             "2024-03-22T04:30:00+00:00"])
        self.assertEqual(self.next_times("@daily", "Asia/Shanghai", "2026-01-01T12:00:00", 1),
                         ["2026-01-02T00:00:00+08:00"])

    def test_no_further_time_prints_fewer_lines_and_succeeds(self):
        self.assertEqual(
            self.next_times("0 0 12 1 1 ? 2027", "UTC", "2026-06-01T00:00:00", 5),
            ["2027-01-01T12:00:00+00:00"])
        self.assertEqual(self.next_times("0 0 0 30 2 ?", "UTC", "2026-01-01T00:00:00", 3), [])

    def test_default_is_one_time_from_now(self):
        r = hera("cron", "next", "0 0 0 * * ?", "--tz", "UTC")
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.splitlines()
        self.assertEqual(len(lines), 1)
        self.assertRegex(lines[0], r"^\d{4}-\d\d-\d\dT00:00:00\+00:00$")

    def test_bad_input_exits_1_with_the_reason(self):
        r = hera("cron", "next", "0 0 0 ? * 8", "--tz", "UTC")
        self.assertEqual(r.returncode, 1)
        self.assertIn("day-of-week: 8 is outside 1-7", r.stderr)
        self.assertEqual(r.stdout, "")
        r = hera("cron", "next", "0 0 * * *", "--tz", "Nowhere/City")
        self.assertEqual(r.returncode, 1)
        self.assertIn("Nowhere/City", r.stderr)
        r = hera("cron", "next", "0 0 * * *", "--tz", "UTC", "--from", "yesterday")
        self.assertEqual(r.returncode, 1)
        self.assertIn("--from", r.stderr)


@unittest.skipUnless(HERA_BIN, "HERA_BIN is not set (path to the hera binary)")
class CronCheckTest(unittest.TestCase):
    def test_valid_expressions_print_ok(self):
        for expr in ["0 0 3 ? * MON-FRI", "0 0 0 LW * ?", "0 15 10 ? * 6#3 2030",
                     "*/5 9-17 * * 1-5", "@hourly"]:
            with self.subTest(expr=expr):
                r = hera("cron", "check", expr)
                self.assertEqual((r.returncode, r.stdout.strip()), (0, "OK"), r.stderr)

    def test_invalid_expressions_exit_1_naming_the_field(self):
        cases = {
            "0 0 0 ? * 8": "day-of-week",
            "60 * * * * ?": "second",
            "* * 32 * *": "day-of-month",
            "0 0 * * * *": "'?'",
            "* * *": "fields",
            "0 0 0 1 1 ? 2200": "year",
        }
        for expr, needle in cases.items():
            with self.subTest(expr=expr):
                r = hera("cron", "check", expr)
                self.assertEqual(r.returncode, 1)
                self.assertIn(needle, r.stderr)
                self.assertNotIn("OK", r.stdout)


if __name__ == "__main__":
    unittest.main()
