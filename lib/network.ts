import { RemovalPolicy } from 'aws-cdk-lib';
import {
  FlowLogDestination,
  FlowLogTrafficType,
  GatewayVpcEndpointAwsService,
  type IConnectable,
  type InterfaceVpcEndpoint,
  InterfaceVpcEndpointAwsService,
  type IVpc,
  Port,
  type SubnetSelection,
  SubnetType,
  Vpc,
} from 'aws-cdk-lib/aws-ec2';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/** The monitored deployment's VPC, named by id (no lookup at synth). */
export interface ExistingVpcAttributes {
  readonly vpcId: string;
  /** The AZ of each private subnet, in the same order. */
  readonly availabilityZones: readonly string[];
  readonly privateSubnetIds: readonly string[];
}

export interface CopilotNetworkProps {
  /**
   * Attach to this VPC (the monitored deployment's) instead of creating one. Nothing is created
   * in it but security groups and, when asked, interface endpoints; its NAT and routes are used
   * as they are.
   * @default - a new VPC
   */
  readonly existingVpc?: ExistingVpcAttributes;
  /**
   * NAT gateways of the new VPC. At least one: the Temporal images come from Docker Hub and the
   * monitored sources may be anywhere.
   * @default 1
   */
  readonly natGateways?: number;
  /**
   * Interface endpoints for what the copilot calls (ECR, CloudWatch Logs, Secrets Manager, AMP,
   * Bedrock runtime and agent runtime), so that traffic stays off the NAT path.
   * @default false
   */
  readonly interfaceEndpoints?: boolean;
  /**
   * Availability zones of the new VPC.
   * @default 2
   */
  readonly maxAzs?: number;
  /**
   * How long the new VPC's flow log (rejected traffic) is kept.
   * @default RetentionDays.ONE_WEEK
   */
  readonly logRetention?: RetentionDays;
  /**
   * What deleting the stack does to the flow log group.
   * @default RemovalPolicy.DESTROY
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * Where the copilot runs: private subnets of a new VPC (public subnets only for its NAT
 * gateways, an S3 gateway endpoint for image layers, a flow log of rejected traffic) or of the
 * monitored deployment's VPC. Security groups belong to the services; this only places them.
 */
export class CopilotNetwork extends Construct {
  readonly vpc: IVpc;
  /** The private subnets every copilot task and database runs in. */
  readonly privateSubnets: SubnetSelection;
  private readonly endpoints: InterfaceVpcEndpoint[] = [];

  constructor(scope: Construct, id: string, props: CopilotNetworkProps = {}) {
    super(scope, id);
    const interfaceEndpoints = props.interfaceEndpoints ?? false;
    if (props.existingVpc !== undefined) {
      const existing = props.existingVpc;
      if (existing.availabilityZones.length !== existing.privateSubnetIds.length)
        throw new Error(
          `existing vpc ${existing.vpcId}: ${existing.privateSubnetIds.length} private subnets but ` +
            `${existing.availabilityZones.length} availability zones; give one zone per subnet`,
        );
      this.vpc = Vpc.fromVpcAttributes(this, 'Vpc', {
        vpcId: existing.vpcId,
        availabilityZones: [...existing.availabilityZones],
        privateSubnetIds: [...existing.privateSubnetIds],
      });
    } else {
      const natGateways = props.natGateways ?? 1;
      if (!Number.isInteger(natGateways) || natGateways < 1)
        throw new Error(
          `natGateways must be at least 1, got ${natGateways}: the Temporal images come from ` +
            'Docker Hub and the monitored metrics sources may be outside AWS',
        );
      const vpc = new Vpc(this, 'Vpc', {
        maxAzs: props.maxAzs ?? 2,
        natGateways,
        subnetConfiguration: [
          { name: 'public', subnetType: SubnetType.PUBLIC, cidrMask: 24 },
          { name: 'private', subnetType: SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
        ],
        gatewayEndpoints: { S3: { service: GatewayVpcEndpointAwsService.S3 } },
      });
      const flowLogs = new LogGroup(this, 'FlowLogs', {
        retention: props.logRetention ?? RetentionDays.ONE_WEEK,
        removalPolicy: props.removalPolicy ?? RemovalPolicy.DESTROY,
      });
      vpc.addFlowLog('FlowLog', {
        destination: FlowLogDestination.toCloudWatchLogs(flowLogs),
        trafficType: FlowLogTrafficType.REJECT,
      });
      this.vpc = vpc;
    }
    this.privateSubnets = { subnets: this.vpc.privateSubnets };
    if (interfaceEndpoints) this.addInterfaceEndpoints();
  }

  /**
   * Admits `peer` to every interface endpoint on HTTPS. Call it for each service that calls AWS;
   * without interface endpoints it does nothing.
   */
  allowEndpointsFrom(peer: IConnectable): void {
    for (const endpoint of this.endpoints)
      endpoint.connections.allowFrom(peer, Port.tcp(443), 'HTTPS to the AWS service endpoint');
  }

  private addInterfaceEndpoints(): void {
    const services = {
      EcrApi: InterfaceVpcEndpointAwsService.ECR,
      EcrDocker: InterfaceVpcEndpointAwsService.ECR_DOCKER,
      Logs: InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
      SecretsManager: InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
      Prometheus: InterfaceVpcEndpointAwsService.PROMETHEUS_WORKSPACES,
      BedrockRuntime: InterfaceVpcEndpointAwsService.BEDROCK_RUNTIME,
      BedrockAgentRuntime: InterfaceVpcEndpointAwsService.BEDROCK_AGENT_RUNTIME,
    };
    for (const [id, service] of Object.entries(services)) {
      // Closed: only the services named with allowEndpointsFrom may reach them.
      this.endpoints.push(
        this.vpc.addInterfaceEndpoint(id, {
          service,
          subnets: this.privateSubnets,
          privateDnsEnabled: true,
          open: false,
        }),
      );
    }
  }
}
