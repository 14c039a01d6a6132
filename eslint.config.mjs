// ESLint with typescript-eslint's type-checked rules (floating and misused promises included) over the
// TypeScript sources; formatting is Prettier's (npm run format:check), so stylistic rules are off.
import graphqlPlugin from '@graphql-eslint/eslint-plugin';
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      'dist/',
      'coverage/',
      '.data/',
      'src/generated/',
      'tests/graphql/generated/',
      'examples/generated/',
      'examples/web/generated/',
      'examples/nextjs/generated/',
      'examples/nextjs/.next/',
    ],
  },
  {
    files: ['**/*.{ts,tsx,js,cjs,mjs}'],
    extends: [js.configs.recommended, tseslint.configs.recommendedTypeChecked],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // `_name` marks what is deliberately unused (a destructured field left out, an ignored argument).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
    },
  },
  {
    // Functions small enough to read at once; tests' describe blocks are exempt.
    files: ['src/**/*.ts', 'scripts/**/*.ts', 'prisma/**/*.ts'],
    rules: { 'max-lines-per-function': ['error', { max: 60, skipBlankLines: true, skipComments: true }] },
  },
  {
    files: ['**/*.{js,cjs}'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { sourceType: 'commonjs', globals: { ...globals.node } },
    // CommonJS files (jest's config and global setup) load their dependencies with require().
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  { files: ['**/*.mjs'], extends: [tseslint.configs.disableTypeChecked] },
  {
    // The printed contract: every type, field, argument and enum value says what it is (frontends read it).
    files: ['schema.graphql'],
    languageOptions: { parser: graphqlPlugin.parser },
    plugins: { '@graphql-eslint': graphqlPlugin },
    rules: {
      '@graphql-eslint/require-description': [
        'error',
        { types: true, FieldDefinition: true, InputValueDefinition: true, EnumValueDefinition: true, DirectiveDefinition: true },
      ],
    },
  },
  { files: ['**/*.{ts,tsx,js,cjs,mjs}'], extends: [prettier] },
);
