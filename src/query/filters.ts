import { READ_DIMENSIONS, type ReadDimension } from "../domain/metrics.ts";
import { badRequest } from "../errors.ts";

/** `dim:value,dim:value` with `a|b` alternatives (SPEC §7) → values per dimension. */
export function parseFilters(text: string | undefined): Partial<Record<ReadDimension, string[]>> {
  const out: Partial<Record<ReadDimension, string[]>> = {};
  if (!text) return out;
  for (const term of text.split(",")) {
    const at = term.indexOf(":");
    const dim = term.slice(0, at) as ReadDimension;
    const values = term.slice(at + 1).split("|");
    if (at <= 0 || !READ_DIMENSIONS.includes(dim))
      throw badRequest("invalid_filter", `unknown filter dimension in "${term}"`, [
        { field: "filters", code: "unknown_dimension", message: `expected one of ${READ_DIMENSIONS.join(", ")}` },
      ]);
    if (values.some((v) => v.length === 0 || v.length > 64))
      throw badRequest("invalid_filter", `empty or over-long value in "${term}"`, [
        { field: "filters", code: "invalid_value", message: "values are 1 to 64 characters", limit: 64 },
      ]);
    if (out[dim])
      throw badRequest("invalid_filter", `dimension ${dim} given twice`, [
        { field: "filters", code: "duplicate", message: `use ${dim}:a|b` },
      ]);
    out[dim] = [...new Set(values)];
  }
  return out;
}
