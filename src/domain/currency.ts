/**
 * ISO 4217 minor-unit exponents and the one exact conversion into a brand's reporting
 * currency. Money is converted once, at ingestion, and every tier sums the stored integers,
 * so this is the only place where rounding happens (SPEC §4).
 */
const EXPONENT_0 = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF";
const EXPONENT_3 = "BHD IQD JOD KWD LYD OMR TND";
const EXPONENT_4 = "CLF UYW";
const EXPONENT_2 =
  "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BRL BSD BTN BWP BYN BZD " +
  "CAD CDF CHF CNY COP CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD " +
  "GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR LRD LSL MAD " +
  "MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK PHP " +
  "PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS " +
  "TMT TOP TRY TTD TWD TZS UAH USD UYU UZS VED VES WST XCD XCG YER ZAR ZMW ZWG";

const EXPONENTS: ReadonlyMap<string, number> = new Map(
  [
    [EXPONENT_0, 0],
    [EXPONENT_2, 2],
    [EXPONENT_3, 3],
    [EXPONENT_4, 4],
  ].flatMap(([codes, exp]) => (codes as string).split(" ").map((c) => [c, exp as number] as const)),
);

export function currencyExponent(code: string): number | undefined {
  return EXPONENTS.get(code);
}

export function isKnownCurrency(code: string): boolean {
  return EXPONENTS.has(code);
}

/** A positive decimal rate as an exact fraction numerator / 10^scale. */
export interface DecimalRate {
  numerator: bigint;
  scale: number;
}

const DECIMAL = /^(\d{1,20})(?:\.(\d{1,20}))?$/;

/**
 * Parses a rate given as a decimal string ("1.0845") or a JSON number. Numbers are read from
 * their shortest round-trip representation, so 1.0845 means exactly 1.0845.
 */
export function parseRate(input: string | number): DecimalRate | undefined {
  let text = typeof input === "number" ? numberToPlain(input) : input.trim();
  if (text === undefined) return undefined;
  if (text.startsWith("+")) text = text.slice(1);
  const m = DECIMAL.exec(text);
  if (!m) return undefined;
  const whole = m[1] ?? "0";
  const frac = m[2] ?? "";
  const numerator = BigInt(whole + frac);
  if (numerator === 0n) return undefined;
  return { numerator, scale: frac.length };
}

function numberToPlain(n: number): string | undefined {
  if (!Number.isFinite(n) || n <= 0) return undefined;
  const s = String(n);
  if (!s.includes("e")) return s;
  // Exponent form (1e-7, 2.5e21): expand exactly from its digits.
  const [mant = "", expText = "0"] = s.split("e");
  const exp = Number(expText);
  const [i = "", f = ""] = mant.split(".");
  const digits = i + f;
  const point = i.length + exp;
  if (point <= 0) return `0.${"0".repeat(-point)}${digits}`;
  if (point >= digits.length) return digits + "0".repeat(point - digits.length);
  return `${digits.slice(0, point)}.${digits.slice(point)}`;
}

/** Rounds numerator/denominator (denominator > 0) to the nearest integer, ties to even. */
export function divideHalfEven(numerator: bigint, denominator: bigint): bigint {
  const negative = numerator < 0n;
  const n = negative ? -numerator : numerator;
  let q = n / denominator;
  const r = n % denominator;
  const twice = r * 2n;
  if (twice > denominator || (twice === denominator && q % 2n === 1n)) q += 1n;
  return negative ? -q : q;
}

/**
 * Converts an amount in minor units of a currency with exponent `fromExp` into minor units of
 * a currency with exponent `toExp` at `rate` (target major units per one source major unit).
 */
export function convertMinor(amountMinor: number, fromExp: number, rate: DecimalRate, toExp: number): number {
  const numerator = BigInt(amountMinor) * rate.numerator * 10n ** BigInt(toExp);
  const denominator = 10n ** BigInt(rate.scale + fromExp);
  const result = divideHalfEven(numerator, denominator);
  if (result > BigInt(Number.MAX_SAFE_INTEGER) || result < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new RangeError("converted amount exceeds the safe integer range");
  }
  return Number(result);
}
