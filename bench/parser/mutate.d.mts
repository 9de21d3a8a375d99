// Types for mutate.mjs (imported by the TypeScript fuzz test).
export declare function createRng(seed: number): () => number;
export declare function mutate(rng: () => number, corpus: readonly Buffer[]): Buffer;
