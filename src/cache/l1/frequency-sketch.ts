/**
 * Approximate read counts per key for L1's admission filter (TinyLFU): a
 * count-min sketch of 4 rows of saturating 4-bit-range counters (0..15),
 * halved every `10 × capacity` increments so that old popularity fades. A key
 * costs one 32-bit hash, computed once and kept in its L1 slot, so counting a
 * hit hashes nothing.
 */

const ROWS = 4;
const MAX_COUNT = 15;

/** FNV-1a over UTF-16 code units: cheap, and good enough to spread cache keys. */
export function hashKey(key: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

export class FrequencySketch {
  readonly #table: Uint8Array;
  readonly #mask: number;
  readonly #sampleSize: number;
  #additions = 0;

  constructor(capacity: number) {
    let width = 16;
    while (width < capacity * 2) width *= 2;
    this.#table = new Uint8Array(width * ROWS);
    this.#mask = width - 1;
    this.#sampleSize = Math.max(160, capacity * 10);
  }

  increment(hash: number): void {
    let added = false;
    for (let row = 0; row < ROWS; row++) {
      const index = this.#index(hash, row);
      if (this.#table[index]! < MAX_COUNT) {
        this.#table[index]!++;
        added = true;
      }
    }
    if (added && ++this.#additions >= this.#sampleSize) this.#age();
  }

  estimate(hash: number): number {
    let min = MAX_COUNT;
    for (let row = 0; row < ROWS; row++) min = Math.min(min, this.#table[this.#index(hash, row)]!);
    return min;
  }

  #index(hash: number, row: number): number {
    // One hash, four rows: re-mix it per row with a distinct odd multiplier.
    const mixed = Math.imul(hash ^ (hash >>> 16), 0x45d9f3b + row * 0x2c1b3c6d) >>> 0;
    return row * (this.#mask + 1) + ((mixed ^ (mixed >>> 15)) & this.#mask);
  }

  #age(): void {
    for (let i = 0; i < this.#table.length; i++) this.#table[i]! >>= 1;
    this.#additions = Math.floor(this.#additions / 2);
  }
}
