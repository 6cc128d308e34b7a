/** Writes schema.graphql from the type-graphql classes: `npm run schema`. */
import 'reflect-metadata';
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { buildGatewaySchema, printGatewaySchema } from '../src/graphql/schema.js';

const target = fileURLToPath(new URL('../schema.graphql', import.meta.url));
await writeFile(target, printGatewaySchema(await buildGatewaySchema()));
console.log(`wrote ${target}`);
