import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import folderImports from './eslint/folder-imports.js';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '.rules/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'warn',
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  {
    files: ['engine/**/*.ts', 'cli/**/*.ts', 'emulator/**/*.ts', 'bench/**/*.ts', 'demo/**/*.ts'],
    plugins: { local: { rules: { 'folder-imports': folderImports } } },
    rules: { 'local/folder-imports': 'error' },
  },
);
