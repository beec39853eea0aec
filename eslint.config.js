// Type-aware linting (typescript-eslint) over the sources, tests and benchmark; formatting is Prettier's.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', 'test-output/', 'eslint.config.js', '**/*.mjs', 'examples/*.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // Test fakes and engine stand-ins implement async interfaces with synchronous bodies on purpose.
      '@typescript-eslint/require-await': 'off',
      // A `let` assigned after a closure that reads it is declared first on purpose.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      // `_name` marks what is there for a signature or to leave a property out of a rest object.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }],
      // node:test's describe() and test() return promises that the runner itself awaits.
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['describe', 'test', 'it', 'suite'] }] },
      ],
    },
  },
);
