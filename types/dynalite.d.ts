declare module 'dynalite' {
  import type { Server } from 'node:http';
  interface DynaliteOptions {
    path?: string;
    createTableMs?: number;
    deleteTableMs?: number;
    updateTableMs?: number;
    maxItemSizeKb?: number;
    /** LevelDB open options (classic-level); added by patches/dynalite+4.0.0.patch. */
    levelOptions?: { writeBufferSize?: number; cacheSize?: number; maxFileSize?: number };
    /** The local cloud's engine hooks (local/dynalite-engine.ts); dynalite keeps its options on its store. */
    localCloudEngine?: unknown;
  }
  function dynalite(options?: DynaliteOptions): Server;
  export default dynalite;
}
declare module 'dynalite/db' {
  /** dynalite's storage layer; local/dynalite-engine.ts wraps some of its functions (see there). */
  const db: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  export = db;
}
