import { readFileSync } from "node:fs";
import { brandChain } from "../../src/domain/audit-chain.ts";
import { upsertFxRate } from "../../src/storage/control-plane.ts";
import { type Command, checkCurrency, checkDay, checkId, checkRate, required, UsageError } from "./admin-args.ts";
import { audited } from "./admin-audit.ts";
import { execute } from "./admin-d1.ts";

export interface FxRow {
  day: string;
  currency: string;
  rate: string;
}

/**
 * Reads `day,currency,rate` CSV. Every row is checked before anything is written, so a typo on
 * line 900 does not leave a half-loaded table behind.
 */
export function parseFxCsv(text: string): FxRow[] {
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  const header = (lines[0] ?? "").split(",").map((h) => h.trim().toLowerCase());
  if (header.join(",") !== "day,currency,rate") {
    throw new UsageError('the CSV must start with the header "day,currency,rate"');
  }
  const rows: FxRow[] = [];
  lines.slice(1).forEach((line, i) => {
    if (line.trim() === "") return;
    const cells = line.split(",").map((c) => c.trim());
    try {
      if (cells.length !== 3) throw new UsageError("expected 3 columns");
      const [day = "", currency = "", rate = ""] = cells;
      rows.push({ day: checkDay(day), currency: checkCurrency(currency), rate: checkRate(rate) });
    } catch (err) {
      throw new UsageError(`line ${i + 2}: ${(err as Error).message}`);
    }
  });
  if (rows.length === 0) throw new UsageError("the CSV has no rates");
  return rows;
}

export const fxSet: Command = {
  usage: "fx set --brand BRAND --day YYYY-MM-DD --currency USD --rate 0.9231",
  options: {
    brand: { type: "string" },
    day: { type: "string" },
    currency: { type: "string" },
    rate: { type: "string" },
  },
  async run(flags, target) {
    const brand = checkId(required(flags, "brand"), "brand id");
    const row = {
      day: checkDay(required(flags, "day")),
      currency: checkCurrency(required(flags, "currency")),
      rate: checkRate(required(flags, "rate")),
    };
    await execute(target, [
      upsertFxRate(brand, row.day, row.currency, row.rate),
      audited(brandChain(brand), "fx set", { brand_id: brand, day: row.day, currency: row.currency }),
    ]);
    return { brand_id: brand, ...row };
  },
};

export const fxLoad: Command = {
  usage: "fx load --brand BRAND --file rates.csv   (CSV header: day,currency,rate)",
  options: { brand: { type: "string" }, file: { type: "string" } },
  async run(flags, target) {
    const brand = checkId(required(flags, "brand"), "brand id");
    const file = required(flags, "file");
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (err) {
      throw new UsageError(`cannot read ${file}: ${(err as Error).message}`);
    }
    const rows = parseFxCsv(text);
    await execute(target, [
      ...rows.map((r) => upsertFxRate(brand, r.day, r.currency, r.rate)),
      audited(brandChain(brand), "fx load", { brand_id: brand, rates: String(rows.length) }),
    ]);
    const days = rows.map((r) => r.day).sort();
    return {
      brand_id: brand,
      rates: rows.length,
      currencies: [...new Set(rows.map((r) => r.currency))].sort(),
      from: days[0],
      to: days.at(-1),
    };
  },
};
