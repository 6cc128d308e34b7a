/**
 * Typed GraphQL documents for front ends and apps (`TypedDocumentNode`s): pass them to Apollo Client,
 * urql or graphql-ws and the variables and results are typed. Generated from operations.graphql by
 * `npm run codegen`; they depend on no runtime library (plain document objects). See docs/clients.md.
 */
export * from './generated.js';
