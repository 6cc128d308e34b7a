/**
 * Second step of `npm run build`: bundles what tsc emitted (dist/modules/, decorator metadata
 * included, which esbuild cannot emit itself) into one ES module per entry point:
 *
 *   dist/main.js       the gateway (`node dist/main.js`, what the container image runs)
 *   dist/simulator.js  the Omise simulator CLI (`node dist/simulator.js`)
 *
 * Why bundle: starting from ~1,000 separate modules, Node spends most of its start-up resolving and
 * reading files; one file starts about twice as fast (docs/benchmarks.md, "Start-up").
 * The bundle still expects the production node_modules next to it: the demo page serves graphql-ws's
 * browser files from there, and optional packages stay external.
 */
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

await build({
  absWorkingDir: root,
  entryPoints: { main: 'dist/modules/main.js', simulator: 'dist/modules/simulator/cli.js' },
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: true,
  logLevel: 'warning',
  // Optional peer packages loaded with import() only when a feature asks for them (type-graphql's
  // argument validation, Apollo's legacy playground): not installed, not used.
  external: ['class-validator', '@apollo/server-plugin-landing-page-graphql-playground'],
  // CommonJS packages inside an ES module still call require() and read __dirname.
  banner: {
    js: [
      "import { createRequire as __createRequire } from 'node:module';",
      "import { fileURLToPath as __fileURLToPath } from 'node:url';",
      "import { dirname as __pathDirname } from 'node:path';",
      'const require = __createRequire(import.meta.url);',
      'const __filename = __fileURLToPath(import.meta.url);',
      'const __dirname = __pathDirname(__filename);',
    ].join('\n'),
  },
});
