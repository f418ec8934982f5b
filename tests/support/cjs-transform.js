// @swc/jest, always emitting CommonJS. Jest asks for ES modules when a file sits in a "type": "module"
// package (middy, p-limit), and @swc/jest's async path always emits them; but these tests run as
// CommonJS on Node 22, so those packages are compiled down like our own TypeScript. Only the
// synchronous hooks are exported on purpose.
const { createTransformer } = require('@swc/jest');

const swc = createTransformer({
  jsc: { parser: { syntax: 'typescript' }, target: 'es2023' },
  module: { type: 'commonjs' },
});

const asCommonJs = (options) => ({ ...options, supportsStaticESM: false });

module.exports = {
  canInstrument: swc.canInstrument,
  process: (source, filename, options) => swc.process(source, filename, asCommonJs(options)),
  getCacheKey: (source, filename, options) => `cjs:${swc.getCacheKey(source, filename, asCommonJs(options))}`,
};
