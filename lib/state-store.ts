import { RemovalPolicy, Tags } from 'aws-cdk-lib';
import { CfnCluster } from 'aws-cdk-lib/aws-dsql';
import { Grant, type IGrantable } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

export interface StateStoreProps {
  /**
   * Refuse `DeleteCluster` while set. On by default: the store holds every assessment the
   * dashboard and the runbooks point back to.
   * @default true
   */
  readonly deletionProtection?: boolean;
  /**
   * What happens to the cluster when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The copilot's state store: one Aurora DSQL cluster (IAM-token auth and TLS only, OCC, encrypted
 * at rest with an AWS-owned key). Access is granted per principal: `grantConnect` for the custom
 * database roles the worker and the API log in as, `grantAdminConnect` only for schema setup.
 */
export class StateStore extends Construct {
  /** The cluster's ARN: the resource every grant is scoped to. */
  readonly clusterArn: string;
  /** The cluster's host name (`<id>.dsql.<region>.on.aws`), what `COPILOT_DSQL_ENDPOINT` takes. */
  readonly endpoint: string;
  readonly clusterIdentifier: string;
  private readonly cluster: CfnCluster;

  constructor(scope: Construct, id: string, props: StateStoreProps = {}) {
    super(scope, id);
    this.cluster = new CfnCluster(this, 'Cluster', {
      deletionProtectionEnabled: props.deletionProtection ?? true,
    });
    this.cluster.applyRemovalPolicy(props.removalPolicy ?? RemovalPolicy.RETAIN);
    Tags.of(this.cluster).add('app', 'temporal-sre-copilot');
    this.clusterArn = this.cluster.attrResourceArn;
    this.endpoint = this.cluster.attrEndpoint;
    this.clusterIdentifier = this.cluster.attrIdentifier;
  }

  /** Lets `grantee` sign DSQL tokens for custom database roles (`dsql:DbConnect`) on this cluster. */
  grantConnect(grantee: IGrantable): Grant {
    return Grant.addToPrincipal({
      grantee,
      actions: ['dsql:DbConnect'],
      resourceArns: [this.clusterArn],
    });
  }

  /**
   * Lets `grantee` sign tokens for the `admin` role (`dsql:DbConnectAdmin`). Only schema setup
   * needs it; the worker and the API connect as custom roles.
   */
  grantAdminConnect(grantee: IGrantable): Grant {
    return Grant.addToPrincipal({
      grantee,
      actions: ['dsql:DbConnectAdmin'],
      resourceArns: [this.clusterArn],
    });
  }
}
