import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type { IHttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import { Alarm, ComparisonOperator, Metric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { FargateService } from 'aws-cdk-lib/aws-ecs';
import { ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { CLUSTER_DIMENSION, EVALUATIONS_STORED, METRIC_NAMESPACE } from '../worker/metrics.js';

/** Where the worker's EMF metric lands (worker/metrics.ts): one datapoint per sighted evaluation. */
export const EVALUATIONS_METRIC = {
  namespace: METRIC_NAMESPACE,
  metricName: EVALUATIONS_STORED,
  dimension: CLUSTER_DIMENSION,
} as const;

/** A monitored cluster as the watchdog sees it: its name and how often it is evaluated. */
export interface WatchedCluster {
  readonly name: string;
  readonly intervalSeconds: number;
}

/**
 * The alarm period for "no evaluation for 3 intervals": three intervals, rounded up to whole
 * minutes (standard-resolution metrics take periods of 60 s multiples).
 */
export function silencePeriodSeconds(intervalSeconds: number): number {
  if (!(intervalSeconds > 0))
    throw new Error(`intervalSeconds must be > 0, got ${intervalSeconds}`);
  return Math.ceil((3 * intervalSeconds) / 60) * 60;
}

/**
 * A metric that has no datapoint, or a value under 1, when `service` has no running task:
 * Container Insights' `RunningTaskCount` when the cluster has it; otherwise the free `AWS/ECS`
 * service metric `CPUUtilization`, which running tasks report every minute (its sample count),
 * and which goes silent when none runs.
 */
export function runningTasks(service: FargateService, containerInsights: boolean): Metric {
  const dimensionsMap = {
    ClusterName: service.cluster.clusterName,
    ServiceName: service.serviceName,
  };
  return containerInsights
    ? new Metric({
        namespace: 'ECS/ContainerInsights',
        metricName: 'RunningTaskCount',
        dimensionsMap,
        statistic: 'Minimum',
        period: Duration.minutes(1),
      })
    : new Metric({
        namespace: 'AWS/ECS',
        metricName: 'CPUUtilization',
        dimensionsMap,
        statistic: 'SampleCount',
        period: Duration.minutes(1),
      });
}

export interface WatchdogProps {
  /** The worker service: an alarm when it has no running task. */
  readonly worker: FargateService;
  /** The Temporal server service: an alarm when it has no running task. */
  readonly temporal: FargateService;
  /** The JSON API: an alarm on server errors. */
  readonly api: IHttpApi;
  /** Each monitored cluster gets an alarm when no evaluation is stored for 3 of its intervals. */
  readonly clusters: readonly WatchedCluster[];
  /**
   * An address to mail alarms to (SNS email subscription, to confirm).
   * @default - no subscription; subscribe to the topic yourself
   */
  readonly alarmEmail?: string;
  /**
   * 5xx answers in 5 minutes that raise the API alarm (a blip of one 503 while the store
   * reconnects does not page).
   * @default 5
   */
  readonly api5xxThreshold?: number;
  /** What deleting the stack does to the topic's key. @default RemovalPolicy.DESTROY */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Whether the ECS cluster has Container Insights (then `RunningTaskCount` is watched; otherwise
   * the services' own `CPUUtilization` sample count).
   * @default true
   */
  readonly containerInsights?: boolean;
}

/**
 * Watching the watcher: CloudWatch alarms, all on one encrypted SNS topic, when the worker or the
 * Temporal server has no running task ({@link runningTasks}), when a monitored
 * cluster has had no evaluation stored for three intervals (the worker's `EvaluationsStored`
 * EMF metric; no data counts as breaching, since a dead worker emits nothing), and when the API
 * answers 5xx.
 */
export class Watchdog extends Construct {
  readonly topic: Topic;
  readonly workerRunning: Alarm;
  readonly temporalRunning: Alarm;
  readonly apiErrors: Alarm;
  /** By cluster name. */
  readonly evaluationsStored: Readonly<Record<string, Alarm>>;

  constructor(scope: Construct, id: string, props: WatchdogProps) {
    super(scope, id);
    const key = new Key(this, 'TopicKey', {
      description: 'Temporal SRE Copilot: encrypts the alarm topic',
      enableKeyRotation: true,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.DESTROY,
    });
    // CloudWatch publishes alarm notifications to the encrypted topic.
    key.grant(
      new ServicePrincipal('cloudwatch.amazonaws.com'),
      'kms:Decrypt',
      'kms:GenerateDataKey*',
    );
    this.topic = new Topic(this, 'Topic', {
      displayName: 'Temporal SRE Copilot alarms',
      masterKey: key,
      enforceSSL: true,
    });
    if (props.alarmEmail !== undefined)
      this.topic.addSubscription(new EmailSubscription(props.alarmEmail));
    const action = new SnsAction(this.topic);
    const notify = (alarm: Alarm) => {
      alarm.addAlarmAction(action);
      alarm.addOkAction(action);
      return alarm;
    };

    const noRunningTask = (alarmId: string, service: FargateService, description: string) =>
      notify(
        new Alarm(this, alarmId, {
          alarmDescription: description,
          metric: runningTasks(service, props.containerInsights ?? true),
          comparisonOperator: ComparisonOperator.LESS_THAN_THRESHOLD,
          threshold: 1,
          evaluationPeriods: 2,
          datapointsToAlarm: 2,
          treatMissingData: TreatMissingData.BREACHING,
        }),
      );
    this.workerRunning = noRunningTask(
      'WorkerNotRunning',
      props.worker,
      'The copilot worker has no running task: no monitored cluster is being observed',
    );
    this.temporalRunning = noRunningTask(
      'TemporalNotRunning',
      props.temporal,
      "The copilot's Temporal server has no running task: the worker cannot run its workflows",
    );

    this.apiErrors = notify(
      new Alarm(this, 'ApiServerErrors', {
        alarmDescription:
          'The JSON API answered 5xx (503 means it cannot reach the store: Grafana shows the copilot as blind)',
        metric: props.api.metricServerError({ period: Duration.minutes(5), statistic: 'Sum' }),
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        threshold: props.api5xxThreshold ?? 5,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
    );

    const evaluations: Record<string, Alarm> = {};
    for (const [i, cluster] of props.clusters.entries()) {
      const period = silencePeriodSeconds(cluster.intervalSeconds);
      evaluations[cluster.name] = notify(
        new Alarm(this, `NoEvaluations${i}`, {
          alarmDescription:
            `No sighted evaluation of cluster ${cluster.name} was stored for ${period} s (3 ` +
            `intervals of ${cluster.intervalSeconds} s, rounded up to minutes): its observer, the ` +
            'worker or the store is down (the API will soon answer unknown/stale), or its ' +
            'metrics source answers nothing (the API answers unknown)',
          metric: new Metric({
            namespace: EVALUATIONS_METRIC.namespace,
            metricName: EVALUATIONS_METRIC.metricName,
            dimensionsMap: { [EVALUATIONS_METRIC.dimension]: cluster.name },
            statistic: 'Sum',
            period: Duration.seconds(period),
          }),
          comparisonOperator: ComparisonOperator.LESS_THAN_THRESHOLD,
          threshold: 1,
          evaluationPeriods: 1,
          treatMissingData: TreatMissingData.BREACHING,
        }),
      );
    }
    this.evaluationsStored = evaluations;
  }
}
