/**
 * Redis Cluster's hash slots, computed here as the server computes them
 * (CRC16/XMODEM of the key's UTF-8 bytes, modulo 16,384; only the part inside
 * the first `{…}` when there is a non-empty one). A multi-key command whose
 * keys span slots fails with CROSSSLOT, so the cluster driver splits every
 * batch by slot before sending it. test/cache/redis-cluster.test.ts checks
 * these slots against the server's CLUSTER KEYSLOT.
 */

export const SLOTS = 16_384;

const TABLE = (() => {
  const table = new Uint16Array(256);
  for (let byte = 0; byte < 256; byte++) {
    let crc = byte << 8;
    for (let bit = 0; bit < 8; bit++)
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    table[byte] = crc;
  }
  return table;
})();

const encoder = new TextEncoder();
const OPEN = 0x7b; // {
const CLOSE = 0x7d; // }

export function keySlot(key: string): number {
  const bytes = encoder.encode(key);
  let start = 0;
  let end = bytes.length;
  const open = bytes.indexOf(OPEN);
  if (open >= 0) {
    const close = bytes.indexOf(CLOSE, open + 1);
    // `{}` (an empty tag) does not count: the whole key is hashed.
    if (close > open + 1) {
      start = open + 1;
      end = close;
    }
  }
  let crc = 0;
  for (let i = start; i < end; i++) crc = ((crc << 8) & 0xffff) ^ TABLE[((crc >> 8) ^ bytes[i]!) & 0xff]!;
  return crc % SLOTS;
}

/** The positions of `keys` grouped by slot, each group in the order the keys were given. */
export function groupBySlot(keys: readonly string[]): number[][] {
  const groups = new Map<number, number[]>();
  for (const [index, key] of keys.entries()) {
    const slot = keySlot(key);
    const group = groups.get(slot);
    if (group === undefined) groups.set(slot, [index]);
    else group.push(index);
  }
  return [...groups.values()];
}
