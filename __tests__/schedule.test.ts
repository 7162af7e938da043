/** The schedule checks (src/plan/schedule.ts): expressions, time zones and names, before any AWS write. */
import { describe, expect, it } from "@jest/globals";
import { checkScheduleExpression, checkTimeZone, scheduleName } from "../src/plan/schedule.js";

const problem = (check: ReturnType<typeof checkScheduleExpression>): string =>
  check.ok ? "ok" : check.problem;

describe("schedule expressions", () => {
  it("accepts what EventBridge Scheduler documents", () => {
    for (const expression of [
      "cron(0 6 * * ? *)",
      "cron(15 10 ? * 6L 2026-2030)",
      "cron(0/15 * ? * MON-FRI *)",
      "cron(0 8 1 JAN,JUL ? *)",
      "cron(0 18 L * ? *)",
      "cron(0 9 ? * 2#1 *)",
      "rate(1 day)",
      "rate(15 minutes)",
      "rate(2 hours)",
    ])
      expect([expression, problem(checkScheduleExpression(expression))]).toEqual([expression, "ok"]);
  });

  it("refuses the rest, saying which part is wrong", () => {
    expect(problem(checkScheduleExpression("0 6 * * *"))).toBe(
      '"0 6 * * *" is neither cron(...) nor rate(...).',
    );
    expect(problem(checkScheduleExpression("cron(0 6 * * *)"))).toBe(
      "cron(0 6 * * *) has 5 field(s), not 6.",
    );
    expect(problem(checkScheduleExpression("cron(61 6 * * ? *)"))).toBe(
      'cron(61 6 * * ? *): minutes field "61" has 61, outside 0-59.',
    );
    expect(problem(checkScheduleExpression("cron(0 6 * * * *)"))).toBe(
      "cron(0 6 * * * *): exactly one of day-of-month and day-of-week must be ?.",
    );
    expect(problem(checkScheduleExpression("cron(0 6 ? FOO ? *)"))).toBe(
      'cron(0 6 ? FOO ? *): month field "FOO" has "FOO", not a value.',
    );
    expect(problem(checkScheduleExpression("rate(1 days)"))).toBe('rate(1 days): use "day" with 1.');
    expect(problem(checkScheduleExpression("rate(5 minute)"))).toBe('rate(5 minute): use "minutes" with 5.');
    expect(problem(checkScheduleExpression("rate(0 minutes)"))).toContain("positive");
    expect(problem(checkScheduleExpression("rate(1 week)"))).toBe("rate(1 week) is not VALUE UNIT.");
    const refused = checkScheduleExpression("cron(0 6 * * *)");
    expect(refused.ok ? "" : refused.hint).toContain("cron(0 6 * * ? *)");
  });
});

describe("schedule time zones and names", () => {
  it("accepts IANA names and refuses others with a suggestion", () => {
    for (const zone of ["UTC", "Europe/Paris", "America/New_York", "Asia/Kolkata", "Etc/GMT+1"])
      expect([zone, checkTimeZone(zone).ok]).toEqual([zone, true]);
    const wrongCase = checkTimeZone("europe/paris");
    expect(wrongCase).toEqual({
      ok: false,
      problem: '"europe/paris" is not an IANA time zone.',
      hint: "Did you mean Europe/Paris?",
    });
    expect(checkTimeZone("Mars/Olympus").ok).toBe(false);
    expect(checkTimeZone("CEST+2").ok).toBe(false);
  });

  it("names the schedule after the state machine, within 64 allowed characters", () => {
    expect(scheduleName("spaceflights")).toBe("kedro-sfn-spaceflights");
    const long = scheduleName("x".repeat(80));
    expect(long).toHaveLength(64);
    expect(long).toMatch(/^kedro-sfn-x+-[0-9a-f]{8}$/);
    expect(scheduleName("café")).toMatch(/^kedro-sfn-caf--[0-9a-f]{8}$/);
    expect(scheduleName("café")).not.toBe(scheduleName("cafè"));
  });
});
