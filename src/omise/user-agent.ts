import { readFileSync } from 'node:fs';

/** The project's name and version from package.json (two folders up, from src/omise and dist/omise). */
function readPackage(): { name: string; version: string } {
  try {
    const raw = readFileSync(new URL('../../package.json', import.meta.url), 'utf8');
    const parsed = JSON.parse(raw) as { name?: unknown; version?: unknown };
    return {
      name: typeof parsed.name === 'string' ? parsed.name : 'truemoney-graphql-gateway',
      version: typeof parsed.version === 'string' ? parsed.version : '0.0.0',
    };
  } catch {
    return { name: 'truemoney-graphql-gateway', version: '0.0.0' };
  }
}

/** `truemoney-graphql-gateway/<version> node/<version>`, sent to Omise so that it can tell who calls. */
export function defaultUserAgent(): string {
  const pkg = readPackage();
  return `${pkg.name}/${pkg.version} node/${process.versions.node}`;
}
