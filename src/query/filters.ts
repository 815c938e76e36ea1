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
    // As long as ingestion accepts the dimension's values (validate.ts): a stored id is always filterable.
    const max = dim === "game_id" || dim === "provider_id" ? 128 : 64;
    if (values.some((v) => v.length === 0 || v.length > max))
      throw badRequest("invalid_filter", `empty or over-long value in "${term}"`, [
        { field: "filters", code: "invalid_value", message: `${dim} values are 1 to ${max} characters`, limit: max },
      ]);
    if (out[dim])
      throw badRequest("invalid_filter", `dimension ${dim} given twice`, [
        { field: "filters", code: "duplicate", message: `use ${dim}:a|b` },
      ]);
    out[dim] = [...new Set(values)];
  }
  return out;
}
