import { writeFileSync } from 'node:fs';
import { coldStartBench } from './cold-start.ts';
import { ingestBench } from './ingest.ts';
import { lifecycleBench } from './lifecycle.ts';
import { scaleBench } from './scale.ts';

/**
 * Runs one bench section in this process and writes its result as JSON to a file: each section
 * gets a fresh process, so handler modules, their SDK clients and the local system's environment
 * never carry over from one section to the next. Usage: `node bench/section.ts <name> <options JSON> <out file>`.
 */

export interface SectionOptions {
  dynamoDbEndpoint: string;
  quick: boolean;
}

const [name = '', optionsText = '{}', outFile = ''] = process.argv.slice(2);
const options = JSON.parse(optionsText) as SectionOptions;

async function runSection(): Promise<unknown> {
  switch (name) {
    case 'lifecycle':
      return lifecycleBench({
        dynamoDbEndpoint: options.dynamoDbEndpoint,
        repetitions: options.quick ? 1 : 3,
      });
    case 'ingest':
      return ingestBench({
        dynamoDbEndpoint: options.dynamoDbEndpoint,
        levels: [1, 4, 16, 32],
        events: options.quick ? 40 : 200,
        writes: options.quick ? 200 : 1_000,
      });
    case 'cold-start':
      return coldStartBench({ samples: options.quick ? 3 : 7 });
    case 'scale':
      return scaleBench({
        dynamoDbEndpoint: options.dynamoDbEndpoint,
        backorders: options.quick ? 10_000 : 100_000,
      });
    default:
      throw new Error(`no bench section ${name}`);
  }
}

writeFileSync(outFile, JSON.stringify(await runSection()));
// The local system's servers are closed; anything the SDKs keep alive must not hold the process.
process.exit(0);
