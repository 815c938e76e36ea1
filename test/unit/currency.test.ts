import { describe, expect, it } from "vitest";
import { convertMinor, currencyExponent, divideHalfEven, parseRate } from "../../src/domain/currency.ts";

describe("currency", () => {
  it("knows ISO 4217 exponents", () => {
    expect(currencyExponent("EUR")).toBe(2);
    expect(currencyExponent("JPY")).toBe(0);
    expect(currencyExponent("KWD")).toBe(3);
    expect(currencyExponent("CLF")).toBe(4);
    expect(currencyExponent("XYZ")).toBeUndefined();
  });

  it("parses rates exactly from strings and numbers", () => {
    expect(parseRate("1.0845")).toEqual({ numerator: 10845n, scale: 4 });
    expect(parseRate(1.0845)).toEqual({ numerator: 10845n, scale: 4 });
    expect(parseRate(1e-7)).toEqual({ numerator: 1n, scale: 7 });
    expect(parseRate("0")).toBeUndefined();
    expect(parseRate("-1")).toBeUndefined();
    expect(parseRate("1e3")).toBeUndefined();
  });

  it("rounds half to even", () => {
    expect(divideHalfEven(5n, 2n)).toBe(2n);
    expect(divideHalfEven(7n, 2n)).toBe(4n);
    expect(divideHalfEven(-5n, 2n)).toBe(-2n);
    expect(divideHalfEven(26n, 10n)).toBe(3n);
    expect(divideHalfEven(24n, 10n)).toBe(2n);
  });

  it("converts between exponents without floating point", () => {
    const rate = (s: string) => parseRate(s)!;
    // 1000 JPY at 0.0061 EUR/JPY = 6.10 EUR
    expect(convertMinor(1000, 0, rate("0.0061"), 2)).toBe(610);
    // 1.234 KWD at 2.98 EUR/KWD = 3.67732 EUR → 368 cents
    expect(convertMinor(1234, 3, rate("2.98"), 2)).toBe(368);
    // 0.1 + 0.2 style trap: 10 cents at 3 = 30 cents exactly
    expect(convertMinor(10, 2, rate("3"), 2)).toBe(30);
    // EUR → JPY: 1.25 EUR at 163.5 = 204.375 JPY → 204
    expect(convertMinor(125, 2, rate("163.5"), 0)).toBe(204);
    // A tie at .5 goes to the even neighbour: 0.05 EUR at 0.5 = 2.5 cents → 2; 0.07 at 0.5 = 3.5 → 4
    expect(convertMinor(5, 2, rate("0.5"), 2)).toBe(2);
    expect(convertMinor(7, 2, rate("0.5"), 2)).toBe(4);
  });
});
