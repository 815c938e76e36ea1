import { describe, expect, it } from "vitest";
import { canonicalize, contentForDedup } from "../../src/domain/canonical.ts";
import { detectPii } from "../../src/domain/pii.ts";

describe("RFC 8785 canonical form", () => {
  it("sorts keys recursively and serialises numbers the ECMAScript way", () => {
    expect(canonicalize({ b: 1, a: { d: [3, { f: 1, e: 2 }], c: "x" } })).toBe('{"a":{"c":"x","d":[3,{"e":2,"f":1}]},"b":1}');
    expect(canonicalize({ n: 1e21, m: 0.1, z: -0, u: "\u00e9\n" })).toBe('{"m":0.1,"n":1e+21,"u":"é\\n","z":0}');
  });

  it("ignores trace_id and ingested_at when comparing content", () => {
    const a = contentForDedup({ event_id: "1", trace_id: "a", ingested_at: "x", payload: { v: 1 } });
    const b = contentForDedup({ payload: { v: 1 }, event_id: "1", trace_id: "b" });
    expect(a).toBe(b);
  });
});

describe("PII guard", () => {
  it.each(["jane@example.com", "a.b+c@mail.co.uk", "+44 7700 900123", "(555) 123-4567", "0044770090012", "+4915112345678"])(
    "refuses %s",
    (v) => {
      expect(detectPii(v)).toBeDefined();
    },
  );
  it.each(["p_19f3", "player-123", "123456", "9876543", "u:7f3a9c", "3f2504e0-4f89-11d3-9a0c-0305e82c3301"])("accepts %s", (v) => {
    expect(detectPii(v)).toBeUndefined();
  });
});
