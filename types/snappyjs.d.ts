declare module 'snappyjs' {
  /** Snappy block format. `maxLength`: refuse (throw) when the declared uncompressed length exceeds it. */
  export function uncompress<T extends Uint8Array | ArrayBuffer>(compressed: T, maxLength?: number): T;
  export function compress<T extends Uint8Array | ArrayBuffer>(uncompressed: T): T;
}
