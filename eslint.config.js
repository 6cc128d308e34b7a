import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** The folders of src/ (docs/architecture.md, "Layers and rules"). */
const LAYERS = [
  'auth',
  'client',
  'config',
  'graphql',
  'limits',
  'omise',
  'payments',
  'persistence',
  'realtime',
  'server',
  'simulator',
  'webhooks',
];
const allBut = (...allowed) => LAYERS.filter((layer) => !allowed.includes(layer));

/**
 * What each folder of src/ must not import: whole folders (`layers`), single modules of an allowed folder
 * (`modules`, paths relative to src/ as regular expressions) and packages (`packages`). server/ is the
 * composition root and may import everything. The table in docs/architecture.md says the same.
 */
const FORBIDDEN = {
  // Typed documents for front ends: nothing of the server may leak into a browser bundle.
  client: { layers: allBut('client') },
  config: { layers: allBut('config') },
  omise: { layers: allBut('omise') },
  realtime: { layers: allBut('realtime') },
  // The durable store adapters: nothing of the gateway above them.
  persistence: { layers: allBut('persistence') },
  simulator: {
    layers: allBut('simulator', 'config', 'omise'),
    // Omise's wire format and webhook signature scheme only, not the gateway's client.
    modules: ['omise/(?!types\\.js$|webhook-signature\\.js$)'],
  },
  payments: {
    layers: ['auth', 'config', 'graphql', 'limits', 'server', 'simulator', 'webhooks'],
    // The OmiseApi interface and the realtime ports, not their implementations; the persistence ports
    // and the in-memory defaults, not PostgreSQL (the composition root picks the adapter).
    modules: [
      'omise/(client|omise-http)\\.js$',
      'realtime/(?!ports\\.js$|errors\\.js$)',
      'persistence/(?!ports\\.js$|memory-[a-z-]+\\.js$)',
    ],
    packages: ['node:http', 'http', 'node:https', 'https', 'express'],
  },
  webhooks: { layers: ['auth', 'graphql', 'limits', 'server', 'simulator'] },
  auth: { layers: ['graphql', 'omise', 'payments', 'server', 'simulator', 'webhooks'] },
  limits: { layers: ['graphql', 'omise', 'payments', 'server', 'simulator', 'webhooks'] },
  graphql: { layers: ['omise', 'server', 'simulator', 'webhooks'] },
};

/** Reading the environment elsewhere than src/config. */
const ENV_IMPORTS = ['process', 'node:process'].map((name) => ({
  name,
  importNames: ['env'],
  message: 'Only src/config reads the environment: take the value from the Config.',
}));

/**
 * `no-restricted-imports` for the files of one folder at one depth: a relative import is matched exactly
 * (`../../graphql/x.js` from src/payments/status-feed/ is src/graphql), so that a sub-folder named like a
 * layer (src/webhooks/omise/) is not mistaken for it.
 */
function layerRules(layer, { layers = [], modules = [], packages = [] }) {
  return [1, 2, 3, 4].map((depth) => {
    const up = '\\.\\./'.repeat(depth);
    const message = `src/${layer}/ may not import this (docs/architecture.md, "Layers and rules").`;
    const patterns = [
      ...layers.map((target) => ({ regex: `^${up}${target}(/|$)`, message })),
      ...modules.map((target) => ({ regex: `^${up}${target}`, message })),
    ];
    return {
      files: [`src/${layer}/${'*/'.repeat(depth - 1)}*.ts`],
      rules: {
        'no-restricted-imports': [
          'error',
          {
            paths: [
              ...(layer === 'config' ? [] : ENV_IMPORTS),
              ...packages.map((name) => ({ name, message })),
            ],
            patterns,
          },
        ],
      },
    };
  });
}

export default tseslint.config(
  {
    ignores: [
      'dist/',
      'coverage/',
      'node_modules/',
      'test/generated/',
      'src/client/generated.ts',
      '.snippets/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': ['error', { allow: ['error'] }],
    },
  },
  {
    // The demo page's plain browser modules (web/): browser globals, no Node.
    files: ['web/**/*.js'],
    languageOptions: {
      globals: {
        window: 'readonly',
        document: 'readonly',
        fetch: 'readonly',
        URL: 'readonly',
        crypto: 'readonly',
        setTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        process: 'off',
      },
    },
  },
  {
    files: ['src/main.ts', 'src/simulator/cli.ts', 'bench/**', 'scripts/**'],
    rules: { 'no-console': 'off' },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/config/**'],
    rules: {
      'no-restricted-properties': [
        'error',
        {
          object: 'process',
          property: 'env',
          message: 'Only src/config reads the environment: take the value from the Config.',
        },
      ],
      'no-restricted-imports': ['error', { paths: ENV_IMPORTS }],
    },
  },
  ...Object.entries(FORBIDDEN).flatMap(([layer, forbidden]) => layerRules(layer, forbidden)),
);
