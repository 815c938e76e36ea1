import { createRoute } from "@hono/zod-openapi";
import { readableChain, syncedHead } from "../../audit/access.ts";
import { bearerAuth } from "../../auth/middleware.ts";
import { parseInstant } from "../../domain/time.ts";
import type { Router } from "../../hono.ts";
import { AuditListQuery, AuditPageSchema } from "../../schemas/audit.ts";
import { problemResponses } from "../../schemas/problem.ts";
import { listAudit } from "../../storage/audit.ts";

export const route = createRoute({
  method: "get",
  path: "/v1/audit",
  tags: ["Audit"],
  summary: "Records of one audit chain",
  description:
    "The WORM audit trail (hash-chained, append-only) of one brand of the grant or of the caller's organisation, in seq order, paged by `next_cursor`. Listing is itself audited.",
  middleware: [bearerAuth({ scopes: ["audit:read"] })] as const,
  security: [{ bearerAuth: [] }],
  request: { query: AuditListQuery },
  responses: {
    200: { description: "A page of records", content: { "application/json": { schema: AuditPageSchema } } },
    ...problemResponses(400, 401, 403, 503),
  },
});

export function registerAuditList(app: Router) {
  app.openapi(route, async (c) => {
    const q = c.req.valid("query");
    const chain = await readableChain(c, q);
    // Staged admin records and any copy the object still owes D1 come first.
    await syncedHead(c, chain);
    const { records, more } = await listAudit(c.env.DB, {
      chain,
      afterSeq: q.cursor === undefined ? 0 : Number(q.cursor),
      ...(q.from ? { from: parseInstant(q.from) } : {}),
      ...(q.to ? { to: parseInstant(q.to) } : {}),
      ...(q.action ? { action: q.action } : {}),
      limit: q.limit,
    });
    const last = records.at(-1);
    c.header("cache-control", "no-store");
    return c.json(
      {
        chain,
        records: records.map((r) => ({ ...r, ts: new Date(r.ts).toISOString() })),
        next_cursor: more && last ? String(last.seq) : null,
      },
      200,
    );
  });
}
