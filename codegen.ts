/**
 * GraphQL Code Generator (client preset): typed documents for the operations in tests/graphql/operations,
 * checked against the committed schema.graphql. `npm run codegen`; works offline.
 */
import type { CodegenConfig } from '@graphql-codegen/cli';

const config: CodegenConfig = {
  schema: 'schema.graphql',
  documents: ['tests/graphql/operations/**/*.graphql'],
  ignoreNoDocuments: false,
  generates: {
    'tests/graphql/generated/': {
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: {
        documentMode: 'string',
        enumsAsTypes: true,
        useTypeImports: true,
        scalars: { DateTime: 'string', JSON: 'unknown', ID: 'string' },
      },
    },
  },
};

export default config;
