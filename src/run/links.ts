import type { RunLocation } from "./types.js";

/** Region, account and partition of any ARN (`arn:aws:states:eu-west-1:123456789012:execution:sm:name`). */
export function locationOfArn(arn: string): RunLocation {
  const [prefix, partition, , region, accountId] = arn.split(":");
  if (prefix !== "arn" || !partition || !region || !accountId) {
    throw new Error(`Not an ARN with a region and account: '${arn}'.`);
  }
  return { partition, region, accountId };
}

function consoleHost(location: RunLocation): string {
  switch (location.partition) {
    case "aws-cn":
      return `https://${location.region}.console.amazonaws.cn`;
    case "aws-us-gov":
      return `https://${location.region}.console.amazonaws-us-gov.com`;
    default:
      return `https://${location.region}.console.aws.amazon.com`;
  }
}

/** The execution's page in the Step Functions console. */
export function executionConsoleUrl(executionArn: string): string {
  const location = locationOfArn(executionArn);
  return `${consoleHost(location)}/states/home?region=${location.region}#/v2/executions/details/${executionArn}`;
}

/**
 * The CloudWatch console keeps its route in the URL fragment and escapes it twice,
 * with `$` standing for `%`: `/aws/lambda/f` becomes `$252Faws$252Flambda$252Ff`.
 */
function consoleEscape(text: string): string {
  return encodeURIComponent(encodeURIComponent(text)).replace(/%/g, "$");
}

export interface LogLink {
  logGroup: string;
  /** Open this stream; otherwise the group's events, filtered by `filter` in the time window. */
  logStream?: string | null;
  filter?: string | null;
  startMs?: number | null;
  endMs?: number | null;
}

/** A CloudWatch Logs console link to a Lambda's log stream, or to its group's events around a request. */
export function cloudWatchLogsUrl(location: RunLocation, link: LogLink): string {
  const base = `${consoleHost(location)}/cloudwatch/home?region=${location.region}#logsV2:log-groups/log-group/${consoleEscape(link.logGroup)}`;
  if (link.logStream) return `${base}/log-events/${consoleEscape(link.logStream)}`;
  const query: string[] = [];
  // A quoted request id matches the START/END/REPORT lines and every line the runtime prefixes with it.
  if (link.filter) query.push(`filterPattern=${encodeURIComponent(`"${link.filter}"`)}`);
  // A minute of margin: Lambda stamps its lines by its own clock.
  if (link.startMs != null) query.push(`start=${link.startMs - 60_000}`);
  if (link.endMs != null) query.push(`end=${link.endMs + 60_000}`);
  if (query.length === 0) return `${base}/log-events`;
  // The query sits in the fragment too: its structure escaped once, its values twice.
  return `${base}/log-events${encodeURIComponent(`?${query.join("&")}`).replace(/%/g, "$")}`;
}

/** Lambda's default log group for a function. */
export function lambdaLogGroup(functionName: string): string {
  return `/aws/lambda/${functionName}`;
}
