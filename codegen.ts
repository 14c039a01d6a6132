/**
 * GraphQL Code Generator (client preset), checked against the committed schema.graphql, offline
 * (`npm run codegen`; `npm run codegen:check` in CI):
 * - typed documents for the tests' operations (tests/graphql/operations);
 * - the example clients' operations (examples/operations.ts, `/* GraphQL *\/` strings) as a frontend would
 *   generate them: with `__typename` where Apollo and urql add it, and a persisted-documents manifest
 *   (examples/generated/persisted-documents.json, document id → document) for the server's TRUSTED_DOCUMENTS;
 * - the browser example's and the Next.js recipe's operations (`graphql()` calls) the same way, into
 *   examples/web/generated/ and examples/nextjs/generated/.
 * Both targets write a manifest; the tests' is what tests/graphql/trusted-documents.test.ts serves.
 */
import type { CodegenConfig } from '@graphql-codegen/cli';
import { addTypenameSelectionDocumentTransform } from '@graphql-codegen/client-preset';

const typeConfig = {
  enumsAsTypes: true,
  useTypeImports: true,
  scalars: { DateTime: 'string', JSON: 'unknown', ID: 'string' },
};

const config: CodegenConfig = {
  schema: 'schema.graphql',
  ignoreNoDocuments: false,
  generates: {
    'tests/graphql/generated/': {
      documents: ['tests/graphql/operations/**/*.graphql'],
      preset: 'client',
      presetConfig: { fragmentMasking: false, persistedDocuments: true },
      config: { documentMode: 'string', ...typeConfig },
    },
    'examples/generated/': {
      documents: ['examples/operations.ts'],
      preset: 'client',
      presetConfig: { fragmentMasking: false, persistedDocuments: true },
      documentTransforms: [addTypenameSelectionDocumentTransform],
      config: typeConfig,
    },
    'examples/web/generated/': {
      documents: ['examples/web/src/**/*.ts'],
      preset: 'client',
      presetConfig: { fragmentMasking: false, persistedDocuments: true },
      documentTransforms: [addTypenameSelectionDocumentTransform],
      config: typeConfig,
    },
    'examples/nextjs/generated/': {
      documents: ['examples/nextjs/{app,lib}/**/*.{ts,tsx}'],
      preset: 'client',
      presetConfig: { fragmentMasking: false, persistedDocuments: true },
      documentTransforms: [addTypenameSelectionDocumentTransform],
      config: typeConfig,
    },
  },
};

export default config;
