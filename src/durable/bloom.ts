/**
 * A fixed-size Bloom filter, one per folded key run. Every filter has the same size, so a key's
 * bit positions are computed once and tested against every run. Sized for RUN_CAP keys at 16
 * bits a key with 7 probes: about 0.07 % false positives, each costing one indexed lookup.
 */
export const BLOOM_BITS_LOG2 = 18;
const BITS = 1 << BLOOM_BITS_LOG2;
const MASK = BITS - 1;
const PROBES = 7;

/** The probe positions of a key: double hashing over two 32-bit FNV-1a variants. */
export function probes(key: string): Uint32Array {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x5bd1e995) ^ (h2 >>> 15);
  }
  // Final avalanche so that keys differing only in their last characters spread well.
  h1 ^= h1 >>> 16;
  h1 = Math.imul(h1, 0x85ebca6b);
  h1 ^= h1 >>> 13;
  h2 = (h2 ^ (h2 >>> 16)) | 1;
  const out = new Uint32Array(PROBES);
  for (let k = 0; k < PROBES; k++) out[k] = (h1 + Math.imul(k, h2)) & MASK;
  return out;
}

export class Bloom {
  readonly bits: Uint8Array;

  constructor(bits?: Uint8Array) {
    if (bits && bits.length !== BITS / 8) throw new Error(`bloom filter of ${bits.length} bytes, expected ${BITS / 8}`);
    this.bits = bits ?? new Uint8Array(BITS / 8);
  }

  add(p: Uint32Array): void {
    for (const bit of p) this.bits[bit >>> 3]! |= 1 << (bit & 7);
  }

  has(p: Uint32Array): boolean {
    for (const bit of p) if ((this.bits[bit >>> 3]! & (1 << (bit & 7))) === 0) return false;
    return true;
  }
}
