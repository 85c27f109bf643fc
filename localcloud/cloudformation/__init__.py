"""The local cloud's own CloudFormation engine: stacks, change sets, execution and resource providers over moto."""
