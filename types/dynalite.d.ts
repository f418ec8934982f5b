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
  }
  function dynalite(options?: DynaliteOptions): Server;
  export default dynalite;
}
