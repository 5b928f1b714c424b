import { notYet } from '../command.ts';

export const command = notYet('functions', 'local functions gateway with the OpenFaaS REST shape', 'issue #5 (OpenFaaS runtime)');
