// The frontend's unit tests (`npm test`, `make test-ts`): ts-jest compiles the tests and
// the pure modules they import (src/links.ts, src/format.ts) with tsconfig.test.json
// (CommonJS for Node); no JupyterLab package is loaded, so nothing of node_modules needs
// transforming and a run takes seconds.
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/src'],
  testMatch: ['**/__tests__/**/*.spec.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.test.json' }]
  },
  moduleFileExtensions: ['ts', 'js', 'json']
};
