import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { StateStore, type StateStoreProps } from './state-store.js';

export interface CopilotStoreStackProps extends StackProps {
  readonly store?: StateStoreProps;
}

/**
 * The copilot's durable state, in a stack of its own so the compute stacks that come with the
 * infrastructure issue can be replaced without touching the data.
 */
export class CopilotStoreStack extends Stack {
  readonly store: StateStore;

  constructor(scope: Construct, id: string, props: CopilotStoreStackProps = {}) {
    super(scope, id, props);
    this.store = new StateStore(this, 'StateStore', props.store);
    new CfnOutput(this, 'DsqlEndpoint', {
      description: 'COPILOT_DSQL_ENDPOINT for the worker and the API',
      value: this.store.endpoint,
    });
    new CfnOutput(this, 'DsqlClusterArn', { value: this.store.clusterArn });
  }
}
