/**
 * What an EventBridge Scheduler schedule for the state machine must be, checked before any AWS
 * write: the expression (`cron(...)` with six fields, or `rate(...)`), the IANA time zone, the
 * execution input, and the schedule's name. Pure: no AWS client here.
 *
 * Not wired to inputs yet: creating the schedule needs @aws-sdk/client-scheduler, which this
 * build does not have (see the branch report). The checks are the ones the inputs will use.
 */
import { shortHash } from "./canonical.js";

/** Why a value is refused, for the caller to put into a UserError naming its input. */
export type Check = { ok: true } | { ok: false; problem: string; hint: string };

const OK: Check = { ok: true };
const fail = (problem: string, hint: string): Check => ({ ok: false, problem, hint });

const MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
const DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];
const CRON_HINT =
  "EventBridge Scheduler cron takes six fields: cron(minutes hours day-of-month month day-of-week year), one of day-of-month and day-of-week being ?, e.g. cron(0 6 * * ? *).";
const RATE_HINT =
  "rate(VALUE UNIT) with UNIT minute(s), hour(s) or day(s), e.g. rate(15 minutes) or rate(1 day).";

interface Field {
  name: string;
  min: number;
  max: number;
  names?: string[];
  /** Extra tokens the field allows: `L`, `W`, `#`, `?`. */
  special: RegExp | null;
}

const FIELDS: Field[] = [
  { name: "minutes", min: 0, max: 59, special: null },
  { name: "hours", min: 0, max: 23, special: null },
  { name: "day-of-month", min: 1, max: 31, special: /^(\?|L|LW|\d{1,2}W)$/ },
  { name: "month", min: 1, max: 12, names: MONTHS, special: null },
  { name: "day-of-week", min: 1, max: 7, names: DAYS, special: /^(\?|L|\d?L|[1-7A-Z]{1,3}#[1-5])$/ },
  { name: "year", min: 1970, max: 2199, special: null },
];

/** `cron(...)` or `rate(...)` as EventBridge Scheduler accepts them (one-time `at(...)` is not a schedule). */
export function checkScheduleExpression(expression: string): Check {
  const text = expression.trim();
  const rate = /^rate\((.*)\)$/.exec(text);
  if (rate) return checkRate(rate[1] ?? "");
  const cron = /^cron\((.*)\)$/.exec(text);
  if (cron) return checkCron(cron[1] ?? "");
  return fail(`"${expression}" is neither cron(...) nor rate(...).`, `${CRON_HINT} Or ${RATE_HINT}`);
}

function checkRate(body: string): Check {
  const match = /^(\d+) (minute|minutes|hour|hours|day|days)$/.exec(body.trim());
  if (!match) return fail(`rate(${body}) is not VALUE UNIT.`, RATE_HINT);
  const value = Number(match[1]);
  const unit = match[2] ?? "";
  if (value < 1) return fail(`rate(${body}): the value must be a positive whole number.`, RATE_HINT);
  // AWS wants the singular for 1 and the plural otherwise.
  if ((value === 1) !== !unit.endsWith("s"))
    return fail(
      `rate(${body}): use "${value === 1 ? unit.replace(/s$/, "") : `${unit}s`}" with ${value}.`,
      RATE_HINT,
    );
  return OK;
}

function checkCron(body: string): Check {
  const parts = body.trim().split(/\s+/);
  if (parts.length !== 6) return fail(`cron(${body}) has ${parts.length} field(s), not 6.`, CRON_HINT);
  for (const [index, field] of FIELDS.entries()) {
    const problem = fieldProblem(field, parts[index] ?? "");
    if (problem) return fail(`cron(${body}): ${field.name} field "${parts[index]}" ${problem}.`, CRON_HINT);
  }
  const [, , dayOfMonth, , dayOfWeek] = parts;
  if ((dayOfMonth === "?") === (dayOfWeek === "?"))
    return fail(`cron(${body}): exactly one of day-of-month and day-of-week must be ?.`, CRON_HINT);
  return OK;
}

function fieldProblem(field: Field, token: string): string | null {
  if (field.special?.test(token.toUpperCase())) return null;
  if (token === "?") return "may not be ? (only day-of-month or day-of-week)";
  for (const item of token.split(",")) {
    const [range = "", step] = item.split("/");
    if (step !== undefined && !/^\d+$/.test(step)) return `has step "${step}", not a number`;
    if (range === "*") continue;
    const bounds = range.split("-");
    if (bounds.length > 2) return `has range "${range}"`;
    for (const bound of bounds) {
      const value = valueOf(field, bound);
      if (value === null) return `has "${bound}", not a value`;
      if (value < field.min || value > field.max) return `has ${bound}, outside ${field.min}-${field.max}`;
    }
  }
  return null;
}

function valueOf(field: Field, token: string): number | null {
  if (/^\d+$/.test(token)) return Number(token);
  const at = field.names?.indexOf(token.toUpperCase()) ?? -1;
  return at >= 0 ? at + 1 : null;
}

/** An IANA time zone name the runtime knows (Node ships the full ICU database), e.g. Europe/Paris. */
export function checkTimeZone(timeZone: string): Check {
  const known = Intl.supportedValuesOf("timeZone");
  if (timeZone === "UTC" || known.includes(timeZone)) return OK;
  let resolved: string | null = null;
  try {
    resolved = new Intl.DateTimeFormat("en-US", { timeZone }).resolvedOptions().timeZone;
  } catch {
    // not a zone at all
  }
  // ICU ignores case (europe/paris) where AWS does not; aliases (US/Eastern, Etc/GMT+1) are IANA names.
  const caseVariant =
    resolved !== null && resolved !== timeZone && resolved.toLowerCase() === timeZone.toLowerCase();
  if (resolved !== null && !caseVariant && /^[A-Za-z]+(?:[/_+-][A-Za-z0-9]+)*$/.test(timeZone)) return OK;
  const close = known.filter((zone) => zone.toLowerCase() === timeZone.toLowerCase());
  return fail(
    `"${timeZone}" is not an IANA time zone.`,
    close[0] ? `Did you mean ${close[0]}?` : "Use a name such as UTC, Europe/Paris or America/New_York.",
  );
}

/** Schedule names allow 1-64 of [0-9a-zA-Z-_.]: `kedro-sfn-<state machine>`, shortened with a hash if needed. */
export function scheduleName(stateMachineName: string): string {
  const plain = `kedro-sfn-${stateMachineName}`;
  if (plain.length <= 64 && /^[\w.-]+$/.test(plain)) return plain;
  const safe = plain.replace(/[^\w.-]/g, "-").slice(0, 64 - 9);
  return `${safe}-${shortHash(stateMachineName).slice(0, 8)}`;
}
