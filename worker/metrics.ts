/**
 * The worker's own CloudWatch metric, as Embedded Metric Format (EMF) lines on stdout: on Fargate
 * the awslogs driver ships stdout to CloudWatch Logs, which extracts the metric from each line —
 * no SDK call, no `cloudwatch:PutMetricData` permission, and nothing lost when CloudWatch is slow
 * (a log line is written locally; the driver retries). The alarm "no evaluation written for 3
 * intervals" watches it, per cluster: the copilot watching itself. Blind cycles (no progress data
 * at all) are not counted, so a copilot that runs but cannot see its cluster pages too.
 *
 * Written by hand rather than with `@aws-lambda-powertools/metrics`: that utility is built around
 * a Lambda invocation (metrics buffered, then flushed by `publishStoredMetrics` at its end), and it
 * adds a `service` dimension to every metric (POWERTOOLS_SERVICE_NAME, `service_undefined` when
 * unset), which would make the alarm's dimension set {Cluster, service} instead of {Cluster}. The
 * format is small and documented: https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
 */

/** The metrics' CloudWatch namespace; the CDK alarms name it too. */
export const METRIC_NAMESPACE = 'TemporalSreCopilot';
/** One datapoint (value 1, unit Count) per evaluation newly written to the store. */
export const EVALUATIONS_STORED = 'EvaluationsStored';
/** The dimension: the monitored cluster's name. */
export const CLUSTER_DIMENSION = 'Cluster';

/** One EMF document: the `EvaluationsStored` datapoint of `cluster` at `timestamp` (epoch ms). */
export function evaluationsStoredEmf(cluster: string, timestamp: number): string {
  return JSON.stringify({
    _aws: {
      Timestamp: timestamp,
      CloudWatchMetrics: [
        {
          Namespace: METRIC_NAMESPACE,
          Dimensions: [[CLUSTER_DIMENSION]],
          Metrics: [{ Name: EVALUATIONS_STORED, Unit: 'Count' }],
        },
      ],
    },
    [CLUSTER_DIMENSION]: cluster,
    [EVALUATIONS_STORED]: 1,
  });
}

/** What the activities report about the worker's own work. */
export interface WorkerMetrics {
  /** An evaluation of `cluster` was newly written to the store (not a duplicate, conflict or failure). */
  evaluationStored(cluster: string): void;
}

/**
 * EMF on a line of its own. `write` defaults to stdout; `now` to the clock (the datapoint's time
 * is when the row was written, which is what the staleness alarm asks about).
 */
export function emfMetrics(
  write: (line: string) => void = (line) => {
    process.stdout.write(line);
  },
  now: () => number = Date.now,
): WorkerMetrics {
  return {
    evaluationStored(cluster) {
      write(`${evaluationsStoredEmf(cluster, now())}\n`);
    },
  };
}
