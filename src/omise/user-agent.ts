import { readFileSync } from 'node:fs';

/**
 * The project's name and version from package.json: two folders up from src/omise/, three from tsc's
 * dist/modules/omise/, one from the bundle dist/main.js. The first that names this project wins.
 */
function readPackage(): { name: string; version: string } {
  for (const path of ['../../package.json', '../../../package.json', '../package.json']) {
    const found = readPackageAt(new URL(path, import.meta.url));
    if (found) return found;
  }
  return { name: 'truemoney-graphql-gateway', version: '0.0.0' };
}

function readPackageAt(url: URL): { name: string; version: string } | undefined {
  try {
    const raw = readFileSync(url, 'utf8');
    const parsed = JSON.parse(raw) as { name?: unknown; version?: unknown };
    if (parsed.name !== 'truemoney-graphql-gateway' || typeof parsed.version !== 'string') return undefined;
    return { name: parsed.name, version: parsed.version };
  } catch {
    return undefined;
  }
}

/** `truemoney-graphql-gateway/<version> node/<version>`, sent to Omise so that it can tell who calls. */
export function defaultUserAgent(): string {
  const pkg = readPackage();
  return `${pkg.name}/${pkg.version} node/${process.versions.node}`;
}
