// esbuild bundles CSS imported from TypeScript into the console's stylesheet.
declare module '*.css';
