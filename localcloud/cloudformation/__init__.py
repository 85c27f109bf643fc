"""The local cloud's own CloudFormation engine: stacks, change sets, validation and resource providers over moto."""
