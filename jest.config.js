// Tests run on the Node 22 that npm install puts in node_modules/.bin (npm scripts put it first on PATH).
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/tests'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.(t|j|mj)sx?$': '<rootDir>/tests/support/cjs-transform.js' },
  // middy is ESM-only; compile it to CommonJS like our own code.
  transformIgnorePatterns: ['/node_modules/(?!@middy/)'],
  moduleNameMapper: {
    // ESM-only packages export no "require" condition, which jest's resolver asks for.
    '^@middy/(core|util)$': '<rootDir>/node_modules/@middy/$1/index.js',
    '^#lib/(.*)$': '<rootDir>/lib/$1.ts',
    '^#http/(.*)$': '<rootDir>/functions/http/$1.ts',
  },
  globalSetup: '<rootDir>/tests/support/global-setup.ts',
  globalTeardown: '<rootDir>/tests/support/global-teardown.ts',
  testTimeout: 60_000,
  verbose: true,
};
